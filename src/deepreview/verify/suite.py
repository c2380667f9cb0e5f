"""Run a test suite in a scratch tree and read back each test's outcome."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

from deepreview.verify.detect import SuiteCommand
from deepreview.verify.environment import ProjectEnvironment
from deepreview.verify.execute import Confinement, Execution, execute

Outcome = Literal["passed", "failed", "skipped"]
PLUGIN = "deepreview_pytest_probe"
RESULTS_ENV = "DEEPREVIEW_PROBE_RESULTS"


@dataclass(frozen=True)
class CaseResult:
    """One test's outcome (a failure in setup, call or teardown fails the test)."""

    id: str
    outcome: Outcome
    message: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True)
class SuiteRun:
    """A finished run of (part of) the suite."""

    execution: Execution
    results: dict[str, CaseResult] = field(default_factory=dict)

    @property
    def whole_run_failed(self) -> bool:
        """The command failed (not by its time limit) without any failing test to name."""
        record = self.execution.record
        failing = any(t.outcome == "failed" for t in self.results.values())
        return not failing and not self.execution.passed and not record.timed_out

    def failed(self) -> list[str]:
        """Ids of the failing tests; the command itself when it failed without naming any; none
        when it was stopped at its time limit before a test failed (inconclusive)."""
        if self.whole_run_failed:
            return [self.execution.record.command]
        return [t.id for t in self.results.values() if t.outcome == "failed"]


@dataclass(frozen=True)
class SuiteRunner:
    """Runs one suite's command in scratch trees, confined, in the project's environment."""

    command: SuiteCommand
    project: ProjectEnvironment
    env: Mapping[str, str]
    confinement: Confinement
    work: Path

    def plugin_dir(self) -> Path:
        """A folder holding the pytest probe plugin under an unambiguous module name."""
        folder = self.work / "plugin"
        target = folder / f"{PLUGIN}.py"
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            source = resources.files("deepreview.verify").joinpath("pytest_probe.py")
            target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        return folder

    def _argv(self, tree: Path, selection: Sequence[str], coverage_rc: Path | None) -> list[str]:
        argv = list(self.command.argv)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self.project.python()
        if self.command.runner == "pytest":
            if coverage_rc is not None and argv[1:3] == ["-m", "pytest"]:
                argv[1:1] = ["-m", "coverage", "run", f"--rcfile={coverage_rc}"]
            return [*argv, "-p", PLUGIN, "-p", "no:cacheprovider", "-q", *selection]
        if self.command.runner == "go":
            pkgs = list(selection[1:]) or argv[2:]
            run = ["-run", selection[0]] if selection else []
            return [argv[0], "test", "-json", *run, *pkgs]
        return argv

    def environment(self, tree: Path, results: Path) -> dict[str, str]:
        """The scrubbed environment of a run in `tree`: the scratch tree's own sources first
        on the import path, so an editable install of the user's checkout is not imported."""
        env = dict(self.env)
        if self.command.runner == "pytest":
            paths = [str(self.plugin_dir())]
            if (tree / "src").is_dir():
                paths.append(str(tree / "src"))
            paths.append(str(tree))
            env["PYTHONPATH"] = os.pathsep.join(paths)
            env[RESULTS_ENV] = str(results)
        return env

    async def run(
        self,
        label: str,
        tree: Path,
        where: str,
        timeout_s: float,
        selection: Sequence[str] = (),
        coverage_rc: Path | None = None,
        stop_early: bool = False,
    ) -> SuiteRun:
        """Run the suite (or the `selection` of test ids / files) in `tree`."""
        results = self.work / f"results-{label.replace(' ', '-')}.jsonl"
        results.unlink(missing_ok=True)
        argv = self._argv(tree, selection, coverage_rc)
        if stop_early and self.command.runner == "pytest":
            argv.insert(argv.index("-q"), "-x")
        shown = " ".join([*self.command.argv, *selection][:12])
        execution = await execute(
            label,
            argv,
            cwd=tree,
            where=where,
            env=self.environment(tree, results),
            timeout_s=timeout_s,
            confinement=self.confinement,
            capture_dir=self.work / "output",
            shown=shown,
        )
        if self.command.runner == "pytest":
            return SuiteRun(execution, read_pytest_results(results))
        if self.command.runner == "go":
            return SuiteRun(execution, read_go_results(execution.output))
        return SuiteRun(execution)


def read_pytest_results(path: Path) -> dict[str, CaseResult]:
    """The probe plugin's JSON lines, one result per test id (any failing phase fails it)."""
    out: dict[str, CaseResult] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        outcome = _OUTCOMES.get(str(data.get("outcome")), "failed")
        prior = out.get(data["id"])
        if prior is not None and (prior.outcome == "failed" or outcome == "passed"):
            continue
        out[data["id"]] = CaseResult(
            data["id"],
            outcome,
            str(data.get("message") or ""),
            float(data.get("duration") or 0.0),
        )
    return out


_OUTCOMES: dict[str, Outcome] = {"passed": "passed", "failed": "failed", "skipped": "skipped"}
_GO_ACTIONS: dict[str, Outcome] = {"pass": "passed", "fail": "failed", "skip": "skipped"}


def read_go_results(output: str) -> dict[str, CaseResult]:
    """Per-test outcomes from `go test -json` events (`package.TestName` ids)."""
    out: dict[str, CaseResult] = {}
    logs: dict[str, list[str]] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        test, pkg = event.get("Test"), event.get("Package", "")
        if not isinstance(test, str):
            continue
        key = f"{pkg}.{test}"
        action = event.get("Action")
        if action == "output":
            logs.setdefault(key, []).append(str(event.get("Output", "")))
        elif action in _GO_ACTIONS:
            message = "".join(logs.get(key, []))[-4000:] if action == "fail" else ""
            out[key] = CaseResult(
                key, _GO_ACTIONS[action], message, float(event.get("Elapsed") or 0.0)
            )
    return out


def go_selection(ids: Sequence[str]) -> list[str]:
    """`-run` pattern and packages that re-run the given `package.TestName` ids."""
    names = sorted({i.rsplit(".", 1)[1].split("/")[0] for i in ids if "." in i})
    pkgs = sorted({i.rsplit(".", 1)[0] for i in ids if "." in i})
    if not names:
        return []
    return ["^(" + "|".join(re.escape(n) for n in names) + ")$", *pkgs]


def node_file(test_id: str) -> str:
    """The file part of a pytest node id."""
    return test_id.split("::", 1)[0]
