"""The built-in `verify` reviewer: runs the change's own tests, sandboxed, and measures them.

It runs each suite (the root's, and each changed Go module's below the root) at the head in a
scratch copy (and the failing tests at the merge base), the changed lines' coverage and mutation
probes; side by side, the repros the AI agents attach
to their claims, as each agent finishes (`deepreview.verify.repro`). Its result depends on the
other agents' answers, so it is never taken from the cache.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from deepreview.agents.analyzer import coverage_of, number_findings
from deepreview.agents.base import AgentBase, AgentKind
from deepreview.config import VerifyConfig
from deepreview.context import ReviewContext
from deepreview.redact import Redactor
from deepreview.schema import AgentReview, AgentRun, Reproduction, RunStatus, Verification
from deepreview.verify.detect import detect_suites
from deepreview.verify.environment import (
    ProjectEnvironment,
    project_environment,
    scrubbed_environment,
)
from deepreview.verify.execute import Confinement
from deepreview.verify.repro import ReproRunner
from deepreview.verify.request import VerifyOutcome, VerifyRequest
from deepreview.verify.review import verify_change

#: The verification's wall-clock budget when none is configured: a small change's review
#: without AI agents stays under a minute; mutation probes go on while AI agents still run.
DEFAULT_BUDGET_S = 50.0
PR_OFF = "running a pull request's code is off (pass --verify, or set verify.pull_requests)"
NO_COMMAND = "no test command configured or detected"


def render_listing(outcome: VerifyOutcome) -> str:
    """What verify ran and found, as the report's appendix shows it."""
    v = outcome.verification
    out = ["# verify", "", outcome.testing, "", f"Environment: {v.environment}.", ""]
    out += [f"Isolation: {v.isolation}.", "", "## Executed", ""]
    for e in v.executed:
        code = "timed out" if e.timed_out else f"exit {e.exit_code}"
        out.append(f"- `{e.command}` ({e.label}, {e.where}): {code}, {e.duration_s:g} s")
    out += ["", "## Mutations", ""]
    out += [f"- {m.location.label()}: {m.description} — {m.outcome}" for m in v.mutations]
    if not v.mutations:
        out.append("None run.")
    out += ["", "## Findings", ""]
    out += [f"- **{f.id}** ({f.severity}) {f.title}" for f in outcome.findings] or ["None."]
    out += ["", "## Reproductions", ""]
    out += [f"- {r.reviewer} {r.finding_id}: {r.label} ({r.reason})" for r in v.reproductions] or [
        "None run."
    ]
    out += ["", *(f"Note: {n}" for n in v.notes)]
    return "\n".join(out).rstrip() + "\n"


def serial_settings(ctx: ReviewContext) -> VerifyConfig:
    """The review's verify settings; with the serial flag (`DEEPREVIEW_SERIAL=1`), one test run
    and one repro at a time, as for the agents."""
    v, rt = ctx.verify, ctx.runtime
    return v.model_copy(
        update={
            "test_concurrency": rt.concurrency(v.test_concurrency),
            "repro_concurrency": rt.concurrency(v.repro_concurrency),
        }
    )


