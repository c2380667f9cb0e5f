"""The claude, codex and gemini agents reading what the real CLIs printed: the fakes replay the
runs the contract tests recorded (`tests/fixtures/cli/`), so these tests see real output without
the CLIs installed, and cannot drift from them (the contract tests check the recordings)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from deepreview.agents.base import agent_class
from deepreview.config import AgentConfig
from deepreview.schema import AgentRun
from tests.contract.harness import CLIS, Change, make_change, review_context

MODELS = {"claude": "claude-opus-4-8", "codex": "gpt-6.2-sol", "gemini": "gemini-3.8-flash"}
DISPLAY = {"claude": "Claude Opus 4.8", "codex": "OpenAI GPT 6.2 Sol", "gemini": "Gemini 3.8 Flash"}


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> Change:
    return make_change(tmp_path_factory.mktemp("replay"))


def replayed(
    cli: str,
    recording: str,
    change: Change,
    tmp_path: Path,
    env: dict[str, str],
    config: AgentConfig | None = None,
    **fake: str,
) -> AgentRun:
    prefix = f"FAKE_{cli.upper()}_"
    settings = {prefix + "MODE": "replay", prefix + "RECORDING": recording}
    settings |= {prefix + k: v for k, v in fake.items()}
    ctx = review_context(
        change, tmp_path / "run", {**env, "HOME": str(tmp_path / "home"), **settings}
    )
    return asyncio.run(agent_class(cli)(config or AgentConfig(timeout_s=60)).run(ctx))


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize("recording", ["tool", "sentence", "split", "write"])
def test_answer_is_recovered(
    cli: str,
    recording: str,
    change: Change,
    tmp_path: Path,
    fake_cli_env: dict[str, str],
) -> None:
    """Whatever the model wrote before its tool call, and however the answer was streamed,
    the review is recovered, named by the model that did the work, with tokens and cost."""
    run = replayed(cli, recording, change, tmp_path, fake_cli_env)
    assert run.status == "ok", run.reason
    assert run.review is not None
    assert [(f.id, f.severity) for f in run.review.findings] == [("I1", "important")]
    assert (run.model, run.display_name) == (MODELS[cli], DISPLAY[cli])
    assert run.usage is not None and run.usage.output_tokens > 0
    assert run.cost_usd is not None and run.cost_usd > 0
    assert run.cost_reported is (cli == "claude")
    assert run.family == {"claude": "Anthropic", "codex": "OpenAI", "gemini": "Google"}[cli]
    if recording != "write":
        assert run.files_read == ["app.py"]


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize(("recording", "reason"), [("401", "auth error"), ("429", "429 capacity")])
def test_api_errors_read_as_short_reasons(
    cli: str,
    recording: str,
    reason: str,
    change: Change,
    tmp_path: Path,
    fake_cli_env: dict[str, str],
) -> None:
    run = replayed(cli, recording, change, tmp_path, fake_cli_env)
    assert (run.status, run.reason) == ("failed", reason)
    assert "{" not in (run.reason or "")


def test_timed_out_agent_keeps_its_partial_work(
    change: Change, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    """A gemini run stopped after streaming its answer but before its result: the findings it
    had written are kept and the run is marked partial."""
    lines = (Path(__file__).parent.parent / "fixtures/cli/gemini/tool.jsonl").read_text()
    before_result = sum(1 for line in lines.splitlines() if '"type":"result"' not in line)
    started = time.monotonic()
    run = replayed(
        "gemini",
        "tool",
        change,
        tmp_path,
        fake_cli_env,
        AgentConfig(timeout_s=3),
        HANG_AFTER=str(before_result),
    )
    assert time.monotonic() - started < 30
    assert (run.status, run.partial) == ("timeout", True)
    assert run.review is not None
    assert [f.id for f in run.review.findings] == ["I1"]
    assert any(n.startswith("partial: 1 finding") for n in run.notes)


def test_timed_out_agent_with_nothing_written_has_no_review(
    change: Change, tmp_path: Path, fake_cli_env: dict[str, str]
) -> None:
    run = replayed(
        "gemini", "tool", change, tmp_path, fake_cli_env, AgentConfig(timeout_s=3), HANG_AFTER="2"
    )
    assert (run.status, run.partial, run.review) == ("timeout", False, None)


def test_recordings_hold_no_local_paths() -> None:
    """Recordings name the worktree and home by placeholder only."""
    for path in (Path(__file__).parent.parent / "fixtures/cli").rglob("*.json*"):
        text = path.read_text()
        assert "/tmp/" not in text and "pytest-of" not in text, path
        if path.suffix == ".jsonl":
            assert all(json.loads(line) for line in text.splitlines() if line.strip())
