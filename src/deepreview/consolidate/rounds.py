"""Match this round's findings with the previous round's: fixed, still present, changed, new."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from deepreview.prior import PriorRecord
from deepreview.schema import AgentRun, ConsolidatedFinding, PriorFinding

#: Title similarity (0-100) above which two findings in one file are the same issue.
SAME_ISSUE_SIMILARITY = 75.0


def _path(f: ConsolidatedFinding) -> str:
    return f.locations[0].path if f.locations else ""


def _agent_says(runs: Sequence[AgentRun], prior_id: str) -> str | None:
    """The agents' majority verdict on a prior finding, if any agent gave one."""
    votes: dict[str, int] = {}
    for run in runs:
        if run.review is None:
            continue
        for v in run.review.prior_findings:
            if v.finding_id == prior_id:
                votes[v.status] = votes.get(v.status, 0) + 1
    if not votes:
        return None
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def match_rounds(
    findings: Sequence[ConsolidatedFinding],
    prior: Sequence[PriorRecord],
    runs: Sequence[AgentRun] = (),
) -> tuple[list[ConsolidatedFinding], list[PriorFinding]]:
    """Mark each current finding new/still-present/changed and say what became of each prior one.

    A prior finding matches a current one with the same fingerprint, else one in the same file
    with a similar title (then it is "changed" when its severity moved). A prior finding nothing
    matches is fixed, unless the agents' own verdicts on it say it is still present.
    """
    if not prior:
        return list(findings), []
    matched: dict[str, ConsolidatedFinding] = {}
    status: dict[str, str] = {}
    taken: set[str] = set()
    by_fp = {f.fingerprint: f for f in findings}
    for p in prior:
        cur = by_fp.get(p.fingerprint)
        if cur is not None and cur.id not in taken:
            matched[p.id], status[p.id] = (
                cur,
                ("still-present" if cur.severity == p.severity else "changed"),
            )
            taken.add(cur.id)
    for p in prior:
        if p.id in matched:
            continue
        best: tuple[float, ConsolidatedFinding] | None = None
        for cur in findings:
            if cur.id in taken or _path(cur) != p.path:
                continue
            score = fuzz.token_set_ratio(cur.title.lower(), p.title.lower())
            if score >= SAME_ISSUE_SIMILARITY and (best is None or score > best[0]):
                best = (score, cur)
        if best is not None:
            matched[p.id], status[p.id] = best[1], "changed"
            taken.add(best[1].id)
    current_status = {
        m.id: ("still-present" if status[pid] == "still-present" else "changed")
        for pid, m in matched.items()
    }
    updated = [
        f.model_copy(update={"prior_status": current_status.get(f.id, "new")}) for f in findings
    ]
    outcome: list[PriorFinding] = []
    for p in prior:
        if p.id in matched:
            outcome.append(
                PriorFinding(
                    id=p.id,
                    fingerprint=p.fingerprint,
                    title=p.title,
                    status="still-present" if status[p.id] == "still-present" else "changed",
                    current_id=matched[p.id].id,
                )
            )
            continue
        said = _agent_says(runs, p.id)
        outcome.append(
            PriorFinding(
                id=p.id,
                fingerprint=p.fingerprint,
                title=p.title,
                status="still-present" if said == "still-present" else "fixed",
            )
        )
    return updated, outcome
