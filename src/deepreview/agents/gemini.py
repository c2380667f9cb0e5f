"""Gemini CLI (`gemini -p`) as a read-only reviewer.

The full prompt goes on stdin (Gemini prepends stdin to the `-p` text); the default approval
mode denies every tool that needs approval in headless mode, so only read-only tools run.
Output is `stream-json`; `json` output is read too. Fatal errors may arrive as JSON on stderr.
"""

from __future__ import annotations

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
    173: "429 capacity",
}
_CAPACITY_MARKERS = ("resource_exhausted", "429", "quota")
#: Tools whose parameters name the files they read.
_READ_TOOLS = {"read_file": ("absolute_path", "file_path"), "read_many_files": ("paths",)}


class GeminiAgent(CliAgent):
    """Gemini CLI in headless mode, default approval mode."""

    name: ClassVar[str] = "gemini"
    binary: ClassVar[str | None] = "gemini"
    vendor: ClassVar[str] = "Gemini"
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
        if kind == "init" and isinstance(event.get("model"), str):
            trace.model = event["model"]
        elif kind == "tool_use":
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
    trace.usage = Usage(
        input_tokens=as_int(stats.get("input_tokens")),
        output_tokens=as_int(stats.get("output_tokens")),
        cached_input_tokens=as_int(stats.get("cached")),
    )
    models = stats.get("models")
    if trace.model is None and isinstance(models, dict) and models:
        trace.model = max(models, key=lambda m: _total(models[m], "total_tokens"))


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
    """A short reason: capacity when the error says so, else the exit code's meaning."""
    said = " ".join(errors).lower()
    if any(m in said for m in _CAPACITY_MARKERS) or "resource_exhausted" in stderr.lower():
        return "429 capacity"
    if returncode in EXIT_REASONS:
        return EXIT_REASONS[returncode]
    if errors:
        return f"error: {short(errors[-1])}"
    if returncode == 0:
        return "no successful result in the output"
    return exit_reason(returncode, stderr)
