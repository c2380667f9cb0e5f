"""OpenAI Codex CLI (`codex exec`) as a read-only reviewer.

Runs in the read-only sandbox with the prompt on stdin and the strict review schema as its
output schema; reads the JSONL event stream for tool use, usage and the final agent message.
`--ephemeral` keeps the session transcript out of the user's home. The event stream never
names the model: it is the configured one, else the one the session rollout (found from
`thread.started.thread_id`) or Codex's own `config.toml` names, else the default of Codex's
model catalog (`codex debug models`). Codex reports no cost, so it is computed from usage.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import tomllib
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
from deepreview.agents.process import ProcessResult, run_process
from deepreview.agents.sandbox import Confined
from deepreview.context import ReviewContext
from deepreview.prompt import Prompt, review_json_schema
from deepreview.schema import Usage

_SHELLS = {"bash", "sh", "zsh"}
_OPERATORS = {"|", "||", "&&", ";", "&", "(", ")"}
#: Commands whose file arguments are read, with the options of theirs that take a value.
_READERS: dict[str, set[str]] = {
    "cat": set(),
    "nl": {"-b", "-w", "-s", "-v", "-i"},
    "head": {"-n", "-c"},
    "tail": {"-n", "-c"},
    "sed": {"-e", "-f"},
    "grep": {"-e", "-f", "-m", "-A", "-B", "-C", "--include", "--exclude"},
    "rg": {"-e", "-f", "-g", "--glob", "-t", "--type", "-T", "-m", "-A", "-B", "-C", "-M"},
}
#: Commands whose first operand is a script or pattern unless one is given with -e/-f.
_FIRST_OPERAND_IS_PATTERN = {"sed", "grep", "rg"}


class CodexAgent(CliAgent):
    """Codex CLI in `exec` mode, read-only sandbox."""

    name: ClassVar[str] = "codex"
    binary: ClassVar[str | None] = "codex"
    vendor: ClassVar[str] = "Codex (default model)"
    family: ClassVar[str | None] = "OpenAI"
    keep_env: ClassVar[tuple[str, ...]] = ("CODEX_API_KEY", "OPENAI_API_KEY")
    refused_flags: ClassVar[tuple[str, ...]] = (
        "--dangerously-bypass-approvals-and-sandbox",
        "--yolo",
        "--full-auto",
        "-s",
        "--sandbox",
        "sandbox_mode",
        "approval_policy",
    )

    def _sandbox(self, argv: list[str], ctx: ReviewContext, env: dict[str, str]) -> Confined:
        """Codex runs the model's commands in its own read-only sandbox (bubblewrap), which
        cannot start inside Landlock (a Landlock-confined process may not change mounts): so
        Codex is confined by that sandbox, not by deepreview's; it still gets a private TMPDIR."""
        super()._sandbox(argv, ctx, env)
        return Confined(list(argv), "Codex's own read-only sandbox (-s read-only, bubblewrap)")

    def _files(self, ctx: ReviewContext) -> tuple[Path, Path]:
        return ctx.run_dir / f"{self.name}.schema.json", self.scratch(ctx) / "answer.txt"

    def invocation(self, ctx: ReviewContext, prompt: Prompt, executable: str) -> Invocation:
        """`codex exec --json -s read-only ... -`; writes the schema, clears the answer file."""
        schema_path, answer_path = self._files(ctx)
        ctx.run_dir.mkdir(parents=True, exist_ok=True)
        schema = prompt.schema or review_json_schema(strict=True)
        schema_path.write_text(json.dumps(schema), encoding="utf-8")
        answer_path.unlink(missing_ok=True)
        argv = [executable, "exec", "--json", "-s", "read-only", "--skip-git-repo-check"]
        if not self.config.keep_sessions:
            argv.append("--ephemeral")
        argv += ["-C", str(ctx.worktree)]
        if self.config.model:
            argv += ["-m", self.config.model]
        if self.config.effort:
            argv += ["-c", f'model_reasoning_effort="{self.config.effort}"']
        argv += ["--output-schema", str(schema_path), "-o", str(answer_path)]
        argv += [*self.config.extra_args, "-"]
        return Invocation(
            argv, f"{prompt.system}\n\n{prompt.user}".encode("utf-8", "surrogateescape")
        )

    def interpret(self, result: ProcessResult, ctx: ReviewContext) -> Trace:
        """Success is a `turn.completed` event and exit 0; the answer falls back to the -o file."""
        trace, completed = parse_codex_events(result.stdout.decode(errors="replace"), ctx.worktree)
        trace.model = self.config.model or trace.model
        if not trace.answer:
            with contextlib.suppress(OSError):
                trace.answer = self._files(ctx)[1].read_text(encoding="utf-8")
        if trace.error is None and result.returncode != 0:
            trace.error = exit_reason(result.returncode, result.stderr.decode(errors="replace"))
        elif trace.error is None and not completed:
            trace.error = "no turn.completed in the output"
        return trace

    async def settle(
        self, trace: Trace, executable: str, env: dict[str, str], ctx: ReviewContext
    ) -> None:
        """The model from Codex's own files or its catalog when none is known; then the cost."""
        if trace.model is None:
            home = codex_home(env)
            trace.model = (
                rollout_model(home, trace.session_id) if trace.session_id else None
            ) or configured_model(home)
        if trace.model is None:
            trace.model = await self._default_model(executable, env, ctx)
        trace.cost_usd = cost_usd(trace.model, trace.usage, {})

    async def _default_model(
        self, executable: str, env: dict[str, str], ctx: ReviewContext
    ) -> str | None:
        """The first listed model of `codex debug models` (the catalog Codex picks from)."""
        try:
            result = await run_process(
                [executable, "debug", "models"],
                cwd=ctx.worktree,
                env=env,
                stdin=None,
                timeout_s=30.0,
                capture_dir=ctx.run_dir,
                name=f"{self.name}.models",
            )
        except OSError:
            return None
        return catalog_default(result.stdout.decode(errors="replace"))


