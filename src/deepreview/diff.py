"""The diff model (files, hunks and line maps of a git unified diff) and its parser."""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import count, repeat
from pathlib import Path
from typing import Literal, overload

from deepreview.gc_pause import gc_paused

FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]
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


class Hunk:
    """A hunk: its header ranges and lines. A hunk of a diff parsed from a file keeps only the
    byte range of its text there, and reads its section and lines again when asked for them."""

    __slots__ = (
        "_end",
        "_lines",
        "_reader",
        "_section",
        "_start",
        "new_count",
        "new_start",
        "old_count",
        "old_start",
    )

    def __init__(
        self,
        old_start: int,
        old_count: int,
        new_start: int,
        new_count: int,
        section: str,
        lines: tuple[DiffLine, ...] = (),
        *,
        reader: _HunkReader | None = None,
        span: tuple[int, int] = (0, 0),
    ) -> None:
        self.old_start = old_start
        self.old_count = old_count
        self.new_start = new_start
        self.new_count = new_count
        self._section = section
        self._lines = lines
        self._reader = reader
        self._start, self._end = span

    @property
    def section(self) -> str:
        """The text after the header's second @@ (often the enclosing function)."""
        if self._reader is None:
            return self._section
        return self._reader.read(self, self._start, self._end)[0]

    @property
    def lines(self) -> tuple[DiffLine, ...]:
        """The hunk's lines, in order."""
        if self._reader is None:
            return self._lines
        return self._reader.read(self, self._start, self._end)[1]

    def _header(self) -> tuple[int, int, int, int, str]:
        return self.old_start, self.old_count, self.new_start, self.new_count, self.section

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hunk):
            return NotImplemented
        return self._header() == other._header() and self.lines == other.lines

    def __hash__(self) -> int:
        return hash((self.old_start, self.old_count, self.new_start, self.new_count))

    def __repr__(self) -> str:
        return f"Hunk(-{self.old_start},{self.old_count} +{self.new_start},{self.new_count})"


_CACHE_BYTES = 1 << 20
_Read = tuple[str, tuple[DiffLine, ...]]


