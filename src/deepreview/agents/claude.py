"""Claude Code (`claude -p`) as a read-only reviewer.

The prompt goes on stdin, the instructions as an appended system prompt, and the answer comes
back as `structured_output` validated against the review schema. Output is `stream-json`;
`json` output (one result object, or under verbose an array of every message) is read too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from deepreview.agents.cli_agent import (
    CliAgent,
    Invocation,
    Trace,
    as_int,
    exit_reason,
    json_lines,
    short,
)
from deepreview.agents.process import ProcessResult
from deepreview.context import ReviewContext
from deepreview.prompt import Prompt, review_json_schema
from deepreview.schema import Usage

#: Read-only built-in tools the reviewer may use.
REVIEW_TOOLS = "Read,Grep,Glob"
#: Internal tool through which `--json-schema` answers arrive; not a review tool call.
_STRUCTURED_OUTPUT_TOOL = "StructuredOutput"
#: Tool input keys that name the file or directory a tool looked at.
_PATH_KEYS = {"Read": "file_path", "Grep": "path", "Glob": "path"}
_API_STATUS_REASONS = {
    401: "auth error",
    403: "auth error",
    429: "429 capacity",
    529: "529 overloaded",
}
_CONTEXT_SUFFIX = re.compile(r"\[[^\]]*\]$")
_AUTH_MARKERS = ("invalid api key", "/login", "authentication_error", "oauth token", "401")


class ClaudeAgent(CliAgent):
    """Claude Code in print mode with read-only tools."""

    name: ClassVar[str] = "claude"
    binary: ClassVar[str | None] = "claude"
    vendor: ClassVar[str] = "Claude"
    family: ClassVar[str | None] = "Anthropic"
    keep_env: ClassVar[tuple[str, ...]] = (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
    )
    drop_env: ClassVar[tuple[str, ...]] = ("CLAUDECODE",)
    refused_flags: ClassVar[tuple[str, ...]] = (
        "--dangerously-skip-permissions",
        "--allow-dangerously-skip-permissions",
        "--permission-mode",
        "--tools",
        "--allowedTools",
        "--allowed-tools",
    )

    def invocation(self, ctx: ReviewContext, prompt: Prompt, executable: str) -> Invocation:
        """`claude -p --output-format stream-json --verbose ...` with the prompt on stdin."""
        argv = [executable, "-p", "--output-format", "stream-json", "--verbose"]
        if self.config.model:
            argv += ["--model", self.config.model]
        if self.config.effort:
            argv += ["--effort", self.config.effort]
        argv += [
            "--tools",
            REVIEW_TOOLS,
            "--permission-mode",
            "dontAsk",
            "--append-system-prompt",
            prompt.system,
            "--json-schema",
            json.dumps(prompt.schema or review_json_schema()),
        ]
        if not self.config.keep_sessions:
            argv.append("--no-session-persistence")
        argv += self.config.extra_args
        return Invocation(argv, prompt.user.encode("utf-8", "surrogateescape"))

    def interpret(self, result: ProcessResult, ctx: ReviewContext) -> Trace:
        """Parse the trace; failure is judged by the result's is_error/subtype, then exit code."""
        trace, final = parse_claude_output(result.stdout.decode(errors="replace"), ctx.worktree)
        stderr = result.stderr.decode(errors="replace")
        if final is not None and (final.get("is_error") or final.get("subtype") != "success"):
            trace.error = failure_reason(final)
        elif result.returncode != 0:
            trace.error = exit_reason(result.returncode, stderr)
        elif final is None:
            trace.error = "no result in the output"
        return trace


def parse_claude_output(text: str, worktree: Path) -> tuple[Trace, dict[str, Any] | None]:
    """The trace of a stream-json or json output, and its result message (None if absent)."""
    trace = Trace()
    messages = _messages(text)
    seen_tools: set[str] = set()
    final: dict[str, Any] | None = None
    for msg in messages:
        kind = msg.get("type")
        if kind == "system" and msg.get("subtype") == "init":
            trace.model = model_id(_str(msg.get("model"))) or trace.model
        elif kind == "assistant":
            _read_assistant(msg, trace, worktree, seen_tools)
        elif kind == "result":
            final = msg
    if final is not None:
        _read_result(final, trace)
    return trace, final


def _messages(text: str) -> list[dict[str, Any]]:
    """Messages of NDJSON, a single JSON object, or a JSON array of messages."""
    try:
        whole = json.loads(text)
    except ValueError:
        return json_lines(text)
    if isinstance(whole, dict):
        return [whole]
    if isinstance(whole, list):
        return [m for m in whole if isinstance(m, dict)]
    return []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_assistant(
    msg: dict[str, Any], trace: Trace, worktree: Path, seen_tools: set[str]
) -> None:
    message = msg.get("message")
    if not isinstance(message, dict):
        return
    if trace.model is None:
        trace.model = model_id(_str(message.get("model")))
    content = message.get("content")
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            continue
        name = _str(block.get("name"))
        block_id = str(block.get("id", len(seen_tools)))
        if name is None or name == _STRUCTURED_OUTPUT_TOOL or block_id in seen_tools:
            continue
        seen_tools.add(block_id)
        trace.tool_calls[name] += 1
        tool_input = block.get("input")
        if name in _PATH_KEYS and isinstance(tool_input, dict):
            trace.read(_str(tool_input.get(_PATH_KEYS[name])), worktree)


def _read_result(final: dict[str, Any], trace: Trace) -> None:
    structured = final.get("structured_output")
    if isinstance(structured, dict):
        trace.structured = structured
    trace.answer = _str(final.get("result")) or ""
    cost = final.get("total_cost_usd")
    if isinstance(cost, int | float) and not isinstance(cost, bool):
        trace.cost_usd, trace.cost_reported = float(cost), True
    usage = final.get("usage")
    if isinstance(usage, dict):
        cached = as_int(usage.get("cache_read_input_tokens"))
        trace.usage = Usage(
            input_tokens=as_int(usage.get("input_tokens"))
            + as_int(usage.get("cache_creation_input_tokens"))
            + cached,
            output_tokens=as_int(usage.get("output_tokens")),
            cached_input_tokens=cached,
        )
    model_usage = final.get("modelUsage")
    if trace.model is None and isinstance(model_usage, dict) and model_usage:
        trace.model = model_id(next(iter(model_usage)))


def model_id(model: str | None) -> str | None:
    """The model id without Claude Code's context-size suffix (`claude-opus-4-8[1m]`)."""
    return _CONTEXT_SUFFIX.sub("", model) or None if model else None


def failure_reason(final: dict[str, Any]) -> str:
    """A short reason for an error result: API status, turn limit, auth, or its message."""
    status = final.get("api_error_status")
    if isinstance(status, int):
        return _API_STATUS_REASONS.get(status, f"API error {status}")
    subtype = final.get("subtype")
    if subtype == "error_max_turns" or final.get("terminal_reason") == "max_turns":
        return "max turns"
    if subtype == "error_max_budget_usd":
        return "budget exceeded"
    errors = final.get("errors")
    texts = [final.get("result"), *(errors if isinstance(errors, list) else [])]
    text = " ".join(t for t in texts if isinstance(t, str))
    lowered = text.lower()
    if any(marker in lowered for marker in _AUTH_MARKERS):
        return "auth error"
    if "overloaded" in lowered:
        return "529 overloaded"
    if "rate limit" in lowered or "429" in lowered:
        return "429 capacity"
    return f"error: {short(text)}" if text.strip() else str(subtype or "error")
