"""`deepreview consolidate` as a real subprocess: files in, report files out, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CLAUDE = """\
## Summary

Adds a retry helper.

## Important Issues

I1. **Retry loop never gives up** — `src/net.py:3`

`fetch` retries forever when the server is down; the `attempts` counter is never checked.
"""

CODEX = {
    "summary": "Retry helper added.",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "title": "Unbounded retry loop in `fetch`",
            "body": "The `attempts` counter is never checked, so `fetch` retries forever.",
            "locations": [{"path": "src/net.py", "start_line": 3}],
        }
    ],
}


def deepreview(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deepreview", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_reviews(tmp_path: Path) -> None:
    (tmp_path / "claude.md").write_text(CLAUDE)
    (tmp_path / "codex.json").write_text(json.dumps(CODEX))


def test_reviews_become_one_report_in_every_format(tmp_path: Path) -> None:
    write_reviews(tmp_path)
    proc = deepreview(
        "consolidate",
        "--review",
        "Claude Opus 4.6=claude.md",
        "--review",
        "codex.json",
        "--format",
        "md,json,html,sarif",
        "--output",
        "out",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Merge with fixes" in proc.stdout
    written = sorted(p.suffix for p in (tmp_path / "out").iterdir() if p.name != "index.html")
    assert written == [".html", ".json", ".md", ".sarif"]
    assert "Merge with fixes" in (tmp_path / "out" / "index.html").read_text()
    report = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    [finding] = report["findings"]
    assert finding["agents"] == ["Claude Opus 4.6", "codex"]
    assert "both agents agree" in report["verdict"]["reason"]


def test_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    write_reviews(tmp_path)
    cases = [
        (["--review", "missing.md"], "cannot read missing.md"),
        (["--review", "=claude.md"], "bad review '=claude.md'"),
        (["--review", "claude.md", "--format", "pdf"], "unknown format pdf"),
        (["--review", "claude.md", "--repo", ".", "--head", "abc123"], "unknown revision"),
    ]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for args, message in cases:
        proc = deepreview("consolidate", *args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("deepreview: error: "), proc.stderr
        assert message in lines[0]


def test_prior_reports_decline_what_their_resolution_skipped(tmp_path: Path) -> None:
    write_reviews(tmp_path)
    first = deepreview("consolidate", "--review", "claude.md", "--format", "md", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    [report_md] = tmp_path.glob("*-consolidated.md")
    resolution = (
        "\n\n## Resolution\n\n| # | Finding | Action | Reason |\n|---|---|---|---|\n"
        "| 1 | Important I1: Retry loop never gives up | Skipped | retries are bounded upstream |\n"
    )
    prior = tmp_path / "round1.md"
    prior.write_text(report_md.read_text() + resolution)
    # The second round words the same concern differently.
    (tmp_path / "codex.json").write_text(
        json.dumps(
            {
                "findings": [
                    {
                        "id": "I1",
                        "severity": "important",
                        "title": "Retry loop has no upper bound, never gives up",
                        "locations": [{"path": "src/net.py", "start_line": 4}],
                    }
                ]
            }
        )
    )
    out = tmp_path / "out"
    proc = deepreview(
        "consolidate", "--review", "codex.json", "--prior", str(prior), "--output", str(out),
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [data] = [json.loads(p.read_text()) for p in out.glob("*.json")]
    assert data["findings"] == [] and data["round"] == 2
    [dropped] = data["dropped"]
    assert dropped["kind"] == "declined"
    assert dropped["reason"] == "declined in round 1: retries are bounded upstream"
    bad = deepreview("consolidate", "--review", "codex.json", "--prior", "codex.json", cwd=tmp_path)
    assert bad.returncode == 2 and "not a report's JSON" in bad.stderr
