"""Write rendered reports atomically: a half-written file is never presented as a report."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from deepreview.render import render
from deepreview.schema import Report

EXTENSIONS: dict[str, str] = {"md": ".md", "json": ".json", "html": ".html", "sarif": ".sarif"}


class OutputError(Exception):
    """The report could not be written."""


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, fsync it, then rename it into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_report(report: Report, out_dir: Path, formats: Sequence[str]) -> dict[str, Path]:
    """Render `report` in each format into `out_dir/<id>.<ext>`; return the paths by format."""
    rendered = {fmt: render(report, fmt) for fmt in formats}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for fmt, text in rendered.items():
            path = out_dir / f"{report.id}{EXTENSIONS.get(fmt, '.' + fmt)}"
            atomic_write(path, text)
            paths[fmt] = path
    except OSError as exc:
        where = exc.filename or out_dir
        raise OutputError(f"cannot write the report to {where}: {exc.strerror or exc}") from exc
    return paths
