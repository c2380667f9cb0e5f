"""The `ruff` and `bandit` analyzers, and the analyzer base, on real repositories and tools."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from deepreview.agents.analyzer import AnalyzerAgent, ToolIssue, ToolOutput, ToolOutputError
from deepreview.agents.bandit import BanditAgent
from deepreview.agents.ruff import RuffAgent
from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.diff import parse_diff_file
from deepreview.render.reviewers import is_failed, reviewer_label
from deepreview.schema import AgentRun, Finding, ReportTarget
from deepreview.scope import Scope
from tests import repo_factory
from tests.runtimes import make_runtime

GIT_ENV = {**os.environ, **repo_factory.GIT_ENV}

BASE_PY = "import json\n\n\ndef load(text):\n    return text\n"
HEAD_PY = """import json
import os
import subprocess


def load(text):
    return text


def run(cmd):
    return subprocess.run(cmd, shell=True)
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout


def write(repo: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def change(
    tmp_path: Path,
    base: dict[str, str | None],
    head: dict[str, str | None],
    env: dict[str, str] | None = None,
) -> ReviewContext:
    """A repository with `base` committed and `head` committed on top, as a ReviewContext."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, base)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Base")
    base_sha = git(repo, "rev-parse", "HEAD").strip()
    write(repo, head)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Change")
    diff_file = tmp_path / "change.diff"
    diff_file.write_text(git(repo, "diff", f"{base_sha}..HEAD"), encoding="utf-8")
    diff = parse_diff_file(diff_file)
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=diff,
        target=ReportTarget(kind="range", changed_files=diff.paths),
        base_sha=base_sha,
        run_dir=tmp_path / "run",
        runtime=make_runtime(env),
    )


def run(agent: AnalyzerAgent, ctx: ReviewContext) -> AgentRun:
    return asyncio.run(agent.run(ctx))


def by_rule(result: AgentRun, rule: str) -> list[Finding]:
    assert result.review is not None
    return [f for f in result.review.findings if f.rule == rule]


def test_ruff_finds_unused_import_as_suggestion_and_marks_the_diff(tmp_path: Path) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY, "notes.txt": "n\n"})
    result = run(RuffAgent(), ctx)

    assert result.status == "ok", result.reason
    assert result.kind == "analyzer" and result.agent == "ruff"
    assert re.fullmatch(r"ruff \d+\.\d+\.\d+", result.display_name)
    assert result.version and result.display_name.endswith(result.version)
    unused = {f.locations[0].start_line: f for f in by_rule(result, "F401")}
    assert set(unused) == {1, 2}
    new = unused[2]
    assert new.severity == "suggestion" and new.category == "lint"
    assert new.title == "F401: `os` imported but unused"
    assert new.excerpt == "import os" and new.excerpt_lang == "python"
    assert new.locations[0].path == "svc.py"
    assert Scope.ADDED.describe() in new.body
    assert new.fix == "Remove unused import: `os`"
    assert Scope.HUNK.describe() in unused[1].body
    assert result.review is not None
    assert [c.path for c in result.review.coverage] == ["svc.py"]
    assert set(result.review.coverage[0].finding_ids) == {f.id for f in unused.values()}
    assert json.loads(result.raw_output)  # the tool's own output, kept verbatim


def test_bandit_reports_shell_true_as_critical(tmp_path: Path) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY})
    result = run(BanditAgent(), ctx)

    assert result.status == "ok", result.reason
    assert re.fullmatch(r"bandit \d+\.\d+\.\d+", result.display_name)
    [shell] = by_rule(result, "B602")
    assert shell.severity == "critical" and shell.category == "security"
    assert shell.title.startswith("B602: subprocess call with shell=True")
    assert shell.excerpt == "    return subprocess.run(cmd, shell=True)"
    assert shell.locations[0].label() == "svc.py:11"
    assert "confidence HIGH" in shell.body and Scope.ADDED.describe() in shell.body
    # The default skips drop the noise of merely importing subprocess.
    assert by_rule(result, "B404") == []


def test_bandit_leaves_test_files_alone(tmp_path: Path) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY, "tests/test_svc.py": HEAD_PY})
    result = run(BanditAgent(), ctx)
    assert result.status == "ok", result.reason
    assert {f.locations[0].path for f in by_rule(result, "B602")} == {"svc.py"}


def test_repository_ruff_config_replaces_the_defaults(tmp_path: Path) -> None:
    pyproject = '[tool.ruff]\nline-length = 30\n\n[tool.ruff.lint]\nselect = ["E501"]\n'
    ctx = change(tmp_path, {"svc.py": BASE_PY, "pyproject.toml": pyproject}, {"svc.py": HEAD_PY})
    result = run(RuffAgent(), ctx)
    assert result.status == "ok", result.reason
    assert by_rule(result, "F401") == []
    [long_line] = by_rule(result, "E501")
    assert long_line.severity == "suggestion" and long_line.locations[0].start_line == 11


def test_broken_ruff_config_fails_the_run_with_the_reason(tmp_path: Path) -> None:
    broken = '[tool.ruff]\nline-length = "wide"\n'
    ctx = change(tmp_path, {"svc.py": BASE_PY, "pyproject.toml": broken}, {"svc.py": HEAD_PY})
    result = run(RuffAgent(), ctx)
    assert result.status == "failed"
    assert result.reason is not None and result.reason.startswith("ruff exited with code 2")
    assert result.review is None


def test_identical_hits_become_one_finding_apart_from_those_on_unchanged_code(
    tmp_path: Path,
) -> None:
    old = "import subprocess\n\n\ndef a(cmd):\n    return subprocess.run(cmd, shell=True)\n"
    new = old + "\n\ndef b(cmd):\n    return subprocess.run(cmd, shell=True)\n"
    new += "\n\ndef c(cmd):\n    return subprocess.run(cmd, shell=True)\n"
    result = run(BanditAgent(), change(tmp_path, {"svc.py": old}, {"svc.py": new}))
    assert result.status == "ok", result.reason
    added, unchanged = sorted(by_rule(result, "B602"), key=lambda f: len(f.locations))[::-1]
    assert [loc.label() for loc in added.locations] == ["svc.py:9", "svc.py:13"]
    assert "2 places: svc.py:9, svc.py:13" in added.body
    assert Scope.ADDED.describe() in added.body
    assert [loc.label() for loc in unchanged.locations] == ["svc.py:5"]
    assert Scope.HUNK.describe() in unchanged.body


def test_nothing_to_check_is_not_applicable_not_a_failure(tmp_path: Path) -> None:
    result = run(RuffAgent(), change(tmp_path, {"a.go": "package a\n"}, {"a.go": "package b\n"}))
    assert (result.status, result.applicable) == ("skipped", False)
    assert result.reason == "no changed Python files"
    assert (
        reviewer_label(result) == f"{result.display_name} (not applicable: no changed Python files)"
    )
    assert not is_failed(result)


def test_secrets_in_tool_output_are_redacted(tmp_path: Path) -> None:
    secret = "q8Zr2LmX" + "7vT4nB9kW1pY"  # assembled so that this file holds no literal secret
    code = f'db_password = "{secret}"\n'
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": BASE_PY, "cfg.py": code})
    result = run(BanditAgent(), ctx)
    assert result.status == "ok", result.reason
    [hardcoded] = by_rule(result, "B105")
    assert hardcoded.excerpt == 'db_password = "q8Zr…W1pY"'
    assert secret not in result.model_dump_json()
    assert "q8Zr…W1pY" in result.raw_output


@pytest.mark.parametrize("agent", [RuffAgent(), BanditAgent()], ids=["ruff", "bandit"])
def test_no_changed_python_files_skips(tmp_path: Path, agent: AnalyzerAgent) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY, "a.md": "a\n"}, {"svc.py": None, "a.md": "b\n"})
    result = run(agent, ctx)
    assert (result.status, result.reason) == ("skipped", "no changed Python files")
    assert result.version and result.display_name == f"{agent.name} {result.version}"


FAKE_TOOL = """#!/bin/sh
[ -n "$FAKELINT_ESCAPE" ] && echo "$1" >> "$FAKELINT_ESCAPE"
if [ "$1" = "--version" ]; then echo "fakelint version 2.3.1"; exit 0; fi
case "$FAKELINT_MODE" in
  crash) echo "fakelint: internal error: boom" >&2; exit 3 ;;
  garbage) echo "<html>not json</html>"; exit 0 ;;
  slow) sleep 30 ;;
  *) printf '[{"file": "svc.py", "line": 2, "msg": "os is unused"}, 7]\\n'; exit 1 ;;
