"""Severity, category and scope words as agents write them, mapped onto the schema's words."""

from __future__ import annotations

import re

from deepreview.schema import ConcernScope, Severity

#: Every severity word seen in agents' answers. Three-level scales map in order
#: (high/medium/low -> critical/important/suggestion).
SEVERITY_WORDS: dict[str, Severity] = {
    "critical": "critical",
    "blocker": "critical",
    "blocking": "critical",
    "severe": "critical",
    "high": "critical",
    "important": "important",
    "major": "important",
    "medium": "important",
    "moderate": "important",
    "suggestion": "suggestion",
    "minor": "suggestion",
    "low": "suggestion",
    "nit": "suggestion",
    "nitpick": "suggestion",
    "optional": "suggestion",
    "trivial": "suggestion",
    "info": "suggestion",
}

#: The letter of an id such as `I2` and the severity it implies.
LETTER_SEVERITY: dict[str, Severity] = {"C": "critical", "I": "important", "S": "suggestion"}

_WORD = "|".join(sorted(SEVERITY_WORDS, key=len, reverse=True))

#: Optional wrapping of a tag: a backtick, or single emphasis (`*(future)*`, not `**`).
_OPEN = r"(?P<w>`|(?<!\*)\*(?!\*)|(?<!_)_(?!_))?"
_CLOSE = r"(?(w)(?P=w))"

#: A `(severity, category)` tag, also `(severity)`.
SEVERITY_TAG = re.compile(
    rf"{_OPEN}\(\s*(?P<severity>{_WORD})s?\s*(?:[,;/]\s*(?P<category>[^()`*]{{1,40}}?))?\s*\){_CLOSE}",
    re.IGNORECASE,
)

#: A category-only tag such as `(gap)` or `(regression)`.
_CATEGORY = r"(?:regression|gap|security|performance|enhancement|style|docs|tests)"
CATEGORY_TAG = re.compile(
    rf"{_OPEN}\(\s*(?P<category>{_CATEGORY}(?:\s*/\s*{_CATEGORY})*)\s*\){_CLOSE}",
    re.IGNORECASE,
)

#: A scope tag: `(in-scope)`, `(future)`, `*(future)*`, `` `(in-scope)` ``.
SCOPE_TAG = re.compile(
    rf"{_OPEN}\(\s*(?P<scope>in[- ]scope|future|out[- ]of[- ]scope)\s*\){_CLOSE}", re.IGNORECASE
)


def severity_of(word: str) -> Severity | None:
    """The schema severity for an agent's word (`High`, `nits`, `MAJOR`), or None."""
    key = word.strip().strip("*_`").lower()
    if key.endswith("s") and key[:-1] in SEVERITY_WORDS:
        key = key[:-1]
    return SEVERITY_WORDS.get(key)


def scope_of(word: str) -> ConcernScope:
    """`future` for future or out-of-scope, else `in-scope`."""
    lowered = word.lower()
    return "future" if "future" in lowered or "out" in lowered else "in-scope"
