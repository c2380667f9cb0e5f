"""The mutation probes of one suite, run within the budget: against the tests that run each
mutated line where coverage was measured, else against the whole command."""

from __future__ import annotations

import time
from collections.abc import Sequence

from deepreview.agents.scan_files import is_test_path
from deepreview.schema import ExecutedCommand, Mutation
from deepreview.verify.findings import mutant_findings
from deepreview.verify.lines import IMPORT_TIME, FileLines
from deepreview.verify.mutate import file_mutants
from deepreview.verify.probe import Probe, plan, probe_all
from deepreview.verify.suite import SuiteRun, did_not_build, go_selection
from deepreview.verify.suite_state import SuiteState


async def probe_lines(part: SuiteState, head: SuiteRun, selection: Sequence[str]) -> list[Mutation]:
    """Without a coverage measurement: each mutant of the added code lines (Python's
    syntax-aware ones, else line deletions) against the whole command."""
    if head.failed():
        return []  # a failing command cannot tell a mutant from the change
    code = {p: n for p, n in part.added.items() if not is_test_path(p)}
    every = {
        p: FileLines(p, n, dict.fromkeys(n, frozenset({IMPORT_TIME}))) for p, n in code.items()
    }
    probes = plan(part.scratch.head_tree, every, head, selection, file_mutants)
    if not probes:
        return []
    part.notes.append(
        "Mutation probes without coverage: each mutant of the added lines (deleting a "
        "statement line outside Python) ran the whole command."
    )
    return await run_probes(part, probes, head)


async def run_probes(part: SuiteState, probes: Sequence[Probe], head: SuiteRun) -> list[Mutation]:
    """Run the mutation probes within the budget; `head` is a run of the suite whose
    start-up (its duration less its tests') each mutant's run is expected to take too."""

    async def run_probe(probe: Probe, timeout: float) -> SuiteRun | None:
        tests = go_selection(probe.tests) if part.go else probe.tests
        run = await part.runner.run(
            "mutant", part.tree, part.where, timeout, tests, stop_early=True
        )
        built = part.pytest or not did_not_build(run.execution.output)
        return run if built else None

    t0 = time.monotonic()
    tests_s = sum(t.duration_s for t in head.results.values())
    startup = max(1.0, head.execution.record.duration_s - tests_s)
    probed = await probe_all(
        part.scratch.head_tree,
        probes,
        run_probe,
        part.scratch.deadline,
        part.scratch.waiting_for_others,
        startup,
    )
    mutations = [m for _, m in probed]
    if len(probed) < len(probes):
        part.notes.append(
            f"{len(probes) - len(probed)} mutant(s) did not compile and are not counted."
        )
    ran = [m for m in mutations if m.outcome != "not run"]
    caught = sum(m.outcome != "survived" for m in ran)
    if ran:
        part.scratch.executed.append(
            ExecutedCommand(
                label="mutation probes",
                command=f"{len(ran)} runs of the covering tests, one mutant each",
                where=part.where,
                duration_s=round(time.monotonic() - t0, 2),
            )
        )
    if ran:
        part.text.append(
            f"Of {len(ran)} mutations of the changed lines, the suite caught {caught}."
        )
    if len(ran) < len(mutations):
        part.notes.append(
            f"{len(mutations) - len(ran)} of {len(mutations)} mutations were not run: the "
            f"time budget ({part.req.budget_s:g} s) ran out."
        )
    part.findings += mutant_findings(probed)
    return mutations
