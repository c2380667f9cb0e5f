"""The Markdown report in the reference format (docs/report-format.md), from the outline."""

from __future__ import annotations

from collections.abc import Sequence

from deepreview.render.fences import code_span, fence
from deepreview.render.languages import language_for
from deepreview.render.outline import (
    IN_JSON,
    NO_COMMAND,
    SKIPPED_INTRO,
    AppendixSection,
    AssessmentSection,
    Cell,
    Code,
    CommitsCell,
    DesignSection,
    ExecutedBlock,
    FeedbackSection,
    FindingItem,
    FindingsSection,
    LimitationsSection,
    Link,
    NotesSection,
    PullRequestCell,
    ReconciliationRow,
    ReproductionsSection,
    RetroSection,
    ReviewersCell,
    Section,
    SummarySection,
    Text,
    VerdictCell,
    outline,
    step_line,
)
from deepreview.render.reviewers import reviewer_label, reviewer_name
from deepreview.schema import ConsolidatedFinding, Location, Report
from deepreview.scope import Scope
from deepreview.words import plural

NONE = "None."
SEPARATOR = "\n\n---\n\n"


def render_markdown(report: Report) -> str:
    """The whole report as Markdown, ending with one newline."""
    doc = outline(report)
    verdict = doc.lead.verdict
    lead = _join(f"**Verdict: {verdict.decision}**", verdict.reason, sep=" — ")
    lead += f" ({_counts_text(doc.lead.counts)})"
    header = f"# {doc.title}\n\n{lead}\n\n" + _table(
        ["", ""], [(f"**{row.name}**", _header_cell(row.cell)) for row in doc.header]
    )
    sections = [_format_section(section) for section in doc.sections]
    return SEPARATOR.join([header + "\n\n" + sections[0], *sections[1:]]) + "\n"


# --------------------------------------------------------------------------- building blocks


def _section(title: str, body: str) -> str:
    return f"## {title}\n\n{body or NONE}"


def _list_item(marker: str, text: str) -> str:
    """A list item whose continuation lines stay inside it."""
    indent = " " * (len(marker) + 1)
    first, *rest = text.strip("\n").split("\n")
    lines = [f"{marker} {first}"] + [indent + line if line.strip() else "" for line in rest]
    return "\n".join(lines)


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(_list_item("-", item) for item in items)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """A table cell: one line, pipes escaped."""
    return _one_line(text).replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "|" + "|".join(f" {_cell(c)} " if c else " " for c in cells) + "|"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [_row(header), "|" + "---|" * len(header), *(_row(row) for row in rows)]
    return "\n".join(lines)


def _link(text: str, url: str | None) -> str:
    if not url:
        return text
    safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{text}]({safe})"


def _agents(agents: Sequence[str]) -> str:
    return f"[{', '.join(agents)}]" if agents else ""


def _locations(locations: Sequence[Location]) -> str:
    return ", ".join(code_span(loc.label()) for loc in locations)


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


# --------------------------------------------------------------------------- header


def _header_cell(cell: Cell) -> str:
    match cell:
        case Text(text):
            return _one_line(text)
        case Code(text):
            return code_span(text)
        case Link(text, url):
            return _link(text, url)
        case PullRequestCell(number, url, title):
            return _join(_link(f"#{number}", url), _one_line(title), sep=" — ")
        case CommitsCell(commits, more):
            lines = [f"{code_span(c.sha)} {_one_line(c.subject)}" for c in commits]
            if more:
                lines.append(f"… and {more} more (see Commit Structure)")
            return "<br>".join(lines)
        case ReviewersCell(runs):
            return ", ".join(reviewer_label(run) for run in runs)
        case VerdictCell(verdict):
            return _join(
                f"**{verdict.decision}**"
                + (f" ({verdict.qualifier})" if verdict.qualifier else ""),
                verdict.reason,
                sep=" — ",
            )


# --------------------------------------------------------------------------- sections


def _counts_text(counts: Sequence[tuple[str, int]]) -> str:
    """`1 Critical, 2 Important, 2 Suggestions`."""
    named = {"critical": "Critical", "important": "Important", "suggestion": "Suggestion"}
    return ", ".join(
        f"{n} {named[s]}{'s' if s == 'suggestion' and n != 1 else ''}" for s, n in counts
    )


def _summary(section: SummarySection) -> str:
    structure = f"**Structure:** {_counts_text(section.counts)}."
    blocks = [
        *([f"**The change:** {section.change}"] if section.change else []),
        section.summary or NONE,
        *([section.closed] if section.closed else []),
        structure,
    ]
    if section.priors:
        items = [
            f"{p.prior.id} **{_one_line(p.prior.title)}** — {p.status}"
            + (f" (now {p.prior.current_id})" if p.prior.current_id else "")
            for p in section.priors
        ]
        blocks.append(f"**Findings of {section.previous_round}:**\n\n" + _bullets(items))
    return _section(section.title, "\n\n".join(blocks))


