"""The runner: concurrency, timeouts, crashes, and the process-group kill."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest

from deepreview.agents.base import AgentBase, agent_environment
from deepreview.agents.process import run_process
from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.diff import Diff
from deepreview.runner import ProgressEvent, run_agents
from deepreview.schema import AgentReview, AgentRun, Finding, ReportTarget
from tests.runtimes import make_runtime


def _ctx(tmp_path: Path, *, serial: bool = False) -> ReviewContext:
    return ReviewContext(
        repo_root=tmp_path,
        worktree=tmp_path,
        diff=Diff(),
        target=ReportTarget(kind="range"),
        base_sha=None,
        run_dir=tmp_path / "runs",
        runtime=make_runtime(serial=serial),
    )


class SleepAgent(AgentBase):
    name: ClassVar[str] = "sleepy"

    def __init__(self, seconds: float, config: AgentConfig | None = None) -> None:
        super().__init__(config)
        self.seconds = seconds
        self.span: tuple[float, float] | None = None

    async def run(self, ctx: ReviewContext) -> AgentRun:
        start = time.monotonic()
        res = await run_process(
            [sys.executable, "-c", f"import time; time.sleep({self.seconds})"],
            cwd=ctx.worktree,
            env=dict(os.environ),
            stdin=None,
            timeout_s=self.config.timeout_s,
            capture_dir=ctx.run_dir,
            name=f"{self.name}-{id(self)}",
        )
        self.span = (start, time.monotonic())
        status = "timeout" if res.timed_out else "ok"
        review = AgentReview(findings=[Finding(id="S1", severity="suggestion", title="t")])
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            status=status,
            duration_s=res.duration_s,
            review=review,
        )


class CrashAgent(AgentBase):
    name: ClassVar[str] = "crashy"

    async def run(self, ctx: ReviewContext) -> AgentRun:
        raise ValueError("model returned garbage\nsecond line")


def test_agents_run_concurrently_and_in_order(tmp_path: Path) -> None:
    agents = [SleepAgent(1.0), SleepAgent(1.0), SleepAgent(1.0)]
    events: list[ProgressEvent] = []
    runs = asyncio.run(
        run_agents(agents, _ctx(tmp_path), max_concurrency=8, progress=events.append)
    )
    assert [r.status for r in runs] == ["ok", "ok", "ok"]
    spans = [a.span for a in agents if a.span is not None]
    assert len(spans) == 3
    assert max(s for s, _ in spans) < min(e for _, e in spans)  # all three running at once
    states = [e.state for e in events]
    assert states.count("queued") == 3 and states.count("running") == 3 and states.count("ok") == 3
    assert [e.findings for e in events if e.state == "ok"] == [1, 1, 1]


def test_serial_runtime_forces_one_at_a_time(tmp_path: Path) -> None:
    agents = [SleepAgent(0.3), SleepAgent(0.3)]
    ctx = _ctx(tmp_path, serial=True)
    asyncio.run(run_agents(agents, ctx, max_concurrency=8, progress=lambda e: None))
    first, second = (a.span for a in agents)
    assert first is not None and second is not None
    assert first[1] <= second[0]  # the second started after the first ended


def test_crash_becomes_failed_run_and_others_survive(tmp_path: Path) -> None:
    runs = asyncio.run(
        run_agents(
            [CrashAgent(), SleepAgent(0.1)],
            _ctx(tmp_path),
            max_concurrency=2,
            progress=lambda e: None,
        )
    )
    assert runs[0].status == "failed"
    assert runs[0].reason == "ValueError: model returned garbage"
    assert runs[1].status == "ok"


def test_timeout_is_reported(tmp_path: Path) -> None:
    agent = SleepAgent(30, AgentConfig(timeout_s=0.5))
    t0 = time.monotonic()
    runs = asyncio.run(
        run_agents([agent], _ctx(tmp_path), max_concurrency=1, progress=lambda e: None)
    )
    assert runs[0].status == "timeout"
    assert time.monotonic() - t0 < 5


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    res = asyncio.run(
        run_process(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=dict(os.environ),
            stdin=b"",
            timeout_s=1.0,
            capture_dir=tmp_path / "cap",
            name="hang",
        )
    )
    assert res.timed_out and res.returncode is None
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # a zombie reaped by init still answers kill(0) briefly; check its state
        stat = Path(f"/proc/{child}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("grandchild survived the timeout")


def test_process_output_goes_to_files_and_stdin_is_explicit(tmp_path: Path) -> None:
    res = asyncio.run(
        run_process(
            [
                sys.executable,
                "-c",
                "import sys; d=sys.stdin.read(); print(d.upper()); "
                "print('warn', file=sys.stderr); sys.exit(3)",
            ],
            cwd=tmp_path,
            env=dict(os.environ),
            stdin=b"prompt text",
            timeout_s=10,
            capture_dir=tmp_path / "cap",
            name="echo",
        )
    )
    assert res.returncode == 3
    assert res.stdout == b"PROMPT TEXT\n"
    assert res.stderr == b"warn\n"
    assert res.stdout_path.read_bytes() == b"PROMPT TEXT\n"


def test_stdin_defaults_to_devnull(tmp_path: Path) -> None:
    res = asyncio.run(
        run_process(
            [sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"],
            cwd=tmp_path,
            env=dict(os.environ),
            stdin=None,
            timeout_s=10,
            capture_dir=tmp_path,
            name="devnull",
        )
    )
    assert res.stdout.strip() == b"''"


def test_agent_environment_strips_credentials_except_kept() -> None:
    env = {
        "PATH": "/bin",
        "ANTHROPIC_API_KEY": "a",
        "GITHUB_TOKEN": "g",
        "HOME": "/h",
        "MY_PASSWORD": "p",
    }
    out = agent_environment(env, keep=("ANTHROPIC_API_KEY",))
    assert out == {"PATH": "/bin", "ANTHROPIC_API_KEY": "a", "HOME": "/h"}


def test_a_run_without_a_review_records_the_agent_it_belongs_to() -> None:
    agent = CrashAgent(AgentConfig(model="m-1", effort="high"))
    run = AgentRun.failure(agent, "timeout", "timeout after 5 s", duration_s=1.23456, notes=["n"])
    assert (run.agent, run.display_name, run.kind) == ("crashy", "crashy", "builtin")
    assert (run.model, run.effort, run.status, run.reason) == (
        "m-1",
        "high",
        "timeout",
        "timeout after 5 s",
    )
    assert (run.duration_s, run.notes, run.review) == (1.235, ["n"], None)
    assert AgentRun.failure(agent, "skipped", "off", agent="other", effort=None).agent == "other"
