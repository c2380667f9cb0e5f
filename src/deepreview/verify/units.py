"""The changed functions of a file: what the Testing Assessment's rubric rows and the
suggestions to add a test are about."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A function whose body holds added lines: `first`..`last` are its body's lines (the
    signature line is not code a test runs); `public` says whether other code may call it."""

    name: str
    first: int
    last: int
    public: bool


def python_units(text: str, lines: frozenset[int]) -> tuple[Unit, ...]:
    """The innermost functions of the Python source `text` whose bodies hold `lines` (none if
    it does not parse; the `def` line itself runs at import time, not in a test)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ()
    units: list[Unit] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first, end = node.body[0].lineno, node.end_lineno or node.lineno
            if any(first <= n <= end for n in lines):
                units.append(Unit(node.name, first, end, not node.name.startswith("_")))
    innermost = [
        u
        for u in units
        if not any(
            o.first >= u.first and o.last <= u.last and (o.first, o.last) != (u.first, u.last)
            for o in units
        )
    ]
    return tuple(sorted(innermost, key=lambda u: u.first))
