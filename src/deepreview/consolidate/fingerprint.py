"""Stable fingerprints that match a finding across review rounds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from deepreview.consolidate.paths import normalize_path
from deepreview.consolidate.similarity import content_words


def fingerprint(path: str | None, title: str, category: str) -> str:
    """A 16-hex-digit fingerprint of where a finding is, what kind it is and what it says.

    Guarantees: equal when the paths are equal after normalization (`./src/x.py` is
    `src/x.py`), the categories are equal ignoring case, and the titles have the same set of
    content words — so line numbers, case, punctuation, backticks, word order, repeated words,
    stopwords ("the", "is", "in", ...) and plural/-ed/-ing endings do not matter. Any other
    rewording, or a move to another file, changes it. No location: path "".
    """
    return words_fingerprint(path, content_words(title), category)


def words_fingerprint(path: str | None, words: Iterable[str], category: str) -> str:
    """`fingerprint` of a title already split into `content_words`."""
    norm_path = (normalize_path(path) or "") if path else ""
    key = f"{norm_path}\0{category.strip().lower()}\0{' '.join(sorted(set(words)))}"
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()[:16]
