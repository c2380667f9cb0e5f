"""File names in diff headers: C-style quoting, prefix pairs, absent sides."""

from __future__ import annotations

import re

# Source/destination prefix pairs: default, mnemonic (diff.mnemonicPrefix) and --no-index.
PREFIX_PAIRS = frozenset(
    {("a/", "b/"), ("i/", "w/"), ("c/", "w/"), ("c/", "i/"), ("o/", "w/"), ("1/", "2/")}
)
DEV_NULL = "/dev/null"
_STAMP_RE = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? ([+-])(\d\d)(\d\d)")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(text: str) -> tuple[str, int] | None:
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


def strip_pair(old: str, new: str) -> tuple[str, str, tuple[str, str] | None]:
    """Remove a known source/destination prefix pair when both names carry it."""
    pair = (old[:2], new[:2])
    if pair in PREFIX_PAIRS:
        return old[2:], new[2:], pair
    return old, new, None


def git_names(rest: str) -> tuple[str, str, tuple[str, str] | None] | None:
    """Names (prefix removed) and prefix pair of a `diff --git` line, or None if ambiguous."""
    if rest.startswith('"'):
        first = unquote(rest)
        if first is None or rest[first[1] : first[1] + 1] != " ":
            return None
        old, tail = first[0], rest[first[1] + 1 :]
        if tail.startswith('"'):
            second = unquote(tail)
            if second is None or second[1] != len(tail):
                return None
            return strip_pair(old, second[0])
        return strip_pair(old, tail)
    if rest.endswith('"') and (cut := rest.find(' "')) != -1:
        second = unquote(rest[cut + 1 :])
        if second is None or second[1] != len(rest) - cut - 1:
            return None
        return strip_pair(rest[:cut], second[0])
    # Unquoted names may contain spaces; equal names (the usual case) split in the middle.
    mid = (len(rest) - 1) // 2
    if len(rest) % 2 and rest[mid] == " ":
        old, new = rest[:mid], rest[mid + 1 :]
        if old == new:
            return old, new, None
        if old[2:] == new[2:] and (old[:2], new[:2]) in PREFIX_PAIRS:
            return strip_pair(old, new)
    if rest.count(" ") == 1:
        old, new = rest.split(" ")
        return strip_pair(old, new)
    if rest.startswith("a/") and rest.count(" b/") == 1:
        old, new = rest.split(" b/")
        return old[2:], new, ("a/", "b/")
    return None


def side_name(text: str) -> tuple[str, bool]:
    """The name on a `---`/`+++` line and whether that side is absent (/dev/null, or the
    epoch timestamp ``diff -N`` gives). Unquoted names end at a tab."""
    quoted = unquote(text) if text.startswith('"') else None
    if quoted is not None:
        name, stamp = quoted[0], text[quoted[1] :].lstrip("\t")
    else:
        name, _, stamp = text.partition("\t")
    return name, name == DEV_NULL or _is_epoch(stamp)


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


def header_name(text: str) -> str:
    """The name after `rename from` and the like: the rest of the line, maybe quoted."""
    if text.startswith('"') and (quoted := unquote(text)) is not None:
        return quoted[0]
    return text


def plain_names(old: str, new: str) -> tuple[str, str]:
    """Names of a patch without `diff --git`: drop a/ b/ or a differing first directory."""
    if DEV_NULL in (old, new):
        return old.removeprefix("a/"), new.removeprefix("b/")
    stripped_old, stripped_new, pair = strip_pair(old, new)
    if pair is not None:
        return stripped_old, stripped_new
    old_dir, _, old_rest = old.partition("/")
    new_dir, _, new_rest = new.partition("/")
    if old_rest and old_rest == new_rest and old_dir != new_dir:
        return old_rest, new_rest
    return old, new
