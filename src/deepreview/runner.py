"""Run agents concurrently; every agent yields an AgentRun, whatever happens to it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from deepreview.agents.base import Agent
from deepreview.context import ReviewContext
from deepreview.schema import AgentRun

AgentState = Literal["queued", "running", "ok", "failed", "timeout", "skipped", "cached"]


@dataclass(frozen=True)
class ProgressEvent:
    """A change in one agent's state."""

    agent: str
    display_name: str
    state: AgentState
    elapsed_s: float
    findings: int | None = None
    reason: str | None = None
    timeout_s: float | None = None
    tool_calls: int | None = None
    heartbeat: bool = False
    """A periodic "still running" event, not a change of state."""


ProgressCallback = Callable[[ProgressEvent], None]

#: Extra seconds an agent gets past its own timeout before the runner gives up on it.
RUNNER_GRACE_S = 10.0
#: Seconds between "still running" events for each running agent.
HEARTBEAT_S = 30.0


async def run_agent(agent: Agent, ctx: ReviewContext, progress: ProgressCallback) -> AgentRun:
    """Run one agent under its timeout; exceptions become a failed AgentRun."""
    started = datetime.now(UTC)
    t0 = time.monotonic()
    name, display = agent.name, agent.display_name()
    progress(ProgressEvent(name, display, "running", 0.0, timeout_s=agent.config.timeout_s))
    try:
        run = await asyncio.wait_for(agent.run(ctx), agent.config.timeout_s + RUNNER_GRACE_S)
    except TimeoutError:
        reason = f"timeout after {agent.config.timeout_s:g} s"
        run = AgentRun.failure(
            agent, "timeout", reason, started_at=started, duration_s=time.monotonic() - t0
        )
    except Exception as exc:  # one agent must never sink the review
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        run = AgentRun.failure(
            agent, "failed", reason, started_at=started, duration_s=time.monotonic() - t0
        )
    findings = len(run.review.findings) if run.review else None
    state: AgentState = "cached" if run.cached else run.status
    progress(ProgressEvent(name, display, state, time.monotonic() - t0, findings, run.reason))
    return run


def live_tool_calls(agent: Agent, ctx: ReviewContext) -> int | None:
    """The tool calls a running agent has made so far, when it can tell (CLI agents)."""
    probe: Callable[[ReviewContext], int | None] | None = getattr(agent, "tool_calls_so_far", None)
    try:
        return probe(ctx) if probe is not None else None
    except Exception:  # a progress line must never fail the review
        return None


async def _heartbeat(
    running: dict[int, tuple[Agent, float]],
    ctx: ReviewContext,
    progress: ProgressCallback,
    every_s: float,
) -> None:
    """Every `every_s`, one "still running" event per running agent."""
    while True:
        await asyncio.sleep(every_s)
        now = time.monotonic()
        for agent, t0 in list(running.values()):
            progress(
                ProgressEvent(
                    agent.name,
                    agent.display_name(),
                    "running",
                    now - t0,
                    timeout_s=agent.config.timeout_s,
                    tool_calls=await asyncio.to_thread(live_tool_calls, agent, ctx),
                    heartbeat=True,
                )
            )


async def run_agents(
    agents: Sequence[Agent],
    ctx: ReviewContext,
    *,
    max_concurrency: int,
    progress: ProgressCallback,
    heartbeat_s: float = HEARTBEAT_S,
) -> list[AgentRun]:
    """Run all agents concurrently (bounded), results in the order of `agents`; while they
    run, a heartbeat event for each every `heartbeat_s`."""
    limit = ctx.runtime.concurrency(max_concurrency)
    semaphore = asyncio.Semaphore(limit)
    for agent in agents:
        progress(ProgressEvent(agent.name, agent.display_name(), "queued", 0.0))
    running: dict[int, tuple[Agent, float]] = {}

    pending = sum(a.kind == "ai" for a in agents)
    if not pending:
        ctx.ai_done.set()

    async def guarded(agent: Agent) -> AgentRun:
        nonlocal pending
        try:
            async with semaphore:
                running[id(agent)] = (agent, time.monotonic())
                try:
                    run = await run_agent(agent, ctx, progress)
                finally:
                    running.pop(id(agent), None)
                if agent.kind == "ai":
                    ctx.answers.put_nowait(run)
                return run
        finally:
            if agent.kind == "ai":
                pending -= 1
                if not pending:
                    ctx.ai_done.set()

    beat = asyncio.create_task(_heartbeat(running, ctx, progress, heartbeat_s))
    try:
        return list(await asyncio.gather(*(guarded(a) for a in agents)))
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
