"""Agents' repros as evidence: the claim each belongs to, and what its label says of it.

`verify` runs the repros and labels them (`deepreview.verify.repro`); here they are matched to
their claims by agent and finding id. A reproduced claim (*reproduced* or *fix verified*)
counts as a second opinion in the severity rule, a *not reproduced* one one step lower
(`consolidate.severity`, rules 6 and 7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from deepreview.schema import AgentRun, Reproduction, ReproLabel

#: Labels by the strength of what they show, strongest first: a finding shows the strongest.
STRENGTH: tuple[ReproLabel, ...] = ("fix verified", "reproduced", "inconclusive", "not reproduced")
REPRODUCED: frozenset[ReproLabel] = frozenset({"reproduced", "fix verified"})

Key = tuple[str, str]


def repros_by_claim(runs: Sequence[AgentRun]) -> dict[Key, Reproduction]:
    """Every repro `verify` ran, by (agent registry name, finding id)."""
    return {
        (r.agent, r.finding_id): r
        for run in runs
        if run.verification is not None
        for r in run.verification.reproductions
    }


def strongest(labels: Iterable[ReproLabel]) -> ReproLabel | None:
    """The label that shows the most of several (None: no repro)."""
    found = set(labels)
    return next((label for label in STRENGTH if label in found), None)


def note(repro: Reproduction) -> str:
    """The claim's Reconciliation note: `repro reproduced: <reason>`."""
    return f"repro {repro.label}: {repro.reason}"


def placed(repros: Mapping[Key, Reproduction], into: Mapping[Key, str]) -> list[Reproduction]:
    """Every repro, with the id of the report finding its claim became (`into`), those of
    kept findings first in report order."""
    order = {cid: n for n, cid in enumerate(dict.fromkeys(into.values()))}
    out = [r.model_copy(update={"consolidated_id": into.get(k)}) for k, r in repros.items()]
    return sorted(out, key=lambda r: (order.get(r.consolidated_id or "", len(order)), r.reviewer))