class VerifyAgent(AgentBase):
    """Executes the change's tests; never for a pull request unless asked."""

    name: ClassVar[str] = "verify"
    kind: ClassVar[AgentKind] = "builtin"
    binary: ClassVar[str | None] = None
    default_enabled: ClassVar[bool] = True
    cacheable: ClassVar[bool] = False

    def _run(self, started: datetime, status: RunStatus, reason: str, t0: float) -> AgentRun:
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            kind=self.kind,
            status=status,
            reason=reason,
            started_at=started,
            duration_s=round(time.monotonic() - t0, 3),
        )

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Verify the change and reproduce the AI agents' claims, in scratch copies under the
        sandbox."""
        started, t0 = datetime.now(UTC), time.monotonic()
        settings = serial_settings(ctx)
        if ctx.target.kind == "pr" and not settings.pull_requests:
            return self._run(started, "skipped", PR_OFF, t0)
        suites = detect_suites(ctx.worktree, ctx.diff.paths, settings.command)
        if not suites and not settings.repros:
            return self._run(started, "skipped", NO_COMMAND, t0)
        try:
            project = project_environment(ctx.repo_root, ctx.env, settings.environment)
        except ValueError as exc:
            return self._run(started, "failed", str(exc), t0)
        work = ctx.run_dir / "verify"
        work.mkdir(parents=True, exist_ok=True)
        suite = None
        if suites:
            suite = verify_change(
                VerifyRequest(
                    repo=ctx.repo_root,
                    head_tree=ctx.worktree,
                    diff=ctx.diff,
                    base_sha=ctx.base_sha,
                    work=work,
                    environ=ctx.env,
                    suites=suites,
                    project=project,
                    settings=settings,
                    budget_s=settings.budget_s or DEFAULT_BUDGET_S,
                    others_done=None if settings.budget_s else ctx.ai_done,
                    ceiling_s=self.config.timeout_s * 0.9,
                )
            )
        repros = self._repros(ctx, project, work / "repros", t0) if settings.repros else None
        outcome, reproductions, repro_notes = await _together(suite, repros)
        if outcome is None and not reproductions:
            return self._run(started, "skipped", NO_COMMAND, t0)
        if outcome is None:
            outcome = VerifyOutcome(
                Verification(
                    command="",
                    environment=project.description,
                    isolation=reproductions[0].isolation,
                    notes=[NO_COMMAND[:1].upper() + NO_COMMAND[1:] + "."],
                ),
                testing="",
            )
        v = outcome.verification
        outcome.verification = v.model_copy(
            update={"reproductions": reproductions, "notes": [*v.notes, *repro_notes]}
        )
        findings = number_findings(outcome.findings)
        outcome.findings = findings
        review = AgentReview(
            summary=outcome.testing or reproduced_summary(reproductions),
            findings=findings,
            testing=outcome.testing,
            coverage=coverage_of(ctx.diff.paths, findings),
        )
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            kind=self.kind,
            status="ok",
            started_at=started,
            duration_s=round(time.monotonic() - t0, 3),
            raw_output=render_listing(outcome),
            review=review,
            verification=outcome.verification,
        )

    def _repros(
        self, ctx: ReviewContext, project: ProjectEnvironment, work: Path, t0: float
    ) -> ReproRunner:
        home, tmp = work / "home", work / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir(parents=True)
        settings = serial_settings(ctx)
        return ReproRunner(
            repo=ctx.repo_root,
            head_tree=ctx.worktree,
            base_sha=ctx.base_sha,
            work=work,
            base_export=ctx.run_dir / "repro-base",
            env=scrubbed_environment(ctx.env, project, home, tmp, settings.env),
            confinement=Confinement(
                writable=(work,), memory_bytes=settings.memory_mb * 1024 * 1024
            ),
            settings=settings,
            redact=Redactor.from_environment(ctx.env).text,
            stop_at=t0 + self.config.timeout_s * 0.9,
            answers=ctx.answers,
            done=ctx.ai_done,
        )


async def _together(
    suite: Coroutine[Any, Any, VerifyOutcome] | None, repros: ReproRunner | None
) -> tuple[VerifyOutcome | None, list[Reproduction], list[str]]:
    """The suite's verification and the repros, run side by side."""

    async def none() -> None:
        return None

    async def no_repros() -> list[Reproduction]:
        return []

    outcome, reproductions = await asyncio.gather(
        suite if suite is not None else none(), repros.run_all() if repros else no_repros()
    )
    return outcome, reproductions, repros.notes if repros else []


def reproduced_summary(reproductions: Sequence[Reproduction]) -> str:
    """`Ran 3 repros of the AI agents' claims: 2 reproduced, 1 not reproduced.`"""
    counts = Counter(r.label for r in reproductions)
    said = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
    return f"Ran {len(reproductions)} repro(s) of the AI agents' claims: {said}."
