"""Consolidating reviews given as text, with and without a repository to ground them in."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deepreview.offline import OfflineError, consolidate_reviews, review_spec

MARKDOWN = """\
## Summary

Adds a retry helper.

## Important Issues

I1. **Retry loop never gives up** — `src/net.py:3`

```python
while True:
```

`fetch` retries forever when the server is down; nothing bounds the `attempts` counter.

## Suggestions

S1. **Helper lives in the wrong module** — `src/missing.py:1`
"""

JSON_REVIEW = {
    "summary": "Retry helper added.",
    "findings": [
        {
            "id": "C1",
            "severity": "critical",
            "title": "Unbounded retry loop in `fetch`",
            "body": "The `attempts` counter is never checked, so `fetch` retries forever.",
            "locations": [{"path": "src/net.py", "start_line": 2, "end_line": 4}],
        }
    ],
}

SOURCE = "def fetch(url):\n    attempts = 0\n    while True:\n        attempts += 1\n"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "net.py").write_text(SOURCE)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    sha = subprocess.run(
        [*git[:3], "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return root, sha


def reviews() -> list[tuple[str, str]]:
    return [("Claude Opus 4.6", MARKDOWN), ("Codex GPT 5.4", json.dumps(JSON_REVIEW))]


def test_markdown_and_json_reviews_merge_into_one_report() -> None:
    report = consolidate_reviews(reviews())
    assert [r.display_name for r in report.runs] == ["Claude Opus 4.6", "Codex GPT 5.4"]
    retry = report.findings[0]
    assert retry.agents == ["Claude Opus 4.6", "Codex GPT 5.4"]
    # two vendors: the critical is not corroborated, both support important
    assert retry.severity == "important"
    assert report.verdict.decision == "Merge with fixes"
    assert "both agents agree" in report.verdict.reason
    assert report.target.kind == "range" and report.target.head_sha is None
    assert any("unverified" in n for n in report.notes)


def test_grounding_against_a_commit_drops_claims_about_missing_files(
    repo: tuple[Path, str],
) -> None:
    root, sha = repo
    report = consolidate_reviews(reviews(), repo=root, head=sha)
    assert report.target.head_sha == sha
    assert [(d.agent, d.finding_id, d.kind) for d in report.dropped] == [
        ("Claude Opus 4.6", "S1", "false-positive")
    ]
    assert report.findings[0].locations[0].path == "src/net.py"
    # the default head is HEAD
    assert consolidate_reviews(reviews(), repo=root).target.head_sha == sha


def test_families_make_one_vendor_of_two_names() -> None:
    other = {
        "findings": [
            {"id": "S1", "severity": "suggestion", "title": "Rename `tmp`", "locations": []}
        ]
    }
    same = [
        ("Alpha", json.dumps(JSON_REVIEW)),
        ("Beta", json.dumps(JSON_REVIEW)),
        ("Gamma", json.dumps(other)),
    ]
    apart = consolidate_reviews(same)
    assert apart.findings[0].severity == "critical"  # two vendors call it critical
    assert "two agents agree" in apart.summary
    together = consolidate_reviews(same, families={"alpha": "Acme", "beta": "Acme"})
    assert together.findings[0].severity == "important"  # one vendor's opinion
    assert "two agents agree, one vendor" in together.summary


def test_with_a_base_findings_on_code_the_change_did_not_touch_are_pre_existing(
    repo: tuple[Path, str],
) -> None:
    root, base = repo
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    (root / "NOTES.md").write_text("notes\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "notes"], check=True)
    report = consolidate_reviews(reviews(), repo=root, base=base)
    assert report.findings == [] and report.verdict.decision == "Merge as-is"
    [retry] = report.pre_existing
    assert retry.pre_existing is not None and "`src/net.py:3` there" in retry.pre_existing
    (root / "src" / "net.py").write_text(SOURCE.replace("while True:", "while attempts:"))
    subprocess.run([*git, "commit", "-qam", "bound"], check=True)
    touched = consolidate_reviews(reviews(), repo=root, base=base)
    assert [f.severity for f in touched.findings] == ["important"]
    with pytest.raises(OfflineError, match="needs a repository"):
        consolidate_reviews(reviews(), base=base)


def test_unknown_commit_and_missing_repo_are_clear_errors(repo: tuple[Path, str]) -> None:
    root, _ = repo
    with pytest.raises(OfflineError, match="unknown revision: 0123abc"):
        consolidate_reviews(reviews(), repo=root, head="0123abc")
    with pytest.raises(OfflineError, match="no such directory"):
        consolidate_reviews(reviews(), repo=root / "nope")
    with pytest.raises(OfflineError, match="needs a repository"):
        consolidate_reviews(reviews(), head="HEAD")
    with pytest.raises(OfflineError, match="unknown revision: 0123abc"):
        consolidate_reviews(reviews(), repo=root, base="0123abc")
    with pytest.raises(OfflineError, match="no reviews"):
        consolidate_reviews([])


def test_an_empty_review_is_a_failed_run_and_names_repeat_safely() -> None:
    report = consolidate_reviews([("Gemini", "   "), ("Gemini", MARKDOWN)])
    failed, ok = report.runs
    assert (failed.display_name, failed.status) == ("Gemini", "failed")
    assert (ok.display_name, ok.status) == ("Gemini (2)", "ok")
    assert "did not complete" in report.retro[0].narrative


def test_review_spec(tmp_path: Path) -> None:
    assert review_spec("Claude Opus 4.6=a/b.md") == ("Claude Opus 4.6", Path("a/b.md"))
    assert review_spec("reviews/codex.md") == ("codex", Path("reviews/codex.md"))
    odd = tmp_path / "x=y.md"
    odd.write_text("")
    assert review_spec(str(odd)) == ("x=y", odd)
    with pytest.raises(OfflineError, match="expected NAME=FILE"):
        review_spec("=file.md")
