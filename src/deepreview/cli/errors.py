"""How every command reports a usage or input error, and checks the `--format` option."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from deepreview.render import RENDERERS

#: The verdicts at which `--fail-on LEVEL` exits 1.
FAIL_LEVELS = {"important": ("Rework", "Merge with fixes"), "critical": ("Rework",)}

#: Exit code of every error that is the input's fault (not a failing verdict).
EXIT_ERROR = 2


def fail(message: str) -> NoReturn:
    """Print `deepreview: error: <message>` on stderr and exit 2."""
    click.echo(f"deepreview: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def parse_formats(text: str) -> list[str]:
    """The formats of a comma-separated `--format` value; an unknown one is an error."""
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown or not formats:
        fail(f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(RENDERERS)}")
    return formats
