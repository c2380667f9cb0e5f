"""The whole verification of one change, suite by suite (the root's, each changed Go module's
in its folder): tests at the head (and at the merge base when some fail), changed-line coverage,
mutation probes; findings and the Testing Assessment's facts."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from deepreview.agents.scan_files import is_test_path
from deepreview.config import VerifyConfig
from deepreview.diff import Diff
from deepreview.schema import ExecutedCommand, Finding, Location, Mutation, RubricRow, Verification
from deepreview.verify.detect import Suite
from deepreview.verify.environment import ProjectEnvironment, scrubbed_environment
from deepreview.verify.execute import Confinement, Execution, execute, tail
from deepreview.verify.go_coverage import changed_lines as go_changed_lines
from deepreview.verify.go_coverage import go_code, module_path, package_patterns, test_packages
from deepreview.verify.go_sites import read_go_files
from deepreview.verify.go_tests import per_test_coverage
from deepreview.verify.lines import (
    IMPORT_TIME,
    FileLines,
    changed_lines,
    coverage_rc,
)
from deepreview.verify.mutate import Mutant, file_mutants
from deepreview.verify.probe import Probe, plan, probe_all
from deepreview.verify.scratch import copy_tree, export_commit
from deepreview.verify.suite import (
    SuiteRun,
    SuiteRunner,
    did_not_build,
    go_selection,
    node_file,
)

#: Above this many test files, the head run is narrowed to the files that import a changed module.
NARROW_ABOVE = 30
#: Share of the budget the head run may use.
HEAD_SHARE = 0.6
#: Surviving mutants reported one by one; the rest are counted.
MAX_MUTANT_FINDINGS = 10
#: Failing tests quoted in a finding.
MAX_QUOTED = 5
HEAD_COPY = "scratch copy of the head"
#: A suite after the first runs only with at least this many seconds of the budget left.
TURN_S = 5.0


@dataclass(frozen=True)
class VerifyRequest:
    """What verification needs: the trees, the change and the settings."""

    repo: Path
    head_tree: Path
    diff: Diff
    base_sha: str | None
    work: Path
    environ: Mapping[str, str]
    suites: Sequence[Suite]
    project: ProjectEnvironment
    settings: VerifyConfig
    budget_s: float
    others_done: asyncio.Event | None = None
    """When set: probes may go on past the budget while it is unset (AI agents still run)."""
    ceiling_s: float = 0.0


@dataclass
class VerifyOutcome:
    """Findings, the Testing Assessment paragraph and the executed facts."""

    verification: Verification
    findings: list[Finding] = field(default_factory=list)
    testing: str = ""


def _added(diff: Diff) -> dict[str, frozenset[int]]:
    return {
        fd.path: fd.added_lines
        for fd in diff.files
        if not fd.is_binary and fd.status != "deleted" and fd.added_lines
    }


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


def _test_files(tree: Path) -> list[str]:
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
    files = _test_files(tree)
    if len(files) <= NARROW_ABOVE:
        return None, len(files)
    return naming(tree, files, changed), len(files)


def _rubric(measured: Mapping[str, FileLines], mutations: Sequence[Mutation]) -> list[RubricRow]:
    rows: list[RubricRow] = []
    for path, lines in sorted(measured.items()):
        for unit in lines.units:
            first, last = unit.first, unit.last
            inside = frozenset(n for n in lines.statements if first <= n <= last)
            if not inside:
                continue
            mine = [
                m
                for m in mutations
                if m.location.path == path
                and first <= (m.location.start_line or 0) <= last
                and m.outcome != "not run"
            ]
            missing = inside & lines.missing
            loc = Location(path=path, start_line=first, end_line=last)
            if missing == inside:
                status, note = "Not covered", f"no test runs its {len(inside)} added line(s)"
            elif any(m.outcome == "survived" for m in mine):
                kept = sum(m.outcome == "survived" for m in mine)
                status, note = (
                    "Not pinned",
                    f"{kept} of {len(mine)} mutation(s) keep the tests green",
                )
            elif mine:
                status, note = "Pinned", f"the tests catch all {len(mine)} mutation(s)"
            else:
                status, note = "Covered", "not probed"
            if missing and missing != inside:
                note += f"; {len(missing)} added line(s) not run"
            rows.append(RubricRow(subject=f"`{unit.name}`", location=loc, status=status, note=note))
    return rows


def _first_run(lines: frozenset[int]) -> tuple[int, int]:
    start = end = min(lines)
    while end + 1 in lines:
        end += 1
    return start, end


def blamed_locations(added: Mapping[str, frozenset[int]], messages: str) -> list[Location]:
    """Where a test broken by the change points: the first added lines of the changed files,
    files named in the failure output first, code before tests; at most three."""
    ranked = sorted(added, key=lambda p: (p not in messages, is_test_path(p), p))
    out = []
    for path in ranked[:3]:
        start, end = _first_run(added[path])
        out.append(Location(path=path, start_line=start, end_line=end))
    return out


def _broken_finding(
    broken: Sequence[str], head: SuiteRun, base_sha: str, added: Mapping[str, frozenset[int]]
) -> Finding:
    quoted = []
    messages = []
    for test_id in broken[:MAX_QUOTED]:
        result = head.results.get(test_id)
        message = result.message if result else tail(head.execution.output, 1500)
        messages.append(message)
        quoted.append(f"`{test_id}`:\n\n```text\n{tail(message.strip(), 1500)}\n```")
    more = f"\n\n…and {len(broken) - MAX_QUOTED} more." if len(broken) > MAX_QUOTED else ""
    names = ", ".join(f"`{t}`" for t in broken[:3]) + (" …" if len(broken) > 3 else "")
    return Finding(
        id="C1",
        severity="critical",
        category="regression",
        title=f"The change breaks {names}: fails at head, passes at base",
        body=(
            f"{len(broken)} test(s) fail at the head and pass at the merge base "
            f"{base_sha[:12]}, both run by deepreview in scratch copies; the locations are "
            "the change's first added lines in the files involved.\n\n" + "\n\n".join(quoted) + more
        ),
        locations=blamed_locations(added, "\n".join(messages)),
        fix="Make the failing tests pass again, or change them if the new behaviour is intended.",
    )


def _uncovered_findings(measured: Mapping[str, FileLines]) -> list[Finding]:
    out = []
    for path, lines in sorted(measured.items()):
        for unit in lines.units:
            name = unit.name
            inside = sorted(n for n in lines.statements if unit.first <= n <= unit.last)
            if not unit.public or not inside or any(n in lines.executed for n in inside):
                continue
            out.append(
                Finding(
                    id="S1",
                    severity="suggestion",
                    category="testing",
                    title=f"No test runs the added lines of `{name}`",
                    body=f"The suite executes none of the {len(inside)} added line(s) of `{name}` "
                    f"({path}:{inside[0]}-{inside[-1]}).",
                    locations=[Location(path=path, start_line=inside[0], end_line=inside[-1])],
                    fix=f"Add a test that calls `{name}` and asserts its result.",
                )
            )
    return out


def _uncovered(measured: Mapping[str, FileLines]) -> list[Location]:
    """Added statements no test executes."""
    return [
        Location(path=p, start_line=n)
        for p, fl in sorted(measured.items())
        for n in sorted(fl.missing)
    ]


def _mutant_findings(probed: Sequence[tuple[Probe, Mutation]]) -> list[Finding]:
    out = []
    for probe, m in probed:
        if m.outcome != "survived" or probe.mutant.trivial:
            continue
        out.append(
            Finding(
                id="S1",
                severity="suggestion",
                category="testing",
                title=f"Not pinned by any test: {m.description} at {m.location.label()} "
                "keeps the suite green",
                body=f"With this mutation the {m.tests} test(s) that run the line still pass."
                + (f" (in `{probe.mutant.function}`)" if probe.mutant.function else ""),
                locations=[m.location],
                fix="Add an assertion that fails under this mutation.",
            )
        )
    return out[:MAX_MUTANT_FINDINGS]


def _go_elsewhere(path: str, folders: frozenset[str]) -> bool:
    """Whether `path` is a Go file under one of these module folders."""
    return path.endswith(".go") and any(
        p.as_posix() in folders for p in PurePosixPath(path).parents
    )


class _Scratch:
    """What the suites of one verification share: the scratch copies (the merge base's
    exported once, when a suite first needs it), the confined environment, the deadline and the
    commands executed so far, in the order they ran."""

    def __init__(self, req: VerifyRequest, head_tree: Path, deadline: float) -> None:
        self.req, self.head_tree, self.deadline = req, head_tree, deadline
        home, tmp = req.work / "home", req.work / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir(parents=True)
        self.confinement = Confinement(
            writable=(req.work,), memory_bytes=req.settings.memory_mb * 1024 * 1024
        )
        self.env = scrubbed_environment(req.environ, req.project, home, tmp, req.settings.env)
        self.added = _added(req.diff)
        self.nested = frozenset(s.folder for s in req.suites if s.folder != ".")
        """The folders of the Go modules below the root, whose Go files are not the root's."""
        self.executed: list[ExecutedCommand] = []
        self.notes: list[str] = []
        self._base: Path | None = None

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.deadline - time.monotonic()

    def waiting_for_others(self) -> bool:
        """Whether the review still waits for AI agents, within this agent's own timeout."""
        done = self.req.others_done
        if done is None or done.is_set():
            return False
        return time.monotonic() < self.deadline - self.req.budget_s + self.req.ceiling_s

    async def base_tree(self, sha: str) -> Path:
        """The scratch copy of the merge base, exported on first use."""
        if self._base is None:
            self._base = await asyncio.to_thread(
                export_commit, self.req.repo, sha, self.req.work / "base"
            )
        return self._base


