"""The report's outline: header rows and typed sections, built once from a Report.

Every page renderer (Markdown, HTML) formats this outline and nothing else decides what a report
holds or in which order; a new section is one dataclass here, added to `outline`, and its
formatting in each renderer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar
from urllib.parse import urlsplit

from deepreview.render.durations import wall_clock
from deepreview.render.fences import code_span, fence, is_self_contained
from deepreview.render.languages import language_for
from deepreview.render.retro_table import retro_columns, retro_table
from deepreview.render.reviewers import agent_display, failure_reason, is_failed
from deepreview.schema import (
    SEVERITIES,
    AgentRun,
    AttributedConcern,
    AttributedLimitation,
    AttributedStrength,
    AttributedText,
    Commit,
    ConsolidatedFinding,
    DeclinedFinding,
    DroppedFinding,
    ExecutedCommand,
    FeedbackComment,
    PriorFinding,
    ReconciliationEntry,
    Report,
    Reproduction,
    ReproStep,
    RetroRow,
    Severity,
    SkippedFile,
    Verdict,
    WebLinks,
)

SEVERITY_SECTIONS: dict[Severity, str] = {
    "critical": "Critical Issues",
    "important": "Important Issues",
    "suggestion": "Suggestions",
}

#: How a run that produced no review is labelled.
RUN_STATUS_LABELS = {"failed": "Failed", "timeout": "Timed out", "skipped": "Skipped"}
#: How a finding's status against the previous round is labelled.
PRIOR_STATUS_LABELS = {
    "still-present": "Still present",
    "changed": "Changed",
    "fixed": "Fixed",
    "unaddressed": "Carried over",
}

#: Size bounds: what a report shows in full before it lists briefly, and then only counts.
HEADER_COMMITS = 10
FULL_FINDINGS = 30
LISTED_FINDINGS = 200
LISTED_ROWS = 200
LISTED_COMMITS = 1_000
APPENDIX_FINDINGS = 50
TEXT_LIMIT = 4_000
APPENDIX_LIMIT = 20_000
IN_JSON = "all of them are in the JSON report"
#: Said instead of an empty table of executed commands.
NO_COMMAND = "No command ran."
SKIPPED_INTRO = "not reviewed (`--include PATTERN` reviews them)"

_MARKDOWN_HINT = re.compile(r"^(#{1,6} \S|\*\*\S|[-*] \S|\d+\. \S)", re.MULTILINE)

# --------------------------------------------------------------------------- header cells


@dataclass(frozen=True)
class Text:
    """Plain text (Markdown inline in renderers that read it)."""

    text: str


@dataclass(frozen=True)
class Code:
    """Text shown as code."""

    text: str


@dataclass(frozen=True)
class Link:
    """Text linked to `url` when one is known (always http or https)."""

    text: str
    url: str | None


@dataclass(frozen=True)
class PullRequestCell:
    """`#42 — title`, the number linked to the pull request."""

    number: int
    url: str | None
    title: str


@dataclass(frozen=True)
class CommitRef:
    """One commit of the header: short sha, subject and its page on the forge."""

    sha: str
    subject: str
    url: str | None


@dataclass(frozen=True)
class CommitsCell:
    """The first commits of the range and how many more there are."""

    commits: tuple[CommitRef, ...]
    more: int = 0


@dataclass(frozen=True)
class ReviewersCell:
    """Every agent that was asked, failed ones included."""

    runs: tuple[AgentRun, ...]


@dataclass(frozen=True)
class VerdictCell:
    """The decision and its reason."""

    verdict: Verdict


Cell = Text | Code | Link | PullRequestCell | CommitsCell | ReviewersCell | VerdictCell


@dataclass(frozen=True)
class HeaderRow:
    """One row of the header table."""

    name: str
    cell: Cell


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class PriorNote:
    """`**Still present** from round 1 (was I3)`: the label and what follows it."""

    label: str
    rest: str


@dataclass(frozen=True)
class FindingItem:
    """A consolidated finding with its status against the previous round, the anchor of its
    entry in Reproductions when it has one, and the note saying which of its reviewers stopped
    before finishing."""

    finding: ConsolidatedFinding
    prior: PriorNote | None
    repro: str | None = None
    partial: str = ""


@dataclass(frozen=True)
class PriorItem:
    """What became of one finding of the previous round."""

    prior: PriorFinding
    status: str


@dataclass(frozen=True)
class SummarySection:
    """The executive summary, the severity counts and the previous round's findings."""

    kind: ClassVar[str] = "summary"
    title: str
    summary: str
    counts: tuple[tuple[Severity, int], ...]
    previous_round: str
    priors: tuple[PriorItem, ...]
    change: str = ""
    closed: str = ""


