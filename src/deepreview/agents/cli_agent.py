"""A small base for headless AI CLI agents (claude, codex, gemini).

A subclass declares its binary, the credentials it may see and the flags it refuses, builds its
command line, and turns the finished process into a `Trace`. The base builds the prompt, runs
the process in the worktree under the configured timeout (its prompt, stdout, stderr and exit
code kept in the run folder), asks for the CLI's version once per
executable, parses the answer into an `AgentReview` and always returns an `AgentRun`.

`AgentRun.raw_output` holds the agent's answer (what the report appendix shows); the full
trace stays in `<run_dir>/<agent>.stdout`, named in the run's notes. An answer that yields no
finding without saying there are none is a parse failure (`deepreview.parse.outcome`). A
timed-out agent's trace so far is parsed too: its findings are kept and the run marked
partial. Token counts follow `deepreview.agents.pricing`: `input_tokens` counts all input,
`cached_input_tokens` the part of it read from a cache.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from deepreview.agents.answer import Answer, AnswerStatus
from deepreview.agents.base import AgentBase, AgentKind, agent_environment
from deepreview.agents.naming import display_name_for_model
from deepreview.agents.process import (
    MAX_CAPTURE_BYTES,
    BinaryNotFoundError,
    ProcessResult,
    run_process,
)
from deepreview.agents.sandbox import DEFAULT_STATE_PATHS, Confined, agent_policy, confine
from deepreview.agents.versions import probe_version
from deepreview.context import ReviewContext
from deepreview.parse import parse_review
from deepreview.parse.outcome import PARSE_FAILURE, parse_failure
from deepreview.parse.structured import review_from_json
from deepreview.prompt import Prompt, build_prompt
from deepreview.schema import AgentReview, AgentRun, RunStatus, Usage
from deepreview.traces import trace_note

_MAX_REASON = 120
_ERROR_LINE = re.compile(r"error|panicked|exception", re.IGNORECASE)


@dataclass
class Trace:
    """What a CLI's output says about its run; `error` is the short failure reason, if any."""

    model: str | None = None
    answer: str = ""
    structured: dict[str, Any] | None = None
    tool_calls: Counter[str] = field(default_factory=Counter)
    files_read: list[str] = field(default_factory=list)
    usage: Usage | None = None
    cost_usd: float | None = None
    cost_reported: bool = False
    session_id: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def read(self, path: str | None, worktree: Path) -> None:
        """Record a file read, if `path` names a file inside the worktree."""
        rel = repo_relative(path, worktree) if path else None
        if rel is not None and rel not in self.files_read:
            self.files_read.append(rel)


@dataclass(frozen=True)
class _Executed:
    """A finished CLI run: its version, process, trace and the confinement it ran under."""

    version: str | None
    result: ProcessResult
    trace: Trace
    sandbox: str


@dataclass(frozen=True)
class Invocation:
    """A command line and the bytes to send on its stdin."""

    argv: list[str]
    stdin: bytes


def repo_relative(path: str, worktree: Path) -> str | None:
    """`path` relative to the worktree when it names a file inside it, else None."""
    root = worktree.resolve()
    target = Path(path)
    if not target.is_absolute():
        target = root / target
    try:
        rel = target.resolve().relative_to(root)
    except (OSError, ValueError):
        return None
    return rel.as_posix() if (root / rel).is_file() else None


def short(text: str) -> str:
    """The first non-empty line of `text`, cut to fit a Reviewers line."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + "…"


def exit_reason(returncode: int | None, stderr: str) -> str:
    """`exit N: <line>`: the first stderr line naming an error, else the first one."""
    if returncode is not None and returncode < 0:
        return f"killed by signal {-returncode}"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    line = next((ln for ln in lines if _ERROR_LINE.search(ln)), lines[0] if lines else "")
    return f"exit {returncode}: {short(line)}" if line else f"exit {returncode}"


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of an NDJSON stream; other lines are skipped."""
    events: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            events.append(obj)
    return events


