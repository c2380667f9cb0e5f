"""A whole `deepreview review` with the three pinned real CLIs and no configuration, each CLI
talking to its vendor's loopback emulator: every reviewer is named by its real model, its
tokens and cost are recorded, and the one defect all three found is attributed to all three."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.contract.emulators import Read, Say, Script
from tests.contract.harness import CLIS, cli_environment, emulate, make_change

pytestmark = pytest.mark.contract

#: Each model reads the file first (gemini's with a sentence before its tool call).
SCRIPTS = {
    "claude": Script(turns=((Read("app.py"),),)),
    "codex": Script(turns=((Say("Reading app.py."), Read("app.py")),)),
    "gemini": Script(turns=((Say("I'll read app.py first."), Read("app.py")),)),
}
NAMES = {"claude": "Claude Opus 4.8", "codex": "OpenAI GPT 6.2 Sol", "gemini": "Gemini 3.8 Flash"}


def test_three_real_clis_review_with_no_configuration(tmp_path: Path) -> None:
    repo, _, _ = make_change(tmp_path)
    home = tmp_path / "home"
    env: dict[str, str] = {}
    with ExitStack() as stack:
        for cli in CLIS:
            emulator = stack.enter_context(emulate(cli, SCRIPTS[cli], repo))
            env |= cli_environment(cli, emulator.url, home)
        env["DEEPREVIEW_CACHE_DIR"] = str(tmp_path / "cache")
        proc = subprocess.run(
            [sys.executable, "-m", "deepreview", "review", "--base", "HEAD~1"]
            + [arg for cli in CLIS for arg in ("--agent", cli)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(next((repo / ".deepreview" / "reviews").glob("*.json")).read_text())
    runs = {r["agent"]: r for r in report["runs"]}
    for cli in CLIS:
        run = runs[cli]
        assert run["status"] == "ok", (cli, run["reason"], run["notes"])
        assert run["display_name"] == NAMES[cli]
        assert run["usage"]["input_tokens"] > 0 and run["usage"]["output_tokens"] > 0
        assert run["cost_usd"] > 0
        assert run["files_read"] == ["app.py"], cli
    [finding] = report["findings"]
    assert finding["severity"] == "important"
    assert sorted(finding["agents"]) == sorted(NAMES.values())
    markdown = next((repo / ".deepreview" / "reviews").glob("*.md")).read_text()
    for name in NAMES.values():
        assert name in markdown
