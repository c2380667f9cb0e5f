"""The agent performance retro: one column of metrics and a short narrative per agent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from deepreview.consolidate.consensus import join_words, number_word, short_title
from deepreview.consolidate.paths import normalize_path
from deepreview.consolidate.severity import RANK, SHORT, change_label
from deepreview.schema import AgentRun, ConsolidatedFinding, DroppedFinding, RetroRow

#: Findings named individually in a narrative sentence.
NAMED = 3


def contributes(run: AgentRun) -> bool:
    """Whether the run's findings take part in consolidation (a timed-out run's partial
    findings do)."""
    return run.review is not None and (run.status == "ok" or run.partial)


def build_retro(
    runs: Sequence[AgentRun],
    findings: Sequence[ConsolidatedFinding],
    dropped: Sequence[DroppedFinding],
    changed_paths: Sequence[str] | None,
) -> list[RetroRow]:
    """One RetroRow per run, in run order (failed runs included, with no duration)."""
    return [_row(run, findings, dropped, changed_paths) for run in runs]


def _row(
    run: AgentRun,
    findings: Sequence[ConsolidatedFinding],
    dropped: Sequence[DroppedFinding],
    changed_paths: Sequence[str] | None,
) -> RetroRow:
    name = run.display_name
    tools = dict(sorted(run.tool_calls.items(), key=lambda kv: (-kv[1], kv[0])))
    if not contributes(run) or run.review is None:
        return RetroRow(
            agent=name,
            duration_s=run.duration_s if run.status == "ok" else None,
            tool_calls=tools,
            narrative=_failed_narrative(run),
        )
    review = run.review
    own = Counter(f.severity for f in review.findings)
    mine = [f for f in findings if name in f.agents]
    unique = [f for f in mine if len(f.agents) == 1]
    # A deterministic check applies only its own rules: what others found is not its miss.
    missed = [] if run.kind != "ai" else [f for f in findings if name not in f.agents]
    my_drops = [d for d in dropped if d.agent == name]
    false_pos = [d for d in my_drops if d.kind == "false-positive"]
    downgraded = Counter(
        change_label(c)
        for f in findings
        for c in f.severity_changes
        if c.agent == name and RANK[c.to_severity] > RANK[c.from_severity]
    )
    row = RetroRow(
        agent=name,
        duration_s=run.duration_s,
        critical=own["critical"],
        important=own["important"],
        suggestion=own["suggestion"],
        tool_calls=tools,
        design_observations=len(review.concerns) + len(review.strengths),
        false_positives=len(false_pos),
        unique_insights=len(unique),
        files_reviewed=_files_reviewed(run, changed_paths),
        coverage_misses=len(missed),
        downgraded=dict(sorted(downgraded.items())),
        dropped=len(my_drops),
    )
    narrative = _narrative(row, len(review.findings), mine, unique, missed, false_pos)
    narrative += _cost_sentence(run, len(mine))
    if changed_paths and row.files_reviewed is not None:
        narrative += f" It looked at {row.files_reviewed} of {len(changed_paths)} changed files."
    if run.partial:
        narrative += (
            f" It did not finish ({run.reason or run.status}): its findings are partial, "
            "what it had written before it was stopped."
        )
    return row.model_copy(update={"narrative": narrative})


def judgement(reported: int, kept: int, unique: int, false_positives: int) -> str:
    """The retro's verdict on one agent, from its figures alone: nothing reported; more claims
    rejected than kept is noise; a finding only it raised earns its place; else it confirmed
    others."""
    if reported == 0:
        return "found nothing to report here"
    if false_positives > kept:
        return "was more noise than signal here: more of its claims failed verification than held"
    if unique:
        only = f"{number_word(unique)} finding{'s' if unique != 1 else ''}"
        return f"earned its place: {only} in the report came from it alone"
    return "added nothing of its own: what it kept, other agents also raised"


def _cost_sentence(run: AgentRun, kept: int) -> str:
    if run.cost_usd is None:
        return ""
    cost = f"${run.cost_usd:,.2f}"
    if kept:
        return f" It cost {cost}, ${run.cost_usd / kept:,.2f} per finding kept."
    return f" It cost {cost} and no finding of it was kept."


def compact_counts(critical: int, important: int, suggestion: int) -> str:
    """`1I 3S`; `0` when there are none."""
    parts = [
        f"{n}{SHORT[s]}" for s, n in zip(SHORT, (critical, important, suggestion), strict=True) if n
    ]
    return " ".join(parts) or "0"


def _files_reviewed(run: AgentRun, changed_paths: Sequence[str] | None) -> int | None:
    """Changed files the agent read (from its trace), else those its coverage marks reviewed."""
    changed = set(changed_paths) if changed_paths is not None else None
    if changed is not None and run.files_read:
        return len({p for raw in run.files_read if (p := _in_changed(raw, changed))})
    coverage = run.review.coverage if run.review is not None else []
    reviewed = {normalize_path(c.path) for c in coverage if c.reviewed}
    reviewed.discard(None)
    if not reviewed:
        return None
    return len(reviewed & changed) if changed is not None else len(reviewed)


def _in_changed(raw: str, changed: set[str]) -> str | None:
    """The changed path `raw` names; absolute paths match by their trailing components."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    for i in range(len(parts)):
        candidate = "/".join(parts[i:])
        if candidate in changed:
            return candidate
        if not raw.startswith("/"):
            break
    return None


def _failed_narrative(run: AgentRun) -> str:
    if run.status == "ok":
        return f"{run.display_name} finished but returned no review that could be read."
    why = run.reason or run.status
    return f"{run.display_name} did not complete ({why}); nothing it found is in this report."


def _ids(findings: Sequence[ConsolidatedFinding], titles: bool) -> str:
    named = [f"{f.id} {short_title(f.title)}" if titles else f.id for f in findings[:NAMED]]
    if len(findings) > NAMED:
        named.append(f"{number_word(len(findings) - NAMED)} more")
    return join_words(named)


def _narrative(
    row: RetroRow,
    reported: int,
    mine: Sequence[ConsolidatedFinding],
    unique: Sequence[ConsolidatedFinding],
    missed: Sequence[ConsolidatedFinding],
    false_pos: Sequence[DroppedFinding],
) -> str:
    counts = compact_counts(row.critical, row.important, row.suggestion)
    verdict = judgement(reported, len(mine), len(unique), len(false_pos))
    sentences = [
        f"{row.agent} {verdict}",
        f"It reported {reported} finding{'s' if reported != 1 else ''}",
    ]
    if reported:
        sentences[1] += f" ({counts}); {len(mine)} made the report"
    if unique:
        sentences.append(f"Only it raised {_ids(unique, titles=True)}")
    if false_pos:
        which = "; ".join(f"{d.finding_id}: {d.reason}" for d in false_pos[:NAMED])
        sentences.append(f"{len(false_pos)} rejected on verification ({which})")
    elif reported:
        sentences.append("Every claim held up against the code")
    if row.downgraded:
        labels = ", ".join(f"{n} {label}" for label, n in row.downgraded.items())
        sentences.append(f"Severity lowered: {labels}")
    if missed:
        sentences.append(f"It missed {_ids(missed, titles=False)}, raised by others")
    return ". ".join(sentences) + "."
