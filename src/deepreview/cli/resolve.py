"""`deepreview resolve`: record what the author did about each finding of a review."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click

from deepreview.cli.errors import fail
from deepreview.cli.publish import load_report
from deepreview.config import ConfigError, load_config
from deepreview.render.resolution import ACTIONS, ResolutionRow, resolution_section
from deepreview.source.git import TargetError, find_repo_root, git_environment
from deepreview.store import Store, StoreError


def parse_assignment(text: str) -> ResolutionRow:
    """`I2=skipped:by design` or `S1=fixed` as a row; raises click.BadParameter."""
    fid, eq, rest = text.partition("=")
    action, _, reason = rest.partition(":")
    action = action.strip().lower().replace(" ", "-")
    if not eq or not fid.strip() or action not in ACTIONS:
        raise click.BadParameter(
            f"{text!r}: expected ID=ACTION[:REASON] with ACTION one of {', '.join(ACTIONS)}"
        )
    return ResolutionRow(fid.strip().upper(), action, reason.strip())


@click.command("resolve")
@click.argument("review")
@click.argument("assignments", nargs=-1, required=True, metavar="ID=ACTION[:REASON]...")
@click.option("--commit", metavar="SHA", help="The commit that addressed them (default: HEAD).")
def resolve_cmd(review: str, assignments: tuple[str, ...], commit: str | None) -> None:
    """Append a Resolution section to REVIEW (a report .md/.json file or a review id).

    ACTION is fixed, skipped, declined, test-written, commented, documentation-updated or
    auto-resolved. Skipped and declined findings are not raised again in later rounds.
    """
    rows = [parse_assignment(a) for a in assignments]
    try:
        repo: Path | None = find_repo_root(Path.cwd())
    except TargetError:
        repo = None
    report = load_report(review, repo)
    markdown = _markdown_path(review, report.id, repo)
    if commit is None and repo is not None:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            env=git_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        commit = head.stdout.strip() or None
    try:
        section = resolution_section(report, rows, datetime.now(UTC).date().isoformat(), commit)
    except KeyError as exc:
        fail(f"{report.id} has no finding {exc.args[0]}")
    text = markdown.read_text(encoding="utf-8")
    markdown.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    declined = [r for r in rows if ACTIONS[r.action] in ("Skipped", "Declined")]
    if declined and repo is not None:
        try:
            store = Store.for_repo(repo)
            for r in declined:
                store.decline(f"{report.id}:{r.finding_id}", r.reason or ACTIONS[r.action])
        except StoreError:
            pass  # a report outside the history: its Resolution is read back with --prior
    click.echo(f"resolved {len(rows)} finding(s) of {report.id} in {markdown}")


def _markdown_path(ref: str, report_id: str, repo: Path | None) -> Path:
    """The Markdown file of the report: the file given, its twin, or the stored review's."""
    path = Path(ref)
    candidates = [path, path.with_suffix(".md")] if path.suffix in (".md", ".json") else []
    if repo is not None:
        try:
            output_dir = load_config(repo).output_dir
        except ConfigError as exc:
            fail(str(exc))
        candidates.append(repo / output_dir / f"{report_id}.md")
    for c in candidates:
        if c.suffix == ".md" and c.is_file():
            return c
    fail(f"no Markdown report for {report_id} to append the Resolution to")
