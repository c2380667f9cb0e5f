"""The claude, codex and gemini agents against fake CLIs that print what the real ones print."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deepreview.agents.base import Agent, agent_class
from deepreview.agents.claude import ClaudeAgent
from deepreview.agents.cli_agent import CliAgent
from deepreview.agents.codex import CodexAgent, files_in_command
from deepreview.agents.gemini import INSTRUCTION, GeminiAgent
from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.diff import parse_diff_file
from deepreview.schema import AgentRun, ReportTarget
from tests.conftest import FAKES_DIR
from tests.repo_factory import commit, git, make_repo
from tests.runtimes import make_runtime

APP_BEFORE = "def total(items):\n    return sum(i.price for i in items)\n"
APP_AFTER = (
    "def total(items, discount):\n"
    "    return sum(i.price for i in items) * (1 - discount / 100)\n"
    "\n"
    "\n"
    "def average(items):\n"
    "    return total(items, 0) / len(items)\n"
)
HELPERS = "def rounded(x):\n    return round(x, 2)\n"

REVIEW = {
    "summary": "Adds a discount and an average; the average divides by zero on an empty cart.",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "category": "regression",
            "title": "average() divides by zero for an empty list",
            "body": "len(items) is 0 for an empty cart, so ZeroDivisionError.",
            "locations": [{"path": "app.py", "start_line": 6, "end_line": 6}],
            "fix": "Return 0 when items is empty.",
        },
        {
            "id": "S1",
            "severity": "suggestion",
            "category": "style",
            "title": "discount has no default",
            "locations": [{"path": "app.py", "start_line": 1}],
        },
    ],
    "coverage": [{"path": "app.py", "reviewed": True, "finding_ids": ["I1", "S1"]}],
}
SECRETS = {
    "ANTHROPIC_API_KEY": "sk-a",
    "OPENAI_API_KEY": "sk-o",
    "GEMINI_API_KEY": "g",
    "GITHUB_TOKEN": "t",
}


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A repository with one reviewed commit (agents only read it): path, base sha, diff."""
    repo = make_repo(
        tmp_path_factory.mktemp("cli") / "repo", {"app.py": APP_BEFORE, "util/helpers.py": HELPERS}
    )
    base = git(repo, "rev-parse", "HEAD")
    head = commit(repo, {"app.py": APP_AFTER}, "Add discount and average")
    return repo, base, git(repo, "diff", base, head) + "\n"


@pytest.fixture
def ctx(
    tmp_path: Path, fake_cli_env: dict[str, str], change: tuple[Path, str, str]
) -> ReviewContext:
    repo, base, diff_text = change
    review_file = tmp_path / "review.json"
    review_file.write_text(json.dumps(REVIEW))
    logs = tmp_path / "home" / ".cache"  # agents are sandboxed: a state folder is writable
    logs.mkdir(parents=True)
    env = {**fake_cli_env, **SECRETS, "CLAUDECODE": "1", "HOME": str(tmp_path / "home")}
    for agent in ("CLAUDE", "CODEX", "GEMINI"):
        env[f"FAKE_{agent}_REVIEW"] = str(review_file)
        env[f"FAKE_{agent}_READS"] = "app.py,util/helpers.py,missing.py"
        env[f"FAKE_{agent}_LOG"] = str(logs / f"{agent.lower()}.log")
    diff_file = tmp_path / "change.diff"
    diff_file.write_text(diff_text, encoding="utf-8")
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=parse_diff_file(diff_file),
        target=ReportTarget(kind="range", changed_files=["app.py"]),
        base_sha=base,
        run_dir=tmp_path / "run",
        runtime=make_runtime(env),
    )


def run(agent: CliAgent, ctx: ReviewContext, **env: str) -> AgentRun:
    """Run `agent` with extra environment variables for its fake."""
    runtime = replace(ctx.runtime, environ={**ctx.env, **env})
    return asyncio.run(agent.run(replace(ctx, runtime=runtime)))


def invocation(ctx: ReviewContext, agent: str) -> dict[str, Any]:
    """What the fake recorded about how it was called."""
    logged: dict[str, Any] = json.loads(Path(ctx.env[f"FAKE_{agent.upper()}_LOG"]).read_text())
    return logged


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_reviewed(run_: AgentRun) -> None:
    assert run_.status == "ok", run_.reason
    assert run_.review is not None
    assert [f.id for f in run_.review.findings] == ["I1", "S1"]
    assert run_.review.findings[0].locations[0].start_line == 6
    assert run_.files_read == ["app.py", "util/helpers.py"]
    assert 0 < run_.duration_s < 30
    assert run_.started_at is not None
    assert any(note.startswith("trace: ") for note in run_.notes)


# --------------------------------------------------------------------------- claude


