"""Finding a reviewer's code excerpt in a file: whitespace-insensitive, tolerant of elisions,
diff markers and line-number gutters, and of lines a quote leaves out without saying so (each
quoted line, in order, at most MAX_SKIP lines after the one before)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from deepreview.consolidate.similarity import squash

#: A line that only says "code left out here": `...`, `…`, `// ...`, `# ...`, `/* ... */`.
_ELISION_LINE = re.compile(r"^(?://|#|--|;|/\*|<!--)?(?:\.\.\.|…)(?:\*/|-->)?$")
_ELLIPSIS = re.compile(r"\.\.\.|…")
#: A trailing comment, where reviewers annotate the code they quote.
_ANNOTATION = re.compile(r"(?:#|//).*$")
_GUTTER = re.compile(r"^\s*\d+\s*[:|]\s?")
_FENCE = re.compile(r"^\s*(```|~~~)")
#: Diff lines that are not part of the head file: deletions, hunk and file headers.
_NOT_AT_HEAD = ("-", "@@", "+++ ")
#: Excerpts shorter than this (without whitespace) match almost anywhere and prove nothing.
MIN_EXCERPT_CHARS = 6
#: Non-blank lines a quote may leave out, unmarked, between two lines it quotes.
MAX_SKIP = 30


#: An excerpt read as segments (split at elisions) of squashed lines.
Variant = list[list[str]]


class FileIndex:
    """A file's non-blank lines, squashed (whitespace removed), with their line numbers."""

    def __init__(self, lines: Sequence[str]) -> None:
        squashed = ["".join(line.split()) for line in lines]
        self.linenos = [n for n, text in enumerate(squashed, 1) if text]
        self.texts = [text for text in squashed if text]

    def positions(self, text: str) -> Iterator[int]:
        """Row positions whose squashed text equals `text`, in file order."""
        pos = -1
        while True:
            try:
                pos = self.texts.index(text, pos + 1)
            except ValueError:
                return
            yield pos


def excerpt_variants(excerpt: str) -> list[Variant]:
    """Readings of `excerpt` as segments of squashed lines (split at elisions), most literal
    first: as written, then without a line-number gutter, then as diff lines (deleted lines
    skipped, markers stripped). Empty when the excerpt is too short to prove anything."""
    lines = [ln for ln in excerpt.splitlines() if not _FENCE.match(ln)]
    candidates = [lines]
    body = [ln for ln in lines if ln.strip()]
    if body and all(_GUTTER.match(ln) for ln in body):
        candidates.append([_GUTTER.sub("", ln, count=1) for ln in lines])
    if any(ln[:1] in "+-" for ln in body) and all(ln[:1] in "+- @" for ln in body):
        candidates.append([ln[1:] for ln in lines if not ln.startswith(_NOT_AT_HEAD)])
    variants: list[Variant] = []
    for cand in candidates:
        segments = _segments(cand)
        total = sum(len(s) for seg in segments for s in seg)
        if total >= MIN_EXCERPT_CHARS and segments not in variants:
            variants.append(segments)
    return variants


def _segments(lines: Sequence[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for line in lines:
        text = squash(line)
        if not text:
            continue
        if _ELISION_LINE.match(text):
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(text)
    return [s for s in segments if s]


def locate(
    variants: Sequence[Variant], index: FileIndex, near: int | None
) -> tuple[int, int] | None:
    """The first and last line an excerpt (as `excerpt_variants` reads it) covers in the file,
    or None if it is not there. Of several occurrences the one closest to `near` (the cited
    line) wins, else the first."""
    for segments in variants:
        found = _find(segments, index, near)
        if found is not None:
            return found
    for segments in variants:
        found = _find_skipping([line for seg in segments for line in seg], index, near)
        if found is not None:
            return found
    return None


def _find_skipping(lines: list[str], index: FileIndex, near: int | None) -> tuple[int, int] | None:
    """The excerpt's lines in order, each at most MAX_SKIP rows after the previous one (the
    first and last may be cut); of several such places the one closest to `near`."""
    matches: list[tuple[int, int]] = []
    last = len(lines) - 1
    for start, text in enumerate(index.texts):
        if not _line_matches(lines[0], text, True):
            continue
        row = start
        for n, pattern in enumerate(lines[1:], 1):
            stop = min(row + 1 + MAX_SKIP + 1, len(index.texts))
            row = next(
                (
                    r
                    for r in range(row + 1, stop)
                    if _line_matches(pattern, index.texts[r], n == last)
                ),
                -1,
            )
            if row < 0:
                break
        else:
            matches.append((index.linenos[start], index.linenos[row]))
    if not matches:
        return None
    return min(matches, key=lambda m: (abs(m[0] - near), m[0])) if near is not None else matches[0]


def _find(segments: Variant, index: FileIndex, near: int | None) -> tuple[int, int] | None:
    first = segments[0][0]
    starts = index.positions(first) if not _ELLIPSIS.search(first) else iter(())
    matches = [m for m in (_match_from(segments, index, s) for s in starts) if m is not None]
    if not matches:  # the first line may be elided or cut: try every row
        scan = (_match_from(segments, index, s) for s in range(len(index.texts)))
        matches = [m for m in scan if m is not None]
    if not matches:
        return None
    if near is None:
        return matches[0]
    return min(matches, key=lambda m: (abs(m[0] - near), m[0]))


def _match_from(segments: Variant, index: FileIndex, start: int) -> tuple[int, int] | None:
    """Match the segments beginning exactly at row `start`; later segments anywhere after."""
    end = _segment_at(segments[0], index, start)
    if end is None:
        return None
    for seg in segments[1:]:
        pos = end + 1
        while pos < len(index.texts):
            seg_end = _segment_at(seg, index, pos)
            if seg_end is not None:
                end = seg_end
                break
            pos += 1
        else:
            return None
    return index.linenos[start], index.linenos[end]


def _segment_at(segment: list[str], index: FileIndex, start: int) -> int | None:
    """The row of the segment's last line if it matches starting at row `start`."""
    if start + len(segment) > len(index.texts):
        return None
    last = len(segment) - 1
    for offset, pattern in enumerate(segment):
        partial = offset in (0, last)
        if not _line_matches(pattern, index.texts[start + offset], partial):
            return None
    return start + last


def _line_matches(pattern: str, text: str, partial: bool) -> bool:
    """Equal, or equal with `...` standing for anything, or (at segment edges) contained; also
    equal once a trailing comment the reviewer added (`# <- bug`) is left out."""
    if pattern == text:
        return True
    pieces = _ELLIPSIS.split(pattern)
    if len(pieces) > 1:
        pos = 0
        for piece in pieces:
            found = text.find(piece, pos)
            if found < 0:
                return False
            pos = found + len(piece)
        return True
    if partial and pattern in text:
        return True
    code = _ANNOTATION.sub("", pattern)
    if code == pattern or len(code) < MIN_EXCERPT_CHARS:
        return False
    return code in text if partial else text.startswith(code)