def codex_home(env: dict[str, str]) -> Path | None:
    """`$CODEX_HOME`, else `~/.codex`."""
    if env.get("CODEX_HOME"):
        return Path(env["CODEX_HOME"])
    return Path(env["HOME"]) / ".codex" if env.get("HOME") else None


def rollout_model(home: Path | None, session_id: str) -> str | None:
    """The model the session rollout `sessions/**/rollout-*-<id>.jsonl` records."""
    if home is None or not session_id or "/" in session_id:
        return None
    for path in sorted((home / "sessions").glob(f"*/*/*/rollout-*-{session_id}.jsonl")):
        with contextlib.suppress(OSError):
            for event in json_lines(path.read_text(encoding="utf-8", errors="replace")):
                payload = event.get("payload")
                model = payload.get("model") if isinstance(payload, dict) else None
                if isinstance(model, str) and model:
                    return model
    return None


def configured_model(home: Path | None) -> str | None:
    """The `model` of Codex's `config.toml`."""
    if home is None:
        return None
    try:
        with (home / "config.toml").open("rb") as fh:
            model = tomllib.load(fh).get("model")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return model if isinstance(model, str) and model else None


def catalog_default(text: str) -> str | None:
    """The listed model with the best (lowest) priority in `codex debug models` output."""
    start = text.find("{")
    try:
        catalog = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        return None
    models = catalog.get("models") if isinstance(catalog, dict) else None
    listed = [
        m
        for m in (models if isinstance(models, list) else [])
        if isinstance(m, dict) and isinstance(m.get("slug"), str) and m.get("visibility") == "list"
    ]
    if not listed:
        return None
    best = min(listed, key=lambda m: as_int(m.get("priority")) or 1_000_000)
    return str(best["slug"])


