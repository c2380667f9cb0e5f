"""Cross-examination in a whole `deepreview review`: two fake AI CLIs of different vendors
replay what the real claude and codex printed when they reviewed the change and when they were
cross-examined (`tests/fixtures/cli/*/crossexam-*.jsonl`, recorded by
`tests/contract/test_crossexam_clis.py`). Claude alone claims `first` fails on an empty list:
codex refutes it, so it is dropped with the evidence. Codex alone calls the division by zero
critical: claude confirms it, so it stays critical."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.contract.crossexam_scenario import APP_AFTER
from tests.contract.emulators import APP_BEFORE
from tests.repo_factory import commit, git, make_repo

QUESTION = "# The claim to examine"
DEEPREVIEW = (sys.executable, "-m", "deepreview", "review")
BOTH = ("--agent", "claude", "--agent", "codex")
CLAUDE, CODEX = "Claude Opus 4.8", "OpenAI GPT 6.2 Sol"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"app.py": APP_BEFORE})
    git(repo, "checkout", "-q", "-b", "helpers")
    commit(repo, {"app.py": APP_AFTER}, "Add helpers")
    return repo


def calls(tmp_path: Path, cli: str) -> Path:
    """Where a fake counts its invocations (inside a state folder its sandbox lets it write)."""
    return tmp_path / "home" / ".cache" / f"{cli}.calls"


def environment(
    fake_cli_env: dict[str, str], tmp_path: Path, examined: dict[str, str]
) -> dict[str, str]:
    """Both fakes replay their recorded review, and `examined[cli]` when asked the question."""
    env = {**fake_cli_env, "HOME": str(tmp_path / "home")}
    calls(tmp_path, "").parent.mkdir(parents=True, exist_ok=True)
    for cli, recording in examined.items():
        prefix = f"FAKE_{cli.upper()}_"
        env[prefix + "MODE"] = "replay"
        env[prefix + "RECORDING"] = "crossexam-review"
        env[prefix + "RECORDING_WHEN"] = json.dumps({QUESTION: recording})
        env[prefix + "CALLS"] = str(calls(tmp_path, cli))
    return env


def review(
    repo: Path, env: dict[str, str], out: Path, agents: tuple[str, ...] = BOTH
) -> tuple[dict[str, Any], str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [*DEEPREVIEW, *agents, "--format", "md,json,html", "--output", str(out)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(max(out.glob("*.json")).read_text())
    return report, max(out.glob("*.md")).read_text(), elapsed


def reviews_and_questions(tmp_path: Path, cli: str) -> int:
    """How often the fake was asked to answer (a review or a question)."""
    return sum(1 for line in calls(tmp_path, cli).read_text().splitlines() if line == "review")


def test_refuted_claim_is_dropped_and_confirmed_one_corroborated(
    repo: Path, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    env = environment(
        fake_cli_env, tmp_path, {"claude": "crossexam-confirm", "codex": "crossexam-refute"}
    )
    report, markdown, _ = review(repo, env, tmp_path / "out")

    exams = {e["examiner"]: e for e in report["examinations"]}
    assert sorted(exams) == [CLAUDE, CODEX]  # the shared finding is not examined
    refuted, confirmed = exams[CODEX], exams[CLAUDE]
    assert [(s["agent"], s["finding_id"]) for s in refuted["sources"]] == [(CLAUDE, "I2")]
    assert (refuted["status"], refuted["verdict"], refuted["finding_id"]) == ("ok", "refute", None)
    assert refuted["evidence"] == [{"path": "app.py", "start_line": 13, "end_line": 13}]
    assert [(s["agent"], s["finding_id"]) for s in confirmed["sources"]] == [(CODEX, "C1")]
    assert (confirmed["verdict"], confirmed["finding_id"]) == ("confirm", "C1")
    assert not refuted["cached"] and not confirmed["cached"]

    findings = {f["id"]: f for f in report["findings"]}
    assert sorted(findings) == ["C1", "I1"]
    assert findings["C1"]["agents"] == [CODEX]
    assert findings["C1"]["severity"] == "critical"  # a lone critical, corroborated
    assert sorted(findings["I1"]["agents"]) == [CLAUDE, CODEX]
    assert not any("IndexError" in f["title"] for f in report["findings"])
    [dropped] = report["dropped"]
    assert (dropped["agent"], dropped["finding_id"], dropped["kind"]) == (
        CLAUDE,
        "I2",
        "false-positive",
    )
    assert "refuted by OpenAI GPT 6.2 Sol" in dropped["reason"]
    assert "evidence: app.py:13" in dropped["reason"]
    entry = next(e for e in report["reconciliation"] if e["finding_id"] == "I2")
    assert entry["consolidated_id"] is None and "evidence: app.py:13" in entry["note"]
    assert report["verdict"]["decision"] == "Rework"

    assert "### Cross-examination" in markdown
    assert "examined by OpenAI GPT 6.2 Sol: refuted: dropped as a false positive" in markdown
    assert "examined by Claude Opus 4.8: confirmed" in markdown
    html = max((tmp_path / "out").glob("*.html"), key=lambda p: p.name != "index.html")
    assert "Cross-examination" in html.read_text()
    assert reviews_and_questions(tmp_path, "claude") == 2  # its review, one question
    assert reviews_and_questions(tmp_path, "codex") == 2
    kept = repo / ".deepreview" / "runs" / report["id"] / "crossexam"
    assert (kept / "1-claude" / "claude.prompt").is_file()  # each examination's trace is kept
    assert '\\"verdict\\": \\"refute\\"' in (kept / "2-codex" / "codex.stdout").read_text()


def test_examinations_are_cached(repo: Path, tmp_path: Path, fake_cli_env: dict[str, str]) -> None:
    env = environment(
        fake_cli_env, tmp_path, {"claude": "crossexam-confirm", "codex": "crossexam-refute"}
    )
    review(repo, env, tmp_path / "out")
    report, markdown, _ = review(repo, env, tmp_path / "out")
    assert [e["cached"] for e in report["examinations"]] == [True, True]
    assert {e["verdict"] for e in report["examinations"]} == {"refute", "confirm"}
    assert markdown.count("(cached)") >= 2
    assert reviews_and_questions(tmp_path, "claude") == 2  # nothing ran again
    assert reviews_and_questions(tmp_path, "codex") == 2
    assert [d["finding_id"] for d in report["dropped"]] == ["I2"]


def test_failed_examiner_changes_nothing_and_says_why(
    repo: Path, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    """Codex's answer to the question is the recorded 429: claude's claim stays, the report
    says the examination failed and why; claude's confirmation still counts."""
    env = environment(fake_cli_env, tmp_path, {"claude": "crossexam-confirm", "codex": "429"})
    report, markdown, _ = review(repo, env, tmp_path / "out")
    exams = {e["examiner"]: e for e in report["examinations"]}
    assert (exams[CODEX]["status"], exams[CODEX]["reason"]) == ("failed", "429 capacity")
    kept = next(f for f in report["findings"] if "IndexError" in f["title"])
    assert kept["agents"] == [CLAUDE] and exams[CODEX]["finding_id"] == kept["id"]
    assert report["dropped"] == []
    assert "failed (429 capacity); nothing changed" in markdown
    assert exams[CLAUDE]["verdict"] == "confirm"


def test_hanging_examiner_is_stopped_at_the_budget(
    repo: Path, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    (repo / "deepreview.toml").write_text("[cross_examination]\nbudget_s = 3\n")
    env = environment(fake_cli_env, tmp_path, {"claude": "crossexam-confirm", "codex": "hang"})
    report, markdown, elapsed = review(repo, env, tmp_path / "out")
    exams = {e["examiner"]: e for e in report["examinations"]}
    assert exams[CODEX]["status"] == "timeout", exams[CODEX]
    assert any("IndexError" in f["title"] for f in report["findings"])
    slowest = max(r["duration_s"] for r in report["runs"])
    assert report["wall_clock_s"] <= slowest + 3 + 5
    assert elapsed < 60
    assert "examined by OpenAI GPT 6.2 Sol: timeout" in markdown


def test_one_vendor_is_not_cross_examined(
    repo: Path, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    env = environment(fake_cli_env, tmp_path, {"claude": "crossexam-confirm"})
    report, _, _ = review(repo, env, tmp_path / "out", ("--agent", "claude"))
    assert report["examinations"] == []
    assert any("IndexError" in f["title"] for f in report["findings"])
    assert reviews_and_questions(tmp_path, "claude") == 1
