"""Agents' traces kept after a review: `.deepreview/runs/<review id>/`.

While agents run, each CLI agent's prompt, stdout, stderr and exit code are written to the
review's temporary run folder (agents never write into the user's checkout); when the review
ends those files are copied, redacted, into the trace folder (git-ignored, like the rest of
`.deepreview/`), and only the newest `keep` review folders stay.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from deepreview.ids import unique_ids
from deepreview.redact import Redactor

__all__ = [
    "EXAMINATIONS_DIR",
    "RUNS_DIR",
    "TRACE_NOTE",
    "ignore_folder",
    "keep_traces",
    "live_notes",
    "prune_traces",
    "reserve_trace_folder",
    "trace_note",
]

#: Where the traces of each review are kept, relative to the repository root.
RUNS_DIR = Path(".deepreview") / "runs"
_IGNORE = "# deepreview's history, cache and reports\n*\n"


def ignore_folder(folder: Path) -> None:
    """Create `folder` with a `.gitignore` that ignores everything in it."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_IGNORE, encoding="utf-8")


def reserve_trace_folder(
    repo: Path, review_id: str, taken: Callable[[str], bool] = lambda _: False
) -> tuple[str, Path]:
    """A new, empty trace folder for a review, and the id it is named by: `review_id`, else
    that id with a suffix (`-2`, `-3`, …) when `taken` says a report has it or another review
    holds its folder. Folders are created exclusively, so reviews started in the same second
    get ids, and folders, of their own."""
    ignore_folder(repo / RUNS_DIR.parent)
    (repo / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    for candidate in unique_ids(review_id):
        folder = repo / RUNS_DIR / candidate
        if taken(candidate):
            continue
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return candidate, folder
    raise AssertionError("unreachable")  # unique_ids never ends


#: The run folder's subfolder holding one run folder per cross-examination.
EXAMINATIONS_DIR = "crossexam"


def keep_traces(run_dir: Path, folder: Path, redactor: Redactor) -> None:
    """Copy the files at the top of `run_dir`, and those of each cross-examination's folder,
    into `folder`, redacted (bytes that are not UTF-8 are kept as they are); agents' scratch
    folders are left behind."""
    exams = run_dir / EXAMINATIONS_DIR
    places = [(run_dir, folder)]
    if exams.is_dir():
        places += [(d, folder / EXAMINATIONS_DIR / d.name) for d in sorted(exams.iterdir())]
    for source, target in places:
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(p for p in source.iterdir() if p.is_file()):
            text = path.read_bytes().decode("utf-8", "surrogateescape")
            data = redactor.text(text).encode("utf-8", "surrogateescape")
            (target / path.name).write_bytes(data)


def prune_traces(repo: Path, keep: int) -> None:
    """Remove all but the newest `keep` review folders (ids sort by their start time)."""
    root = repo / RUNS_DIR
    if not root.is_dir():
        return
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    for old in folders[: max(0, len(folders) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


#: How a run's notes name its trace file.
TRACE_NOTE = "trace: "


def trace_note(path: Path, repo: Path) -> str:
    """`trace: <path>`, relative to the repository when the file is inside it."""
    try:
        shown = path.resolve().relative_to(repo.resolve()).as_posix()
    except (OSError, ValueError):
        shown = str(path)
    return f"{TRACE_NOTE}{shown}"


def live_notes(notes: list[str], repo: Path) -> list[str]:
    """`notes` without trace notes whose file no longer exists (e.g. a cached run's)."""
    return [
        n for n in notes if not n.startswith(TRACE_NOTE) or (repo / n[len(TRACE_NOTE) :]).is_file()
    ]
