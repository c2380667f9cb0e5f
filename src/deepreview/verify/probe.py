"""Mutation probes: each mutant of an added line in turn, against only the tests that cover it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepreview.schema import Location, Mutation
from deepreview.verify.lines import IMPORT_TIME, FileLines
from deepreview.verify.mutate import Mutant, python_mutants, spread
from deepreview.verify.suite import SuiteRun, node_file

#: The mutants of a file's given lines: (path, text, lines) -> mutants.
MutantSource = Callable[[str, str, frozenset[int]], list[Mutant]]

#: Above this many covering tests, their files are run instead of the single ids.
MAX_IDS = 200
#: A mutant's run is killed (and counted caught) only after this many times its expected time.
TIMEOUT_FACTOR = 4.0


@dataclass(frozen=True)
class Probe:
    """A mutant and the tests to run against it."""

    path: str
    mutant: Mutant
    tests: tuple[str, ...]
    expected_s: float


def _python(path: str, text: str, lines: frozenset[int]) -> list[Mutant]:
    return python_mutants(text, lines)


def plan(
    tree: Path,
    measured: Mapping[str, FileLines],
    head: SuiteRun,
    suite: Sequence[str],
    mutants: MutantSource = _python,
) -> list[Probe]:
    """Probes for every mutant of a covered added line, run against the covering tests that
    pass at the head; lines run only at import time are probed with the whole selection
    `suite` when it passes."""
    durations = {t.id: t.duration_s for t in head.results.values() if t.outcome == "passed"}
    whole_suite = not head.failed()
    probes: list[Probe] = []
    for path, lines in sorted(measured.items()):
        text = (tree / path).read_text(encoding="utf-8", errors="replace")
        for mutant in mutants(path, text, lines.executed):
            covering = sorted(lines.tests.get(mutant.line, frozenset()) - {IMPORT_TIME})
            passing = [t for t in covering if t in durations]
            if passing:
                ids = passing if len(passing) <= MAX_IDS else sorted(set(map(node_file, passing)))
                expected = sum(durations.get(t, 0.0) for t in passing)
            elif whole_suite:
                ids, expected = list(suite), sum(durations.values())
            else:
                continue  # only tests that pass at the head can notice a mutant
            probes.append(Probe(path, mutant, tuple(ids), expected))
    by_file: dict[str, list[Probe]] = {}
    for p in probes:
        by_file.setdefault(p.path, []).append(p)
    ordered = [
        next(p for p in group if p.mutant is m)
        for group in by_file.values()
        for m in spread([p.mutant for p in group])
    ]
    return ordered


async def probe_all(
    tree: Path,
    probes: Sequence[Probe],
    run: Callable[[Probe, float], Awaitable[SuiteRun | None]],
    deadline: float,
    more_time: Callable[[], bool] = lambda: False,
    startup_s: float = 5.0,
) -> list[tuple[Probe, Mutation]]:
    """Apply each probe's mutant in `tree`, run its tests (`run(probe, timeout)` returns a
    SuiteRun, or None when the mutant did not build: it is left out), restore the file;
    `startup_s` is a test process's own start-up time here (a mutant is killed at four times
    its expected time). Probes that do not fit before `deadline` are "not run", unless
    `more_time()` says the review is still waiting for other agents anyway."""
    out: list[tuple[Probe, Mutation]] = []
    for probe in probes:
        loc = Location(path=probe.path, start_line=probe.mutant.line)
        expected = probe.expected_s + startup_s
        timeout = TIMEOUT_FACTOR * expected
        if time.monotonic() + expected > deadline and not more_time():
            mutation = Mutation(
                location=loc, description=probe.mutant.description, outcome="not run"
            )
            out.append((probe, mutation))
            continue
        target = tree / probe.path
        original = target.read_bytes()
        target.write_text(probe.mutant.text, encoding="utf-8")
        try:
            result = await run(probe, timeout)
        finally:
            target.write_bytes(original)
        if result is None:
            continue
        record = result.execution.record
        outcome = (
            "timeout" if record.timed_out else "survived" if result.execution.passed else "caught"
        )
        mutation = Mutation(
            location=loc,
            description=probe.mutant.description,
            outcome=outcome,
            tests=len(probe.tests),
        )
        out.append((probe, mutation))
    return out
