"""The built-in `verify` reviewer: runs the change's own tests, sandboxed, and measures them.

It runs the suite at the head in a scratch copy (and the failing tests at the merge base),
the changed lines' coverage and mutation probes; see `deepreview.verify`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from deepreview.agents.analyzer import coverage_of, number_findings
from deepreview.agents.base import AgentBase, AgentKind
from deepreview.context import ReviewContext
from deepreview.schema import AgentReview, AgentRun, RunStatus
from deepreview.verify.detect import detect_suite_command
from deepreview.verify.environment import project_environment
from deepreview.verify.review import VerifyOutcome, VerifyRequest, verify_change

#: The verification's wall-clock budget when none is configured: a small change's review
#: without AI agents stays under a minute; mutation probes go on while AI agents still run.
DEFAULT_BUDGET_S = 50.0
PR_OFF = "running a pull request's code is off (pass --verify, or set verify.pull_requests)"


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
    out += ["", *(f"Note: {n}" for n in v.notes)]
    return "\n".join(out).rstrip() + "\n"


class VerifyAgent(AgentBase):
    """Executes the change's tests; never for a pull request unless asked."""

    name: ClassVar[str] = "verify"
    kind: ClassVar[AgentKind] = "builtin"
    binary: ClassVar[str | None] = None
    default_enabled: ClassVar[bool] = True

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
        """Verify the change in scratch copies under the sandbox."""
        started, t0 = datetime.now(UTC), time.monotonic()
        settings = ctx.verify
        if ctx.target.kind == "pr" and not settings.pull_requests:
            return self._run(started, "skipped", PR_OFF, t0)
        command = detect_suite_command(ctx.worktree, settings.command)
        if command is None:
            return self._run(started, "skipped", "no test command configured or detected", t0)
        try:
            project = project_environment(ctx.repo_root, ctx.env, settings.environment)
        except ValueError as exc:
            return self._run(started, "failed", str(exc), t0)
        work = ctx.run_dir / "verify"
        work.mkdir(parents=True, exist_ok=True)
        outcome = await verify_change(
            VerifyRequest(
                repo=ctx.repo_root,
                head_tree=ctx.worktree,
                diff=ctx.diff,
                base_sha=ctx.base_sha,
                work=work,
                environ=ctx.env,
                command=command,
                project=project,
                settings=settings,
                budget_s=settings.budget_s or DEFAULT_BUDGET_S,
                others_done=None if settings.budget_s else ctx.ai_done,
                ceiling_s=self.config.timeout_s * 0.9,
            )
        )
        findings = number_findings(outcome.findings)
        outcome.findings = findings
        review = AgentReview(
            summary=outcome.testing,
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
