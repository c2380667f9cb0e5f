"""The scope stage: where a cited place sits relative to the change. This module is the one
definition of "in the diff"; analyzers, consolidation, renderers and publishers all use it.

A place is `added` when its lines include a line the change adds (or it is in a file the change
deletes), `hunk` when it lies in a changed hunk but
only on unchanged context lines, `file` when it is in a changed file outside its hunks (or
names the file as a whole) and `outside` when the file is not changed at all. Its anchor is
the new-side range an inline review comment can be attached to: the part of the place inside
one hunk, or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepreview.diff import Diff, FileDiff
    from deepreview.schema import Location

__all__ = ["DiffScope", "Placement", "Scope", "place"]


class Scope(StrEnum):
    """Where a place sits relative to the change, narrowest first."""

    ADDED = "added"
    HUNK = "hunk"
    FILE = "file"
    OUTSIDE = "outside"

    def describe(self) -> str:
        """One sentence for a reader, e.g. in an analyzer finding's body."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Scope.ADDED: "On lines this change adds.",
    Scope.HUNK: "In a changed hunk, but on unchanged lines: the change does not add them.",
    Scope.FILE: "In a changed file, outside the lines this change touches.",
    Scope.OUTSIDE: "Outside the files this change touches.",
}
_ORDER = {s: i for i, s in enumerate(Scope)}


@dataclass(frozen=True, slots=True)
class Placement:
    """A place's scope and the range an inline comment can anchor to (None: none can)."""

    scope: Scope
    anchor: Location | None = None


class _FileScope:
    """One changed file's added lines, lines next to deletions and hunk ranges."""

    __slots__ = ("_changed", "_fd", "_ranges")

    def __init__(self, fd: FileDiff) -> None:
        self._fd = fd
        self._changed: frozenset[int] | None = None
        self._ranges: list[tuple[int, int]] | None = None

    @property
    def changed(self) -> frozenset[int]:
        """New-side lines the change adds."""
        if self._changed is None:
            self._changed = self._fd.added_lines
        return self._changed

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """Each hunk's new-side (first, last) line; a hunk that only deletes covers the line
        it deletes before."""
        if self._ranges is None:
            self._ranges = [
                (h.new_start, h.new_start + max(h.new_count, 1) - 1) for h in self._fd.hunks
            ]
        return self._ranges

    def place(self, loc: Location) -> Placement:
        fd = self._fd
        if fd.status == "deleted":
            return Placement(Scope.ADDED)
        if fd.status == "added" and (fd.is_binary or not fd.hunks):
            return Placement(Scope.ADDED)
        if loc.start_line is None:
            return Placement(Scope.ADDED if fd.status == "added" else Scope.FILE)
        start = loc.start_line
        end = max(loc.end_line or start, start)
        anchor = self._anchor(loc, start, end)
        changed = self.changed
        if end - start < len(changed):
            hit = any(n in changed for n in range(start, end + 1))
        else:
            hit = any(start <= n <= end for n in changed)
        if hit:
            return Placement(Scope.ADDED, anchor)
        return Placement(Scope.HUNK if anchor is not None else Scope.FILE, anchor)

    def _anchor(self, loc: Location, start: int, end: int) -> Location | None:
        """The part of start..end inside the first hunk it overlaps."""
        if self._fd.new_path != loc.path:
            return None
        for first, last in self.ranges:
            lo, hi = max(start, first), min(end, last)
            if lo <= hi:
                return loc.model_copy(
                    update={"start_line": lo, "end_line": hi if hi > lo else None}
                )
        return None


class DiffScope:
    """Places locations against one diff (each file indexed once, on first use). Without a
    diff nothing can be placed: `place` answers None."""

    def __init__(self, diff: Diff | None) -> None:
        self.diff = diff
        self._files: dict[str, FileDiff] = {}
        self._scopes: dict[int, _FileScope] = {}
        for fd in diff.files if diff is not None else ():
            for p in (fd.new_path, fd.old_path):
                if p is not None:
                    self._files.setdefault(p, fd)

    @property
    def paths(self) -> list[str]:
        """Head paths of all changed files (none without a diff)."""
        return self.diff.paths if self.diff is not None else []

    def file(self, path: str) -> FileDiff | None:
        """The change to `path` (new or old path), if any."""
        return self._files.get(path)

    def place_one(self, loc: Location) -> Placement | None:
        """The placement of one location; None without a diff."""
        if self.diff is None:
            return None
        fd = self._files.get(loc.path)
        if fd is None:
            return Placement(Scope.OUTSIDE)
        key = id(fd)
        if key not in self._scopes:
            self._scopes[key] = _FileScope(fd)
        return self._scopes[key].place(loc)

    def place(self, locations: Sequence[Location]) -> Placement | None:
        """The narrowest scope among `locations` and the first anchor (preferring one on added
        lines); None without a diff. No locations at all: `outside`."""
        if self.diff is None:
            return None
        placements = [p for p in map(self.place_one, locations) if p is not None]
        if not placements:
            return Placement(Scope.OUTSIDE)
        scope = min((p.scope for p in placements), key=_ORDER.__getitem__)
        anchors = [p for p in placements if p.anchor is not None]
        best = next((p for p in anchors if p.scope is Scope.ADDED), None)
        anchor = best or (anchors[0] if anchors else None)
        return Placement(scope, anchor.anchor if anchor is not None else None)

    def added(self, locations: Iterable[Location]) -> bool:
        """Whether any of `locations` is on lines the change adds (always, without a diff)."""
        if self.diff is None:
            return True
        return any(
            (p := self.place_one(loc)) is not None and p.scope is Scope.ADDED for loc in locations
        )


def place(diff: Diff | None, locations: Sequence[Location]) -> Placement | None:
    """The placement of `locations` against `diff` (see `DiffScope.place`)."""
    return DiffScope(diff).place(locations)