@dataclass(frozen=True)
class FindingsSection:
    """The consolidated findings of one severity: the first in full, the next by title only,
    and how many more are left out (`more`)."""

    kind: ClassVar[str] = "findings"
    title: str
    severity: Severity
    findings: tuple[FindingItem, ...]
    brief: tuple[ConsolidatedFinding, ...] = ()
    more: int = 0


@dataclass(frozen=True)
class ReproductionEntry:
    """One agent's repro of one claim: its label, the code that ran, and each run."""

    anchor: str
    heading: str
    reproduction: Reproduction
    lang: str
    steps: tuple[tuple[str, ReproStep], ...]


@dataclass(frozen=True)
class ReproductionsSection:
    """The agents' repros as `verify` ran them: what ran, where and under what isolation."""

    kind: ClassVar[str] = "reproductions"
    title: str
    facts: tuple[str, ...]
    entries: tuple[ReproductionEntry, ...]


@dataclass(frozen=True)
class DesignSection:
    """Design concerns, strengths and the pre-existing findings (not the change's doing)."""

    kind: ClassVar[str] = "design"
    title: str
    concerns: tuple[AttributedConcern, ...]
    strengths: tuple[AttributedStrength, ...]
    pre_existing: tuple[ConsolidatedFinding, ...] = ()
    more_pre_existing: int = 0


@dataclass(frozen=True)
class Assessment:
    """One agent's paragraph of an assessment."""

    agent: str
    display: str
    text: str


@dataclass(frozen=True)
class Table:
    """A small table of Markdown-inline cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ExecutedBlock:
    """What deepreview executed itself (the `verify` reviewer): where and under what isolation,
    each command, and the testing rubric of the changed units."""

    facts: tuple[str, ...]
    commands: Table
    rubric: Table | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class AssessmentSection:
    """Testing, documentation or commit-structure paragraphs, one per agent."""

    kind: ClassVar[str] = "assessment"
    title: str
    paragraphs: tuple[Assessment, ...]
    commits: tuple[CommitRef, ...] = ()
    more_commits: int = 0
    executed: ExecutedBlock | None = None


@dataclass(frozen=True)
class LimitationsSection:
    """Limitations the change states and findings declined in earlier rounds."""

    kind: ClassVar[str] = "limitations"
    title: str
    limitations: tuple[AttributedLimitation, ...]
    declined: tuple[DeclinedFinding, ...]


@dataclass(frozen=True)
class FeedbackSection:
    """Review comments on the pull request that are not resolved."""

    kind: ClassVar[str] = "feedback"
    title: str
    comments: tuple[FeedbackComment, ...]


@dataclass(frozen=True)
class ReconciliationRow:
    """One agent finding: where it went (`became` None when dropped), severity change, why."""

    agent: str
    display: str
    finding_id: str
    title: str = ""
    became: str | None = None
    outcome: str = ""
    severity: str = ""
    note: str = ""


@dataclass(frozen=True)
class RetroSection:
    """Per-agent narratives, the summary table and the reconciliation."""

    kind: ClassVar[str] = "retro"
    title: str
    narratives: tuple[tuple[RetroRow, str], ...]
    columns: tuple[tuple[str, bool], ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    reconciliation: tuple[ReconciliationRow, ...]
    more_reconciliation: int = 0
    cross_examination: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotesSection:
    """What the reader should know about how the review ran."""

    kind: ClassVar[str] = "notes"
    title: str
    notes: tuple[str, ...]
    skipped: tuple[SkippedFile, ...] = ()
    more_skipped: int = 0


@dataclass(frozen=True)
class AppendixEntry:
    """One agent's original review: status line, notes and its output as Markdown."""

    run: AgentRun
    status: str
    notes: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class AppendixSection:
    """Every agent's original review."""

    kind: ClassVar[str] = "appendix"
    title: str
    entries: tuple[AppendixEntry, ...]


