"""One finding of a Markdown review: its head line (id, title, locations, tag) and its body
(code excerpt, explanation, fix)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deepreview.parse.blocks import parse_blocks
from deepreview.parse.locations import find_locations, strip_references
from deepreview.parse.severity import (
    CATEGORY_TAG,
    SCOPE_TAG,
    SEVERITY_TAG,
    SEVERITY_WORDS,
    severity_of,
)
from deepreview.schema import Location, Repro, Severity

#: `I1.`, `**I1. Title**`, `**I1 — Title**`, `C2:`: a finding head that carries its own id.
LETTER_ID_HEAD = re.compile(r"^\s*(?:[*_]{2}\s*)?[A-Z]\d{1,3}(?:[.:)]|\s+(?:[—–]|--?)\s)\s*\S")
#: `**3. Title**`: a numbered head written inside bold.
BOLD_NUMBER_HEAD = re.compile(r"^\s*[*_]{2}\s*(?P<num>\d{1,3})[.)]\s+\S")
#: `3. Title` in a heading.
NUMBER_HEAD = re.compile(r"^(?P<num>\d{1,3})[.)]\s+\S")
#: A list marker at the start of a line.
LIST_MARKER = re.compile(r"^\s*(?:\d{1,9}[.)]|[-*+])\s+")
_SEVERITY_WORDS = "|".join(sorted(SEVERITY_WORDS, key=len, reverse=True))
#: Codex-style priority tags and the severity each stands for.
PRIORITY_SEVERITY = {"P0": "critical", "P1": "important", "P2": "suggestion", "P3": "suggestion"}
#: `[P1] Title`, `**[P2] Title**`: a head led by a priority tag.
_PRIORITY_HEAD = re.compile(r"^\s*(?P<b>[*_]{2})?\s*\[(?P<p>P[0-3])\]\s*(?P<rest>\S.*)$")
#: `High: Title`, `Medium — Title`, `[Low] Title`, `High severity: Title`: a head led by a
#: severity word.
_SEVERITY_LED_HEAD = re.compile(
    rf"^\s*(?P<b>[*_]{{2}})?\s*(?:\[(?P<w1>{_SEVERITY_WORDS})\]\s*|(?P<w2>{_SEVERITY_WORDS})"
    r"(?:\s+(?:severity|priority|risk))?(?:\s*:\s+|\s+[—–]\s+|\s+--?\s+))(?P<rest>\S.*)$",
    re.IGNORECASE,
)


def tagged_head(head: str) -> str | None:
    """A head led by a priority tag (`[P1] Title`) or a severity word (`High: Title`),
    rewritten as a bold title with a severity tag (`**Title** (important)`); None for others.
    P0 is critical, P1 important, P2 and P3 suggestions."""
    m = _PRIORITY_HEAD.match(head)
    word = None
    if m:
        word = PRIORITY_SEVERITY[m.group("p").upper()]
    else:
        m = _SEVERITY_LED_HEAD.match(head)
        if m:
            word = (m.group("w1") or m.group("w2")).lower()
    if m is None or word is None:
        return None
    rest = m.group("rest")
    if m.group("b"):
        close = rest.find(m.group("b"))
        title, after = (rest, "") if close < 0 else (rest[:close], rest[close + 2 :])
    else:
        title, after = _split_title(rest)
    return f"**{title.strip()}** ({word}) {after.strip()}".rstrip()


_ID = re.compile(r"^(?P<id>[A-Z]\d{1,3}|\d{1,3})(?:[.:)]\s*|\s+(?:[—–]|--?)\s+)")
_SEPARATOR = re.compile(r"\s+(?:[—–]|--)\s+|\s+-\s+(?=[`\[])|:\s+(?=`)")
_FIX_LABEL = re.compile(
    r"^\s*(?:[*_]{1,2})?\s*(?:suggested |recommended |proposed )?"
    r"(?:fix|fixes|remediation|recommendation|suggested change)\s*(?:[*_]{1,2})?\s*[:—–]"
    r"\s*(?:[*_]{1,2}(?=\s|$))?\s*",
    re.IGNORECASE,
)
_ATTRIBUTION = re.compile(r"\[(?:[A-Z][\w .-]*)(?:,\s*[A-Z][\w .-]*)*\](?!\()")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_FIRST_TOKEN = re.compile(r"^(?:`[^`\n]+`|\[[^\]\n]*\]\([^)\s]*\)|\S+)")


@dataclass
class Head:
    """What a finding's head line says."""

    ident: str | None
    title: str
    severity_word: str | None = None
    severity: Severity | None = None
    category: str | None = None
    locations: list[Location] = field(default_factory=list)
    prose: str = ""


