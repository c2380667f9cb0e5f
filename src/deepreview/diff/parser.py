"""The parser of git unified diffs (also plain ``diff -u`` and mailed patches)."""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from itertools import count, repeat
from pathlib import Path

from deepreview.diff.hunk import DiffLine, HunkText
from deepreview.diff.model import Diff, DiffSource, FileDiff, FileStatus
from deepreview.diff.names import (
    git_names,
    header_name,
    plain_names,
    side_name,
)
from deepreview.diff.store import FileHunks, Header, HunkStore, MemoryHunks
from deepreview.gc_pause import gc_paused

#: How a hunk's text is read back from the diff file: (header, start, end) -> section, lines.
_Read = Callable[[Header, int, int], HunkText]
_CACHE_BYTES = 1 << 20


class _HunkReader:
    """Parses hunks again from the diff file; keeps the most recent few (up to `_CACHE_BYTES`
    of diff text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: OrderedDict[int, tuple[HunkText, int]] = OrderedDict()
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def read(self, header: Header, start: int, end: int) -> HunkText:
        """The section and lines of the hunk with `header` whose text is bytes start..end."""
        with self._lock:
            hit = self._cache.get(start)
            if hit is not None:
                self._cache.move_to_end(start)
                return hit[0]
        with self.path.open("rb") as fh:
            fh.seek(start)
            text = fh.read(end - start).decode("utf-8", "surrogateescape")
        items = zip(count(1), _split_lines((text,)), repeat(0))
        first = next(items, None)
        match = _HUNK_RE.fullmatch(_chomp(first[1])) if first is not None else None
        scratch = MemoryHunks()
        scratch.begin(header[2])
        lines = _Parser().hunk_lines(0, items, *header, scratch)[0]
        read = (match[5] if match is not None else "", tuple(lines))
        if end - start <= _CACHE_BYTES // 8:
            with self._lock:
                if start not in self._cache:
                    self._cache[start] = (read, end - start)
                    self._cached_bytes += end - start
                while self._cached_bytes > _CACHE_BYTES:
                    self._cached_bytes -= self._cache.popitem(last=False)[1][1]
        return read


_MAX_ERRORS = 200
_BLOCK = 1 << 16
_HUNK_RE = re.compile(r"@@ -(\d{1,18})(?:,(\d{1,18}))? \+(\d{1,18})(?:,(\d{1,18}))? @@ ?(.*)")
_SUBMODULE_MODE = "160000"
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
        parsed = _Parser(_HunkReader(path).read).run(_offset_lines(_decode(blocks(fh.read))))
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

    def __init__(self, item: _Item, git: bool, read: _Read | None) -> None:
        self.lineno = item[0]
        self.offset = item[2] if read is not None else None
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
        self.hunks: HunkStore = MemoryHunks() if read is None else FileHunks(read)

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
            self.rename_from = header_name(value)
        elif key in ("rename to", "rename new"):
            self.rename_to = header_name(value)
        elif key == "copy from":
            self.copy_from = header_name(value)
        elif key == "copy to":
            self.copy_to = header_name(value)
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
        (old, old_absent), (new, new_absent) = side_name(minus), side_name(plus)
        if not self.git:
            old, new = plain_names(old, new)
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
            hunks=self.hunks,
            is_binary=self.is_binary,
            old_mode=old_mode,
            new_mode=new_mode,
            similarity=self.similarity,
            is_submodule=_SUBMODULE_MODE in (old_mode, new_mode),
            offset=self.offset,
        )


_Item = tuple[int, str, int]  # line number, text, byte offset (0 when not tracked)


class _Parser:
    """A line-driven state machine; hunk bodies are read by a tight inner loop. Given `read`
    (how a hunk's text is read back from the diff file), hunks are stored as `FileHunks`,
    else as `MemoryHunks`."""

    def __init__(self, read: _Read | None = None) -> None:
        self.read = read
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
        builder = self.file = _FileBuilder(item, git, self.read)
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
        names = git_names(rest)
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
        hunks.begin(new_start)
        lines, ahead, overflow, last = self.hunk_lines(
            item[0], it, old_start, old_count, new_start, new_count, hunks
        )
        end = (last or item)[2] + _byte_length((last or item)[1]) + 1
        numbers = (old_start, old_count, new_start, new_count)
        hunks.finish(numbers, match[5], tuple(lines), (item[2], end))
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
        store: HunkStore,
    ) -> tuple[list[DiffLine], _Item | None, bool, _Item | None]:
        """A hunk's lines (or, when `store` keeps none, each added and deleted line recorded
        into it); the line read after them, whether the hunk had too many lines, and the
        hunk's last line."""
        lines: list[DiffLine] = []
        append = lines.append
        keep, add, delete = store.keeps_lines, store.add, store.delete
        number = self.numbers.setdefault
        counts = old_left, new_left
        last: _Item | None = None
        text, crlf = "", False
        if old_left or new_left:
            for item in it:
                raw = item[1]
                kind = raw[:1]
                if keep:
                    crlf = raw.endswith("\r")
                    text = raw[1:-1] if crlf else raw[1:]
                blank = kind != " " and raw in ("", "\r")
                if (kind == " " or blank) and old_left and new_left:
                    if keep:
                        o, n = number(old_no, old_no), number(new_no, new_no)
                        append(DiffLine("context", text, o, n, False, crlf))
                    old_no, new_no, old_left, new_left = (
                        old_no + 1,
                        new_no + 1,
                        old_left - 1,
                        new_left - 1,
                    )
                elif kind == "+" and new_left:
                    if keep:
                        append(DiffLine("added", text, None, number(new_no, new_no), False, crlf))
                    else:
                        add(new_no)
                    new_no, new_left = new_no + 1, new_left - 1
                elif kind == "-" and old_left:
                    if keep:
                        append(DiffLine("deleted", text, number(old_no, old_no), None, False, crlf))
                    else:
                        delete()
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
