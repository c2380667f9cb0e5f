"""Text similarity used to recognize the same point made by different reviewers."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

_WORD = re.compile(r"[a-z0-9_]+")
_BACKTICKED = re.compile(r"`([^`\n]{2,80})`")
_LINE_SUFFIX = re.compile(r":\d+(?:-\d+)?$")
_STOPWORDS = frozenset(
    _WORD.findall(
        "a an and are as at be by can do does for from has have if in into is it its may no not "
        "of on or should that the this to was when which will with"
    )
)
#: Backticked words too common in code to tie two findings together.
_COMMON_SYMBOLS = frozenset(
    _WORD.findall("none true false null nil self this return err error string int str bool dict")
)


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A light stem: plural, -ed and -ing endings removed from longer words."""
    for suffix in ("ing", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    """Lower-cased, stemmed words of `text` without stopwords, in order."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


#: Words every review uses; they say nothing about which defect a claim is about.
_GENERIC = frozenset(
    _WORD.findall(
        "issue problem function method code line lines file call calls value values return "
        "could would might also when then than there here used using uses case check change "
        "both only even still just every other same more less like need make after before "
        "instead while until"
    )
)


def claim_words(text: str, code: str) -> frozenset[str]:
    """The content words of a claim's `text` that are not code: words of its cited `code`,
    backticked symbols, short words and words every review uses are left out."""
    skip = set(content_words(code)) | _GENERIC
    for sym in _BACKTICKED.findall(text):
        skip.update(content_words(sym))
    return frozenset(w for w in content_words(text) if len(w) > 3 and w not in skip)


def text_key(text: str) -> str:
    """The form of a title that similarity compares."""
    return " ".join(content_words(text))


def similarity(a_key: str, b_key: str) -> float:
    """0..100: how alike two `text_key` values are, insensitive to word order.

    The mean of token-set and token-sort ratios: the first forgives extra words, the second
    keeps two titles sharing only a generic word ("missing", "test") apart.
    """
    if not a_key or not b_key:
        return 0.0
    return (fuzz.token_set_ratio(a_key, b_key) + fuzz.token_sort_ratio(a_key, b_key)) / 2


def symbols(text: str, exclude: frozenset[str] = frozenset()) -> frozenset[str]:
    """Backticked identifiers in `text`, minus paths, file names in `exclude` and common words."""
    found: set[str] = set()
    for raw in _BACKTICKED.findall(text):
        sym = _LINE_SUFFIX.sub("", raw.strip()).removesuffix("()")
        if len(sym) < 3 or "/" in sym or " " in sym or sym in exclude:
            continue
        if sym.lower() in _COMMON_SYMBOLS or sym.isdigit():
            continue
        found.add(sym)
    return frozenset(found)


def squash(text: str) -> str:
    """`text` with all whitespace removed, for whitespace-insensitive comparison."""
    return "".join(text.split())


#: A text's words weighted by TF-IDF and scaled to unit length.
Vector = dict[str, float]


def weigh(texts: Sequence[str]) -> list[Vector]:
    """TF-IDF vectors of `texts` (content words; IDF over `texts` themselves), unit length, so
    words every finding uses count little and the rare identifiers two findings share count
    much."""
    bags = [Counter(content_words(t)) for t in texts]
    df: Counter[str] = Counter(w for bag in bags for w in bag)
    n = len(bags)
    vectors: list[Vector] = []
    for bag in bags:
        vec = {w: (1 + math.log(c)) * math.log(1 + n / df[w]) for w, c in bag.items()}
        norm = math.sqrt(sum(x * x for x in vec.values()))
        vectors.append({w: x / norm for w, x in vec.items()} if norm else {})
    return vectors


def cosine(a: Vector, b: Vector) -> float:
    """0..1: the cosine of two `weigh` vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())
