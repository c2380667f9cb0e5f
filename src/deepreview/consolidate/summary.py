"""The executive summary, generated from the consolidated data."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from deepreview.consolidate.consensus import join_words, mention
from deepreview.consolidate.retro import contributes
from deepreview.consolidate.verdict import NAMED, decisive, nothing_found
from deepreview.diff import Diff
from deepreview.schema import AgentRun, ConsolidatedFinding, DroppedFinding


def build_summary(
    runs: Sequence[AgentRun],
    findings: Sequence[ConsolidatedFinding],
    dropped: Sequence[DroppedFinding],
    diff: Diff | None,
    families: Mapping[str, str],
) -> str:
    """Paragraphs: scope and reviewers, the counts line, the decisive findings, verification."""
    reviewers = [r.display_name for r in runs if contributes(r)]
    failed = [f"{r.display_name} ({r.reason or r.status})" for r in runs if not contributes(r)]
    scope = []
    if diff is not None:
        added = sum(f.added_count for f in diff.files)
        deleted = sum(f.deleted_count for f in diff.files)
        n = len(diff.files)
        scope.append(f"The change touches {n} file{'s' if n != 1 else ''} (+{added} −{deleted}).")
    if reviewers:
        scope.append(f"Reviewed by {join_words(reviewers)}.")
    if failed:
        verb = "was" if len(failed) == 1 else "were"
        scope.append(f"{join_words(failed)} {verb} unable to review it.")
    paragraphs = [" ".join(scope)] if scope else []
    described = _change_described(runs)
    if described:
        paragraphs.append(described)
    top = decisive(findings)
    if top:
        named = [mention(f, len(reviewers), families) for f in top[:NAMED]]
        label = "Decisive finding" if len(top) == 1 else "Decisive findings"
        paragraphs.append(f"{label}: {'; '.join(named)}.")
    else:
        paragraphs.append(nothing_found(len(dropped)))
    rejected = sum(1 for d in dropped if d.kind == "false-positive")
    declined = sum(1 for d in dropped if d.kind == "declined")
    checks = []
    if rejected:
        checks.append(f"{rejected} claim{'s' if rejected != 1 else ''} failed verification")
    if declined:
        checks.append(f"{declined} repeated a finding declined in an earlier round")
    if checks:
        paragraphs.append(f"Dropped: {'; '.join(checks)}.")
    return "\n\n".join(paragraphs)


#: Sentences of an agent's own summary quoted to say what the change does.
SUMMARY_SENTENCES = 2


def _change_described(runs: Sequence[AgentRun]) -> str | None:
    """What the change does, in the words of the first AI agent that summarized it."""
    for run in runs:
        if run.kind != "ai" or not contributes(run) or run.review is None:
            continue
        text = " ".join(run.review.summary.split())
        if len(text) < 20:
            continue
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`*])", text)
        return f"{run.display_name}: “{' '.join(sentences[:SUMMARY_SENTENCES])}”"
    return None
