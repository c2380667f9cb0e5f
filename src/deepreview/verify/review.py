"""The whole verification of one change: tests at the head (and at the merge base when some
fail), changed-line coverage, mutation probes; findings and the Testing Assessment's facts."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.agents.scan_files import is_test_path
from deepreview.config import VerifyConfig
from deepreview.diff import Diff
from deepreview.schema import ExecutedCommand, Finding, Location, Mutation, RubricRow, Verification
from deepreview.verify.detect import SuiteCommand
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


@dataclass(frozen=True)
class VerifyRequest:
    """What verification needs: the trees, the change and the settings."""

    repo: Path
    head_tree: Path
    diff: Diff
    base_sha: str | None
    work: Path
    environ: Mapping[str, str]
    command: SuiteCommand
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


class _Verifier:
    """One verification: scratch trees, the confined runner, and what it has found so far."""

    def __init__(self, req: VerifyRequest, head_tree: Path) -> None:
        self.req = req
        self.deadline = time.monotonic() + req.budget_s
        self.head_tree = head_tree
        home, tmp = req.work / "home", req.work / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir(parents=True)
        self.confinement = Confinement(
            writable=(req.work,), memory_bytes=req.settings.memory_mb * 1024 * 1024
        )
        self.env = scrubbed_environment(req.environ, req.project, home, tmp, req.settings.env)
        self.runner = SuiteRunner(req.command, req.project, self.env, self.confinement, req.work)
        self.pytest = req.command.runner == "pytest"
        self.go = req.command.runner == "go"
        self.added = _added(req.diff)
        self.python_code = {
            p: lines for p, lines in self.added.items() if p.endswith(".py") and not is_test_path(p)
        }
        self.go_code = go_code(head_tree, self.added) if self.go else {}
        self.go_mutants: dict[str, tuple[Mutant, ...]] = {}
        self.notes: list[str] = []
        self.executed: list[ExecutedCommand] = []
        self.text: list[str] = []
        self.findings: list[Finding] = []
        self.broken: list[str] = []
        self.already: list[str] = []

    def waiting_for_others(self) -> bool:
        """Whether the review still waits for AI agents, within this agent's own timeout."""
        done = self.req.others_done
        if done is None or done.is_set():
            return False
        return time.monotonic() < self.deadline - self.req.budget_s + self.req.ceiling_s

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.deadline - time.monotonic()

    async def _python(self, label: str, *args: str, timeout_s: float = 60) -> Execution:
        return await self._tool(label, [self.req.project.python(), *args], timeout_s=timeout_s)

    async def _tool(
        self, label: str, argv: Sequence[str], cwd: Path | None = None, timeout_s: float = 60
    ) -> Execution:
        return await execute(
            label,
            argv,
            cwd=cwd or self.head_tree,
            where=HEAD_COPY,
            env=self.env,
            timeout_s=timeout_s,
            confinement=self.confinement,
            capture_dir=self.req.work / "output",
        )

    async def coverage_config(self) -> Path | None:
        """Our coverage.py configuration when coverage can be measured, else None (noted)."""
        if not self.pytest:
            if not self.go:
                self.notes.append(
                    "Changed-line coverage is measured for pytest and `go test` suites only; "
                    f"`{self.req.command.text()}` ran without it."
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
        return coverage_rc(self.req.work, self.head_tree)

    def selection(self) -> list[str] | None:
        """The test files to run at the head: all (empty list) unless the suite is large;
        None when it is large and no test file names a changed module."""
        if not self.pytest:
            return []
        chosen, total = narrowed(self.head_tree, list(self.added))
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

    async def compare_with_base(
        self, head: SuiteRun, failed: list[str], base_sha: str, selection: Sequence[str]
    ) -> None:
        """Run the failing tests (or, when the run failed as a whole, the same selection) at
        the merge base; blame the change only for those that pass there or do not exist there."""
        base_tree = await asyncio.to_thread(
            export_commit, self.req.repo, base_sha, self.req.work / "base"
        )
        whole = head.whole_run_failed
        if whole:
            chosen = [s for s in selection if (base_tree / s).exists()]
            run_base = bool(chosen) or not selection
        elif self.pytest:
            chosen = sorted({node_file(t) for t in failed if (base_tree / node_file(t)).exists()})
            run_base = bool(chosen)
        else:
            chosen = go_selection(failed) if self.req.command.runner == "go" else []
            run_base = True
        base = None
        if run_base:
            base = await self.runner.run(
                "failing tests at base",
                base_tree,
                f"scratch copy of the merge base {base_sha[:12]}",
                max(self.left(), 30.0),
                chosen,
            )
            self.executed.append(base.execution.record)
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

    async def measure(self, rc: Path) -> dict[str, FileLines]:
        """Added statements of the changed Python files and the tests that run them."""
        report = self.req.work / "coverage.json"
        export = await self._python(
            "coverage report", "-m", "coverage", "json", f"--rcfile={rc}", "-o", str(report)
        )
        if not (export.passed and report.is_file()):
            self.notes.append(f"coverage.py gave no report: {tail(export.output.strip(), 300)}")
            return {}
        return self.report_coverage(changed_lines(report, self.head_tree, self.python_code))

    def report_coverage(self, measured: dict[str, FileLines]) -> dict[str, FileLines]:
        """Say what the coverage run measured; suggest a test per untested public function."""
        statements = sum(len(fl.statements) for fl in measured.values())
        ran = sum(len(fl.executed) for fl in measured.values())
        missing = self.uncovered(measured)
        self.text.append(
            f"Changed-line coverage: the tests execute {ran} of the {statements} added "
            "executable line(s)" + (f"; not run: {_line_list(missing)}." if missing else ".")
        )
        self.findings += _uncovered_findings(measured)
        return measured

    @staticmethod
    def uncovered(measured: Mapping[str, FileLines]) -> list[Location]:
        """Added statements no test executes."""
        return [
            Location(path=p, start_line=n)
            for p, fl in sorted(measured.items())
            for n in sorted(fl.missing)
        ]

    async def measure_go(self, head: SuiteRun) -> tuple[dict[str, FileLines], SuiteRun | None]:
        """Coverage of the added Go statements by each test of the changed packages; also the
        head run with each measured test's outcome alone (what the mutation probes plan on)."""
        module = module_path(self.head_tree)
        if module is None:
            self.notes.append("Changed-line coverage of Go skipped: go.mod names no module.")
            return {}, None
        sites, notes = await read_go_files(self._tool, self.req.work, self.head_tree, self.go_code)
        self.notes += notes
        self.go_mutants = {p: s.mutants for p, s in sites.items()}
        if not sites:
            return {}, None
        patterns = package_patterns(list(self.go_code))
        deadline = time.monotonic() + self.left() * HEAD_SHARE
        cov = await per_test_coverage(
            self._tool, self.head_tree, self.req.work, module, patterns, deadline, head.results
        )
        self.executed += cov.executed
        self.notes += cov.notes
        others = sorted(set(test_packages(self.head_tree)) - set(patterns))
        if others:
            self.notes.append(
                f"Go coverage ran the tests of the {len(patterns)} changed package(s) only; the "
                f"tests of {len(others)} other package(s) did not run for it: {_names(others)}."
            )
        if not cov.profiles:
            self.notes.append("The Go coverage runs gave no profile: coverage not measured.")
            return {}, None
        measured = go_changed_lines(cov.profiles, module, sites)
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
        probes = plan(self.head_tree, every, head, selection, file_mutants)
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
                "mutant", self.head_tree, HEAD_COPY, timeout, tests, stop_early=True
            )
            built = self.pytest or not did_not_build(run.execution.output)
            return run if built else None

        t0 = time.monotonic()
        tests_s = sum(t.duration_s for t in head.results.values())
        startup = max(1.0, head.execution.record.duration_s - tests_s)
        probed = await probe_all(
            self.head_tree, probes, run_probe, self.deadline, self.waiting_for_others, startup
        )
        mutations = [m for _, m in probed]
        if len(probed) < len(probes):
            self.notes.append(
                f"{len(probes) - len(probed)} mutant(s) did not compile and are not counted."
            )
        ran = [m for m in mutations if m.outcome != "not run"]
        caught = sum(m.outcome != "survived" for m in ran)
        if ran:
            self.executed.append(
                ExecutedCommand(
                    label="mutation probes",
                    command=f"{len(ran)} runs of the covering tests, one mutant each",
                    where=HEAD_COPY,
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

    def outcome(
        self, head: SuiteRun | None, measured: Mapping[str, FileLines], mutations: list[Mutation]
    ) -> VerifyOutcome:
        """The findings, the Testing Assessment paragraph and the executed facts."""
        verification = Verification(
            command=self.req.command.text(),
            environment=self.req.project.description,
            isolation=head.execution.isolation if head else self.confinement.describe(),
            executed=self.executed,
            broken_by_change=self.broken,
            failing_at_base=self.already,
            added_lines=sum(len(fl.statements) for fl in measured.values()) if measured else None,
            covered_lines=sum(len(fl.executed) for fl in measured.values()) if measured else None,
            uncovered=self.uncovered(measured),
            mutations=mutations,
            rubric=_rubric(measured, mutations),
            notes=self.notes,
        )
        return VerifyOutcome(verification, self.findings, " ".join(self.text))


async def verify_change(req: VerifyRequest) -> VerifyOutcome:
    """Run the verification within `req.budget_s`."""
    started = time.monotonic()
    head_tree = await asyncio.to_thread(copy_tree, req.head_tree, req.work / "head")
    v = _Verifier(req, head_tree)
    v.deadline = started + req.budget_s
    rc = await v.coverage_config()
    selection = v.selection()
    if selection is None:
        return v.outcome(None, {}, [])
    head = await v.runner.run(
        "tests at head", v.head_tree, HEAD_COPY, v.left() * HEAD_SHARE, selection
    )
    v.executed.append(head.execution.record)
    v.text.append(
        f"Ran `{head.execution.record.command}` at the head in a scratch copy: {_counts(head)}."
    )
    if head.execution.record.timed_out:
        v.notes.append("The test run at the head hit its time limit; its results are partial.")
    failed = head.failed()
    if failed and req.base_sha:
        await v.compare_with_base(head, failed, req.base_sha, selection)
    measured: dict[str, FileLines] = {}
    mutations: list[Mutation] = []
    if rc is not None:
        covering = naming(v.head_tree, selection or _test_files(v.head_tree), list(v.added))
        measured_run = await v.runner.run(
            "coverage of the changed lines",
            v.head_tree,
            HEAD_COPY,
            v.left() * HEAD_SHARE,
            covering or selection,
            coverage=rc,
        )
        v.executed.append(measured_run.execution.record)
        if measured_run.execution.record.timed_out:
            v.notes.append(
                "The coverage run hit its time limit: changed-line coverage not measured."
            )
        else:
            measured = await v.measure(rc)
        if measured and req.settings.mutations:
            probes = plan(v.head_tree, measured, measured_run, covering or selection)
            mutations = await v.probe(probes, measured_run)
    elif v.go_code and req.settings.coverage:
        measured, go_run = await v.measure_go(head)
        if measured and go_run and req.settings.mutations:
            probes = plan(v.head_tree, measured, go_run, [], v.go_mutants_of)
            mutations = await v.probe(probes, head)  # a mutant's start-up: a build, as at head
    elif not (v.pytest or v.go) and req.settings.mutations:
        mutations = await v.probe_lines(head, selection)
    return v.outcome(head, measured, mutations)


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
