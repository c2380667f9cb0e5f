"""`deepreview show`: print a stored report in any format."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deepreview.cli.errors import fail, parse_formats
from deepreview.cli.publish import load_report
from deepreview.source.git import TargetError, find_repo_root
from deepreview.store import Store, StoreError


@click.command("show")
@click.argument("ref", metavar="[latest|ID|FILE]", default="latest")
@click.option("--format", "fmt", default="md", show_default=True, help="md, json, html or sarif.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def show_cmd(ref: str, fmt: str, cwd: Path) -> None:
    """Print a report: the latest review, a review id, or a report file."""
    from deepreview.render import render

    formats = parse_formats(fmt)
    if len(formats) != 1:
        fail("show prints one --format")
    try:
        repo: Path | None = find_repo_root(cwd.resolve())
    except TargetError:
        repo = None
    if ref == "latest":
        if repo is None:
            fail("`show latest` needs a git repository (or give a report file)")
        try:
            store = Store.for_repo(repo)
            newest = store.reviews()
            store.close()
        except StoreError as exc:
            fail(str(exc))
        if not newest:
            fail(f"no reviews in {repo} yet (run deepreview review)")
        ref = newest[0].id
    text = render(load_report(ref, repo), formats[0])
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
