"""Per-test coverage of Go: each changed package's test binary is built once with coverage and
each of its top-level tests runs alone with its own profile (up to `verify.test_concurrency` of
them at once), so the tests that execute each added line are known (a mutant then runs only
those).

A package with more than MAX_TESTS tests, or whose tests do not all fit in the time, falls back
to one run of all its tests together: a line they execute is covered by all of them.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.schema import ExecutedCommand
from deepreview.verify.execute import Execution, tail
from deepreview.verify.go_coverage import Profile, import_path, read_profile
from deepreview.verify.suite import CaseResult, Outcome, go_test

#: Above this many top-level tests, a package's tests run together for coverage.
MAX_TESTS = 300
#: A test binary's own start-up, added to each run's expected time.
STARTUP_S = 1.0
LABEL = "coverage of the changed lines"

#: Runs a command confined in the head's scratch copy: (label, argv, cwd, timeout) -> Execution.
Run = Callable[[str, Sequence[str], Path, float], Awaitable[Execution]]

_NAME = re.compile(r"(?:Test|Example|Fuzz)\w*")
#: A top-level test's result line in `-test.v` output (subtests are indented).
_RESULT = re.compile(r"^--- (PASS|FAIL|SKIP): (\S+) \((\d+(?:\.\d+)?)s\)$", re.MULTILINE)
_OUTCOMES: dict[str, Outcome] = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}


@dataclass
class GoCoverage:
    """The profiles of the coverage runs, each test's outcome alone, what ran and the notes."""

    profiles: list[Profile] = field(default_factory=list)
    results: dict[str, CaseResult] = field(default_factory=dict)
    executed: list[ExecutedCommand] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verbose_results(package: str, output: str) -> dict[str, CaseResult]:
    """Top-level test outcomes (`package.TestName` ids) from a test binary's `-test.v` output."""
    return {
        f"{package}.{name}": CaseResult(f"{package}.{name}", _OUTCOMES[word], "", float(secs))
        for word, name, secs in _RESULT.findall(output)
    }


def expected_s(package: str, head: Mapping[str, CaseResult]) -> float:
    """The time all of a package's tests took at the head (top-level tests), plus start-up."""
    return STARTUP_S + sum(
        r.duration_s
        for test_id, r in head.items()
        if (parts := go_test(test_id)) is not None and parts[0] == package and not parts[2]
    )


def _shown(argv: Sequence[str], folder: Path) -> str:
    """A command as the report prints it: the files deepreview keeps in `folder` by name."""
    return " ".join(a.replace(f"{folder}/", "") for a in argv)


class _OutOfTime(Exception):
    """A test run did not fit in the time left: its package falls back."""


