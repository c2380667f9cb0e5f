"""Free-form Markdown reviews -> AgentReview.

The review is cut into sections by its headings (real ones, or bold lines naming a known
section such as `**Important Issues**`), and the findings sections into findings: numbered
list items (`1. **Title** — ...`), id-led paragraphs (`I1. **Title**`, `**S2 — Title**`),
headings (`#### I1. Title`), heads led by a priority tag (`- [P1] Title — path:12`: P0
critical, P1 important, P2 and P3 suggestions) and headings led by a severity word
(`### High: Title`, its location on a line such as `**File:** path, line 31`). Whatever
cannot be placed is described in `parse_notes`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Literal

from deepreview.parse import sections
from deepreview.parse.blocks import Block, parse_blocks, unwrap_fence
from deepreview.parse.findings import (
    BOLD_NUMBER_HEAD,
    LETTER_ID_HEAD,
    LIST_MARKER,
    NUMBER_HEAD,
    Head,
    is_location_line,
    parse_body,
    parse_head,
    tagged_head,
)
from deepreview.parse.headings import SEVERITY_KINDS, SectionKind, classify
from deepreview.parse.locations import find_locations
from deepreview.parse.severity import LETTER_SEVERITY, SEVERITY_TAG, severity_of
from deepreview.schema import (
    SEVERITY_LETTER,
    AgentReview,
    CoverageEntry,
    DesignConcern,
    Finding,
    Limitation,
    PriorFindingVerdict,
    Severity,
    Strength,
)

AreaKind = SectionKind | Literal["preamble", "title", "unknown"]

_SEVERITY_OF_KIND: dict[SectionKind, Severity] = {
    "critical": "critical",
    "important": "important",
    "suggestion": "suggestion",
}
#: A line led by a codex-style priority tag (`[P1] ...`), a finding head wherever it stands.
_PRIORITY_LED = re.compile(r"^\s*(?:[*_]{2})?\[P[0-3]\]\s*\S")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_PSEUDO_HEADING = re.compile(r"^\s*(?:[-*+]\s+)?[*_]{2}(?P<title>[^*_]+?)[*_]{2}\s*:?\s*$")
_CHATTER = re.compile(
    r"^\s*(?:I'll|I will|I'm|I am|I've|I have|I need|I see|Let me|Let's|Now\b|Okay|OK\b|Sure"
    r"|Alright|Acknowledged|Good|Great|Done|Next|First,|Looking|Checking|Reading|Based on)",
    re.I,
)
_TEXT_KINDS: dict[AreaKind, str] = {
    "summary": "summary",
    "testing": "testing",
    "documentation": "documentation",
    "commits": "commit_structure",
}


@dataclass
class _Section:
    kind: AreaKind
    title: str
    start: int
    end: int = -1
    severity: Severity | None = None
    sub: SectionKind | None = None


@dataclass
class _Draft:
    head: str
    start: int
    end: int
    width: int
    dedent_until: int
    severity: Severity | None
    section: str
    number: int | None = None


@dataclass
class _State:
    sections: list[_Section] = field(default_factory=list)
    drafts: list[_Draft] = field(default_factory=list)
    area_level: int = 0
    letter_ids: bool = False
    last_number: int | None = None


def parse_markdown_review(text: str, *, root: str | None = None) -> AgentReview:
    """Parse a free-form Markdown review. Never raises: what cannot be read is kept and
    described in `parse_notes`. `root`: the directory the agent ran in, to make absolute paths
    repository-relative."""
    if not text.strip():
        return AgentReview(parse_notes=["the answer is empty"])
    try:
        return _Parser(text, root).parse()
    except Exception as exc:  # a review must never be lost to a parser bug
        return AgentReview(
            summary=text.strip(),
            parse_notes=[f"could not parse the review ({type(exc).__name__}: {exc}); kept as text"],
        )


class _Parser:
    def __init__(self, text: str, root: str | None) -> None:
        self.text = unwrap_fence(text.replace("\r\n", "\n").replace("\r", "\n"))
        self.lines = self.text.split("\n")
        self.root = root
        self.notes: list[str] = []
        self.mapped_words: set[str] = set()
        self.state = _State(sections=[_Section("preamble", "", 0)])

    # ------------------------------------------------------------------ structure

    def parse(self) -> AgentReview:
        for block in parse_blocks(self.text):
            for part in self._split(block):
                self._block(part)
        self._close_section(len(self.lines))
        return self._review()

    @property
    def _section(self) -> _Section:
        return self.state.sections[-1]

    @property
    def _draft(self) -> _Draft | None:
        d = self.state.drafts
        return d[-1] if d and d[-1].end < 0 else None

    def _in_findings(self) -> bool:
        return self._section.kind == "findings"

    def _block(self, block: Block) -> None:
        heading = self._heading(block)
        if heading is None:
            self._content(block)
            return
        title, level = heading
        if block.kind == "heading" and self._finding_heading(title, block):
            return
        kind = classify(title)
        if kind is None:
            area = self._section
            if (
                block.kind == "heading"
                and area.kind != "preamble"
                and level > self.state.area_level
            ):
                return  # a sub-heading inside the current section
            first = all(s.kind == "preamble" for s in self.state.sections)
            self._open(
                "title" if first and block.kind == "heading" else "unknown", title, level, block
            )
            return
        self._open_known(kind, title, level, block)

    def _split(self, block: Block) -> list[Block]:
        """Blocks as the review means them: a list whose items all start with a section name
        (`- **Critical Issues**` + `None.`) is one pseudo-heading per item; a paragraph is cut
        before each line that is a section name or an id-led finding head (Markdown runs
        `**Important Issues**` and `I1. **Title**` on consecutive lines into one paragraph)."""
        if block.kind == "list" and block.items:
            heads = [_PSEUDO_HEADING.match(self.lines[item.start]) for item in block.items]
            if all(m and classify(m.group("title")) for m in heads):
                return [Block("paragraph", item.start, item.start + 1) for item in block.items]
            return [block]
        if block.kind != "paragraph":
            return [block]
        cuts = [block.start]
        for i in range(block.start + 1, block.end):
            line = self.lines[i]
            pseudo = _PSEUDO_HEADING.match(line)
            if (
                LETTER_ID_HEAD.match(line)
                or _PRIORITY_LED.match(line)
                or (pseudo and classify(pseudo.group("title")))
            ):
                cuts.append(i)
            elif i - 1 == cuts[-1] and self._is_pseudo_heading(cuts[-1]):
                cuts.append(i)  # the text after a pseudo-heading line is its content
        cuts.append(block.end)
        return [Block("paragraph", a, b) for a, b in itertools.pairwise(cuts)]

    def _is_pseudo_heading(self, line: int) -> bool:
        m = _PSEUDO_HEADING.match(self.lines[line])
        return bool(m and classify(m.group("title")))

    def _heading(self, block: Block) -> tuple[str, int] | None:
        """(title, level) of a heading, or of a bold line naming a known section (level 7)."""
        if block.kind == "heading":
            return block.text, block.level
        if block.kind in ("paragraph", "list") and block.end - block.start <= 2:
            first = self.lines[block.start]
            m = _PSEUDO_HEADING.match(first)
            if m and classify(m.group("title")) is not None:
                rest = self.lines[block.start + 1 : block.end]
                if not "".join(rest).strip():
                    return m.group("title"), 7
        return None

    def _open(self, kind: AreaKind, title: str, level: int, block: Block) -> None:
        self._close_section(block.start)
        self.state.sections.append(_Section(kind, title.strip(), block.end))
        self.state.area_level = level

    def _open_known(self, kind: SectionKind, title: str, level: int, block: Block) -> None:
        current = self._section
        if kind in SEVERITY_KINDS or kind == "findings":
            severity = _SEVERITY_OF_KIND.get(kind)
            keep_level = current.kind == "findings" and level > self.state.area_level
            old_level = self.state.area_level
            self._open("findings", title, level, block)
            self._section.severity = severity
            self.state.last_number = None
            if keep_level:
                self.state.area_level = old_level
            return
        if kind in ("concerns", "strengths"):
            keep_level = current.kind == "design" and level > self.state.area_level
            old_level = self.state.area_level
            self._open("design", title, level, block)
            self._section.sub = kind
            if keep_level:
                self.state.area_level = old_level
            return
        if kind == current.kind and kind in _TEXT_KINDS and level > self.state.area_level:
            return  # e.g. "Untested scenarios" under "Testing Assessment": part of the text
        self._open(kind, title, level, block)

    def _close_section(self, line: int) -> None:
        self._close_draft(line)
        if self._section.end < 0:
            self._section.end = line

    def _close_draft(self, line: int) -> None:
        draft = self._draft
        if draft is not None:
            draft.end = line

    # ------------------------------------------------------------------ findings

    def _finding_heading(self, title: str, block: Block) -> bool:
        tagged = tagged_head(title)
        if tagged is not None and classify(title) is None:
            self._start_draft(tagged, block.start, 0, block.start, None)
            return True
        if not (self._in_findings() or LETTER_ID_HEAD.match(title)):
            return False
        if LETTER_ID_HEAD.match(title):
            self.state.letter_ids = True
            self._start_draft(title, block.start, 0, block.start, None)
            return True
        m = NUMBER_HEAD.match(title)
        if m and self._number_fits(int(m.group("num"))):
            number = int(m.group("num"))
            self._start_draft(title[m.end("num") + 1 :], block.start, 0, block.start, number)
            return True
        return False

    def _number_fits(self, number: int) -> bool:
        if self.state.letter_ids:
            return False
        last = self.state.last_number
        return last is None or number == last + 1

    def _start_draft(
        self, head: str, start: int, width: int, dedent_until: int, number: int | None
    ) -> None:
        if not self._in_findings():
            self._close_section(start)
            self.state.sections.append(_Section("findings", "", start))
        self._close_draft(start)
        section = self._section
        self.state.drafts.append(
            _Draft(
                head=head,
                start=start,
                end=-1,
                width=width,
                dedent_until=dedent_until,
                severity=section.severity,
                section=section.title,
                number=number,
            )
        )
        if number is not None:
            self.state.last_number = number

    def _content(self, block: Block) -> None:
        findings_here = self._in_findings() or self._section.kind in ("preamble", "title")
        if not findings_here:
            return
        if block.kind == "paragraph":
            first = self.lines[block.start]
            tagged = _PRIORITY_LED.match(first) and tagged_head(first)
            if tagged:
                self._start_draft(tagged, block.start, 0, block.start, None)
                return
            if LETTER_ID_HEAD.match(first):
                self.state.letter_ids = True
                self._start_draft(first, block.start, 0, block.start, None)
                return
            m = BOLD_NUMBER_HEAD.match(first)
            if m and self._in_findings() and self._number_fits(int(m.group("num"))):
                self._start_draft(first, block.start, 0, block.start, int(m.group("num")))
            return
        if block.kind == "list":
            self._list_findings(block)

    def _list_findings(self, block: Block) -> None:
        """Findings among a list's items. In a findings section a numbered item is one when it
        continues the numbering and looks like a head (a bold title, a location or a tag; under
        a severity heading any item will do), a bullet when it has a bold title and a location
        or tag. Before any section only items with a bold title and a severity tag count."""
        in_findings = self._in_findings()
        if not in_findings and self._section.kind not in ("preamble", "title"):
            return
        for index, item in enumerate(block.items):
            first = self.lines[item.start]
            marker = LIST_MARKER.match(first)
            width = marker.end() if marker else 0
            head = first[width:]
            tagged = tagged_head(head)
            if tagged is not None and item.number is None:
                self._start_draft(tagged, item.start, width, item.end, None)
                continue
            if LETTER_ID_HEAD.match(head):
                self.state.letter_ids = True
                self._start_draft(head, item.start, width, item.end, None)
                continue
            if item.number is not None:
                if not in_findings:
                    ok = _looks_like_head(head, need="tag")
                elif self._section.severity is not None:
                    ok = True
                else:
                    ok = _looks_like_head(head, need="any")
                if ok and self._number_fits(item.number):
                    self._start_draft(head, item.start, width, item.end, item.number)
                elif index == 0:
                    return  # a numbered list inside a finding's body, or not findings at all
            elif not self.state.letter_ids and _looks_like_head(
                head, need="location" if in_findings else "tag"
            ):
                self._start_draft(head, item.start, width, item.end, None)

    # ------------------------------------------------------------------ assembly

    def _review(self) -> AgentReview:
        findings = self._findings()
        texts: dict[str, list[str]] = {name: [] for name in _TEXT_KINDS.values()}
        concerns: list[DesignConcern] = []
        strengths: list[Strength] = []
        limitations: list[Limitation] = []
        coverage: list[CoverageEntry] = []
        prior: list[PriorFindingVerdict] = []
        verdict: str | None = None
        preamble: list[str] = []
        for sec in self.state.sections:
            body = self._outside_findings(sec)
            kind = sec.kind
            if kind in ("preamble", "title"):
                preamble.append(body)
            elif kind == "findings":
                self._note_leftover(sec, body)
            elif kind in _TEXT_KINDS:
                name = _TEXT_KINDS[kind]
                if texts[name]:
                    self.notes.append(f"section {sec.title!r} appears more than once; merged")
                texts[name].append(_without_verdict(body))
            elif kind == "design" and sec.sub == "strengths":
                strengths.extend(sections.strengths(body, self.root))
            elif kind == "design":
                concerns.extend(sections.concerns(body, self.root))
            elif kind == "limitations":
                limitations.extend(sections.limitations(body, self.root))
            elif kind == "coverage":
                coverage.extend(sections.coverage(body, self.root))
            elif kind == "prior":
                prior.extend(sections.prior_findings(body))
            elif kind == "verdict":
                first = sections.clean_inline(body.split("\n\n")[0])
                verdict = verdict or sections.verdict_in(sec.title) or first or None
            elif body.strip():
                n = len([ln for ln in body.split("\n") if ln.strip()])
                what = "not kept" if kind == "unresolved" else "unparsed"
                self.notes.append(f"{what} section {sec.title!r} ({_count(n, 'line')})")
        joined = {name: "\n\n".join(t for t in found if t) for name, found in texts.items()}
        before = self._preamble(preamble)
        if not joined["summary"]:
            joined["summary"] = before
        elif before:
            n = len(before.split("\n\n"))
            self.notes.append(f"ignored {_count(n, 'paragraph')} before the first section")
        return AgentReview(
            summary=joined["summary"],
            findings=findings,
            concerns=concerns,
            strengths=strengths,
            testing=joined["testing"],
            documentation=joined["documentation"],
            commit_structure=joined["commit_structure"],
            limitations=limitations,
            coverage=_resolve_refs(coverage, findings),
            verdict=verdict or sections.verdict_in(self.text),
            prior_findings=prior,
            parse_notes=self.notes,
        )

    def _outside_findings(self, sec: _Section) -> str:
        """The section's text without its findings and without rules around it."""
        keep = [True] * (sec.end - sec.start)
        for d in self.state.drafts:
            for i in range(max(d.start, sec.start), min(d.end, sec.end)):
                keep[i - sec.start] = False
        lines = [ln for i, ln in enumerate(self.lines[sec.start : sec.end]) if keep[i]]
        while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
            lines.pop()
        while lines and (not lines[0].strip() or _RULE.match(lines[0])):
            lines.pop(0)
        return "\n".join(lines)

    def _note_leftover(self, sec: _Section, body: str) -> None:
        lines = [
            ln
            for ln in body.split("\n")
            if ln.strip() and not re.match(r"^\s*(?:[-*_]{3,}|[*_]*none\b.*)\s*$", ln, re.I)
        ]
        if lines:
            where = sec.title or "the findings"
            self.notes.append(
                f"{_count(len(lines), 'line')} in {where!r} outside any finding; ignored"
            )

    def _preamble(self, parts: list[str]) -> str:
        """The text before the first section, without agent narration and verdict lines."""
        kept: list[str] = []
        dropped = 0
        for part in parts:
            for para in re.split(r"\n\s*\n", part):
                p = para.strip()
                if not p or re.fullmatch(r"[-*_]{3,}", p) or sections.verdict_in(p):
                    continue
                if _CHATTER.match(p):
                    dropped += 1
                    continue
                kept.append(p)
        if dropped:
            self.notes.append(
                f"ignored {_count(dropped, 'paragraph')} of narration before the review"
            )
        return "\n\n".join(kept)

    def _findings(self) -> list[Finding]:
        findings: list[Finding] = []
        seen: dict[str, int] = {}
        for draft in self.state.drafts:
            finding = self._finding(draft, findings)
            count = seen.get(finding.id, 0) + 1
            seen[finding.id] = count
            if count > 1:
                new_id = f"{finding.id}-{count}"
                self.notes.append(f"duplicate finding id {finding.id!r}; renamed {new_id!r}")
                finding = finding.model_copy(update={"id": new_id})
            findings.append(finding)
        return findings

    def _draft_body(self, draft: _Draft) -> list[str]:
        out: list[str] = []
        for i in range(draft.start + 1, draft.end):
            ln = self.lines[i]
            if i < draft.dedent_until and draft.width:
                spaces = len(ln) - len(ln.lstrip(" "))
                ln = ln[min(spaces, draft.width) :]
            out.append(ln)
        return out

    def _finding(self, draft: _Draft, earlier: list[Finding]) -> Finding:
        notes: list[str] = []
        head_text = re.sub(r"^\s*#{1,6}\s+", "", draft.head)
        body_lines = self._draft_body(draft)
        head = parse_head(head_text, notes, self.root)
        if body_lines and is_location_line(body_lines[0]):
            line = body_lines.pop(0)
            tag = SEVERITY_TAG.search(line)
            head.locations = head.locations or find_locations(
                SEVERITY_TAG.sub("", line), notes, self.root
            )
            if head.severity is None and tag is not None:
                head.severity_word = tag.group("severity")
                head.severity = severity_of(head.severity_word)
                head.category = (
                    head.category or (tag.group("category") or "").strip().lower() or None
                )
        body = parse_body("\n".join(body_lines))
        ident = self._ident(draft, head, earlier)
        severity = self._severity(
            draft, ident, head.severity, head.severity_word, body.severity_word
        )
        self.notes.extend(f"finding {ident!r}: {note}" for note in notes)
        title = head.title
        if not title:
            title = sections.clean_inline(body.text.split("\n")[0])[:120] or "(untitled)"
            self.notes.append(f"finding {ident!r} has no title; took {title!r}")
        return Finding(
            id=ident,
            severity=severity,
            category=head.category or body.category or "issue",
            title=title,
            body="\n\n".join(t for t in (head.prose, body.text) if t),
            locations=head.locations,
            excerpt=body.excerpt,
            excerpt_lang=body.excerpt_lang,
            fix=body.fix,
            repro=body.repro,
        )

    def _ident(self, draft: _Draft, head: Head, earlier: list[Finding]) -> str:
        """The agent's id (`I2`), or section letter + number for a plain `2.`, or a new one."""
        if head.ident is not None and not head.ident.isdigit():
            return head.ident.upper()
        number = (
            draft.number if draft.number is not None else (int(head.ident) if head.ident else None)
        )
        if number is not None:
            return f"{SEVERITY_LETTER[draft.severity]}{number}" if draft.severity else str(number)
        letter = SEVERITY_LETTER[draft.severity or head.severity or "suggestion"]
        n = 1 + sum(1 for f in earlier if f.id.startswith(letter))
        while any(f.id == f"{letter}{n}" for f in earlier):
            n += 1
        self.notes.append(f"finding {head.title[:60]!r} has no id; numbered {letter}{n}")
        return f"{letter}{n}"

    def _severity(
        self,
        draft: _Draft,
        ident: str,
        tagged: Severity | None,
        tag_word: str | None,
        trailing_word: str | None,
    ) -> Severity:
        if tagged is None and trailing_word is not None:
            tagged, tag_word = severity_of(trailing_word), trailing_word
        if tagged is not None:
            word = (tag_word or "").lower()
            if word != tagged and word not in self.mapped_words:
                self.mapped_words.add(word)
                self.notes.append(f"severity {tag_word!r} taken as {tagged}")
            if draft.severity is not None and draft.severity != tagged:
                self.notes.append(
                    f"finding {ident!r} is tagged {tag_word!r} under {draft.section!r}; "
                    f"taken as {tagged}"
                )
            return tagged
        letter = LETTER_SEVERITY.get(ident[:1]) if ident[:1].isalpha() else None
        if letter is not None:
            if draft.severity is not None and draft.severity != letter:
                self.notes.append(
                    f"finding {ident!r} is under {draft.section!r}; taken as {letter} by its id"
                )
            return letter
        if draft.severity is not None:
            return draft.severity
        self.notes.append(f"finding {ident!r} has no severity; taken as suggestion")
        return "suggestion"


