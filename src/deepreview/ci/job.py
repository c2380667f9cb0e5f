"""`deepreview ci`: review the job's pull or merge request, publish it, leave summary and outputs.

Rounds need no database: the previous round comes from the state block of the last published
review, and declines replied on the forge since are added to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from deepreview.ci.environment import CIJob
from deepreview.ci.host import Host, Previous, Published
from deepreview.ci.outputs import append_outputs, append_summary, job_outputs, write_dotenv
from deepreview.pipeline import ReviewOptions, ReviewResult, review
from deepreview.prior import PriorRecord, PriorRound
from deepreview.redact import Redactor
from deepreview.render import render
from deepreview.runner import ProgressCallback
from deepreview.source.resolve import TargetSpec

#: The GitLab outputs file, beside the reports (for `artifacts:reports:dotenv`).
DOTENV_NAME = "deepreview.env"


@dataclass(frozen=True)
class CIResult:
    """A finished CI review."""

    result: ReviewResult
    previous: Previous
    published: Published | None
    outputs: dict[str, str]


def prior_round(previous: Previous) -> PriorRound | None:
    """The prior round the pipeline compares against, from the published state."""
    state = previous.state
    if state is None:
        return None
    return PriorRound(
        round=state.round,
        head_sha=state.head_sha,
        findings=[
            PriorRecord(f.id, f.fingerprint, f.severity, f.title, f.location)
            for f in state.findings
        ],
        declined=previous.declined,
    )


def open_host(job: CIJob, environ: Mapping[str, str]) -> Host:
    """The forge adapter of `job`."""
    if job.forge == "gitlab":
        from deepreview.ci.gitlab import GitLabHost

        return GitLabHost(job, dict(environ))
    from deepreview.ci.github import GitHubHost

    return GitHubHost(job)


def run_ci(
    job: CIJob,
    options: ReviewOptions,
    progress: ProgressCallback,
    *,
    publish: bool,
    dry_run: bool,
) -> CIResult:
    """Review `job`'s request with `options` (its target is set here), then publish and write
    the job summary and outputs."""
    environ = options.environ
    redactor = Redactor.from_environment(environ)
    host = open_host(job, environ)
    try:
        previous = host.previous()
        options = replace(
            options, target=TargetSpec(pr=job.reference), prior_round=prior_round(previous)
        )
        result = review(options, progress)
        published = host.publish(result.report, dry_run=dry_run) if publish else None
    finally:
        host.close()
    outputs = job_outputs(result.report, result.paths)
    if published is not None and not dry_run and job.request_url:
        outputs["review_url"] = job.request_url
    _leave_outputs(job, result, outputs, redactor)
    return CIResult(result, previous, published, outputs)


def _leave_outputs(
    job: CIJob,
    result: ReviewResult,
    outputs: Mapping[str, str],
    redactor: Redactor,
) -> None:
    where = str(result.paths.get("md") or next(iter(result.paths.values()), "the job's reports"))
    if job.summary_path is not None:
        append_summary(job.summary_path, render(result.report, "md"), where, redactor)
    if job.output_path is not None:
        append_outputs(job.output_path, outputs, redactor)
    if job.forge == "gitlab":
        folder = next(iter(result.paths.values())).parent
        write_dotenv(folder / DOTENV_NAME, outputs, redactor)
