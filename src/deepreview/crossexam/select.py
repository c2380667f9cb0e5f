"""Which findings are cross-examined, and by whom. Pure.

A finding is examined when its consolidated severity is one of the configured ones and every
agent that raised it is an AI agent of one and the same vendor; its examiner is the AI agent of
another vendor with a completed review that has the fewest examinations so far (the earlier
run on ties). Nothing is examined unless AI agents of two or more vendors completed a review,
nor a finding its own repro reproduced (execution already corroborates it).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from deepreview.consolidate.consensus import family_of
from deepreview.consolidate.reproductions import REPRODUCED
from deepreview.schema import AgentRun, ConsolidatedFinding


@dataclass(frozen=True)
class Assignment:
    """One finding and the run of the agent that examines it."""

    finding: ConsolidatedFinding
    examiner: AgentRun
    vendor: str
    """The vendor that raised the finding."""


def examiners(runs: Sequence[AgentRun], families: Mapping[str, str]) -> dict[str, list[AgentRun]]:
    """AI runs with a completed review, by vendor (in run order)."""
    out: dict[str, list[AgentRun]] = {}
    for run in runs:
        if run.kind == "ai" and run.status == "ok" and run.review is not None:
            out.setdefault(family_of(run, families), []).append(run)
    return out


def lone_vendor(
    finding: ConsolidatedFinding, by_name: Mapping[str, AgentRun], families: Mapping[str, str]
) -> str | None:
    """The vendor that alone raised `finding`, when only AI agents of one vendor did."""
    runs = [by_name.get(agent) for agent in finding.agents]
    if not runs or any(r is None or r.kind != "ai" for r in runs):
        return None
    vendors = {family_of(r, families) for r in runs if r is not None}
    return vendors.pop() if len(vendors) == 1 else None


def assign(
    findings: Sequence[ConsolidatedFinding],
    runs: Sequence[AgentRun],
    families: Mapping[str, str],
    severities: Collection[str],
) -> list[Assignment]:
    """The examinations to run, in report order (see the module docstring)."""
    pool = examiners(runs, families)
    if len(pool) < 2:
        return []
    by_name = {r.display_name: r for r in runs}
    load: dict[str, int] = {r.display_name: 0 for group in pool.values() for r in group}
    order = {r.display_name: n for n, r in enumerate(runs)}
    out: list[Assignment] = []
    for finding in findings:
        if finding.severity not in severities or finding.reproduction in REPRODUCED:
            continue
        vendor = lone_vendor(finding, by_name, families)
        if vendor is None:
            continue
        others = [r for v, group in pool.items() if v != vendor for r in group]
        if not others:
            continue
        chosen = min(others, key=lambda r: (load[r.display_name], order[r.display_name]))
        load[chosen.display_name] += 1
        out.append(Assignment(finding, chosen, vendor))
    return out
