"""Severity of a merged finding, decided on the evidence, with every change recorded."""

from __future__ import annotations

import re
from collections.abc import Sequence

from deepreview.consolidate.claim import Claim
from deepreview.schema import SEVERITIES, Severity, SeverityChange

RANK: dict[Severity, int] = {s: n for n, s in enumerate(SEVERITIES)}
SHORT: dict[Severity, str] = {"critical": "C", "important": "I", "suggestion": "S"}

#: Words by which a reviewer concedes its own finding matters little.
_HEDGE = re.compile(
    r"\b(unreachable|not reachable|low[- ]risk|cosmetic|theoretical(?:ly)?|"
    r"purely stylistic|unlikely in practice)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(not|never|isn't|is not|hardly|no longer)\s+(?:\w+\s+){0,2}$", re.I)


def hedge(text: str) -> str | None:
    """The first word in `text` that calls the finding low-stakes, unless it is negated."""
    for match in _HEDGE.finditer(text):
        if not _NEGATION.search(text[max(0, match.start() - 40) : match.start()]):
            return match.group(1).lower()
    return None


def lower(severity: Severity) -> Severity:
    """One step less severe (suggestion stays suggestion)."""
    return SEVERITIES[min(RANK[severity] + 1, len(SEVERITIES) - 1)]


def decide(members: Sequence[Claim]) -> tuple[Severity, list[SeverityChange]]:
    """The most severe claim among `members`, each lowered one step when its own text hedges;
    plus a SeverityChange for every member whose severity differs from the result."""
    effective: list[tuple[Severity, str | None]] = []
    for c in members:
        word = hedge(f"{c.finding.title}\n{c.finding.body}")
        own = c.finding.severity
        effective.append((lower(own) if word else own, word))
    result = min((sev for sev, _ in effective), key=RANK.__getitem__)
    decisive = next(c for c, (sev, _) in zip(members, effective, strict=True) if sev == result)
    changes: list[SeverityChange] = []
    for c, (_, word) in zip(members, effective, strict=True):
        own = c.finding.severity
        if own == result:
            continue
        if RANK[own] < RANK[result]:  # only a hedge lowers a claim below its own rating
            reason = f"its own text calls it {word}"
        else:
            reason = f"merged with {decisive.agent} {decisive.finding.id}, which supports {result}"
        changes.append(
            SeverityChange(
                agent=c.agent,
                finding_id=c.finding.id,
                from_severity=own,
                to_severity=result,
                reason=reason,
            )
        )
    return result, changes


def change_label(change: SeverityChange) -> str:
    """`I→S` style label of a change."""
    return f"{SHORT[change.from_severity]}→{SHORT[change.to_severity]}"
