"""Plan a pull-request review from a report, for any forge: a summary body and inline comments.

Every comment starts with a hidden fingerprint marker and the summary with a report marker, so
publishing again edits what is there instead of adding duplicates. A forge (`forge/`) reads
what is already posted into `Posted` values and carries the plan out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from deepreview.ci.state import state_block
from deepreview.render.fences import code_span
from deepreview.schema import SEVERITIES, ConsolidatedFinding, Report

REPORT_MARKER = "<!-- deepreview:report -->"
RESOLVED_MARKER = "<!-- deepreview:resolved -->"
_FINGERPRINT_RE = re.compile(r"\A<!-- deepreview:fingerprint=(\S{1,100}) -->")
#: GitHub rejects bodies over 65,536 characters; stay clear of it.
_MAX_BODY = 60_000
_MAX_FINDING_TEXT = 20_000
_ROUND_ORDER = ("fixed", "still-present", "changed", "unaddressed", "new", "declined")


@dataclass(frozen=True)
class Posted:
    """A comment or review summary already on the pull request: its id and body."""

    id: int
    body: str


@dataclass(frozen=True)
class InlineComment:
    """A new comment on a new-side diff line; `start_line` is set for a line range."""

    fingerprint: str
    path: str
    line: int
    body: str
    start_line: int | None = None


@dataclass(frozen=True)
class CommentUpdate:
    """A new body for a comment already on the PR; `resolved` when its finding is gone."""

    comment_id: int
    fingerprint: str
    body: str
    resolved: bool = False


@dataclass(frozen=True)
class PublishPlan:
    """Exactly what publishing sends: one review body, new inline comments, comment edits.

    `review_id` names the summary review to update in place; None creates a new review that
    carries `comments`. `in_body` lists the fingerprints of findings shown only in the body;
    `report_url` is the full report's address the body links to.
    """

    report_id: str
    commit_id: str | None
    body: str
    review_id: int | None
    comments: tuple[InlineComment, ...]
    updates: tuple[CommentUpdate, ...]
    in_body: tuple[str, ...]
    report_url: str | None = None


def plan_review(
    report: Report,
    comments: Sequence[Posted],
    summaries: Sequence[Posted],
    *,
    report_url: str | None = None,
) -> PublishPlan:
    """Plan the review of `report` given the inline comments and summaries already posted.

    Only those carrying this tool's markers count. A finding goes inline when the scope stage
    gave it an anchor (lines of a changed hunk); the diff itself is not needed.
    """
    ours = _our_comments(comments)
    current = {f.fingerprint for f in report.findings}
    new: list[InlineComment] = []
    updates: list[CommentUpdate] = []
    in_body: list[str] = []
    for finding in report.findings:
        body = comment_body(finding)
        if finding.fingerprint in ours:
            comment_id, old = ours[finding.fingerprint]
            if old != body:
                updates.append(CommentUpdate(comment_id, finding.fingerprint, body))
            continue
        anchor = _anchor(finding)
        if anchor is None:
            in_body.append(finding.fingerprint)
        elif all(c.fingerprint != finding.fingerprint for c in new):
            path, start, line = anchor
            new.append(InlineComment(finding.fingerprint, path, line, body, start))
    resolved = 0
    for fp, (comment_id, old) in ours.items():
        if fp in current:
            continue
        resolved += 1
        if RESOLVED_MARKER not in old:
            declined = next((d for d in report.declined if d.fingerprint == fp), None)
            outcome = f"Declined: {_one_line(declined.reason)}" if declined else "Resolved"
            body = _resolved_body(fp, old, f"**{outcome}** in {code_span(report.id)}.")
            updates.append(CommentUpdate(comment_id, fp, body, resolved=True))
    return PublishPlan(
        report_id=report.id,
        commit_id=report.target.head_sha,
        body=summary_body(report, in_body, resolved=resolved, report_url=report_url),
        review_id=_summary_review_id(summaries),
        comments=tuple(new),
        updates=tuple(updates),
        in_body=tuple(in_body),
        report_url=report_url,
    )


def into_body(plan: PublishPlan, report: Report, moved: Iterable[InlineComment]) -> PublishPlan:
    """The plan with `moved` comments listed in the body instead of placed inline."""
    moved_fps = {c.fingerprint for c in moved}
    in_body = (
        *plan.in_body,
        *(f.fingerprint for f in report.findings if f.fingerprint in moved_fps),
    )
    resolved = sum(1 for u in plan.updates if u.resolved)
    return replace(
        plan,
        comments=tuple(c for c in plan.comments if c.fingerprint not in moved_fps),
        in_body=in_body,
        body=summary_body(report, in_body, resolved=resolved, report_url=plan.report_url),
    )


# --------------------------------------------------------------------------- existing state


def _our_comments(comments: Sequence[Posted]) -> dict[str, tuple[int, str]]:
    """Fingerprint -> (comment id, body) of this tool's review comments; the oldest wins."""
    ours: dict[str, tuple[int, str]] = {}
    for item in sorted(comments, key=lambda c: c.id):
        fingerprint = fingerprint_of(item.body)
        if fingerprint and fingerprint not in ours and item.id > 0:
            ours[fingerprint] = (item.id, item.body)
    return ours


def fingerprint_of(body: str) -> str | None:
    """The fingerprint a comment of this tool starts with, else None."""
    match = _FINGERPRINT_RE.match(body)
    return match[1] if match else None


