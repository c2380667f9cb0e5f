"""Loopback emulators of the three vendor APIs the agent CLIs speak, for contract tests.

Each emulator is a real HTTP server on 127.0.0.1 that plays a `Script`: the model's turns in
order (the turn is chosen by counting the tool results the CLI has sent back so far), or an
HTTP error for every model call. Every request is recorded.

- `AnthropicEmulator`: `HEAD /`, `POST /v1/messages` answered with Messages SSE; the last turn
  calls the `StructuredOutput` tool with the review as its input (what `--json-schema` asks).
- `OpenAIEmulator`: `POST /v1/responses` answered with Responses SSE; a tool call is an
  `exec_command` function call, or in code mode (no top-level tools) a custom `exec` call.
- `GeminiEmulator`: the `auto` router's `generateContent` call and
  `streamGenerateContent?alt=sse`; a tool call is a `functionCall` part.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.servers import Recorded, Reply, ServedFake

#: The reviewed change: `app.py` before and after (line 5 is the defect the review names).
APP_BEFORE = "import subprocess\n"
APP_AFTER = (
    'import subprocess\n\n\ndef run(name):\n    subprocess.run(f"echo {name}", shell=True)\n'
)
#: The review every scenario's model gives: one important finding in `app.py`.
REVIEW: dict[str, Any] = {
    "summary": "One important defect.",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "category": "security",
            "title": "Shell command built from user input",
            "body": "`run` passes `name` to a shell unquoted, so a crafted name runs commands.",
            "locations": [{"path": "app.py", "start_line": 5, "end_line": 5}],
            "excerpt": 'subprocess.run(f"echo {name}", shell=True)',
            "excerpt_lang": "python",
            "fix": "Pass an argument list without shell=True.",
            "rule": None,
        }
    ],
    "concerns": [],
    "strengths": [],
    "testing": "No test covers `run`.",
    "documentation": "",
    "commit_structure": "",
    "limitations": [],
}


@dataclass(frozen=True)
class Read:
    """The model reads a file of the worktree (`path` relative to the worktree)."""

    path: str


@dataclass(frozen=True)
class Write:
    """The model tries to write a file (the CLI must refuse)."""

    path: str
    text: str = "overwritten by the model\n"


@dataclass(frozen=True)
class Say:
    """The model writes text, streamed in `chunks` deltas."""

    text: str
    chunks: int = 1

    def deltas(self) -> list[str]:
        """The text cut into `chunks` consecutive pieces."""
        size = max(1, -(-len(self.text) // self.chunks))
        return [self.text[i : i + size] for i in range(0, len(self.text), size)]


Step = Read | Write | Say
#: One model turn: what the model writes and calls, in order.
Turn = tuple[Step, ...]


@dataclass(frozen=True)
class Script:
    """The model's turns, or an HTTP error answered to every model call."""

    turns: tuple[Turn, ...] = ()
    error_status: int | None = None
    answer: str = json.dumps(REVIEW)
    answer_chunks: int = 3

    def turn(self, index: int) -> Turn:
        """The turn after `index` tool results; past the last: the answer."""
        if index < len(self.turns):
            return self.turns[index]
        return (Say(self.answer, chunks=self.answer_chunks),)


def sse(events: list[tuple[str | None, dict[str, Any]]]) -> Reply:
    """A 200 reply of server-sent events (an `event:` line only when a name is given)."""
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {json.dumps(data)}\n\n")
    return Reply(200, "".join(out).encode(), content_type="text/event-stream")


class Emulator(ServedFake):
    """A loopback server (`tests.servers.ServedFake`) answering with `answer`."""

    def __init__(self, script: Script, worktree: str = "") -> None:
        super().__init__()
        self.script = script
        self.worktree = worktree

    def model_calls(self) -> list[Recorded]:
        """The requests that asked the model for a turn."""
        return [r for r in self.requests if self.is_model_call(r)]

    def is_model_call(self, request: Recorded) -> bool:
        """Whether `request` asks the model for a turn (overridden per vendor)."""
        raise NotImplementedError

    def abs_path(self, path: str) -> str:
        """`path` inside the worktree, absolute."""
        return f"{self.worktree.rstrip('/')}/{path}"


# --------------------------------------------------------------------------- Anthropic Messages

_WORKING_DIR = re.compile(r"Primary working directory: ([^\s\\]+)")
_ANTHROPIC_ERRORS = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}


