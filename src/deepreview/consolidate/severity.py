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
6. Cross-examination: another vendor's confirmation of a finding raised by one vendor only is
   that vendor's opinion at the raised level, so rules 3 and 5 no longer apply to it.
7. Reproduced: a claim whose repro fails at the head and passes at the merge base or with its
   fix (*reproduced*, *fix verified*) counts as a second vendor's opinion at its own level.
8. Not reproduced: a claim whose repro passes at the head counts one step lower.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from deepreview.consolidate.claim import Claim
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


def decide(
    members: Sequence[Claim], vendors: int = 1, confirmed_by: Sequence[str] = ()
) -> tuple[Severity, list[SeverityChange]]:
    """The severity of a cluster by the module's rules, and a SeverityChange (with its reason)
    for every member whose own severity differs. `vendors`: how many vendors reviewed the
    change (rule 3 needs more than one); `confirmed_by`: the agents of other vendors that
    confirmed it on cross-examination (rule 6)."""
    opinions: dict[str, Claim] = {}
    for c in members:
        reproduced = c.repro is not None and c.repro.label in ("reproduced", "fix verified")
        for family in (c.family, *((f"{c.family} (repro)",) if reproduced else ())):
            held = opinions.get(family)
            if held is None or RANK[_level(c)] < RANK[_level(held)]:
                opinions[family] = c
    ranked = sorted(opinions.items(), key=lambda kv: (RANK[_level(kv[1])], kv[1].order, kv[0]))
    first = ranked[0][1]
    family, decisive = ranked[1] if len(ranked) > 1 else ranked[0]
    result = _level(decisive)
    why = f"{decisive.agent} {decisive.finding.id} supports {result}"
    if result != decisive.finding.severity:
        why = (
            f"the repro of {decisive.agent} {decisive.finding.id} passes at the head, so it "
            f"counts one step lower: {result}"
        )
    elif family != decisive.family and decisive.repro is not None:
        why += f", and its repro is {decisive.repro.label}: a second opinion"
    if len(ranked) > 1 and _level(first) != result:
        why = f"only {first.agent} rated it {_level(first)}; " + why
    confirmed = len(ranked) == 1 and bool(confirmed_by)
    if confirmed:
        why += f", confirmed by {', '.join(confirmed_by)} on cross-examination"
    if (
        result == "critical"
        and len(ranked) == 1
        and not confirmed
        and vendors > 1
        and not any(c.deterministic for c in members)
    ):
        result = "important"
        why = f"only {decisive.agent} rated it critical; a critical needs a second vendor"
    before_hedges = result
    hedges = [hedge(f"{c.finding.title}\n{c.finding.body}") for c in members]
    if all(hedges) and result != "suggestion":
        result = lower(result)
        why = f"its supporting agents call it {hedges[0]}"
    soft = [hedge(f"{c.finding.title}\n{c.finding.body}", _SOFT) for c in members]
    lone = len(ranked) == 1 and not confirmed and not any(c.deterministic for c in members)
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