class _Verifier:
    """The verification of one suite in its folder of the scratch copies, and what it found."""

    def __init__(self, scratch: _Scratch, suite: Suite) -> None:
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
            if suite.holds(p) and (folder != "." or not _go_elsewhere(p, scratch.nested))
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

    async def _python(self, label: str, *args: str, timeout_s: float = 60) -> Execution:
        return await self._tool(label, [self.req.project.python(), *args], timeout_s=timeout_s)

    async def _tool(
        self, label: str, argv: Sequence[str], cwd: Path | None = None, timeout_s: float = 60
    ) -> Execution:
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

    async def coverage_config(self) -> Path | None:
        """Our coverage.py configuration when coverage can be measured, else None (noted)."""
        if not self.pytest:
            if not self.go:
                self.notes.append(
                    "Changed-line coverage is measured for pytest and `go test` suites only; "
                    f"`{self.suite.command.text()}` ran without it."
                )
            return None
        if not (self.req.settings.coverage and self.python_code):
            return None
        if not (await self._python("coverage.py available", "-c", "import coverage")).passed:
            self.notes.append(
                "Changed-line coverage and mutation probes skipped: coverage.py is not "
                f"installed in {self.req.project.description} (deepreview does not install "
                "into it)."
            )
            return None
        return coverage_rc(self.req.work, self.tree)

    def selection(self) -> list[str] | None:
        """The test files to run at the head: all (empty list) unless the suite is large;
        None when it is large and no test file names a changed module."""
        if not self.pytest:
            return []
        chosen, total = narrowed(self.tree, list(self.added))
        if chosen is None:
            return []
        if not chosen:
            self.text.append(
                f"The suite has {total} test files and none names a changed module: no test ran."
            )
            return None
        self.notes.append(
            f"The suite has {total} test files; the {len(chosen)} that name a changed module "
            f"ran, the other {total - len(chosen)} did not."
        )
        return chosen

    async def run_tests(self) -> None:
        """The suite at the head, its failing tests at the merge base, the changed lines'
        coverage; the mutation probes are planned, to run after every suite's tests."""
        rc = await self.coverage_config()
        selection = self.selection()
        if selection is None:
            return
        self.selected = selection
        left = self.scratch.left()
        head = await self.runner.run(
            "tests at head", self.tree, self.where, left * HEAD_SHARE, selection
        )
        self.head = head
        self.scratch.executed.append(head.execution.record)
        self.text.append(
            f"Ran `{head.execution.record.command}` at the head in a scratch copy: {_counts(head)}."
        )
        if head.execution.record.timed_out:
            self.notes.append(
                "The test run at the head hit its time limit; its results are partial."
            )
        failed = head.failed()
        if failed and self.req.base_sha:
            await self.compare_with_base(head, failed, self.req.base_sha, selection)
        if rc is not None:
            await self.measure_python(rc, selection)
        elif self.go_code and self.req.settings.coverage:
            self.measured, go_run = await self.measure_go(head)
            if self.measured and go_run:
                probes = plan(self.scratch.head_tree, self.measured, go_run, [], self.go_mutants_of)
                self.probes = probes, head  # a mutant's start-up: a build, as at head

    async def run_mutants(self) -> None:
        """The planned mutation probes (line deletions where nothing was measured)."""
        if not self.req.settings.mutations or self.head is None:
            return
        if self.probes is not None:
            self.mutations = await self.probe(*self.probes)
        elif not (self.pytest or self.go):
            self.mutations = await self.probe_lines(self.head, self.selected)

    async def compare_with_base(
        self, head: SuiteRun, failed: list[str], base_sha: str, selection: Sequence[str]
    ) -> None:
        """Run the failing tests (or, when the run failed as a whole, the same selection) at
        the merge base; blame the change only for those that pass there or do not exist there
        (all of them when the suite's folder does not exist there)."""
        base_tree = await self.scratch.base_tree(base_sha) / self.suite.folder
        whole = head.whole_run_failed
        if not base_tree.is_dir():
            chosen, run_base = [], False
        elif whole:
            chosen = [s for s in selection if (base_tree / s).exists()]
            run_base = bool(chosen) or not selection
        elif self.pytest:
            chosen = sorted({node_file(t) for t in failed if (base_tree / node_file(t)).exists()})
            run_base = bool(chosen)
        else:
            chosen = go_selection(failed) if self.go else []
            run_base = True
        base = None
        if run_base:
            base = await self.runner.run(
                "failing tests at base",
                base_tree,
                f"scratch copy of the merge base {base_sha[:12]}{self.at}",
                max(self.scratch.left(), 30.0),
                chosen,
            )
            self.scratch.executed.append(base.execution.record)
        broken = [t for t in failed if _base_outcome(base, t, whole) != "failed"]
        already = [t for t in failed if t not in broken]
        if broken:
            self.findings.append(_broken_finding(broken, head, base_sha, self.added))
            names = ", ".join(f"`{t}`" for t in broken[:3])
            self.text.append(
                f"{len(broken)} test(s) fail at the head and pass at the merge base (or do not "
                f"exist there): the change breaks {names}."
            )
        if already:
            self.text.append(
                f"{len(already)} test(s) already fail at the merge base (pre-existing, not "
                "counted against the change)."
            )
        self.broken, self.already = broken, already

    async def measure_python(self, rc: Path, selection: Sequence[str]) -> None:
        """A coverage run of the test files that name a changed module; the probes it plans."""
        covering = naming(self.tree, selection or _test_files(self.tree), list(self.added))
        measured_run = await self.runner.run(
            "coverage of the changed lines",
            self.tree,
            self.where,
            self.scratch.left() * HEAD_SHARE,
            covering or selection,
            coverage=rc,
        )
        self.scratch.executed.append(measured_run.execution.record)
        if measured_run.execution.record.timed_out:
            self.notes.append(
                "The coverage run hit its time limit: changed-line coverage not measured."
            )
            return
        self.measured = await self.measure(rc)
        if self.measured:
            probes = plan(
                self.scratch.head_tree, self.measured, measured_run, covering or selection
            )
            self.probes = probes, measured_run

    async def measure(self, rc: Path) -> dict[str, FileLines]:
        """Added statements of the changed Python files and the tests that run them."""
        report = self.req.work / "coverage.json"
        export = await self._python(
            "coverage report", "-m", "coverage", "json", f"--rcfile={rc}", "-o", str(report)
        )
        if not (export.passed and report.is_file()):
            self.notes.append(f"coverage.py gave no report: {tail(export.output.strip(), 300)}")
            return {}
        return self.report_coverage(changed_lines(report, self.tree, self.python_code))

    def report_coverage(self, measured: dict[str, FileLines]) -> dict[str, FileLines]:
        """Say what the coverage run measured; suggest a test per untested public function."""
        statements = sum(len(fl.statements) for fl in measured.values())
        ran = sum(len(fl.executed) for fl in measured.values())
        missing = _uncovered(measured)
        self.text.append(
            f"Changed-line coverage: the tests execute {ran} of the {statements} added "
            "executable line(s)" + (f"; not run: {_line_list(missing)}." if missing else ".")
        )
        self.findings += _uncovered_findings(measured)
        return measured

    async def measure_go(self, head: SuiteRun) -> tuple[dict[str, FileLines], SuiteRun | None]:
        """Coverage of the added Go statements by each test of the changed packages; also the
        head run with each measured test's outcome alone (what the mutation probes plan on)."""
        module = module_path(self.tree)
        if module is None:
            self.notes.append("Changed-line coverage of Go skipped: go.mod names no module.")
            return {}, None
        sites, notes = await read_go_files(
            self._tool, self.req.work, self.scratch.head_tree, self.go_code
        )
        self.notes += notes
        self.go_mutants = {p: s.mutants for p, s in sites.items()}
        if not sites:
            return {}, None
        patterns = package_patterns([self.suite.inside(p) for p in self.go_code])
        deadline = time.monotonic() + self.scratch.left() * HEAD_SHARE
        cov = await per_test_coverage(
            self._tool, self.tree, self.work, module, patterns, deadline, head.results
        )
        self.scratch.executed += cov.executed
        self.notes += cov.notes
        others = sorted(set(test_packages(self.tree)) - set(patterns))
        if others:
            self.notes.append(
                f"Go coverage ran the tests of the {len(patterns)} changed package(s) only; the "
                f"tests of {len(others)} other package(s) did not run for it: {_names(others)}."
            )
        if not cov.profiles:
            self.notes.append("The Go coverage runs gave no profile: coverage not measured.")
            return {}, None
        inside = {self.suite.inside(p): site for p, site in sites.items()}
        measured = {
            self.suite.outside(p): replace(lines, path=self.suite.outside(p))
            for p, lines in go_changed_lines(cov.profiles, module, inside).items()
        }
        return self.report_coverage(measured), SuiteRun(head.execution, cov.results)

    def go_mutants_of(self, path: str, text: str, lines: frozenset[int]) -> list[Mutant]:
        """The Go reader's mutants of these lines of `path`."""
        return [m for m in self.go_mutants.get(path, ()) if m.line in lines]

    async def probe_lines(self, head: SuiteRun, selection: Sequence[str]) -> list[Mutation]:
        """Without a coverage measurement: each mutant of the added code lines (Python's
        syntax-aware ones, else line deletions) against the whole command."""
        if head.failed():
            return []  # a failing command cannot tell a mutant from the change
        code = {p: n for p, n in self.added.items() if not is_test_path(p)}
        every = {
            p: FileLines(p, n, dict.fromkeys(n, frozenset({IMPORT_TIME}))) for p, n in code.items()
        }
        probes = plan(self.scratch.head_tree, every, head, selection, file_mutants)
        if not probes:
            return []
        self.notes.append(
            "Mutation probes without coverage: each mutant of the added lines (deleting a "
            "statement line outside Python) ran the whole command."
        )
        return await self.probe(probes, head)

    async def probe(self, probes: Sequence[Probe], head: SuiteRun) -> list[Mutation]:
        """Run the mutation probes within the budget; `head` is a run of the suite whose
        start-up (its duration less its tests') each mutant's run is expected to take too."""

        async def run_probe(probe: Probe, timeout: float) -> SuiteRun | None:
            tests = go_selection(probe.tests) if self.go else probe.tests
            run = await self.runner.run(
                "mutant", self.tree, self.where, timeout, tests, stop_early=True
            )
            built = self.pytest or not did_not_build(run.execution.output)
            return run if built else None

        t0 = time.monotonic()
        tests_s = sum(t.duration_s for t in head.results.values())
        startup = max(1.0, head.execution.record.duration_s - tests_s)
        probed = await probe_all(
            self.scratch.head_tree,
            probes,
            run_probe,
            self.scratch.deadline,
            self.scratch.waiting_for_others,
            startup,
        )
        mutations = [m for _, m in probed]
        if len(probed) < len(probes):
            self.notes.append(
                f"{len(probes) - len(probed)} mutant(s) did not compile and are not counted."
            )
        ran = [m for m in mutations if m.outcome != "not run"]
        caught = sum(m.outcome != "survived" for m in ran)
        if ran:
            self.scratch.executed.append(
                ExecutedCommand(
                    label="mutation probes",
                    command=f"{len(ran)} runs of the covering tests, one mutant each",
                    where=self.where,
                    duration_s=round(time.monotonic() - t0, 2),
                )
            )
        self.text.append(
            f"Of {len(ran)} mutations of the changed lines, the suite caught {caught}."
        )
        if len(ran) < len(mutations):
            self.notes.append(
                f"{len(mutations) - len(ran)} of {len(mutations)} mutations were not run: the "
                f"time budget ({self.req.budget_s:g} s) ran out."
            )
        self.findings += _mutant_findings(probed)
        return mutations


