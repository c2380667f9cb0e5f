"""The HTML report and index page: structure, parity with the Markdown, safety, screenshots."""

from __future__ import annotations

import re
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import datetime, timedelta
from html import unescape as html_unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from deepreview.render import render
from deepreview.render.html import render_html
from deepreview.render.index import IndexEntry, render_index
from deepreview.render.retro_table import retro_table
from deepreview.schema import AgentRun, ConsolidatedFinding, Location, Report
from tests.factories import CEST, OPTIONAL_SECTIONS, REPORT_SECTIONS, empty_report, sample_report

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = REPORT_SECTIONS
FORGE = ("https://github.com/acme/invoicer", "https://github.com/dfox")
#: Tags whose edges separate words in the page's text.
BLOCKS = {"br", "p", "li", "td", "th", "tr", "div", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}

HOSTILE = """## Findings

<script>alert("raw")</script>
<img src="https://tracker.example/pixel.png" onerror="alert(1)">
<iframe src="https://evil.example/"></iframe>

I1. **Click [here](javascript:alert(2))** or [docs](https://docs.example/page)
![pixel](https://tracker.example/p.png) <https://auto.example/x>

```html
<script>alert(3)</script>
```
"""


class Page(HTMLParser):
    """The parts of a page the tests look at: tags, attributes, headings, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[str, str | None, str]] = []
        self._heading: tuple[str, str | None] | None = None
        self._heading_text: list[str] = []
        self.text_parts: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if tag in BLOCKS:
            self.text_parts.append(" ")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (tag, dict(attrs).get("id"))
            self._heading_text = []

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if tag in BLOCKS:
            self.text_parts.append(" ")
        if self._heading and tag == self._heading[0]:
            text = " ".join("".join(self._heading_text).split())
            self.headings.append((*self._heading, text))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self.text_parts.append(data)
        if self._heading:
            self._heading_text.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def attr_values(self, name: str) -> list[str]:
        return [a[name] or "" for _, a in self.tags if name in a]

    def titles(self, level: str) -> list[str]:
        return [text.removeprefix("# ") for tag, _, text in self.headings if tag == level]


def plain(markdown: str) -> str:
    """What a reader sees of a short Markdown text: no backticks or bold marks."""
    return " ".join(markdown.replace("`", "").replace("**", "").split())


def with_run(report: Report, raw: str, agent: str = "extra") -> Report:
    run = AgentRun(agent=agent, display_name="Extra Model", status="ok", raw_output=raw)
    return report.model_copy(update={"runs": [*report.runs, run]})


# --------------------------------------------------------------------------- structure


def test_sections_in_the_markdown_order() -> None:
    page = Page(render_html(sample_report()))
    assert page.titles("h1") == ["Deep Review: 20260504-140731-pr-42"]
    assert page.titles("h2") == SECTIONS


def test_every_heading_has_a_unique_id_and_a_visible_link_to_it() -> None:
    html = render_html(sample_report())
    page = Page(html)
    ids = [anchor for _, anchor, _ in page.headings]
    assert all(ids) and len(ids) == len(set(ids))
    for anchor in ids:
        assert f'id="{anchor}"><a class="anchor" href="#{anchor}"' in html
    assert len(page.headings) > 30


def test_section_ids_are_not_taken_by_embedded_headings() -> None:
    report = sample_report()
    finding = report.findings[0].model_copy(update={"body": "## Testing Assessment\n\nNo tests."})
    report = report.model_copy(update={"findings": [finding, *report.findings[1:]]})
    page = Page(render_html(report))
    by_id = {anchor: (tag, text) for tag, anchor, text in page.headings}
    assert by_id["testing-assessment"] == ("h2", "# Testing Assessment")
    assert by_id["c1"][0] == "h3"
    # The agent's own "## Executive Summary" sits under its appendix entry, demoted and prefixed.
    assert by_id["claude-executive-summary"] == ("h4", "# Executive Summary")


def test_empty_report_says_none() -> None:
    page = Page(render_html(empty_report()))
    assert page.titles("h2") == [s for s in SECTIONS if s not in OPTIONAL_SECTIONS]
    assert page.text.count("None.") == 14
    assert "Structure: 0 Critical, 0 Important, 0 Suggestions." in page.text
    assert "No output." in page.text
    assert not any(tag == "table" and a.get("class") == "retro" for tag, a in page.tags)


def test_registered_as_html() -> None:
    report = sample_report()
    assert render(report, "html") == render_html(report)
    assert render_html(report) == render_html(sample_report())


# --------------------------------------------------------------------------- content


def test_header_table_carries_the_markdown_header() -> None:
    page = Page(render_html(sample_report()))
    text = page.text
    for row in [
        "Date 2026-05-04 14:07",
        "Repo acme/invoicer",
        "Round 2 (of PR #42)",
        "Author @dfox",
        "PR #42 — Customer lookup | retrying client",
        "Branch customer-lookup",
        "Commits 9c1d2e3 Look up customers 4be1f0c Accept net|gross totals in the CLI",
        "Review SHA 4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1",
        "Verdict Rework — C1 lets any customer name rewrite the lookup query; both agents agree.",
        "Wall-clock time 14 min 42 s",
    ]:
        assert row in text, row
    hrefs = page.attr_values("href")
    assert "https://github.com/acme/invoicer/pull/42" in hrefs
    assert "https://github.com/dfox" in hrefs


def test_reviewer_badges_strike_failed_agents_with_the_reason() -> None:
    html = render_html(sample_report())
    assert (
        '<span class="badge agent-2 failed"><s>Gemini 3.1 Pro</s></span> '
        '<span class="reason">(429 capacity)</span>'
    ) in html
    assert '<span class="badge agent-0">Claude Opus 4.7 (effort: xhigh)</span>' in html
    assert '<span class="reason">(cached)</span>' in html
    # Every attribution is a pill in its agent's colour.
    assert html.count('<span class="badge agent-3">Ruff 0.6.9</span>') >= 2


def test_findings_carry_what_the_markdown_says() -> None:
    report = sample_report()
    page = Page(render_html(report))
    text = page.text
    for f in report.findings:
        assert f"{f.id}. {plain(f.title)}" in page.titles("h3")
        for loc in f.locations:
            assert loc.label() in text
        for line in (f.excerpt or "").splitlines():
            assert " ".join(line.split()) in text
        assert plain(f.body) in text
    assert "Still present from round 1 (was I3)" in text
    assert "New in round 2" in text
    assert "outside the diff" in text
    assert "Fix: Stop after max_attempts and raise InvoiceServiceError." in text
    blob = "https://github.com/acme/invoicer/blob/4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1"
    assert f"{blob}/src/invoicer/store.py#L48-L50" in page.attr_values("href")


def test_other_sections_carry_what_the_markdown_says() -> None:
    report = sample_report()
    text = Page(render_html(report)).text
    expected = [
        *(plain(c.title) for c in report.concerns),
        *(plain(s.title) for s in report.strengths),
        *(plain(t.text.splitlines()[0]) for t in report.testing),
        *(plain(lim.quote) for lim in report.limitations),
        *(plain(d.title) for d in report.declined),
        *(plain(c.body) for c in report.unresolved_feedback),
        *(plain(row.narrative) for row in report.retro if row.narrative),
        *(plain(note) for note in report.notes),
        "declined in round 1: out of scope for this PR",
        "I3 SQL built from the customer name — still present (now C1)",
        "S2 --verbose flag is ignored — fixed",
        "Failed: 429 capacity",
        "Note: retried twice before giving up",
        "Cached result, reused for the same code and settings.",
    ]
    for item in expected:
        assert item in text, item


def test_retro_table_has_every_cell() -> None:
    report = sample_report()
    html = render_html(report)
    start = html.index('<table class="retro">')
    table = html[start : html.index("</table>", start)]
    for name, cells in retro_table(report):
        row = "".join(f"<td>{cell}</td>" for cell in cells)
        assert f'<th scope="row">{name}</th>{row}' in table
    assert '<th scope="col"><s>Gemini 3.1 Pro</s></th>' in table


def test_reconciliation_maps_every_agent_finding() -> None:
    text = Page(render_html(sample_report())).text
    assert "Codex GPT 5.4 I1 C1 important → critical reachable from the CLI" in text
    assert (
        "Claude Opus 4.7 S4 “Decimal compared with a float” dropped (false positive) "
        "money.py:41 compares two Decimal values"
    ) in text
    assert "Codex GPT 5.4 S1 “Use an ORM instead of raw SQL” dropped (declined)" in text


def test_diff_fixes_are_coloured_and_code_is_highlighted() -> None:
    html = render_html(sample_report())
    assert (
        '<span class="d-del">-    return conn.execute(sql).fetchone()</span>\n'
        '<span class="d-add">+    sql = &#34;SELECT id, name FROM customers WHERE name = ?&#34;'
    ) in html
    python = re.search(r'<pre class="code" data-lang="python">(.*?)</pre>', html, re.S)
    assert python is not None
    keyword, name = '<span class="hl-k">def</span>', '<span class="hl-nf">find_customer</span>'
    assert f'{keyword}<span class="hl-w"> </span>{name}' in python[1]
    assert '<span class="hl-sa">f</span><span class="hl-s2">"SELECT' in python[1]
    # the highlighted text is the excerpt itself, nothing added or lost
    text = html_unescape(re.sub(r"<[^>]+>", "", python[1]))
    assert text.startswith('def find_customer(conn, name):\n    sql = f"SELECT id, name')


def test_unknown_languages_stay_plain_and_highlighting_escapes() -> None:
    from deepreview.render.html import code_block

    assert str(code_block("a <b> c", "no-such-language")) == (
        '<pre class="code" data-lang="no-such-language"><code class="language-no-such-language">'
        "a &lt;b&gt; c</code></pre>\n"
    )
    hostile = code_block('x = "</code><script>alert(1)</script>"', "python")
    assert "<script>" not in str(hostile) and "&lt;script&gt;" in str(hostile)


def test_appendix_renders_agent_markdown() -> None:
    html = render_html(sample_report())
    appendix = html[html.index('id="appendix-original-reviews"') :]
    assert "<td><code>src/invoicer/store.py</code></td>" in appendix
    assert '<pre class="code" data-lang="json">' in appendix  # codex's JSON Lines
    assert '<pre class="code" data-lang="text">' in appendix  # gemini's stderr


# --------------------------------------------------------------------------- safety


def test_self_contained_no_external_resources() -> None:
    for report in (sample_report(), empty_report()):
        html = render_html(report)
        page = Page(html)
        tags = {tag for tag, _ in page.tags}
        assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base"}
        assert page.attr_values("src") == []
        assert "@import" not in html and "url(" not in html
        for href in page.attr_values("href"):
            assert href.startswith("#") or href.startswith(FORGE), href
        assert "default-src 'none'" in html


def test_agent_output_cannot_inject_markup() -> None:
    report = with_run(sample_report(), HOSTILE)
    finding = ConsolidatedFinding(
        id="S9",
        fingerprint="ff",
        severity="suggestion",
        title="<script>alert(4)</script>",
        body='<img src=x onerror="alert(5)">',
        locations=[Location(path='a"><script>alert(6)</script>.py', start_line=1)],
        agents=["<b>Agent</b>"],
    )
    report = report.model_copy(
        update={"findings": [*report.findings, finding], "summary": "<style>*{}</style>"}
    )
    html = render_html(report)
    page = Page(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "iframe", "b"}
    assert [tag for tag, _ in page.tags].count("style") == 1  # the page's own
    assert not any(k.startswith("on") for _, a in page.tags for k in a)
    assert not any("javascript:" in v for v in page.attr_values("href"))
    # Agents' web addresses are links that pass on nothing; anything else is not a link.
    for tag, attrs in page.tags:
        href = attrs.get("href") if tag == "a" else None
        if href is None or href.startswith(("#", *FORGE)):
            continue
        assert href.startswith("https://"), href
        assert attrs.get("rel") == "nofollow noopener noreferrer", href
    hrefs = page.attr_values("href")
    assert "https://docs.example/page" in hrefs and "https://auto.example/x" in hrefs
    # What the agent wrote is still shown, as text.
    assert "&lt;script&gt;alert(&quot;raw&quot;)&lt;/script&gt;" in html
    assert '<script>alert("raw")</script>' in page.text
    assert "Click [here](javascript:alert(2)) or docs" in page.text


def test_light_dark_and_print_styles() -> None:
    html = render_html(empty_report())
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media screen and (prefers-color-scheme: dark)" in html
    assert "@media print" in html


# --------------------------------------------------------------------------- index


def entry(n: int, **changes: Any) -> IndexEntry:
    base = IndexEntry(
        report_id=f"2026050{n}-120000-pr-{n}",
        created_at=datetime(2026, 5, n, 12, 0, tzinfo=CEST),
        pr_number=n,
        title=f"Change {n}",
        branch=f"topic-{n}",
        round=n,
        verdict="Merge with fixes",
        href=f"2026050{n}-120000-pr-{n}.html",
        range=f"aaaaaa{n}..bbbbbb{n}",
        counts=(0, n, 1),
    )
    return replace(base, **changes)


def test_index_lists_reports_newest_first_with_pr_round_and_verdict() -> None:
    html = render_index([entry(1), entry(3, verdict="Rework"), entry(2)], repo="acme/invoicer")
    page = Page(html)
    links = [h for h in page.attr_values("href") if not h.startswith("#")]
    assert links == [
        "20260503-120000-pr-3.html",
        "20260502-120000-pr-2.html",
        "20260501-120000-pr-1.html",
    ]
    assert (
        "2026-05-03 12:00 20260503-120000-pr-3 #3 — Change 3 topic-3 aaaaaa3..bbbbbb3 3 "
        "0 critical 3 important 1 suggestion Rework"
    ) in page.text
    assert "Deep reviews of acme/invoicer" in page.titles("h1")[0]
    assert "3 reports, newest first." in page.text


def test_index_is_self_contained_and_escapes() -> None:
    hostile = entry(1, title="<script>x</script>", href="javascript:alert(1)")
    later = entry(2, created_at=datetime(2026, 5, 2, 12, 0, tzinfo=CEST) + timedelta(hours=1))
    page = Page(render_index([hostile, later]))
    assert not {tag for tag, _ in page.tags} & {"script", "img", "link"}
    assert "javascript:alert(1)" not in page.attr_values("href")
    assert "#1 — <script>x</script>" in page.text
    assert "No reports yet." in Page(render_index([])).text


def test_index_entry_of_a_report() -> None:
    item = IndexEntry.of(sample_report(), "r.html")
    assert (item.pr_number, item.title, item.round, item.verdict) == (
        42,
        "Customer lookup | retrying client",
        2,
        "Rework",
    )
    assert item.range == "main..4be1f0c"
    assert item.counts == (1, 2, 2)
    assert IndexEntry.of(empty_report(), "e.md").pr_number is None


# --------------------------------------------------------------------------- screenshot


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            size = (int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return size[0], size[1], zlib.decompress(idat)


@pytest.mark.browser
def test_screenshot_script_renders_a_real_page(tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshot_html.py"), "--out", str(png)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(png)
    data = png.read_bytes()
    width, height, pixels = png_pixels(data)
    assert (width, height) == (1280, 2400)
    assert len(data) > 100_000  # a blank page of this size compresses to about 10 KB
    assert len(set(pixels)) > 64  # many colours, not one background


# --------------------------------------------------------------------------- scanning


def test_verdict_and_counts_lead_the_page() -> None:
    html = render_html(sample_report())
    lead = html[html.index('<p class="lead">') : html.index("</p>", html.index('<p class="lead">'))]
    assert '<span class="verdict rework">Rework</span>' in lead
    assert '<span class="sev critical">1 critical</span>' in lead
    assert html.index('<p class="lead">') < html.index('<table class="header">')


def test_filters_are_inputs_read_by_css_without_any_script() -> None:
    report = sample_report()
    html = render_html(report)
    page = Page(html)
    ids = {a.get("id") for tag, a in page.tags if tag == "input"}
    assert {"f-sev-critical", "f-sev-important", "f-sev-suggestion", "f-by-all"} <= ids
    assert "f-by-0" in ids  # Claude raised findings
    assert "script" not in {tag for tag, _ in page.tags}
    style = html[html.index("<style>") : html.index("</style>")]
    assert "body:has(#f-sev-critical:not(:checked)) .filterable.sev-critical" in style
    assert "body:has(#f-by-0:checked) .filterable:not(.by-0)" in style
    c1 = next(
        a for tag, a in page.tags if tag == "article" and "sev-critical" in (a["class"] or "")
    )
    assert set((c1["class"] or "").split()) >= {"filterable", "by-0", "by-1"}


def test_appendix_entries_fold_and_analyzers_are_listed_not_dumped() -> None:
    html = render_html(sample_report())
    appendix = html[html.index('id="appendix-original-reviews"') :]
    assert appendix.count('<details class="original">') == len(sample_report().runs)
    assert "<summary><h3" in appendix
    assert '"code": "F401"' not in appendix


def test_urls_in_findings_are_links() -> None:
    report = sample_report()
    finding = report.findings[0].model_copy(
        update={"body": "See https://docs.example/rules/B602. It is unsafe."}
    )
    html = render_html(report.model_copy(update={"findings": [finding, *report.findings[1:]]}))
    assert (
        '<a href="https://docs.example/rules/B602" rel="nofollow noopener noreferrer">'
        "https://docs.example/rules/B602</a>. It is unsafe."
    ) in html


def test_anchors_show_on_hover_and_empty_sections_are_compact() -> None:
    html = render_html(empty_report())
    css = html[html.index("<style>") : html.index("</style>")]
    anchor = css[css.index(".anchor {") : css.index("}", css.index(".anchor {"))]
    assert "visibility: hidden" in anchor
    assert (
        ":is(h1, h2, h3, h4, h5, h6):is(:hover, :focus-within) > .anchor { visibility: visible; }"
        in css
    )
    assert "h2:has(+ p.none)" in css
