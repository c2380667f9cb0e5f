"""The terminal summary printed when a review ends."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from deepreview.cli.summary import TOP_FINDINGS, print_summary
from deepreview.schema import ConsolidatedFinding, Report
from tests.factories import empty_report, sample_report


def summary(report: Report, path: Path | None = None) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    print_summary(report, console, path)
    return out.getvalue()


def test_sample_summary() -> None:
    text = summary(sample_report(), Path("/tmp/reviews/20260504-140731-pr-42.md"))
    lines = text.splitlines()
    assert lines[0].startswith("Deep Review 20260504-140731-pr-42: Rework — C1 lets")
    assert lines[1].strip() == "1 critical · 2 important · 2 suggestions"
    assert [line.split()[0] for line in lines[2:7]] == ["C1", "I1", "I2", "S1", "S2"]
    assert "src/invoicer/store.py:48-50  [Claude Opus 4.7, Codex GPT 5.4]" in lines[2]
    assert "✗ Gemini 3.1 Pro failed: 429 capacity" in text
    assert "Claude Opus 4.7" not in "".join(lines[7:])  # only failed agents are listed
    assert lines[-1] == "Report written to /tmp/reviews/20260504-140731-pr-42.md"


def test_empty_summary_without_path() -> None:
    text = summary(empty_report())
    assert text.splitlines() == [
        "Deep Review 20260504-090000-fix-typo: Merge as-is — nothing to fix",
        "  No findings.",
    ]


def test_long_lists_are_cut_and_markup_is_printed_literally() -> None:
    report = sample_report()
    extra = [
        ConsolidatedFinding(
            id=f"S{n}",
            fingerprint=f"f{n}",
            severity="suggestion",
            title=f"[bold]tip {n}[/]",
            agents=[],
        )
        for n in range(3, 6)
    ]
    text = summary(report.model_copy(update={"findings": [*extra, *report.findings]}))
    assert f"… and {len(extra) + len(report.findings) - TOP_FINDINGS} more" in text
    # Most severe first, report order within a severity; titles are not parsed as markup.
    shown = [line.split()[0] for line in text.splitlines()[2 : 2 + TOP_FINDINGS]]
    assert shown == ["C1", "I1", "I2", "S3", "S4"]
    assert "S3  [bold]tip 3[/]" in text
