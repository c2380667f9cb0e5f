"""The short summary printed to the terminal when a review ends."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from deepreview.render.reviewers import failure_reason, is_failed, reviewer_name
from deepreview.schema import SEVERITIES, ConsolidatedFinding, Report

#: How many findings the summary lists before "and N more".
TOP_FINDINGS = 5

_VERDICT_STYLE = {
    "Rework": "bold red",
    "Merge with fixes": "bold yellow",
    "Merge with optional fixes": "bold cyan",
    "Merge as-is": "bold green",
}
_SEVERITY_STYLE = {"critical": "red", "important": "yellow", "suggestion": "cyan"}


def _counts(report: Report) -> Text:
    if not report.findings:
        return Text("  No findings.")
    text = Text("  ")
    for n, severity in enumerate(SEVERITIES):
        count = sum(1 for f in report.findings if f.severity == severity)
        if n:
            text.append(" · ")
        label = "suggestions" if severity == "suggestion" and count != 1 else severity
        text.append(f"{count} {label}", style=_SEVERITY_STYLE[severity] if count else "dim")
    return text


def _finding_line(finding: ConsolidatedFinding) -> Text:
    text = Text("  ")
    text.append(f"{finding.id:<4}", style=_SEVERITY_STYLE[finding.severity])
    text.append(finding.title)
    if finding.locations:
        text.append(f"  {finding.locations[0].label()}", style="dim")
    if finding.agents:
        text.append(f"  [{', '.join(finding.agents)}]", style="dim")
    return text


def _top_findings(report: Report) -> list[ConsolidatedFinding]:
    order = {severity: n for n, severity in enumerate(SEVERITIES)}
    ranked = sorted(report.findings, key=lambda f: order[f.severity])
    return ranked[:TOP_FINDINGS]


def print_summary(report: Report, console: Console, path: Path | None) -> None:
    """Verdict, counts, top findings, failed agents and where the report was written."""
    head = Text(f"Deep Review {report.id}: ")
    head.append(report.verdict.decision, style=_VERDICT_STYLE[report.verdict.decision])
    if report.verdict.reason:
        head.append(f" — {report.verdict.reason}")
    console.print(head)
    console.print(_counts(report))
    for finding in _top_findings(report):
        console.print(_finding_line(finding))
    hidden = len(report.findings) - TOP_FINDINGS
    if hidden > 0:
        console.print(Text(f"  … and {hidden} more", style="dim"))
    for run in report.runs:
        if is_failed(run):
            line = Text("  ")
            skipped = run.status == "skipped"
            line.append("– " if skipped else "✗ ", style="yellow" if skipped else "red")
            line.append(f"{reviewer_name(run)} {run.status}: {failure_reason(run)}")
            console.print(line)
    if path is not None:
        console.print(Text(f"Report written to {path}", style="bold"))
