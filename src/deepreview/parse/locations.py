"""Finding `path:line` references in agents' text and making their paths repository-relative."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from deepreview.schema import Location

#: File extensions and names that make a code span a file reference.
_FILE_NAME = re.compile(
    r"(?:\.(?:go|py|pyi|js|mjs|cjs|ts|tsx|jsx|rs|java|kt|kts|scala|c|h|cc|cpp|cxx|hpp|hh|cs|rb"
    r"|php|swift|m|mm|sh|bash|zsh|fish|bats|ps1|psm1|bat|cmd|yaml|yml|json|jsonc|toml|ini|cfg"
    r"|conf|md|markdown|rst|txt|adoc|sql|html|htm|css|scss|sass|less|xml|proto|graphql|gql"
    r"|gradle|mod|sum|lock|tf|tfvars|nix|cmake|mk|make|dockerfile|vue|svelte|lua|pl|pm|r|jl|ex"
    r"|exs|erl|hs|ml|dart|zig|vim|el|clj|tpl|tmpl|j2|jinja|env|properties|plist|csv|tsv|ipynb)"
    r"|(?:^|/)(?:Makefile|Dockerfile|Containerfile|Jenkinsfile|Rakefile|Gemfile|Vagrantfile"
    r"|Procfile|Justfile|Taskfile|BUILD|WORKSPACE|CODEOWNERS|LICENSE|NOTICE|OWNERS))$",
    re.IGNORECASE,
)
_RANGE = r"L?\d+(?:\s*[-–—]\s*L?\d+)?"
_SPEC = re.compile(
    rf"^(?P<path>[^\s`'\"()<>\[\]{{}},;]+?)(?:(?::|#L?)(?P<lines>{_RANGE}(?:\s*,\s*{_RANGE})*))?$"
)
_LINES_ONLY = re.compile(rf"^(?:lines?\s+)?(?P<lines>{_RANGE}(?:\s*,\s*{_RANGE})*)$")
_TOKEN = re.compile(
    # `path`, line 31 / path, lines 10-20 / path (line 4): a file, then its lines in words
    rf"(?:`(?P<wcode>[^`\n]+)`|(?P<wbare>(?<![\w/.`\-])[\w.\-/]+\.[A-Za-z][A-Za-z0-9]*))"
    rf"(?:,\s*|\s+|\s*\()(?:at\s+|on\s+)?lines?\s+(?P<wlines>{_RANGE}(?:\s*,\s*{_RANGE})*)\)?"
    rf"|\[(?P<ltext>[^\]\n]*)\]\((?P<target>[^)\s]*)\)(?::(?P<after>{_RANGE}(?:,\s*{_RANGE})*))?"
    r"|`(?P<code>[^`\n]+)`"
    r"|(?P<bare>(?<![\w/.`\-])[\w.\-/]+\.[A-Za-z][A-Za-z0-9]*:\d+(?:[-–]\d+)?(?:,\d+(?:[-–]\d+)?)*)"
)
#: Directories under which agents' scratch checkouts live; what follows `<dir>/<name>/` is the
#: repository-relative path.
_CHECKOUT_ROOT = re.compile(
    r"^.*?/(?:tmp|T|git|src|repos|repositories|projects|workspace|workspaces|work|code|dev"
    r"|checkouts?|worktrees?)/[^/]+/(?P<rest>.+)$"
)


def is_file_like(path: str) -> bool:
    """Whether `path` names a file: a known extension or file name, or a directory with `/`."""
    if not path or "://" in path or path.startswith("//"):
        return False
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if path.endswith("/") and "/" in path.rstrip("/"):
        return True
    m = _FILE_NAME.search(name)
    return m is not None and (m.start() > 0 or not name.startswith("."))


def relative_path(path: str, root: str | None = None) -> str | None:
    """`path` relative to the repository: `./` and `a/../` are resolved, absolute paths are cut
    below `root` (or below a recognizable checkout directory); None when that is impossible."""
    p = path.strip().replace("\\/", "/").replace("\\", "/")
    if p.startswith("/") or re.match(r"^[A-Za-z]:/", p) or p.startswith("~"):
        rel = None
        if root:
            base = root.replace("\\", "/").rstrip("/") + "/"
            if p.startswith(base):
                rel = p[len(base) :]
        if rel is None:
            m = _CHECKOUT_ROOT.match(p)
            if m is None:
                return None
            rel = m.group("rest")
        p = rel
    trailing = "/" if p.endswith("/") else ""
    p = posixpath.normpath(p)
    if p in (".", "..") or p.startswith("../") or p.startswith("/"):
        return None
    return p + trailing if trailing and not p.endswith("/") else p


def line_ranges(spec: str) -> list[tuple[int, int | None]]:
    """`12`, `12-20`, `L12-L20`, `12–20`, `12,15`, `31-55,65-79` as (start, end) pairs."""
    ranges: list[tuple[int, int | None]] = []
    for part in spec.split(","):
        nums = [int(n) for n in re.findall(r"\d+", part)]
        if not nums or nums[0] < 1:
            continue
        start = nums[0]
        end = nums[1] if len(nums) > 1 else None
        if end is not None and end < start:
            start, end = end, start
        ranges.append((start, None if end == start else end))
    return ranges


def _locations(path: str, spec: str | None) -> list[Location]:
    path = path.rstrip(":")
    if not spec:
        return [Location(path=path)]
    return [Location(path=path, start_line=s, end_line=e) for s, e in line_ranges(spec)] or [
        Location(path=path)
    ]


def parse_reference(text: str) -> tuple[str, str | None] | None:
    """Split `path:12-20` (or `path#L12`) into path and line spec; None unless file-like."""
    m = _SPEC.match(text.strip().strip("`*").strip())
    if m is None:
        return None
    path, spec = m.group("path"), m.group("lines")
    if not is_file_like(path) and not (spec and ("/" in path or "." in path)):
        return None
    return path, spec


def _link_reference(ltext: str, target: str) -> tuple[str, str | None] | None:
    target = target.replace("\\/", "/")
    from_target = None
    m = re.match(r"^(?P<path>[^#?]+?)(?:(?::|#L?)(?P<lines>\d+(?:-L?\d+)?))?$", target)
    if m and is_file_like(m.group("path")):
        from_target = (m.group("path"), m.group("lines"))
    from_text = parse_reference(ltext.replace("`", ""))
    if from_text is None:
        return from_target
    path, spec = from_text
    if from_target is not None:
        tpath, tspec = from_target
        if "/" not in path and tpath.endswith("/" + path):
            path = tpath
        spec = spec or tspec
    return path, spec


def _references(text: str) -> Iterator[tuple[str | None, str | None, str]]:
    """(path, line spec, raw) for each reference in `text`; path None for a bare line spec."""
    for m in _TOKEN.finditer(text):
        raw = m.group(0)
        if m.group("wlines") is not None:
            ref = parse_reference(m.group("wcode") or m.group("wbare"))
            if ref is not None and ref[1] is None:
                yield ref[0], re.sub(r"\s+", "", m.group("wlines")), raw
            elif ref is not None:
                yield ref[0], ref[1], raw
            continue
        if m.group("code") is not None:
            code = m.group("code").strip()
            lines_only = _LINES_ONLY.match(code)
            if lines_only:
                yield None, lines_only.group("lines"), raw
                continue
            ref = parse_reference(code)
            if ref is None and "," in code:
                for part in re.split(r",\s*", code):
                    yield from _references(f"`{part}`")
                continue
        elif m.group("ltext") is not None:
            ref = _link_reference(m.group("ltext"), m.group("target"))
            if ref is not None and m.group("after"):
                ref = (ref[0], m.group("after"))
        else:
            ref = parse_reference(m.group("bare"))
        if ref is not None:
            yield ref[0], ref[1], raw


def strip_references(text: str) -> str:
    """`text` without links, code spans and bare `path:line` references."""
    return _TOKEN.sub("", text)


def find_locations(text: str, notes: list[str], root: str | None = None) -> list[Location]:
    """Every `path:line` reference in `text`, in order, without duplicates. A bare line spec
    right after a reference (`` `a.go:12` and `40` ``) adds lines to that path."""
    found: list[Location] = []
    last_path: str | None = None
    for path, spec, raw in _references(text):
        if path is None:
            if last_path is not None and spec:
                found.extend(_locations(last_path, spec))
            continue
        rel = relative_path(path, root)
        if rel is None:
            notes.append(f"location {raw.strip('`')!r} is outside the repository; dropped")
            last_path = None
            continue
        last_path = rel
        found.extend(_locations(rel, spec))
    unique: list[Location] = []
    for loc in found:
        if loc not in unique:
            unique.append(loc)
    return unique
