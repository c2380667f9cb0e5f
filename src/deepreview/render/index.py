"""The index page of a repository's reports: newest first, with PR, round and verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from deepreview.render.html import TEMPLATES, slug
from deepreview.schema import Report
from deepreview.version import __version__


@dataclass(frozen=True)
class IndexEntry:
    """One report as the index lists it; `href` is where its page is, relative to the index."""

    report_id: str
    created_at: datetime
    pr_number: int | None
    pr_title: str
    branch: str | None
    round: int
    verdict: str
    href: str

    @classmethod
    def of(cls, report: Report, href: str) -> IndexEntry:
        """The entry for `report`, linking to `href`."""
        pr = report.target.pr
        return cls(
            report_id=report.id,
            created_at=report.created_at,
            pr_number=pr.number if pr else None,
            pr_title=pr.title if pr else "",
            branch=report.target.branch,
            round=report.round,
            verdict=report.verdict.decision,
            href=href,
        )


def newest_first(entries: Sequence[IndexEntry]) -> list[IndexEntry]:
    """`entries` sorted by start time, newest first; ties broken by report id."""
    return sorted(entries, key=lambda e: (e.created_at.timestamp(), e.report_id), reverse=True)


def _safe_href(href: str) -> str | None:
    """Relative and http(s) links only: never `javascript:` or `data:`."""
    return href if urlsplit(href).scheme in ("", "http", "https") else None


def render_index(entries: Sequence[IndexEntry], *, repo: str | None = None) -> str:
    """The index page listing `entries` newest first, self-contained like the reports."""
    rows = [(entry, _safe_href(entry.href), slug(entry.verdict)) for entry in newest_first(entries)]
    return TEMPLATES.get_template("index.html.j2").render(rows=rows, repo=repo, version=__version__)