@dataclass
class Body:
    """What a finding's body holds."""

    text: str = ""
    excerpt: str | None = None
    excerpt_lang: str | None = None
    fix: str | None = None
    severity_word: str | None = None
    category: str | None = None
    repro: Repro | None = None


#: Shell languages: a repro fenced in one of these is a script.
_SHELLS = frozenset({"bash", "sh", "shell", "zsh", "console"})
_SAVE_AS = re.compile(r"\bsave(?:d)? (?:it )?(?:as|to) `?(?P<path>[\w./-]+\w)`?", re.IGNORECASE)
_RUN_WITH = re.compile(r"\brun (?:it )?(?:with|by|using)?:? ?`(?P<command>[^`\n]+)`", re.IGNORECASE)


def _fence_words(info: str) -> list[str]:
    return info.strip().lower().split()


def take_repro(text: str) -> tuple[str, Repro | None]:
    """`text` without its repro fences (```` ```bash repro ````, ```` ```python repro ```` after
    "save as `path`", and the agent's own ```` ```text repro-output ````), and the repro they
    hold; a ```` ```diff patch ```` fence is its fix (and stays in the text)."""
    lines = text.split("\n")
    found: tuple[str, str, int] | None = None
    patch: str | None = None
    drop: set[int] = set()
    for block in parse_blocks(text):
        if block.kind != "fence":
            continue
        words = _fence_words(block.text)
        closed = block.end - block.start >= 2 and _is_fence_close(lines[block.end - 1])
        content = "\n".join(lines[block.start + 1 : block.end - 1 if closed else block.end])
        if "repro-output" in words:
            drop.update(range(block.start, block.end))
        elif "repro" in words[1:] and found is None:
            found = (words[0], content, block.start)
            drop.update(range(block.start, block.end))
        elif words[:2] == ["diff", "patch"] and patch is None:
            patch = content + "\n"
    if found is None:
        return text, None
    lang, content, start = found
    before = "\n".join(lines[max(0, start - 3) : start])
    saved = _SAVE_AS.search(before)
    run = _RUN_WITH.search(before)
    test = lang not in _SHELLS and saved is not None
    repro = Repro(
        kind="test" if test else "script",
        path=saved.group("path") if test and saved else None,
        content=content + "\n",
        command=run.group("command") if test and run else None,
        fix_patch=patch,
    )
    return "\n".join(ln for i, ln in enumerate(lines) if i not in drop), repro


def _starts_with_reference(text: str) -> bool:
    t = text.strip()
    if SEVERITY_TAG.match(t) or SCOPE_TAG.match(t):
        return True
    first = _FIRST_TOKEN.match(t.lstrip("*_("))
    return first is not None and bool(find_locations(first.group(0), []))


def _split_title(text: str) -> tuple[str, str]:
    """`Title — rest`: the title, and the rest holding locations and tags."""
    for m in _SEPARATOR.finditer(text):
        if _starts_with_reference(text[m.end() :]):
            return text[: m.start()], text[m.end() :]
    tag = SEVERITY_TAG.search(text)
    if tag:
        return text[: tag.start()], text[tag.start() :]
    return text, ""


def parse_head(head: str, notes: list[str], root: str | None) -> Head:
    """Split a head line (list marker or heading marks already removed) into its parts."""
    s = head.strip()
    bold = s[:2] if s[:2] in ("**", "__") else ""
    inner = s[2:].lstrip() if bold else s
    ident = None
    m = _ID.match(inner)
    if m:
        ident = m.group("id")
        inner = inner[m.end() :]
    if bold:
        close = inner.find(bold)
        title, rest = (inner, "") if close < 0 else (inner[:close], inner[close + 2 :])
    elif inner.startswith(("**", "__")):
        close = inner.find(inner[:2], 2)
        title, rest = (inner[2:], "") if close < 0 else (inner[2:close], inner[close + 2 :])
    else:
        title, rest = _split_title(inner)
        if not rest:
            sentence = re.match(r"^(.+?[.!?])\s+(?=\S)(.*)$", title)
            title, rest = (sentence.group(1), sentence.group(2)) if sentence else (title, "")
    if rest.strip() == "" or not _starts_with_reference(rest.lstrip(" —–-:")):
        inner_title, inner_rest = _split_title(title)
        if inner_rest:
            title, rest = inner_title, f"{inner_rest} {rest}"
    rest = _ATTRIBUTION.sub("", rest)
    parsed = Head(ident=ident, title=_clean_title(title))
    tag = SEVERITY_TAG.search(rest) or SEVERITY_TAG.search(title)
    if tag:
        parsed.severity_word = tag.group("severity")
        parsed.severity = severity_of(tag.group("severity"))
        parsed.category = _category(tag.group("category"))
        parsed.title = _clean_title(SEVERITY_TAG.sub("", parsed.title))
    else:
        cat = CATEGORY_TAG.search(rest)
        if cat:
            parsed.category = cat.group("category").lower()
    parsed.locations = find_locations(SEVERITY_TAG.sub("", rest), notes, root)
    parsed.prose = _prose(rest)
    return parsed