def parse_codex_events(text: str, worktree: Path) -> tuple[Trace, bool]:
    """The trace of a `codex exec --json` stream, and whether the turn completed.

    A top-level `error` event fails the run only when no `turn.completed` follows (Codex also
    reports retried stream errors this way).
    """
    trace = Trace()
    tool_items: set[str] = set()
    completed = False
    last_error: str | None = None
    for event in json_lines(text):
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            trace.session_id = event["thread_id"]
        elif kind in ("item.started", "item.updated", "item.completed"):
            item = event.get("item")
            if isinstance(item, dict):
                _read_item(item, trace, worktree, tool_items)
        elif kind == "turn.completed":
            completed = True
            usage = event.get("usage")
            if isinstance(usage, dict):
                trace.usage = _usage(usage)
        elif kind == "turn.failed":
            error = event.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            trace.error = failure_reason(message if isinstance(message, str) else "turn failed")
        elif kind == "error":
            message = event.get("message")
            last_error = message if isinstance(message, str) else "error"
    if trace.error is None and not completed and last_error is not None:
        trace.error = failure_reason(last_error)
    return trace, completed and trace.error is None


def _usage(usage: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")),
        output_tokens=as_int(usage.get("output_tokens")),
        cached_input_tokens=as_int(usage.get("cached_input_tokens")),
        reasoning_tokens=as_int(usage.get("reasoning_output_tokens")),
    )


def _read_item(item: dict[str, Any], trace: Trace, worktree: Path, tool_items: set[str]) -> None:
    kind = item.get("type")
    item_id = str(item.get("id", ""))
    if kind == "agent_message":
        text = item.get("text")
        if isinstance(text, str) and text.strip():
            trace.answer = text
        return
    if kind == "error":
        message = item.get("message")
        if isinstance(message, str) and f"warning: {short(message)}" not in trace.notes:
            trace.notes.append(f"warning: {short(message)}")
        return
    tool = _tool_name(item)
    if tool is None or item_id in tool_items:
        return
    tool_items.add(item_id)
    trace.tool_calls[tool] += 1
    command = item.get("command")
    if kind == "command_execution" and isinstance(command, str):
        for path in files_in_command(command):
            trace.read(path, worktree)


def _tool_name(item: dict[str, Any]) -> str | None:
    kind = item.get("type")
    if kind == "command_execution":
        return "shell"
    if kind == "mcp_tool_call":
        return f"{item.get('server', 'mcp')}.{item.get('tool', '?')}"
    if kind in ("web_search", "file_change"):
        return str(kind)
    return None


def files_in_command(command: str) -> list[str]:
    """Files a shell command plainly reads (cat, sed -n, nl, head, tail, grep, rg operands).

    Conservative: operands only, never globs or options; the caller keeps only existing files.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    if len(words) == 3 and Path(words[0]).name in _SHELLS and words[1] in ("-c", "-lc"):
        try:
            lexer = shlex.shlex(words[2], posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words = list(lexer)
        except ValueError:
            return []
    files: list[str] = []
    segment: list[str] = []
    for word in [*words, ";"]:
        if word in _OPERATORS:
            files += _operands(segment)
            segment = []
        else:
            segment.append(word)
    return files


def _operands(segment: list[str]) -> list[str]:
    if not segment or Path(segment[0]).name not in _READERS:
        return []
    program = Path(segment[0]).name
    takes_value = _READERS[program]
    operands: list[str] = []
    pattern_given = False
    skip = False
    for word in segment[1:]:
        if skip:
            skip = False
        elif word.startswith("-") and word != "-":
            skip = word in takes_value
            pattern_given = pattern_given or word in ("-e", "-f")
        elif word in ("<", ">", ">>"):
            skip = word != "<"
        else:
            operands.append(word)
    if program in _FIRST_OPERAND_IS_PATTERN and not pattern_given:
        operands = operands[1:]
    return [w for w in operands if not any(c in w for c in "*?[")]


def failure_reason(message: str) -> str:
    """A short reason for a Codex error message: capacity, auth, or the message itself."""
    lowered = message.lower()
    if "429" in lowered or "rate limit" in lowered or "usage limit" in lowered:
        return "429 capacity"
    if "401" in lowered or "unauthorized" in lowered or "not logged in" in lowered:
        return "auth error"
    return f"error: {short(message)}"
