"""The HTML report laid out by headless Chromium: where the verdict lands, and a phone screen.

The page is measured as shipped, with one script appended that writes the measurements into the
DOM (the page itself has none; its CSP is lifted for this copy only)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from deepreview.render.html import render_html
from deepreview.schema import Commit, ConsolidatedFinding, Location, Report
from tests.factories import sample_report

pytestmark = pytest.mark.browser

MEASURE = """<script>
const report = (data) => parent === window
  ? document.body.setAttribute('data-measure', data)
  : parent.postMessage(data, '*');
const lead = document.querySelector('.lead .verdict').getBoundingClientRect();
const row = [...document.querySelectorAll('table.header th')]
  .find(th => th.textContent === 'Verdict').getBoundingClientRect();
const text = [...document.querySelectorAll('.finding p')];
report(JSON.stringify({
  leadBottom: lead.bottom, rowBottom: row.bottom,
  pageWidth: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth,
  minFont: Math.min(...text.map(e => parseFloat(getComputedStyle(e).fontSize))),
  minTextWidth: Math.min(...text.map(e => e.getBoundingClientRect().width)),
  findings: document.querySelectorAll('article.finding').length,
}));
</script>"""


#: Chromium will not make a window narrower than about 500 px: a phone's width is a frame.
FRAME = """<!DOCTYPE html><body style="margin:0"><iframe src="page.html" width="{width}"
height="{height}" style="border:0"></iframe><script>
addEventListener('message', e => document.body.setAttribute('data-measure', e.data));
</script></body>"""


def measure(html: str, tmp_path: Path, width: int, height: int) -> dict[str, Any]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed (apt-get install -y chromium)")
    page = tmp_path / "page.html"
    page.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace(
            "</body>", MEASURE + "</body>"
        ),
        encoding="utf-8",
    )
    target = page
    if width < 600:
        target = tmp_path / "frame.html"
        target.write_text(FRAME.format(width=width, height=height), encoding="utf-8")
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={max(width, 800)},{height}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            target.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r"data-measure=\"([^\"]*)\"", proc.stdout)
    assert found, proc.stdout[-2000:]
    data: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return data


def long_range() -> Report:
    """A review of a 330-commit range with long commit subjects."""
    report = sample_report()
    commits = [
        Commit(sha=f"{i:040x}", subject=f"Refactor the option parser, part {i}: " + "words " * 12)
        for i in range(330)
    ]
    return report.model_copy(
        update={"target": report.target.model_copy(update={"commits": commits})}
    )


def thirty_findings() -> Report:
    report = sample_report()
    findings = [
        ConsolidatedFinding(
            id=f"S{n}",
            fingerprint=f"p{n}",
            severity="suggestion",
            category="style",
            title=f"Long names in module number {n} make the call sites hard to read",
            body="The helper `normalize_customer_identifier_for_lookup` is called from "
            "`src/invoicer/very/deeply/nested/package/module.py` with a long argument list. "
            "See https://docs.example/style-guide/naming-conventions-for-long-identifiers.",
            excerpt="result = normalize_customer_identifier_for_lookup(customer, region, " * 2,
            locations=[
                Location(path=f"src/invoicer/very/deeply/nested/module_{n}.py", start_line=n)
            ],
            agents=["Claude Opus 4.7", "Codex GPT 5.4"],
        )
        for n in range(1, 31)
    ]
    return report.model_copy(update={"findings": findings})


def test_the_verdict_of_a_330_commit_range_is_on_the_first_screen(tmp_path: Path) -> None:
    m = measure(render_html(long_range()), tmp_path, 1280, 800)
    assert m["leadBottom"] <= 800, m
    assert m["rowBottom"] < 1600, m  # the header's own row: ten commits, not 330, above it


def test_thirty_findings_are_readable_on_a_phone(tmp_path: Path) -> None:
    m = measure(render_html(thirty_findings()), tmp_path, 390, 844)
    assert m["findings"] == 30
    assert m["pageWidth"] <= m["viewport"], m  # no sideways scrolling of the page
    assert m["minFont"] >= 14, m
    assert m["minTextWidth"] >= 300, m
