"""Reading an earlier round back from its report: findings, and the author's Resolution.

A report is read from its JSON or its Markdown (ours, or one in the same layout: severity
sections holding `I2. **Title** — `path:12`` items). A `## Resolution` section appended after
the author acted (a `# | Finding | Action | Reason` table) is read too: Skipped and Declined
rows become declined findings, which later rounds do not raise again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import ValidationError

from deepreview.consolidate.fingerprint import fingerprint
from deepreview.parse.appendix import without_appendix
from deepreview.prior import PriorRecord, PriorRound
from deepreview.schema import DeclinedFinding, Report

__all__ = ["DECLINE_ACTIONS", "ReportReadError", "Resolution", "read_prior", "read_resolution"]

#: Resolution actions by which the author declines a finding.
DECLINE_ACTIONS = ("skipped", "declined", "decline", "won't fix", "wontfix")

_SECTION = re.compile(r"^#{2,4}\s+\**(critical|important|suggestion)s?\b", re.I)
_OTHER_SECTION = re.compile(r"^#{1,4}\s+\S")
_ITEM = re.compile(
    r"^(?:#{2,5}\s+)?(?:(?P<id>[CISP]\d{1,3})|(?P<n>\d{1,3}))[.:)]\s+(?P<strike>~~)?"
    r"\*\*(?P<title>[^*\n]{1,300})\*\*"
    r"(?P<rest>[^\n]*)$"
)
_LOCATION = re.compile(r"`(?P<loc>[^`\s]{1,300}?(?::\d{1,7}(?:-\d{1,7})?)?)`")
_TAG = re.compile(r"\((?:critical|important|suggestion),\s*(?P<cat>[\w -]{1,40})\)", re.I)
_RESOLUTION = re.compile(r"^## Resolution\s*$", re.M)
_ROW_ID = re.compile(
    r"\b(?:(?P<id>[CISP]\d{1,3})|(?P<sev>critical|important|suggestion)\s+#(?P<n>\d{1,3}))\b",
    re.I,
)
_ROUND = re.compile(r"^\|\s*\**Round\**\s*\|\s*(?P<n>\d{1,4})\b", re.M | re.I)


class ReportReadError(ValueError):
    """The text is neither a report's JSON nor its Markdown."""


@dataclass(frozen=True)
class Resolution:
    """One row of a Resolution table: the finding id, the action (lower case), the reason."""

    finding_id: str
    action: str
    reason: str

    @property
    def declined(self) -> bool:
        """Whether the author declined the finding (it must not be raised again)."""
        return self.action.startswith(DECLINE_ACTIONS)


def read_resolution(text: str) -> list[Resolution]:
    """The rows of the last `## Resolution` section of a Markdown report."""
    starts = list(_RESOLUTION.finditer(text))
    if not starts:
        return []
    body = text[starts[-1].end() :]
    rows: list[Resolution] = []
    for line in body.split("\n"):
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or not cells[0].strip("# ").isdigit():
            continue
        m = _ROW_ID.search(cells[1])
        if m is None:
            continue
        fid = m.group("id") or f"{m.group('sev')[0]}{m.group('n')}"
        action, _, inline_reason = cells[2].partition("(")
        reason = cells[3] if len(cells) > 3 and cells[3] else inline_reason.rstrip(") ")
        rows.append(Resolution(fid.upper(), action.strip().strip('"').lower(), reason.strip()))
    return rows


def read_prior(text: str, round_: int = 1) -> PriorRound:
    """An earlier round from its report (JSON or Markdown); `round_` when the report does not
    say its round. Raises ReportReadError when the text is neither."""
    if text.lstrip().startswith("{"):
        return _from_json(text)
    findings = _markdown_findings(without_appendix(text))
    if not findings and not _RESOLUTION.search(text):
        raise ReportReadError("no findings and no Resolution section: not a review report")
    m = _ROUND.search(text)
    number = int(m.group("n")) if m else round_
    return PriorRound(number, None, findings, _declines(findings, read_resolution(text), number))


def _from_json(text: str) -> PriorRound:
    try:
        report = Report.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ReportReadError(f"not a report's JSON: {str(exc).splitlines()[0]}") from exc
    findings = [
        PriorRecord(
            f.id, f.fingerprint, f.severity, f.title, f.locations[0].label() if f.locations else ""
        )
        for f in [*report.findings, *report.pre_existing]
    ]
    return PriorRound(report.round, report.target.head_sha, findings, list(report.declined))


def _markdown_findings(text: str) -> list[PriorRecord]:
    out: list[PriorRecord] = []
    severity: str | None = None
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        section = _SECTION.match(line)
        if section:
            severity = section.group(1).lower()
            continue
        item = _ITEM.match(line)
        if item is None:
            if _OTHER_SECTION.match(line):
                severity = None
            continue
        if severity is None or item.group("strike"):
            continue
        fid = item.group("id") or f"{severity[0].upper()}{item.group('n')}"
        rest = item.group("rest")
        loc = _LOCATION.search(rest.split("[", 1)[0])
        location = loc.group("loc") if loc else ""
        tag = _TAG.search(rest)
        category = tag.group("cat").strip() if tag else "issue"
        title = item.group("title").strip()
        path = location.split(":", 1)[0] or None
        fp = fingerprint(path, title, category)
        out.append(PriorRecord(fid, fp, severity, title, location))
    return out


def _declines(
    findings: list[PriorRecord], rows: list[Resolution], number: int
) -> list[DeclinedFinding]:
    by_id = {f.id: f for f in findings}
    out: list[DeclinedFinding] = []
    for row in rows:
        f = by_id.get(row.finding_id)
        if not row.declined or f is None:
            continue
        out.append(
            DeclinedFinding(
                fingerprint=f.fingerprint,
                title=f.title,
                round=number,
                reason=row.reason or row.action,
                location=f.location or None,
            )
        )
    return out
