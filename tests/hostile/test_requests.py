"""A request that cannot be carried out fails before any agent runs; a review without AI says
so; a defect in deepreview is one line and its own exit code."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from deepreview.pipeline import RequestError, ReviewOptions
from deepreview.source.git import TargetError
from deepreview.source.resolve import TargetSpec
from tests.hostile.conftest import Cli, pid_alive, run_of
from tests.repo_factory import git

BUILTIN_ONLY = "(built-in reviewers only: no AI agent reviewed the logic)"
BAD_HUNK = """diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1 +1 @@
-# a different title
+# demo, edited
"""


def no_review_ran(cli: Cli, repo: Path) -> bool:
    """No report, nothing in the history, and the agent was never started."""
    db_path = repo / ".deepreview" / "deepreview.db"
    rows = 0
    if db_path.exists():
        db = sqlite3.connect(db_path)
        rows = db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        db.close()
    reports = list(cli.out.iterdir()) if cli.out.exists() else []
    return rows == 0 and reports == [] and not (cli.logs / "calls").exists()


def test_an_unavailable_requested_agent_is_an_error_unless_allowed(cli: Cli, repo: Path) -> None:
    calls = {"HOSTILE_CALLS": str(cli.logs / "calls")}
    proc = cli.review(repo, "--agent", "claude", "--agent", "gemini-api", env=calls)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "deepreview: error: requested agent not available: gemini-api "
        "(set GEMINI_API_KEY or GOOGLE_API_KEY)"
    ]
    assert no_review_ran(cli, repo)
    proc = cli.review(repo, "--agent", "claude", "--agent", "gemini-api", "--allow-missing")
    assert proc.returncode == 0, proc.stderr
    assert run_of(cli.report(), "gemini-api")["status"] == "skipped"


def test_without_an_ai_reviewer_the_verdict_says_so_and_require_ai_fails(
    cli: Cli, repo: Path
) -> None:
    proc = cli.review(repo, "--agent", "scan", "--format", "md,json")
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    label = f"{report['verdict']['decision']} {BUILTIN_ONLY}"
    assert f"Deep Review {report['id']}: {label}" in " ".join(proc.stdout.split())
    md = next(cli.out.glob("*.md")).read_text(encoding="utf-8")
    assert f"**{report['verdict']['decision']}** {BUILTIN_ONLY}" in md
    crashed = cli.review(
        repo, "--agent", "claude", "--agent", "scan", "--require-ai", "--no-cache",
        env={"HOSTILE_MODE": "crash_mid"},
    )  # fmt: skip
    assert crashed.returncode == 1
    assert "deepreview: no AI agent reviewed the change (--require-ai)" in crashed.stderr
    reviewed = cli.review(repo, "--agent", "claude", "--agent", "scan", "--require-ai")
    assert reviewed.returncode == 0, reviewed.stderr
    assert "built-in reviewers only" not in reviewed.stdout


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        (BAD_HUNK, "error: patch failed: README.md:1"),
        ("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n", "error: corrupt patch"),
    ],
)
def test_a_patch_that_does_not_apply_is_an_error_with_gits_reason(
    cli: Cli, repo: Path, tmp_path: Path, patch: str, reason: str
) -> None:
    path = tmp_path / "change.patch"
    path.write_text(patch)
    calls = {"HOSTILE_CALLS": str(cli.logs / "calls")}
    proc = cli.review(repo, "--patch", str(path), "--agent", "claude", env=calls)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()[-1:]
    assert line.startswith("deepreview: error: ") and reason in line
    assert no_review_ran(cli, repo)
    if patch is BAD_HUNK:
        kept = cli.review(repo, "--patch", str(path), "--agent", "scan", "--allow-unapplied")
        assert kept.returncode == 0, kept.stderr
        assert any("agents saw the unpatched tree" in n for n in cli.report()["notes"])


def test_a_bad_output_folder_fails_before_any_agent_starts(cli: Cli, repo: Path) -> None:
    calls = {"HOSTILE_CALLS": str(cli.logs / "calls")}
    proc = subprocess.run(
        [sys.executable, "-m", "deepreview", "review", "--output", "/dev/null/x", "--agent",
         "claude"],
        cwd=repo, env={**cli.env, **calls}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "deepreview: error: cannot write the report to /dev/null/x: Not a directory"
    )
    assert no_review_ran(cli, repo)


def test_the_library_rejects_a_bad_format_when_the_request_is_built(repo: Path) -> None:
    with pytest.raises(RequestError, match="unknown format pdf; choose from md, json"):
        ReviewOptions(cwd=repo, environ={}, formats=("md", "pdf"))
    with pytest.raises(TargetError, match="--patch cannot be combined"):
        ReviewOptions(cwd=repo, environ={}, target=TargetSpec(patch="x", uncommitted=True))


def test_an_internal_error_is_one_line_with_its_own_exit_code(cli: Cli, repo: Path) -> None:
    assert cli.review(repo, "--agent", "scan").returncode == 0
    review_id = cli.report()["id"]
    db = sqlite3.connect(repo / ".deepreview" / "deepreview.db")
    with db:
        db.execute("UPDATE reviews SET report_json = '{\"id\": 1}'")  # a damaged history row
    db.close()
    proc = subprocess.run(
        [sys.executable, "-m", "deepreview", "publish", review_id, "--github", "--dry-run"],
        cwd=repo, env=cli.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 70, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("deepreview: internal error: ValidationError: ")
    log = Path(line.rsplit("(details in ", 1)[1].rstrip(")"))
    assert "Traceback (most recent call last)" in log.read_text()
    assert "Traceback" not in proc.stdout


def test_sigterm_stops_a_review_whose_sigint_is_ignored(cli: Cli, repo: Path) -> None:
    """As for `deepreview review &` in a script: the shell starts it with SIGINT ignored."""
    pids = cli.logs / "pids"
    proc = cli.hanging(
        repo,
        pids,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 143
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    assert "deepreview: interrupted" in stderr and "Traceback" not in stderr
    leader, child = (int(p) for p in pids.read_text().split())
    assert not pid_alive(leader) and not pid_alive(child)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert cli.leftover_worktrees() == [] and os.path.isdir(repo)


def test_git_variables_inherited_from_a_hook_do_not_redirect_the_review(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (repo / "ledger.py").write_text("def refund(x: int) -> int:\n    return -x\n")
    git(repo, "add", "ledger.py")
    git(repo, "commit", "-qm", "Add refunds")
    stray_index = tmp_path / "stray-index"
    env = {"GIT_DIR": str(other / ".git"), "GIT_INDEX_FILE": str(stray_index)}
    done = cli.review(repo, "--base", "HEAD~1", "--agent", "scan", env=env)
    assert done.returncode == 0, done.stderr
    report = cli.report()
    assert report["target"]["changed_files"] == ["ledger.py"]
    assert not stray_index.exists()
