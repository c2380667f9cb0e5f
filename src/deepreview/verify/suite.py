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


def tree_import_path(tree: Path) -> list[str]:
    """A scratch tree's own Python sources, to come first on the import path: `src/` (when
    there is one), then the tree itself."""
    return [*([str(tree / "src")] if (tree / "src").is_dir() else []), str(tree)]


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

    def _argv(self, selection: Sequence[str], coverage: Path | None, stop_early: bool) -> list[str]:
        argv = list(self.command.argv)
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self.project.python()
        if self.command.runner == "pytest":
            if coverage is not None and argv[1:3] == ["-m", "pytest"]:
                argv[1:1] = ["-m", "coverage", "run", f"--rcfile={coverage}"]
            first = ["-x"] if stop_early else []
            return [*argv, "-p", PLUGIN, "-p", "no:cacheprovider", *first, "-q", *selection]
        if self.command.runner == "go":
            pkgs = list(selection[1:]) or argv[2:]
            flags = ["-run", selection[0]] if selection and selection[0] else []
            if stop_early:
                flags.append("-failfast")
            return [argv[0], "test", "-json", *flags, *pkgs]
        return argv

    def environment(self, tree: Path, results: Path) -> dict[str, str]:
        """The scrubbed environment of a run in `tree`: the scratch tree's own sources first
        on the import path, so an editable install of the user's checkout is not imported."""
        env = dict(self.env)
        if self.command.runner == "pytest":
            paths = [str(self.plugin_dir()), *tree_import_path(tree)]
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
        coverage: Path | None = None,
        stop_early: bool = False,
    ) -> SuiteRun:
        """Run the suite (or the `selection`: pytest ids or files, `go_selection`'s pattern and
        packages) in `tree`; `coverage` is coverage.py's configuration (pytest only)."""
        results = self.work / f"results-{label.replace(' ', '-')}.jsonl"
        results.unlink(missing_ok=True)
        argv = self._argv(selection, coverage, stop_early)
        shown = " ".join([*self.command.argv, *selection][:12])
        if self.command.runner == "go":
            shown = " ".join(_go_shown(argv)[:12])
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


def _go_shown(argv: Sequence[str]) -> list[str]:
    """A `go test` command as the report prints it: without `-json`."""
    return [a for a in argv if a != "-json"]


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


#: A `go test -json` id: the package's import path, the top-level test, any subtest path.
_GO_ID = re.compile(r"(?P<pkg>.+?)\.(?P<name>(?:Test|Example|Fuzz)\w*)(?P<sub>/.*)?")


def go_test(test_id: str) -> tuple[str, str, bool] | None:
    """(package, top-level test, whether it is a subtest) of a `package.TestName[/sub]` id."""
    m = _GO_ID.fullmatch(test_id)
    return (m["pkg"], m["name"], m["sub"] is not None) if m else None


def go_selection(ids: Sequence[str]) -> list[str]:
    """`-run` pattern and packages that re-run the given `package.TestName` ids."""
    parts = [p for p in map(go_test, ids) if p is not None]
    if not parts:
        return []
    names = sorted({name for _, name, _ in parts})
    pkgs = sorted({pkg for pkg, _, _ in parts})
    return ["^(" + "|".join(re.escape(n) for n in names) + ")$", *pkgs]


#: What `go test` and `cargo test` print when the code does not compile.
_NOT_BUILT = re.compile(r"\[(?:build|setup) failed\]|error: could not compile")


def did_not_build(output: str) -> bool:
    """Whether a run's output says the code under test did not compile (a mutant that does
    not build says nothing about the tests)."""
    return _NOT_BUILT.search(output) is not None


def node_file(test_id: str) -> str:
    """The file part of a pytest node id."""
    return test_id.split("::", 1)[0]