def _outcome(scratch: _Scratch, parts: Sequence[_Verifier]) -> VerifyOutcome:
    """The findings, the Testing Assessment paragraph and the executed facts of all the
    suites; with more than one, each sentence and note names the suite it is about."""
    several = len(parts) > 1

    def said(part: _Verifier, lines: Sequence[str]) -> list[str]:
        return [f"{part.suite.name()}: {line}" if several else line for line in lines]

    measured = {p: lines for part in parts for p, lines in part.measured.items()}
    mutations = [m for part in parts for m in part.mutations]
    head = next((part.head for part in parts if part.head is not None), None)
    verification = Verification(
        command="; ".join(part.suite.text() for part in parts),
        environment=scratch.req.project.description,
        isolation=head.execution.isolation if head else scratch.confinement.describe(),
        executed=scratch.executed,
        broken_by_change=[t for part in parts for t in part.broken],
        failing_at_base=[t for part in parts for t in part.already],
        added_lines=sum(len(fl.statements) for fl in measured.values()) if measured else None,
        covered_lines=sum(len(fl.executed) for fl in measured.values()) if measured else None,
        uncovered=_uncovered(measured),
        mutations=mutations,
        rubric=_rubric(measured, mutations),
        notes=[n for part in parts for n in said(part, part.notes)] + scratch.notes,
    )
    findings = [f for part in parts for f in part.findings]
    text = " ".join(t for part in parts for t in said(part, part.text))
    return VerifyOutcome(verification, findings, text)


