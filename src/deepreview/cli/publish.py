"""`deepreview publish`: post a report to its pull request, or commit it to a reviews branch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from pydantic import ValidationError

from deepreview.cli.errors import fail
from deepreview.schema import Report
from deepreview.source.git import TargetError, find_repo_root
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
@click.option("--github", "to_github", is_flag=True, help="Post one review on the PR.")
@click.option("--pages", "to_pages", is_flag=True, help="Commit to the reviews branch.")
@click.option("--branch", default="reviews", show_default=True, help="Branch for --pages.")
@click.option("--dry-run", is_flag=True, help="With --github: print the payload, send nothing.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def publish_cmd(
    report_ref: str, to_github: bool, to_pages: bool, branch: str, dry_run: bool, cwd: Path
) -> None:
    """Publish REPORT (a report file or review id) to GitHub and/or the reviews branch."""
    from deepreview.publish.github import publish_review  # forge code only when publishing
    from deepreview.publish.pages import PagesError, publish_pages
    from deepreview.render import render
    from deepreview.source.github import GitHubClient, GitHubError, api_url, github_token

    if not (to_github or to_pages):
        fail("say where to publish: --github and/or --pages")
    try:
        repo: Path | None = find_repo_root(cwd.resolve())
    except TargetError:
        repo = None
    report = load_report(report_ref, repo)
    if to_github:
        pr = report.target.pr
        if pr is None or not report.target.repo:
            fail(f"{report.id} is not a pull-request review (use review --pr)")
        environ = dict(os.environ)
        try:
            with GitHubClient(github_token(environ), api_url(environ)) as client:
                plan = publish_review(
                    report, client, report.target.repo, pr.number, None, dry_run=dry_run
                )
        except GitHubError as exc:
            fail(str(exc))
        if dry_run:
            click.echo(json.dumps(plan.to_json(), indent=2, sort_keys=True))
        else:
            click.echo(
                f"published {report.id} to {report.target.repo}#{pr.number}: "
                f"{len(plan.comments)} new comments, {len(plan.updates)} updated"
            )
    if to_pages:
        if repo is None:
            fail("--pages needs a git repository")
        rendered = {fmt: render(report, fmt) for fmt in PAGES_FORMATS}
        try:
            sha = publish_pages(repo, report, rendered, branch)
        except PagesError as exc:
            fail(str(exc))
        click.echo(f"committed {report.id} to {branch} ({sha[:12]})")