def test_claude_success(ctx: ReviewContext) -> None:
    agent = ClaudeAgent(AgentConfig(model="opus", effort="high", extra_args=["--max-turns", "30"]))
    result = run(agent, ctx)
    assert_reviewed(result)
    assert result.model == "claude-opus-4-6"
    assert result.display_name == "Claude Opus 4.6 (effort: high)"
    assert result.version == "2.1.240"
    assert result.tool_calls == {"Read": 3, "Grep": 1, "Glob": 1}
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.cached_input_tokens) == (10924, 9100)
    assert result.usage.output_tokens == 412
    assert result.cost_usd == pytest.approx(0.0213)
    assert json.loads(result.raw_output)["findings"][0]["id"] == "I1"

    called = invocation(ctx, "claude")
    argv = called["argv"]
    assert argv[argv.index("--tools") + 1] == "Read,Grep,Glob"
    assert argv[argv.index("--permission-mode") + 1] == "dontAsk"
    assert argv[argv.index("--effort") + 1] == "high"
    assert argv[-2:] == ["--max-turns", "30"]
    schema = json.loads(argv[argv.index("--json-schema") + 1])
    assert "findings" in schema["properties"]
    assert "Answer" in argv[argv.index("--append-system-prompt") + 1]
    assert "+    return total(items, 0) / len(items)" in called["stdin"]
    assert Path(called["cwd"]).resolve() == ctx.worktree.resolve()
    assert "ANTHROPIC_API_KEY" in called["env"]
    assert not {"OPENAI_API_KEY", "GITHUB_TOKEN", "CLAUDECODE"} & set(called["env"])


def test_claude_display_name_comes_from_the_trace_when_no_model_is_configured(
    ctx: ReviewContext,
) -> None:
    result = run(ClaudeAgent(), ctx)
    assert result.status == "ok"
    assert (result.model, result.display_name) == ("claude-sonnet-4-6", "Claude Sonnet 4.6")


@pytest.mark.parametrize("mode", ["array", "object"])
def test_claude_json_output_forms(ctx: ReviewContext, mode: str) -> None:
    result = run(ClaudeAgent(), ctx, FAKE_CLAUDE_MODE=mode)
    assert result.status == "ok", result.reason
    assert result.review is not None
    assert [f.id for f in result.review.findings] == ["I1", "S1"]
    assert result.cost_usd == pytest.approx(0.0213)
    # A single result object carries no tool trace; the array carries all of it.
    assert result.tool_calls == ({"Read": 3, "Grep": 1, "Glob": 1} if mode == "array" else {})


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"FAKE_CLAUDE_MODE": "error_exit0"}, "529 overloaded"),
        ({"FAKE_CLAUDE_MODE": "error_exit0", "FAKE_CLAUDE_API_STATUS": "429"}, "429 capacity"),
        ({"FAKE_CLAUDE_MODE": "max_turns"}, "max turns"),
        ({"FAKE_CLAUDE_MODE": "auth"}, "auth error"),
        ({"FAKE_CLAUDE_MODE": "crash"}, "exit 1: TypeError: Cannot read properties"),
    ],
)
def test_claude_failures(ctx: ReviewContext, env: dict[str, str], reason: str) -> None:
    result = run(ClaudeAgent(), ctx, **env)
    assert result.status == "failed"
    assert result.reason is not None and result.reason.startswith(reason)
    assert result.review is None


def test_claude_markdown_answer_is_parsed(ctx: ReviewContext, tmp_path: Path) -> None:
    review = tmp_path / "review.md"
    review.write_text(
        "## Summary\n\nOne problem.\n\n## Important Issues\n\n"
        f"I1. **average() divides by zero** — `{ctx.worktree}/app.py:6` (important, regression)\n\n"
        "An empty list raises ZeroDivisionError.\n"
    )
    result = run(ClaudeAgent(), ctx, FAKE_CLAUDE_REVIEW=str(review))
    assert result.status == "ok", result.reason
    assert result.raw_output.startswith("## Summary")
    assert result.review is not None
    assert [(f.id, f.severity) for f in result.review.findings] == [("I1", "important")]
    assert result.review.findings[0].locations[0].label() == "app.py:6"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty answer"),
        ("no review here {", "unparseable answer"),
        ("I'll read app.py first.", "unparseable answer"),
    ],
)
def test_claude_empty_or_unreadable_answer_fails(
    ctx: ReviewContext, tmp_path: Path, content: str, reason: str
) -> None:
    """An answer that yields no finding and does not say there are none is a parse failure,
    never a clean review; the raw answer is kept."""
    review = tmp_path / "odd.txt"
    review.write_text(content)
    result = run(ClaudeAgent(), ctx, FAKE_CLAUDE_REVIEW=str(review))
    assert (result.status, result.reason, result.review) == ("failed", reason, None)
    assert result.raw_output == content


