"""Counted nouns in messages: `1 file`, `2 files`, `1 finding`, `0 findings`."""

from __future__ import annotations


def plural(n: int, singular: str, many: str | None = None) -> str:
    """`n` and the noun in the number it takes (`many` for irregular plurals)."""
    return f"{n:,} {singular if n == 1 else many or singular + 's'}"
