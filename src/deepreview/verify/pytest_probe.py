"""A pytest plugin that `verify` loads into the project's own test run (`-p`).

It records each test's outcome as JSON lines (to $DEEPREVIEW_PROBE_RESULTS) and, when the run is
measured by coverage.py, switches the coverage context to the running test's node id, so each
line's covering tests are known. It imports nothing outside pytest and the standard library.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

RESULTS_ENV = "DEEPREVIEW_PROBE_RESULTS"
MAX_MESSAGE = 4000


def _coverage() -> Any:
    try:
        import coverage
    except ImportError:
        return None
    return coverage.Coverage.current()


def _write(record: dict[str, object]) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Measure each test in its own coverage context."""
    cov = _coverage()
    if cov is not None:
        cov.switch_context(item.nodeid)
    yield
    if cov is not None:
        cov.switch_context("")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record the call phase, and setup or teardown when they did not pass."""
    if report.when == "call" or not report.passed:
        message = str(report.longrepr)[-MAX_MESSAGE:] if report.failed else ""
        record = {"id": report.nodeid, "outcome": report.outcome, "message": message}
        _write({**record, "duration": round(report.duration, 4)})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module that cannot be collected counts as a failed test of that id."""
    if report.failed:
        message = str(report.longrepr)[-MAX_MESSAGE:]
        _write({"id": report.nodeid, "outcome": "failed", "message": message})
