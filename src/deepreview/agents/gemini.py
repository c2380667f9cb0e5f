"""Gemini CLI (`gemini -p`) as a read-only reviewer.

The full prompt goes on stdin (Gemini prepends stdin to the `-p` text); the default approval
mode denies every tool that needs approval in headless mode, so only read-only tools run.
Output is `stream-json`; `json` output is read too. Fatal errors may arrive as JSON on stderr.
Models often write a sentence before a tool call: the answer is the assistant text after the
last tool event. The init event names the alias (`auto`); the models that did the work are in
the result's `stats.models`, and the cost is the sum of theirs. Gemini CLI has no switch to
keep its session transcript out of the user's home, so the transcript of the run (found by
its session id) is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import json
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
from deepreview.agents.pricing import cost_usd
from deepreview.agents.process import ProcessResult
from deepreview.context import ReviewContext
from deepreview.prompt import Prompt
from deepreview.schema import Usage

#: The `-p` text; the review prompt itself comes on stdin, before it.
INSTRUCTION = "Review the change described above and answer exactly as instructed there."
#: Gemini CLI exit codes (packages/core/src/utils/exitCodes.ts); 173 is HTTP 429 mod 256.
EXIT_REASONS = {
    41: "auth error",
    42: "invalid input",
    44: "sandbox error",
    52: "config error",
    53: "turn limit",
    54: "tool error",
    55: "untrusted workspace",
    130: "interrupted",
    144: "API error 400",
    145: "auth error",
    147: "auth error",
    173: "429 capacity",
}
_CAPACITY_MARKERS = ("resource_exhausted", "429", "quota")
_AUTH_MARKERS = ("unauthenticated", "api_key_invalid", "api key not valid", "permission_denied")
#: Tools whose parameters name the files they read.
_READ_TOOLS = {"read_file": ("absolute_path", "file_path"), "read_many_files": ("paths",)}


class GeminiAgent(CliAgent):
    """Gemini CLI in headless mode, default approval mode."""

    name: ClassVar[str] = "gemini"
    binary: ClassVar[str | None] = "gemini"
    vendor: ClassVar[str] = "Gemini"
    family: ClassVar[str | None] = "Google"
    supports_effort: ClassVar[bool] = False
    keep_env: ClassVar[tuple[str, ...]] = (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
    )
    refused_flags: ClassVar[tuple[str, ...]] = (
        "-y",
        "--yolo",
        "--approval-mode",
        "--allowed-tools",
        "--policy",
    )

    def invocation(self, ctx: ReviewContext, prompt: Prompt, executable: str) -> Invocation:
        """`gemini -p <instruction> -o stream-json ...` with the whole prompt on stdin."""
        argv = [executable, "-p", INSTRUCTION, "-o", "stream-json"]
        if self.config.model:
            argv += ["-m", self.config.model]
        argv += ["--approval-mode", "default", "--skip-trust", *self.config.extra_args]
        return Invocation(
            argv, f"{prompt.system}\n\n{prompt.user}".encode("utf-8", "surrogateescape")
        )

    def interpret(self, result: ProcessResult, ctx: ReviewContext) -> Trace:
        """Failure from the result status, the error JSON (stdout or stderr) and the exit code."""
        stdout = result.stdout.decode(errors="replace")
        stderr = result.stderr.decode(errors="replace")
        trace, succeeded, errors = parse_gemini_output(stdout, ctx.worktree)
        errors += _stderr_errors(stderr)
        if result.returncode != 0 or not succeeded:
            trace.error = failure_reason(result.returncode, errors, stderr)
        return trace

    async def settle(
        self, trace: Trace, executable: str, env: dict[str, str], ctx: ReviewContext
    ) -> None:
        """Delete the session transcript the run left in the user's home (unless kept)."""
        if self.config.keep_sessions or not trace.session_id:
            return
        home = env.get("GEMINI_CLI_HOME") or env.get("HOME")
        if home:
            delete_transcript(Path(home) / ".gemini" / "tmp", trace.session_id)


def delete_transcript(tmp_dir: Path, session_id: str) -> None:
    """Delete `<tmp_dir>/<project>/chats/session-*-<id prefix>.json[l]` holding `session_id`."""
    if not session_id[:8].isalnum():
        return
    for path in tmp_dir.glob(f"*/chats/session-*{session_id[:8]}*.json*"):
        with contextlib.suppress(OSError):
            if session_id in path.read_text(encoding="utf-8", errors="replace")[:4096]:
                path.unlink()


def parse_gemini_output(text: str, worktree: Path) -> tuple[Trace, bool, list[str]]:
    """The trace of stream-json or json output, whether it reports success, and its errors."""
    try:
        whole = json.loads(text)
    except ValueError:
        return _parse_stream(text, worktree)
    if isinstance(whole, dict) and "type" not in whole:
        return _parse_json(whole)
    return _parse_stream(text, worktree)


