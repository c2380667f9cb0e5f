"""The Markdown report in the reference format (docs/report-format.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from deepreview.render.durations import wall_clock
from deepreview.render.fences import code_span, fence, is_self_contained
from deepreview.render.languages import language_for
from deepreview.render.retro_table import retro_columns, retro_table
from deepreview.render.reviewers import (
    agent_display,
    failure_reason,
    is_failed,
    reviewer_label,
    reviewer_name,
)
from deepreview.schema import (
    SEVERITIES,
    AgentRun,
    AttributedText,
    ConsolidatedFinding,
    DroppedFinding,
    Location,
    ReconciliationEntry,
    Report,
    Severity,
)

NONE = "None."
SEPARATOR = "\n\n---\n\n"

SEVERITY_SECTIONS: dict[Severity, str] = {
    "critical": "Critical Issues",
    "important": "Important Issues",
    "suggestion": "Suggestions",
}

_MARKDOWN_HINT = re.compile(r"^(#{1,6} \S|\*\*\S|[-*] \S|\d+\. \S)", re.MULTILINE)


def render_markdown(report: Report) -> str:
    """The whole report as Markdown, ending with one newline."""
    sections = [
        _title_and_header(report) + "\n\n" + _executive_summary(report),
        *(_findings_section(report, severity) for severity in SEVERITIES),
        _design_observations(report),
        _assessment("Testing Assessment", report, report.testing),
        _assessment("Documentation Assessment", report, report.documentation),
        _assessment("Commit Structure", report, report.commit_structure),
        _limitations(report),
        _unresolved_feedback(report),
        _retro(report),
    ]
    if report.notes:
        sections.append(_section("Review Process Notes", _bullets(report.notes)))
    sections.append(_appendix(report))
    return SEPARATOR.join(sections) + "\n"


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


def _date(created_at: datetime) -> str:
    """The review's start as recorded, in the time zone it was recorded in."""
    return created_at.strftime("%Y-%m-%d %H:%M")


def _github_base(repo_url: str | None) -> str | None:
    if not repo_url:
        return None
    parts = urlsplit(repo_url)
    if parts.hostname not in ("github.com", "www.github.com"):
        return None
    return f"{parts.scheme or 'https'}://github.com"


def _header_rows(report: Report) -> list[tuple[str, str]]:
    target = report.target
    pr = target.pr
    repo_url = (target.repo_url or "").rstrip("/")
    github = _github_base(repo_url)
    rows = [("Date", _date(report.created_at))]
    if target.repo or target.repo_url:
        rows.append(("Repo", _link(target.repo or target.repo_url or "", target.repo_url)))
    round_text = str(report.round)
    if report.round_of:
        round_text += f" (of {report.round_of})"
    rows.append(("Round", round_text))
    if pr and pr.author:
        login = pr.author.removeprefix("@")
        rows.append(("Author", _link(f"@{login}", f"{github}/{login}" if github else None)))
    if pr:
        pr_url = pr.url or (f"{repo_url}/pull/{pr.number}" if github else None)
        rows.append(("PR", _join(_link(f"#{pr.number}", pr_url), _one_line(pr.title), sep=" — ")))
    if target.branch:
        rows.append(("Branch", code_span(target.branch)))
    if target.commits:
        commits = [f"{code_span(c.sha[:7])} {_one_line(c.subject)}" for c in target.commits]
        rows.append(("Commits", "<br>".join(commits)))
    if target.head_sha:
        rows.append(("Review SHA", code_span(target.head_sha)))
    if report.runs:
        rows.append(("Reviewers", ", ".join(reviewer_label(run) for run in report.runs)))
    verdict = report.verdict
    rows.append(("Verdict", _join(f"**{verdict.decision}**", verdict.reason, sep=" — ")))
    if report.wall_clock_s > 0:
        rows.append(("Wall-clock time", code_span(wall_clock(report.wall_clock_s))))
    return rows


def _title_and_header(report: Report) -> str:
    rows = [(f"**{name}**", value) for name, value in _header_rows(report)]
    return f"# Deep Review: {report.id}\n\n" + _table(["", ""], rows)


# --------------------------------------------------------------------------- summary


