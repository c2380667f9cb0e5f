"""The non-finding sections of a Markdown review: design concerns and strengths, acknowledged
limitations, coverage, prior-round verdicts and the agent's own verdict."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from deepreview.parse.blocks import parse_blocks
from deepreview.parse.findings import LIST_MARKER
from deepreview.parse.locations import find_locations, parse_reference, relative_path
from deepreview.parse.severity import SCOPE_TAG, scope_of
from deepreview.schema import (
    ConcernScope,
    CoverageEntry,
    DesignConcern,
    Limitation,
    PriorFindingVerdict,
    Strength,
)

_NONE = re.compile(r"^\s*[*_]*(?:none|n/a|nothing|no (?:issues|concerns|findings))\b", re.I)
_BOLD_START = re.compile(r"^\s*(?:[*_]{2})(?P<title>.+?)(?:[*_]{2})(?P<rest>.*)$")
_OBSERVATION_ID = re.compile(r"^(?:[A-Z]\d{1,3}|\d{1,3})[.:)]\s+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_CODE_SPAN = re.compile(r"`(?P<q>[^`]+)`")
_COMMENT = re.compile(r"^\s*(?://|#|/\*|--|;|<!--|TODO|FIXME|XXX|HACK|NOTE)")
_CURLY = re.compile(r"“(?P<q>[^”]{8,})”")
_STRAIGHT = re.compile(r"\"(?P<q>[^\"]{8,})\"")
_LEADING_JUNK = re.compile(r"^(?:[\s”\"'.,:;)—–-]+|\[[^\]]*\]\([^)]*\)|`[^`]*`(?=[\s.,:;—–-]))+")
_FINDING_REF = re.compile(
    r"\b(?P<word>findings?|critical|important|suggestions?)\s*#?\s*(?P<nums>\d+(?:\s*(?:,|and)\s*#?\d+)*)",
    re.I,
)
_STATUS_WORDS: tuple[tuple[str, Literal["fixed", "still-present", "changed"]], ...] = (
    (
        r"not (?:addressed|fixed|resolved)|still|unresolved|unaddressed|open\b|remains",
        "still-present",
    ),
    (r"partial|changed|introduc|regress", "changed"),
    (r"addressed|fixed|resolved|done|closed", "fixed"),
)


@dataclass
class Entry:
    """A list item or bold-led paragraph of a section: title, body, scope tag."""

    title: str
    body: str
    scope: ConcernScope | None
    text: str


def entries(text: str) -> list[Entry]:
    """The items of a section: list items, bold-led paragraphs and sub-headings each start one;
    other paragraphs and code blocks continue the previous item."""
    lines = text.split("\n")
    chunks: list[list[str]] = []
    for block in parse_blocks(text):
        block_lines = lines[block.start : block.end]
        if block.kind == "list":
            for item in block.items:
                chunks.append(_dedent_item(lines[item.start : item.end]))
        elif block.kind == "heading":
            chunks.append([block.text])
        elif block.kind == "paragraph" and (not chunks or _BOLD_START.match(block_lines[0])):
            if not _NONE.match(block_lines[0]):
                chunks.append(block_lines)
        elif chunks:
            chunks[-1].extend(["", *block_lines])
    return [_entry(chunk) for chunk in chunks if "".join(chunk).strip()]


def _dedent_item(item_lines: list[str]) -> list[str]:
    first = item_lines[0]
    marker = LIST_MARKER.match(first)
    width = marker.end() if marker else 0
    out = [first[width:]]
    for ln in item_lines[1:]:
        spaces = len(ln) - len(ln.lstrip(" "))
        out.append(ln[min(spaces, width) :])
    return out


def _entry(chunk: list[str]) -> Entry:
    first = chunk[0].strip()
    first = _OBSERVATION_ID.sub("", first) if _BOLD_START.match(first) is None else first
    scope: ConcernScope | None = None
    tag = SCOPE_TAG.search(first)
    if tag:
        scope = scope_of(tag.group("scope"))
        first = re.sub(r"(\*\*|__)\s*\1", "", first[: tag.start()] + first[tag.end() :]).strip()
    m = _BOLD_START.match(first)
    if m:
        title = _OBSERVATION_ID.sub("", m.group("title").strip())
        rest = m.group("rest")
    else:
        title, rest = _first_sentence(first)
    title = _LINK.sub(r"\1", title).strip().rstrip(" :.—–-").strip()
    tail = SCOPE_TAG.search(title)
    if tail:
        scope = scope_of(tail.group("scope"))
        title = (title[: tail.start()] + title[tail.end() :]).strip().rstrip(" :—–-")
    rest = re.sub(r"^[\s:.—–-]+", "", rest)
    body = "\n".join([rest, *chunk[1:]]).strip()
    return Entry(title=title, body=body, scope=scope, text="\n".join(chunk))


def _first_sentence(text: str) -> tuple[str, str]:
    m = re.search(r"(?<=[.!?:])\s+|\s+[—–]\s+", text)
    if m and m.start() <= 160:
        return text[: m.start()], text[m.end() :]
    return text, ""


def concerns(text: str, root: str | None) -> list[DesignConcern]:
    """Design concerns; untagged items are taken as in-scope."""
    return [
        DesignConcern(
            title=e.title,
            body=e.body,
            scope=e.scope or "in-scope",
            locations=find_locations(e.text, [], root),
        )
        for e in entries(text)
        if e.title
    ]


def strengths(text: str, root: str | None) -> list[Strength]:
    """What the agent says the change does well."""
    return [
        Strength(title=e.title, body=e.body, locations=find_locations(e.text, [], root))
        for e in entries(text)
        if e.title
    ]


def limitations(text: str, root: str | None) -> list[Limitation]:
    """Limitations the author states: the quoted comment, where it is, the agent's judgement."""
    found: list[Limitation] = []
    for e in entries(text):
        locs = find_locations(e.text, [], root)
        flat = " ".join(e.text.split())
        quote, judgement = _quote(flat)
        if quote is None:
            quote, judgement = e.title, e.body
        found.append(
            Limitation(location=locs[0] if locs else None, quote=quote, judgement=judgement)
        )
    return found


