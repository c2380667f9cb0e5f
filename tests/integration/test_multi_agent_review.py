"""A whole review with three fake AI CLIs and a rate-limited API agent, run as the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKES_DIR
from tests.repo_factory import commit, git, make_repo
from tests.servers import LoopbackServer, Reply

STORE = '''import sqlite3


def find_customer(conn: sqlite3.Connection, name: str):
    """Look a customer up by name."""
    sql = f"SELECT id, name FROM customers WHERE name = '{name}'"
    return conn.execute(sql).fetchone()
'''
SQL_LINE = "    sql = f\"SELECT id, name FROM customers WHERE name = '{name}'\""


def review(title: str, line: int, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One agent's structured answer: the shared SQL injection, worded its own way."""
    return {
        "summary": "Adds a customer lookup.",
        "findings": [
            {
                "id": "C1",
                "severity": "critical",
                "category": "security",
                "title": title,
                "body": "The name is interpolated into the SQL statement.",
                "locations": [{"path": "app/store.py", "start_line": line}],
                "excerpt": SQL_LINE,
                "fix": "Pass the name as a query parameter.",
            },
            *(extra or []),
        ],
        "strengths": [{"title": "Small, focused change"}],
        "coverage": [{"path": "app/store.py", "reviewed": True, "finding_ids": ["C1"]}],
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"README.md": "# shop\n", "app/__init__.py": ""})
    git(repo, "checkout", "-q", "-b", "lookup")
    commit(repo, {"app/store.py": STORE}, "Look customers up by name")
    return repo


def test_three_ai_reviewers_agree_and_a_rate_limited_one_is_struck_through(
    repo: Path, tmp_path: Path
) -> None:
    answers = {
        "CLAUDE": review("SQL injection through the customer name", 6),
        # codex cites the wrong line; grounding corrects it from the excerpt
        "CODEX": review("customer name is formatted into the SQL query (injection)", 9),
        "GEMINI": review(
            "SQL Injection in find_customer",
            6,
            [
                {
                    "id": "S1",
                    "severity": "suggestion",
                    "category": "gap",
                    "title": "No test for find_customer",
                    "locations": [{"path": "app/store.py", "start_line": 4}],
                }
            ],
        ),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
    env["PATH"] = f"{FAKES_DIR}{os.pathsep}{env['PATH']}"
    env["ANTHROPIC_API_KEY"] = "sk-ant-test-key-0123456789"
    for agent, answer in answers.items():
        path = tmp_path / f"{agent.lower()}.json"
        path.write_text(json.dumps(answer))
        env[f"FAKE_{agent}_REVIEW"] = str(path)
        env[f"FAKE_{agent}_READS"] = "app/store.py"
        env[f"FAKE_{agent}_DELAY"] = "0.3"
    with LoopbackServer() as server:
        server.handle(
            lambda request: Reply(
                429,
                {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                {"retry-after-ms": "20"},
            )
        )
        (repo / "deepreview.toml").write_text(
            'agents = ["claude", "codex", "gemini", "anthropic-api", "scan"]\n'
            'prices = { "gpt-5.4" = [2.0, 10.0] }\n'
            '[agent.claude]\nmodel = "claude-opus-4-6"\neffort = "high"\n'
            '[agent.codex]\nmodel = "gpt-5.4"\n'
            '[agent.gemini]\nmodel = "gemini-3.1-pro"\n'
            f'[agent.anthropic-api]\nmodel = "claude-sonnet-4-6"\nbase_url = "{server.url}"\n'
            "timeout_s = 20\n"
        )
        proc = subprocess.run(
            [sys.executable, "-m", "deepreview", "review", "--output", str(tmp_path / "out")],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        api_calls = len(server.requests)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    runs = {r["agent"]: r for r in data["runs"]}

    for name, model in (
        ("claude", "Claude Opus 4.6"),
        ("codex", "GPT 5.4"),
        ("gemini", "Gemini 3.1 Pro"),
    ):
        run = runs[name]
        assert run["status"] == "ok", run
        assert model in run["display_name"]
        assert run["duration_s"] >= 0.3
        assert sum(run["tool_calls"].values()) >= 1
        assert run["files_read"] == ["app/store.py"]
    assert "effort: high" in runs["claude"]["display_name"]
    usage = runs["codex"]["usage"]
    expected = (
        (usage["input_tokens"] - usage["cached_input_tokens"]) * 2.0
        + usage["cached_input_tokens"] * 2.0 * 0.1
        + usage["output_tokens"] * 10.0
    ) / 1e6
    assert usage["output_tokens"] > 0
    assert runs["codex"]["cost_usd"] == round(expected, 6)  # the configured price

    api = runs["anthropic-api"]
    assert api["status"] == "failed" and api["reason"].startswith("429")
    assert api_calls >= 2  # retried, honouring retry-after-ms, then gave up

    sql = [f for f in data["findings"] if f["severity"] == "critical" and "SQL" in f["title"]]
    assert len(sql) == 1, [f["title"] for f in data["findings"]]
    ai_names = {runs[n]["display_name"] for n in ("claude", "codex", "gemini")}
    assert ai_names <= set(sql[0]["agents"])
    assert sql[0]["locations"][0]["start_line"] == 6
    assert data["verdict"]["decision"] == "Rework"
    assert "three" in data["verdict"]["reason"] or "3" in data["verdict"]["reason"]

    md = next((tmp_path / "out").glob("*.md")).read_text()
    reviewers = next(line for line in md.splitlines() if line.startswith("| **Reviewers**"))
    assert "~~" in reviewers and "(429" in reviewers
    for name in ai_names:
        assert name.split(" (")[0] in reviewers
    assert "sk-ant-test-key-0123456789" not in md + json.dumps(data) + proc.stdout + proc.stderr


def test_agents_command_lists_availability(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["PATH"] = f"{FAKES_DIR}{os.pathsep}{env['PATH']}"
    env["OPENAI_API_KEY"] = "sk-test"
    proc = subprocess.run(
        [sys.executable, "-m", "deepreview", "agents"],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:] if line.strip()}
    assert "available" in rows["claude"] and "yes" in rows["claude"]
    assert "available" in rows["openai-api"]
    assert "set ANTHROPIC_API_KEY" in rows["anthropic-api"]
    assert "available" in rows["scan"]