def _structure_line(report: Report) -> str:
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES}
    suggestions = "Suggestion" if counts["suggestion"] == 1 else "Suggestions"
    return (
        f"**Structure:** {counts['critical']} Critical, {counts['important']} Important, "
        f"{counts['suggestion']} {suggestions}."
    )


def _previous_round(report: Report) -> str:
    return f"round {report.round - 1}" if report.round > 1 else "the previous round"


def _prior_round_list(report: Report) -> str:
    items = []
    for prior in report.prior_findings:
        status = prior.status.replace("-", " ")
        now = f" (now {prior.current_id})" if prior.current_id else ""
        items.append(f"{prior.id} **{_one_line(prior.title)}** — {status}{now}")
    return f"**Findings of {_previous_round(report)}:**\n\n" + _bullets(items)


def _executive_summary(report: Report) -> str:
    blocks = [report.summary.strip("\n") or NONE, _structure_line(report)]
    if report.prior_findings:
        blocks.append(_prior_round_list(report))
    return _section("Executive Summary", "\n\n".join(blocks))


# --------------------------------------------------------------------------- findings


def _finding_heading(finding: ConsolidatedFinding) -> str:
    return _join(
        f"{finding.id}. **{_one_line(finding.title)}**",
        f"— {_locations(finding.locations)}" if finding.locations else "",
        f"({finding.severity}, {finding.category})",
        "" if finding.in_diff else "(outside the diff)",
        _agents(finding.agents),
    )


def _prior_status(report: Report, finding: ConsolidatedFinding) -> str:
    if finding.prior_status is None or report.round <= 1:
        return ""
    if finding.prior_status == "new":
        return f"**New** in round {report.round}"
    labels = {"still-present": "Still present", "changed": "Changed", "fixed": "Fixed"}
    text = f"**{labels[finding.prior_status]}** from {_previous_round(report)}"
    earlier = next((p for p in report.prior_findings if p.current_id == finding.id), None)
    if earlier is not None and earlier.id != finding.id:
        text += f" (was {earlier.id})"
    return text


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


def _finding(report: Report, finding: ConsolidatedFinding) -> str:
    blocks = [
        _finding_heading(finding),
        _prior_status(report, finding),
        _excerpt(finding),
        finding.body.strip("\n"),
        _fix(finding.fix) if finding.fix and finding.fix.strip() else "",
    ]
    return "\n\n".join(b for b in blocks if b)


def _findings_section(report: Report, severity: Severity) -> str:
    found = [_finding(report, f) for f in report.findings if f.severity == severity]
    return _section(SEVERITY_SECTIONS[severity], "\n\n".join(found))


# --------------------------------------------------------------------------- observations


def _observation(title: str, locations: Sequence[Location], tag: str, agents: list[str]) -> str:
    return _join(
        f"**{_one_line(title)}**",
        f"— {_locations(locations)}" if locations else "",
        tag,
        _agents(agents),
    )


def _design_observations(report: Report) -> str:
    concerns = [
        _list_item(
            f"{n}.",
            _join(
                _observation(c.title, c.locations, f"({c.scope})", c.agents),
                c.body.strip("\n"),
                sep=" — ",
            ),
        )
        for n, c in enumerate(report.concerns, start=1)
    ]
    strengths = [
        _join(_observation(s.title, s.locations, "", s.agents), s.body.strip("\n"), sep=" — ")
        for s in report.strengths
    ]
    body = (
        f"### Concerns\n\n{chr(10).join(concerns) or NONE}\n\n"
        f"### Strengths\n\n{_bullets(strengths) or NONE}"
    )
    return _section("Design Observations", body)


def _assessment(title: str, report: Report, texts: Sequence[AttributedText]) -> str:
    paragraphs = [
        f"**[{agent_display(report, t.agent)}]** {t.text.strip()}" for t in texts if t.text.strip()
    ]
    return _section(title, "\n\n".join(paragraphs))


