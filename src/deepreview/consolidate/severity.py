"""Severity of a merged finding, decided on the evidence, with every change recorded.

Rules, applied to the claims that survived grounding:

1. One opinion per vendor: a vendor's opinion is the most severe claim its agents make (two
   models of one vendor are one opinion).
2. Corroboration: the finding takes the most severe level that at least two vendors' opinions
   reach; raised by one vendor only, it takes that vendor's level.
3. A critical needs a second vendor: when several vendors reviewed the change and only one
   calls the finding critical, it is important (analyzer and built-in checks are evidence of
   their own and keep their level).
4. Own hedge: when every supporting claim itself calls the issue low-risk, theoretical,
   cosmetic or unreachable in practice, the level drops one step.
5. A lone vendor's hedged important: an important raised by one vendor only whose own text
   hedges it (a light touch, comment-only, no fix needed, latent, theoretical, cosmetic,
   documentation only) is a suggestion.
6. Second opinions: a claim whose repro fails at the head and passes at the merge base or with
   its fix (*reproduced*, *fix verified*), or that an agent of another vendor confirms on
   cross-examination, counts once more, as another vendor's opinion at its own level.
7. Not reproduced: a claim whose repro passes at the head counts one step lower.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from deepreview.consolidate.claim import Claim
from deepreview.consolidate.reproductions import REPRODUCED
from deepreview.schema import SEVERITIES, Severity, SeverityChange

RANK: dict[Severity, int] = {s: n for n, s in enumerate(SEVERITIES)}
SHORT: dict[Severity, str] = {"critical": "C", "important": "I", "suggestion": "S"}

#: Words by which a reviewer concedes its own finding matters little.
_HEDGE = re.compile(
    r"\b(low[- ]risk|low[- ]impact|cosmetic|theoretical(?:ly)?|purely stylistic"
    r"|unlikely in practice|(?:unreachable|not reachable) (?:in practice|today|currently))\b",
    re.IGNORECASE,
)
#: Words by which a reviewer concedes a finding needs no real fix.
_SOFT = re.compile(
    r"\b(light[- ]touch|comment[- ]only|(?:no|not a) (?:code )?(?:fix|change)(?:es)? (?:is )?"
    r"(?:needed|required|necessary)|latent|theoretical(?:ly)?|cosmetic|docs?[- ]only"
    r"|documentation[- ]only|low[- ]risk|low[- ]impact|purely stylistic|nit(?:pick)?)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(not|never|isn't|is not|hardly|no longer)\s+(?:\w+\s+){0,2}$", re.I)


def hedge(text: str, pattern: re.Pattern[str] = _HEDGE) -> str | None:
    """The first phrase in `text` that calls the finding low-stakes, unless it is negated."""
    for match in pattern.finditer(text):
        if not _NEGATION.search(text[max(0, match.start() - 40) : match.start()]):
            return match.group(1).lower()
    return None


def lower(severity: Severity) -> Severity:
    """One step less severe (suggestion stays suggestion)."""
    return SEVERITIES[min(RANK[severity] + 1, len(SEVERITIES) - 1)]


def _level(c: Claim) -> Severity:
    """The level a claim argues for: one step lower when its repro passes at the head."""
    refuted = c.repro is not None and c.repro.label == "not reproduced"
    return lower(c.finding.severity) if refuted else c.finding.severity


class Confirmation(NamedTuple):
    """An agent of another vendor that confirmed the finding on cross-examination."""

    examiner: str
    family: str


@dataclass(frozen=True, slots=True)
class _Opinion:
    """A vendor's opinion: the claim whose level it argues for, and for a second opinion
    (rule 6) what makes it one, as the reason says it."""

    family: str
    claim: Claim
    second: str = ""

    @property
    def level(self) -> Severity:
        return _level(self.claim)


def _opinions(members: Sequence[Claim], confirmations: Sequence[Confirmation]) -> list[_Opinion]:
    """Every member's own opinion, then the second opinions of rule 6: each reproduced repro
    at its claim's level, each confirmation at the level of the most severe member."""
    out = [_Opinion(c.family, c) for c in members]
    for c in members:
        if c.repro is not None and c.repro.label in REPRODUCED:
            why = f", and its repro is {c.repro.label}: a second opinion"
            out.append(_Opinion(f"{c.family} (repro)", c, why))
    raised = min(members, key=lambda c: (RANK[_level(c)], c.order))
    for by in confirmations:
        why = f", confirmed by {by.examiner} on cross-examination"
        out.append(_Opinion(by.family, raised, why))
    return out


def decide(
    members: Sequence[Claim], vendors: int = 1, confirmations: Sequence[Confirmation] = ()
) -> tuple[Severity, list[SeverityChange]]:
    """The severity of a cluster by the module's rules, and a SeverityChange (with its reason)
    for every member whose own severity differs. `vendors`: how many vendors reviewed the
    change (rule 3 needs more than one); `confirmations`: the agents of other vendors that
    confirmed it on cross-examination (rule 6)."""
    opinions: dict[str, _Opinion] = {}
    for o in _opinions(members, confirmations):
        held = opinions.get(o.family)
        if held is None or RANK[o.level] < RANK[held.level]:
            opinions[o.family] = o
    ranked = sorted(
        opinions.values(), key=lambda o: (RANK[o.level], o.claim.order, bool(o.second), o.family)
    )
    first = ranked[0]
    decisive = ranked[1] if len(ranked) > 1 else first
    result = decisive.level
    claim = decisive.claim
    why = f"{claim.agent} {claim.finding.id} supports {result}"
    if result != claim.finding.severity:
        why = (
            f"the repro of {claim.agent} {claim.finding.id} passes at the head, so it "
            f"counts one step lower: {result}"
        )
    why += decisive.second
    if first.level != result:
        why = f"only {first.claim.agent} rated it {first.level}; " + why
    lone = len(ranked) == 1 and not any(c.deterministic for c in members)
    if result == "critical" and lone and vendors > 1:
        result = "important"
        why = f"only {claim.agent} rated it critical; a critical needs a second vendor"
    before_hedges = result
    hedges = [hedge(f"{c.finding.title}\n{c.finding.body}") for c in members]
    if all(hedges) and result != "suggestion":
        result = lower(result)
        why = f"its supporting agents call it {hedges[0]}"
    soft = [hedge(f"{c.finding.title}\n{c.finding.body}", _SOFT) for c in members]
    if lone and result == before_hedges == "important" and any(soft):
        result = "suggestion"
        word = next(s for s in soft if s)
        why = f"an important from one vendor only, and its own text calls it {word}"
    changes = [
        SeverityChange(
            agent=c.agent,
            finding_id=c.finding.id,
            from_severity=c.finding.severity,
            to_severity=result,
            reason=why,
        )
        for c in members
        if c.finding.severity != result
    ]
    return result, changes


def change_label(change: SeverityChange) -> str:
    """`I→S` style label of a change."""
    return f"{SHORT[change.from_severity]}→{SHORT[change.to_severity]}"
