"""The README's Quickstart review: the sample patch gives findings from the built-in reviewers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cli import SECTIONS
from tests.repo_factory import make_repo

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_patch_review(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "deepreview review --patch examples/quickstart.patch" in readme
    repo = make_repo(tmp_path / "repo")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepreview",
            "review",
            "--patch",
            str(ROOT / "examples" / "quickstart.patch"),
            "--output",
            str(tmp_path / "out"),
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    raised_by = {agent.split()[0] for f in data["findings"] for agent in f["agents"]}
    assert {"scan", "ruff", "bandit"} <= raised_by
    assert any("TODO" in lim["quote"] for lim in data["limitations"])
    assert data["verdict"]["decision"] == "Rework"
    md = next((tmp_path / "out").glob("*.md")).read_text()
    positions = [md.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
