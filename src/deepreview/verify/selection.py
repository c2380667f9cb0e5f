"""Which test files of a large pytest suite run: those that are changed or name a changed
module."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from deepreview.agents.scan_files import is_test_path

#: Above this many test files, the head run is narrowed to the files that import a changed module.
NARROW_ABOVE = 30


def _module_names(paths: Sequence[str]) -> set[str]:
    """Importable names of changed Python files (`pkg/mod.py` -> `mod`, `pkg.mod`)."""
    names: set[str] = set()
    for path in paths:
        if not path.endswith(".py"):
            continue
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[0] == "src":
            parts = parts[1:]
        if parts:
            names.add(parts[-1])
            names.add(".".join(parts))
    return names


def python_test_files(tree: Path) -> list[str]:
    """The `test_*.py` files of `tree`, relative, sorted."""
    return sorted(
        p.relative_to(tree).as_posix()
        for p in tree.rglob("test_*.py")
        if ".git" not in p.parts and p.is_file()
    )


def naming(tree: Path, files: Sequence[str], changed: Sequence[str]) -> list[str]:
    """The test `files` that are changed or name a changed module."""
    names = _module_names([p for p in changed if not is_test_path(p)])
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in sorted(names)) or "(?!)")
    return [
        rel
        for rel in files
        if rel in changed or pattern.search((tree / rel).read_text("utf-8", errors="replace"))
    ]


def narrowed(tree: Path, changed: Sequence[str]) -> tuple[list[str] | None, int]:
    """Test files to run when the suite is large: changed test files and those that name a
    changed module (None: the suite is small, run it all). Also the number of test files."""
    files = python_test_files(tree)
    if len(files) <= NARROW_ABOVE:
        return None, len(files)
    return naming(tree, files, changed), len(files)