def latest_summary(summaries: Sequence[Posted]) -> str | None:
    """The body of the newest summary of this tool, if any."""
    review_id = _summary_review_id(summaries)
    return next((s.body for s in summaries if s.id == review_id), None)


def _summary_review_id(summaries: Sequence[Posted]) -> int | None:
    """The newest summary whose body starts with the report marker."""
    ids = [s.id for s in summaries if s.body.startswith(REPORT_MARKER) and s.id > 0]
    return max(ids, default=None)


# --------------------------------------------------------------------------- placement


def _anchor(finding: ConsolidatedFinding) -> tuple[str, int | None, int] | None:
    """(path, start line or None, line) of the finding's anchor, placed by the scope stage."""
    a = finding.anchor
    if a is None or a.start_line is None:
        return None
    return a.path, (a.start_line if a.end_line else None), a.end_line or a.start_line


# --------------------------------------------------------------------------- bodies


def comment_body(finding: ConsolidatedFinding) -> str:
    """The inline comment for `finding`, starting with its fingerprint marker."""
    head = f"**{finding.id}. {_one_line(finding.title)}** · {finding.severity}, {finding.category}"
    if finding.agents:
        head += " · " + ", ".join(finding.agents)
    blocks = [_marker(finding.fingerprint), head, _clip(finding.body.strip(), _MAX_FINDING_TEXT)]
    if finding.fix and finding.fix.strip():
        blocks.append("**Fix:**\n\n" + _clip(finding.fix.strip("\n"), _MAX_FINDING_TEXT))
    return "\n\n".join(b for b in blocks if b)


def summary_body(
    report: Report, in_body: Sequence[str], *, resolved: int = 0, report_url: str | None = None
) -> str:
    """The review body: verdict, counts, findings not placed inline, link to the report."""
    counts = {s: sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES}
    suggestions = "Suggestion" if counts["suggestion"] == 1 else "Suggestions"
    inline = len(report.findings) - len(in_body)
    report_ref = f"Report {code_span(report.id)}"
    if report_url:
        report_ref += f" · [full report]({report_url})"
    blocks = [
        REPORT_MARKER,
        f"## deepreview: **{report.verdict.decision}**",
        _one_line(report.verdict.reason),
        f"{counts['critical']} Critical · {counts['important']} Important · "
        f"{counts['suggestion']} {suggestions} — {inline} as inline comments",
    ]
    if report.round > 1:
        blocks.append(rounds_line(report))
    if resolved:
        blocks.append(f"{resolved} earlier finding(s) no longer raised; their comments say so.")
    blocks.append(report_ref)
    if report.summary.strip():
        blocks.append(_clip(report.summary.strip(), _MAX_FINDING_TEXT))
    state = state_block(report)
    wanted = set(in_body)
    listed = [f for f in report.findings if f.fingerprint in wanted]
    if listed:
        blocks.append("### Not on diff lines")
        budget = _MAX_BODY - len(state) - sum(len(b) + 2 for b in blocks)
        blocks.append(_finding_list(listed, budget))
    blocks.append(state)
    return "\n\n".join(blocks)


def rounds_line(report: Report) -> str:
    """`Round 2: 1 fixed · 1 still present · 2 new`: what became of the previous round."""
    declined = {d.fingerprint for d in report.declined}
    counts = Counter[str](
        "declined" if p.fingerprint in declined else p.status
        for p in report.prior_findings
        if p.status == "fixed"
    )
    counts.update(f.prior_status for f in report.findings if f.prior_status)
    order = {status: i for i, status in enumerate(_ROUND_ORDER)}
    ranked = sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    parts = [f"{n} {status.replace('-', ' ')}" for status, n in ranked]
    return f"Round {report.round}: " + (" · ".join(parts) or "nothing carried over")


def _finding_list(findings: Sequence[ConsolidatedFinding], budget: int) -> str:
    """Bullets for `findings`, cut short (with a count of the rest) to fit `budget`."""
    lines: list[str] = []
    used = 0
    for i, f in enumerate(findings):
        where = ", ".join(code_span(loc.label()) for loc in f.locations)
        item = f"- **{f.id}. {_one_line(f.title)}**"
        item += f" — {where}" if where else ""
        item += f" ({f.severity}, {f.category})"
        item += f" [{', '.join(f.agents)}]" if f.agents else ""
        if f.body.strip():
            item += "\n  " + _clip(_one_line(f.body), 500)
        if used + len(item) + 200 > budget:
            lines.append(f"- … and {len(findings) - i} more in the full report")
            break
        lines.append(item)
        used += len(item) + 1
    return "\n".join(lines)


def _resolved_body(fingerprint: str, old: str, outcome: str) -> str:
    original = old.split("\n", 1)[1].strip() if "\n" in old else ""
    blocks = [_marker(fingerprint), RESOLVED_MARKER, outcome]
    if original:
        blocks.append(
            "<details><summary>Original comment</summary>\n\n"
            + _clip(original, _MAX_BODY - 500)
            + "\n\n</details>"
        )
    return "\n\n".join(blocks)


def _marker(fingerprint: str) -> str:
    return f"<!-- deepreview:fingerprint={fingerprint} -->"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _clip(text: str, limit: int) -> str:
    return (
        text if len(text) <= limit else text[:limit].rstrip() + "\n\n… (cut; see the full report)"
    )