def _parse_stream(text: str, worktree: Path) -> tuple[Trace, bool, list[str]]:
    trace = Trace()
    answer: list[str] = []
    errors: list[str] = []
    succeeded = False
    for event in json_lines(text):
        kind = event.get("type")
        if kind == "init":
            trace.model = event["model"] if isinstance(event.get("model"), str) else None
            trace.session_id = (
                event.get("session_id") if isinstance(event.get("session_id"), str) else None
            )
        elif kind in ("tool_use", "tool_result"):
            answer = []  # what the model wrote before a tool call is not the answer
            if kind == "tool_use":
                _read_tool_use(event, trace, worktree)
        elif kind == "message" and event.get("role") == "assistant":
            content = event.get("content")
            if isinstance(content, str):
                answer.append(content)
        elif kind == "error" and event.get("severity") == "error":
            errors.append(str(event.get("message", "error")))
        elif kind == "result":
            succeeded = event.get("status") == "success"
            errors += _error_texts(event.get("error"))
            stats = event.get("stats")
            if isinstance(stats, dict):
                _read_stream_stats(stats, trace)
    trace.answer = "".join(answer)
    return trace, succeeded, errors


def _read_tool_use(event: dict[str, Any], trace: Trace, worktree: Path) -> None:
    name = event.get("tool_name")
    if not isinstance(name, str) or not name:
        return
    trace.tool_calls[name] += 1
    params = event.get("parameters")
    if not isinstance(params, dict):
        return
    for key in _READ_TOOLS.get(name, ()):
        value = params.get(key)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, str) and not any(c in path for c in "*?["):
                trace.read(path, worktree)


def _read_stream_stats(stats: dict[str, Any], trace: Trace) -> None:
    trace.usage = _stream_usage(stats)
    models = stats.get("models")
    if isinstance(models, dict) and models:
        trace.model = max(models, key=lambda m: _total(models[m], "total_tokens"))
        costs = [
            cost_usd(m, _stream_usage(u), {}) for m, u in models.items() if isinstance(u, dict)
        ]
        if costs and all(c is not None for c in costs):
            trace.cost_usd = round(sum(c for c in costs if c is not None), 6)


def _stream_usage(stats: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=as_int(stats.get("input_tokens")),
        output_tokens=as_int(stats.get("output_tokens")),
        cached_input_tokens=as_int(stats.get("cached")),
    )


def _parse_json(obj: dict[str, Any]) -> tuple[Trace, bool, list[str]]:
    trace = Trace()
    response = obj.get("response")
    trace.answer = response if isinstance(response, str) else ""
    errors = _error_texts(obj.get("error"))
    stats = obj.get("stats")
    if isinstance(stats, dict):
        models = stats.get("models")
        if isinstance(models, dict) and models:
            trace.model = max(models, key=lambda m: _total(models[m].get("tokens"), "total"))
            trace.usage = _json_usage([m.get("tokens") for m in models.values()])
        tools = stats.get("tools")
        by_name = tools.get("byName") if isinstance(tools, dict) else None
        for name, entry in (by_name or {}).items():
            count = as_int(entry.get("count")) if isinstance(entry, dict) else 0
            if count:
                trace.tool_calls[name] += count
    return trace, not errors and response is not None, errors


def _total(entry: Any, key: str) -> int:
    return as_int(entry.get(key)) if isinstance(entry, dict) else 0


def _json_usage(token_maps: list[Any]) -> Usage:
    maps = [t for t in token_maps if isinstance(t, dict)]
    return Usage(
        input_tokens=sum(as_int(t.get("prompt")) for t in maps),
        output_tokens=sum(as_int(t.get("candidates")) for t in maps),
        cached_input_tokens=sum(as_int(t.get("cached")) for t in maps),
        reasoning_tokens=sum(as_int(t.get("thoughts")) for t in maps),
    )


def _error_texts(error: Any) -> list[str]:
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("type", "message", "code") if error.get(k)]
        return [" ".join(parts)] if parts else []
    return [error] if isinstance(error, str) and error else []


def _stderr_errors(stderr: str) -> list[str]:
    """Error texts of the JSON object(s) on stderr, which may sit among plain lines."""
    start, end = stderr.find("{"), stderr.rfind("}")
    candidates = [stderr[start : end + 1]] if 0 <= start < end else []
    candidates += [line for line in stderr.splitlines() if line.strip().startswith("{")]
    for candidate in candidates:
        try:
            obj = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(obj, dict) and "error" in obj:
            return _error_texts(obj["error"])
    return []


def failure_reason(returncode: int | None, errors: list[str], stderr: str) -> str:
    """A short reason: auth or capacity when the error says so, else the exit code's meaning,
    else the error's own message (never its raw JSON)."""
    said = " ".join(errors).lower()
    if any(m in said for m in _AUTH_MARKERS) or any(m in stderr.lower() for m in _AUTH_MARKERS):
        return "auth error"
    if any(m in said for m in _CAPACITY_MARKERS) or "resource_exhausted" in stderr.lower():
        return "429 capacity"
    if returncode in EXIT_REASONS:
        return EXIT_REASONS[returncode]
    if errors:
        return f"error: {short(plain_message(errors[-1]))}"
    if returncode == 0:
        return "no successful result in the output"
    return exit_reason(returncode, stderr)


def plain_message(text: str) -> str:
    """The `message` of an API error JSON embedded in `text` (`[API Error: {...}]`), else
    `text` with any JSON cut off."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return text
    try:
        obj = json.loads(text[start : end + 1])
    except ValueError:
        return text[:start].rstrip(" :[") or "API error"
    error = obj.get("error") if isinstance(obj, dict) else None
    message = (
        (error if isinstance(error, dict) else obj).get("message")
        if isinstance(obj, dict)
        else None
    )
    if isinstance(message, str) and message.strip():
        return message
    return text[:start].rstrip(" :[") or "API error"
