"""Run agents concurrently; every agent yields an AgentRun, whatever happens to it."""

from __future__ import annotations

import asyncio
import os
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


ProgressCallback = Callable[[ProgressEvent], None]

#: Set to 1 to run agents one after another (deterministic logs in tests).
SERIAL_ENV = "DEEPREVIEW_SERIAL"
#: Extra seconds an agent gets past its own timeout before the runner gives up on it.
RUNNER_GRACE_S = 10.0


def _failed_run(
    agent: Agent,
    status: Literal["failed", "timeout"],
    reason: str,
    started: datetime,
    elapsed: float,
) -> AgentRun:
    return AgentRun(
        agent=agent.name,
        display_name=agent.display_name(),
        kind=agent.kind,
        model=agent.config.model,
        effort=agent.config.effort,
        status=status,
        reason=reason,
        started_at=started,
        duration_s=round(elapsed, 3),
    )


async def run_agent(agent: Agent, ctx: ReviewContext, progress: ProgressCallback) -> AgentRun:
    """Run one agent under its timeout; exceptions become a failed AgentRun."""
    started = datetime.now(UTC)
    t0 = time.monotonic()
    name, display = agent.name, agent.display_name()
    progress(ProgressEvent(name, display, "running", 0.0))
    try:
        run = await asyncio.wait_for(agent.run(ctx), agent.config.timeout_s + RUNNER_GRACE_S)
    except TimeoutError:
        run = _failed_run(
            agent,
            "timeout",
            f"timeout after {agent.config.timeout_s:g} s",
            started,
            time.monotonic() - t0,
        )
    except Exception as exc:  # one agent must never sink the review
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        run = _failed_run(agent, "failed", reason, started, time.monotonic() - t0)
    findings = len(run.review.findings) if run.review else None
    state: AgentState = "cached" if run.cached else run.status
    progress(ProgressEvent(name, display, state, time.monotonic() - t0, findings, run.reason))
    return run


async def run_agents(
    agents: Sequence[Agent],
    ctx: ReviewContext,
    *,
    max_concurrency: int,
    progress: ProgressCallback,
) -> list[AgentRun]:
    """Run all agents concurrently (bounded), results in the order of `agents`."""
    limit = 1 if os.environ.get(SERIAL_ENV) == "1" else max(1, max_concurrency)
    semaphore = asyncio.Semaphore(limit)
    for agent in agents:
        progress(ProgressEvent(agent.name, agent.display_name(), "queued", 0.0))

    async def guarded(agent: Agent) -> AgentRun:
        async with semaphore:
            return await run_agent(agent, ctx, progress)

    return list(await asyncio.gather(*(guarded(a) for a in agents)))
