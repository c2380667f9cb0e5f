"""Changed-line coverage of Go code from `go test -coverprofile`: which added statements a
test of their package executes.

A profile block is `importpath/file.go:L1.C1,L2.C2 statements count`; an added statement is
executed when a block holding its start has a count above zero (the same block listed by
several test binaries counts once, executed by any). The profile does not say which test ran a
block, so the tests of an executed line are all the tests the coverage run ran.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deepreview.agents.scan_files import is_test_path
from deepreview.verify.go_sites import GoFile
from deepreview.verify.lines import FileLines
from deepreview.verify.suite import CaseResult, go_test

_MODULE = re.compile(r"^module\s+(\"?)([^\s\"]+)\1\s*$", re.MULTILINE)
_BLOCK = re.compile(r"^(.+\.go):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$")
#: Folders the go tool leaves out of `./...`.
_IGNORED = ("vendor", "testdata")


@dataclass(frozen=True)
class Block:
    """One block of a coverage profile."""

    file: str
    start: tuple[int, int]
    end: tuple[int, int]
    statements: int
    count: int


def module_path(root: Path) -> str | None:
    """The module path declared by `root/go.mod`, or None."""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _MODULE.search(text)
    return m.group(2) if m else None


def in_module(root: Path, path: str) -> bool:
    """Whether `path` (repository-relative) belongs to the root module's packages: not under
    vendor/ or testdata/, a folder starting with `.` or `_`, or a nested module."""
    parts = PurePosixPath(path).parts[:-1]
    if any(p in _IGNORED or p.startswith((".", "_")) for p in parts):
        return False
    return not any(
        (root.joinpath(*parts[:i]) / "go.mod").is_file() for i in range(1, len(parts) + 1)
    )


def go_code(root: Path, added: Mapping[str, frozenset[int]]) -> dict[str, frozenset[int]]:
    """The added lines of the root module's non-test Go files."""
    return {
        p: lines
        for p, lines in added.items()
        if p.endswith(".go") and not is_test_path(p) and in_module(root, p)
    }


def test_packages(root: Path) -> list[str]:
    """The `go test` patterns of the root module's packages that have test files."""
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
    blocks: Sequence[Block],
    module: str,
    sites: Mapping[str, GoFile],
    results: Mapping[str, CaseResult],
) -> dict[str, FileLines]:
    """Per changed Go file of a measured package: its added statements, each executed one
    with the run's top-level tests (`sites`: the files the Go reader read). A file the profile
    has no block for (no test binary built it) has all its added statements not run."""
    by_file: dict[str, list[Block]] = {}
    for b in blocks:
        by_file.setdefault(b.file, []).append(b)
    tests = frozenset(t for t in results if (parts := go_test(t)) is not None and not parts[2])
    out: dict[str, FileLines] = {}
    for path, site in sorted(sites.items()):
        pattern = package_patterns([path])[0]
        package = import_path(module, pattern)
        mine = by_file.get(f"{package}/{PurePosixPath(path).name}", [])
        statements: set[int] = set()
        executed: set[int] = set()
        for line, column in site.statements:
            ran = _executed(mine, line, column) if mine else False
            if ran is None:
                continue
            statements.add(line)
            if ran:
                executed.add(line)
        out[path] = FileLines(
            path, frozenset(statements), dict.fromkeys(executed, tests), site.units
        )
    return out
