"""`deepreview ci`: the whole review job of a CI pipeline (GitHub Actions, GitLab CI)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from deepreview.ci.environment import CIError, detect
from deepreview.cli.errors import FAIL_LEVELS, fail, parse_formats
from deepreview.cli.interrupt import EXIT_INTERRUPTED, EXIT_TERMINATED, sigterm_as_interrupt
from deepreview.cli.progress import Progress
from deepreview.config import ConfigError
from deepreview.forge.base import ForgeError
from deepreview.output import OutputError
from deepreview.pipeline import ReviewOptions
from deepreview.source.git import TargetError
from deepreview.store import StoreError


@click.command("ci")
@click.option("--pr", metavar="N", help="Review this request instead of the event's.")
@click.option("--agent", "agents", multiple=True, metavar="NAME", help="Run only these agents.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), help="Output folder.")
@click.option(
    "--format", "formats", default="md,json", show_default=True, help="Comma-separated formats."
)
@click.option(
    "--fail-on",
    type=click.Choice(["important", "critical"]),
    help="Exit 1 when the verdict reaches this level.",
)
@click.option("--no-cache", is_flag=True, help="Run every agent afresh.")
@click.option("--publish/--no-publish", default=True, show_default=True, help="Post the review.")
@click.option("--dry-run", is_flag=True, help="Print what would be posted; post nothing.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def ci_cmd(
    pr: str | None,
    agents: tuple[str, ...],
    config_path: Path | None,
    output_dir: Path | None,
    formats: str,
    fail_on: str | None,
    no_cache: bool,
    publish: bool,
    dry_run: bool,
    cwd: Path,
) -> None:
    """Review the pull or merge request of this CI job and publish one review.

    Detects GitHub Actions or GitLab CI, reads the previous round from the last published
    review, writes the report to the job summary and sets the job's outputs.
    """
    from deepreview.ci.job import run_ci  # forge clients only when a job runs
    from deepreview.cli.summary import print_summary

    environ = dict(os.environ)
    try:
        job = detect(environ, pr)
    except CIError as exc:
        fail(str(exc))
    if job.skip:
        click.echo(f"deepreview: nothing to review: {job.skip}", err=True)
        return
    options = ReviewOptions(
        cwd=cwd.resolve(),
        agents=list(agents) or None,
        config_path=config_path,
        output_dir=output_dir,
        formats=parse_formats(formats),
        environ=environ,
        use_cache=not no_cache,
    )
    err = Console(stderr=True)
    try:
        with sigterm_as_interrupt() as terminated, Progress(err) as progress:
            done = run_ci(job, options, progress, publish=publish, dry_run=dry_run)
    except (CIError, TargetError, ForgeError, ConfigError, OutputError, StoreError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("deepreview: interrupted", err=True)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    report, paths = done.result.report, done.result.paths
    print_summary(report, Console(), paths.get("md") or next(iter(paths.values())))
    if done.published is not None:
        if dry_run:
            click.echo(json.dumps(done.published.plan, indent=2, sort_keys=True))
        else:
            p = done.published
            click.echo(
                f"published round {report.round} to {job.repo} #{job.number}: {p.created} new "
                f"comments, {p.updated} updated ({p.resolved} resolved)"
            )
    if fail_on and report.verdict.decision in FAIL_LEVELS[fail_on]:
        sys.exit(1)
