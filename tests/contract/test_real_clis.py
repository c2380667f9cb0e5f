"""The pinned real claude, codex and gemini CLIs, run by deepreview's agents against loopback
emulators of their vendors' APIs: what they send, what they print and how deepreview reads it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepreview.agents.base import agent_class
from deepreview.agents.cli_agent import CliAgent
from deepreview.config import AgentConfig
from deepreview.schema import AgentRun
from tests.contract.emulators import APP_AFTER, Emulator, Read, Say, Script, Write
from tests.contract.harness import (
    CLIS,
    Change,
    check_recording,
    cli_environment,
    emulate,
    make_change,
    review_context,
)

pytestmark = pytest.mark.contract

#: The model each CLI uses when none is configured (the emulators answer as that model).
DEFAULT_MODELS = {"claude": "claude-opus-4-8", "codex": "gpt-6.2-sol", "gemini": "gemini-3.8-flash"}
DISPLAY = {"claude": "Claude Opus 4.8", "codex": "OpenAI GPT 6.2 Sol", "gemini": "Gemini 3.8 Flash"}
#: What each CLI tells the model when it refuses a write.
REFUSALS = {
    "claude": "No such tool available",
    "codex": "Read-only file system",
    "gemini": "not found",
}
SCENARIOS: dict[str, Script] = {
    "tool": Script(turns=((Read("app.py"),),)),
    "sentence": Script(turns=((Say("I'll read app.py first."), Read("app.py")),)),
    "split": Script(turns=((Read("app.py"),),), answer_chunks=9),
    "write": Script(turns=((Say("Let me fix it."), Write("app.py")),)),
    "401": Script(error_status=401),
    "429": Script(error_status=429),
}


@dataclass
class Outcome:
    """One agent run of a real CLI and what the emulator saw."""

    run: AgentRun
    emulator: Emulator
    stdout: str
    home: Path
    worktree: Path
    run_dir: Path


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> Change:
    return make_change(tmp_path_factory.mktemp("contract"))


def run_real(
    cli: str,
    script: Script,
    change: Change,
    tmp_path: Path,
    config: AgentConfig | None = None,
) -> Outcome:
    """Run deepreview's `cli` agent, with the real CLI, against its vendor's emulator."""
    repo = change[0]
    home = tmp_path / "home"
    with emulate(cli, script, repo) as emulator:
        ctx = review_context(change, tmp_path / "run", cli_environment(cli, emulator.url, home))
        agent = agent_class(cli)(config or AgentConfig(timeout_s=120))
        assert isinstance(agent, CliAgent)
        run = asyncio.run(agent.run(ctx))
    stdout = (tmp_path / "run" / f"{cli}.stdout").read_text(encoding="utf-8", errors="replace")
    return Outcome(run, emulator, stdout, home, repo, tmp_path / "run")


def assert_found_the_defect(outcome: Outcome) -> None:
    run = outcome.run
    assert run.status == "ok", (run.reason, run.notes, outcome.stdout[-2000:])
    assert run.review is not None
    [finding] = run.review.findings
    assert (finding.id, finding.severity) == ("I1", "important")
    assert finding.locations[0].path == "app.py"
    assert finding.locations[0].start_line == 5


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize("scenario", ["tool", "sentence", "split"])
def test_review_with_a_tool_call(cli: str, scenario: str, change: Change, tmp_path: Path) -> None:
    """The review after a read (with a sentence before it, or the answer in many deltas) is
    recovered in full, with the real model, its tokens and its cost."""
    outcome = run_real(cli, SCENARIOS[scenario], change, tmp_path)
    assert_found_the_defect(outcome)
    run = outcome.run
    assert run.files_read == ["app.py"]
    assert sum(run.tool_calls.values()) == 1
    assert run.model == DEFAULT_MODELS[cli]
    assert run.display_name == DISPLAY[cli]
    assert run.usage is not None and run.usage.input_tokens > 0 and run.usage.output_tokens > 0
    assert run.cost_usd is not None and run.cost_usd > 0
    assert len(outcome.emulator.model_calls()) == 2  # the tool call, then the answer
    assert run.sandbox  # confined (claude and gemini by deepreview, codex by its own sandbox)
    check_recording(cli, scenario, outcome.run_dir, outcome.worktree, outcome.home)


def test_codex_with_function_tools(change: Change, tmp_path: Path) -> None:
    """With a model outside code mode, codex gets its tools as functions and still reviews."""
    outcome = run_real(
        "codex", SCENARIOS["tool"], change, tmp_path, AgentConfig(model="gpt-5.4", timeout_s=120)
    )
    assert_found_the_defect(outcome)
    first = outcome.emulator.model_calls()[0].json()
    assert any(t.get("name") == "exec_command" for t in first["tools"])
    second = outcome.emulator.model_calls()[1].json()
    assert any(i.get("type") == "function_call_output" for i in second["input"])
    assert outcome.run.files_read == ["app.py"]
    assert outcome.run.cost_usd is not None
    check_recording("codex", "tool-functions", outcome.run_dir, outcome.worktree, outcome.home)


def test_codex_code_mode_layout(change: Change, tmp_path: Path) -> None:
    """With its default model codex sends no top-level tools: they come as an input item."""
    outcome = run_real("codex", SCENARIOS["tool"], change, tmp_path)
    first = outcome.emulator.model_calls()[0].json()
    assert not first.get("tools")
    assert any(i.get("type") == "additional_tools" for i in first["input"])
    assert first["text"]["format"]["name"] == "codex_output_schema"


@pytest.mark.parametrize("cli", CLIS)
def test_write_attempt_is_refused(cli: str, change: Change, tmp_path: Path) -> None:
    """A model that tries to write gets a refusal; the worktree is untouched."""
    outcome = run_real(cli, SCENARIOS["write"], change, tmp_path)
    assert (outcome.worktree / "app.py").read_text() == APP_AFTER
    answer_request = outcome.emulator.model_calls()[-1].body.decode()
    assert REFUSALS[cli] in answer_request
    assert_found_the_defect(outcome)
    check_recording(cli, "write", outcome.run_dir, outcome.worktree, outcome.home)


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize(("scenario", "reason"), [("401", "auth error"), ("429", "429 capacity")])
def test_api_errors_have_short_reasons(
    cli: str, scenario: str, reason: str, change: Change, tmp_path: Path
) -> None:
    outcome = run_real(cli, SCENARIOS[scenario], change, tmp_path)
    assert (outcome.run.status, outcome.run.reason) == ("failed", reason), outcome.stdout[-1500:]
    assert outcome.run.review is None
    check_recording(cli, scenario, outcome.run_dir, outcome.worktree, outcome.home)


@pytest.mark.parametrize("cli", CLIS)
def test_no_transcript_is_left_in_home(cli: str, change: Change, tmp_path: Path) -> None:
    """By default no CLI leaves the prompt (which holds the diff) in the user's home."""
    outcome = run_real(cli, SCENARIOS["tool"], change, tmp_path)
    assert outcome.run.status == "ok"
    marker = 'subprocess.run(f"echo {name}"'
    holding = [
        p
        for p in outcome.home.rglob("*")
        if p.is_file() and p.stat().st_size < 50_000_000 and marker in _text(p)
    ]
    assert holding == []


def test_kept_sessions_leave_a_transcript(change: Change, tmp_path: Path) -> None:
    """`keep_sessions` lets a CLI keep it (the check above would see one)."""
    outcome = run_real(
        "gemini", SCENARIOS["tool"], change, tmp_path, AgentConfig(keep_sessions=True)
    )
    assert list(outcome.home.glob(".gemini/tmp/*/chats/session-*"))


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""
