"""`deepreview consolidate`: merge reviews written elsewhere into one report."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from deepreview.cli.errors import fail, parse_formats
from deepreview.offline import OfflineError, consolidate_reviews, prior_round, review_spec
from deepreview.output import OutputError, reports_in, write_index, write_report


@click.command("consolidate")
@click.option(
    "--review",
    "specs",
    multiple=True,
    required=True,
    metavar="NAME=FILE",
    help="A reviewer's answer (JSON review or Markdown); FILE alone takes NAME from its stem.",
)
@click.option(
    "--repo", type=click.Path(path_type=Path), help="Check citations against this git repository."
)
@click.option("--head", metavar="SHA", help="The reviewed commit in --repo (default: HEAD).")
@click.option(
    "--base",
    metavar="REV",
    help="Place findings against the change from the merge base of REV and the head in --repo; "
    "pre-existing ones are listed apart.",
)
@click.option(
    "--prior",
    "priors",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="REPORT",
    help="An earlier round's report (Markdown or JSON), oldest first; repeatable. Findings its "
    "Resolution declined are not raised again.",
)
@click.option(
    "--format", "formats", default="md,json", show_default=True, help="Comma-separated formats."
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="Output folder.",
)
def consolidate_cmd(
    specs: tuple[str, ...],
    repo: Path | None,
    head: str | None,
    base: str | None,
    priors: tuple[Path, ...],
    formats: str,
    output_dir: Path,
) -> None:
    """Consolidate agent reviews given as files into one verified report."""
    fmts = parse_formats(formats)
    reviews: list[tuple[str, str]] = []
    try:
        for spec in specs:
            name, path = review_spec(spec)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise OfflineError(f"cannot read {path}: {exc.strerror or exc}") from exc
            reviews.append((name, text))
        rounds = [prior_round(path, n) for n, path in enumerate(priors, start=1)]
        report = consolidate_reviews(reviews, repo=repo, head=head, prior=rounds, base=base)
        paths = write_report(report, output_dir, fmts)
        index = write_index(output_dir, [*reports_in(output_dir), report], report.target.repo)
        if index is not None:
            paths["index"] = index
    except (OfflineError, OutputError) as exc:
        fail(str(exc))
    from deepreview.cli.summary import print_summary

    print_summary(report, Console(), paths.get("md") or next(iter(paths.values())))
