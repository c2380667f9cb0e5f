"""The whole verification of one change, suite by suite (the root's, each changed Go module's
in its folder): tests at the head (and at the merge base when some fail), changed-line coverage,
mutation probes; findings and the Testing Assessment's facts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from deepreview.schema import Verification
from deepreview.verify.findings import rubric, uncovered
from deepreview.verify.request import VerifyOutcome, VerifyRequest
from deepreview.verify.scratch import copy_tree
from deepreview.verify.scratch_area import ScratchArea
from deepreview.verify.suite_verifier import SuiteVerifier

#: A suite after the first runs only with at least this many seconds of the budget left.
TURN_S = 5.0


def _outcome(scratch: ScratchArea, parts: Sequence[SuiteVerifier]) -> VerifyOutcome:
    """The findings, the Testing Assessment paragraph and the executed facts of all the
    suites; with more than one, each sentence and note names the suite it is about."""
    several = len(parts) > 1

    def said(part: SuiteVerifier, lines: Sequence[str]) -> list[str]:
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
        uncovered=uncovered(measured),
        mutations=mutations,
        rubric=rubric(measured, mutations),
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
    scratch = ScratchArea(req, head_tree, started + req.budget_s)
    parts = [SuiteVerifier(scratch, suite) for suite in req.suites]
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
