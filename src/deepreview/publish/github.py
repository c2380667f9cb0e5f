"""Publish a report as one GitHub pull-request review: a summary body and inline comments.

Every comment starts with a hidden fingerprint marker and the summary with a report marker, so
publishing again edits what is there instead of adding duplicates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from deepreview.ci.state import state_block
from deepreview.diff import Diff
from deepreview.render.fences import code_span
from deepreview.schema import SEVERITIES, ConsolidatedFinding, Report
from deepreview.source.github import GitHubClient, GitHubError

REPORT_MARKER = "<!-- deepreview:report -->"
RESOLVED_MARKER = "<!-- deepreview:resolved -->"
_FINGERPRINT_RE = re.compile(r"\A<!-- deepreview:fingerprint=(\S{1,100}) -->")
#: GitHub rejects bodies over 65,536 characters; stay clear of it.
_MAX_BODY = 60_000
_MAX_FINDING_TEXT = 20_000
_ROUND_ORDER = ("fixed", "still-present", "changed", "carried-over", "new", "declined")


@dataclass(frozen=True)
class InlineComment:
    """A new comment on a diff line (RIGHT side); `start_line` is set for a line range."""

    fingerprint: str
    path: str
    line: int
    body: str
    start_line: int | None = None

    def payload(self) -> dict[str, Any]:
        """The comment as GitHub's review API takes it."""
        out: dict[str, Any] = {"path": self.path, "line": self.line, "side": "RIGHT"}
        if self.start_line is not None:
            out |= {"start_line": self.start_line, "start_side": "RIGHT"}
        out["body"] = self.body
        return out


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
    carries `comments`. `in_body` lists the fingerprints of findings shown only in the body.
    """

    report_id: str
    commit_id: str | None
    body: str
    review_id: int | None
    comments: tuple[InlineComment, ...]
    updates: tuple[CommentUpdate, ...]
    in_body: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The plan as plain JSON-able data."""
        return {
            "report_id": self.report_id,
            "commit_id": self.commit_id,
            "review": {
                "action": "create" if self.review_id is None else "update",
                "review_id": self.review_id,
                "event": "COMMENT",
                "body": self.body,
            },
            "comments": [{"fingerprint": c.fingerprint, **c.payload()} for c in self.comments],
            "updates": [
                {
                    "comment_id": u.comment_id,
                    "fingerprint": u.fingerprint,
                    "resolved": u.resolved,
                    "body": u.body,
                }
                for u in self.updates
            ],
            "in_body": list(self.in_body),
        }


def plan_review(
    report: Report,
    diff: Diff | None,
    existing: Sequence[Mapping[str, Any]],
    *,
    report_url: str | None = None,
) -> PublishPlan:
    """Plan the review of `report` given the PR's existing review comments and reviews.

    `existing` holds GitHub's review-comment and review objects (anything with `id` and
    `body`); only those carrying this tool's markers count. A finding goes inline when one of
    its locations falls on a line of `diff` (or, without a diff, when it is `in_diff`).
    """
    ours = _our_comments(existing)
    current = {f.fingerprint for f in report.findings}
    comments: list[InlineComment] = []
    updates: list[CommentUpdate] = []
    in_body: list[str] = []
    for finding in report.findings:
        body = comment_body(finding)
        if finding.fingerprint in ours:
            comment_id, old = ours[finding.fingerprint]
            if old != body:
                updates.append(CommentUpdate(comment_id, finding.fingerprint, body))
            continue
        anchor = _anchor(finding, diff)
        if anchor is None:
            in_body.append(finding.fingerprint)
        elif all(c.fingerprint != finding.fingerprint for c in comments):
            path, start, line = anchor
            comments.append(InlineComment(finding.fingerprint, path, line, body, start))
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
        review_id=_summary_review_id(existing),
        comments=tuple(comments),
        updates=tuple(updates),
        in_body=tuple(in_body),
    )