class _HunkReader:
    """Parses hunks again from the diff file; keeps the most recent few (up to `_CACHE_BYTES`
    of diff text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: OrderedDict[int, tuple[_Read, int]] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def read(self, hunk: Hunk, start: int, end: int) -> _Read:
        """The section and lines of `hunk`, whose text is bytes start..end of the file."""
        with self._lock:
            hit = self._cache.get(start)
            if hit is not None:
                self._cache.move_to_end(start)
                return hit[0]
        with self.path.open("rb") as fh:
            fh.seek(start)
            text = fh.read(end - start).decode("utf-8", "surrogateescape")
        items = zip(count(1), _split_lines((text,)), repeat(0))
        header = next(items, None)
        match = _HUNK_RE.fullmatch(_chomp(header[1])) if header is not None else None
        lines = _Parser().hunk_lines(
            0, items, hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count, None
        )[0]
        read = (match[5] if match is not None else "", tuple(lines))
        if end - start <= _CACHE_BYTES // 8:
            with self._lock:
                if start not in self._cache:
                    self._cache[start] = (read, end - start)
                    self._cached_bytes += end - start
                while self._cached_bytes > _CACHE_BYTES:
                    self._cached_bytes -= self._cache.popitem(last=False)[1][1]
        return read


# Per hunk: old start, old count, new start, new count; start and end of the hunk's text in
# the file; where the hunk's bits start in `_FileHunks._added`.
_RECORD = 7


class _FileHunks(Sequence[Hunk]):
    """One file's hunks as recorded by a parse from a file: header numbers and byte ranges in
    one array, which new-side lines are added lines in a bitmap (one bit per line from the
    hunk's new start to its last added line), and the number of deleted lines. Each `Hunk` is
    built when asked for."""

    __slots__ = ("_added", "_base", "_origin", "_reader", "_table", "deleted")

    def __init__(self, reader: _HunkReader) -> None:
        self._reader = reader
        self._table = array("q")
        self._added = bytearray()
        self._origin = self._base = 0
        self.deleted = 0

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

    def record(self, header: tuple[int, int, int, int], start: int, end: int) -> None:
        """Finish the hunk begun last: its header numbers and the byte range of its text."""
        self._table.extend((*header, start, end, self._base))

    def __len__(self) -> int:
        return len(self._table) // _RECORD

    @overload
    def __getitem__(self, index: int) -> Hunk: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Hunk, ...]: ...

    def __getitem__(self, index: int | slice) -> Hunk | tuple[Hunk, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        i = range(len(self))[index]
        old_start, old_count, new_start, new_count, start, end, _ = self._table[
            i * _RECORD : (i + 1) * _RECORD
        ]
        return Hunk(
            old_start, old_count, new_start, new_count, "", reader=self._reader, span=(start, end)
        )

    def __iter__(self) -> Iterator[Hunk]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __hash__(self) -> int:
        return hash(tuple(self))

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


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's change. `path` is the new path, or the old one for deletions. `offset` is
    where the file's part of the diff starts in the diff file (byte offset; only for diffs
    parsed with `parse_diff_file`)."""

    old_path: str | None
    new_path: str | None
    status: FileStatus
    hunks: Sequence[Hunk] = ()
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    is_submodule: bool = False
    offset: int | None = field(default=None, compare=False)

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
        if isinstance(self.hunks, _FileHunks):
            return self.hunks.added_lines()
        return frozenset(
            ln.new_lineno
            for h in self.hunks
            for ln in h.lines
            if ln.kind == "added" and ln.new_lineno is not None
        )

    @property
    def added_count(self) -> int:
        """Number of added lines."""
        if isinstance(self.hunks, _FileHunks):
            return self.hunks.added_count()
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == "added")

    @property
    def deleted_count(self) -> int:
        """Number of deleted lines."""
        if isinstance(self.hunks, _FileHunks):
            return self.hunks.deleted
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
        ranges: Iterable[tuple[int, int]] = (
            self.hunks.new_ranges()
            if isinstance(self.hunks, _FileHunks)
            else ((h.new_start, h.new_count) for h in self.hunks)
        )
        for new_start, new_count in ranges:
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


# --- parsing -------------------------------------------------------------------------------

_MAX_ERRORS = 200
_BLOCK = 1 << 16
_HUNK_RE = re.compile(r"@@ -(\d{1,18})(?:,(\d{1,18}))? \+(\d{1,18})(?:,(\d{1,18}))? @@ ?(.*)")
# Source/destination prefix pairs: default, mnemonic (diff.mnemonicPrefix) and --no-index.
_PREFIX_PAIRS = frozenset(
    {("a/", "b/"), ("i/", "w/"), ("c/", "w/"), ("c/", "i/"), ("o/", "w/"), ("1/", "2/")}
)
_STAMP_RE = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? ([+-])(\d\d)(\d\d)")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_SUBMODULE_MODE = "160000"
_DEV_NULL = "/dev/null"
# Parser states outside hunks.
_QUIET = 0  # preamble, commentary, binary patch data: unknown lines are ignored
_HEADER = 1  # after `diff --git`: extended header lines
_AFTER = 2  # after a file header or hunk: stray hunk-like lines are errors


def parse_diff(source: str | bytes | Iterable[bytes]) -> Diff:
    """Parse a unified diff (git, plain ``diff -u`` or a mailed patch) into a `Diff`.

    Byte chunks (an open binary file, a process's stdout, any iterable of lines or blocks)
    are read block by block and never held whole. Malformed input does not raise: each
    problem is recorded in `Diff.errors` with its input line number, and parsing goes on.
    """
    blocks: Iterable[str]
    if isinstance(source, str):
        blocks = (source[i : i + _BLOCK] for i in range(0, len(source), _BLOCK))
    elif isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        blocks = _decode(view[i : i + _BLOCK] for i in range(0, len(view), _BLOCK))
    elif callable(read := getattr(source, "read", None)):
        blocks = _decode(iter(partial(read, _BLOCK), b""))
    else:
        blocks = _decode(source)
    with gc_paused():
        return _Parser().run(zip(count(1), _split_lines(blocks), repeat(0)))


