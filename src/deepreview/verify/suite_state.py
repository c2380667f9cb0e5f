"""One suite's part of a verification: its folder of the scratch copies, its runner, the lines
the change adds there, and what it has found."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from deepreview.agents.scan_files import is_test_path
from deepreview.schema import Finding, Mutation
from deepreview.verify.detect import Suite
from deepreview.verify.execute import Execution, execute
from deepreview.verify.go_coverage import go_code
from deepreview.verify.lines import FileLines
from deepreview.verify.mutate import Mutant
from deepreview.verify.probe import Probe
from deepreview.verify.scratch_area import ScratchArea
from deepreview.verify.suite import SuiteRun, SuiteRunner

#: Share of the budget the head run may use.
HEAD_SHARE = 0.6
HEAD_COPY = "scratch copy of the head"


def go_elsewhere(path: str, folders: frozenset[str]) -> bool:
    """Whether `path` is a Go file under one of these module folders."""
    return path.endswith(".go") and any(
        p.as_posix() in folders for p in PurePosixPath(path).parents
    )


class SuiteState:
    """One suite in its folder of the scratch copies: its runner, the lines the change adds there,
    and what its verification has found so far."""

    def __init__(self, scratch: ScratchArea, suite: Suite) -> None:
        self.scratch, self.req, self.suite = scratch, scratch.req, suite
        folder = suite.folder
        self.tree = scratch.head_tree / folder
        self.at = "" if folder == "." else f", {folder}"
        self.where = HEAD_COPY + self.at
        self.work = self.req.work if folder == "." else self.req.work / "modules" / folder
        self.runner = SuiteRunner(
            suite.command, self.req.project, scratch.env, scratch.confinement, self.req.work
        )
        self.pytest = suite.command.runner == "pytest"
        self.go = suite.command.runner == "go"
        self.added = {
            p: lines
            for p, lines in scratch.added.items()
            if suite.holds(p) and (folder != "." or not go_elsewhere(p, scratch.nested))
        }
        self.python_code = {
            p: lines for p, lines in self.added.items() if p.endswith(".py") and not is_test_path(p)
        }
        self.go_code = self._go_code() if self.go else {}
        self.go_mutants: dict[str, tuple[Mutant, ...]] = {}
        self.notes: list[str] = []
        self.text: list[str] = []
        self.findings: list[Finding] = []
        self.broken: list[str] = []
        self.already: list[str] = []
        self.head: SuiteRun | None = None
        self.selected: list[str] = []
        self.measured: dict[str, FileLines] = {}
        self.mutations: list[Mutation] = []
        self.probes: tuple[list[Probe], SuiteRun] | None = None
        """The planned mutation probes and the run whose start-up each is expected to take."""

    def _go_code(self) -> dict[str, frozenset[int]]:
        """The added lines of the module's non-test Go files (repository-relative paths)."""
        inside = {self.suite.inside(p): lines for p, lines in self.added.items()}
        return {self.suite.outside(p): n for p, n in go_code(self.tree, inside).items()}

    async def python(self, label: str, *args: str, timeout_s: float = 60) -> Execution:
        """Run the project's Python with `args`, confined, in the head's scratch copy."""
        return await self.tool(label, [self.req.project.python(), *args], timeout_s=timeout_s)

    async def tool(
        self, label: str, argv: Sequence[str], cwd: Path | None = None, timeout_s: float = 60
    ) -> Execution:
        """Run `argv` confined, in `cwd` or the head's scratch copy."""
        return await execute(
            label,
            argv,
            cwd=cwd or self.scratch.head_tree,
            where=self.where,
            env=self.scratch.env,
            timeout_s=timeout_s,
            confinement=self.scratch.confinement,
            capture_dir=self.req.work / "output",
        )

    def go_mutants_of(self, path: str, text: str, lines: frozenset[int]) -> list[Mutant]:
        """The Go reader's mutants of these lines of `path`."""
        return [m for m in self.go_mutants.get(path, ()) if m.line in lines]
