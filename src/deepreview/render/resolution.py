"""The `## Resolution` section appended to a report after the author acted on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deepreview.render.fences import code_span
from deepreview.schema import Report

#: Action words accepted by `deepreview resolve`, and how the table spells them.
ACTIONS = {
    "fixed": "Fixed",
    "skipped": "Skipped",
    "declined": "Declined",
    "decline": "Declined",
    "test-written": "Test written",
    "commented": "Commented",
    "documentation-updated": "Documentation updated",
    "auto-resolved": "Auto-resolved",
}
_SEVERITY_WORD = {"critical": "Critical", "important": "Important", "suggestion": "Suggestion"}


@dataclass(frozen=True)
class ResolutionRow:
    """The author's action on one finding of the report."""

    finding_id: str
    action: str
    reason: str = ""


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def resolution_section(
    report: Report, rows: Sequence[ResolutionRow], addressed: str, commit: str | None
) -> str:
    """The Markdown section: a header table (date, commit) and `# | Finding | Action | Reason`.
    Raises KeyError for an id the report does not hold."""
    by_id = {f.id: f for f in [*report.findings, *report.pre_existing]}
    header = ["| | |", "|---|---|", f"| **Addressed** | {addressed} |"]
    if commit:
        header.append(f"| **Commit** | {code_span(commit)} |")
    table = ["| # | Finding | Action | Reason |", "|---|---|---|---|"]
    for n, row in enumerate(rows, start=1):
        f = by_id[row.finding_id]
        finding = f"{_SEVERITY_WORD[f.severity]} {f.id}: {_cell(f.title)}"
        table.append(f"| {n} | {finding} | {ACTIONS[row.action]} | {_cell(row.reason)} |")
    return "\n".join(["## Resolution", "", *header, "", *table, ""])