esac
"""


class FakeLint(AnalyzerAgent):
    """An analyzer defined the way a new one would be: one class, a command and a parser."""

    name: ClassVar[str] = "fakelint"
    binary: ClassVar[str | None] = "fakelint"

    def arguments(self, worktree: Path) -> list[str]:
        return ["--json"]

    def parse(self, stdout: str) -> ToolOutput:
        try:
            items = json.loads(stdout)
        except json.JSONDecodeError as exc:
            raise ToolOutputError(str(exc)) from exc
        issues = [
            ToolIssue(i["file"], i["line"], None, "FL1", i["msg"], "important", "lint")
            for i in items
            if isinstance(i, dict)
        ]
        return ToolOutput(issues, [f"ignored {len(items) - len(issues)} entry"])


def fake_ctx(tmp_path: Path, mode: str) -> ReviewContext:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "fakelint"
    tool.write_text(FAKE_TOOL)
    tool.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKELINT_MODE": mode}
    return change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY}, env=env)


def test_binary_analyzer_parses_its_tool(tmp_path: Path) -> None:
    ctx = fake_ctx(tmp_path, "ok")
    agent = FakeLint()
    assert agent.availability(ctx.env).available
    result = run(agent, ctx)
    assert result.status == "ok" and result.display_name == "fakelint 2.3.1"
    [finding] = by_rule(result, "FL1")
    assert (finding.id, finding.title, finding.excerpt) == ("I1", "FL1: os is unused", "import os")
    assert result.notes == ["ignored 1 entry"]
    assert (tmp_path / "run" / "fakelint-check.stdout").read_text().startswith("[{")


@pytest.mark.parametrize(
    ("mode", "status", "reason"),
    [
        ("crash", "failed", "fakelint exited with code 3: fakelint: internal error: boom"),
        ("garbage", "failed", "unreadable fakelint output: Expecting value"),
        ("slow", "timeout", "no result after 1 s"),
    ],
)
def test_tool_failures_become_failed_runs(
    tmp_path: Path, mode: str, status: str, reason: str
) -> None:
    result = run(FakeLint(AgentConfig(timeout_s=1)), fake_ctx(tmp_path, mode))
    assert result.status == status
    assert result.reason is not None and result.reason.startswith(reason)
    assert result.review is None
    assert result.duration_s < 10


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Landlock is Linux")
def test_analyzers_and_their_version_probe_cannot_write_outside_the_worktree(
    tmp_path: Path,
) -> None:
    ctx = fake_ctx(tmp_path, "ok")
    outside = tmp_path / "outside.log"
    runtime, env = ctx.runtime, dict(ctx.env)
    ctx = replace(ctx, runtime=replace(runtime, environ={**env, "FAKELINT_ESCAPE": str(outside)}))
    inside = ctx.worktree / "inside.log"
    result = run(FakeLint(), ctx)
    assert result.status == "ok"
    assert not outside.exists()
    ctx = replace(ctx, runtime=replace(runtime, environ={**env, "FAKELINT_ESCAPE": str(inside)}))
    assert run(FakeLint(), ctx).status == "ok"
    assert inside.read_text().split() == ["--json"]  # the version was remembered


def test_missing_tools_fail_cleanly(tmp_path: Path) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY}, env={"PATH": "/nonexistent"})
    missing_binary = run(FakeLint(), ctx)
    assert missing_binary.status == "failed"
    assert missing_binary.reason is not None
    assert missing_binary.reason.startswith("could not run fakelint")
    assert not FakeLint().availability(ctx.env).available

    class MissingModule(RuffAgent):
        module: ClassVar[str | None] = "deepreview_no_such_tool"

    missing_module = run(MissingModule(), ctx)
    assert missing_module.status == "failed"
    assert missing_module.reason is not None
    assert "No module named deepreview_no_such_tool" in missing_module.reason
    assert not MissingModule().availability(ctx.env).available


def test_an_analyzer_version_is_probed_once_and_remembered(tmp_path: Path) -> None:
    ctx = change(tmp_path, {"svc.py": BASE_PY}, {"svc.py": HEAD_PY})
    first = run(RuffAgent(), ctx)
    assert (ctx.run_dir / "ruff-version.stdout").is_file()
    again = replace(ctx, run_dir=tmp_path / "run-again")
    second = run(RuffAgent(), again)
    assert first.version and second.version == first.version
    assert not (again.run_dir / "ruff-version.stdout").exists()  # the same cache as the CLIs
    assert (again.run_dir / "ruff-check.stdout").is_file()
