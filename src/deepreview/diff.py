"""The diff model (files, hunks and line maps of a git unified diff) and its parser."""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

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
    with _gc_paused():
        return _Parser().run(_split_lines(blocks))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector. The parser makes millions of small acyclic objects,
    each batch of which would start a collection: a third of the parse time on big diffs."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decode(chunks: Iterable[bytes | memoryview]) -> Iterator[str]:
    """UTF-8 text of byte chunks; undecodable bytes become surrogate escapes."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    for chunk in chunks:
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


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
        "old_mode",
        "plus",
        "prefixes",
        "rename_from",
        "rename_to",
        "similarity",
    )

    def __init__(self, lineno: int, git: bool) -> None:
        self.lineno = lineno
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
        self.hunks: list[Hunk] = []

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
            self.index_mode = mode or None
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
            hunks=tuple(self.hunks),
            is_binary=self.is_binary,
            old_mode=old_mode,
            new_mode=new_mode,
            similarity=self.similarity,
            is_submodule=_SUBMODULE_MODE in (old_mode, new_mode),
        )


_Item = tuple[int, str]


class _Parser:
    """A line-driven state machine; hunk bodies are read by a tight inner loop."""

    def __init__(self) -> None:
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

    def run(self, lines: Iterator[str]) -> Diff:
        it = enumerate(lines, 1)
        item = next(it, None)
        while item is not None:
            item = self.line(item[0], item[1], it) or next(it, None)
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

    def line(self, lineno: int, raw: str, it: Iterator[_Item]) -> _Item | None:
        """Handle one line outside a hunk; returns a read-ahead line still to handle."""
        line = _chomp(raw)
        if line.startswith("diff --git "):
            self.start_git(lineno, line[11:])
        elif line.startswith(("diff --cc ", "diff --combined ")):
            self.finish_file()
            self.error(lineno, "combined (merge) diffs are not supported; file skipped")
            self.state = _QUIET
        elif line.startswith("@@ "):
            return self.hunk(lineno, line, it)
        elif line.startswith("--- "):
            ahead = next(it, None)
            if ahead is not None and ahead[1].startswith("+++ "):
                self.start_sides(lineno, line[4:], _chomp(ahead[1])[4:])
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
            self.binary(lineno, line[13:-7])
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

    def start_git(self, lineno: int, rest: str) -> None:
        self.finish_file()
        builder = _FileBuilder(lineno, git=True)
        names = _git_names(rest)
        if names is not None and names[0] and names[1]:  # a cut-off header names no file
            builder.git_names = names[0], names[1]
            builder.prefixes = names[2]
        self.file = builder
        self.state = _HEADER

    def start_sides(self, lineno: int, minus: str, plus: str) -> None:
        builder = self.file
        if builder is None or self.state != _HEADER or builder.has_sides:
            self.finish_file()
            builder = self.file = _FileBuilder(lineno, git=False)
        builder.sides(minus, plus)
        self.state = _AFTER

    def binary(self, lineno: int, names: str) -> None:
        if self.state == _HEADER and self.file is not None:
            self.file.is_binary = True
            self.state = _AFTER
            return
        parts = names.split(" and ")
        if len(parts) != 2:
            self.error(lineno, f"cannot split the names of a binary file line: {_clip(names)}")
            return
        self.finish_file()
        builder = self.file = _FileBuilder(lineno, git=False)
        builder.sides(parts[0], parts[1])
        builder.is_binary = True
        self.state = _AFTER

    def hunk(self, lineno: int, header: str, it: Iterator[_Item]) -> _Item | None:
        """Read a hunk from its header line; returns the first line after it, if read."""
        builder = self.file
        match = _HUNK_RE.fullmatch(header)
        if builder is None or match is None:
            problem = "hunk header without a file header" if builder is None else "bad hunk header"
            self.error(lineno, f"{problem}: {_clip(header)}")
            self.state = _QUIET
            return None
        old_start, old_count, new_start, new_count = (
            int(g) if g is not None else 1 for g in match.groups()[:4]
        )
        lines, ahead, overflow = self.hunk_lines(
            lineno, it, old_start, old_count, new_start, new_count
        )
        builder.hunks.append(
            Hunk(old_start, old_count, new_start, new_count, match[5], tuple(lines))
        )
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
    ) -> tuple[list[DiffLine], _Item | None, bool]:
        """A hunk's lines, the line read after them, and whether the hunk had too many lines."""
        lines: list[DiffLine] = []
        append = lines.append
        number = self.numbers.setdefault
        if old_left or new_left:
            for item in it:
                raw = item[1]
                kind = raw[:1]
                crlf = raw.endswith("\r")
                text = raw[1:-1] if crlf else raw[1:]
                blank = kind != " " and raw in ("", "\r")
                if (kind == " " or blank) and old_left and new_left:
                    o, n = number(old_no, old_no), number(new_no, new_no)
                    append(DiffLine("context", text, o, n, False, crlf))
                    old_no, new_no, old_left, new_left = (
                        old_no + 1,
                        new_no + 1,
                        old_left - 1,
                        new_left - 1,
                    )
                elif kind == "+" and new_left:
                    append(DiffLine("added", text, None, number(new_no, new_no), False, crlf))
                    new_no, new_left = new_no + 1, new_left - 1
                elif kind == "-" and old_left:
                    append(DiffLine("deleted", text, number(old_no, old_no), None, False, crlf))
                    old_no, old_left = old_no + 1, old_left - 1
                elif kind == "\\":
                    self.no_newline(item[0], lines)
                elif kind in ("+", "-", " ") or blank:
                    self.error(item[0], f"more lines than the hunk header at line {lineno} counts")
                    return lines, None, True
                else:
                    self.error(
                        item[0], f"hunk ends early (expected {old_left} old, {new_left} new lines)"
                    )
                    return lines, item, False
                if not (old_left or new_left):
                    break
            else:
                self.error(lineno, "input ends inside this hunk")
                return lines, None, False
        ahead = next(it, None)
        if ahead is not None and ahead[1].startswith("\\"):
            self.no_newline(ahead[0], lines)
            ahead = None
        return lines, ahead, False

    def no_newline(self, lineno: int, lines: list[DiffLine]) -> None:
        if lines:
            lines[-1] = replace(lines[-1], no_newline_at_eof=True)
        else:
            self.error(lineno, "'\\ No newline at end of file' with no line before it")
