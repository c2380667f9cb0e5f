"""The terminal summary printed when a review ends."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from deepreview.cli.summary import TOP_FINDINGS, print_summary
from deepreview.schema import ConsolidatedFinding, Examination, Report
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
        "Only the built-in reviewers ran (scan); no AI reviewer took part. `deepreview agents` "
        "shows how to add one.",
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


def builtins_only(report: Report) -> Report:
    return report.model_copy(update={"runs": [r for r in report.runs if r.kind != "ai"]})


def test_a_line_when_only_the_builtins_ran() -> None:
    assert "Only the built-in reviewers ran" not in summary(sample_report())
    text = summary(builtins_only(sample_report()))
    assert "Only the built-in reviewers ran (ruff); no AI reviewer took part." in text
    assert "`deepreview agents` shows how to add one." in text


def test_the_report_path_is_never_wrapped() -> None:
    out = io.StringIO()
    console = Console(file=out, width=40, color_system=None, force_terminal=False)
    path = Path("/a/very/long/folder/name/that/does/not/fit/in/forty/columns/report.md")
    print_summary(empty_report(), console, path)
    assert f"Report written to {path}" in out.getvalue().splitlines()


def test_fail_on_says_which_finding_set_the_exit_code() -> None:
    text = summary_with(sample_report(), "important")
    assert (
        "--fail-on important: exit 1, set by C1 (critical) SQL built from the customer name "
        "with an f-string at src/invoicer/store.py:48-50 [Claude Opus 4.7, Codex GPT 5.4]"
    ) in text
    assert "--fail-on critical: not reached (verdict Merge as-is), exit 0" in summary_with(
        empty_report(), "critical"
    )


def summary_with(report: Report, fail_on: str) -> str:
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None, force_terminal=False)
    print_summary(report, console, None, fail_on)
    return out.getvalue()


def test_progress_lines_count_findings_in_words() -> None:
    from deepreview.cli.progress import Progress
    from deepreview.runner import ProgressEvent

    out = io.StringIO()
    progress = Progress(Console(file=out, width=200, force_terminal=False, color_system=None))
    with progress:
        progress(
            ProgressEvent(agent="scan", display_name="scan", state="ok", elapsed_s=1.0, findings=1)
        )
        progress(
            ProgressEvent(agent="ruff", display_name="ruff", state="ok", elapsed_s=1.0, findings=2)
        )
    assert "scan: ok (1 finding)" in out.getvalue()
    assert "ruff: ok (2 findings)" in out.getvalue()


def test_cross_examinations_are_counted_by_outcome() -> None:
    question = {
        "claim": "x",
        "severity": "important",
        "sources": [{"agent": "codex", "finding_id": "I1", "severity": "important"}],
        "examiner": "Claude Opus 4.7",
        "examiner_agent": "claude",
    }
    outcomes = [("refute", "ok"), ("confirm", "ok"), ("refute", "ok"), ("uncertain", "timeout")]
    exams = [
        Examination.model_validate({**question, "verdict": v, "status": s}) for v, s in outcomes
    ]
    text = summary(sample_report().model_copy(update={"examinations": exams}))
    assert "Cross-examined 4 findings: 2 refuted (dropped), 1 confirmed, 1 timeout." in text
    assert "Cross-examined" not in summary(sample_report())
