"""A hunk and its lines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LineKind = Literal["context", "added", "deleted"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a hunk. Text has no trailing newline (nor the \\r of a CRLF ending, which
    `crlf` records); undecodable bytes survive as surrogate escapes (decode with
    ``errors="surrogateescape"``)."""

    kind: LineKind
    text: str
    old_lineno: int | None
    new_lineno: int | None
    no_newline_at_eof: bool = False
    crlf: bool = False


#: What a hunk's text gives when read back: its section and its lines.
HunkText = tuple[str, tuple[DiffLine, ...]]


class Hunk:
    """A hunk: its header ranges and lines. A hunk given `load` instead of its section and
    lines (see `diff/store.py`'s `FileHunks`) calls it each time they are asked for."""

    __slots__ = ("_lines", "_load", "_section", "new_count", "new_start", "old_count", "old_start")

    def __init__(
        self,
        old_start: int,
        old_count: int,
        new_start: int,
        new_count: int,
        section: str,
        lines: tuple[DiffLine, ...] = (),
        *,
        load: Callable[[], HunkText] | None = None,
    ) -> None:
        self.old_start = old_start
        self.old_count = old_count
        self.new_start = new_start
        self.new_count = new_count
        self._section = section
        self._lines = lines
        self._load = load

    @property
    def section(self) -> str:
        """The text after the header's second @@ (often the enclosing function)."""
        return self._section if self._load is None else self._load()[0]

    @property
    def lines(self) -> tuple[DiffLine, ...]:
        """The hunk's lines, in order."""
        return self._lines if self._load is None else self._load()[1]

    @property
    def header(self) -> tuple[int, int, int, int]:
        """Old start, old count, new start, new count."""
        return self.old_start, self.old_count, self.new_start, self.new_count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hunk):
            return NotImplemented
        return (
            self.header == other.header
            and self.section == other.section
            and self.lines == other.lines
        )

    def __hash__(self) -> int:
        return hash(self.header)

    def __repr__(self) -> str:
        return f"Hunk(-{self.old_start},{self.old_count} +{self.new_start},{self.new_count})"
