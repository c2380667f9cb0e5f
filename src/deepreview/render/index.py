"""The index page of a repository's reports: newest first, with PR, round and verdict."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from deepreview.render.html import TEMPLATES, slug
from deepreview.schema import SEVERITIES, Report
from deepreview.version import __version__


@dataclass(frozen=True)
class IndexEntry:
    """One report as the index lists it; `href` is where its page is, relative to the index."""

    report_id: str
    created_at: datetime
    pr_number: int | None
    title: str
    branch: str | None
    round: int
    verdict: str
    href: str
    range: str = ""
    counts: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def of(cls, report: Report, href: str) -> IndexEntry:
        """The entry for `report`, linking to `href`."""
        target = report.target
        pr = target.pr
        newest = target.commits[0].subject if target.commits else ""
        span = ""
        if target.base and target.head_sha:
            span = f"{_short(target.base)}..{_short(target.head_sha)}"
        counts = tuple(sum(1 for f in report.findings if f.severity == s) for s in SEVERITIES)
        return cls(
            report_id=report.id,
            created_at=report.created_at,
            pr_number=pr.number if pr else None,
            title=" ".join((pr.title if pr else newest or target.branch or "").split()),
            branch=target.branch,
            round=report.round,
            verdict=report.verdict.decision,
            href=href,
            range=span,
            counts=(counts[0], counts[1], counts[2]),
        )


def _short(ref: str) -> str:
    """A commit id cut to seven characters; a ref name as it is."""
    return ref[:7] if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", ref) else ref


def newest_first(entries: Sequence[IndexEntry]) -> list[IndexEntry]:
    """`entries` sorted by start time, newest first; ties broken by report id."""
    return sorted(entries, key=lambda e: (e.created_at.timestamp(), e.report_id), reverse=True)


def _safe_href(href: str) -> str | None:
    """Relative and http(s) links only: never `javascript:` or `data:`."""
    return href if urlsplit(href).scheme in ("", "http", "https") else None


def render_index(entries: Sequence[IndexEntry], *, repo: str | None = None) -> str:
    """The index page listing `entries` newest first, self-contained like the reports."""
    rows = [(entry, _safe_href(entry.href), slug(entry.verdict)) for entry in newest_first(entries)]
    return TEMPLATES.get_template("index.html.j2").render(
        rows=rows, repo=repo, severities=SEVERITIES, zip=zip, version=__version__
    )