@pytest.mark.parametrize(
    "content",
    [
        '{"summary": "Fine.", "findings": []}',
        "## Summary\n\nI read the whole change. No issues found.\n",
    ],
)
def test_claude_answer_saying_no_findings_is_ok(
    ctx: ReviewContext, tmp_path: Path, content: str
) -> None:
    review = tmp_path / "none.txt"
    review.write_text(content)
    result = run(ClaudeAgent(), ctx, FAKE_CLAUDE_REVIEW=str(review))
    assert result.status == "ok", result.reason
    assert result.review is not None and result.review.findings == []


def test_not_installed_and_refused_flags(ctx: ReviewContext) -> None:
    result = run(ClaudeAgent(), ctx, PATH="/nonexistent")
    assert (result.status, result.reason) == ("failed", "not installed")
    unsafe = ClaudeAgent(AgentConfig(extra_args=["--dangerously-skip-permissions"]))
    result = run(unsafe, ctx)
    assert (result.status, result.reason) == (
        "failed",
        "refused extra_args: --dangerously-skip-permissions",
    )
    assert not Path(ctx.env["FAKE_CLAUDE_LOG"]).exists()


def test_version_is_asked_once_per_executable(ctx: ReviewContext, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "fakelib.py"):
        shutil.copy2(FAKES_DIR / name, bin_dir / name)
    calls = tmp_path / "home" / ".cache" / "calls.txt"
    env = {"PATH": f"{bin_dir}{os.pathsep}{ctx.env['PATH']}", "FAKE_CLAUDE_CALLS": str(calls)}
    first, second = run(ClaudeAgent(), ctx, **env), run(ClaudeAgent(), ctx, **env)
    assert first.version == second.version == "2.1.240"
    assert sorted(calls.read_text().split()) == ["--version", "review", "review"]


def test_version_is_remembered_across_runs_until_the_binary_changes(
    ctx: ReviewContext, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "fakelib.py"):
        shutil.copy2(FAKES_DIR / name, bin_dir / name)
    calls = tmp_path / "home" / ".cache" / "calls.txt"
    env = {"PATH": f"{bin_dir}{os.pathsep}{ctx.env['PATH']}", "FAKE_CLAUDE_CALLS": str(calls)}
    run(ClaudeAgent(), ctx, **env)
    assert run(ClaudeAgent(), ctx, **env).version == "2.1.240"
    assert calls.read_text().split().count("--version") == 1
    os.utime(bin_dir / "claude", ns=(1, 1))  # an upgrade changes the file
    run(ClaudeAgent(), ctx, **env)
    assert calls.read_text().split().count("--version") == 2


# --------------------------------------------------------------------------- codex


def test_codex_success(ctx: ReviewContext) -> None:
    result = run(CodexAgent(AgentConfig(model="gpt-5.4", effort="high")), ctx)
    assert_reviewed(result)
    assert result.display_name == "OpenAI GPT 5.4 (effort: high)"
    assert result.version == "0.46.0"
    assert result.tool_calls == {"shell": 4}
    assert result.usage is not None
    assert result.usage.model_dump() == {
        "input_tokens": 24763,
        "output_tokens": 1122,
        "cached_input_tokens": 24448,
        "reasoning_tokens": 640,
    }
    expected = (315 * 2.5 + 24448 * 0.25 + 1122 * 15) / 1e6
    assert result.cost_usd == pytest.approx(expected, abs=1e-6)
    assert "warning: `[features]` is deprecated" in result.notes

    called = invocation(ctx, "codex")
    argv = called["argv"]
    assert argv[:6] == ["exec", "--json", "-s", "read-only", "--skip-git-repo-check", "--ephemeral"]
    assert 'model_reasoning_effort="high"' in argv
    assert argv[-1] == "-"
    assert called["stdin"].startswith("You are a senior engineer")
    assert "+    return total(items, 0) / len(items)" in called["stdin"]
    assert "OPENAI_API_KEY" in called["env"] and "ANTHROPIC_API_KEY" not in called["env"]


def test_codex_without_model_uses_its_catalog_default(ctx: ReviewContext) -> None:
    """No model configured, none in a rollout (--ephemeral) or config.toml: the first listed
    model of `codex debug models` (the recorded catalog), priced."""
    result = run(CodexAgent(), ctx, HOME=str(ctx.run_dir / "home"))
    assert result.status == "ok", result.reason
    assert (result.model, result.display_name) == ("gpt-6.2-sol", "OpenAI GPT 6.2 Sol")
    assert result.cost_usd is not None and result.cost_usd > 0