def _quote(text: str) -> tuple[str | None, str]:
    """The quoted comment in a limitation (a code span holding a comment, else a quotation)
    and the text after it."""
    m = next((c for c in _CODE_SPAN.finditer(text) if _COMMENT.match(c.group("q"))), None)
    m = m or _CURLY.search(text) or _STRAIGHT.search(text)
    if m is None:
        return None, ""
    judgement = _LEADING_JUNK.sub("", text[m.end() :]).strip()
    return m.group("q").strip().strip("`").strip(), judgement


def coverage(text: str, root: str | None) -> list[CoverageEntry]:
    """Per-file coverage from a table (`| file | status |`) or a list (`- file — status`).
    Finding references keep the agent's words (`Finding 2`) until resolved by the caller."""
    rows: list[tuple[str, str]] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("|"):
            cells = [c.strip() for c in s.strip("|").split("|")]
            if len(cells) >= 2 and not re.fullmatch(r"[:\- ]*", cells[1]):
                rows.append((cells[0], " ".join(cells[1:])))
        elif LIST_MARKER.match(s):
            item = LIST_MARKER.sub("", s, count=1)
            m = re.match(r"^(?P<file>\S.*?)(?:\s+[—–]\s+|\s+-{1,2}\s+|:\s+)(?P<status>.*)$", item)
            if m:
                rows.append((m.group("file"), m.group("status")))
    found: list[CoverageEntry] = []
    for file_cell, status in rows:
        path = _coverage_path(file_cell, root)
        if path is None:
            continue
        reviewed = not re.search(r"not (?:reviewed|examined|read)|skipped|unreviewed", status, re.I)
        found.append(CoverageEntry(path=path, reviewed=reviewed, finding_ids=_finding_refs(status)))
    return found


def _coverage_path(cell: str, root: str | None) -> str | None:
    locs = find_locations(cell, [], root)
    if locs:
        return locs[0].path
    ref = parse_reference(cell.strip().strip("*_`[]"))
    return relative_path(ref[0], root) if ref else None


def _finding_refs(status: str) -> list[str]:
    refs = re.findall(r"\b[CIS]\d{1,3}\b", status)
    for m in _FINDING_REF.finditer(status):
        word = m.group("word").lower()
        prefix = "#" if word.startswith("finding") else word[0].upper()
        refs.extend(f"{prefix}{n}" for n in re.findall(r"\d+", m.group("nums")))
    return list(dict.fromkeys(refs))


def prior_findings(text: str) -> list[PriorFindingVerdict]:
    """Verdicts on the previous round's findings, from a table or a list."""
    verdicts: list[PriorFindingVerdict] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("|"):
            cells = [c.strip() for c in s.strip("|").split("|")]
            if len(cells) < 2 or re.fullmatch(r"[:\- ]*", cells[1]):
                continue
            ident, note = cells[0].strip("*# "), " — ".join(cells[1:])
        elif LIST_MARKER.match(s):
            item = LIST_MARKER.sub("", s, count=1)
            m = re.match(r"^[*_`]*(?P<id>[A-Z]?\d{1,3})[*_`]*[.:)]?\s*(?P<note>.*)$", item)
            if m is None:
                continue
            ident, note = m.group("id"), m.group("note")
        else:
            continue
        if not re.fullmatch(r"[A-Z]?\d{1,3}", ident):
            continue
        status = _status(cells[-1] if s.startswith("|") else note) or _status(note)
        if status is not None:
            verdicts.append(PriorFindingVerdict(finding_id=ident, status=status, note=note))
    return verdicts


def _status(note: str) -> Literal["fixed", "still-present", "changed"] | None:
    """The status word that comes first in `note` ("Addressed — changed X" is fixed)."""
    lowered = note.lower()
    hits = [
        (m.start(), status)
        for pattern, status in _STATUS_WORDS
        if (m := re.search(pattern, lowered)) is not None
    ]
    return min(hits)[1] if hits else None


_VERDICT_LINE = re.compile(
    r"^\s*(?:[-*]\s+)?[*_]*\s*(?:overall\s+)?(?:verdict|recommendation)\s*[*_]*\s*:\s*[*_]*\s*"
    r"(?P<verdict>\S.*)$",
    re.I,
)
_VERDICT_ROW = re.compile(
    r"^\s*\|\s*[*_]*(?:verdict|merge|recommendation|decision)[*_]*\s*\|\s*(?P<verdict>[^|]+)\|",
    re.I,
)


def verdict_in(text: str) -> str | None:
    """The agent's verdict from a `Verdict: ...` line or a `| Verdict | ... |` table row."""
    for line in text.split("\n"):
        m = _VERDICT_LINE.match(line) or _VERDICT_ROW.match(line)
        if m:
            return clean_inline(m.group("verdict")) or None
    return None


def clean_inline(text: str) -> str:
    """`text` on one line, without bold/italic markers."""
    return " ".join(re.sub(r"(?<![\w`])[*_]{1,2}|[*_]{1,2}(?![\w`])", "", text).split())
