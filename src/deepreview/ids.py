"""Report ids: `YYYYMMDD-HHMMSS-<target>`, and the variants that keep them unique."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime


def slug(text: str) -> str:
    """A file-name-safe slug of a branch or label."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return s[:60] or "review"


def report_id(started: datetime, label: str) -> str:
    """`YYYYMMDD-HHMMSS-<target>`."""
    return f"{started.strftime('%Y%m%d-%H%M%S')}-{slug(label)}"


def unique_ids(wanted: str) -> Iterator[str]:
    """`wanted`, then `wanted-2`, `wanted-3`, …: candidate ids for a report."""
    yield wanted
    n = 2
    while True:
        yield f"{wanted}-{n}"
        n += 1
