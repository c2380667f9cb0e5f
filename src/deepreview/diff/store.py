"""Where a file's hunks live: in memory with their lines, or as byte ranges of the diff file.

Both record the same compact index while the parser fills them (header numbers, which new-side
lines are added, how many are deleted), so counts and ranges never need the lines; they differ
only in what a `Hunk` is made of.
"""

from __future__ import annotations

from abc import abstractmethod
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Protocol, overload

from deepreview.diff.hunk import DiffLine, Hunk, HunkText

Header = tuple[int, int, int, int]
"""Old start, old count, new start, new count."""


class HunkStore(Protocol):
    """One file's hunks, filled by the parser and read by everything else."""

    keeps_lines: bool
    """Whether the parser hands `finish` each hunk's lines; if not, it records each added
    and deleted line with `add` and `delete` instead."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Hunk: ...

    def __iter__(self) -> Iterator[Hunk]: ...

    def new_ranges(self) -> Iterator[tuple[int, int]]:
        """(new start, new count) of each hunk."""
        ...

    def added_lines(self) -> frozenset[int]:
        """New-side line numbers of added lines."""
        ...

    def added_count(self) -> int:
        """Number of added lines."""
        ...

    def deleted_count(self) -> int:
        """Number of deleted lines."""
        ...

    def begin(self, new_start: int) -> None:
        """Start recording a hunk whose new side starts at line `new_start`."""
        ...

    def add(self, new_lineno: int) -> None:
        """Record an added line of the hunk begun last."""
        ...

    def delete(self) -> None:
        """Record a deleted line of the hunk begun last."""
        ...

    def finish(
        self, header: Header, section: str, lines: tuple[DiffLine, ...], span: tuple[int, int]
    ) -> None:
        """Finish the hunk begun last: its header, section, lines (when kept) and the byte
        range of its text in the diff file (when parsed from one)."""
        ...


# Per hunk: old start, old count, new start, new count; start and end of the hunk's text in
# the file; where the hunk's bits start in `_added`.
_RECORD = 7


class _Index(Sequence[Hunk]):
    """The index both stores record: header numbers and byte ranges in one array, which
    new-side lines are added in a bitmap (one bit per line from the hunk's new start to its
    last added line), and the number of deleted lines."""

    __slots__ = ("_added", "_base", "_deleted", "_origin", "_table")

    def __init__(self) -> None:
        self._table = array("q")
        self._added = bytearray()
        self._origin = self._base = 0
        self._deleted = 0

    def __len__(self) -> int:
        return len(self._table) // _RECORD

    @overload
    def __getitem__(self, index: int) -> Hunk: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Hunk, ...]: ...

    def __getitem__(self, index: int | slice) -> Hunk | tuple[Hunk, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        return self._hunk(range(len(self))[index])

    @abstractmethod
    def _hunk(self, i: int) -> Hunk:
        """Hunk number `i` (0-based, in range)."""

    def _record(self, i: int) -> tuple[Header, int, int]:
        o, oc, n, nc, start, end, _ = self._table[i * _RECORD : (i + 1) * _RECORD]
        return (o, oc, n, nc), start, end

    def __iter__(self) -> Iterator[Hunk]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    def new_ranges(self) -> Iterator[tuple[int, int]]:
        """(new start, new count) of each hunk."""
        table = self._table
        return ((table[i + 2], table[i + 3]) for i in range(0, len(table), _RECORD))

    def added_lines(self) -> frozenset[int]:
        """New-side line numbers of added lines."""
        table, added = self._table, self._added
        bases = [*table[_RECORD - 1 :: _RECORD], len(added)]
        return frozenset(
            table[i * _RECORD + 2] + (at - bases[i]) * 8 + bit
            for i in range(len(bases) - 1)
            for at in range(bases[i], bases[i + 1])
            if added[at]
            for bit in range(8)
            if added[at] >> bit & 1
        )

    def added_count(self) -> int:
        """Number of added lines."""
        return int.from_bytes(self._added, "little").bit_count()

    def deleted_count(self) -> int:
        """Number of deleted lines."""
        return self._deleted

    def begin(self, new_start: int) -> None:
        """Start recording a hunk whose new side starts at line `new_start`."""
        self._origin, self._base = new_start, len(self._added)

    def add(self, new_lineno: int) -> None:
        """Record an added line of the hunk begun last."""
        bit = new_lineno - self._origin
        at = self._base + (bit >> 3)
        added = self._added
        if at >= len(added):
            added.extend(bytes(at + 1 - len(added)))
        added[at] |= 1 << (bit & 7)

    def delete(self) -> None:
        """Record a deleted line of the hunk begun last."""
        self._deleted += 1

    def _finish(self, header: Header, span: tuple[int, int]) -> None:
        self._table.extend((*header, *span, self._base))

    def _index(self, hunk: Hunk, span: tuple[int, int]) -> None:
        """Record `hunk` from its lines."""
        self.begin(hunk.new_start)
        add = self.add
        for line in hunk.lines:
            if line.kind == "added" and line.new_lineno is not None:
                add(line.new_lineno)
            elif line.kind == "deleted":
                self._deleted += 1
        self._finish(hunk.header, span)


class MemoryHunks(_Index):
    """Hunks held with their lines (a diff parsed from text, bytes or a stream)."""

    __slots__ = ("_hunks",)

    keeps_lines = True

    def __init__(self) -> None:
        super().__init__()
        self._hunks: list[Hunk] = []

    @classmethod
    def of(cls, hunks: Iterable[Hunk]) -> MemoryHunks:
        """A store holding `hunks`, indexed from their lines."""
        store = cls()
        for hunk in hunks:
            store._index(hunk, (0, 0))
            store._hunks.append(hunk)
        return store

    def _hunk(self, i: int) -> Hunk:
        return self._hunks[i]

    def finish(
        self, header: Header, section: str, lines: tuple[DiffLine, ...], span: tuple[int, int]
    ) -> None:
        """Keep the hunk with its lines."""
        hunk = Hunk(*header, section, lines)
        self._index(hunk, span)
        self._hunks.append(hunk)


class FileHunks(_Index):
    """Hunks kept as the byte range of their text in the diff file; each `Hunk` reads its
    section and lines back through `read` (header, start, end) when asked for them."""

    __slots__ = ("_read",)

    keeps_lines = False

    def __init__(self, read: Callable[[Header, int, int], HunkText]) -> None:
        super().__init__()
        self._read = read

    def _hunk(self, i: int) -> Hunk:
        header, start, end = self._record(i)
        return Hunk(*header, "", load=partial(self._read, header, start, end))

    def finish(
        self, header: Header, section: str, lines: tuple[DiffLine, ...], span: tuple[int, int]
    ) -> None:
        """Keep the header and the byte range only."""
        self._finish(header, span)
