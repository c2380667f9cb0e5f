"""The command's output for CI logs and pipes: heartbeats, groups, `--output -`, `--quiet`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAKES_DIR
from tests.integration.test_cli import planted
from tests.repo_factory import write

__all__ = ["planted"]


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI"))}
    return subprocess.run(
        [sys.executable, "-m", "deepreview", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**base, "PATH": f"{FAKES_DIR}{os.pathsep}{base['PATH']}", **env},
        timeout=300,
    )


def test_a_slow_agent_beats_inside_a_github_group(planted: Path) -> None:
    write(planted, {"deepreview.toml": "heartbeat_s = 0.3\n"})
    proc = run(
        planted,
        "review",
        "--agent",
        "claude",
        "--agent",
        "scan",
        GITHUB_ACTIONS="true",
        FAKE_CLAUDE_DELAY="2",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == "::group::deepreview: agents"
    assert "::endgroup::" in lines
    beats = [ln for ln in lines if ": running " in ln and " of 15m" in ln]
    # it prints its whole answer at the end: while it waits, no tool call is counted (a beat
    # may land while that answer is being read, and then counts its calls)
    calls = [int(ln.rsplit(", ", 1)[1].split()[0]) for ln in beats]
    assert len(beats) >= 3 and calls[:3] == [0, 0, 0], proc.stderr
    assert calls == sorted(calls)


def test_json_to_stdout_and_quiet(planted: Path) -> None:
    proc = run(planted, "review", "--agent", "scan", "--format", "json", "--output", "-")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"]["decision"] == "Rework"
    assert (planted / ".deepreview" / "reviews" / f"{report['id']}.json").is_file()

    proc = run(planted, "review", "--agent", "scan", "--format", "md,json", "--output", "-")
    assert proc.returncode == 2 and "--output - prints one format" in proc.stderr

    proc = run(planted, "review", "--agent", "scan", "--quiet", "--fail-on", "critical")
    assert proc.returncode == 1
    assert proc.stdout == "" and proc.stderr == ""
