"""Changed-line coverage of Go code from coverage profiles (`-test.coverprofile`): which added
statements the tests of their package execute, and which tests execute each.

A profile block is `importpath/file.go:L1.C1,L2.C2 statements count`; an added statement is
executed when a block holding its start has a count above zero. Each profile comes with the
tests it measured (one top-level test run alone, or all of a package's tests run together), and
the tests of an executed line are those of every profile that executed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deepreview.agents.scan_files import is_test_path
from deepreview.verify.detect import go_ignored
from deepreview.verify.go_sites import GoFile
from deepreview.verify.lines import FileLines

_MODULE = re.compile(r"^module\s+(\"?)([^\s\"]+)\1\s*$", re.MULTILINE)
_BLOCK = re.compile(r"^(.+\.go):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$")


@dataclass(frozen=True)
class Block:
    """One block of a coverage profile."""

    file: str
    start: tuple[int, int]
    end: tuple[int, int]
    statements: int
    count: int


@dataclass(frozen=True)
class Profile:
    """The blocks of one coverage run and the top-level tests (`package.TestName`) it ran."""

    tests: frozenset[str]
    blocks: tuple[Block, ...]


def module_path(root: Path) -> str | None:
    """The module path declared by `root/go.mod`, or None."""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _MODULE.search(text)
    return m.group(2) if m else None


def in_module(root: Path, path: str) -> bool:
    """Whether `path` (relative to `root`) belongs to the packages of the module at `root`: not
    under vendor/ or testdata/, a folder starting with `.` or `_`, or a nested module."""
    parts = PurePosixPath(path).parts[:-1]
    if go_ignored(parts):
        return False
    return not any(
        (root.joinpath(*parts[:i]) / "go.mod").is_file() for i in range(1, len(parts) + 1)
    )


def go_code(root: Path, added: Mapping[str, frozenset[int]]) -> dict[str, frozenset[int]]:
    """The added lines of the non-test Go files of the module at `root` (paths relative to it)."""
    return {
        p: lines
        for p, lines in added.items()
        if p.endswith(".go") and not is_test_path(p) and in_module(root, p)
    }


def test_packages(root: Path) -> list[str]:
    """The `go test` patterns of the packages of the module at `root` that have test files."""
    found = [p.relative_to(root).as_posix() for p in root.rglob("*_test.go") if p.is_file()]
    return package_patterns([p for p in found if in_module(root, p)])


def package_patterns(paths: Sequence[str]) -> list[str]:
    """The `go test` patterns of the packages holding these files (`./dir`, `.` for the root)."""
    dirs = {PurePosixPath(p).parent.as_posix() for p in paths}
    return sorted("." if d == "." else f"./{d}" for d in dirs)


def import_path(module: str, pattern: str) -> str:
    """The import path of the package at the `go test` pattern `./dir` of `module`."""
    return module if pattern == "." else f"{module}/{pattern.removeprefix('./')}"


def read_profile(text: str) -> list[Block]:
    """The blocks of a coverage profile (the `mode:` lines and anything malformed skipped)."""
    out = []
    for line in text.splitlines():
        m = _BLOCK.match(line.strip())
        if m:
            n = [int(g) for g in m.groups()[1:]]
            out.append(Block(m.group(1), (n[0], n[1]), (n[2], n[3]), n[4], n[5]))
    return out


def _executed(blocks: Sequence[Block], line: int, column: int) -> bool | None:
    """Whether the statement starting at (line, column) ran: True/False, None when no block
    holds it (no code the profile counts). A block holds a position between its start and
    end; failing that, one whose lines include the statement's line."""
    holding = [b for b in blocks if b.start <= (line, column) < b.end]
    if not holding:
        holding = [b for b in blocks if b.start[0] <= line <= b.end[0] and b.statements]
    if not holding:
        return None
    return any(b.count > 0 for b in holding)


def changed_lines(
    profiles: Sequence[Profile], module: str, sites: Mapping[str, GoFile]
) -> dict[str, FileLines]:
    """Per changed Go file of a measured package: its added statements, each executed one
    with the tests of the profiles that executed it (`sites`: the files the Go reader read). A
    file no profile has a block for (no test binary built it) has all its added statements not
    run."""
    indexed: list[tuple[frozenset[str], dict[str, list[Block]]]] = []
    for profile in profiles:
        by_file: dict[str, list[Block]] = {}
        for b in profile.blocks:
            by_file.setdefault(b.file, []).append(b)
        indexed.append((profile.tests, by_file))
    out: dict[str, FileLines] = {}
    for path, site in sorted(sites.items()):
        package = import_path(module, package_patterns([path])[0])
        key = f"{package}/{PurePosixPath(path).name}"
        mine = [(tests, by_file[key]) for tests, by_file in indexed if key in by_file]
        statements: set[int] = set()
        covering: dict[int, frozenset[str]] = {}
        for line, column in site.statements:
            ran = [(tests, _executed(blocks, line, column)) for tests, blocks in mine]
            if mine and all(r is None for _, r in ran):
                continue
            statements.add(line)
            tests = frozenset[str]().union(*(t for t, r in ran if r))
            if any(r for _, r in ran):
                covering[line] = covering.get(line, frozenset()) | tests
        out[path] = FileLines(path, frozenset(statements), covering, site.units)
    return out
