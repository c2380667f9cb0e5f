"""The outline both page renderers format: section order, header rows, shared labels."""

from __future__ import annotations

import ast
from pathlib import Path

import deepreview.render.html as html_module
from deepreview.render.fences import fences_balanced
from deepreview.render.html import render_html
from deepreview.render.markdown import render_markdown
from deepreview.render.outline import (
    FULL_FINDINGS,
    HEADER_COMMITS,
    IN_JSON,
    LISTED_FINDINGS,
    TEXT_LIMIT,
    CommitsCell,
    FindingsSection,
    closed_since,
    outline,
    run_status,
    what_it_does,
)
from deepreview.schema import AgentRun, Commit, ConsolidatedFinding, Location, Report
from tests.factories import (
    HEADER_ROWS,
    OPTIONAL_SECTIONS,
    REPORT_SECTIONS,
    empty_report,
    sample_report,
)


def test_sections_follow_the_report_format() -> None:
    assert [s.title for s in outline(sample_report()).sections] == REPORT_SECTIONS
    empty = [s.title for s in outline(empty_report()).sections]
    assert empty == [t for t in REPORT_SECTIONS if t not in OPTIONAL_SECTIONS]


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


# --------------------------------------------------------------------------- size bounds


def _many_commits(n: int) -> Report:
    report = sample_report()
    commits = [Commit(sha=f"{i:040x}", subject=f"Change number {i}") for i in range(n)]
    return report.model_copy(
        update={"target": report.target.model_copy(update={"commits": commits})}
    )


def test_header_lists_ten_commits_and_commit_structure_keeps_them_all() -> None:
    report = _many_commits(336)
    md = render_markdown(report)
    header = md[: md.index("## Executive Summary")]
    assert "Change number 9<br>… and 326 more (see Commit Structure)" in header
    assert "Change number 10" not in header
    structure = md[md.index("## Commit Structure") : md.index("## Acknowledged Limitations")]
    assert "**All 336 commits:**" in structure
    assert "Change number 335" in structure
    html = render_html(report)
    assert '<details class="commits">\n<summary>All 336 commits</summary>' in html
    assert html.index("<summary>All 336 commits") > html.index('id="commit-structure"')


def test_short_ranges_list_commits_in_the_header_only() -> None:
    md = render_markdown(_many_commits(HEADER_COMMITS))
    assert "more (see Commit Structure)" not in md
    assert "**All" not in md


def _many_findings(n: int, body: str = "Body.") -> Report:
    findings = [
        ConsolidatedFinding(
            id=f"S{i}",
            fingerprint=f"f{i}",
            severity="suggestion",
            title=f"Finding number {i}",
            body=body,
            locations=[Location(path="a.py", start_line=i)],
            agents=["ruff"],
        )
        for i in range(1, n + 1)
    ]
    return empty_report().model_copy(update={"findings": findings})


def test_findings_beyond_the_bounds_are_listed_briefly_then_counted() -> None:
    n = FULL_FINDINGS + LISTED_FINDINGS + 7
    md = render_markdown(_many_findings(n))
    section = md[md.index("## Suggestions") : md.index("## Design Observations")]
    assert section.count("Body.") == FULL_FINDINGS
    assert f"*{LISTED_FINDINGS} more, by title only:*" in section
    assert f"- S{FULL_FINDINGS + 1}. **Finding number {FULL_FINDINGS + 1}** — `a.py:" in section
    assert f"*… and 7 more ({IN_JSON}).*" in section
    assert f"Finding number {n}**" not in section
    html = render_html(_many_findings(n))
    assert f"… and 7 more ({IN_JSON})." in html


def test_long_texts_are_cut_and_say_so() -> None:
    body = "```python\n" + "x = 1\n" * 5_000 + "```"
    md = render_markdown(_many_findings(1, body=body))
    section = md[md.index("## Suggestions") : md.index("## Design Observations")]
    assert len(section) < TEXT_LIMIT + 500
    assert "more characters cut.*" in section
    assert fences_balanced(section)


def test_a_large_review_stays_small() -> None:
    report = _many_findings(2_000, body="A paragraph of text. " * 40)
    report = report.model_copy(update={"target": _many_commits(5_000).target})
    assert len(render_markdown(report)) < 400_000
    assert len(render_html(report)) < 800_000


# --------------------------------------------------------------------------- summary


def test_the_summary_says_what_the_change_does_from_the_pull_request() -> None:
    report = sample_report()
    assert what_it_does(report) == (
        "Pull request #42: “Customer lookup | retrying client” — "
        "“Adds `invoicer customer` and retries on server errors.”"
    )
    md = render_markdown(report)
    summary = md[md.index("## Executive Summary") : md.index("## Critical Issues")]
    assert summary.index("**The change:** Pull request #42") < summary.index("**Structure:**")


def test_without_a_pull_request_the_commit_subjects_say_it() -> None:
    report = _many_commits(5)
    report = report.model_copy(update={"target": report.target.model_copy(update={"pr": None})})
    assert what_it_does(report) == (
        "5 commits: “Change number 0”; “Change number 1”; “Change number 2”; and 2 more."
    )
    assert what_it_does(empty_report()) == ""


def test_a_later_round_says_what_the_new_commits_closed() -> None:
    assert closed_since(sample_report()) == (
        "Since round 1, the new commits closed S2 “`--verbose` flag is ignored”; "
        "2 still open or changed."
    )
    assert closed_since(empty_report()) == ""


def test_verdict_and_counts_lead_the_markdown() -> None:
    md = render_markdown(sample_report())
    lines = md.splitlines()
    assert lines[2] == (
        "**Verdict: Rework** — C1 lets any customer name rewrite the lookup query; both agents "
        "agree. (1 Critical, 2 Important, 2 Suggestions)"
    )
    assert lines[4] == "| | |"


def test_pre_existing_findings_are_bounded_like_findings() -> None:
    many = _many_findings(FULL_FINDINGS + LISTED_FINDINGS + 9, body="Old problem.").findings
    report = empty_report().model_copy(update={"pre_existing": many})
    md = render_markdown(report)
    design = md[md.index("## Design Observations") : md.index("## Testing Assessment")]
    assert design.count("Old problem.") == FULL_FINDINGS
    assert f"S{FULL_FINDINGS + LISTED_FINDINGS}." in design
    assert f"*… and 9 more ({IN_JSON}).*" in design
    assert f"… and 9 more ({IN_JSON})." in render_html(report)
