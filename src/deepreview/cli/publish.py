"""`deepreview publish`: post a report to its pull request, or commit it to a reviews branch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from pydantic import ValidationError

from deepreview.cli.errors import fail
from deepreview.schema import Report
from deepreview.source.git import TargetError, find_repo_root, remote_url
from deepreview.store import Store, StoreError

PAGES_FORMATS = ("md", "html", "json")


def load_report(ref: str, repo: Path | None) -> Report:
    """A report from a JSON file, a Markdown file with its JSON twin, or a stored review id."""
    path = Path(ref)
    if path.suffix == ".md":
        path = path.with_suffix(".json")
    if path.is_file():
        try:
            return Report.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, ValueError) as exc:
            fail(f"{path}: not a deepreview JSON report ({exc})")
    if repo is not None:
        try:
            return Store.for_repo(repo).report(ref)
        except StoreError:
            pass
    fail(f"no report {ref} (give a report .json/.md file or a review id)")


@click.command("publish")
@click.argument("report_ref", metavar="REPORT")
@click.option(
    "--forge",
    "to_forge",
    is_flag=True,
    help="Post one review on the PR, on the forge of the report's repository.",
)
@click.option("--github", "to_forge", is_flag=True, hidden=True, help="Same as --forge.")
@click.option("--pages", "to_pages", is_flag=True, help="Commit to the reviews branch.")
@click.option("--branch", default="reviews", show_default=True, help="Branch for --pages.")
@click.option("--dry-run", is_flag=True, help="With --forge: print the payload, send nothing.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def publish_cmd(
    report_ref: str, to_forge: bool, to_pages: bool, branch: str, dry_run: bool, cwd: Path
) -> None:
    """Publish REPORT (a report file or review id) to its pull request and/or the reviews branch."""
    if not (to_forge or to_pages):
        fail("say where to publish: --forge and/or --pages")
    try:
        repo: Path | None = find_repo_root(cwd.resolve())
    except TargetError:
        repo = None
    report = load_report(report_ref, repo)
    if to_forge:
        _publish_to_forge(report, repo, dict(os.environ), dry_run=dry_run)
    if to_pages:
        _publish_to_pages(report, repo, branch)


def _publish_to_forge(
    report: Report, repo: Path | None, environ: dict[str, str], *, dry_run: bool
) -> None:
    """Plan the PR review on the report's forge, then carry it out (or print it)."""
    from deepreview.forge.base import ForgeError  # forge code only when publishing
    from deepreview.forge.registry import forge_for

    pr = report.target.pr
    if pr is None or not report.target.repo:
        fail(f"{report.id} is not a pull-request review (use review --pr)")
    where = report.target.repo_url or pr.url or (remote_url(repo) if repo else None)
    forge = forge_for(where, environ).open(environ)
    try:
        plan = forge.plan(report)
        if dry_run:
            click.echo(json.dumps(forge.describe(plan), indent=2, sort_keys=True))
            return
        plan = forge.publish(report, plan)
    except ForgeError as exc:
        fail(str(exc))
    finally:
        forge.close()
    click.echo(
        f"published {report.id} to {report.target.repo}#{pr.number}: "
        f"{len(plan.comments)} new comments, {len(plan.updates)} updated"
    )


def _publish_to_pages(report: Report, repo: Path | None, branch: str) -> None:
    """Commit the report and the index to `branch` with git plumbing."""
    from deepreview.publish.pages import PagesError, publish_pages
    from deepreview.render import render

    if repo is None:
        fail("--pages needs a git repository")
    rendered = {fmt: render(report, fmt) for fmt in PAGES_FORMATS}
    try:
        sha = publish_pages(repo, report, rendered, branch)
    except PagesError as exc:
        fail(str(exc))
    click.echo(f"committed {report.id} to {branch} ({sha[:12]})")
