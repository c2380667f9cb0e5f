"""Rounds on a branch: a prior finding no agent re-raises is carried over while its lines stand,
and called fixed once the new commits change them. Round 1's claude replays a recorded run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import FAKES_DIR
from tests.contract.emulators import APP_AFTER, APP_BEFORE
from tests.repo_factory import commit, git, make_repo


def review(repo: Path, **fake: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAKE_", "CI"))}
    env["PATH"] = f"{FAKES_DIR}{os.pathsep}{env.get('PATH', '')}"
    env.update({f"FAKE_CLAUDE_{k}": v for k, v in fake.items()})
    proc = subprocess.run(
        [sys.executable, "-m", "deepreview", "review", "--agent", "claude", "--no-cache"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    latest = max((repo / ".deepreview" / "reviews").glob("*.json"), key=lambda p: p.stat().st_mtime)
    report: dict[str, Any] = json.loads(latest.read_text())
    report["markdown"] = latest.with_suffix(".md").read_text()
    return report


def test_unaddressed_finding_is_carried_over_until_its_lines_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": APP_BEFORE})
    git(repo, "checkout", "-q", "-b", "runner")
    commit(repo, {"app.py": APP_AFTER}, "Run a command")
    first = review(repo, MODE="replay", RECORDING="tool")
    [shell] = first["findings"]
    assert (shell["id"], shell["locations"][0]["start_line"]) == ("I1", 5)

    # Lines above the finding move it down; nobody re-raises it: carried over, not fixed.
    commit(repo, {"app.py": "# Runs commands.\n" + APP_AFTER}, "Say what the module does")
    second = review(repo)
    assert second["round"] == 2
    assert [(p["id"], p["status"]) for p in second["prior_findings"]] == [("I1", "unaddressed")]
    [carried] = second["findings"]
    assert carried["title"] == shell["title"] and carried["prior_status"] == "unaddressed"
    assert carried["locations"][0] == {"path": "app.py", "start_line": 6, "end_line": None}
    assert second["verdict"]["decision"] == "Merge with fixes"
    assert "(Round 1 I1 unaddressed)" in second["markdown"]

    # The new commits change the cited line: that is the evidence it is fixed.
    fixed = APP_AFTER.replace('f"echo {name}", shell=True', '["echo", name]')
    commit(repo, {"app.py": "# Runs commands.\n" + fixed}, "Pass an argument list")
    third = review(repo)
    assert [(p["id"], p["status"]) for p in third["prior_findings"]] == [("I1", "fixed")]
    assert third["findings"] == [] and third["verdict"]["decision"] == "Merge as-is"
