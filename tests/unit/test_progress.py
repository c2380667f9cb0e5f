"""CI log lines: heartbeats, GitHub groups and annotations, GitLab sections, no wrapping."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
from pathlib import Path

from rich.console import Console

from deepreview.agents.claude import ClaudeAgent
from deepreview.cli.progress import Progress, clock, log_style
from deepreview.config import AgentConfig
from deepreview.runner import ProgressEvent, run_agents
from tests.conftest import FAKES_DIR
from tests.unit.test_runner import SleepAgent, _ctx

LONG = "exit 1: " + "a long reason that a terminal of eighty columns would wrap " * 3


def _lines(style: str, events: list[ProgressEvent]) -> list[str]:
    out = io.StringIO()
    log = Console(file=out, force_terminal=False, width=80)
    with Progress(log, style) as progress:  # type: ignore[arg-type]
        for event in events:
            progress(event)
    return out.getvalue().splitlines()


EVENTS = [
    ProgressEvent("claude", "claude", "queued", 0.0),
    ProgressEvent("claude", "claude", "running", 0.0, timeout_s=900),
    ProgressEvent("claude", "claude", "running", 312, timeout_s=900, tool_calls=14, heartbeat=True),
    ProgressEvent("claude", "claude", "failed", 313, reason=LONG),
    ProgressEvent("claude", "claude", "running", 320, timeout_s=900, heartbeat=True),
]


def test_github_log_groups_heartbeats_and_annotates_failures() -> None:
    lines = _lines("github", EVENTS)
    assert lines[0] == "::group::deepreview: agents"
    assert lines[1].endswith("] claude: running")
    assert lines[2].endswith("] claude: running 5m12s of 15m, 14 tool calls")
    assert lines[3].endswith(f"] claude: failed — {LONG}")  # one line, longer than 80
    assert lines[4] == f"::error title=deepreview: claude failed::{LONG}"
    assert lines[5] == "::endgroup::"
    assert len(lines) == 6  # the late heartbeat of a finished agent is not logged


def test_gitlab_log_is_one_collapsed_section() -> None:
    lines = _lines("gitlab", EVENTS)
    assert (
        lines[0].startswith("\x1b[0Ksection_start:")
        and "deepreview_agents[collapsed=true]" in lines[0]
    )
    assert lines[-1].startswith("\x1b[0Ksection_end:") and "deepreview_agents" in lines[-1]
    assert not any(line.startswith("::") for line in lines)


def test_plain_log_and_styles() -> None:
    lines = _lines("plain", EVENTS)
    assert len(lines) == 3 and not any("::" in line for line in lines)
    assert log_style({"GITHUB_ACTIONS": "true"}) == "github"
    assert log_style({"GITLAB_CI": "true"}) == "gitlab"
    assert log_style({"CI": "true"}) == "plain"
    assert [clock(s) for s in (0, 42, 300, 312, 3720)] == ["0s", "42s", "5m", "5m12s", "1h02m"]


def test_runner_beats_for_each_running_agent(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    agents = [SleepAgent(0.8), SleepAgent(0.2)]
    asyncio.run(
        run_agents(
            agents, _ctx(tmp_path), max_concurrency=2, progress=events.append, heartbeat_s=0.1
        )
    )
    beats = [e for e in events if e.heartbeat]
    assert len(beats) >= 4
    assert all(e.state == "running" and e.timeout_s == 900 for e in beats)
    last_done = max(i for i, e in enumerate(events) if e.state == "ok")
    assert not any(e.heartbeat for e in events[last_done + 1 :])  # beats stop with the agents


def test_live_tool_calls_are_read_from_the_output_so_far(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "b.py").write_text("b = 1\n")
    env = {**os.environ, "FAKE_CLAUDE_READS": "a.py,b.py"}
    argv = [str(FAKES_DIR / "claude"), "-p", "--output-format", "stream-json", "--verbose"]
    stream = subprocess.run(
        argv, input="review", capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    ).stdout.splitlines(keepends=True)
    uses = [i for i, line in enumerate(stream) if '"tool_use"' in line and '"assistant"' in line]
    assert len(uses) >= 2
    ctx = _ctx(tmp_path)
    ctx.run_dir.mkdir()
    agent = ClaudeAgent(AgentConfig())
    assert agent.tool_calls_so_far(ctx) is None  # no output yet
    (ctx.run_dir / "claude.stdout").write_text("".join(stream[: uses[1]]))
    assert agent.tool_calls_so_far(ctx) == 1
    (ctx.run_dir / "claude.stdout").write_text("".join(stream))
    assert agent.tool_calls_so_far(ctx) == len(uses)
