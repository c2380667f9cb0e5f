"""Match this round's findings with the previous round's: fixed, still present, changed,
unaddressed (carried over) or new."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from rapidfuzz import fuzz

from deepreview.consolidate.severity import RANK
from deepreview.diff import Diff
from deepreview.prior import PriorRecord
from deepreview.schema import (
    SEVERITY_LETTER,
    AgentRun,
    ConsolidatedFinding,
    Location,
    PriorFinding,
    PriorStatus,
)

__all__ = ["follow", "match_rounds"]

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


def follow(since: Diff, loc: Location) -> Location | None:
    """Where the lines `loc` cited at the previous head are at the new head (`since`: the
    diff between the two heads), or None when the new commits changed them:
    a hunk removes or replaces one of them or inserts lines between them, or the file is
    deleted (a place without lines: the file changed at all)."""
    fd = since.file(loc.path)
    if fd is None or fd.old_path != loc.path:
        return loc
    if fd.status == "deleted" or fd.is_binary:
        return None
    path = fd.new_path or loc.path
    if loc.start_line is None:
        return None if fd.hunks else loc.model_copy(update={"path": path})
    start, end = loc.start_line, max(loc.end_line or loc.start_line, loc.start_line)
    shift = 0
    for h in fd.hunks:
        at = h.old_start if h.old_count else h.old_start + 1  # old line the next one precedes
        for line in h.lines:
            if line.kind == "deleted" and line.old_lineno is not None:
                if start <= line.old_lineno <= end:
                    return None
                shift -= line.old_lineno < start
                at = line.old_lineno + 1
            elif line.kind == "added":
                if start < at <= end:  # inserted between two cited lines
                    return None
                shift += at <= start
            elif line.old_lineno is not None:
                at = line.old_lineno + 1
    moved = loc.end_line + shift if loc.end_line is not None else None
    return loc.model_copy(update={"path": path, "start_line": start + shift, "end_line": moved})


def match_rounds(
    findings: Sequence[ConsolidatedFinding],
    prior: Sequence[PriorRecord],
    runs: Sequence[AgentRun] = (),
    since: Diff | None = None,
    declined: Collection[str] = (),
) -> tuple[list[ConsolidatedFinding], list[PriorFinding]]:
    """Mark each current finding new/still-present/changed and say what became of each prior one.

    A prior finding matches a current one with the same fingerprint, else one in the same file
    with a similar title (then it is "changed" when its severity moved). A prior finding nothing
    matches is fixed only on evidence: an agent says so, or the new commits changed its cited
    lines (`since`, the diff between the two heads; None: unknown). Otherwise it is carried
    over as a finding of this round at its place in the new head: still present when an agent
    says so, else unaddressed. A declined one (its fingerprint in `declined`) is never carried.
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
    counters = {letter: 0 for letter in SEVERITY_LETTER.values()}
    for f in findings:
        letter = SEVERITY_LETTER[f.severity]
        if f.id.startswith(letter) and f.id[1:].isdigit():
            counters[letter] = max(counters[letter], int(f.id[1:]))
    outcome: list[PriorFinding] = []
    for p in prior:
        common = {"id": p.id, "fingerprint": p.fingerprint, "title": p.title}
        if p.id in matched:
            outcome.append(
                PriorFinding(
                    **common,
                    status="still-present" if status[p.id] == "still-present" else "changed",
                    current_id=matched[p.id].id,
                )
            )
            continue
        said = _agent_says(runs, p.id)
        kept_open = said != "fixed" and p.fingerprint not in declined
        now = _still_there(p, since) if kept_open else None
        if now is None:
            outcome.append(PriorFinding(**common, status="fixed"))
            continue
        kept: Literal["still-present", "unaddressed"] = (
            "still-present" if said == "still-present" else "unaddressed"
        )
        carried = _carried(p, now, kept, counters)
        updated.append(carried)
        outcome.append(PriorFinding(**common, status=kept, current_id=carried.id))
    if len(updated) > len(findings):
        updated.sort(key=lambda f: RANK[f.severity])
    return updated, outcome


def _still_there(p: PriorRecord, since: Diff | None) -> list[Location] | None:
    """The prior finding's places at the new head, or None when the new commits changed
    them (without `since`, nothing says they changed)."""
    places = p.locations
    if since is None:
        return places
    followed = [follow(since, loc) for loc in places]
    if not places or any(loc is None for loc in followed):
        return None if places else []
    return [loc for loc in followed if loc is not None]


def _carried(
    p: PriorRecord, places: list[Location], status: PriorStatus, counters: dict[str, int]
) -> ConsolidatedFinding:
    """The prior finding as a finding of this round, numbered after this round's own."""
    severity = p.finding.severity if p.finding is not None else p.severity_level
    letter = SEVERITY_LETTER[severity]
    counters[letter] += 1
    update = {
        "id": f"{letter}{counters[letter]}",
        "locations": places,
        "prior_status": status,
        "sources": [],  # no agent of this round raised it
        "anchor": None,
        "fix_patch": None,
    }
    if p.finding is not None:
        return p.finding.model_copy(update=update)
    return ConsolidatedFinding(
        fingerprint=p.fingerprint, severity=severity, title=p.title, agents=[], **update
    )
