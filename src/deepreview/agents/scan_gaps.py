"""What the change leaves out: tests for changed source, documentation for changed public API."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from deepreview.agents.scan_files import (
    excerpt_lang,
    is_doc_path,
    is_source_path,
    is_test_path,
    suffix,
)
from deepreview.diff import Diff, FileDiff
from deepreview.schema import Finding, Location
from deepreview.source.tree import DirectoryTree

MAX_LISTED = 10

_JS = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx")
_PUBLIC: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    ((".go",), re.compile(r"^func\s+(?:\([^)]*\)\s*)?([A-Z]\w*)|^type\s+([A-Z]\w*)")),
    (_JS, re.compile(r"^\s*export\s+(?:default\s+)?(?:async\s+)?(?:function\*?|class)\s+([\w$]+)")),
    (
        (".rs",),
        re.compile(r"^\s*pub\s+(?:async\s+)?(?:unsafe\s+)?(?:fn|struct|enum|trait)\s+(\w+)"),
    ),
)
_ANNOTATION = re.compile(r"^\s*(?:@|#\[)")
_COMMENT = re.compile(r"^\s*(?://|/\*|\*|#)")


@dataclass(frozen=True)
class PublicDef:
    """A public function or class whose definition line this change adds or edits."""

    path: str
    line: int
    name: str
    text: str
    documented: bool


def _listing(paths: list[str]) -> str:
    shown = ", ".join(f"`{p}`" for p in paths[:MAX_LISTED])
    return shown + (f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else "")


def _first_added(fd: FileDiff) -> int | None:
    return next((ln.new_lineno for ln in fd.added()), None)


def testing_gap(diff: Diff) -> tuple[str, Finding | None]:
    """The testing assessment, and a `gap` suggestion when source changed but no test did."""
    sources = [f for f in diff.files if is_source_path(f.path) and f.added_count]
    tests = [f.path for f in diff.files if is_test_path(f.path)]
    if not sources:
        return ("Only tests changed." if tests else "No source files changed."), None
    names = _listing([f.path for f in sources])
    if tests:
        return (
            f"{len(tests)} test file(s) changed alongside {len(sources)} source file(s): "
            f"{_listing(tests)}."
        ), None
    text = (
        f"{len(sources)} source file(s) changed ({names}) and no test file changed: the change "
        "is untested unless existing tests already cover it."
    )
    first = sources[0]
    finding = Finding(
        id="",
        severity="suggestion",
        category="gap",
        title=f"No test changes for {len(sources)} changed source file(s)",
        body=text + " Add tests that exercise the new or changed behaviour.",
        locations=[Location(path=first.path, start_line=_first_added(first))],
    )
    return text, finding


def _python_defs(fd: FileDiff, lines: list[str]) -> list[PublicDef]:
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError):
        return []
    added = fd.added_lines
    found: list[PublicDef] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if node.name.startswith("_"):
                continue
            if node.lineno in added:
                first = node.body[0]
                has_doc = ast.get_docstring(node, clean=False) is not None
                top = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                documented = (has_doc and first.lineno in added) or (
                    top - 1 in added and lines[top - 2].lstrip().startswith("#")
                )
                text = lines[node.lineno - 1]
                found.append(PublicDef(fd.path, node.lineno, prefix + node.name, text, documented))
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _regex_defs(fd: FileDiff) -> list[PublicDef]:
    patterns = [p for exts, p in _PUBLIC if fd.path.endswith(exts)]
    if not patterns:
        return []
    known = {ln.new_lineno: ln for h in fd.hunks for ln in h.lines if ln.new_lineno is not None}
    found: list[PublicDef] = []
    for ln in fd.added():
        match = next((m for p in patterns if (m := p.match(ln.text))), None)
        if match is None or ln.new_lineno is None:
            continue
        above = ln.new_lineno - 1
        while above in known and _ANNOTATION.match(known[above].text):
            above -= 1
        prev = known.get(above)
        documented = prev is not None and prev.kind == "added" and bool(_COMMENT.match(prev.text))
        name = next(g for g in match.groups() if g)
        found.append(PublicDef(fd.path, ln.new_lineno, name, ln.text, documented))
    return found


def public_defs(diff: Diff, worktree: Path) -> list[PublicDef]:
    """Public Python, Go, JS/TS and Rust definitions on added lines of non-test source files."""
    found: list[PublicDef] = []
    tree = DirectoryTree(worktree)
    for fd in diff.files:
        if fd.status == "deleted" or not fd.added_count or not is_source_path(fd.path):
            continue
        if suffix(fd.path) in (".py", ".pyi"):
            lines = tree.read_lines(fd.path)
            found += _python_defs(fd, lines) if lines is not None else []
        else:
            found += _regex_defs(fd)
    return found


def documentation_gap(diff: Diff, worktree: Path) -> tuple[str, Finding | None]:
    """The documentation assessment, and a suggestion when public API changed undocumented."""
    docs = [f.path for f in diff.files if is_doc_path(f.path)]
    if docs:
        return f"Documentation changed: {_listing(docs)}.", None
    defs = public_defs(diff, worktree)
    bare = [d for d in defs if not d.documented]
    if not bare:
        if defs:
            return (
                f"{len(defs)} public definition(s) added or changed, each with its own "
                "docstring or comment; no documentation files changed."
            ), None
        return "No public definitions added or changed, and no documentation files changed.", None
    names = ", ".join(f"`{d.name}` ({d.path}:{d.line})" for d in bare[:MAX_LISTED])
    more = f" and {len(bare) - MAX_LISTED} more" if len(bare) > MAX_LISTED else ""
    text = (
        f"{len(bare)} public definition(s) added or changed with no documentation touched "
        f"(no docs file changed, no docstring or comment added at the definition): {names}{more}."
    )
    first = bare[0]
    finding = Finding(
        id="",
        severity="suggestion",
        category="documentation",
        title=f"{len(bare)} public definition(s) changed without documentation",
        body=text + " Document what callers can rely on, or check the existing docs still hold.",
        locations=[Location(path=first.path, start_line=first.line)],
        excerpt=first.text,
        excerpt_lang=excerpt_lang(first.path),
    )
    return text, finding
