"""Agents' traces stay under `.deepreview/runs/<review id>/`, redacted, for the last N reviews,
and the report's trace note names a file that exists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAKES_DIR
from tests.repo_factory import commit, git, make_repo

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def review(repo: Path, env: dict[str, str]) -> dict[str, object]:
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "deepreview", "review", "--base", "HEAD~1", "--no-cache"),
            *("--agent", "claude", "--format", "json"),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    reports = sorted((repo / ".deepreview" / "reviews").glob("*.json"))
    report: dict[str, object] = json.loads(reports[-1].read_text())
    return report


def test_traces_are_kept_redacted_for_the_last_reviews(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "import subprocess\n"})
    commit(repo, {"app.py": f'import subprocess\nTOKEN = "{TOKEN}"\n'}, "Add a token")
    (repo / "deepreview.toml").write_text("keep_traces = 2\n")
    git(repo, "add", "deepreview.toml")
    git(repo, "commit", "-q", "--amend", "--no-edit")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
    env |= {
        "PATH": f"{FAKES_DIR}{os.pathsep}{env['PATH']}",
        "FAKE_CLAUDE_MODE": "replay",
        "GITHUB_TOKEN": TOKEN,
        "HOME": str(tmp_path / "home"),
    }
    ids = []
    for _ in range(3):
        report = review(repo, env)
        ids.append(str(report["id"]))
        [run] = [r for r in report["runs"] if r["agent"] == "claude"]  # type: ignore[attr-defined]
        [note] = [n for n in run["notes"] if n.startswith("trace: ")]
        trace = repo / note.removeprefix("trace: ")
        assert trace.is_file() and trace.parent.name == report["id"]
        assert trace.parent.parent == repo / ".deepreview" / "runs"
        prompt = (trace.parent / "claude.prompt").read_text()
        assert "TOKEN = " in prompt and TOKEN not in prompt
        kept = {p.name for p in trace.parent.iterdir()}
        assert {"claude.exit", "claude.prompt", "claude.stderr", "claude.stdout"} <= kept
        assert all(p.is_file() for p in trace.parent.iterdir())  # no scratch folders
        assert all(TOKEN not in p.read_text(errors="replace") for p in trace.parent.iterdir())
    assert len(set(ids)) == 3
    kept = sorted(p.name for p in (repo / ".deepreview" / "runs").iterdir())
    assert kept == ids[1:]
    assert git(repo, "status", "--porcelain") == ""  # the traces are git-ignored
