"""Write rendered reports atomically: a half-written file is never presented as a report."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from deepreview.escape import ERRORS
from deepreview.ids import unique_ids
from deepreview.render import render
from deepreview.schema import Report

EXTENSIONS: dict[str, str] = {"md": ".md", "json": ".json", "html": ".html", "sarif": ".sarif"}


class OutputError(Exception):
    """The report could not be written."""


def stage(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path` and fsync it; return the temporary file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=ERRORS, newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def check_output_dir(out_dir: Path) -> None:
    """Make `out_dir` and check that a file can be created there, before any agent runs."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir, prefix=".deepreview-probe-"):
            pass
    except OSError as exc:
        where = exc.filename or out_dir
        raise OutputError(f"cannot write the report to {where}: {exc.strerror or exc}") from exc


class NameTakenError(FileExistsError):
    """A report of that id is already in the output folder."""


def _reserve(paths: Sequence[Path]) -> list[Path]:
    """Create each path exclusively (empty); none of them when one exists already."""
    made: list[Path] = []
    try:
        for path in paths:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            made.append(path)
    except FileExistsError as exc:
        for path in made:
            path.unlink(missing_ok=True)
        raise NameTakenError(str(exc)) from exc
    return made


def write_new_report(
    report: Report,
    out_dir: Path,
    formats: Sequence[str],
    taken: Callable[[str], bool] = lambda _: False,
) -> tuple[Report, dict[str, Path]]:
    """Write `report` under an id that neither `taken` nor a report in `out_dir` has: its
    own, else with a short suffix (`-2`, `-3`, …). Names are taken by exclusive creation, so
    concurrent reviews never overwrite each other. Returns the report as written and its
    paths by format."""
    for candidate in unique_ids(report.id):
        if taken(candidate):
            continue
        named = report.model_copy(update={"id": candidate})
        try:
            return named, write_report(named, out_dir, formats, exclusive=True)
        except NameTakenError:
            continue
    raise AssertionError("unreachable")  # unique_ids never ends


def write_report(
    report: Report, out_dir: Path, formats: Sequence[str], *, exclusive: bool = False
) -> dict[str, Path]:
    """Render `report` in each format into `out_dir/<id>.<ext>`; return the paths by format.

    All or nothing: every format is written to a temporary file first and renamed into place
    only when all of them were written, so a full disk never leaves one format without the
    others. With `exclusive`, a report of the same id already there is a NameTakenError."""
    rendered = {fmt: render(report, fmt) for fmt in formats}
    staged: dict[str, tuple[Path, Path]] = {}
    placed: list[Path] = []
    targets = [out_dir / f"{report.id}{EXTENSIONS.get(fmt, '.' + fmt)}" for fmt in rendered]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if exclusive:
            placed += _reserve(targets)
        for (fmt, text), path in zip(rendered.items(), targets, strict=True):
            staged[fmt] = (stage(path, text), path)
        for tmp, path in staged.values():
            os.replace(tmp, path)
            placed.append(path)
    except BaseException as exc:
        for leftover in [tmp for tmp, _ in staged.values()] + placed:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, NameTakenError) or not isinstance(exc, OSError):
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
