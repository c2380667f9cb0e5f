"""Running the cross-examinations: in parallel (bounded), within one wall-clock budget, cached.

Each examination runs in its own folder under the run folder, with the examiner's timeout cut
to what is left of the budget; at the budget every examination still running is cancelled
(its process group killed, within the process runner's few seconds of grace) and reported as
timed out, so the whole cross-examination takes at most its budget. A failed, timed-out or
malformed examination changes nothing and says why. A usable answer is cached for the same
examiner, model, effort, prompt version, head, diff and question (which holds the claim, its
excerpt and the head's lines), and the report marks it cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from deepreview.agents.answer import Answer, Answerer
from deepreview.agents.base import Agent
from deepreview.config import CrossExamConfig
from deepreview.context import ReviewContext
from deepreview.crossexam.question import CROSSEXAM_VERSION, UNUSABLE, question, read_answer
from deepreview.crossexam.select import Assignment, assign
from deepreview.prompt import Prompt
from deepreview.redact import Redactor
from deepreview.runner import ProgressCallback, ProgressEvent
from deepreview.schema import AgentRun, ConsolidatedFinding, Examination
from deepreview.source.tree import DirectoryTree
from deepreview.store import Store, cache_key
from deepreview.traces import EXAMINATIONS_DIR
from deepreview.version import __version__


def _unwrapped(agent: Agent) -> Agent:
    """The agent itself when it is wrapped (by the result cache)."""
    inner = getattr(agent, "inner", None)
    return inner if inner is not None else agent


def examination_key(agent: Agent, ctx: ReviewContext, prompt: Prompt) -> str:
    """The cache key of one examination."""
    return cache_key(
        agent.name,
        agent.config.model,
        agent.config.effort,
        f"{CROSSEXAM_VERSION}/{__version__}",
        ctx.target.head_sha or ctx.base_sha or "",
        ctx.diff_source.sha256,
        extra=[hashlib.sha256(prompt.user.encode("utf-8", "surrogatepass")).hexdigest()],
    )


def _record(a: Assignment, **fields: object) -> Examination:
    f = a.finding
    return Examination.model_validate(
        {
            "claim": f.title,
            "severity": f.severity,
            "location": f.locations[0] if f.locations else None,
            "sources": f.sources,
            "examiner": a.examiner.display_name,
            "examiner_agent": a.examiner.agent,
            "model": a.examiner.model,
            **fields,
        }
    )


def _labels(a: Assignment) -> tuple[str, str]:
    """The progress row of an examination: its key and what it shows."""
    return (
        f"{a.examiner.agent}:{a.finding.id}",
        f"{a.examiner.display_name} examines {a.finding.id}",
    )


@dataclass
class _Examiner:
    """Runs the examinations of one review."""

    ctx: ReviewContext
    agents: Mapping[str, Agent]
    store: Store | None
    redactor: Redactor
    progress: ProgressCallback
    deadline: float

    def __post_init__(self) -> None:
        self.tree = DirectoryTree(self.ctx.worktree)

    async def run(self, n: int, a: Assignment, semaphore: asyncio.Semaphore) -> Examination:
        agent = self.agents.get(a.examiner.agent)
        if agent is None or not isinstance(agent, Answerer):
            return _record(a, status="skipped", reason="this agent cannot answer questions")
        prompt = question(a.finding, self.tree)
        key = examination_key(agent, self.ctx, prompt) if self.store is not None else None
        hit = self.store.cached_examination(key) if self.store is not None and key else None
        if hit is not None:
            kept = hit.model_dump(include={"model", "verdict", "reason", "evidence", "notes"})
            return _record(a, **kept, cached=True, duration_s=hit.duration_s)
        label, display = _labels(a)
        async with semaphore:
            left = self.deadline - time.monotonic()
            if left < 1:
                return _record(a, status="timeout", reason="not started within the budget")
            timeout = min(agent.config.timeout_s, left)
            self.progress(ProgressEvent(label, display, "running", 0.0, timeout_s=timeout))
            run_dir = self.ctx.run_dir / EXAMINATIONS_DIR / f"{n + 1}-{agent.name}"
            ctx = replace(self.ctx, run_dir=run_dir, trace_dir=None)
            answer = await agent.answer(ctx, prompt, timeout)
        exam = self._examination(a, answer)
        reason = exam.reason if exam.status != "ok" else None
        self.progress(ProgressEvent(label, display, exam.status, answer.duration_s, reason=reason))
        usable = not any(note.startswith(UNUSABLE) for note in exam.notes)
        if key is not None and self.store is not None and exam.status == "ok" and usable:
            self.store.put_examination(key, self.redactor.model(exam))
        return exam

    def _examination(self, a: Assignment, answer: Answer) -> Examination:
        common = {
            "model": answer.model or a.examiner.model,
            "duration_s": answer.duration_s,
            "cost_usd": answer.cost_usd,
        }
        if answer.status != "ok":
            return _record(a, status=answer.status, reason=answer.reason or "failed", **common)
        reading = read_answer(answer.structured, answer.text, self.tree, str(self.ctx.worktree))
        return _record(
            a,
            verdict=reading.verdict,
            reason=self.redactor.text(reading.reason),
            evidence=reading.evidence,
            notes=reading.notes,
            **common,
        )


async def cross_examine(
    findings: Sequence[ConsolidatedFinding],
    runs: Sequence[AgentRun],
    agents: Sequence[Agent],
    ctx: ReviewContext,
    config: CrossExamConfig,
    *,
    families: Mapping[str, str],
    store: Store | None,
    redactor: Redactor,
    progress: ProgressCallback,
) -> list[Examination]:
    """Examine the lone-vendor findings (`crossexam.select`) within `config.budget_s`."""
    if not config.enabled:
        return []
    assignments = assign(findings, runs, families, config.severities)
    if not assignments:
        return []
    by_name = {a.name: _unwrapped(a) for a in agents}
    deadline = time.monotonic() + config.budget_s
    examiner = _Examiner(ctx, by_name, store, redactor, progress, deadline)
    semaphore = asyncio.Semaphore(ctx.runtime.concurrency(config.max_concurrency))
    tasks = [asyncio.create_task(examiner.run(n, a, semaphore)) for n, a in enumerate(assignments)]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)  # their process groups are killed
    out: list[Examination] = []
    for task, a in zip(tasks, assignments, strict=True):
        error = None if task.cancelled() else task.exception()
        if task in pending:
            reason = f"stopped at the {config.budget_s:g} s budget"
            label, display = _labels(a)
            progress(ProgressEvent(label, display, "timeout", config.budget_s, reason=reason))
            out.append(_record(a, status="timeout", reason=reason))
        elif error is not None:
            out.append(_record(a, status="failed", reason=f"{type(error).__name__}: {error}"))
        else:
            out.append(task.result())
    return out
