"""What the CLI agents make of the facts in a trace: prices, model names, failure reasons,
families, and whether an answer was understood."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepreview.agents.base import agent_class
from deepreview.agents.claude import model_id
from deepreview.agents.codex import catalog_default, configured_model, rollout_model
from deepreview.agents.gemini import delete_transcript, failure_reason, parse_gemini_output
from deepreview.agents.naming import display_name_for_model
from deepreview.agents.pricing import cost_usd, price_of, priced_run
from deepreview.parse import parse_review
from deepreview.parse.outcome import parse_failure
from deepreview.schema import AgentRun, Usage

RECORDINGS = Path(__file__).parent.parent / "fixtures" / "cli"
MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


# --------------------------------------------------------------------------- one price rule


def test_price_is_the_exact_id_then_the_longest_prefix() -> None:
    table = {"gpt-6": (1.0, 1.0), "gpt-6.2": (2.0, 2.0), "gpt-6.2-sol": (3.0, 3.0)}
    assert price_of("gpt-6.2-sol", table) == (3.0, 3.0)
    assert price_of("gpt-6.2-sol-2026-11-17", table) == (3.0, 3.0)
    assert price_of("gpt-6.2-astra", table) == (2.0, 2.0)
    assert price_of("gpt-6-luna", table) == (1.0, 1.0)
    assert price_of("claude-opus-4-8[1m]", {}) == (5.0, 25.0)  # built-in table, by prefix
    assert price_of("unknown-model", {}) is None


def test_configured_prices_come_before_the_built_in_table() -> None:
    assert price_of("gpt-6.2-sol", {}) == (2.0, 10.0)
    assert price_of("gpt-6.2-sol", {"gpt-6": (7.0, 7.0)}) == (7.0, 7.0)
    assert cost_usd("gpt-6.2-sol", MILLION, {"gpt-6": (7.0, 7.0)}) == 14.0


def test_current_gemini_and_gpt_prices_are_shipped() -> None:
    for model in ("gemini-3.8-flash", "gemini-3.5-flash", "gemini-3.1-pro-preview", "gpt-6.2-sol"):
        assert price_of(model, {}) is not None, model


def _run(**fields: object) -> AgentRun:
    return AgentRun.model_validate(
        {"agent": "x", "display_name": "X", "status": "ok", "usage": MILLION.model_dump()} | fields
    )


def test_a_reported_cost_wins_unless_the_configuration_overrides_it() -> None:
    reported = _run(model="claude-opus-4-8", cost_usd=1.5, cost_reported=True)
    prices = {"claude-opus": (1.0, 1.0)}
    assert priced_run(reported, prices).cost_usd == 1.5
    assert priced_run(reported, prices, override_reported=True).cost_usd == 2.0
    computed = _run(model="claude-opus-4-8", cost_usd=30.0)
    assert priced_run(computed, prices).cost_usd == 2.0
    assert priced_run(_run(model="no-price"), {}).cost_usd is None


# --------------------------------------------------------------------------- model names


def test_claude_context_suffix_is_not_part_of_the_model() -> None:
    assert model_id("claude-opus-4-8[1m]") == "claude-opus-4-8"
    assert display_name_for_model("claude-opus-4-8[1m]") == "Claude Opus 4.8"


def test_codex_model_from_its_rollout_then_its_config(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions" / "2026" / "12" / "01"
    sessions.mkdir(parents=True)
    (sessions / "rollout-2026-12-01T09-30-05-abc-123.jsonl").write_text(
        json.dumps({"type": "session_meta", "payload": {"id": "abc-123"}})
        + "\n"
        + json.dumps({"type": "turn_context", "payload": {"model": "gpt-6.2-astra"}})
        + "\n"
    )
    assert rollout_model(tmp_path, "abc-123") == "gpt-6.2-astra"
    assert rollout_model(tmp_path, "other") is None
    assert configured_model(tmp_path) is None
    (tmp_path / "config.toml").write_text('model = "gpt-6.1-terra"\n')
    assert configured_model(tmp_path) == "gpt-6.1-terra"


def test_codex_default_model_is_the_first_listed_in_its_catalog() -> None:
    catalog = (RECORDINGS / "codex" / "debug-models.json").read_text()
    assert catalog_default(catalog) == "gpt-6.2-sol"
    hidden_first = {
        "models": [
            {"slug": "secret", "priority": 0, "visibility": "hide"},
            {"slug": "b", "priority": 3, "visibility": "list"},
            {"slug": "a", "priority": 2, "visibility": "list"},
        ]
    }
    assert catalog_default("WARNING: x\n" + json.dumps(hidden_first)) == "a"
    assert catalog_default("not json") is None


def test_gemini_model_is_the_one_that_did_the_work_not_the_alias() -> None:
    text = (RECORDINGS / "gemini" / "tool.jsonl").read_text().replace("${WORKTREE}", "/w")
    trace, ok, _ = parse_gemini_output(text, Path("/w"))
    assert ok
    assert trace.model == "gemini-3.8-flash"
    assert trace.cost_usd is not None and trace.cost_usd > 0


# --------------------------------------------------------------------------- gemini answers


def test_gemini_answer_is_the_text_after_the_last_tool_event() -> None:
    text = (RECORDINGS / "gemini" / "sentence.jsonl").read_text()
    trace, _, _ = parse_gemini_output(text, Path("/nowhere"))
    assert "I'll read app.py first." in text
    assert trace.answer.startswith('{"summary"')
    assert json.loads(trace.answer)["findings"][0]["id"] == "I1"


# --------------------------------------------------------------------------- failure reasons


@pytest.mark.parametrize(
    ("code", "errors", "reason"),
    [
        (144, ['unknown [API Error: {"error":{"code":400,"status":"INVALID_ARGUMENT"}}]'], None),
        (144, ["[API Error: API key not valid. Please pass a valid API key.]"], "auth error"),
        (1, ['{"error":{"details":[{"reason":"API_KEY_INVALID"}]}}'], "auth error"),
        (145, ["[API Error: emulated]"], "auth error"),
        (147, [], "auth error"),
        (1, ["UNAUTHENTICATED"], "auth error"),
        (173, [], "429 capacity"),
    ],
)
def test_gemini_failures_read_as_short_reasons(
    code: int, errors: list[str], reason: str | None
) -> None:
    got = failure_reason(code, errors, "")
    assert "{" not in got and len(got) <= 120
    if reason is not None:
        assert got == reason


def test_gemini_error_message_is_read_from_its_json() -> None:
    message = '[API Error: {"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}]'
    assert failure_reason(1, [message], "") == "error: Internal error"


def test_gemini_transcript_of_the_run_is_deleted(tmp_path: Path) -> None:
    chats = tmp_path / "repo" / "chats"
    chats.mkdir(parents=True)
    mine = chats / "session-2026-12-01T09-31-1201de55.jsonl"
    mine.write_text('{"sessionId":"1201de55-385c-4b40-8c72-fcf3418efd51"}\n')
    other = chats / "session-2026-12-01T09-30-99999999.jsonl"
    other.write_text('{"sessionId":"99999999-0000"}\n')
    delete_transcript(tmp_path, "1201de55-385c-4b40-8c72-fcf3418efd51")
    assert not mine.exists() and other.exists()


# --------------------------------------------------------------------------- families


def test_each_agent_declares_its_family() -> None:
    families = {
        name: getattr(agent_class(name), "family", None)
        for name in ("claude", "codex", "gemini", "anthropic-api", "openai-api", "gemini-api")
    }
    assert families == {
        "claude": "Anthropic",
        "codex": "OpenAI",
        "gemini": "Google",
        "anthropic-api": "Anthropic",
        "openai-api": "OpenAI",
        "gemini-api": "Google",
    }
    # a local model behind an OpenAI-compatible server is not OpenAI
    assert getattr(agent_class("openai-compatible"), "family", "?") is None


# --------------------------------------------------------------------------- parse failures


@pytest.mark.parametrize(
    ("answer", "failed"),
    [
        ("I'll read app/deploy.py first.", True),
        ('{"summary": "Looks fine."}', True),  # JSON without a findings list
        ("## Summary\n\nThe change is fine.", True),
        ('{"summary": "Fine.", "findings": []}', False),
        ("No issues found.", False),
        ("I found no problems in this change.", False),
        ("## Important\n\n**I1. Broken** — `a.py:3`\n\nIt breaks.", False),
    ],
)
def test_an_answer_without_findings_must_say_so(answer: str, failed: bool) -> None:
    assert parse_failure(answer, parse_review(answer), None) is failed
