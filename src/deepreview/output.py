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


def stage(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path` and fsync it; return the temporary file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def write_report(report: Report, out_dir: Path, formats: Sequence[str]) -> dict[str, Path]:
    """Render `report` in each format into `out_dir/<id>.<ext>`; return the paths by format.

    All or nothing: every format is written to a temporary file first and renamed into place
    only when all of them were written, so a full disk never leaves one format without the
    others."""
    rendered = {fmt: render(report, fmt) for fmt in formats}
    staged: dict[str, tuple[Path, Path]] = {}
    placed: list[Path] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for fmt, text in rendered.items():
            path = out_dir / f"{report.id}{EXTENSIONS.get(fmt, '.' + fmt)}"
            staged[fmt] = (stage(path, text), path)
        for tmp, path in staged.values():
            os.replace(tmp, path)
            placed.append(path)
    except BaseException as exc:
        for leftover in [tmp for tmp, _ in staged.values()] + placed:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        where = exc.filename or out_dir
        raise OutputError(f"cannot write the report to {where}: {exc.strerror or exc}") from exc
    return {fmt: path for fmt, (_, path) in staged.items()}


#: What marks an index page as ours: one written by anything else is never replaced.
GENERATOR_MARK = '<meta name="generator" content="deepreview'


def reports_in(out_dir: Path) -> list[Report]:
    """The reports whose JSON form is in `out_dir` (other JSON files are passed over)."""
    found: list[Report] = []
    for path in sorted(out_dir.glob("*.json")):
        try:
            found.append(Report.model_validate_json(path.read_bytes()))
        except (OSError, ValueError):
            continue
    return found


def write_index(out_dir: Path, reports: Sequence[Report], repo: str | None = None) -> Path | None:
    """(Re)write `out_dir/index.html`: every report with a page in `out_dir`, newest first.
    None when an `index.html` that deepreview did not write is there: it is left alone."""
    from deepreview.render.index import IndexEntry, render_index

    path = out_dir / "index.html"
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            if GENERATOR_MARK not in fh.read(4_096):
                return None
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    unique = {report.id: report for report in reports}
    entries: list[IndexEntry] = []
    for report in unique.values():
        page = next(
            (
                f"{report.id}{ext}"
                for ext in (".html", ".md")
                if (out_dir / f"{report.id}{ext}").exists()
            ),
            None,
        )
        if page is not None:
            entries.append(IndexEntry.of(report, page))
    entries.sort(key=lambda e: (e.created_at, e.report_id), reverse=True)
    try:
        os.replace(stage(path, render_index(entries, repo=repo)), path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