def parse_diff_file(path: Path) -> Diff:
    """Parse the diff in file `path` like `parse_diff`, in bounded memory: hunks keep no lines
    but the byte range of their body, and parse it again from the file when asked for their
    lines. The file must stay in place while the diff is used. `Diff.source` gives its size
    and SHA-256, computed while parsing."""
    digest = hashlib.sha256()
    size = 0

    def blocks(read: Callable[[int], bytes]) -> Iterator[bytes]:
        nonlocal size
        for block in iter(partial(read, _BLOCK), b""):
            digest.update(block)
            size += len(block)
            yield block

    with path.open("rb") as fh, gc_paused():
        parsed = _Parser(_HunkReader(path)).run(_offset_lines(_decode(blocks(fh.read))))
    return replace(parsed, source=DiffSource(path, size, digest.hexdigest()))


def _decode(chunks: Iterable[bytes | memoryview]) -> Iterator[str]:
    """UTF-8 text of byte chunks; undecodable bytes become surrogate escapes."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def _offset_lines(blocks: Iterable[str]) -> Iterator[_Item]:
    """Each line of text blocks with its number and the byte offset where it starts."""
    offset = 0
    for item in zip(count(1), _split_lines(blocks), repeat(0)):
        yield item[0], item[1], offset
        offset += _byte_length(item[1]) + 1


def _byte_length(line: str) -> int:
    """The length of a decoded line in the input, in bytes."""
    return len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape"))


def _split_lines(blocks: Iterable[str]) -> Iterator[str]:
    """The lines of text blocks, without their \\n, whatever the block boundaries."""
    partial_line: list[str] = []
    for block in blocks:
        lines = block.split("\n")
        if len(lines) == 1:
            if block:
                partial_line.append(block)
            continue
        if partial_line:
            partial_line.append(lines[0])
            lines[0] = "".join(partial_line)
            partial_line.clear()
        last = lines.pop()
        yield from lines
        if last:
            partial_line.append(last)
    if partial_line:
        yield "".join(partial_line)


def _chomp(line: str) -> str:
    """The line without the \\r of a CRLF ending."""
    return line[:-1] if line.endswith("\r") else line


def _clip(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _unquote(text: str) -> tuple[str, int] | None:
    """Decode the C-style quoted name at the start of `text`: (name, index after the quote)."""
    out = bytearray()
    i = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return out.decode("utf-8", "surrogateescape"), i + 1
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        esc = text[i + 1 : i + 2]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif len(digits := text[i + 1 : i + 4]) == 3 and all(d in "01234567" for d in digits):
            value = int(digits, 8)
            if value > 255:
                return None
            out.append(value)
            i += 4
        else:
            return None
    return None


def _strip_pair(old: str, new: str) -> tuple[str, str, tuple[str, str] | None]:
    """Remove a known source/destination prefix pair when both names carry it."""
    pair = (old[:2], new[:2])
    if pair in _PREFIX_PAIRS:
        return old[2:], new[2:], pair
    return old, new, None


def _git_names(rest: str) -> tuple[str, str, tuple[str, str] | None] | None:
    """Names (prefix removed) and prefix pair of a `diff --git` line, or None if ambiguous."""
    if rest.startswith('"'):
        first = _unquote(rest)
        if first is None or rest[first[1] : first[1] + 1] != " ":
            return None
        old, tail = first[0], rest[first[1] + 1 :]
        if tail.startswith('"'):
            second = _unquote(tail)
            if second is None or second[1] != len(tail):
                return None
            return _strip_pair(old, second[0])
        return _strip_pair(old, tail)
    if rest.endswith('"') and (cut := rest.find(' "')) != -1:
        second = _unquote(rest[cut + 1 :])
        if second is None or second[1] != len(rest) - cut - 1:
            return None
        return _strip_pair(rest[:cut], second[0])
    # Unquoted names may contain spaces; equal names (the usual case) split in the middle.
    mid = (len(rest) - 1) // 2
    if len(rest) % 2 and rest[mid] == " ":
        old, new = rest[:mid], rest[mid + 1 :]
        if old == new:
            return old, new, None
        if old[2:] == new[2:] and (old[:2], new[:2]) in _PREFIX_PAIRS:
            return _strip_pair(old, new)
    if rest.count(" ") == 1:
        old, new = rest.split(" ")
        return _strip_pair(old, new)
    if rest.startswith("a/") and rest.count(" b/") == 1:
        old, new = rest.split(" b/")
        return old[2:], new, ("a/", "b/")
    return None


def _side_name(text: str) -> tuple[str, bool]:
    """The name on a `---`/`+++` line and whether that side is absent (/dev/null, or the
    epoch timestamp ``diff -N`` gives). Unquoted names end at a tab."""
    quoted = _unquote(text) if text.startswith('"') else None
    if quoted is not None:
        name, stamp = quoted[0], text[quoted[1] :].lstrip("\t")
    else:
        name, _, stamp = text.partition("\t")
    return name, name == _DEV_NULL or _is_epoch(stamp)


def _is_epoch(stamp: str) -> bool:
    """Whether a ``diff -u`` timestamp is the Unix epoch, which ``diff -N`` gives absent files."""
    match = _STAMP_RE.match(stamp)
    if match is None or match[1] not in ("1970-01-01", "1969-12-31"):
        return False
    hour, minute, second, sign, off_hour, off_minute = match.groups()[1:]
    local = int(hour) * 3600 + int(minute) * 60 + int(second)
    if match[1] == "1969-12-31":
        local -= 86400
    offset = int(off_hour) * 3600 + int(off_minute) * 60
    return local == (offset if sign == "+" else -offset)


def _header_name(text: str) -> str:
    """The name after `rename from` and the like: the rest of the line, maybe quoted."""
    if text.startswith('"') and (quoted := _unquote(text)) is not None:
        return quoted[0]
    return text


def _plain_names(old: str, new: str) -> tuple[str, str]:
    """Names of a patch without `diff --git`: drop a/ b/ or a differing first directory."""
    if _DEV_NULL in (old, new):
        return old.removeprefix("a/"), new.removeprefix("b/")
    stripped_old, stripped_new, pair = _strip_pair(old, new)
    if pair is not None:
        return stripped_old, stripped_new
    old_dir, _, old_rest = old.partition("/")
    new_dir, _, new_rest = new.partition("/")
    if old_rest and old_rest == new_rest and old_dir != new_dir:
        return old_rest, new_rest
    return old, new


class _FileBuilder:
    """What is known so far about one file of the diff."""

    __slots__ = (
        "copy_from",
        "copy_to",
        "deleted",
        "git",
        "git_names",
        "has_sides",
        "hunks",
        "index_mode",
        "is_binary",
        "lineno",
        "minus",
        "new_file",
        "new_mode",
        "offset",
        "old_mode",
        "plus",
        "prefixes",
        "rename_from",
        "rename_to",
        "similarity",
    )

    def __init__(self, item: _Item, git: bool, reader: _HunkReader | None) -> None:
        self.lineno = item[0]
        self.offset = item[2] if reader is not None else None
        self.git = git
        self.git_names: tuple[str, str] | None = None
        self.prefixes: tuple[str, str] | None = None
        self.has_sides = False
        self.minus: str | None = None
        self.plus: str | None = None
        self.rename_from: str | None = None
        self.rename_to: str | None = None
        self.copy_from: str | None = None
        self.copy_to: str | None = None
        self.new_file = False
        self.deleted = False
        self.old_mode: str | None = None
        self.new_mode: str | None = None
        self.index_mode: str | None = None
        self.similarity: int | None = None
        self.is_binary = False
        self.hunks: list[Hunk] | _FileHunks = [] if reader is None else _FileHunks(reader)

    def header(self, line: str) -> str | None:
        """Apply one extended header line; None if it is not one, else an error or ''."""
        key, sep, value = line.partition(" ")
        if key in ("old", "new", "deleted", "rename", "copy") and sep:
            key2, _, value = value.partition(" ")
            key = f"{key} {key2}"
            if key in ("new file", "deleted file"):
                key3, _, value = value.partition(" ")
                key = f"{key} {key3}"
        elif key in ("similarity", "dissimilarity"):
            key2, _, value = value.partition(" ")
            key = f"{key} {key2}"
        if key.endswith("mode"):
            value = sys.intern(value)  # a big diff repeats the same few modes
        if key == "old mode":
            self.old_mode = value
        elif key == "new mode":
            self.new_mode = value
        elif key == "new file mode":
            self.new_file, self.new_mode = True, value
        elif key == "deleted file mode":
            self.deleted, self.old_mode = True, value
        elif key in ("rename from", "rename old"):
            self.rename_from = _header_name(value)
        elif key in ("rename to", "rename new"):
            self.rename_to = _header_name(value)
        elif key == "copy from":
            self.copy_from = _header_name(value)
        elif key == "copy to":
            self.copy_to = _header_name(value)
        elif key == "similarity index":
            digits = value.removesuffix("%")
            if not (digits.isascii() and digits.isdigit() and len(digits) <= 3):
                return f"bad similarity index {_clip(value)}"
            self.similarity = int(digits)
        elif key == "index":
            _, _, mode = value.partition(" ")
            self.index_mode = sys.intern(mode) if mode else None
        elif key != "dissimilarity index":
            return None
        return ""

    def sides(self, minus: str, plus: str) -> None:
        """Record the names of a `---`/`+++` pair (or a binary files line)."""
        (old, old_absent), (new, new_absent) = _side_name(minus), _side_name(plus)
        if not self.git:
            old, new = _plain_names(old, new)
        else:
            # Unsplittable `diff --git` names: assume the default prefixes.
            a, b = self.prefixes or (("a/", "b/") if self.git_names is None else ("", ""))
            old, new = old.removeprefix(a), new.removeprefix(b)
        self.has_sides = True
        self.minus = None if old_absent else old
        self.plus = None if new_absent else new

    def build(self) -> FileDiff | None:
        """The finished FileDiff, or None when no name is known."""
        fallback = self.git_names or (None, None)
        old = self.rename_from or self.copy_from
        new = self.rename_to or self.copy_to
        if old is None:
            old = self.minus if self.has_sides else fallback[0]
        if new is None:
            new = self.plus if self.has_sides else fallback[1]
        if old == "" or new == "":  # a name cut off at the end of a truncated diff
            old, new = old or new or None, new or old or None
        status: FileStatus
        if self.new_file or (old is None and new is not None):
            status, old = "added", None
        elif self.deleted or (new is None and old is not None):
            status, new = "deleted", None
        elif self.rename_from is not None or self.rename_to is not None:
            status = "renamed"
        elif self.copy_from is not None or self.copy_to is not None:
            status = "copied"
        else:
            status = "modified"
        if old is None and new is None:
            return None
        if old == new:
            new = old  # one string for both
        old_mode, new_mode = self.old_mode, self.new_mode
        if self.index_mode is not None:
            if status != "added" and old_mode is None:
                old_mode = self.index_mode
            if status != "deleted" and new_mode is None:
                new_mode = self.index_mode
        return FileDiff(
            old_path=old,
            new_path=new,
            status=status,
            hunks=tuple(self.hunks) if isinstance(self.hunks, list) else self.hunks,
            is_binary=self.is_binary,
            old_mode=old_mode,
            new_mode=new_mode,
            similarity=self.similarity,
            is_submodule=_SUBMODULE_MODE in (old_mode, new_mode),
            offset=self.offset,
        )


_Item = tuple[int, str, int]  # line number, text, byte offset (0 when not tracked)


class _Parser:
    """A line-driven state machine; hunk bodies are read by a tight inner loop. With a
    `reader`, hunks are recorded compactly (see `_FileHunks`) instead of keeping their lines."""

    def __init__(self, reader: _HunkReader | None = None) -> None:
        self.reader = reader
        self.files: list[FileDiff] = []
        self.errors: list[str] = []
        self.dropped_errors = 0
        self.file: _FileBuilder | None = None
        self.state = _QUIET
        # Shared int objects for line numbers: a big diff repeats the same few thousand.
        self.numbers: dict[int, int] = {}

    def error(self, lineno: int, message: str) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(f"line {lineno}: {message}")
        else:
            self.dropped_errors += 1

    def run(self, it: Iterator[_Item]) -> Diff:
        item = next(it, None)
        while item is not None:
            item = self.line(item, it) or next(it, None)
        self.finish_file()
        if self.dropped_errors:
            self.errors.append(f"… and {self.dropped_errors} more errors")
        return Diff(files=tuple(self.files), errors=tuple(self.errors))

    def finish_file(self) -> None:
        builder, self.file = self.file, None
        if builder is None:
            return
        built = builder.build()
        if built is None:
            self.error(builder.lineno, "cannot read the file names of this header")
        else:
            self.files.append(built)

    def new_file(self, item: _Item, git: bool) -> _FileBuilder:
        self.finish_file()
        builder = self.file = _FileBuilder(item, git, self.reader)
        return builder

    def line(self, item: _Item, it: Iterator[_Item]) -> _Item | None:
        """Handle one line outside a hunk; returns a read-ahead line still to handle."""
        lineno = item[0]
        line = _chomp(item[1])
        if line.startswith("diff --git "):
            self.start_git(item, line[11:])
        elif line.startswith(("diff --cc ", "diff --combined ")):
            self.finish_file()
            self.error(lineno, "combined (merge) diffs are not supported; file skipped")
            self.state = _QUIET
        elif line.startswith("@@ "):
            return self.hunk(item, line, it)
        elif line.startswith("--- "):
            ahead = next(it, None)
            if ahead is not None and ahead[1].startswith("+++ "):
                self.start_sides(item, line[4:], _chomp(ahead[1])[4:])
                return None
            self.other(lineno, line)
            return ahead
        elif (
            self.state == _HEADER
            and self.file is not None
            and (message := self.file.header(line)) is not None
        ):
            if message:
                self.error(lineno, message)
        elif line.startswith("GIT binary patch") and self.file is not None:
            self.file.is_binary = True
            self.state = _QUIET
        elif line.startswith("Binary files ") and line.endswith(" differ"):
            self.binary(item, line[13:-7])
        else:
            self.other(lineno, line)
        return None

    def other(self, lineno: int, line: str) -> None:
        """A line that is no header: commentary, a mail or `git log` separator, or a stray
        hunk line."""
        if line.startswith(("From ", "commit ")) or line == "-- ":
            self.state = _QUIET
        elif self.state != _QUIET and line[:1] in ("+", "-", " ", "\\"):
            self.error(lineno, f"line outside any hunk: {_clip(line)}")
            self.state = _QUIET

    def start_git(self, item: _Item, rest: str) -> None:
        builder = self.new_file(item, git=True)
        names = _git_names(rest)
        if names is not None and names[0] and names[1]:  # a cut-off header names no file
            builder.git_names = names[0], names[1]
            builder.prefixes = names[2]
        self.state = _HEADER

    def start_sides(self, item: _Item, minus: str, plus: str) -> None:
        builder = self.file
        if builder is None or self.state != _HEADER or builder.has_sides:
            builder = self.new_file(item, git=False)
        builder.sides(minus, plus)
        self.state = _AFTER

    def binary(self, item: _Item, names: str) -> None:
        if self.state == _HEADER and self.file is not None:
            self.file.is_binary = True
            self.state = _AFTER
            return
        parts = names.split(" and ")
        if len(parts) != 2:
            self.error(item[0], f"cannot split the names of a binary file line: {_clip(names)}")
            return
        builder = self.new_file(item, git=False)
        builder.sides(parts[0], parts[1])
        builder.is_binary = True
        self.state = _AFTER

    def hunk(self, item: _Item, header: str, it: Iterator[_Item]) -> _Item | None:
        """Read a hunk from its header line; returns the first line after it, if read."""
        builder = self.file
        match = _HUNK_RE.fullmatch(header)
        if builder is None or match is None:
            problem = "hunk header without a file header" if builder is None else "bad hunk header"
            self.error(item[0], f"{problem}: {_clip(header)}")
            self.state = _QUIET
            return None
        old_start, old_count, new_start, new_count = (
            int(g) if g is not None else 1 for g in match.groups()[:4]
        )
        hunks = builder.hunks
        if not isinstance(hunks, list):
            hunks.begin(new_start)
        lines, ahead, overflow, last = self.hunk_lines(
            item[0],
            it,
            old_start,
            old_count,
            new_start,
            new_count,
            None if isinstance(hunks, list) else hunks,
        )
        if isinstance(hunks, list):
            hunks.append(Hunk(old_start, old_count, new_start, new_count, match[5], tuple(lines)))
        else:
            end = (last or item)[2] + _byte_length((last or item)[1]) + 1
            hunks.record((old_start, old_count, new_start, new_count), item[2], end)
        self.state = _QUIET if overflow else _AFTER
        return ahead

    def hunk_lines(
        self,
        lineno: int,
        it: Iterator[_Item],
        old_no: int,
        old_left: int,
        new_no: int,
        new_left: int,
        index: _FileHunks | None,
    ) -> tuple[list[DiffLine], _Item | None, bool, _Item | None]:
        """A hunk's lines (none when recording into `index`), the line read after them, whether
        the hunk had too many lines, and the hunk's last line."""
        lines: list[DiffLine] = []
        append = lines.append
        number = self.numbers.setdefault
        counts = old_left, new_left
        last: _Item | None = None
        text, crlf = "", False
        if old_left or new_left:
            for item in it:
                raw = item[1]
                kind = raw[:1]
                if index is None:
                    crlf = raw.endswith("\r")
                    text = raw[1:-1] if crlf else raw[1:]
                blank = kind != " " and raw in ("", "\r")
                if (kind == " " or blank) and old_left and new_left:
                    if index is None:
                        o, n = number(old_no, old_no), number(new_no, new_no)
                        append(DiffLine("context", text, o, n, False, crlf))
                    old_no, new_no, old_left, new_left = (
                        old_no + 1,
                        new_no + 1,
                        old_left - 1,
                        new_left - 1,
                    )
                elif kind == "+" and new_left:
                    if index is None:
                        append(DiffLine("added", text, None, number(new_no, new_no), False, crlf))
                    else:
                        index.add(new_no)
                    new_no, new_left = new_no + 1, new_left - 1
                elif kind == "-" and old_left:
                    if index is None:
                        append(DiffLine("deleted", text, number(old_no, old_no), None, False, crlf))
                    else:
                        index.deleted += 1
                    old_no, old_left = old_no + 1, old_left - 1
                elif kind == "\\":
                    self.no_newline(item[0], lines, counts != (old_left, new_left))
                elif kind in ("+", "-", " ") or blank:
                    self.error(item[0], f"more lines than the hunk header at line {lineno} counts")
                    return lines, None, True, last
                else:
                    self.error(
                        item[0], f"hunk ends early (expected {old_left} old, {new_left} new lines)"
                    )
                    return lines, item, False, last
                last = item
                if not (old_left or new_left):
                    break
            else:
                self.error(lineno, "input ends inside this hunk")
                return lines, None, False, last
        ahead = next(it, None)
        if ahead is not None and ahead[1].startswith("\\"):
            self.no_newline(ahead[0], lines, counts != (old_left, new_left))
            last, ahead = ahead, None
        return lines, ahead, False, last

    def no_newline(self, lineno: int, lines: list[DiffLine], after_a_line: bool) -> None:
        if not after_a_line:
            self.error(lineno, "'\\ No newline at end of file' with no line before it")
        elif lines:
            lines[-1] = replace(lines[-1], no_newline_at_eof=True)
