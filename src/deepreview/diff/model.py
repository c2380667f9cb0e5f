"""The parsed diff: files in diff order, each with its hunks (`diff/store.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from deepreview.diff.hunk import DiffLine, Hunk
from deepreview.diff.store import HunkStore, MemoryHunks

FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]


@dataclass(frozen=True, slots=True)
class DiffSource:
    """The file a diff was parsed from: its path, size and SHA-256. It must stay in place while
    the parsed diff is used: hunk lines and diff text are read back from it."""

    path: Path
    size: int
    sha256: str

    def text(self, offset: int = 0, length: int | None = None) -> str:
        """`length` bytes (all up to the end when None) from byte `offset`, decoded as UTF-8
        with undecodable bytes as surrogate escapes."""
        with self.path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(-1 if length is None else length)
        return data.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's change. `path` is the new path, or the old one for deletions. `offset` is
    where the file's part of the diff starts in the diff file (byte offset; only for diffs
    parsed with `parse_diff_file`). `hunks` may be given as a sequence of `Hunk`s, which are
    then held in memory."""

    old_path: str | None
    new_path: str | None
    status: FileStatus
    hunks: HunkStore = field(default_factory=MemoryHunks)
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    is_submodule: bool = False
    offset: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.hunks, tuple | list):
            given: Iterable[Hunk] = self.hunks
            object.__setattr__(self, "hunks", MemoryHunks.of(given))

    @property
    def path(self) -> str:
        """The path at head (old path for deleted files)."""
        p = self.new_path if self.new_path is not None else self.old_path
        assert p is not None
        return p

    @property
    def mode_only(self) -> bool:
        """True when only the file mode changed."""
        return (
            self.status == "modified"
            and not len(self.hunks)
            and not self.is_binary
            and self.old_mode != self.new_mode
        )

    @property
    def added_lines(self) -> frozenset[int]:
        """New-side line numbers of added lines."""
        return self.hunks.added_lines()

    @property
    def added_count(self) -> int:
        """Number of added lines."""
        return self.hunks.added_count()

    @property
    def deleted_count(self) -> int:
        """Number of deleted lines."""
        return self.hunks.deleted_count()

    def added(self) -> Iterable[DiffLine]:
        """The added lines, in order."""
        for h in self.hunks:
            for ln in h.lines:
                if ln.kind == "added":
                    yield ln

    def touches(self, start: int, end: int | None = None, context: int = 0) -> bool:
        """Whether new-side lines start..end fall within `context` lines of a hunk."""
        stop = end if end is not None else start
        for new_start, new_count in self.hunks.new_ranges():
            lo = new_start - context
            hi = new_start + max(new_count, 1) - 1 + context
            if start <= hi and stop >= lo:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Diff:
    """A parsed diff: the changed files in diff order, and the file it was read from."""

    files: tuple[FileDiff, ...] = ()
    errors: tuple[str, ...] = field(default=())
    source: DiffSource | None = field(default=None, compare=False)

    def file(self, path: str) -> FileDiff | None:
        """The change to `path` (new or old path), if any."""
        for f in self.files:
            if path in (f.new_path, f.old_path):
                return f
        return None

    @property
    def paths(self) -> list[str]:
        """Head paths of all changed files."""
        return [f.path for f in self.files]

    @property
    def is_empty(self) -> bool:
        """True when nothing changed."""
        return not self.files