def publish_review(
    report: Report,
    client: GitHubClient,
    repo: str,
    number: int,
    diff: Diff | None,
    *,
    dry_run: bool,
    report_url: str | None = None,
) -> PublishPlan:
    """Publish `report` on PR `number` of `repo` and return the plan as carried out.

    With `dry_run` only GET requests are made. Comments GitHub refuses to place (422: line not
    in the diff) are listed in the review body instead.
    """
    base = f"/repos/{repo}/pulls/{number}"
    existing = client.paginate(f"{base}/comments") + client.paginate(f"{base}/reviews")
    plan = plan_review(report, diff, existing, report_url=report_url)
    if dry_run:
        return plan
    commit_id = plan.commit_id or str(client.request("GET", base)["head"]["sha"])
    plan = replace(plan, commit_id=commit_id)
    for update in plan.updates:
        client.request(
            "PATCH", f"/repos/{repo}/pulls/comments/{update.comment_id}", json={"body": update.body}
        )
    if plan.review_id is None:
        review = {"commit_id": commit_id, "event": "COMMENT", "body": plan.body}
        try:
            client.request(
                "POST",
                f"{base}/reviews",
                json={**review, "comments": [c.payload() for c in plan.comments]},
            )
        except GitHubError as exc:
            if exc.status != 422 or not plan.comments:
                raise
            plan = _into_body(plan, report, plan.comments, report_url)
            client.request("POST", f"{base}/reviews", json={**review, "body": plan.body})
        return plan
    refused: list[InlineComment] = []
    for comment in plan.comments:
        try:
            client.request(
                "POST", f"{base}/comments", json={"commit_id": commit_id, **comment.payload()}
            )
        except GitHubError as exc:
            if exc.status != 422:
                raise
            refused.append(comment)
    if refused:
        plan = _into_body(plan, report, refused, report_url)
    client.request("PUT", f"{base}/reviews/{plan.review_id}", json={"body": plan.body})
    return plan


def _into_body(
    plan: PublishPlan, report: Report, moved: Iterable[InlineComment], report_url: str | None
) -> PublishPlan:
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
        body=summary_body(report, in_body, resolved=resolved, report_url=report_url),
    )


# --------------------------------------------------------------------------- existing state


def _our_comments(existing: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, str]]:
    """Fingerprint -> (comment id, body) of this tool's review comments; the oldest wins."""
    ours: dict[str, tuple[int, str]] = {}
    for item in sorted(existing, key=_item_id):
        body = item.get("body")
        if "path" not in item or item.get("in_reply_to_id") or not isinstance(body, str):
            continue
        match = _FINGERPRINT_RE.match(body)
        if match and match[1] not in ours and _item_id(item) > 0:
            ours[match[1]] = (_item_id(item), body)
    return ours


def fingerprint_of(body: str) -> str | None:
    """The fingerprint a comment of this tool starts with, else None."""
    match = _FINGERPRINT_RE.match(body)
    return match[1] if match else None


def latest_summary(existing: Sequence[Mapping[str, Any]]) -> str | None:
    """The body of the newest summary review of this tool, if any."""
    review_id = _summary_review_id(existing)
    return next(
        (
            str(item["body"])
            for item in existing
            if "path" not in item and _item_id(item) == review_id
        ),
        None,
    )


def _summary_review_id(existing: Sequence[Mapping[str, Any]]) -> int | None:
    """The newest review whose body starts with the report marker."""
    ids = [
        _item_id(item)
        for item in existing
        if "path" not in item
        and isinstance(item.get("body"), str)
        and item["body"].startswith(REPORT_MARKER)
        and _item_id(item) > 0
    ]
    return max(ids, default=None)


def _item_id(item: Mapping[str, Any]) -> int:
    value = item.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --------------------------------------------------------------------------- placement


def _anchor(finding: ConsolidatedFinding, diff: Diff | None) -> tuple[str, int | None, int] | None:
    """(path, start line or None, line) of the first location on RIGHT-side diff lines."""
    for loc in finding.locations:
        if loc.start_line is None or loc.start_line < 1:
            continue
        start, end = loc.start_line, max(loc.end_line or loc.start_line, loc.start_line)
        if diff is None:
            if finding.in_diff:
                return loc.path, (start if end > start else None), end
            continue
        fd = diff.file(loc.path)
        if fd is None or fd.new_path != loc.path or not fd.touches(start, end):
            continue
        for hunk in fd.hunks:
            lo, hi = max(start, hunk.new_start), min(end, hunk.new_start + hunk.new_count - 1)
            if lo <= hi:
                return loc.path, (lo if hi > lo else None), hi
    return None


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