def as_int(value: Any) -> int:
    """`value` when it is a non-negative int (JSON numbers may come as floats), else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def refused_args(args: list[str], refused: tuple[str, ...]) -> list[str]:
    """The arguments among `args` that name a refused flag (`--flag` or `--flag=value`)."""
    return [a for a in args if a.split("=", 1)[0] in refused]


class CliAgent(AgentBase):
    """Base of the headless AI CLI agents."""

    kind: ClassVar[AgentKind] = "ai"
    #: Name shown when neither the configuration nor the trace names a model.
    vendor: ClassVar[str] = ""
    #: Credential variables this agent may see (all others are removed from its environment).
    keep_env: ClassVar[tuple[str, ...]] = ()
    #: Variables removed from the agent's environment.
    drop_env: ClassVar[tuple[str, ...]] = ()
    #: Flags that would let the agent write or bypass its sandbox; refused in `extra_args`.
    refused_flags: ClassVar[tuple[str, ...]] = ()
    #: Whether the CLI takes a reasoning effort; when not, a configured effort is ignored.
    supports_effort: ClassVar[bool] = True

    def display_name(self) -> str:
        """The configured display name, else vendor and configured model."""
        return self._display_name(None)

    def _display_name(self, traced_model: str | None) -> str:
        """The model the trace reports wins over the configured one, which may be an alias."""
        if self.config.display_name:
            return self.config.display_name
        model = traced_model or self.config.model
        if model is None:
            return self.vendor or self.name
        return display_name_for_model(model, self._effort())

    def _effort(self) -> str | None:
        return self.config.effort if self.supports_effort else None

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The agent's environment: credentials stripped except `keep_env`, plus config.env."""
        env = agent_environment(environ, keep=self.keep_env, extra=self.config.env)
        for name in self.drop_env:
            env.pop(name, None)
        return env

    def invocation(self, ctx: ReviewContext, prompt: Prompt, executable: str) -> Invocation:
        """The command line and stdin for one review."""
        raise NotImplementedError

    def interpret(self, result: ProcessResult, ctx: ReviewContext) -> Trace:
        """Read the finished process: the trace, and whether (and why) the run failed."""
        raise NotImplementedError

    async def settle(
        self, trace: Trace, executable: str, env: dict[str, str], ctx: ReviewContext
    ) -> None:
        """After the run: complete what the trace leaves out (e.g. the model) and clean up
        what the CLI left behind. Nothing by default."""

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Review the change; every failure becomes a failed or timed-out AgentRun."""
        started = datetime.now(UTC)
        try:
            return await self._run(ctx, started)
        except Exception as exc:  # a broken agent must not lose the other agents' work
            return self._failed(started, f"{type(exc).__name__}: {short(str(exc))}")

    async def _run(self, ctx: ReviewContext, started: datetime) -> AgentRun:
        prompt = build_prompt(
            ctx, include_content=False, budget_tokens=self.config.max_prompt_tokens
        )
        done = await self._execute(ctx, prompt, self.config.timeout_s)
        if isinstance(done, str):
            return self._failed(started, done)
        run = self._finish(started, done.version, done.result, done.trace, ctx, prompt)
        return run.model_copy(update={"sandbox": done.sandbox})

    async def answer(self, ctx: ReviewContext, prompt: Prompt, timeout_s: float) -> Answer:
        """Ask `prompt` (its schema instead of the review's) in the worktree, confined like a
        review, within `timeout_s`."""
        try:
            done = await self._execute(ctx, prompt, timeout_s)
        except Exception as exc:  # an answer is data: it never raises
            return Answer("failed", reason=f"{type(exc).__name__}: {short(str(exc))}")
        if isinstance(done, str):
            return Answer("failed", reason=done)
        trace, result = done.trace, done.result
        status: AnswerStatus = "ok"
        reason = trace.error
        if result.timed_out:
            status, reason = "timeout", f"timeout after {timeout_s:g} s"
        elif reason is not None:
            status = "failed"
        return Answer(
            status,
            text=trace.answer,
            structured=trace.structured,
            model=trace.model or self.config.model,
            reason=reason,
            duration_s=round(result.duration_s, 3),
            cost_usd=trace.cost_usd,
            sandbox=done.sandbox,
        )

    async def _execute(
        self, ctx: ReviewContext, prompt: Prompt, timeout_s: float
    ) -> _Executed | str:
        """Run the CLI on `prompt` under the sandbox; why it could not run, as a string."""
        refused = refused_args(self.config.extra_args, self.refused_flags)
        if refused:
            return f"refused extra_args: {' '.join(refused)}"
        env = self.environment(ctx.env)
        assert self.binary is not None
        executable = shutil.which(self.binary, path=env.get("PATH"))
        if executable is None:
            return "not installed"
        call = self.invocation(ctx, prompt, executable)
        sandbox = self._sandbox(call.argv, ctx, env)
        (ctx.run_dir / f"{self.name}.prompt").write_bytes(call.stdin)
        try:
            version, result = await asyncio.gather(
                self._version(executable, env, ctx),
                run_process(
                    sandbox.argv,
                    cwd=ctx.worktree,
                    env=env,
                    stdin=call.stdin,
                    timeout_s=timeout_s,
                    capture_dir=ctx.run_dir,
                    name=self.name,
                ),
            )
        except BinaryNotFoundError:
            return "not installed"
        exit_code = "timeout" if result.timed_out else str(result.returncode)
        (ctx.run_dir / f"{self.name}.exit").write_text(exit_code + "\n", encoding="utf-8")
        trace = self.interpret(result, ctx)
        await self.settle(trace, executable, env, ctx)
        return _Executed(version, result, trace, sandbox.description)

    def scratch(self, ctx: ReviewContext) -> Path:
        """The agent's private writable folder: its TMPDIR, and where it writes files for us."""
        path = ctx.run_dir / f"{self.name}.tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _sandbox(self, argv: list[str], ctx: ReviewContext, env: dict[str, str]) -> Confined:
        """`argv` confined to the worktree, the agent's scratch folder (its TMPDIR, set in
        `env`) and the CLI's state folders."""
        tmpdir = self.scratch(ctx)
        env.update(TMPDIR=str(tmpdir), TMP=str(tmpdir), TEMP=str(tmpdir))
        state = self.config.state_paths
        policy = agent_policy(
            ctx.worktree, tmpdir, env, DEFAULT_STATE_PATHS if state is None else state
        )
        return confine(argv, policy)

    def tool_calls_so_far(self, ctx: ReviewContext) -> int | None:
        """Tool calls in the output written so far, read with the agent's own parser (for
        progress heartbeats); None before there is output."""
        out = ctx.run_dir / f"{self.name}.stdout"
        try:
            with out.open("rb") as fh:
                data = fh.read(MAX_CAPTURE_BYTES)
        except OSError:
            return None
        partial = ProcessResult(None, data, b"", 0.0, False, False, False, out, out)
        return sum(self.interpret(partial, ctx).tool_calls.values())

    def _finish(
        self,
        started: datetime,
        version: str | None,
        result: ProcessResult,
        trace: Trace,
        ctx: ReviewContext,
        prompt: Prompt,
    ) -> AgentRun:
        kept = ctx.trace_dir / result.stdout_path.name if ctx.trace_dir else result.stdout_path
        notes = [trace_note(kept, ctx.repo_root), *trace.notes]
        if self.config.effort and not self.supports_effort:
            notes.append(
                f"effort {self.config.effort!r} ignored: `{self.binary}` has no such option"
            )
        if prompt.omitted:
            notes.append(f"diff cut from the prompt for {len(prompt.omitted)} file(s)")
        if result.stdout_truncated:
            notes.append("trace truncated in memory; the file holds all of it")
        raw = json.dumps(trace.structured, indent=2) if trace.structured else trace.answer
        status: RunStatus = "ok"
        reason: str | None = None
        review: AgentReview | None = None
        partial = False
        if result.timed_out:
            status, reason = "timeout", f"timeout after {self.config.timeout_s:g} s"
            if raw.strip():
                found = self._review(trace, str(ctx.worktree))
                if found.findings:
                    review, partial = found, True
                    notes.append(
                        f"partial: {len(found.findings)} finding(s) read from the trace "
                        "written before the timeout"
                    )
        elif trace.error is not None:
            status, reason = "failed", trace.error
        elif not raw.strip():
            status, reason = "failed", "empty answer"
        else:
            review = self._review(trace, str(ctx.worktree))
            if parse_failure(raw, review, trace.structured):
                status, reason = "failed", PARSE_FAILURE
                notes += review.parse_notes[:3]
                review = None
        return AgentRun(
            agent=self.name,
            display_name=self._display_name(trace.model),
            kind=self.kind,
            model=trace.model or self.config.model,
            effort=self._effort(),
            family=self.family,
            version=version,
            status=status,
            reason=reason,
            started_at=started,
            duration_s=round(result.duration_s, 3),
            usage=trace.usage,
            cost_usd=trace.cost_usd,
            cost_reported=trace.cost_reported,
            tool_calls=dict(trace.tool_calls),
            files_read=trace.files_read,
            raw_output=raw,
            review=review,
            partial=partial,
            notes=notes,
        )

    @staticmethod
    def _review(trace: Trace, root: str) -> AgentReview:
        if trace.structured is None:
            return parse_review(trace.answer, root=root)
        review, notes = review_from_json(trace.structured, root=root)
        if not notes:
            return review
        return review.model_copy(update={"parse_notes": [*review.parse_notes, *notes]})

    def _failed(self, started: datetime, reason: str) -> AgentRun:
        return AgentRun.failure(self, "failed", reason, started_at=started, effort=self._effort())

    async def _version(
        self, executable: str, env: dict[str, str], ctx: ReviewContext
    ) -> str | None:
        """`<binary> --version` (see `agents/versions.py`); None when it cannot be told."""
        try:
            probe = await probe_version(
                [executable],
                executable,
                ctx,
                env,
                f"{self.name}.version",
                lambda argv: self._sandbox(argv, ctx, dict(env)).argv,
            )
        except OSError:
            return None
        return probe.version
