"""How every command reports a usage or input error, and checks the `--format` option."""

from __future__ import annotations

import os
import sys
import time
import traceback
from typing import NoReturn

import click

from deepreview.redact import Redactor
from deepreview.render import RENDERERS
from deepreview.runtime import Runtime
from deepreview.schema import Report

#: The verdicts at which `--fail-on LEVEL` exits 1.
FAIL_LEVELS = {"important": ("Rework", "Merge with fixes"), "critical": ("Rework",)}

#: Exit code of every error that is the input's fault (not a failing verdict).
EXIT_ERROR = 2
#: Exit code of a defect in deepreview itself (EX_SOFTWARE of sysexits.h).
EXIT_INTERNAL = 70


def fail(message: str) -> NoReturn:
    """Print `deepreview: error: <message>` on stderr and exit 2."""
    click.echo(f"deepreview: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def exit_without_ai(report: Report, require_ai: bool) -> None:
    """With `--require-ai`, exit 1 (saying why) when no AI agent reviewed the change."""
    from deepreview.pipeline import BUILTIN_ONLY

    if require_ai and report.verdict.qualifier == BUILTIN_ONLY:
        click.echo("deepreview: no AI agent reviewed the change (--require-ai)", err=True)
        sys.exit(1)


def internal_error(exc: BaseException) -> NoReturn:
    """Log the traceback (redacted) to a file, print one line naming it, exit 70."""
    redactor = Redactor.from_environment(os.environ)
    root = Runtime.from_environ(os.environ).cache_dir
    log = root / "logs" / f"internal-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(exc))
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(redactor.text(text), encoding="utf-8", errors="backslashreplace")
        where = str(log)
    except OSError as err:
        where = f"no log: {err.strerror or err}"
    line = redactor.text(f"{type(exc).__name__}: {exc}".splitlines()[0])
    click.echo(f"deepreview: internal error: {line} (details in {where})", err=True)
    sys.exit(EXIT_INTERNAL)


def parse_formats(text: str) -> list[str]:
    """The formats of a comma-separated `--format` value; an unknown one is an error."""
    formats = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown or not formats:
        fail(f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(RENDERERS)}")
    return formats
