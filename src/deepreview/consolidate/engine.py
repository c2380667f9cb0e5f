"""The consolidation engine: agent runs in, one checked and merged review out. Pure: reads the
head tree only through the SourceTree it is given.

Cross-examination rule: a finding that an agent of another vendor refuted, citing lines of the
head tree, is dropped as a false positive with that evidence (a confirmation is severity rule 6).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from deepreview.consolidate.claim import Claim
from deepreview.consolidate.cluster import CLOSE_LINES, NEAR_LINES, cluster, same_file
from deepreview.consolidate.consensus import family_of
from deepreview.consolidate.fingerprint import fingerprint, words_fingerprint
from deepreview.consolidate.ground import Grounder
from deepreview.consolidate.observations import (
    merge_concerns,
    merge_limitations,
    merge_strengths,
    texts,
)
from deepreview.consolidate.preexisting import BaseCode, pre_existing_reason
from deepreview.consolidate.reproductions import Key, note, placed, repros_by_claim, strongest
from deepreview.consolidate.retro import build_retro, contributes
from deepreview.consolidate.rounds import match_rounds
from deepreview.consolidate.severity import RANK, Confirmation, decide
from deepreview.consolidate.similarity import claim_words, squash, symbols, text_key, weigh
from deepreview.consolidate.summary import build_summary
from deepreview.consolidate.tree import SourceTree
from deepreview.consolidate.verdict import decide_verdict
from deepreview.diff import Diff
from deepreview.gc_pause import gc_paused
from deepreview.prior import PriorRecord
from deepreview.schema import (
    SEVERITY_LETTER,
    AgentRun,
    AttributedConcern,
    AttributedLimitation,
    AttributedStrength,
    AttributedText,
    ConsolidatedFinding,
    DeclinedFinding,
    DroppedFinding,
    Examination,
    Finding,
    Location,
    PriorFinding,
    ReconciliationEntry,
    Reproduction,
    RetroRow,
    Severity,
    SeverityChange,
    SourceFinding,
    Verdict,
)
from deepreview.scope import DiffScope, Placement, Scope

__all__ = ["Consolidation", "ConsolidationInput", "consolidate", "fingerprint"]

#: Locations listed per consolidated finding.
MAX_LOCATIONS = 5

DropKind = Literal["false-positive", "declined"]


@dataclass(frozen=True)
class ConsolidationInput:
    """Everything consolidation reads: the runs, and optionally the diff, head tree, the
    findings declined in earlier rounds, model-name prefix -> vendor family overrides, the
    scopes whose findings count toward the verdict (the others are pre-existing), the
    cross-examinations of an earlier pass over the same runs, the previous round's findings
    and the diff between its head and this one (None: unknown)."""

    runs: Sequence[AgentRun]
    diff: Diff | None = None
    tree: SourceTree | None = None
    declined: Sequence[DeclinedFinding] = ()
    families: Mapping[str, str] = field(default_factory=dict)
    counted_scopes: frozenset[Scope] = frozenset({Scope.ADDED})
    examinations: Sequence[Examination] = ()
    prior: Sequence[PriorRecord] = ()
    since: Diff | None = None


@dataclass(frozen=True)
class Consolidation:
    """The consolidated review: every report section that is computed from the agent runs."""

    findings: list[ConsolidatedFinding]
    pre_existing: list[ConsolidatedFinding]
    concerns: list[AttributedConcern]
    strengths: list[AttributedStrength]
    testing: list[AttributedText]
    documentation: list[AttributedText]
    commit_structure: list[AttributedText]
    limitations: list[AttributedLimitation]
    dropped: list[DroppedFinding]
    retro: list[RetroRow]
    reconciliation: list[ReconciliationEntry]
    prior_findings: list[PriorFinding]
    verdict: Verdict
    summary: str
    notes: list[str]
    examinations: list[Examination] = field(default_factory=list)
    reproductions: list[Reproduction] = field(default_factory=list)

    def report_fields(self) -> dict[str, Any]:
        """The fields as keyword arguments of `Report` (they share their names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class _Draft:
    """A cluster on its way to becoming a ConsolidatedFinding (its id comes last)."""

    members: list[Claim]
    best: Claim
    severity: Severity
    changes: list[SeverityChange]
    locations: list[Location]
    fingerprint: str
    opinions: int
    placement: Placement | None = None
    pre_existing: str | None = None

    def finish(self, finding_id: str) -> ConsolidatedFinding:
        """The consolidated finding, with the best member's text and the others' gaps filled."""
        best, members = self.best, self.members
        with_excerpt = next((c for c in [best, *members] if c.finding.excerpt), best)
        with_fix = next((c for c in [best, *members] if c.finding.fix), best)
        agents: list[str] = []
        for c in sorted(members, key=lambda c: (c.run_index, c.order)):
            if c.agent not in agents:
                agents.append(c.agent)
        return ConsolidatedFinding(
            id=finding_id,
            fingerprint=self.fingerprint,
            severity=self.severity,
            category=best.finding.category,
            title=best.finding.title,
            body=best.finding.body,
            locations=self.locations,
            excerpt=with_excerpt.finding.excerpt,
            excerpt_lang=with_excerpt.finding.excerpt_lang,
            fix=with_fix.finding.fix,
            agents=agents,
            sources=[
                SourceFinding(agent=c.agent, finding_id=c.finding.id, severity=c.finding.severity)
                for c in members
            ],
            severity_changes=self.changes,
            scope=self.placement.scope if self.placement else None,
            anchor=self.placement.anchor if self.placement else None,
            pre_existing=self.pre_existing,
            rule=next((c.finding.rule for c in [best, *members] if c.finding.rule), None),
            reproduction=strongest(c.repro.label for c in members if c.repro),
        )


def consolidate(inp: ConsolidationInput) -> Consolidation:
    """Ground every finding, merge duplicates across agents, decide severities, ids, verdict,
    summary and retro. Same input, same output."""
    with gc_paused():
        return _consolidate(inp)


def _consolidate(inp: ConsolidationInput) -> Consolidation:
    scope = DiffScope(inp.diff)
    families = {r.display_name: family_of(r, inp.families) for r in inp.runs}
    reviews = [(r.display_name, r.review) for r in inp.runs if contributes(r) and r.review]
    ledger = _Ledger()
    repros = repros_by_claim(inp.runs)
    claims = _ground(inp.runs, Grounder(inp.tree, scope), families, ledger, repros)
    declined: dict[str, DeclinedFinding] = {}
    for d in inp.declined:
        declined.setdefault(d.fingerprint, d)
    vendors = len({families[name] for name, _ in reviews})
    examined = {(s.agent, s.finding_id): e for e in inp.examinations for s in e.sources}
    base = BaseCode(scope)
    drafts: list[_Draft] = []
    for members in cluster(claims):
        keys = [(c.agent, c.finding.id) for c in members]
        exam = next((examined[k] for k in keys if k in examined), None)
        if exam is not None and exam.status == "ok" and exam.verdict == "refute":
            for c in members:
                ledger.drop(
                    c.order, c.agent, c.finding, "false-positive", [*c.notes, refuted(exam)]
                )
            continue
        by = []
        if exam is not None and exam.status == "ok" and exam.verdict == "confirm":
            by = [Confirmation(exam.examiner, families.get(exam.examiner, exam.examiner))]
        draft = _draft(members, vendors, by)
        draft.placement = scope.place(draft.locations)
        draft.pre_existing = pre_existing_reason(
            draft.placement, draft.locations, members, base, inp.counted_scopes
        )
        prior = _declined(draft, declined)
        if prior is None:
            drafts.append(draft)
            continue
        reason = f"declined in round {prior.round}" + (f": {prior.reason}" if prior.reason else "")
        for c in members:
            ledger.drop(c.order, c.agent, c.finding, "declined", [*c.notes, reason])
    own = _number([d for d in drafts if d.pre_existing is None], ledger)
    findings, prior_findings = match_rounds(own, inp.prior, inp.runs, inp.since, declined)
    pre_existing = _number([d for d in drafts if d.pre_existing is not None], ledger, "P")
    dropped = ledger.dropped()
    notes = []
    if inp.tree is None and claims:
        notes.append("No source tree was given: cited files, lines and excerpts are unverified.")
    names = [r.display_name for r in inp.runs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        notes.append(f"Several agents are named {name!r}; their findings are attributed together.")
    return Consolidation(
        findings=findings,
        pre_existing=pre_existing,
        concerns=merge_concerns(reviews),
        strengths=merge_strengths(reviews),
        testing=texts(reviews, lambda r: r.testing),
        documentation=texts(reviews, lambda r: r.documentation),
        commit_structure=texts(reviews, lambda r: r.commit_structure),
        limitations=merge_limitations(reviews),
        dropped=dropped,
        retro=build_retro(inp.runs, own, dropped, inp.diff.paths if inp.diff is not None else None),
        reconciliation=ledger.reconciliation(),
        prior_findings=prior_findings,
        verdict=decide_verdict(findings, len(reviews), families, len(dropped)),
        summary=build_summary(inp.runs, findings, dropped, inp.diff, families),
        notes=notes,
        examinations=[_placed(e, findings) for e in inp.examinations],
        reproductions=placed(repros, ledger.placed),
    )


def refuted(exam: Examination) -> str:
    """The reconciliation note of a finding dropped on cross-examination."""
    cited = ", ".join(loc.label() for loc in exam.evidence)
    reason = f": {exam.reason}" if exam.reason else ""
    return f"refuted by {exam.examiner} on cross-examination{reason} (evidence: {cited})"


def _placed(exam: Examination, findings: Sequence[ConsolidatedFinding]) -> Examination:
    """`exam` with the consolidated finding its claim became (None when dropped)."""
    sources = {(s.agent, s.finding_id) for s in exam.sources}
    became = next(
        (f.id for f in findings if any((s.agent, s.finding_id) in sources for s in f.sources)),
        None,
    )
    return exam.model_copy(update={"finding_id": became})


class _Ledger:
    """What became of every agent finding, keyed by its position among all findings."""

    def __init__(self) -> None:
        self._entries: dict[int, ReconciliationEntry] = {}
        self._dropped: dict[int, DroppedFinding] = {}
        #: The report finding each kept claim became, by (agent, finding id).
        self.placed: dict[Key, str] = {}

    def keep(
        self, order: int, agent: str, f: Finding, into: ConsolidatedFinding, notes: list[str]
    ) -> None:
        self._entries[order] = ReconciliationEntry(
            agent=agent,
            finding_id=f.id,
            consolidated_id=into.id,
            from_severity=f.severity,
            to_severity=into.severity,
            note="; ".join(notes),
        )

    def drop(self, order: int, agent: str, f: Finding, kind: DropKind, notes: list[str]) -> None:
        """Record a dropped finding; the last note is the reason."""
        self._dropped[order] = DroppedFinding(
            agent=agent, finding_id=f.id, title=f.title, kind=kind, reason=notes[-1]
        )
        self._entries[order] = ReconciliationEntry(
            agent=agent,
            finding_id=f.id,
            consolidated_id=None,
            from_severity=f.severity,
            to_severity=None,
            note="; ".join(notes),
        )

    def dropped(self) -> list[DroppedFinding]:
        return [self._dropped[k] for k in sorted(self._dropped)]

    def reconciliation(self) -> list[ReconciliationEntry]:
        return [self._entries[k] for k in sorted(self._entries)]


def _ground(
    runs: Sequence[AgentRun],
    grounder: Grounder,
    families: Mapping[str, str],
    ledger: _Ledger,
    repros: Mapping[Key, Reproduction],
) -> list[Claim]:
    """Claims for every finding of the contributing runs that survives grounding."""
    claims: list[Claim] = []
    order = 0
    for run_index, run in enumerate(runs):
        if not contributes(run) or run.review is None:
            continue
        for f in run.review.findings:
            g = grounder.ground(f)
            if g.drop_reason is not None:
                notes = [*g.notes, g.drop_reason]
                ledger.drop(order, run.display_name, f, "false-positive", notes)
            else:
                exclude = frozenset(posixpath.basename(loc.path) for loc in g.locations)
                claims.append(
                    Claim(
                        order=order,
                        run_index=run_index,
                        agent=run.display_name,
                        kind=run.kind,
                        family=families[run.display_name],
                        finding=f,
                        locations=g.locations,
                        notes=g.notes,
                        title_key=text_key(f.title),
                        symbols=symbols(f"{f.title}\n{f.body}", exclude),
                        excerpt_key=squash(f.excerpt or ""),
                        claim_words=claim_words(f"{f.title}\n{f.body}", f.excerpt or ""),
                        repro=repros.get((run.agent, f.id)),
                    )
                )
            order += 1
    vectors = weigh([f"{c.finding.title}\n{c.finding.body}" for c in claims])
    for c, vector in zip(claims, vectors, strict=True):
        c.vector = vector
    return claims


def _draft(
    members: list[Claim], vendors: int, confirmations: Sequence[Confirmation] = ()
) -> _Draft:
    """Severity, locations and fingerprint of one cluster (`vendors`: how many reviewed;
    `confirmations`: the agents of other vendors that confirmed it on cross-examination)."""
    best = max(members, key=_completeness)
    severity, changes = decide(members, vendors, confirmations)
    locations = _merged_locations([best, *members])
    path = locations[0].path if locations else None
    if path == best.path:
        fingerprint_ = best.fingerprint
    else:
        fingerprint_ = words_fingerprint(path, best.words, best.finding.category)
    return _Draft(
        members=members,
        best=best,
        severity=severity,
        changes=changes,
        locations=locations,
        fingerprint=fingerprint_,
        opinions=len({c.family for c in members}),
    )


def _completeness(c: Claim) -> tuple[bool, bool, bool, bool, int, int]:
    """Which member speaks for the cluster: excerpt and fix first, then precise location,
    then the longest text; earliest on ties."""
    located = bool(c.locations)
    lined = c.span is not None
    f = c.finding
    return bool(f.excerpt), bool(f.fix), lined, located, len(f.title) + len(f.body), -c.order


def _merged_locations(members: Sequence[Claim]) -> list[Location]:
    """The best member's locations, then other members' places not already covered."""
    out: list[Location] = []
    for c in members:
        for loc in c.locations:
            if len(out) < MAX_LOCATIONS and not any(_covers(o, loc) for o in out):
                out.append(loc)
    return out


def _covers(a: Location, b: Location) -> bool:
    if a.path != b.path:
        return False
    if a.start_line is None or b.start_line is None:
        return b.start_line is None
    a_end = a.end_line or a.start_line
    b_end = b.end_line or b.start_line
    return b.start_line <= a_end + NEAR_LINES and a.start_line <= b_end + NEAR_LINES


def _declined(draft: _Draft, declined: Mapping[str, DeclinedFinding]) -> DeclinedFinding | None:
    """The declined finding this cluster repeats: by its own or any member's fingerprint, or
    by place and wording (see `reraises`)."""
    if not declined:
        return None
    prints = [draft.fingerprint, *(c.fingerprint for c in draft.members)]
    by_print = next((declined[p] for p in prints if p in declined), None)
    if by_print is not None:
        return by_print
    return next((d for d in declined.values() if any(reraises(c, d) for c in draft.members)), None)


#: Content words a re-raise shares with the declined finding's title.
RERAISE_WORDS = 2


def reraises(claim: Claim, declined: DeclinedFinding) -> bool:
    """Whether a claim raises a declined finding again in other words: in the same file, near
    its lines (or either without lines), sharing at least RERAISE_WORDS content words with its
    title."""
    if declined.location is None or claim.path is None:
        return False
    path, _, lines = declined.location.partition(":")
    if not same_file(claim.path, path):
        return False
    first = lines.split("-", 1)[0]
    if first.isdigit() and claim.span is not None:
        start = int(first)
        end = int(lines.rsplit("-", 1)[-1]) if lines.rsplit("-", 1)[-1].isdigit() else start
        if claim.span[0] > end + CLOSE_LINES or start > claim.span[1] + CLOSE_LINES:
            return False
    return len(claim.claim_words & claim_words(declined.title, "")) >= RERAISE_WORDS


def _sort_key(d: _Draft) -> tuple[int, bool, int, int, str, int, str, str]:
    """Severity, grounded before unlocated, opinions, agents, then location and title."""
    loc = d.locations[0] if d.locations else None
    return (
        RANK[d.severity],
        loc is None,
        -d.opinions,
        -len({c.agent for c in d.members}),
        loc.path if loc else "",
        (loc.start_line or 0) if loc else 0,
        d.best.finding.title,
        d.fingerprint,
    )


def _number(
    drafts: list[_Draft], ledger: _Ledger, letter: str | None = None
) -> list[ConsolidatedFinding]:
    """Assign C1../I1../S1.. (or `letter`1.. to all) in report order and record each member's
    reconciliation."""
    counters: dict[str, int] = {}
    out: list[ConsolidatedFinding] = []
    for d in sorted(drafts, key=_sort_key):
        prefix = letter or SEVERITY_LETTER[d.severity]
        counters[prefix] = counters.get(prefix, 0) + 1
        f = d.finish(f"{prefix}{counters[prefix]}")
        out.append(f)
        changes = {(c.agent, c.finding_id): c.reason for c in d.changes}
        for c in d.members:
            notes = list(c.notes)
            if d.pre_existing is not None:
                notes.append(d.pre_existing)
            if len(d.members) > 1:
                others = [f"{o.agent} {o.finding.id}" for o in d.members if o is not c]
                notes.append(f"merged with {', '.join(others)}")
            if (c.agent, c.finding.id) in changes:
                notes.append(changes[(c.agent, c.finding.id)])
            if c.repro is not None:
                notes.append(note(c.repro))
                ledger.placed[(c.repro.agent, c.finding.id)] = f.id
            ledger.keep(c.order, c.agent, c.finding, f, notes)
    return out