def _resolve_refs(entries: list[CoverageEntry], findings: list[Finding]) -> list[CoverageEntry]:
    """Coverage entries with `#N` (the agent's "Finding N") replaced by that finding's id."""
    by_number: dict[str, list[str]] = {}
    for f in findings:
        m = re.fullmatch(r"[A-Z]?(\d+)", f.id)
        if m:
            by_number.setdefault(m.group(1), []).append(f.id)
    resolved: list[CoverageEntry] = []
    for e in entries:
        ids: list[str] = []
        for ref in e.finding_ids:
            if ref.startswith("#"):
                ids.extend(by_number.get(ref[1:], [ref[1:]])[:1])
            else:
                ids.append(ref)
        resolved.append(e.model_copy(update={"finding_ids": list(dict.fromkeys(ids))}))
    return resolved


def _without_verdict(text: str) -> str:
    """`text` without its `Verdict: ...` paragraphs (the verdict is kept on its own)."""
    paras = re.split(r"\n\s*\n", text)
    return "\n\n".join(p for p in paras if not sections.verdict_in(p.strip().split("\n")[0]))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _looks_like_head(head: str, need: Literal["any", "location", "tag"]) -> bool:
    """Whether a list item's first line reads as a finding's head. `any`: a bold title, a
    location or a severity tag; `location`: a bold title and a location or tag; `tag`: a bold
    title and a severity tag."""
    bold = head.lstrip().startswith(("**", "__"))
    tagged = bool(SEVERITY_TAG.search(head))
    if need == "tag":
        return bold and tagged
    located = tagged or bool(find_locations(head, []))
    return bold and located if need == "location" else bold or located
