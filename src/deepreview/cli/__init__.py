"""The `deepreview` command line: thin click commands over the library."""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console

from deepreview.agents.select import agent_statuses
from deepreview.cli.ci import ci_cmd
from deepreview.cli.consolidate import consolidate_cmd
from deepreview.cli.errors import exit_without_ai, fail, internal_error, parse_formats
from deepreview.cli.init import init_cmd
from deepreview.cli.interrupt import EXIT_INTERRUPTED, EXIT_TERMINATED, sigterm_as_interrupt
from deepreview.cli.options import review_options
from deepreview.cli.progress import Progress, console, log_style
from deepreview.cli.publish import publish_cmd
from deepreview.cli.resolve import resolve_cmd
from deepreview.cli.results import report_dir, show_result, stdout_format
from deepreview.cli.show import show_cmd
from deepreview.cli.staged import staged_patch
from deepreview.cli.summary import fails
from deepreview.config import ConfigError, load_config
from deepreview.escape import ERRORS
from deepreview.output import OutputError
from deepreview.pipeline import RequestError, ReviewOptions, review
from deepreview.schema import AgentReview, Report
from deepreview.source.git import TargetError, find_repo_root
from deepreview.source.resolve import TargetSpec
from deepreview.store import Store, StoreError
from deepreview.version import __version__


class _Commands(click.Group):
    """The command group: an unexpected exception is an internal error (exit 70), not a
    traceback."""

    def invoke(self, ctx: click.Context) -> object:
        for stream in (sys.stdout, sys.stderr):  # undecodable bytes in names print as \xNN
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(errors=ERRORS)
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            internal_error(exc)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deepreview")
def main() -> None:
    """Multi-agent code review: run several reviewers, verify their claims, write one report."""


@main.command("review")
@click.option("--base", metavar="REF", help="Review against REF (default: upstream or main).")
@click.option("--head", metavar="REF", help="Review REF instead of HEAD.")
@click.option("--uncommitted", is_flag=True, help="Review index + working tree against HEAD.")
@click.option("--patch", metavar="FILE", help="Review a patch file ('-' for stdin).")
@click.option("--staged", is_flag=True, help="Review the staged change (index against HEAD).")
@click.option("--pr", metavar="N|URL", help="Review a pull or merge request (N, !N or URL).")
@click.option(
    "--allow-unapplied", is_flag=True, help="Review the unpatched tree if the patch does not apply."
)
@click.option("--series", metavar="NAME", help="Continue the named series of rounds.")
@review_options("Run the change's tests in a sandbox (default: on, off for --pr).")
def review_cmd(
    base: str | None,
    head: str | None,
    uncommitted: bool,
    patch: str | None,
    staged: bool,
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
    quiet: bool,
    allow_missing: bool,
    allow_unapplied: bool,
    require_ai: bool,
    series: str | None,
    cwd: Path,
) -> None:
    """Review a branch against its base, uncommitted changes, a patch, or a pull request.

    `--output -` prints the report (one `--format`) on stdout instead of the summary.
    """
    fmts = parse_formats(formats)
    printed = stdout_format(output_dir, fmts)
    output_dir = report_dir(output_dir)
    err = console(stderr=True, quiet=quiet)
    if staged and (patch or uncommitted or pr or head or base):
        fail("--staged cannot be combined with --patch, --uncommitted, --pr, --head or --base")
    try:
        options = ReviewOptions(
            cwd=cwd.resolve(),
            target=TargetSpec(base=base, head=head, uncommitted=uncommitted, patch=patch, pr=pr),
            agents=list(agents) or None,
            config_path=config_path,
            output_dir=output_dir,
            formats=fmts,
            environ=dict(os.environ),
            use_cache=not no_cache,
            include=include,
            exclude=exclude,
            verify=verify,
            allow_missing=allow_missing,
            allow_unapplied=allow_unapplied,
            series=series,
        )
        progress = Progress(err, log_style(os.environ))
        with sigterm_as_interrupt() as terminated, progress:
            if staged:
                with staged_patch(options.cwd) as path:
                    target = TargetSpec(patch=str(path))
                    result = review(replace(options, target=target), progress)
            else:
                result = review(options, progress)
    except (TargetError, ConfigError, OutputError, StoreError, RequestError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        click.echo("deepreview: interrupted", err=True)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    show_result(result, printed, quiet=quiet, fail_on=fail_on)
    if fails(result.report, fail_on):
        sys.exit(1)
    exit_without_ai(result.report, require_ai)


@main.command("agents")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def agents_cmd(config_path: Path | None, cwd: Path) -> None:
    """List every known agent: available here or not, and why."""
    try:
        repo: Path | None = find_repo_root(cwd.resolve())
    except TargetError:
        repo = None
    try:
        config = load_config(repo, config_path)
    except ConfigError as exc:
        fail(str(exc))
    console = Console()
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("agent", "kind", "reviewer", "status", "enabled"):
        table.add_column(col)
    for st in agent_statuses(config, dict(os.environ)):
        status = "available" if st.availability.available else st.availability.reason
        table.add_row(st.name, st.kind, st.display_name, status, "yes" if st.enabled else "no")
    console.print(table)


@main.command("schema")
@click.argument("which", type=click.Choice(["review", "report", "all"]), default="all")
def schema_cmd(which: str) -> None:
    """Print the JSON Schema of the agent review and/or of the report."""
    schemas = {
        "review": AgentReview.model_json_schema(),
        "report": Report.model_json_schema(),
    }
    out = schemas if which == "all" else schemas[which]
    click.echo(json.dumps(out, indent=2, sort_keys=True))


def _store(cwd: Path) -> Store:
    try:
        return Store.for_repo(find_repo_root(cwd.resolve()))
    except (TargetError, StoreError) as exc:
        fail(str(exc))


@main.command("history")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def history_cmd(cwd: Path) -> None:
    """List the reviews of this repository, newest first."""
    store = _store(cwd)
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("review", "PR", "branch", "round", "verdict", "report"):
        table.add_column(col)
    for r in store.reviews():
        table.add_row(
            r.id,
            f"#{r.pr_number}" if r.pr_number else "",
            r.branch or "",
            str(r.round),
            r.verdict,
            r.report_path or "",
        )
    Console(width=200).print(table)


@main.command("decline")
@click.argument("finding")
@click.option("--reason", required=True, help="Why the finding is declined.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def decline_cmd(finding: str, reason: str, cwd: Path) -> None:
    """Decline FINDING (`I2` of the latest review, `<review id>:I2`, or a fingerprint).

    Declined findings are dropped from later rounds and listed as declined.
    """
    store = _store(cwd)
    try:
        found = store.decline(finding, reason)
    except StoreError as exc:
        fail(str(exc))
    click.echo(f"declined {found.finding_id} of {found.review_id}: {found.title}")


main.add_command(publish_cmd)
main.add_command(consolidate_cmd)
main.add_command(resolve_cmd)
main.add_command(ci_cmd)
main.add_command(show_cmd)
main.add_command(init_cmd)
