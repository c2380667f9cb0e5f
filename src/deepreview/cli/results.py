"""How `review` and `ci` end: the terminal summary, or the report itself on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deepreview.cli.errors import fail
from deepreview.cli.progress import console
from deepreview.pipeline import ReviewResult

#: `--output -`: the report goes to stdout instead of a folder.
STDOUT = Path("-")


def stdout_format(output_dir: Path | None, formats: list[str]) -> str | None:
    """With `--output -`, the one format to print on stdout; None otherwise."""
    if output_dir != STDOUT:
        return None
    if len(formats) != 1:
        fail("--output - prints one format: pass --format json (or md, html, sarif)")
    return formats[0]


def show_result(
    result: ReviewResult, printed: str | None, *, quiet: bool, fail_on: str | None = None
) -> None:
    """Print the report in format `printed` on stdout, else the short summary unless quiet.

    The report files and history are written either way."""
    if printed is not None:
        from deepreview.render import render

        text = render(result.report, printed)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    if quiet:
        return
    from deepreview.cli.summary import print_summary

    path = result.paths.get("md") or next(iter(result.paths.values()), None)
    print_summary(result.report, console(), path, fail_on)


def report_dir(output_dir: Path | None) -> Path | None:
    """The folder the report files go to (`--output -` keeps the configured one)."""
    return None if output_dir == STDOUT else output_dir


def echo(message: str, *, quiet: bool) -> None:
    """A line for the user on stdout, unless quiet."""
    if not quiet:
        click.echo(message)