def _limitations(report: Report) -> str:
    stated = [
        _join(
            code_span(lim.location.label()) if lim.location else "",
            f"“{lim.quote.strip()}”",
            lim.judgement.strip(),
            sep=" — ",
        )
        + (f" {_agents(lim.agents)}" if lim.agents else "")
        for lim in report.limitations
    ]
    declined = [
        f"**{_one_line(d.title)}** — declined in round {d.round}: {d.reason.strip()}"
        for d in report.declined
    ]
    body = _join(
        _bullets(stated) or NONE,
        "### Declined in prior rounds",
        _bullets(declined) or NONE,
        sep="\n\n",
    )
    return _section("Acknowledged Limitations", body)


def _unresolved_feedback(report: Report) -> str:
    items = []
    for comment in report.unresolved_feedback:
        author = _link(f"@{comment.author.removeprefix('@')}", comment.url)
        where = f"on {code_span(comment.location.label())}" if comment.location else ""
        items.append(_join(_join(author, where), comment.body.strip(), sep=" — "))
    return _section("Unresolved Feedback", _bullets(items))


# --------------------------------------------------------------------------- retro


def _retro_summary(report: Report) -> str:
    if not report.retro:
        return NONE
    header = ["", *(f"~~{name}~~" if failed else name for name, failed in retro_columns(report))]
    return _table(header, [[name, *cells] for name, cells in retro_table(report)])


def _same_agent(report: Report, a: str, b: str) -> bool:
    return agent_display(report, a) == agent_display(report, b)


def _dropped_for(
    report: Report, agent: str, finding_id: str, dropped: Sequence[DroppedFinding]
) -> DroppedFinding | None:
    return next(
        (d for d in dropped if d.finding_id == finding_id and _same_agent(report, d.agent, agent)),
        None,
    )


def _reconciliation_entry(
    report: Report, entry: ReconciliationEntry, drop: DroppedFinding | None
) -> str:
    who = f"{agent_display(report, entry.agent)} {entry.finding_id}"
    if drop is not None:
        who += f" “{_one_line(drop.title)}”"
    if entry.consolidated_id is None:
        kind = drop.kind.replace("-", " ") if drop else "no consolidated finding"
        text = f"{who} → dropped ({kind})"
    else:
        text = f"{who} → {entry.consolidated_id}"
    if entry.to_severity is not None and entry.to_severity != entry.from_severity:
        text += f", {entry.from_severity} → {entry.to_severity}"
    note = entry.note.strip() or (drop.reason.strip() if drop else "")
    return f"{text}: {note}" if note else text


def _reconciliation(report: Report) -> str:
    items = [
        _reconciliation_entry(
            report, e, _dropped_for(report, e.agent, e.finding_id, report.dropped)
        )
        for e in report.reconciliation
    ]
    for drop in report.dropped:
        if not any(
            e.finding_id == drop.finding_id and _same_agent(report, e.agent, drop.agent)
            for e in report.reconciliation
        ):
            who = f"{agent_display(report, drop.agent)} {drop.finding_id}"
            kind = drop.kind.replace("-", " ")
            items.append(f"{who} “{_one_line(drop.title)}” → dropped ({kind}): {drop.reason}")
    return _bullets(items) or NONE


def _retro(report: Report) -> str:
    narratives = [
        f"### {agent_display(report, row.agent)}\n\n{row.narrative.strip() or NONE}"
        for row in report.retro
    ]
    blocks = [
        *narratives,
        f"### Summary\n\n{_retro_summary(report)}",
        f"### Reconciliation\n\n{_reconciliation(report)}",
    ]
    return _section("Agent Performance Retro", "\n\n".join(blocks))


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


def _run_status(run: AgentRun) -> str:
    if is_failed(run):
        label = {"failed": "Failed", "timeout": "Timed out", "skipped": "Skipped"}[run.status]
        return f"*{label}: {_one_line(failure_reason(run))}*"
    return "*Cached result, reused for the same code and settings.*" if run.cached else ""


def _appendix_run(run: AgentRun) -> str:
    notes = [*run.notes, *(run.review.parse_notes if run.review else [])]
    blocks = [
        f"### [{run.agent}] — {reviewer_name(run)}",
        _run_status(run),
        _bullets([f"*Note:* {note}" for note in notes]),
        appendix_body(run.raw_output),
    ]
    return "\n\n".join(b for b in blocks if b)


def _appendix(report: Report) -> str:
    return _section(
        "Appendix: Original Reviews", "\n\n".join(_appendix_run(run) for run in report.runs)
    )
