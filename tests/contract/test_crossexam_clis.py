"""The pinned real CLIs as cross-examiners: each gets the cross-examination question with its
answer schema (claude `--json-schema`, codex a strict `--output-schema`, gemini plain text),
reads the cited file and answers; deepreview reads the verdict and its evidence. The reviews
and answers are recorded (`tests/fixtures/cli/<cli>/crossexam-*.jsonl`) for the fakes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from deepreview.agents.answer import Answer
from deepreview.agents.base import agent_class
from deepreview.agents.cli_agent import CliAgent
from deepreview.config import AgentConfig
from deepreview.crossexam.question import ANSWER_SCHEMA, question, read_answer
from deepreview.schema import AgentRun, ConsolidatedFinding, Finding, Location
from deepreview.source.tree import DirectoryTree
from tests.contract import crossexam_scenario as scenario
from tests.contract import harness
from tests.contract.emulators import Emulator, Read, Say, Script
from tests.contract.harness import Change

pytestmark = pytest.mark.contract

#: The claim each CLI examines: claude and gemini the true one, codex the wrong one.
EXAMINED = {
    "claude": scenario.TRUE_CLAIM,
    "codex": scenario.WRONG_CLAIM,
    "gemini": scenario.TRUE_CLAIM,
}
EXPECTED = {"claude": ("confirm", 9), "codex": ("refute", 13), "gemini": ("confirm", 9)}


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory) -> Change:
    return harness.make_change(tmp_path_factory.mktemp("crossexam"), scenario.APP_AFTER)


def _agent(cli: str) -> CliAgent:
    agent = agent_class(cli)(AgentConfig(timeout_s=120))
    assert isinstance(agent, CliAgent)
    return agent


def consolidated(raw: dict[str, object]) -> ConsolidatedFinding:
    finding = Finding.model_validate(raw)
    return ConsolidatedFinding(
        id=finding.id,
        fingerprint="f",
        severity=finding.severity,
        category=finding.category,
        title=finding.title,
        body=finding.body,
        locations=[Location(path="app.py", start_line=finding.locations[0].start_line)],
        excerpt=finding.excerpt,
        agents=["reviewer"],
    )


def _review(cli: str, change: Change, tmp_path: Path) -> tuple[AgentRun, Emulator]:
    script = Script(turns=((Read("app.py"),),), answer=json.dumps(scenario.REVIEWS[cli]))
    with harness.emulate(cli, script, change[0]) as emulator:
        env = harness.cli_environment(cli, emulator.url, tmp_path / "home")
        run = asyncio.run(_agent(cli).run(harness.review_context(change, tmp_path / "run", env)))
    return run, emulator


def _examine(cli: str, change: Change, tmp_path: Path) -> tuple[Answer, Emulator]:
    _, answer = scenario.ANSWERS[cli]
    prompt = question(consolidated(EXAMINED[cli]), DirectoryTree(change[0]))
    script = Script(turns=((Say("Reading app.py."), Read("app.py")),), answer=answer)
    with harness.emulate(cli, script, change[0]) as emulator:
        env = harness.cli_environment(cli, emulator.url, tmp_path / "home")
        ctx = harness.review_context(change, tmp_path / "run", env)
        got = asyncio.run(_agent(cli).answer(ctx, prompt, 120))
    return got, emulator


@pytest.mark.parametrize("cli", ["claude", "codex"])
def test_reviews_with_a_lone_claim(cli: str, change: Change, tmp_path: Path) -> None:
    """Each model's review of the change, recorded for the cross-examination replay."""
    run, _ = _review(cli, change, tmp_path)
    assert run.status == "ok", (run.reason, run.notes)
    assert run.review is not None
    expected = [(f["id"], f["severity"]) for f in scenario.REVIEWS[cli]["findings"]]
    assert [(f.id, f.severity) for f in run.review.findings] == expected
    harness.check_recording(cli, "crossexam-review", tmp_path / "run", change[0], tmp_path / "home")


@pytest.mark.parametrize("cli", harness.CLIS)
def test_real_cli_answers_the_cross_examination(cli: str, change: Change, tmp_path: Path) -> None:
    got, emulator = _examine(cli, change, tmp_path)
    assert got.status == "ok", got.reason
    assert got.sandbox
    reading = read_answer(got.structured, got.text, DirectoryTree(change[0]), str(change[0]))
    verdict, line = EXPECTED[cli]
    assert (reading.verdict, reading.notes) == (verdict, [])
    assert [(e.path, e.start_line) for e in reading.evidence] == [("app.py", line)]
    assert reading.reason
    calls = emulator.model_calls()
    assert len(calls) == 2  # the read, then the answer
    sent = calls[0].json()
    if cli == "claude":  # --json-schema becomes the StructuredOutput tool's input schema
        tool = next(t for t in sent["tools"] if t.get("name") == "StructuredOutput")
        assert (
            tool["input_schema"]["properties"]["verdict"] == ANSWER_SCHEMA["properties"]["verdict"]
        )
        assert got.structured is not None
    elif cli == "codex":  # --output-schema is sent as a strict json_schema format
        fmt = sent["text"]["format"]
        assert (fmt["type"], fmt["strict"], fmt["schema"]) == ("json_schema", True, ANSWER_SCHEMA)
    else:  # no schema: the fenced object is found in the text answer
        assert got.structured is None and "```json" in got.text
    sent_text = json.dumps(sent)
    assert "<<<UNTRUSTED-" in sent_text and str(EXAMINED[cli]["title"]) in sent_text
    recording, _ = scenario.ANSWERS[cli]
    harness.check_recording(cli, recording, tmp_path / "run", change[0], tmp_path / "home")
