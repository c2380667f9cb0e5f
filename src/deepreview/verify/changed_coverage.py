"""Changed-line coverage of one suite: coverage.py's contexts for pytest, a profile per test for
Go; what each measured, and the mutation probes planned on it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from deepreview.verify.execute import tail
from deepreview.verify.findings import line_list, name_list, uncovered, uncovered_findings
from deepreview.verify.go_coverage import changed_lines as go_changed_lines
from deepreview.verify.go_coverage import module_path, package_patterns, test_packages
from deepreview.verify.go_sites import read_go_files
from deepreview.verify.go_tests import per_test_coverage
from deepreview.verify.lines import FileLines, changed_lines, coverage_rc
from deepreview.verify.probe import plan
from deepreview.verify.selection import naming, python_test_files
from deepreview.verify.suite import SuiteRun
from deepreview.verify.suite_state import HEAD_SHARE, SuiteState


async def coverage_config(part: SuiteState) -> Path | None:
    """Our coverage.py configuration when coverage can be measured, else None (noted)."""
    if not part.pytest:
        if not part.go:
            part.notes.append(
                "Changed-line coverage is measured for pytest and `go test` suites only; "
                f"`{part.suite.command.text()}` ran without it."
            )
        return None
    if not (part.req.settings.coverage and part.python_code):
        return None
    if not (await part.python("coverage.py available", "-c", "import coverage")).passed:
        part.notes.append(
            "Changed-line coverage and mutation probes skipped: coverage.py is not "
            f"installed in {part.req.project.description} (deepreview does not install "
            "into it)."
        )
        return None
    return coverage_rc(part.req.work, part.tree)


async def measure_python(part: SuiteState, rc: Path, selection: Sequence[str]) -> None:
    """A coverage run of the test files that name a changed module; the probes it plans."""
    covering = naming(part.tree, selection or python_test_files(part.tree), list(part.added))
    measured_run = await part.runner.run(
        "coverage of the changed lines",
        part.tree,
        part.where,
        part.scratch.left() * HEAD_SHARE,
        covering or selection,
        coverage=rc,
    )
    part.scratch.executed.append(measured_run.execution.record)
    if measured_run.execution.record.timed_out:
        part.notes.append(
            "The coverage run hit its time limit: changed-line coverage not measured."
        )
        return
    part.measured = await read_python_coverage(part, rc)
    if part.measured:
        probes = plan(part.scratch.head_tree, part.measured, measured_run, covering or selection)
        part.probes = probes, measured_run


async def read_python_coverage(part: SuiteState, rc: Path) -> dict[str, FileLines]:
    """Added statements of the changed Python files and the tests that run them."""
    report = part.req.work / "coverage.json"
    export = await part.python(
        "coverage report", "-m", "coverage", "json", f"--rcfile={rc}", "-o", str(report)
    )
    if not (export.passed and report.is_file()):
        part.notes.append(f"coverage.py gave no report: {tail(export.output.strip(), 300)}")
        return {}
    return report_coverage(part, changed_lines(report, part.tree, part.python_code))


def report_coverage(part: SuiteState, measured: dict[str, FileLines]) -> dict[str, FileLines]:
    """Say what the coverage run measured; suggest a test per untested public function."""
    statements = sum(len(fl.statements) for fl in measured.values())
    ran = sum(len(fl.executed) for fl in measured.values())
    missing = uncovered(measured)
    part.text.append(
        f"Changed-line coverage: the tests execute {ran} of the {statements} added "
        "executable line(s)" + (f"; not run: {line_list(missing)}." if missing else ".")
    )
    part.findings += uncovered_findings(measured)
    return measured


async def measure_go(
    part: SuiteState, head: SuiteRun
) -> tuple[dict[str, FileLines], SuiteRun | None]:
    """Coverage of the added Go statements by each test of the changed packages; also the
    head run with each measured test's outcome alone (what the mutation probes plan on)."""
    module = module_path(part.tree)
    if module is None:
        part.notes.append("Changed-line coverage of Go skipped: go.mod names no module.")
        return {}, None
    sites, notes = await read_go_files(
        part.tool, part.req.work, part.scratch.head_tree, part.go_code
    )
    part.notes += notes
    part.go_mutants = {p: s.mutants for p, s in sites.items()}
    if not sites:
        return {}, None
    patterns = package_patterns([part.suite.inside(p) for p in part.go_code])
    deadline = time.monotonic() + part.scratch.left() * HEAD_SHARE
    cov = await per_test_coverage(
        part.tool,
        part.tree,
        part.work,
        module,
        patterns,
        deadline,
        head.results,
        part.req.settings.test_concurrency,
    )
    part.scratch.executed += cov.executed
    part.notes += cov.notes
    others = sorted(set(test_packages(part.tree)) - set(patterns))
    if others:
        part.notes.append(
            f"Go coverage ran the tests of the {len(patterns)} changed package(s) only; the "
            f"tests of {len(others)} other package(s) did not run for it: {name_list(others)}."
        )
    if not cov.profiles:
        part.notes.append("The Go coverage runs gave no profile: coverage not measured.")
        return {}, None
    inside = {part.suite.inside(p): site for p, site in sites.items()}
    measured = {
        part.suite.outside(p): replace(lines, path=part.suite.outside(p))
        for p, lines in go_changed_lines(cov.profiles, module, inside).items()
    }
    return report_coverage(part, measured), SuiteRun(head.execution, cov.results)
