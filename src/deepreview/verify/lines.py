"""Which added lines the tests execute, and which tests execute each (coverage.py JSON with
per-test contexts)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.verify.units import Unit, python_units

#: The coverage context of code run outside any test (imports, collection).
IMPORT_TIME = ""


@dataclass(frozen=True)
class FileLines:
    """The added executable lines of one file, the tests that run each of them, and the
    functions that hold them."""

    path: str
    statements: frozenset[int]
    tests: Mapping[int, frozenset[str]] = field(default_factory=dict)
    units: tuple[Unit, ...] = ()

    @property
    def executed(self) -> frozenset[int]:
        """Added statements run during the suite (tests or import time)."""
        return frozenset(self.tests)

    @property
    def missing(self) -> frozenset[int]:
        """Added statements no test run executes."""
        return self.statements - self.executed


def changed_lines(
    report: Path, root: Path, added: Mapping[str, frozenset[int]]
) -> dict[str, FileLines]:
    """Per changed file (repository-relative) measured by the coverage JSON `report` of a run
    in `root`: its added statements and their covering tests."""
    data = json.loads(report.read_text(encoding="utf-8"))
    files = data.get("files", {}) if isinstance(data, dict) else {}
    out: dict[str, FileLines] = {}
    base = root.resolve()
    for name, entry in files.items():
        path = Path(name)
        try:
            rel = (path if path.is_absolute() else root / path).resolve().relative_to(base)
        except (OSError, ValueError):
            continue
        key = rel.as_posix()
        lines = added.get(key)
        if not lines:
            continue
        executed = set(entry.get("executed_lines", []))
        statements = frozenset(lines & (executed | set(entry.get("missing_lines", []))))
        contexts: dict[str, list[str]] = entry.get("contexts", {})
        tests = {
            n: frozenset(c for c in contexts.get(str(n), [IMPORT_TIME]))
            for n in statements
            if n in executed
        }
        text = (root / key).read_text(encoding="utf-8", errors="replace")
        out[key] = FileLines(key, statements, tests, python_units(text, statements))
    return out


def coverage_rc(work: Path, root: Path) -> Path:
    """A coverage.py configuration of our own (the project's is not read): measure `root`,
    keep the data under `work`."""
    rc = work / "coveragerc"
    rc.write_text(
        "[run]\n"
        f"data_file = {work / 'coverage.data'}\n"
        f"source = {root}\n"
        "[json]\n"
        "show_contexts = true\n",
        encoding="utf-8",
    )
    return rc
