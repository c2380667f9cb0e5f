"""The Markdown report: targeted checks (snapshots are in test_render_snapshots.py)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from deepreview.render import RENDERERS, UnknownFormatError, render
from deepreview.render.durations import compact, wall_clock
from deepreview.render.fences import code_span, fence, fences_balanced, is_self_contained
from deepreview.render.languages import language_for
from deepreview.render.markdown import render_markdown
from deepreview.schema import AgentRun, Examination, Location, PullRequest, Report
from tests.factories import (
    HEADER_ROWS,
    OPTIONAL_SECTIONS,
    REPORT_SECTIONS,
    empty_report,
    sample_report,
)

SECTIONS = REPORT_SECTIONS


def tokens(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)


def headings(markdown: str, tag: str) -> list[str]:
    """The text of every real heading of level `tag` (not lookalikes inside code)."""
    toks = tokens(markdown)
    return [
        toks[i + 1].content for i, t in enumerate(toks) if t.type == "heading_open" and t.tag == tag
    ]


def header_cells(markdown: str) -> dict[str, str]:
    """The header table as row name -> cell source text, as a Markdown parser sees it."""
    toks = tokens(markdown)
    cells = [toks[i + 1].content for i, t in enumerate(toks) if t.type == "td_open"]
    first_table_end = next(i for i, t in enumerate(toks) if t.type == "table_close")
    count = sum(1 for t in toks[:first_table_end] if t.type == "td_open")
    pairs = cells[:count]
    return {pairs[i].strip("*"): pairs[i + 1] for i in range(0, count, 2)}


def section(markdown: str, title: str) -> str:
    """The text of one `## title` section, up to the next separator."""
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n---\n", start)
    return markdown[start : end if end != -1 else None]


def with_run(report: Report, raw: str) -> Report:
    run = AgentRun(agent="extra", display_name="Extra Model", status="ok", raw_output=raw)
    return report.model_copy(update={"runs": [*report.runs, run]})


# --------------------------------------------------------------------------- snapshots


def test_render_dispatches_by_format() -> None:
    report = sample_report()
    assert render(report, "md") == render_markdown(report)
    assert {"md", "json"} <= set(RENDERERS)
    with pytest.raises(UnknownFormatError, match=r"'pdf'.*json, md"):
        render(report, "pdf")


# --------------------------------------------------------------------------- structure


def test_every_section_heading_in_order() -> None:
    md = render_markdown(sample_report())
    assert headings(md, "h1")[0] == "Deep Review: 20260504-140731-pr-42"
    # The appendix that follows holds the agents' own Markdown, headings included.
    assert headings(md, "h2")[: len(SECTIONS)] == SECTIONS


def test_empty_report_sections_say_none() -> None:
    md = render_markdown(empty_report())
    shown = [s for s in SECTIONS if s not in OPTIONAL_SECTIONS]
    assert headings(md, "h2") == shown
    for title in shown[1:4] + shown[5:8] + ["Unresolved Feedback"]:
        assert section(md, title).strip().endswith("None."), title
    assert "### Concerns\n\nNone.\n\n### Strengths\n\nNone." in md
    assert "### Declined in prior rounds\n\nNone." in md
    assert "**Structure:** 0 Critical, 0 Important, 0 Suggestions." in md
    assert "*No output.*" in md


def test_sections_are_separated_by_rules() -> None:
    md = render_markdown(sample_report())
    assert md.count("\n---\n\n## ") == len(SECTIONS) - 1
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_render_is_deterministic() -> None:
    assert render_markdown(sample_report()) == render_markdown(sample_report())


# --------------------------------------------------------------------------- header


def test_header_rows_as_parsed() -> None:
    cells = header_cells(render_markdown(sample_report()))
    assert list(cells) == HEADER_ROWS
    assert cells["Date"] == "2026-05-04 14:07"
    assert cells["Round"] == "2 (of PR #42)"
    assert cells["Author"] == "[@dfox](https://github.com/dfox)"
    # The escaped pipe stays inside its cell.
    assert cells["PR"] == (
        "[#42](https://github.com/acme/invoicer/pull/42) — Customer lookup | retrying client"
    )
    assert cells["Commits"] == (
        "`9c1d2e3` Look up customers<br>`4be1f0c` Accept `net|gross` totals in the CLI"
    )
    assert cells["Review SHA"] == "`4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1`"
    assert cells["Verdict"].startswith("**Rework** — C1 lets")
    assert cells["Wall-clock time"] == "`14 min 42 s`"


def test_reviewers_strike_failed_and_mark_cached() -> None:
    reviewers = header_cells(render_markdown(sample_report()))["Reviewers"]
    assert reviewers == (
        "Claude Opus 4.7 (effort: xhigh), Codex GPT 5.4 (effort: high) (cached), "
        "~~Gemini 3.1 Pro~~ (429 capacity), Ruff 0.6.9"
    )


def test_timed_out_reviewer_without_reason_shows_status() -> None:
    report = sample_report()
    run = report.runs[0].model_copy(update={"status": "timeout", "reason": None})
    md = render_markdown(report.model_copy(update={"runs": [run, *report.runs[1:]]}))
    assert "~~Claude Opus 4.7 (effort: xhigh)~~ (timeout)" in header_cells(md)["Reviewers"]
    assert "*Timed out: timeout*" in md


def test_rows_without_data_are_omitted() -> None:
    cells = header_cells(render_markdown(empty_report()))
    assert list(cells) == ["Date", "Round", "Reviewers", "Verdict"]
    assert cells["Round"] == "1"


def test_links_only_where_the_target_has_forge_links() -> None:
    report = sample_report()
    target = report.target.model_copy(
        update={
            "repo_url": "https://gitlab.example.com/acme/invoicer",
            "links": None,
            "pr": PullRequest(number=7, title="Fix", author="dfox"),
        }
    )
    cells = header_cells(render_markdown(report.model_copy(update={"target": target})))
    assert cells["Author"] == "@dfox"
    assert cells["PR"] == "#7 — Fix"
    assert cells["Repo"] == "[acme/invoicer](https://gitlab.example.com/acme/invoicer)"


def test_every_table_row_has_its_columns() -> None:
    md = render_markdown(sample_report())
    toks = tokens(md)
    rows: list[int] = []
    for tok in toks:
        if tok.type == "tr_open":
            rows.append(0)
        elif tok.type in ("td_open", "th_open"):
            rows[-1] += 1
    assert rows[:12] == [2] * 12  # header table: head row + 11 rows
    assert rows[12:29] == [6] * 17  # retro: head row + 16 metrics, 4 agents and Totals


# --------------------------------------------------------------------------- findings


def test_finding_heading_excerpt_body_and_fix() -> None:
    md = render_markdown(sample_report())
    critical = section(md, "Critical Issues")
    assert (
        "C1. **SQL built from the customer name with an f-string** — "
        "`src/invoicer/store.py:48-50`, `src/invoicer/cli.py:61` (critical, security) "
        "[Claude Opus 4.7, Codex GPT 5.4]"
    ) in critical
    assert "**Still present** from round 1 (was I3)" in critical
    assert "```python\ndef find_customer(conn, name):" in critical
    # The fix keeps its own diff block verbatim.
    assert 'Fix: Pass the name as a parameter:\n\n```diff\n-    sql = f"SELECT' in critical
    fences = [t for t in tokens(critical) if t.type == "fence"]
    assert [f.info for f in fences] == ["python", "diff"]


def test_outside_the_diff_is_marked() -> None:
    important = section(render_markdown(sample_report()), "Important Issues")
    assert "(important, gap) (outside the diff) [Claude Opus 4.7]" in important
    assert important.count("(outside the diff)") == 1


def test_prior_status_only_in_later_rounds() -> None:
    report = sample_report()
    assert "**New** in round 2" in render_markdown(report)
    first = render_markdown(report.model_copy(update={"round": 1, "round_of": None}))
    assert "Still present" not in section(first, "Critical Issues")
    assert "**New**" not in first


def test_fix_that_is_only_a_diff_starts_on_its_own_line() -> None:
    report = sample_report()
    finding = report.findings[0].model_copy(update={"fix": "```diff\n-a\n+b\n```"})
    md = render_markdown(report.model_copy(update={"findings": [finding]}))
    assert "Fix:\n\n```diff\n-a\n+b\n```" in md


def test_excerpt_language_from_extension_and_safe_fence() -> None:
    report = sample_report()
    finding = report.findings[0].model_copy(
        update={
            "locations": [Location(path="cmd/main.go", start_line=3)],
            "excerpt": "s := ```x```",
        }
    )
    md = render_markdown(report.model_copy(update={"findings": [finding]}))
    assert "````go\ns := ```x```\n````" in md


def test_reconciliation_lists_changes_and_drops() -> None:
    retro = section(render_markdown(sample_report()), "Agent Performance Retro")
    assert "- Codex GPT 5.4 I1 → C1, important → critical: reachable from the CLI" in retro
    assert (
        "- Claude Opus 4.7 S4 “`Decimal` compared with a float” → dropped (false positive): "
        "`money.py:41` compares two `Decimal` values"
    ) in retro
    # A dropped finding with no reconciliation entry is still listed.
    assert "- Codex GPT 5.4 S1 “Use an ORM instead of raw SQL” → dropped (declined)" in retro


def test_retro_table_cells() -> None:
    retro = section(render_markdown(sample_report()), "Agent Performance Retro")
    assert (
        "| | Claude Opus 4.7 | Codex GPT 5.4 | ~~Gemini 3.1 Pro~~ | Ruff 0.6.9 | Totals |" in retro
    )
    assert "| Model | claude-opus-4-7 | gpt-5.4 | gemini-3.1-pro | — | — |" in retro
    assert "| Duration | 6m 57s | 3m 34s | — | 0.4s | 14m 42s |" in retro
    assert "| Tokens (in / out) | 183.4k / 9.9k | 48.2k / 3.1k | — | — | 231.6k / 13.0k |" in retro
    assert "| Cost | $2.84 | — | — | — | $2.84 |" in retro
    assert "| Findings | 1C 1I 2S | 3I | — | 1S | 1C 4I 3S |" in retro
    assert (
        "| Tool calls | 27 (Read 9, Grep 7, Bash 6, Glob 5) | 21 (shell 20, stdin 1) | — | — "
        "| 48 (shell 20, Read 9, Grep 7, Bash 6, Glob 5, stdin 1) |"
    ) in retro
    assert "| Downgraded | 0 | 1 (I→S) | 0 | 0 | 1 (I→S) |" in retro


# --------------------------------------------------------------------------- appendix


def test_appendix_keeps_markdown_and_fences_the_rest() -> None:
    md = render_markdown(sample_report())
    appendix = md[md.index("## Appendix: Original Reviews") :]
    assert [h for h in headings(appendix, "h3") if h.startswith("[")] == [
        "[claude] — Claude Opus 4.7 (effort: xhigh)",
        "[codex] — Codex GPT 5.4 (effort: high)",
        "[gemini] — Gemini 3.1 Pro",
        "[ruff] — Ruff 0.6.9",
    ]
    assert "Coverage Summary" in headings(appendix, "h2")
    fences = [(t.info, t.content) for t in tokens(appendix) if t.type == "fence"]
    assert [info for info, _ in fences] == ["python", "json", "text"]
    codex, gemini = (content for _, content in fences[1:])
    assert '"type": "agent_message"' in codex
    assert "```python" in codex  # the longer fence keeps the inner one as text
    assert "429 RESOURCE_EXHAUSTED" in gemini
    # An analyzer's raw JSON is for tools: the appendix lists its findings one line each.
    ruff = appendix[appendix.index("### [ruff]") :]
    assert '"code"' not in ruff
    assert "- S1 (suggestion) F401: `os` imported but unused — `src/invoicer/cli.py:3`" in ruff
    assert "*Failed: 429 capacity*" in appendix
    assert "*Cached result" in appendix


@pytest.mark.parametrize(
    "raw",
    [
        "## Review\n\n```python\nprint('never closed')\n",
        "## Review\n\n<!-- a comment that never ends\n",
        "## Review\n\n<pre>\nunclosed",
    ],
)
def test_markdown_that_would_swallow_the_rest_is_fenced(raw: str) -> None:
    md = render_markdown(with_run(empty_report(), raw))
    assert headings(md, "h3")[-1] == "[extra] — Extra Model"
    fenced = [t.content for t in tokens(md) if t.type == "fence"]
    assert fenced == [raw.rstrip("\n") + "\n"]
    # A later heading would still be a heading: nothing is left open.
    assert headings(md + "\n## After\n", "h2")[-1] == "After"


def test_plain_text_output_is_fenced_and_markdown_is_verbatim() -> None:
    md = render_markdown(with_run(empty_report(), "src/a.py:1:1: F401 unused"))
    assert "```text\nsrc/a.py:1:1: F401 unused\n```" in md
    review = "## Summary\n\nLooks fine.\n\n- `a.py` reviewed"
    assert md_tail(render_markdown(with_run(empty_report(), review))) == review + "\n"


def md_tail(md: str) -> str:
    return md[md.index("### [extra] — Extra Model\n\n") + len("### [extra] — Extra Model\n\n") :]


# --------------------------------------------------------------------------- helpers


def test_durations() -> None:
    assert wall_clock(882) == "14 min 42 s"
    assert wall_clock(42.4) == "42 s"
    assert wall_clock(3789) == "1 h 3 min 9 s"
    assert compact(417.4) == "6m 57s"
    assert compact(182) == "3m 02s"
    assert compact(42) == "42s"
    assert compact(0.44) == "0.4s"
    assert compact(3845) == "1h 04m 05s"


def test_language_for() -> None:
    assert language_for("src/app.py") == "python"
    assert language_for("bats/tests/engine.bats") == "bash"
    assert language_for("docker/Dockerfile") == "dockerfile"
    assert language_for("Makefile") == "makefile"
    assert language_for("notes.unknownext") == ""


def test_fence_helpers() -> None:
    assert fence("a ```` b", "text").startswith("`````text\n")
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"
    assert fences_balanced("```\ncode\n```\n~~~\nmore\n~~~~")
    assert not fences_balanced("````\ncode\n```")
    assert fences_balanced("``` not a fence ``` inline")
    assert is_self_contained("<!-- ok -->\n<pre>x</pre>")
    assert not is_self_contained("<script>\nalert(1)")


def test_a_finding_from_a_reviewer_that_did_not_finish_says_so() -> None:
    report = sample_report()
    first = report.findings[0]
    run = next(r for r in report.runs if r.display_name in first.agents)
    stopped = run.model_copy(
        update={"status": "timeout", "reason": "no result after 600 s", "partial": True}
    )
    runs = [stopped if r is run else r for r in report.runs]
    report = report.model_copy(update={"runs": runs})
    note = f"Partial: raised by {run.display_name} (no result after 600 s) before its review"
    md = render_markdown(report)
    section = md.split(f"{first.id}. **", 1)[1].split("\n---", 1)[0]
    assert note in section
    html = render(report, "html")
    assert note in html
    assert "Partial: raised by" not in render_markdown(sample_report())


def test_cross_examination_costs_count_in_the_examiners_column_and_the_totals() -> None:
    report = sample_report()
    claude = report.runs[0]
    question = {
        "claim": "x",
        "severity": "important",
        "sources": [{"agent": "codex", "finding_id": "I1", "severity": "important"}],
        "examiner": claude.display_name,
        "examiner_agent": claude.agent,
    }
    exams = [
        Examination.model_validate({**question, "cost_usd": 0.16}),
        Examination.model_validate({**question, "cost_usd": 0.5, "cached": True}),  # not spent
    ]
    retro = section(
        render_markdown(report.model_copy(update={"examinations": exams})),
        "Agent Performance Retro",
    )
    assert "| Cost | $3.00 (cross-examination $0.16) | — | — | — | $3.00 |" in retro
