"""The outline both page renderers format: section order, header rows, shared labels."""

from __future__ import annotations

import ast
from pathlib import Path

import deepreview.render.html as html_module
from deepreview.render.outline import CommitsCell, FindingsSection, outline, run_status
from deepreview.schema import AgentRun
from tests.factories import HEADER_ROWS, REPORT_SECTIONS, empty_report, sample_report


def test_sections_follow_the_report_format() -> None:
    assert [s.title for s in outline(sample_report()).sections] == REPORT_SECTIONS
    empty = [s.title for s in outline(empty_report()).sections]
    assert empty == [t for t in REPORT_SECTIONS if t != "Review Process Notes"]


def test_header_rows_in_order_with_commit_links() -> None:
    doc = outline(sample_report())
    names = [row.name for row in doc.header]
    assert names == HEADER_ROWS
    commits = next(row.cell for row in doc.header if isinstance(row.cell, CommitsCell))
    assert commits.commits[0].sha == "9c1d2e3"
    assert commits.commits[0].url == (
        "https://github.com/acme/invoicer/commit/" + sample_report().target.commits[0].sha
    )


def test_findings_grouped_by_severity_with_prior_notes() -> None:
    report = sample_report()
    sections = [s for s in outline(report).sections if isinstance(s, FindingsSection)]
    assert [s.severity for s in sections] == ["critical", "important", "suggestion"]
    assert sum(len(s.findings) for s in sections) == len(report.findings)
    critical = sections[0].findings[0]
    assert critical.prior is not None
    assert (critical.prior.label, critical.prior.rest) == (
        "Still present",
        " from round 1 (was I3)",
    )


def test_run_status_labels() -> None:
    run = AgentRun(agent="x", display_name="X", status="timeout", reason="no answer\nin 600 s")
    assert run_status(run) == "Timed out: no answer in 600 s"
    assert run_status(run.model_copy(update={"status": "ok", "cached": True})).startswith("Cached")


def test_html_renderer_does_not_import_the_markdown_one() -> None:
    tree = ast.parse(Path(html_module.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "deepreview.render.markdown" not in imported
    assert "deepreview.render.outline" in imported