class AnthropicEmulator(Emulator):
    """Anthropic Messages API with SSE, as Claude Code calls it."""

    model = "claude-opus-4-8"

    def is_model_call(self, request: Recorded) -> bool:
        return request.method == "POST" and request.path.startswith("/v1/messages")

    def answer(self, request: Recorded) -> Reply:
        if not self.is_model_call(request):
            return Reply(200, {})
        if self.script.error_status is not None:
            status = self.script.error_status
            error = {"type": _ANTHROPIC_ERRORS.get(status, "api_error"), "message": "emulated"}
            return Reply(status, {"type": "error", "error": error}, {"retry-after": "0"})
        body = request.json()
        if not any(t.get("name") == "StructuredOutput" for t in body.get("tools") or []):
            return self._message(body, [Say("ok")], structured=False)
        results = sum(
            1
            for m in body.get("messages", [])
            for b in (m.get("content") if isinstance(m.get("content"), list) else [])
            if isinstance(b, dict) and b.get("type") == "tool_result"
        )
        turn = self.script.turn(results)
        final = results >= len(self.script.turns)
        cwd = _WORKING_DIR.search(json.dumps(body.get("system")))
        if cwd:  # Read takes an absolute path: inside the folder the CLI runs in
            self.worktree = cwd.group(1)
        return self._message(body, list(turn), structured=final)

    def _message(self, body: dict[str, Any], steps: list[Step], *, structured: bool) -> Reply:
        model = str(body.get("model") or self.model)
        usage = {"input_tokens": 1200, "output_tokens": 1, "cache_read_input_tokens": 0}
        events: list[tuple[str | None, dict[str, Any]]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_emulated",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "usage": usage,
                    },
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        stop = "end_turn"
        for index, step in enumerate(steps):
            if isinstance(step, Say) and structured and step.text == self.script.answer:
                events += self._tool_block(index, "StructuredOutput", json.loads(step.text), 3)
                stop = "tool_use"
            elif isinstance(step, Say):
                events.append(
                    (
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {"type": "text", "text": ""},
                        },
                    )
                )
                for piece in step.deltas():
                    delta = {"type": "text_delta", "text": piece}
                    events.append(
                        (
                            "content_block_delta",
                            {"type": "content_block_delta", "index": index, "delta": delta},
                        )
                    )
                events.append(
                    ("content_block_stop", {"type": "content_block_stop", "index": index})
                )
            elif isinstance(step, Read):
                events += self._tool_block(index, "Read", {"file_path": self.abs_path(step.path)})
                stop = "tool_use"
            else:
                tool_input = {"file_path": self.abs_path(step.path), "content": step.text}
                events += self._tool_block(index, "Write", tool_input)
                stop = "tool_use"
        events += [
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 300},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        return sse(events)

    @staticmethod
    def _tool_block(
        index: int, name: str, tool_input: dict[str, Any], chunks: int = 1
    ) -> list[tuple[str | None, dict[str, Any]]]:
        text = json.dumps(tool_input)
        size = max(1, -(-len(text) // chunks))
        start = {
            "type": "content_block_start",
            "index": index,
            "content_block": {
                "type": "tool_use",
                "id": f"toolu_{index}_{name}",
                "name": name,
                "input": {},
            },
        }
        deltas = [
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": text[i : i + size]},
            }
            for i in range(0, len(text), size)
        ]
        return [
            ("content_block_start", start),
            *(("content_block_delta", d) for d in deltas),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]


# --------------------------------------------------------------------------- OpenAI Responses


class OpenAIEmulator(Emulator):
    """OpenAI Responses API with SSE, as Codex calls it (function tools or code mode)."""

    def is_model_call(self, request: Recorded) -> bool:
        return request.method == "POST" and request.path.startswith("/v1/responses")

    def answer(self, request: Recorded) -> Reply:
        if not self.is_model_call(request):
            return Reply(404, {"error": {"message": "not emulated"}})
        if self.script.error_status is not None:
            status = self.script.error_status
            kind = "invalid_api_key" if status == 401 else "rate_limit_exceeded"
            error = {"message": "emulated", "type": kind, "code": kind}
            return Reply(status, {"error": error}, {"retry-after": "0"})
        body = request.json()
        items = [i for i in body.get("input", []) if isinstance(i, dict)]
        results = sum(
            1 for i in items if i.get("type") in ("function_call_output", "custom_tool_call_output")
        )
        code_mode = not body.get("tools")
        return self._stream(list(self.script.turn(results)), code_mode)

    def _stream(self, steps: list[Step], code_mode: bool) -> Reply:
        response = {"id": "resp_emulated", "object": "response", "status": "in_progress"}
        events: list[tuple[str | None, dict[str, Any]]] = [
            ("response.created", {"type": "response.created", "response": response}),
            ("response.in_progress", {"type": "response.in_progress", "response": response}),
        ]
        for index, step in enumerate(steps):
            if isinstance(step, Say):
                item_id = f"msg_{index}"
                added = {"type": "message", "id": item_id, "role": "assistant", "content": []}
                events.append(
                    (
                        "response.output_item.added",
                        {
                            "type": "response.output_item.added",
                            "output_index": index,
                            "item": added,
                        },
                    )
                )
                for piece in step.deltas():
                    events.append(
                        (
                            "response.output_text.delta",
                            {
                                "type": "response.output_text.delta",
                                "item_id": item_id,
                                "output_index": index,
                                "content_index": 0,
                                "delta": piece,
                            },
                        )
                    )
                item: dict[str, Any] = {
                    "type": "message",
                    "id": item_id,
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": step.text, "annotations": []}],
                }
            else:
                item = self._call(index, step, code_mode)
                events.append(
                    (
                        "response.output_item.added",
                        {"type": "response.output_item.added", "output_index": index, "item": item},
                    )
                )
            events.append(
                (
                    "response.output_item.done",
                    {"type": "response.output_item.done", "output_index": index, "item": item},
                )
            )
        usage = {
            "input_tokens": 2000,
            "input_tokens_details": {"cached_tokens": 500},
            "output_tokens": 400,
            "output_tokens_details": {"reasoning_tokens": 100},
            "total_tokens": 2400,
        }
        done = {**response, "status": "completed", "usage": usage}
        events.append(("response.completed", {"type": "response.completed", "response": done}))
        return sse(events)

    @staticmethod
    def _command(step: Read | Write) -> str:
        if isinstance(step, Read):
            return f"nl -ba {step.path}"
        return f"printf %s {json.dumps(step.text)} > {step.path}"

    def _call(self, index: int, step: Read | Write, code_mode: bool) -> dict[str, Any]:
        command = self._command(step)
        if code_mode:
            source = (
                f"const r = await tools.exec_command({{cmd: {json.dumps(command)}}}); "
                "text(r.output);"
            )
            return {
                "type": "custom_tool_call",
                "id": f"ctc_{index}",
                "call_id": f"call_{index}",
                "name": "exec",
                "input": source,
                "status": "completed",
            }
        return {
            "type": "function_call",
            "id": f"fc_{index}",
            "call_id": f"call_{index}",
            "name": "exec_command",
            "arguments": json.dumps({"cmd": command}),
            "status": "completed",
        }


# --------------------------------------------------------------------------- Gemini


_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
}