class _Package:
    """One changed package's coverage: its test binary, its tests, its runs."""

    def __init__(self, run: Run, tree: Path, folder: Path, pattern: str, package: str) -> None:
        self.run, self.pattern, self.package = run, pattern, package
        # `_root`: the go tool ignores folders starting with `_`, so no package is named so.
        slug = "_root" if pattern == "." else pattern.removeprefix("./").replace("/", "-")
        self.binary = folder / f"{slug}.test"
        self.folder = folder
        self.cwd = tree if pattern == "." else tree / pattern.removeprefix("./")

    def record(self, execution: Execution, argv: Sequence[str]) -> ExecutedCommand:
        """The report's record of a run, deepreview's own files named by name."""
        return execution.record.model_copy(update={"command": _shown(argv, self.folder)})

    async def names(self) -> list[str] | None:
        """The binary's top-level tests, examples and fuzz targets (None: it could not list)."""
        listed = await self.run("list tests", [str(self.binary), "-test.list", ".*"], self.cwd, 60)
        if not listed.passed:
            return None
        lines = (line.strip() for line in listed.output.splitlines())
        return [n for n in lines if _NAME.fullmatch(n)]

    async def each(
        self, names: Sequence[str], deadline: float, out: GoCoverage, concurrency: int
    ) -> int:
        """Run each test alone with its own profile, `concurrency` at once, until `deadline`;
        the number that ran (all of them, or the package falls back: nothing is added to
        `out`, and the runs still going are stopped)."""
        slots = asyncio.Semaphore(concurrency)
        ran: dict[int, tuple[CaseResult, Profile, str]] = {}
        started = time.monotonic()

        async def one(i: int, name: str) -> None:
            async with slots:
                left = deadline - time.monotonic()
                if left <= STARTUP_S:
                    raise _OutOfTime
                profile = self.folder / f"{self.binary.stem}-{i}.out"
                argv = [str(self.binary), f"-test.run=^{name}$", f"-test.coverprofile={profile}"]
                last = await self.run("coverage of one test", argv, self.cwd, left)
            if last.record.timed_out:
                raise _OutOfTime
            test_id = f"{self.package}.{name}"
            outcome: Outcome = "passed" if last.passed else "failed"
            message = "" if last.passed else tail(last.output, 1500)
            result = CaseResult(test_id, outcome, message, last.record.duration_s)
            text = profile.read_text("utf-8", errors="replace") if profile.is_file() else ""
            blocks = Profile(frozenset({test_id}), tuple(read_profile(text)))
            ran[i] = result, blocks, last.record.where

        out_of_time = False
        try:
            async with asyncio.TaskGroup() as group:
                for i, name in enumerate(names):
                    group.create_task(one(i, name))
        except* _OutOfTime:
            out_of_time = True
        if out_of_time:
            return len(ran)
        in_order = [ran[i] for i in range(len(names))]
        out.profiles += [profile for _, profile, _ in in_order]
        out.results |= {result.id: result for result, _, _ in in_order}
        if names:
            name, stem = self.binary.name, self.binary.stem
            shown = f"{name} -test.run=^Name$ -test.coverprofile={stem}-N.out"
            out.executed.append(
                ExecutedCommand(
                    label=LABEL,
                    command=f"{shown}, once per top-level test ({len(names)} runs)",
                    where=in_order[0][2],
                    duration_s=round(time.monotonic() - started, 2),
                )
            )
        return len(names)

    async def together(self, names: Sequence[str], timeout_s: float, out: GoCoverage) -> bool:
        """Run all the tests in one process with one profile (they all cover what it runs)."""
        profile = self.folder / f"{self.binary.stem}.out"
        argv = [str(self.binary), "-test.v", f"-test.coverprofile={profile}"]
        ran = await self.run(LABEL, argv, self.cwd, max(timeout_s, STARTUP_S))
        out.executed.append(self.record(ran, argv))
        if ran.record.timed_out or not profile.is_file():
            return False
        tests = frozenset(f"{self.package}.{n}" for n in names)
        blocks = read_profile(profile.read_text("utf-8", errors="replace"))
        out.profiles.append(Profile(tests, tuple(blocks)))
        out.results |= verbose_results(self.package, ran.output)
        return True


async def per_test_coverage(
    run: Run,
    tree: Path,
    work: Path,
    module: str,
    patterns: Sequence[str],
    deadline: float,
    head: Mapping[str, CaseResult],
    concurrency: int,
) -> GoCoverage:
    """Coverage of the changed packages (`go test` patterns of `module` in `tree`) per
    top-level test, measuring all of them (`-coverpkg`), within `deadline`; `head` is the test
    run at the head (its durations keep time for the fallback runs of the packages still to go);
    `concurrency` single-test runs go at once, each confined and with its own profile file."""
    out = GoCoverage()
    folder = work / "go-cover"
    folder.mkdir(parents=True, exist_ok=True)
    packages = [import_path(module, p) for p in patterns]
    reserve = [sum(expected_s(p, head) for p in packages[i:]) for i in range(len(packages))]
    per_test = 0
    for i, (pattern, package) in enumerate(zip(patterns, packages, strict=True)):
        pkg = _Package(run, tree, folder, pattern, package)
        argv = ["go", "test", "-c", "-cover", "-covermode=count"]
        argv += [f"-coverpkg={','.join(patterns)}", "-o", str(pkg.binary), pattern]
        build = await run("coverage test binary", argv, tree, max(deadline - time.monotonic(), 30))
        out.executed.append(pkg.record(build, argv))
        if not build.passed:
            why = tail(build.output.strip(), 300)
            out.notes.append(f"The tests of `{pattern}` did not build: not measured ({why}).")
            continue
        if not pkg.binary.is_file():
            continue  # no test files
        names = await pkg.names()
        if names is None:
            out.notes.append(f"The test binary of `{pattern}` could not list its tests.")
            continue
        if len(names) > MAX_TESTS:
            why = f"it has {len(names)} tests, more than {MAX_TESTS}"
        else:
            ran = await pkg.each(names, deadline - reserve[i], out, concurrency)
            if ran == len(names):
                per_test += ran
                continue
            why = f"the time ran out after {ran} of its {len(names)} tests"
        if await pkg.together(names, deadline - time.monotonic(), out):
            out.notes.append(
                f"Go coverage of `{pattern}` is package-wide ({why}): its tests ran together, "
                "and a mutant of a line they execute runs all of them."
            )
        else:
            out.notes.append(f"The coverage run of `{pattern}`'s tests hit its time limit.")
    if per_test:
        out.notes.append(
            f"Go coverage was measured per test: {per_test} top-level test(s) each ran alone "
            "with its own profile, and a mutant runs only the tests that execute its line."
        )
    return out