def test_codex_without_a_known_model_is_named_as_such() -> None:
    assert CodexAgent().display_name() == "Codex (default model)"


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"FAKE_CODEX_MODE": "turn_failed"}, "429 capacity"),
        (
            {"FAKE_CODEX_MODE": "turn_failed", "FAKE_CODEX_ERROR": "unexpected status 401"},
            "auth error",
        ),
        (
            {"FAKE_CODEX_MODE": "turn_failed", "FAKE_CODEX_ERROR": "context window exceeded"},
            "error: context window exceeded",
        ),
        ({"FAKE_CODEX_MODE": "crash"}, "exit 1: thread 'main' panicked"),
    ],
)
def test_codex_failures(ctx: ReviewContext, env: dict[str, str], reason: str) -> None:
    result = run(CodexAgent(), ctx, **env)
    assert result.status == "failed"
    assert result.reason is not None and result.reason.startswith(reason)


@pytest.mark.parametrize(
    ("command", "files"),
    [
        ("bash -lc 'sed -n 1,80p app.py'", ["app.py"]),
        ("bash -lc \"nl -ba util/helpers.py | sed -n '1,40p'\"", ["util/helpers.py"]),
        ("bash -lc 'rg -n \"def total\" app.py util'", ["app.py", "util"]),
        ("bash -lc 'grep -n -e total app.py'", ["app.py"]),
        ("bash -lc 'head -n 20 app.py && cat docs/*.md'", ["app.py"]),
        ("bash -lc 'git diff HEAD~1 -- app.py'", []),
        ("cat app.py", ["app.py"]),
        ("bash -lc 'unbalanced \"quote'", []),
    ],
)
def test_codex_files_read_from_commands(command: str, files: list[str]) -> None:
    assert files_in_command(command) == files


# --------------------------------------------------------------------------- gemini


def test_gemini_success(ctx: ReviewContext) -> None:
    result = run(GeminiAgent(AgentConfig(model="gemini-2.5-pro", effort="high")), ctx)
    assert_reviewed(result)
    assert (result.display_name, result.effort) == ("Gemini 2.5 Pro", None)
    assert "effort 'high' ignored: `gemini` has no such option" in result.notes
    assert result.version == "0.9.0"
    assert result.tool_calls == {"read_file": 3, "glob": 1}
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.cached_input_tokens) == (4100, 3200)
    assert json.loads(result.raw_output) == REVIEW

    called = invocation(ctx, "gemini")
    argv = called["argv"]
    assert argv[:4] == ["-p", INSTRUCTION, "-o", "stream-json"]
    assert argv[argv.index("--approval-mode") + 1] == "default"
    assert "--skip-trust" in argv
    assert called["prompt"].endswith("\n\n" + INSTRUCTION)
    assert "+    return total(items, 0) / len(items)" in called["stdin"]
    assert "GEMINI_API_KEY" in called["env"] and "OPENAI_API_KEY" not in called["env"]


def test_gemini_json_output(ctx: ReviewContext) -> None:
    result = run(GeminiAgent(), ctx, FAKE_GEMINI_MODE="json")
    assert result.status == "ok", result.reason
    assert result.model == "gemini-2.5-pro"
    assert result.tool_calls == {"read_file": 3}
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.reasoning_tokens) == (4100, 250)
    assert result.review is not None and len(result.review.findings) == 2


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("auth", "auth error"),
        ("quota", "429 capacity"),
        ("turn_limit", "turn limit"),
        ("crash", "exit 1: RangeError: boom"),
    ],
)
def test_gemini_failures(ctx: ReviewContext, mode: str, reason: str) -> None:
    result = run(GeminiAgent(), ctx, FAKE_GEMINI_MODE=mode)
    assert result.status == "failed"
    assert result.reason is not None and result.reason.startswith(reason)


# --------------------------------------------------------------------------- all three


@pytest.mark.parametrize("agent_cls", [ClaudeAgent, CodexAgent, GeminiAgent])
def test_timeout_kills_the_process_group(ctx: ReviewContext, agent_cls: type[CliAgent]) -> None:
    # 4 s: the sandbox launcher and the fake must have started (and logged) before the kill,
    # also on a busy machine
    agent = agent_cls(AgentConfig(timeout_s=4))
    t0 = time.monotonic()
    result = run(agent, ctx, **{f"FAKE_{agent.name.upper()}_MODE": "hang"})
    assert time.monotonic() - t0 < 12
    assert (result.status, result.reason) == ("timeout", "timeout after 4 s")
    child = invocation(ctx, agent.name)["child_pid"]
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


@pytest.mark.parametrize(
    ("name", "cls"), [("claude", ClaudeAgent), ("codex", CodexAgent), ("gemini", GeminiAgent)]
)
def test_registry_resolves_the_cli_agents(name: str, cls: type[CliAgent]) -> None:
    assert agent_class(name) is cls
    assert isinstance(cls(), Agent)
    assert cls().availability({"PATH": str(FAKES_DIR)}).available
    assert not cls().availability({"PATH": "/nonexistent"}).available
