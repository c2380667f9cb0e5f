"""Third-party agents found through the `deepreview.agents` entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.repo_factory import commit, git, make_repo

PLUGIN = """
from typing import ClassVar

from deepreview.agents.base import AgentBase
from deepreview.context import ReviewContext
from deepreview.schema import AgentReview, AgentRun, Finding, Location


class ShoutAgent(AgentBase):
    name: ClassVar[str] = "shout"

    def display_name(self) -> str:
        return "Shout 1.0"

    async def run(self, ctx: ReviewContext) -> AgentRun:
        path = ctx.diff.paths[0]
        finding = Finding(id="S1", severity="suggestion", title="Too quiet",
                          locations=[Location(path=path, start_line=1)])
        return AgentRun(agent=self.name, display_name=self.display_name(), kind=self.kind,
                        status="ok", review=AgentReview(findings=[finding]))
"""


def install_plugin(site: Path) -> None:
    """A distribution as an installer leaves it: the module and its dist-info with entry points."""
    (site / "shout_agent.py").write_text(PLUGIN)
    info = site / "shout_agent-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shout-agent\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[deepreview.agents]\nshout = shout_agent:ShoutAgent\n")


def test_entry_point_agent_is_listed_and_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "-b", "feat")
    commit(repo, {"a.txt": "hello\n"}, "Add a")
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    listed = subprocess.run(
        [sys.executable, "-m", "deepreview", "agents"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("shout"))
    assert "Shout 1.0" in row and "available" in row
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepreview",
            "review",
            "--agent",
            "shout",
            "--output",
            str(tmp_path / "out"),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert [f["agents"] for f in report["findings"]] == [["Shout 1.0"]]
    assert report["verdict"]["decision"] == "Merge with optional fixes"