def _prose(rest: str) -> str:
    """The explanation an agent wrote on the head line after title and locations, if any."""
    text = CATEGORY_TAG.sub("", SEVERITY_TAG.sub("", rest)).strip(" —–-:;,")
    bare = strip_references(text)
    bare = re.sub(r"\b(?:and|vs|also|see|in|at|lines?|commit)\b|[\W\d_]", "", bare)
    return text if len(bare) >= 12 else ""


def _category(raw: str | None) -> str | None:
    if not raw:
        return None
    return raw.strip().strip("`*_").strip().lower() or None


def _clean_title(title: str) -> str:
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).strip()
    t = re.sub(r"^[*_]{2}|[*_]{2}$", "", t).strip()
    return t.rstrip(" :—–-").strip()


_LOCATION_LABEL = re.compile(
    r"^\s*(?:[-*+]\s+)?[*_]{0,2}(?:files?|locations?|where|path)[*_]{0,2}\s*:\s*[*_]{0,2}",
    re.IGNORECASE,
)


def is_location_line(line: str) -> bool:
    """Whether `line` holds only locations (and separators or a tag), as in a head's 2nd line."""
    rest = _LOCATION_LABEL.sub("", SEVERITY_TAG.sub("", line))
    rest = re.sub(r"\[[^\]]*\]\([^)]*\)|`[^`]*`", "", strip_references(rest))
    rest = re.sub(r"\b(?:and|vs\.?|also|see|in|at|lines?)\b|[\s,;:—–\-()*_.]", "", rest)
    return rest == "" and bool(find_locations(line, []))


def parse_body(text: str) -> Body:
    """Split a finding's body into excerpt (its first code block), explanation and fix (from a
    `Fix:` paragraph, or from a diff block, to the end) and its repro (see `take_repro`)."""
    text, repro = take_repro(text)
    lines = text.split("\n")
    body = Body(repro=repro)
    used = [False] * len(lines)
    fix_start: int | None = None
    seen_prose = False
    for block in parse_blocks(text):
        if fix_start is not None:
            break
        if block.kind == "fence":
            lang = block.text.split(" ")[0] or None
            if body.excerpt is None and (lang != "diff" or not seen_prose):
                content = lines[block.start + 1 : block.end - 1]
                if block.end - block.start < 2 or not _is_fence_close(lines[block.end - 1]):
                    content = lines[block.start + 1 : block.end]
                body.excerpt = "\n".join(content)
                body.excerpt_lang = lang
                for i in range(block.start, block.end):
                    used[i] = True
            elif lang == "diff":
                fix_start = block.start
        elif block.kind == "paragraph":
            if _FIX_LABEL.match(lines[block.start]):
                fix_start = block.start
            else:
                seen_prose = True
    kept = [ln for i, ln in enumerate(lines[:fix_start]) if not used[i]]
    body.text, body.severity_word, body.category = _take_trailing_tag("\n".join(kept))
    if fix_start is not None:
        fix_lines = lines[fix_start:]
        fix_lines[0] = _FIX_LABEL.sub("", fix_lines[0], count=1)
        fix, word, category = _take_trailing_tag("\n".join(fix_lines))
        body.fix = fix or None
        if body.severity_word is None:
            body.severity_word, body.category = word, category
    return body


def _is_fence_close(line: str) -> bool:
    return bool(re.match(r"^\s*(`{3,}|~{3,})\s*$", line))


def _take_trailing_tag(text: str) -> tuple[str, str | None, str | None]:
    """`text` without surrounding rules and blank lines, and without the last `(severity,
    category)` tag that ends a line of prose (some agents put the tag after the fix)."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines.pop()
    while lines and (not lines[0].strip() or _RULE.match(lines[0])):
        lines.pop(0)
    word = category = None
    fenced = False
    tagged: tuple[int, re.Match[str]] | None = None
    for i, line in enumerate(lines):
        if re.match(r"^\s*(`{3,}|~{3,})", line):
            fenced = not fenced
            continue
        tags = list(SEVERITY_TAG.finditer(line))
        if not fenced and tags and not line[tags[-1].end() :].strip():
            tagged = (i, tags[-1])
    if tagged is not None:
        i, m = tagged
        word, category = m.group("severity"), _category(m.group("category"))
        lines[i] = lines[i][: m.start()].rstrip()
        if not lines[i].strip():
            del lines[i]
    return "\n".join(lines).strip("\n"), word, category
