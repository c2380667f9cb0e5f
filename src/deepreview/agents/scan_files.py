"""What kind of file a path is (source, test, docs), its language and its comment syntax."""

from __future__ import annotations

import functools
import re
from pathlib import PurePosixPath

#: Extension -> fenced-code language tag for source files.
SOURCE_LANGS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "jsx", ".mjs": "javascript",
    ".cjs": "javascript", ".ts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".swift": "swift", ".rb": "ruby",
    ".php": "php", ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".lua": "lua", ".sql": "sql",
    ".vue": "vue", ".svelte": "svelte", ".dart": "dart", ".ex": "elixir", ".exs": "elixir",
    ".hs": "haskell", ".pl": "perl", ".r": "r", ".R": "r", ".zig": "zig", ".sol": "solidity",
}  # fmt: skip

#: Extension -> tag for non-source text files that may hold comments.
OTHER_LANGS: dict[str, str] = {
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".ini": "ini", ".cfg": "ini",
    ".json": "json", ".md": "markdown", ".rst": "rst", ".html": "html", ".xml": "xml",
    ".css": "css", ".scss": "scss", ".tf": "hcl", ".env": "bash",
}  # fmt: skip

DOC_SUFFIXES = (".md", ".rst", ".adoc", ".txt")
_HASH = {".py", ".pyi", ".sh", ".bash", ".zsh", ".rb", ".pl", ".r", ".R", ".yaml", ".yml",
         ".toml", ".cfg", ".ini", ".conf", ".tf", ".env", ".ex", ".exs", ".php"}  # fmt: skip
_SLASH = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".kts",
          ".scala", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".php", ".vue",
          ".svelte", ".dart", ".zig", ".sol", ".css", ".scss", ".proto", ".gradle"}  # fmt: skip
_DASH = {".sql", ".lua", ".hs"}
_HASH_NAMES = {"Makefile", "Dockerfile", "Gemfile", "Rakefile", ".gitignore", ".env"}
_TEST_DIRS = {"test", "tests", "__tests__", "spec", "specs", "testing", "testdata"}
_TEST_NAME = re.compile(
    r"(^test_.*\.py$|_test\.(py|go)$|^conftest\.py$|\.(test|spec)\.[jt]sx?$|^tests?\.[cm]?[jt]s$"
    r"|_spec\.rb$"
    r"|Tests?\.(java|kt|cs|swift)$|_test\.(c|cc|cpp|rs|exs)$)"
)


def suffix(path: str) -> str:
    """The file extension, or the whole name for dotfiles such as `.env`."""
    p = PurePosixPath(path)
    return p.suffix or (p.name if p.name.startswith(".") else "")


def excerpt_lang(path: str) -> str | None:
    """The fenced-code language tag for `path`, when known."""
    ext = suffix(path)
    return SOURCE_LANGS.get(ext) or OTHER_LANGS.get(ext)


def is_test_path(path: str) -> bool:
    """Whether `path` is a test file by directory or name convention."""
    p = PurePosixPath(path)
    return bool(_TEST_DIRS.intersection(p.parts[:-1])) or bool(_TEST_NAME.search(p.name))


def is_doc_path(path: str) -> bool:
    """Whether `path` is documentation: Markdown/reST/AsciiDoc/text, or under docs/ or doc/,
    and not part of the tests (fixtures)."""
    p = PurePosixPath(path)
    if is_test_path(path):
        return False
    return p.suffix.lower() in DOC_SUFFIXES or bool({"docs", "doc"}.intersection(p.parts[:-1]))


def is_source_path(path: str) -> bool:
    """Whether `path` is program source (not a test, not docs or data)."""
    return suffix(path) in SOURCE_LANGS and not is_test_path(path)


@functools.lru_cache(maxsize=1024)
def _syntax(path: str) -> tuple[bool, bool, tuple[str, ...]]:
    """(is prose, has known comment syntax, comment tokens) of `path`."""
    ext = suffix(path)
    tokens: list[str] = []
    if ext in _HASH or PurePosixPath(path).name in _HASH_NAMES:
        tokens.append("#")
    if ext in _SLASH:
        tokens += ["//", "/*"]
    if ext in _DASH:
        tokens.append("--")
    if ext in {".html", ".xml", ".vue", ".svelte", ".md"}:
        tokens.append("<!--")
    prose = PurePosixPath(path).suffix.lower() in DOC_SUFFIXES
    return prose, bool(tokens), tuple(tokens) or ("#", "//")


def split_comment(path: str, line: str) -> tuple[str, str | None]:
    """(code, comment) of one line; prose files are all comment, unknown files comment-only
    when the line starts with `#` or `//`. Quotes are tracked so `"#"` is not a comment."""
    prose, known, tokens = _syntax(path)
    if prose:
        return "", line.strip()
    stripped = line.lstrip()
    if stripped.startswith("* ") or stripped == "*":
        return "", stripped[1:].strip()  # continuation of a /* ... */ block
    if not known:
        hit = next((t for t in tokens if stripped.startswith(t)), None)
        return ("", stripped[len(hit) :].strip()) if hit else (line, None)
    if not any(tok in line for tok in tokens):
        return line, None
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'`":
            quote = ch
        else:
            for tok in tokens:
                if line.startswith(tok, i):
                    return line[:i], line[i + len(tok) :].strip()
        i += 1
    return line, None