async def verify_change(req: VerifyRequest) -> VerifyOutcome:
    """Run the verification of every suite within `req.budget_s`: each suite's tests and
    coverage in turn (a suite whose turn comes with less than TURN_S left is not run, and the
    notes say so), then each suite's mutation probes in the time left."""
    started = time.monotonic()
    head_tree = await asyncio.to_thread(copy_tree, req.head_tree, req.work / "head")
    scratch = _Scratch(req, head_tree, started + req.budget_s)
    parts = [_Verifier(scratch, suite) for suite in req.suites]
    for i, part in enumerate(parts):
        if i and scratch.left() < TURN_S:
            scratch.notes.append(
                f"{part.suite.name()} was not run: the time budget ({req.budget_s:g} s) was "
                "spent before its turn."
            )
            continue
        await part.run_tests()
    for part in parts:
        await part.run_mutants()
    return _outcome(scratch, parts)


def _base_outcome(base: SuiteRun | None, test_id: str, whole: bool) -> str:
    """ "failed", "passed" or "absent" for `test_id` in the base run (`whole`: the head run
    failed as a whole, so the base run's exit status decides)."""
    if base is None:
        return "absent"
    if whole or not base.results:
        return "failed" if not base.execution.passed else "passed"
    result = base.results.get(test_id)
    if result is None:
        return "absent"
    return "failed" if result.outcome == "failed" else "passed"


def _counts(run: SuiteRun) -> str:
    if not run.results:
        code = run.execution.record.exit_code
        return "timed out" if run.execution.record.timed_out else f"exit code {code}"
    by: dict[str, int] = {}
    for r in run.results.values():
        by[r.outcome] = by.get(r.outcome, 0) + 1
    return ", ".join(f"{n} {o}" for o, n in sorted(by.items(), key=lambda kv: kv[0] != "passed"))


def _line_list(locations: Sequence[Location]) -> str:
    return _names([loc.label() for loc in locations])


def _names(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
