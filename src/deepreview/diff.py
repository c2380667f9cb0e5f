"""The diff model: files, hunks and line maps of a git unified diff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]
LineKind = Literal["context", "added", "deleted"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a hunk. Text has no trailing newline; undecodable bytes survive as
    surrogate escapes (decode with ``errors="surrogateescape"``)."""

    kind: LineKind
    text: str
    old_lineno: int | None
    new_lineno: int | None
    no_newline_at_eof: bool = False


@dataclass(frozen=True, slots=True)
class Hunk:
    """A hunk: its header ranges and lines."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's change. `path` is the new path, or the old one for deletions."""

    old_path: str | None
    new_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    is_submodule: bool = False

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
            and not self.hunks
            and not self.is_binary
            and self.old_mode != self.new_mode
        )

    @property
    def added_lines(self) -> frozenset[int]:
        """New-side line numbers of added lines."""
        return frozenset(
            ln.new_lineno
            for h in self.hunks
            for ln in h.lines
            if ln.kind == "added" and ln.new_lineno is not None
        )

    @property
    def added_count(self) -> int:
        """Number of added lines."""
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == "added")

    @property
    def deleted_count(self) -> int:
        """Number of deleted lines."""
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == "deleted")

    def added(self) -> Iterable[DiffLine]:
        """The added lines, in order."""
        for h in self.hunks:
            for ln in h.lines:
                if ln.kind == "added":
                    yield ln

    def touches(self, start: int, end: int | None = None, context: int = 0) -> bool:
        """Whether new-side lines start..end fall within `context` lines of a hunk."""
        stop = end if end is not None else start
        for h in self.hunks:
            lo = h.new_start - context
            hi = h.new_start + max(h.new_count, 1) - 1 + context
            if start <= hi and stop >= lo:
                return True
        return False


@dataclass(frozen=True, slots=True)
class Diff:
    """A parsed diff: the changed files in diff order."""

    files: tuple[FileDiff, ...] = ()
    errors: tuple[str, ...] = field(default=())

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
