"""What a CI job leaves behind: the job summary and the step outputs, always redacted."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from deepreview.redact import Redactor
from deepreview.schema import SEVERITIES, Report

#: GitHub refuses a step summary over 1 MiB; the whole summary of a step stays below it.
SUMMARY_LIMIT_BYTES = 1024 * 1024
_TRIM_NOTE = "\n\n… (trimmed to fit the job summary; the full report is in {where})\n"


def job_outputs(report: Report, paths: Mapping[str, Path]) -> dict[str, str]:
    """The outputs of a review: verdict, counts by severity, cost, round and report paths."""
    costs = [r.cost_usd for r in report.runs if r.cost_usd is not None]
    out: dict[str, str] = {
        "verdict": report.verdict.decision,
        "round": str(report.round),
        "findings": str(len(report.findings)),
        **{s: str(sum(1 for f in report.findings if f.severity == s)) for s in SEVERITIES},
        "cost_usd": f"{sum(costs):.4f}" if costs else "",
        "report_id": report.id,
    }
    out |= {f"report_{fmt}": str(path) for fmt, path in paths.items()}
    return out


def trim_summary(markdown: str, where: str, limit: int = SUMMARY_LIMIT_BYTES) -> str:
    """`markdown` cut at a line boundary so that, with a note naming `where`, it fits `limit`
    bytes of UTF-8."""
    data = markdown.encode("utf-8", "replace")
    if len(data) <= limit:
        return markdown
    note = _TRIM_NOTE.format(where=where)
    cut = data[: limit - len(note.encode("utf-8"))].decode("utf-8", "ignore")
    return cut[: cut.rfind("\n") + 1 or len(cut)] + note


def append_summary(path: Path, markdown: str, where: str, redactor: Redactor) -> None:
    """Append the report to the job summary file, trimmed to what the summary still has room
    for (earlier steps may have written to it)."""
    used = path.stat().st_size if path.exists() else 0
    text = trim_summary(redactor.text(markdown), where, max(SUMMARY_LIMIT_BYTES - used, 1024))
    with path.open("a", encoding="utf-8", errors="replace") as fh:
        fh.write(text)


def append_outputs(path: Path, outputs: Mapping[str, str], redactor: Redactor) -> None:
    """Append `outputs` to a GITHUB_OUTPUT file (multi-line values as heredocs)."""
    lines: list[str] = []
    for name, value in outputs.items():
        value = redactor.text(value)
        if "\n" in value or "\r" in value:
            delimiter = f"DEEPREVIEW_{secrets.token_hex(8)}"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    with path.open("a", encoding="utf-8", errors="replace") as fh:
        fh.write("\n".join(lines) + "\n")


def write_dotenv(path: Path, outputs: Mapping[str, str], redactor: Redactor) -> None:
    """The outputs as a dotenv file (GitLab's `artifacts:reports:dotenv`), one line each."""
    lines = [
        f"DEEPREVIEW_{k.upper()}={' '.join(redactor.text(v).split())}" for k, v in outputs.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