class GeminiEmulator(Emulator):
    """Gemini `generateContent` (the `auto` router) and `streamGenerateContent` SSE."""

    def is_model_call(self, request: Recorded) -> bool:
        return request.method == "POST" and ":streamGenerateContent" in request.path

    def answer(self, request: Recorded) -> Reply:
        routed = request.method == "POST" and ":generateContent" in request.path
        if self.script.error_status == 429 and routed:
            return self._router()  # a quota runs out on the main model, not the router's
        if self.script.error_status is not None and request.method == "POST":
            status = self.script.error_status
            error = {"code": status, "message": "emulated", "status": _GEMINI_STATUS[status]}
            if status == 429:
                error["details"] = [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0s"}
                ]
            if status == 400:
                error["details"] = [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                    }
                ]
            return Reply(status, {"error": error})
        if routed:
            return self._router()
        if not self.is_model_call(request):
            return Reply(404, {"error": {"code": 404, "message": "not emulated"}})
        body = request.json()
        results = sum(
            1
            for c in body.get("contents", [])
            for p in c.get("parts", [])
            if isinstance(p, dict) and "functionResponse" in p
        )
        model = request.path.split("/models/", 1)[-1].split(":", 1)[0]
        return self._stream(list(self.script.turn(results)), results, model)

    def _router(self) -> Reply:
        choice = {"complexity_reasoning": "A review needs care.", "complexity_score": 80}
        body = {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": json.dumps(choice)}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 300,
                "candidatesTokenCount": 20,
                "totalTokenCount": 320,
            },
            "modelVersion": "gemini-3.5-flash-lite",
        }
        return Reply(200, body)

    def _stream(self, steps: list[Step], results: int, model: str) -> Reply:
        chunks: list[list[dict[str, Any]]] = []
        for step in steps:
            if isinstance(step, Say):
                chunks += [[{"text": piece}] for piece in step.deltas()]
            elif isinstance(step, Read):
                call = {"name": "read_file", "args": {"file_path": step.path}}
                chunks.append([{"functionCall": call}])
            else:
                args = {"file_path": self.abs_path(step.path), "content": step.text}
                chunks.append([{"functionCall": {"name": "write_file", "args": args}}])
        events: list[tuple[str | None, dict[str, Any]]] = []
        for n, parts in enumerate(chunks):
            data: dict[str, Any] = {
                "candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
                "modelVersion": model,
            }
            if n == len(chunks) - 1:
                data["candidates"][0]["finishReason"] = "STOP"
                data["usageMetadata"] = {
                    "promptTokenCount": 3000 + 100 * results,
                    "candidatesTokenCount": 250,
                    "cachedContentTokenCount": 0,
                    "totalTokenCount": 3250 + 100 * results,
                }
            events.append((None, data))
        return sse(events)
