"""Ctrl-C and SIGTERM while a slow agent runs: clean up everything, keep what finished."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli, default_sigint, pid_alive, run_of
from tests.repo_factory import git


def wait_for(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


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
