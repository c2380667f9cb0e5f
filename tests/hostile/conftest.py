"""Fixtures for the hostile-input suite: real repositories, the real CLI, misbehaving agents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKES_DIR
from tests.repo_factory import commit, git, make_repo

#: A `claude` that misbehaves on demand (see its docstring for HOSTILE_* settings).
HOSTILE_AGENT = FAKES_DIR / "hostile_agent"

APP = '''"""Settlement of ledger batches."""


def settle(batch: list[int]) -> int:
    """Sum a batch."""
    total = 0
    for amount in batch:
        total += amount
    return total
'''


class Cli:
    """Runs `python -m deepreview` with the fakes on PATH, TMPDIR pointed at `tmp` and HOME at
    `home`. Fakes write what they observe to files in `logs` (`home/.cache/fakes`): agents are
    sandboxed, and the cache is one of the few folders outside their worktree they may write."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        (self.bin / "claude").symlink_to(HOSTILE_AGENT)
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        self.out = root / "out"
        self.logs = root / "home" / ".cache" / "fakes"
        self.logs.mkdir(parents=True)
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FAKE_", "HOSTILE_", "DEEPREVIEW_")) and k != "CI"
        }
        self.env["PATH"] = os.pathsep.join([str(self.bin), str(FAKES_DIR), os.environ["PATH"]])
        self.env["TMPDIR"] = str(self.tmp)
        self.env["HOME"] = str(root / "home")

    def argv(self, *args: str) -> list[str]:
        """The command line of `deepreview review ARGS` writing to `self.out`."""
        return [sys.executable, "-m", "deepreview", "review", "--output", str(self.out), *args]

    def review(
        self,
        repo: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        preexec_fn: Callable[[], Any] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run a review to completion."""
        return subprocess.run(
            self.argv(*args),
            cwd=repo,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            preexec_fn=preexec_fn,
            stdin=subprocess.DEVNULL,
        )

    def hanging(self, repo: Path, pids: Path, **popen: Any) -> subprocess.Popen[Any]:
        """A review whose `claude` hangs, returned once that agent runs (it appends its pid and
        its child's to `pids`); output is discarded unless `popen` says otherwise."""
        streams: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        proc = subprocess.Popen(
            self.argv("--agent", "claude"),
            cwd=repo,
            env={**self.env, "HOSTILE_MODE": "hang", "HOSTILE_PIDS": str(pids)},
            stdin=subprocess.DEVNULL,
            **{**streams, **popen},
        )
        try:
            wait_for(pids.exists, "the agent")
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
        return proc

    def report(self) -> dict[str, Any]:
        """The one JSON report written so far."""
        (path,) = self.out.glob("*.json")
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def leftover_worktrees(self) -> list[Path]:
        """Worktree folders left in TMPDIR."""
        return sorted(self.tmp.glob("deepreview-wt-*"))


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    """Wait until `condition()` holds, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def run_of(report: Mapping[str, Any], agent: str) -> dict[str, Any]:
    """The report's run of `agent`."""
    (run,) = [r for r in report["runs"] if r["agent"] == agent]
    return dict(run)


def write_answer(path: Path, answer: object) -> str:
    """Write an agent's answer (JSON unless a str) and return its path for HOSTILE_REVIEW."""
    path.write_text(answer if isinstance(answer, str) else json.dumps(answer), encoding="utf-8")
    return str(path)


def default_sigint() -> None:
    """A child's Ctrl-C back to the default: a shell starts background jobs (and so the tests
    run from one) with SIGINT ignored, which the child would inherit and keep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pid_alive(pid: int) -> bool:
    """Whether `pid` names a live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI runner of one test."""
    return Cli(tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose branch `feature` adds ledger/settle.py."""
    path = make_repo(tmp_path / "repo", {"README.md": "# demo\n"})
    git(path, "checkout", "-q", "-b", "feature")
    commit(path, {"ledger/settle.py": APP}, "Add batch settlement")
    return path