def _finding_heading(finding: ConsolidatedFinding) -> str:
    return _join(
        f"{finding.id}. **{_one_line(finding.title)}**",
        f"— {_locations(finding.locations)}" if finding.locations else "",
        f"({finding.severity}, {finding.category})",
        "(outside the diff)" if finding.scope not in (None, Scope.ADDED) else "",
        _agents(finding.agents),
    )


def _excerpt(finding: ConsolidatedFinding) -> str:
    if not finding.excerpt:
        return ""
    lang = finding.excerpt_lang
    if lang is None:
        lang = language_for(finding.locations[0].path) if finding.locations else ""
    return fence(finding.excerpt, lang)


def _fix(fix: str) -> str:
    text = fix.strip("\n")
    return f"Fix:\n\n{text}" if text.lstrip().startswith(("```", "~~~")) else f"Fix: {text}"


def _finding(item: FindingItem) -> str:
    finding = item.finding
    blocks = [
        _finding_heading(finding),
        f"**{item.prior.label}**{item.prior.rest}" if item.prior else "",
        _excerpt(finding),
        finding.body.strip("\n"),
        _fix(finding.fix) if finding.fix and finding.fix.strip() else "",
        _repro_link(item),
        f"*{item.partial}*" if item.partial else "",
    ]
    return "\n\n".join(b for b in blocks if b)


def _repro_link(item: FindingItem) -> str:
    if item.repro is None or item.finding.reproduction is None:
        return ""
    target = f"[Reproductions → {item.finding.id}](#{item.repro})"
    return f"Reproduction: {target} — *{item.finding.reproduction}*"


def _reproductions(section: ReproductionsSection) -> str:
    blocks = [_bullets(section.facts)]
    for entry in section.entries:
        r = entry.reproduction
        repro = r.repro
        parts = [
            f'<a id="{entry.anchor}"></a>\n### {_one_line(entry.heading)}',
            f"Repro by {r.reviewer} ({r.finding_id}): **{r.label}** — {r.reason}.",
        ]
        if repro.kind == "test" and repro.path:
            parts.append(
                f"Saved as {code_span(repro.path)}; run with "
                f"{code_span(repro.command or '(by its name)')} from the repository root:"
            )
        else:
            parts.append("Run with `bash` from the repository root:")
        parts.append(fence(repro.content, f"{entry.lang} repro"))
        if repro.fix_patch:
            parts += ["The agent's fix:", fence(repro.fix_patch, "diff patch")]
        for title, step in entry.steps:
            parts.append(f"{title}: {step_line(step)}.")
            if step.output.strip():
                parts.append(fence(step.output, "text repro-output"))
        blocks.append("\n\n".join(parts))
    return _section(section.title, "\n\n".join(blocks))


def _brief(finding: ConsolidatedFinding) -> str:
    return _join(
        f"{finding.id}. **{_one_line(finding.title)}**",
        f"— {_locations(finding.locations[:1])}" if finding.locations else "",
        _agents(finding.agents),
    )


def _findings(section: FindingsSection) -> str:
    blocks = [_finding(item) for item in section.findings]
    if section.brief:
        blocks.append(
            f"*{len(section.brief)} more, by title only:*\n\n"
            + _bullets([_brief(f) for f in section.brief])
        )
    if section.more:
        blocks.append(f"*… and {section.more} more ({IN_JSON}).*")
    return _section(section.title, "\n\n".join(blocks))


def _observation(title: str, locations: Sequence[Location], tag: str, agents: list[str]) -> str:
    return _join(
        f"**{_one_line(title)}**",
        f"— {_locations(locations)}" if locations else "",
        tag,
        _agents(agents),
    )


def _design(section: DesignSection) -> str:
    concerns = [
        _observation_item(f"{n}.", c.title, c.locations, f"({c.scope})", c.agents, c.body)
        for n, c in enumerate(section.concerns, start=1)
    ]
    strengths = [
        _join(_observation(s.title, s.locations, "", s.agents), s.body.strip("\n"), sep=" — ")
        for s in section.strengths
    ]
    body = (
        f"### Concerns\n\n{chr(10).join(concerns) or NONE}\n\n"
        f"### Strengths\n\n{_bullets(strengths) or NONE}"
    )
    if section.pre_existing:
        body += f"\n\n### Pre-existing\n\n{_pre_existing(section.pre_existing)}"
    if section.more_pre_existing:
        body += f"\n\n*… and {section.more_pre_existing} more ({IN_JSON}).*"
    return _section(section.title, body)


def _pre_existing(findings: Sequence[ConsolidatedFinding]) -> str:
    """Findings on code the change did not introduce: listed, not counted."""
    return "\n".join(
        _observation_item(
            f"{f.id}.", f.title, f.locations, f"({f.severity}, {f.category})", f.agents, f.body
        )
        for f in findings
    )


def _observation_item(
    label: str,
    title: str,
    locations: list[Location],
    tag: str,
    agents: list[str],
    body: str,
) -> str:
    return _list_item(
        label, _join(_observation(title, locations, tag, agents), body.strip("\n"), sep=" — ")
    )


