"""The verdict, decided by rule from the consolidated findings alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deepreview.consolidate.consensus import join_words, mention, number_word
from deepreview.schema import ConsolidatedFinding, Decision, Severity, Verdict

#: Findings named in the one-sentence reason.
NAMED = 3

#: Severity, decision, and how the reason sentence ends ({} lists the named findings).
_RULES: tuple[tuple[Severity, Decision, str], ...] = (
    ("critical", "Rework", "{} must be fixed before merging."),
    ("important", "Merge with fixes", "{} should be fixed before merging."),
    ("suggestion", "Merge with optional fixes", "Only suggestions: {}."),
)


def decisive(findings: Sequence[ConsolidatedFinding]) -> list[ConsolidatedFinding]:
    """The findings of the most severe level present (in report order)."""
    for severity, _, _ in _RULES:
        level = [f for f in findings if f.severity == severity]
        if level:
            return level
    return []


def nothing_found(dropped: int) -> str:
    """The reason for Merge as-is: nothing raised, or nothing that held up."""
    if dropped:
        return f"No finding survived verification ({dropped} dropped)."
    return "No reviewer raised a finding."


def decide_verdict(
    findings: Sequence[ConsolidatedFinding],
    total_agents: int,
    families: Mapping[str, str],
    dropped: int = 0,
) -> Verdict:
    """Rework on any critical; Merge with fixes on any important; Merge with optional fixes
    when only suggestions remain; else Merge as-is. The reason names at most NAMED decisive
    findings with how many agents agree on each."""
    top = decisive(findings)
    if not top:
        return Verdict(decision="Merge as-is", reason=nothing_found(dropped))
    severity = top[0].severity
    decision, sentence = next((d, t) for s, d, t in _RULES if s == severity)
    named = [mention(f, total_agents, families) for f in top[:NAMED]]
    rest = len(top) - NAMED
    if rest > 0:
        label = "suggestion" if severity == "suggestion" else f"{severity} finding"
        named.append(f"{number_word(rest)} more {label}{'s' if rest > 1 else ''}")
    return Verdict(decision=decision, reason=sentence.format(join_words(named)))
