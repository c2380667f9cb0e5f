"""Model-API agents against real HTTP servers on 127.0.0.1 that answer like the vendors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from deepreview.agents.anthropic_api import AnthropicApiAgent
from deepreview.agents.api_agent import ApiAgent
from deepreview.agents.base import agent_class
from deepreview.agents.gemini_api import GeminiApiAgent
from deepreview.agents.http import retry_wait_s
from deepreview.agents.naming import display_name_for_model
from deepreview.agents.openai_api import OpenAIApiAgent, OpenAICompatibleAgent
from deepreview.agents.pricing import cost_usd
from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.crossexam.question import ANSWER_SCHEMA
from deepreview.diff import parse_diff_file
from deepreview.prompt import Prompt, review_json_schema
from deepreview.schema import AgentRun, ReportTarget, Usage
from tests.repo_factory import commit, git, make_repo
from tests.runtimes import make_runtime
from tests.servers import LoopbackServer, Recorded, Reply

KEY = "sk-test-0123456789abcdefSECRET"

ANSWER = {
    "summary": "Adds a greeting helper.",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "category": "regression",
            "title": "greet() ignores its argument",
            "body": "The name parameter is never used.",
            "locations": [{"path": "app.py", "start_line": 1, "end_line": 2}],
            "excerpt": "def greet(name):",
            "excerpt_lang": "python",
            "fix": "Use name in the message.",
            "rule": None,
        }
    ],
    "concerns": [],
    "strengths": [{"title": "Small change", "body": "", "locations": []}],
    "testing": "No tests.",
    "documentation": "",
    "commit_structure": "One commit.",
    "limitations": [],
    "coverage": [{"path": "app.py", "reviewed": True, "finding_ids": ["I1"]}],
    "verdict": "Merge with fixes — I1.",
    "prior_findings": [],
}


def anthropic_body(text: str, stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-6",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 80,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        },
    }


def openai_body(
    text: str | None, finish: str = "stop", refusal: str | None = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-5.4-2026-03-05",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": refusal},
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": 2000,
            "completion_tokens": 500,
            "total_tokens": 2500,
            "prompt_tokens_details": {"cached_tokens": 1000},
            "completion_tokens_details": {"reasoning_tokens": 300},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_1",
    }


def gemini_body(text: str, finish: str = "STOP") -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": "Thinking about it.", "thought": True}, {"text": text}],
                },
                "finishReason": finish,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 1200,
            "candidatesTokenCount": 80,
            "thoughtsTokenCount": 300,
            "cachedContentTokenCount": 0,
            "totalTokenCount": 1580,
        },
        "modelVersion": "gemini-2.5-pro",
        "responseId": "abc",
    }


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def make_ctx(tmp_path: Path, env: dict[str, str], files: dict[str, str | bytes]) -> ReviewContext:
    repo = make_repo(tmp_path / "repo", {"app.py": "print('hi')\n"})
    base = git(repo, "rev-parse", "HEAD")
    head = commit(repo, files, "Add greet")
    diff_file = tmp_path / "change.diff"
    diff_file.write_text(git(repo, "diff", base, head) + "\n", encoding="utf-8")
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=parse_diff_file(diff_file),
        target=ReportTarget(kind="range", base=base, head_sha=head),
        base_sha=base,
        run_dir=tmp_path / "run",
        runtime=make_runtime(env),
    )


@pytest.fixture
def ctx(tmp_path: Path) -> ReviewContext:
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "OPENAI_API_KEY": KEY,
        "GEMINI_API_KEY": KEY,
        "PATH": "/usr/bin:/bin",
    }
    return make_ctx(tmp_path, env, {"app.py": "def greet(name):\n    print('hi')\n"})


def run(agent: ApiAgent, ctx: ReviewContext) -> AgentRun:
    result = asyncio.run(agent.run(ctx))
    assert KEY not in result.model_dump_json()
    return result


def config(server: LoopbackServer, path: str = "", **extra: Any) -> AgentConfig:
    return AgentConfig(base_url=server.url + path, timeout_s=extra.pop("timeout_s", 10), **extra)


def gap(requests: list[Recorded]) -> float:
    return requests[1].at - requests[0].at


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_success_sends_schema_and_key_and_records_usage(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.enqueue(Reply(200, anthropic_body(json.dumps(ANSWER))))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert result.status == "ok", result.reason
    assert result.review is not None
    assert [f.id for f in result.review.findings] == ["I1"]
    assert result.display_name == "Claude Opus 4.6"
    assert result.model == "claude-opus-4-6"
    assert result.usage == Usage(input_tokens=1200, output_tokens=80)
    assert result.cost_usd == pytest.approx(1200 * 5e-6 + 80 * 25e-6)
    assert result.raw_output == json.dumps(ANSWER)
    assert result.files_read == ["app.py"]
    (req,) = server.requests
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == KEY
    assert req.headers["anthropic-version"] == "2023-06-01"
    body = req.json()
    assert body["output_config"]["format"] == {
        "type": "json_schema",
        "schema": review_json_schema(strict=True),
    }
    assert body["max_tokens"] > 0 and body["model"] == "claude-opus-4-6"
    assert "read-only review" in body["system"]
    assert "def greet(name):" in body["messages"][0]["content"]


def test_anthropic_429_waits_retry_after_ms_then_succeeds(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    rate_limited = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    server.enqueue(
        Reply(429, rate_limited, {"retry-after-ms": "400", "retry-after": "30"}),
        Reply(200, anthropic_body(json.dumps(ANSWER))),
    )
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert result.status == "ok"
    assert len(server.requests) == 2
    assert 0.4 <= gap(server.requests) < 5  # the ms header wins over retry-after
    assert any("2 attempts (retried after 429" in n for n in result.notes)


def test_anthropic_529_overloaded_gives_up_after_bounded_attempts(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.handle(lambda _: Reply(529, overloaded, {"retry-after-ms": "20"}))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert result.status == "failed"
    assert result.reason == "529 overloaded"
    assert len(server.requests) == AnthropicApiAgent.retry_policy.max_attempts
    assert "gave up after 4 attempts" in result.notes
    assert result.review is None


def test_401_is_not_retried_and_the_echoed_key_is_masked(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    message = f"invalid x-api-key: {KEY}"
    server.enqueue(
        Reply(401, {"type": "error", "error": {"type": "authentication_error", "message": message}})
    )
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert (result.status, result.reason) == ("failed", "401 authentication failed")
    assert len(server.requests) == 1
    assert "server said: invalid x-api-key: [redacted]" in result.notes


def test_x_should_retry_false_stops_retries(server: LoopbackServer, ctx: ReviewContext) -> None:
    server.enqueue(Reply(500, {"error": {"message": "boom"}}, {"x-should-retry": "false"}))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert result.reason == "500 server error"
    assert len(server.requests) == 1


def test_truncated_answer_fails_with_max_tokens_and_keeps_raw(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    cut = json.dumps(ANSWER)[:150]
    server.enqueue(Reply(200, anthropic_body(cut, stop="max_tokens")))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert (result.status, result.reason) == ("failed", "max_tokens: answer truncated")
    assert result.raw_output == cut
    assert result.usage is not None and result.usage.output_tokens == 80


def test_broken_json_answer_is_a_failed_run(server: LoopbackServer, ctx: ReviewContext) -> None:
    broken = '{"summary": "x", "findings": [{"id": "I1", "severity": "important",'
    server.enqueue(Reply(200, anthropic_body(broken)))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert (result.status, result.reason) == ("failed", "unparseable answer")
    assert result.raw_output == broken
    assert result.review is None


def test_answer_in_prose_around_json_is_still_parsed(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    text = "Here is my review:\n```json\n" + json.dumps(ANSWER) + "\n```\n"
    server.enqueue(Reply(200, openai_body(text)))
    result = run(OpenAIApiAgent(config(server, "/v1")), ctx)
    assert result.status == "ok"
    assert result.review is not None and result.review.findings[0].id == "I1"


def test_non_json_success_body_is_a_malformed_response(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.enqueue(Reply(200, "<html>proxy login</html>"))
    result = run(AnthropicApiAgent(config(server)), ctx)
    assert (result.status, result.reason) == ("failed", "malformed API response")


def test_wait_longer_than_the_timeout_ends_retries_at_once(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.handle(lambda _: Reply(429, {"error": {"message": "later"}}, {"retry-after": "30"}))
    result = run(AnthropicApiAgent(config(server, timeout_s=2)), ctx)
    assert (result.status, result.reason) == ("failed", "429 rate limited")
    assert len(server.requests) == 1
    assert result.duration_s < 2


def test_slow_server_is_a_timeout(server: LoopbackServer, ctx: ReviewContext) -> None:
    server.enqueue(Reply(200, anthropic_body(json.dumps(ANSWER)), delay_s=1.5))
    result = run(AnthropicApiAgent(config(server, timeout_s=0.5)), ctx)
    assert (result.status, result.reason) == ("timeout", "timeout")
    assert result.duration_s < 1.4


def test_budget_overflow_is_noted_and_the_prompt_names_omitted_files(
    server: LoopbackServer, tmp_path: Path
) -> None:
    big = "".join(f"value_{i} = {i}\n" for i in range(800))
    ctx = make_ctx(tmp_path, {"ANTHROPIC_API_KEY": KEY}, {"app.py": "print('x')\n", "data.py": big})
    server.enqueue(Reply(200, anthropic_body(json.dumps(ANSWER))))
    result = run(AnthropicApiAgent(config(server, max_prompt_tokens=3000)), ctx)
    assert result.status == "ok"
    assert result.files_read == ["app.py"]
    assert any(
        "1 file(s) partly left out of the prompt" in n and "data.py" in n for n in result.notes
    )
    user = server.requests[0].json()["messages"][0]["content"]
    assert "- data.py: diff omitted" in user
    assert "value_799" not in user


def test_unreachable_server_is_a_failed_run(ctx: ReviewContext) -> None:
    with LoopbackServer() as gone:
        url = gone.url
    result = run(AnthropicApiAgent(AgentConfig(base_url=url, timeout_s=1)), ctx)
    assert (result.status, result.reason) == ("failed", "connection failed")
    assert result.duration_s < 1.5


def test_base_url_without_scheme_fails_without_retries(ctx: ReviewContext) -> None:
    agent = OpenAICompatibleAgent(AgentConfig(base_url="localhost:11434/v1", model="llama3"))
    result = run(agent, ctx)
    assert (result.status, result.reason) == ("failed", "invalid base URL")
    assert result.duration_s < 0.5


def test_missing_key_makes_the_agent_unavailable_and_the_run_skipped(tmp_path: Path) -> None:
    agent = AnthropicApiAgent()
    avail = agent.availability({})
    assert not avail.available and "ANTHROPIC_API_KEY" in avail.reason
    ctx = make_ctx(tmp_path, {"PATH": "/usr/bin"}, {"app.py": "x = 1\n"})
    result = asyncio.run(agent.run(ctx))
    assert result.status == "skipped" and result.reason == "set ANTHROPIC_API_KEY"


# --------------------------------------------------------------------------- OpenAI


def test_openai_success_with_strict_schema_and_effort(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.enqueue(Reply(200, openai_body(json.dumps(ANSWER))))
    result = run(OpenAIApiAgent(config(server, "/v1", effort="high")), ctx)
    assert result.status == "ok", result.reason
    assert result.display_name == "OpenAI GPT 5.4 (effort: high)"
    assert result.model == "gpt-5.4-2026-03-05"
    assert result.usage == Usage(
        input_tokens=2000, output_tokens=500, cached_input_tokens=1000, reasoning_tokens=300
    )
    assert result.cost_usd == pytest.approx(1000 * 2.5e-6 + 1000 * 0.25e-6 + 500 * 15e-6)
    (req,) = server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    body = req.json()
    assert body["reasoning_effort"] == "high"
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] == review_json_schema(strict=True)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_openai_retry_after_seconds_is_honoured(server: LoopbackServer, ctx: ReviewContext) -> None:
    limited = {
        "error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}
    }
    server.enqueue(
        Reply(429, limited, {"retry-after": "1"}), Reply(200, openai_body(json.dumps(ANSWER)))
    )
    result = run(OpenAIApiAgent(config(server, "/v1")), ctx)
    assert result.status == "ok"
    assert len(server.requests) == 2
    assert 1.0 <= gap(server.requests) < 3


def test_openai_insufficient_quota_is_not_retried(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    quota = {
        "error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}
    }
    server.enqueue(Reply(429, quota))
    result = run(OpenAIApiAgent(config(server, "/v1")), ctx)
    assert (result.status, result.reason) == ("failed", "429 insufficient quota")
    assert len(server.requests) == 1


def test_openai_refusal_fails_the_run(server: LoopbackServer, ctx: ReviewContext) -> None:
    server.enqueue(Reply(200, openai_body(None, refusal="I can't help with that.")))
    result = run(OpenAIApiAgent(config(server, "/v1")), ctx)
    assert (result.status, result.reason) == ("failed", "refusal")


def test_openai_compatible_needs_base_url_and_model_but_no_key(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    assert agent_class("openai-compatible") is OpenAICompatibleAgent
    assert not OpenAICompatibleAgent.default_enabled
    assert not OpenAICompatibleAgent().availability({}).available
    agent = OpenAICompatibleAgent(config(server, "/v1", model="qwen2.5-coder:32b"))
    assert agent.availability({}).available
    server.enqueue(Reply(200, {**openai_body(json.dumps(ANSWER)), "model": "qwen2.5-coder:32b"}))
    result = run(agent, ctx)
    assert result.status == "ok"
    assert result.display_name == "Qwen2.5 Coder 32b"
    assert result.cost_usd is None
    (req,) = server.requests
    assert "authorization" not in req.headers
    assert req.json()["model"] == "qwen2.5-coder:32b"


# --------------------------------------------------------------------------- Gemini


def test_gemini_success_reads_text_parts_without_thoughts(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.enqueue(Reply(200, gemini_body(json.dumps(ANSWER))))
    result = run(GeminiApiAgent(config(server)), ctx)
    assert result.status == "ok", result.reason
    assert result.raw_output == json.dumps(ANSWER)
    assert result.display_name == "Gemini 2.5 Pro"
    assert result.usage == Usage(input_tokens=1200, output_tokens=380, reasoning_tokens=300)
    (req,) = server.requests
    assert req.path == "/v1beta/models/gemini-2.5-pro:generateContent"
    assert req.headers["x-goog-api-key"] == KEY
    gen = req.json()["generationConfig"]
    assert gen["responseMimeType"] == "application/json"
    assert gen["responseJsonSchema"] == review_json_schema()
    assert "read-only review" in req.json()["systemInstruction"]["parts"][0]["text"]


def test_gemini_accepts_google_api_key_and_honours_retry_info(
    server: LoopbackServer, tmp_path: Path
) -> None:
    ctx = make_ctx(tmp_path, {"GOOGLE_API_KEY": KEY}, {"app.py": "x = 2\n"})
    exhausted = {
        "error": {
            "code": 429,
            "message": "Resource exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.3s"}
            ],
        }
    }
    server.enqueue(Reply(429, exhausted), Reply(200, gemini_body(json.dumps(ANSWER))))
    result = run(GeminiApiAgent(config(server)), ctx)
    assert result.status == "ok"
    assert server.requests[1].headers["x-goog-api-key"] == KEY
    assert 0.3 <= gap(server.requests) < 3


def test_gemini_safety_stop_is_a_refusal(server: LoopbackServer, ctx: ReviewContext) -> None:
    server.enqueue(Reply(200, gemini_body("", finish="SAFETY")))
    result = run(GeminiApiAgent(config(server)), ctx)
    assert (result.status, result.reason) == ("failed", "refusal")


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("model", "effort", "name"),
    [
        ("claude-opus-4-6", None, "Claude Opus 4.6"),
        ("claude-opus-4-6", "high", "Claude Opus 4.6 (effort: high)"),
        ("claude-sonnet-4-5-20250929", None, "Claude Sonnet 4.5"),
        ("gpt-5.4", None, "OpenAI GPT 5.4"),
        ("o3", None, "OpenAI o3"),
        ("gemini-3.1-pro", None, "Gemini 3.1 Pro"),
        ("models/gemini-2.5-flash-lite", None, "Gemini 2.5 Flash Lite"),
    ],
)
def test_display_names(model: str, effort: str | None, name: str) -> None:
    assert display_name_for_model(model, effort) == name


def test_cost_prefers_configured_prices_and_knows_dated_ids() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost_usd("claude-sonnet-4-6-20260101", usage, {}) == pytest.approx(18.0)
    assert cost_usd("claude-sonnet-4-6", usage, {"claude-sonnet-4-6": (1.0, 2.0)}) == 3.0
    assert cost_usd("gpt-5.4-mini", usage, {}) == 17.5  # the longest known prefix: gpt-5.4
    assert cost_usd("mystery-model", usage, {}) is None
    assert cost_usd("some-local-model", usage, {}) is None


def test_retry_wait_reads_ms_then_seconds_then_http_date() -> None:
    assert retry_wait_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_wait_s({"retry-after": "3"}) == 3.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    wait = retry_wait_s({"retry-after": later})
    assert wait is not None and 17 <= wait <= 20
    assert retry_wait_s({"retry-after": "soon"}) is None
    assert retry_wait_s({}) is None


# --------------------------------------------------------------------------- cross-examination

VERDICT = {
    "verdict": "refute",
    "reason": "greet ignores name by design.",
    "evidence": [{"path": "app.py", "line": 1, "quote": "def greet(name):"}],
}


@pytest.mark.parametrize(
    ("cls", "body", "schema_at"),
    [
        (AnthropicApiAgent, anthropic_body, ("output_config", "format", "schema")),
        (OpenAIApiAgent, openai_body, ("response_format", "json_schema", "schema")),
        (GeminiApiAgent, gemini_body, ("generationConfig", "responseJsonSchema")),
    ],
)
def test_api_agents_answer_a_question_with_its_schema(
    cls: type[ApiAgent],
    body: Any,
    schema_at: tuple[str, ...],
    server: LoopbackServer,
    ctx: ReviewContext,
) -> None:
    server.handle(lambda request: Reply(200, body(json.dumps(VERDICT))))
    agent = cls(config(server))
    prompt = Prompt(
        system="Judge the claim.", user="claim", omitted=[], version="q", schema=ANSWER_SCHEMA
    )
    got = asyncio.run(agent.answer(ctx, prompt, 10))
    assert (got.status, got.reason) == ("ok", None)
    assert json.loads(got.text) == VERDICT
    assert got.cost_usd is not None and got.duration_s >= 0
    sent = server.requests[0].json()
    for key in schema_at:
        sent = sent[key]
    assert sent == ANSWER_SCHEMA


def test_api_examiner_failure_is_an_answer_with_its_reason(
    server: LoopbackServer, ctx: ReviewContext
) -> None:
    server.handle(lambda request: Reply(401, {"error": {"message": f"bad key {KEY}"}}))
    prompt = Prompt(system="s", user="u", omitted=[], version="q", schema={"type": "object"})
    got = asyncio.run(OpenAIApiAgent(config(server)).answer(ctx, prompt, 10))
    assert got.status == "failed" and got.reason
    assert KEY not in repr(got)