def _assessment(section: AssessmentSection) -> str:
    blocks = [f"**[{p.display}]** {p.text}" for p in section.paragraphs]
    if section.commits:
        total = len(section.commits) + section.more_commits
        listed = [f"{code_span(c.sha)} {_one_line(c.subject)}" for c in section.commits]
        if section.more_commits:
            listed.append(f"… and {section.more_commits} more ({IN_JSON})")
        blocks.append(f"**All {total} commits:**\n\n" + _bullets(listed))
    if section.executed is not None:
        blocks.append(_executed(section.executed))
    return _section(section.title, "\n\n".join(blocks))


def _executed(block: ExecutedBlock) -> str:
    parts = ["### Executed by deepreview", _bullets(block.facts)]
    rows = block.commands.rows
    parts.append(_table(block.commands.header, rows) if rows else NO_COMMAND)
    if block.rubric is not None:
        parts += ["### Testing rubric", _table(block.rubric.header, block.rubric.rows)]
    if block.notes:
        parts.append(_bullets(block.notes))
    return "\n\n".join(parts)


def _limitations(section: LimitationsSection) -> str:
    stated = [
        _join(
            code_span(lim.location.label()) if lim.location else "",
            f"“{lim.quote.strip()}”",
            lim.judgement.strip(),
            sep=" — ",
        )
        + (f" {_agents(lim.agents)}" if lim.agents else "")
        for lim in section.limitations
    ]
    declined = [
        f"**{_one_line(d.title)}** — declined in round {d.round}: {d.reason.strip()}"
        for d in section.declined
    ]
    body = _join(
        _bullets(stated) or NONE,
        "### Declined in prior rounds",
        _bullets(declined) or NONE,
        sep="\n\n",
    )
    return _section(section.title, body)


def _feedback(section: FeedbackSection) -> str:
    items = []
    for comment in section.comments:
        author = _link(f"@{comment.author.removeprefix('@')}", comment.url)
        where = f"on {code_span(comment.location.label())}" if comment.location else ""
        items.append(_join(_join(author, where), comment.body.strip(), sep=" — "))
    return _section(section.title, _bullets(items))


def _reconciliation_row(row: ReconciliationRow) -> str:
    text = f"{row.display} {row.finding_id}"
    if row.title:
        text += f" “{_one_line(row.title)}”"
    text += f" → {row.became or row.outcome}"
    if row.severity:
        text += f", {row.severity}"
    return f"{text}: {row.note}" if row.note else text


def _retro(section: RetroSection) -> str:
    narratives = [
        f"### {display}\n\n{row.narrative.strip() or NONE}" for row, display in section.narratives
    ]
    summary = NONE
    if section.narratives:
        header = ["", *(f"~~{name}~~" if failed else name for name, failed in section.columns)]
        summary = _table(header, [[name, *cells] for name, cells in section.rows])
    reconciliation = _bullets([_reconciliation_row(r) for r in section.reconciliation])
    if section.more_reconciliation:
        reconciliation += f"\n\n*… and {section.more_reconciliation} more ({IN_JSON}).*"
    blocks = [
        *narratives,
        f"### Summary\n\n{summary}",
        f"### Reconciliation\n\n{reconciliation or NONE}",
    ]
    if section.cross_examination:
        blocks.append(f"### Cross-examination\n\n{_bullets(list(section.cross_examination))}")
    return _section(section.title, "\n\n".join(blocks))


def _notes(section: NotesSection) -> str:
    items = list(section.notes)
    if section.skipped:
        total = len(section.skipped) + section.more_skipped
        files = [f"{code_span(s.path)} — {s.reason}" for s in section.skipped]
        if section.more_skipped:
            files.append(f"… and {section.more_skipped} more ({IN_JSON})")
        items.append(f"{plural(total, 'skipped file')}, {SKIPPED_INTRO}:\n\n" + _bullets(files))
    return _section(section.title, _bullets(items))


def _appendix(section: AppendixSection) -> str:
    entries = []
    for entry in section.entries:
        blocks = [
            f"### [{entry.run.agent}] — {reviewer_name(entry.run)}",
            f"*{entry.status}*" if entry.status else "",
            _bullets([f"*Note:* {note}" for note in entry.notes]),
            entry.body,
        ]
        entries.append("\n\n".join(b for b in blocks if b))
    return _section(section.title, "\n\n".join(entries))


def _format_section(section: Section) -> str:
    match section:
        case SummarySection():
            return _summary(section)
        case FindingsSection():
            return _findings(section)
        case ReproductionsSection():
            return _reproductions(section)
        case DesignSection():
            return _design(section)
        case AssessmentSection():
            return _assessment(section)
        case LimitationsSection():
            return _limitations(section)
        case FeedbackSection():
            return _feedback(section)
        case RetroSection():
            return _retro(section)
        case NotesSection():
            return _notes(section)
        case AppendixSection():
            return _appendix(section)
