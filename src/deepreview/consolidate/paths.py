"""Normalizing the paths reviewers cite to repository-relative form."""

from __future__ import annotations

import re

_DRIVE = re.compile(r"^[A-Za-z]:/")


def normalize_path(path: str) -> str | None:
    """`path` as a clean repository-relative path, or None when it is absolute, empty or
    climbs out with `..`. Strips quotes/backticks, `./` and empty segments; `\\` reads as `/`.
    (Diff prefixes `a/` and `b/` are ambiguous on their own; grounding removes them.)"""
    p = path.strip().strip("`'\"").replace("\\", "/")
    if not p or p.startswith("/") or _DRIVE.match(p):
        return None
    parts = [part for part in p.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)
