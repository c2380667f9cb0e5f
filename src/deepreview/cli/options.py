"""The options `review` and `ci` share, written once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def review_options(verify_help: str) -> Callable[[F], F]:
    """Add the review options both commands take; `verify_help` states each one's default."""
    options = [
        click.option(
            "--agent", "agents", multiple=True, metavar="NAME", help="Run only these agents."
        ),
        click.option(
            "--config", "config_path", type=click.Path(path_type=Path), help="Config file."
        ),
        click.option(
            "--output", "output_dir", type=click.Path(path_type=Path), help="Output folder."
        ),
        click.option(
            "--format",
            "formats",
            default="md,json",
            show_default=True,
            help="Comma-separated formats.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(["important", "critical"]),
            help="Exit 1 when the verdict reaches this level.",
        ),
        click.option("--no-cache", is_flag=True, help="Run every agent afresh."),
        click.option(
            "--include",
            multiple=True,
            metavar="PATTERN",
            help="Review matching files even when generated, vendored or lock files.",
        ),
        click.option(
            "--exclude", multiple=True, metavar="PATTERN", help="Never review matching files."
        ),
        click.option("--verify/--no-verify", "verify", default=None, help=verify_help),
        click.option(
            "--allow-missing",
            is_flag=True,
            help="Review without requested agents that are unavailable.",
        ),
        click.option(
            "--require-ai", is_flag=True, help="Exit 1 when no AI agent reviewed the change."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress or summary; errors only."),
        click.option(
            "-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR."
        ),
    ]

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply
