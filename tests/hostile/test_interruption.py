"""Ctrl-C and SIGTERM while a slow agent runs: clean up everything, keep what finished."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli, default_sigint, pid_alive, run_of, wait_for
from tests.repo_factory import git


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_cleans_up_and_keeps_the_finished_agent(
    cli: Cli, repo: Path, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    pids, calls, log = cli.logs / "pids", cli.logs / "codex-calls", tmp_path / "stderr"
    env = {
        **cli.env,
        "HOSTILE_MODE": "hang",
        "HOSTILE_PIDS": str(pids),
        "FAKE_CODEX_CALLS": str(calls),
    }
    with log.open("w") as err:
        proc = subprocess.Popen(
            cli.argv("--agent", "claude", "--agent", "codex"),
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            preexec_fn=default_sigint,
        )
        try:
            finished = re.compile(r"Codex[^\n]*: ok")
            wait_for(lambda: pids.exists() and finished.search(log.read_text()), "agents")
            proc.send_signal(sig)
            assert proc.wait(timeout=30) == code
        finally:
            proc.kill()
            proc.wait()
    stderr = log.read_text()
    assert "deepreview: interrupted" in stderr and "Traceback" not in stderr
    leader, child = (int(p) for p in pids.read_text().split())
    assert not pid_alive(leader) and not pid_alive(child)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert [p.name for p in cli.tmp.iterdir() if p.name.startswith("deepreview-")] == []
    assert not cli.out.exists() or list(cli.out.iterdir()) == []

    again = cli.review(
        repo, "--agent", "claude", "--agent", "codex", env={"FAKE_CODEX_CALLS": str(calls)}
    )
    assert again.returncode == 0, again.stderr
    report = cli.report()
    assert run_of(report, "codex")["cached"] is True
    assert run_of(report, "claude")["cached"] is False
    assert calls.read_text().splitlines().count("review") == 1


def review_folders(cli: Cli) -> list[Path]:
    """The run and worktree folders in the review's TMPDIR."""
    return sorted(cli.tmp.glob("deepreview-run-*")) + cli.leftover_worktrees()


def test_a_review_killed_outright_is_swept_by_the_next_one(cli: Cli, repo: Path) -> None:
    pids = cli.logs / "pids"
    proc = cli.hanging(repo, pids)
    proc.kill()  # SIGKILL: no cleanup runs, the agent is orphaned
    proc.wait()
    leader = int(pids.read_text().split()[0])
    try:
        run, wt = review_folders(cli)
        assert (run / "target.diff").is_file()
        assert (wt / "head" / "ledger" / "settle.py").is_file()
        assert wt.name in git(repo, "worktree", "list")
        again = cli.review(repo, "--agent", "scan")  # the orphaned agent still runs meanwhile
        assert again.returncode == 0, again.stderr
        assert run_of(cli.report(), "scan")["status"] == "ok"
        assert not run.exists() and not wt.exists()
        assert [p.name for p in cli.tmp.iterdir() if p.name.startswith("deepreview-")] == []
        assert len(git(repo, "worktree", "list").splitlines()) == 1
        assert "prunable" not in git(repo, "worktree", "list", "--porcelain")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader, signal.SIGKILL)


def test_a_running_reviews_folders_are_not_swept(cli: Cli, repo: Path) -> None:
    pids = cli.logs / "pids"
    first = cli.hanging(repo, pids)
    try:
        folders = review_folders(cli)
        assert len(folders) == 2
        second = cli.review(repo, "--agent", "scan")
        assert second.returncode == 0, second.stderr
        assert review_folders(cli) == folders  # the second's own are gone, the first's kept
        assert (folders[1] / "head" / "ledger" / "settle.py").is_file()
        assert len(git(repo, "worktree", "list").splitlines()) == 2
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 143
    finally:
        first.kill()
        first.wait()
    assert review_folders(cli) == []
    assert len(git(repo, "worktree", "list").splitlines()) == 1