Section = (
    SummarySection
    | FindingsSection
    | ReproductionsSection
    | DesignSection
    | AssessmentSection
    | LimitationsSection
    | FeedbackSection
    | RetroSection
    | NotesSection
    | AppendixSection
)


@dataclass(frozen=True)
class Lead:
    """What a reader sees first: the verdict and the finding counts."""

    verdict: Verdict
    counts: tuple[tuple[Severity, int], ...]


@dataclass(frozen=True)
class Outline:
    """The whole report as renderers see it."""

    title: str
    lead: Lead
    header: tuple[HeaderRow, ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- building


def outline(report: Report) -> Outline:
    """The report's header rows and sections, in report-format order."""
    sections: list[Section] = [
        _summary(report),
        *(_findings(report, severity) for severity in SEVERITIES),
        *([_reproductions(report)] if report.reproductions else []),
        _design(report),
        _assessment(report, "Testing Assessment", report.testing, executed_block(report)),
        _assessment(report, "Documentation Assessment", report.documentation),
        _commit_structure(report),
        LimitationsSection(
            "Acknowledged Limitations", tuple(report.limitations), tuple(report.declined)
        ),
        FeedbackSection("Unresolved Feedback", tuple(report.unresolved_feedback)),
        _retro(report),
    ]
    skipped = report.target.skipped_files
    if report.notes or skipped:
        sections.append(
            NotesSection(
                "Review Process Notes",
                tuple(report.notes),
                tuple(skipped[:LISTED_ROWS]),
                max(0, len(skipped) - LISTED_ROWS),
            )
        )
    sections.append(
        AppendixSection(
            "Appendix: Original Reviews", tuple(_appendix_entry(run) for run in report.runs)
        )
    )
    lead = Lead(report.verdict, _counts(report))
    return Outline(f"Deep Review: {report.id}", lead, tuple(header_rows(report)), tuple(sections))


def web_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address, else None (no `javascript:` links)."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def header_rows(report: Report) -> list[HeaderRow]:
    """The header table in report-format order."""
    target = report.target
    pr = target.pr
    links = target.links
    rows = [HeaderRow("Date", Text(report.created_at.strftime("%Y-%m-%d %H:%M")))]
    if target.repo or target.repo_url:
        rows.append(
            HeaderRow("Repo", Link(target.repo or target.repo_url or "", web_url(target.repo_url)))
        )
    round_text = str(report.round) + (f" (of {report.round_of})" if report.round_of else "")
    if report.rerun_of is not None:
        round_text += f" (re-run of round {report.rerun_of})"
    rows.append(HeaderRow("Round", Text(round_text)))
    if pr and pr.author:
        login = pr.author.removeprefix("@")
        profile = links.profile_url(login) if links else None
        rows.append(HeaderRow("Author", Link(f"@{login}", profile)))
    if pr:
        pr_url = web_url(pr.url) or (links.pull_url(pr.number) if links else None)
        rows.append(HeaderRow("PR", PullRequestCell(pr.number, pr_url, pr.title)))
    if target.branch:
        rows.append(HeaderRow("Branch", Code(target.branch)))
    if target.commits:
        shown = _commit_refs(target.commits[:HEADER_COMMITS], links)
        more = len(target.commits) - len(shown)
        rows.append(HeaderRow("Commits", CommitsCell(shown, more)))
    if target.head_sha:
        rows.append(HeaderRow("Review SHA", Code(target.head_sha)))
    if report.runs:
        rows.append(HeaderRow("Reviewers", ReviewersCell(tuple(report.runs))))
    rows.append(HeaderRow("Verdict", VerdictCell(report.verdict)))
    if report.wall_clock_s > 0:
        rows.append(HeaderRow("Wall-clock time", Code(wall_clock(report.wall_clock_s))))
    return rows


def _commit_refs(commits: Sequence[Commit], links: WebLinks | None) -> tuple[CommitRef, ...]:
    return tuple(
        CommitRef(c.sha[:7], c.subject, links.commit_url(c.sha) if links else None) for c in commits
    )


def _commit_structure(report: Report) -> AssessmentSection:
    """The agents' paragraphs and, when the header could not list them all, every commit."""
    section = _assessment(report, "Commit Structure", report.commit_structure)
    commits = report.target.commits
    if len(commits) <= HEADER_COMMITS:
        return section
    shown = _commit_refs(commits[:LISTED_COMMITS], report.target.links)
    return replace(section, commits=shown, more_commits=len(commits) - len(shown))


def previous_round(report: Report) -> str:
    """`round 1` in round 2, else `the previous round`."""
    return f"round {report.round - 1}" if report.round > 1 else "the previous round"


def _counts(report: Report) -> tuple[tuple[Severity, int], ...]:
    return tuple((s, sum(1 for f in report.findings if f.severity == s)) for s in SEVERITIES)


#: How much of a pull request's description the summary quotes, and how many subjects.
DESCRIPTION_LIMIT = 300
NAMED_SUBJECTS = 3


def what_it_does(report: Report) -> str:
    """What the change does in its author's words: the pull request's title and the first
    paragraph of its description, else the commit subjects (quoted, never interpreted)."""
    target = report.target
    if target.pr is not None:
        text = f"Pull request #{target.pr.number}: “{' '.join(target.pr.title.split())}”"
        first = " ".join(target.pr.body.strip().split("\n\n", 1)[0].split())
        if first:
            cut = first if len(first) <= DESCRIPTION_LIMIT else first[:DESCRIPTION_LIMIT] + "…"
            text += f" — “{cut}”"
        return text
    if not target.commits:
        return ""
    subjects = [f"“{' '.join(c.subject.split())}”" for c in target.commits[:NAMED_SUBJECTS]]
    more = len(target.commits) - NAMED_SUBJECTS
    listed = "; ".join(subjects) + (f"; and {more} more" if more > 0 else "")
    n = len(target.commits)
    return f"{n} commit{'s' if n != 1 else ''}: {listed}."


def closed_since(report: Report) -> str:
    """In a later round, what the new commits closed of the previous round's findings."""
    fixed = [p for p in report.prior_findings if p.status == "fixed"]
    if report.round <= 1 or not report.prior_findings:
        return ""
    still = len(report.prior_findings) - len(fixed)
    named = ", ".join(f"{p.id} “{' '.join(p.title.split())}”" for p in fixed[:NAMED_SUBJECTS])
    if len(fixed) > NAMED_SUBJECTS:
        named += f" and {len(fixed) - NAMED_SUBJECTS} more"
    head = f"Since {previous_round(report)}"
    if not fixed:
        return f"{head}, the new commits closed none of its {len(report.prior_findings)} findings."
    rest = f"; {still} still open or changed" if still else "; nothing of it is left open"
    return f"{head}, the new commits closed {named}{rest}."


def _summary(report: Report) -> SummarySection:
    counts = _counts(report)
    priors = tuple(
        PriorItem(prior, prior.status.replace("-", " ")) for prior in report.prior_findings
    )
    return SummarySection(
        "Executive Summary",
        report.summary.strip("\n"),
        counts,
        previous_round(report),
        priors,
        what_it_does(report),
        closed_since(report),
    )


def partial_note(report: Report, finding: ConsolidatedFinding) -> str:
    """`Partial: Claude Opus 4.8 raised it before its run stopped (timeout)…`, when a reviewer
    that raised the finding did not finish its review; else empty."""
    stopped = [
        f"{r.display_name} ({r.reason or r.status})"
        for r in report.runs
        if r.partial and r.display_name in finding.agents
    ]
    if not stopped:
        return ""
    return (
        f"Partial: raised by {', '.join(stopped)} before its review was finished; "
        "what it had not yet read was not checked."
    )


def prior_note(report: Report, finding: ConsolidatedFinding) -> PriorNote | None:
    """`New in round 2`, `Still present from round 1 (was I3)`, `Carried over (Round 1 I3
    unaddressed)`, or None in a first round."""
    if finding.prior_status is None or report.round <= 1:
        return None
    if finding.prior_status == "new":
        return PriorNote("New", f" in round {report.round}")
    rest = f" from {previous_round(report)}"
    earlier = next((p for p in report.prior_findings if p.current_id == finding.id), None)
    if finding.prior_status == "unaddressed":
        was = f" {earlier.id}" if earlier is not None else ""
        return PriorNote(
            PRIOR_STATUS_LABELS["unaddressed"], f" (Round {report.round - 1}{was} unaddressed)"
        )
    if earlier is not None and earlier.id != finding.id:
        rest += f" (was {earlier.id})"
    return PriorNote(PRIOR_STATUS_LABELS[finding.prior_status], rest)


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut at a line end within `limit` characters, saying how much was cut; a cut that
    leaves a code fence or HTML block open is fenced, so it cannot swallow what follows."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    head = text[: cut if cut > 0 else limit].rstrip()
    if not is_self_contained(head):
        head = fence(head, "text")
    return f"{head}\n\n*… {len(text) - len(head):,} more characters cut.*"


def _bounded(finding: ConsolidatedFinding) -> ConsolidatedFinding:
    update: dict[str, str] = {}
    if len(finding.body) > TEXT_LIMIT:
        update["body"] = clip(finding.body)
    if finding.fix and len(finding.fix) > TEXT_LIMIT:
        update["fix"] = clip(finding.fix)
    if finding.excerpt and len(finding.excerpt) > TEXT_LIMIT:
        cut = finding.excerpt.rfind("\n", 0, TEXT_LIMIT)
        update["excerpt"] = finding.excerpt[: cut if cut > 0 else TEXT_LIMIT] + "\n…"
    return finding.model_copy(update=update) if update else finding


def _design(report: Report) -> DesignSection:
    """Concerns, strengths, and the pre-existing findings: the first in full, the next by
    title only, the rest counted."""
    listed = report.pre_existing[: FULL_FINDINGS + LISTED_FINDINGS]
    shown = tuple(
        _bounded(f) if n < FULL_FINDINGS else f.model_copy(update={"body": ""})
        for n, f in enumerate(listed)
    )
    return DesignSection(
        "Design Observations",
        tuple(report.concerns),
        tuple(report.strengths),
        shown,
        len(report.pre_existing) - len(shown),
    )


def _findings(report: Report, severity: Severity) -> FindingsSection:
    found = [f for f in report.findings if f.severity == severity]
    anchors = {r.consolidated_id: repro_anchor(r) for r in reversed(report.reproductions)}
    items = tuple(
        FindingItem(_bounded(f), prior_note(report, f), anchors.get(f.id), partial_note(report, f))
        for f in found[:FULL_FINDINGS]
    )
    brief = tuple(found[FULL_FINDINGS : FULL_FINDINGS + LISTED_FINDINGS])
    more = len(found) - len(items) - len(brief)
    return FindingsSection(SEVERITY_SECTIONS[severity], severity, items, brief, more)


#: How each run of a repro is introduced.
REPRO_STEPS = {
    "head": "At the head",
    "base": "At the merge base",
    "fix": "At the head with the fix applied",
}
#: What each label means, as the Reproductions section says it.
REPRO_LABELS = (
    "*reproduced*: fails at the head and passes at the merge base",
    "*fix verified*: fails at the head and passes with the agent's fix applied",
    "*not reproduced*: passes at the head (its claim counts one step lower)",
    "*inconclusive*: anything else",
)


def repro_anchor(r: Reproduction) -> str:
    """The id of a repro's entry: `repro-I1` for a report finding, else by agent and id."""
    if r.consolidated_id:
        return f"repro-{r.consolidated_id}"
    return f"repro-{r.agent}-{r.finding_id}"


def _repro_lang(r: Reproduction) -> str:
    if r.repro.kind == "script" or not r.repro.path:
        return "bash"
    return language_for(r.repro.path) or ""


def _reproductions(report: Report) -> ReproductionsSection:
    isolation = next((r.isolation for r in report.reproductions if r.isolation), "")
    facts = (
        "Run by `verify` as each AI agent finished, each repro in its own scratch copies: of "
        "the head, of the merge base, and of the head with the agent's fix applied (once "
        "`git apply --check` accepts it)",
        f"Isolation: {isolation or 'not recorded'}",
        "Environment: scrubbed of credentials (PATH, locale and the project's virtualenv; HOME "
        "and TMPDIR inside the scratch area)",
        "Labels: " + "; ".join(REPRO_LABELS),
    )
    entries = []
    seen: set[str] = set()
    for r in report.reproductions:
        anchor = repro_anchor(r)
        if anchor in seen:
            anchor = f"{anchor}-{r.agent}"
        seen.add(anchor)
        owner = r.consolidated_id or f"{agent_display(report, r.agent)} {r.finding_id} (dropped)"
        steps = tuple((REPRO_STEPS[s.where], s) for s in r.steps)
        heading = f"{owner} — {r.title}"
        entries.append(ReproductionEntry(anchor, heading, r, _repro_lang(r), steps))
    return ReproductionsSection("Reproductions", facts, tuple(entries))


def step_line(step: ReproStep) -> str:
    """`failed (exit 1, 0.4 s)`, or `not run: the fix does not apply: …`."""
    if step.outcome == "not run":
        return f"not run: {step.note}" if step.note else "not run"
    said = "timed out" if step.outcome == "timeout" else f"exit {step.exit_code}"
    return f"{step.outcome} ({said}, {step.duration_s:g} s)"


def _assessment(
    report: Report,
    title: str,
    texts: Sequence[AttributedText],
    executed: ExecutedBlock | None = None,
) -> AssessmentSection:
    paragraphs = tuple(
        Assessment(t.agent, agent_display(report, t.agent), clip(t.text.strip()))
        for t in texts
        if t.text.strip()
    )
    return AssessmentSection(title, paragraphs, executed=executed)


def _exit(command: ExecutedCommand) -> str:
    if command.timed_out:
        return "timed out"
    return "—" if command.exit_code is None else str(command.exit_code)


def executed_block(report: Report) -> ExecutedBlock | None:
    """The Testing Assessment's "Executed" facts, from the run that executed the tests."""
    v = next((r.verification for r in report.runs if r.verification is not None), None)
    if v is None:
        return None
    command = f"`{v.command}`" if v.command else "none configured or detected"
    facts = [f"Test command: {command}", f"Environment: {v.environment}"]
    facts.append(f"Isolation: {v.isolation}")
    if v.added_lines is not None:
        facts.append(
            f"Changed-line coverage: {v.covered_lines} of {v.added_lines} added executable lines"
        )
    ran = [m for m in v.mutations if m.outcome != "not run"]
    if ran:
        caught = sum(m.outcome != "survived" for m in ran)
        facts.append(f"Of {len(ran)} mutations of the changed lines, the suite caught {caught}")
    commands = Table(
        ("Command", "Purpose", "Where", "Exit", "Duration"),
        tuple(
            (f"`{c.command}`", c.label, c.where, _exit(c), f"{c.duration_s:g} s")
            for c in v.executed
        ),
    )
    rubric = (
        Table(
            ("Unit", "Location", "Status", "Evidence"),
            tuple((r.subject, f"`{r.location.label()}`", r.status, r.note) for r in v.rubric),
        )
        if v.rubric
        else None
    )
    return ExecutedBlock(tuple(facts), commands, rubric, tuple(v.notes))


# --------------------------------------------------------------------------- retro


def _same_agent(report: Report, a: str, b: str) -> bool:
    return agent_display(report, a) == agent_display(report, b)


def _outcome(drop: DroppedFinding | None) -> str:
    kind = drop.kind.replace("-", " ") if drop else "no consolidated finding"
    return f"dropped ({kind})"


def _entry_row(report: Report, entry: ReconciliationEntry) -> ReconciliationRow:
    drop = next(
        (
            d
            for d in report.dropped
            if d.finding_id == entry.finding_id and _same_agent(report, d.agent, entry.agent)
        ),
        None,
    )
    changed = entry.to_severity is not None and entry.to_severity != entry.from_severity
    return ReconciliationRow(
        agent=entry.agent,
        display=agent_display(report, entry.agent),
        finding_id=entry.finding_id,
        title=drop.title if drop else "",
        became=entry.consolidated_id,
        outcome=_outcome(drop),
        severity=f"{entry.from_severity} → {entry.to_severity}" if changed else "",
        note=entry.note.strip() or (drop.reason.strip() if drop else ""),
    )


def reconciliation(report: Report) -> list[ReconciliationRow]:
    """Every agent finding: where it went, the severity change, and why."""
    rows = [_entry_row(report, entry) for entry in report.reconciliation]
    rows += [
        ReconciliationRow(
            agent=drop.agent,
            display=agent_display(report, drop.agent),
            finding_id=drop.finding_id,
            title=drop.title,
            outcome=_outcome(drop),
            note=drop.reason.strip(),
        )
        for drop in report.dropped
        if not any(
            _same_agent(report, e.agent, drop.agent) and e.finding_id == drop.finding_id
            for e in report.reconciliation
        )
    ]
    return rows


_OUTCOMES = {
    "refute": "refuted: dropped as a false positive",
    "confirm": "confirmed: a second vendor's opinion",
    "uncertain": "uncertain: nothing changed",
}


def cross_examination(report: Report) -> list[str]:
    """One line per cross-examination: the claim, who raised and who examined it, the outcome,
    the reason and the evidence (or why the examination failed)."""
    lines = []
    for e in report.examinations:
        raised = ", ".join(f"{agent_display(report, s.agent)} {s.finding_id}" for s in e.sources)
        claim = " ".join(e.claim.split())
        named = f"{e.finding_id} “{claim}”" if e.finding_id else f"“{claim}”"
        head = f"{named} ({raised}), examined by {e.examiner}"
        if e.status != "ok":
            lines.append(f"{head}: {e.status} ({e.reason}); nothing changed")
            continue
        text = f"{head}: {_OUTCOMES[e.verdict]}"
        if e.reason:
            text += f" — {e.reason}"
        if e.evidence:
            text += f" (evidence: {', '.join(loc.label() for loc in e.evidence)})"
        if e.notes:
            text += f"; {'; '.join(e.notes)}"
        lines.append(text + (" (cached)" if e.cached else ""))
    return lines


def _retro(report: Report) -> RetroSection:
    rows = reconciliation(report)
    return RetroSection(
        "Agent Performance Retro",
        tuple((row, agent_display(report, row.agent)) for row in report.retro),
        tuple(retro_columns(report)),
        tuple((name, tuple(cells)) for name, cells in retro_table(report)),
        tuple(rows[:LISTED_ROWS]),
        max(0, len(rows) - LISTED_ROWS),
        tuple(cross_examination(report)),
    )


# --------------------------------------------------------------------------- appendix


def _is_json(text: str) -> bool:
    """Whether `text` is one JSON document or JSON Lines."""
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
        return True
    except ValueError:
        pass
    try:
        for line in text.splitlines():
            if line.strip():
                json.loads(line)
    except ValueError:
        return False
    return True


def appendix_body(raw: str) -> str:
    """Markdown reviews verbatim; JSON and anything else fenced so nothing leaks out."""
    text = raw.strip("\n")
    if not text.strip():
        return "*No output.*"
    if _is_json(text):
        return fence(text, "json")
    if _MARKDOWN_HINT.search(text) and is_self_contained(text):
        return text
    return fence(text, "text")


def _analyzer_list(run: AgentRun) -> str:
    """An analyzer's findings one line each: its raw output is machine data for tools."""
    assert run.review is not None
    findings = run.review.findings
    lines = [
        " ".join(
            part
            for part in (
                f"{f.id}",
                code_span(f.rule) if f.rule and not f.title.startswith(f.rule) else "",
                f"({f.severity})",
                " ".join(f.title.split()),
                "— " + ", ".join(code_span(loc.label()) for loc in f.locations)
                if f.locations
                else "",
            )
            if part
        )
        for f in findings[:APPENDIX_FINDINGS]
    ]
    if len(findings) > APPENDIX_FINDINGS:
        lines.append(f"… and {len(findings) - APPENDIX_FINDINGS} more ({IN_JSON})")
    summary = " ".join(run.review.summary.split())
    listed = "\n".join(f"- {line}" for line in lines) or "*No findings.*"
    return f"{summary}\n\n{listed}" if summary else listed


def run_status(run: AgentRun) -> str:
    """`Failed: reason` for a run without a review, a cache note, or nothing."""
    if not run.applicable:
        return f"Not applicable: {' '.join(failure_reason(run).split())}"
    if is_failed(run):
        return f"{RUN_STATUS_LABELS[run.status]}: {' '.join(failure_reason(run).split())}"
    return "Cached result, reused for the same code and settings." if run.cached else ""


def _appendix_entry(run: AgentRun) -> AppendixEntry:
    notes = (*run.notes, *(run.review.parse_notes if run.review else []))
    if run.kind != "ai" and run.review is not None and not is_failed(run):
        body = _analyzer_list(run)
    else:
        body = clip(appendix_body(run.raw_output), APPENDIX_LIMIT)
    return AppendixEntry(run, run_status(run), notes, body)
