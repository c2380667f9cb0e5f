"""Markdown code fences and code spans that survive any content."""

from __future__ import annotations

import re

_BACKTICK_RUN = re.compile(r"`+")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group(0)) for m in _BACKTICK_RUN.finditer(text)), default=0)


def fence(text: str, lang: str = "") -> str:
    """`text` in a backtick fence longer than any backtick run inside it."""
    ticks = "`" * max(3, _longest_backtick_run(text) + 1)
    body = text.rstrip("\n")
    return f"{ticks}{lang}\n{body}\n{ticks}" if body else f"{ticks}{lang}\n{ticks}"


def code_span(text: str) -> str:
    """`text` as an inline code span, whatever backticks it holds."""
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fences_balanced(text: str) -> bool:
    """Whether every code fence opened in `text` is closed (CommonMark rules)."""
    open_marker: str | None = None
    for line in text.splitlines():
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        marker, rest = match.group(1), match.group(2)
        if open_marker is None:
            if not (marker[0] == "`" and "`" in rest):
                open_marker = marker
        elif marker[0] == open_marker[0] and len(marker) >= len(open_marker) and not rest.strip():
            open_marker = None
    return open_marker is None


_HTML_CONTAINERS = ("pre", "script", "style", "textarea")


def is_self_contained(markdown: str) -> bool:
    """Whether `markdown` can be embedded verbatim without swallowing what follows it:
    every code fence, HTML comment and raw-HTML container it opens is closed."""
    if not fences_balanced(markdown):
        return False
    lowered = markdown.lower()
    if lowered.rfind("<!--") > lowered.rfind("-->"):
        return False
    return all(
        len(re.findall(rf"<{tag}[\s>]", lowered)) <= lowered.count(f"</{tag}>")
        for tag in _HTML_CONTAINERS
    )
