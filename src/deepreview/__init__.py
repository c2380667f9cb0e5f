"""deepreview: run several code reviewers, verify their claims, write one consolidated report.

The public API is what `__all__` lists: `review()` runs a whole review,
`consolidate_reviews()` merges agent reviews given as text, `load_config()` reads a
repository's configuration, and the schema types describe agent reviews and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deepreview.config import Config, load_config
from deepreview.offline import consolidate_reviews
from deepreview.pipeline import ReviewOptions, ReviewResult
from deepreview.pipeline import review as _run_review
from deepreview.schema import (
    AgentReview,
    AgentRun,
    ConsolidatedFinding,
    Finding,
    Location,
    Report,
    Verdict,
)
from deepreview.source.resolve import TargetSpec
from deepreview.version import __version__

__all__ = [
    "AgentReview",
    "AgentRun",
    "Config",
    "ConsolidatedFinding",
    "Finding",
    "Location",
    "Report",
    "ReviewResult",
    "Verdict",
    "__version__",
    "consolidate_reviews",
    "load_config",
    "review",
]


def review(
    path: str | Path = ".",
    *,
    base: str | None = None,
    head: str | None = None,
    uncommitted: bool = False,
    patch: str | None = None,
    pr: str | None = None,
    agents: Sequence[str] | None = None,
    output_dir: str | Path | None = None,
    formats: Sequence[str] = ("md", "json"),
    use_cache: bool = True,
) -> ReviewResult:
    """Review a change in the repository at `path` and write the report.

    With no target arguments, the current branch is reviewed against its base.
    """
    options = ReviewOptions(
        cwd=Path(path).resolve(),
        target=TargetSpec(base=base, head=head, uncommitted=uncommitted, patch=patch, pr=pr),
        agents=list(agents) if agents else None,
        output_dir=Path(output_dir) if output_dir is not None else None,
        formats=list(formats),
        use_cache=use_cache,
    )
    return _run_review(options)
