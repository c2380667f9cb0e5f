"""`deepreview ci`: the whole review job of a CI pipeline (GitHub Actions, GitLab CI)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from deepreview.ci.environment import CIError, detect
from deepreview.cli.errors import exit_without_ai, fail, parse_formats
from deepreview.cli.interrupt import EXIT_INTERRUPTED, EXIT_TERMINATED, sigterm_as_interrupt
from deepreview.cli.options import review_options
from deepreview.cli.progress import Progress, console, log_style
from deepreview.cli.results import echo, report_dir, show_result, stdout_format
from deepreview.cli.summary import fails
from deepreview.config import Config, ConfigError, load_config
from deepreview.forge.base import ForgeError
from deepreview.output import OutputError
from deepreview.pipeline import RequestError, ReviewOptions
from deepreview.source.git import TargetError, find_repo_root
from deepreview.store import StoreError


@click.command("ci")
@click.option("--pr", metavar="N", help="Review this request instead of the event's.")
@click.option(
    "--model", "models", multiple=True, metavar="AGENT=MODEL", help="Set an agent's model."
)
@click.option("--publish/--no-publish", default=True, show_default=True, help="Post the review.")
@click.option("--dry-run", is_flag=True, help="Print what would be posted; post nothing.")
@review_options("Run the change's tests in a sandbox (default: off, as for every pull request).")
def ci_cmd(
    pr: str | None,
    agents: tuple[str, ...],
    config_path: Path | None,
    output_dir: Path | None,
    formats: str,
    fail_on: str | None,
    no_cache: bool,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    verify: bool | None,
    models: tuple[str, ...],
    allow_missing: bool,
    require_ai: bool,
    publish: bool,
    dry_run: bool,
    quiet: bool,
    cwd: Path,
) -> None:
    """Review the pull or merge request of this CI job and publish one review.

    Detects GitHub Actions or GitLab CI, reads the previous round from the last published
    review, writes the report to the job summary and sets the job's outputs.
    """
    from deepreview.ci.job import run_ci  # forge clients only when a job runs

    environ = dict(os.environ)
    try:
        job = detect(environ, pr)
    except CIError as exc:
        fail(str(exc))
    if job.skip:
        click.echo(f"deepreview: nothing to review: {job.skip}", err=True)
        return
    fmts = parse_formats(formats)
    printed = stdout_format(output_dir, fmts)
    root = cwd.resolve()
    options = ReviewOptions(
        cwd=root,
        agents=list(agents) or None,
        config=with_models(_config(root, config_path), models) if models else None,
        config_path=config_path,
        output_dir=report_dir(output_dir),
        formats=fmts,
        environ=environ,
        use_cache=not no_cache,
        include=include,
        exclude=exclude,
        verify=verify,
        allow_missing=allow_missing,
    )
    progress = Progress(console(stderr=True, quiet=quiet), log_style(environ))
    try:
        with sigterm_as_interrupt() as terminated, progress:
            done = run_ci(job, options, progress, publish=publish, dry_run=dry_run)
    except (
        CIError,
        TargetError,
        ForgeError,
        ConfigError,
        OutputError,
        StoreError,
        RequestError,
    ) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("deepreview: interrupted", err=True)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    report = done.result.report
    show_result(done.result, printed, quiet=quiet, fail_on=fail_on)
    if done.published is not None and printed is None:
        if dry_run:
            echo(json.dumps(done.published.plan, indent=2, sort_keys=True), quiet=quiet)
        else:
            p = done.published
            echo(
                f"published round {report.round} to {job.repo} #{job.number}: {p.created} new "
                f"comments, {p.updated} updated ({p.resolved} resolved)",
                quiet=quiet,
            )
    if fails(report, fail_on):
        sys.exit(1)
    exit_without_ai(report, require_ai)


def _config(cwd: Path, path: Path | None) -> Config:
    try:
        repo: Path | None = find_repo_root(cwd)
    except TargetError:
        repo = None
    try:
        return load_config(repo, path)
    except ConfigError as exc:
        fail(str(exc))


def with_models(config: Config, pairs: tuple[str, ...]) -> Config:
    """`config` with each `AGENT=MODEL` pair's model set."""
    agents = dict(config.agent)
    for pair in pairs:
        name, sep, model = pair.partition("=")
        if not sep or not name.strip() or not model.strip():
            fail(f"--model takes AGENT=MODEL, not {pair!r}")
        current = config.agent_config(name.strip())
        agents[name.strip()] = current.model_copy(update={"model": model.strip()})
    return config.model_copy(update={"agent": agents})
