"""The short summary printed to the terminal when a review ends."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.text import Text

from deepreview.cli.errors import FAIL_LEVELS
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


def fails(report: Report, fail_on: str | None) -> bool:
    """Whether the verdict reaches `--fail-on`."""
    return bool(fail_on) and report.verdict.decision in FAIL_LEVELS[fail_on or ""]


def fail_line(report: Report, fail_on: str) -> str:
    """One line saying which finding set the exit code, or that the level was not reached."""
    if not fails(report, fail_on):
        return f"--fail-on {fail_on}: not reached (verdict {report.verdict.decision}), exit 0"
    decisive = _top_findings(report)[0]
    agents = f" [{', '.join(decisive.agents)}]" if decisive.agents else ""
    where = f" at {decisive.locations[0].label()}" if decisive.locations else ""
    return (
        f"--fail-on {fail_on}: exit 1, set by {decisive.id} ({decisive.severity}) "
        f"{decisive.title}{where}{agents}"
    )


def builtins_only_line(report: Report) -> str | None:
    """A line saying that no AI reviewer took part, when none did."""
    if any(run.kind == "ai" for run in report.runs):
        return None
    names = ", ".join(run.agent for run in report.runs) or "none"
    return (
        f"Only the built-in reviewers ran ({names}); no AI reviewer took part. "
        "`deepreview agents` shows how to add one."
    )


#: How the summary names each verdict of an examination that ran.
_OUTCOME = {"refute": "refuted (dropped)", "confirm": "confirmed", "uncertain": "uncertain"}


def examinations_line(report: Report) -> str | None:
    """`Cross-examined 3 findings: 1 refuted (dropped), 1 confirmed, 1 failed.`, when any were."""
    exams = report.examinations
    if not exams:
        return None
    outcomes = Counter(e.status if e.status != "ok" else _OUTCOME[e.verdict] for e in exams)
    order = ("refuted (dropped)", "confirmed", "uncertain", "failed", "timeout", "skipped")
    parts = [f"{outcomes[k]} {k}" for k in order if outcomes[k]]
    plural = "s" if len(exams) > 1 else ""
    return f"Cross-examined {len(exams)} finding{plural}: {', '.join(parts)}."


def print_summary(
    report: Report, console: Console, path: Path | None, fail_on: str | None = None
) -> None:
    """Verdict, counts, top findings, failed agents, the cross-examinations, whether only
    built-ins ran, the `--fail-on` outcome and where the report was written (never
    wrapped)."""
    head = Text(f"Deep Review {report.id}: ")
    head.append(report.verdict.label(), style=_VERDICT_STYLE[report.verdict.decision])
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
    examined = examinations_line(report)
    if examined:
        console.print(Text(f"  {examined}"))
    only = builtins_only_line(report)
    if only:
        console.print(Text(only, style="yellow"))
    if fail_on:
        console.print(Text(fail_line(report, fail_on), style="bold"))
    if path is not None:
        console.print(Text(f"Report written to {path}", style="bold"), soft_wrap=True)
