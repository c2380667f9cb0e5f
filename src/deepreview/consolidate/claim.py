"""A grounded agent finding: the unit clustering and severity work on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from deepreview.consolidate.fingerprint import words_fingerprint
from deepreview.consolidate.similarity import Vector
from deepreview.schema import Finding, Location, Reproduction

#: Categories of findings about form, not behaviour.
NIT_CATEGORIES = frozenset(
    {"style", "docs", "doc", "documentation", "naming", "typo", "comment", "comments", "lint",
     "format", "formatting", "nit", "readability"}
)  # fmt: skip
_NIT_TITLE = re.compile(
    r"\b(?:typo|misspel\w*|naming|rename|docstring|comment|wording|formatting|whitespace|nit)\b",
    re.IGNORECASE,
)


#: Words by which a finding says tests are missing (bounded gaps keep the match linear).
TEST_GAP = re.compile(
    r"\b(?:missing|no|lacks?|without)\s+(?:[\w-]+\s+){0,3}?(?:tests?|test coverage)\b"
    r"|\buntested\b|\bnot (?:covered|exercised|pinned) by (?:any |a |the )?tests?\b"
    r"|\btests?\s+(?:lacks?|miss(?:es)?)\b"
    r"|\btests?\s+(?:do(?:es)?\s+not|don't|doesn't|never)\s+(?:\w+\s+){0,2}?"
    r"(?:cover|exercise|check|assert|pin|test)\w*",
    re.IGNORECASE,
)
#: What a finding is about: a style or documentation nit, missing tests, or behaviour.
Aspect = Literal["nit", "tests", "behaviour"]


def aspect(category: str, title: str) -> Aspect:
    """What a finding is about. A nit by its category, or for an untyped finding by its title;
    missing tests by its title; else behaviour."""
    cat = category.strip().lower()
    if cat in NIT_CATEGORIES or (cat in ("issue", "") and _NIT_TITLE.search(title)):
        return "nit"
    return "tests" if TEST_GAP.search(title) else "behaviour"


@dataclass(slots=True)
class Claim:
    """One agent's finding after grounding, with what clustering compares precomputed."""

    order: int
    run_index: int
    agent: str
    kind: str
    family: str
    finding: Finding
    locations: list[Location]
    notes: list[str]
    title_key: str
    symbols: frozenset[str]
    excerpt_key: str
    #: Title and body as a TF-IDF vector over all claims of the consolidation.
    vector: Vector = field(default_factory=dict)
    #: The claim's content words beyond the code it cites (see `similarity.claim_words`).
    claim_words: frozenset[str] = frozenset()
    #: Its repro as `verify` ran it, if it has one.
    repro: Reproduction | None = None
    #: The primary location's path.
    path: str | None = field(init=False)
    #: The primary location's file name.
    file_name: str | None = field(init=False)
    #: First and last line of the primary location, if it has lines.
    span: tuple[int, int] | None = field(init=False)
    #: The content words of the title.
    words: frozenset[str] = field(init=False)
    #: Whether the claim comes from an analyzer or a built-in check (not a model).
    deterministic: bool = field(init=False)
    #: The finding's own fingerprint (primary path, category, title).
    fingerprint: str = field(init=False)
    #: Whether it is about behaviour, or a style or documentation nit, or missing tests.
    aspect: Aspect = field(init=False)

    def __post_init__(self) -> None:
        primary = self.locations[0] if self.locations else None
        self.path = primary.path if primary is not None else None
        self.file_name = self.path.rsplit("/", 1)[-1] if self.path is not None else None
        start = primary.start_line if primary is not None else None
        end = primary.end_line if primary is not None else None
        self.span = None if start is None else (start, max(end or start, start))
        self.words = frozenset(self.title_key.split())
        self.deterministic = self.kind in ("analyzer", "builtin")
        self.fingerprint = words_fingerprint(self.path, self.words, self.finding.category)
        self.aspect = aspect(self.finding.category, self.finding.title)
