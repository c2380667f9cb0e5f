"""deepreview: run several code reviewers, verify their claims, write one consolidated report.

The public API is what `__all__` lists: `review()` runs a whole review,
`consolidate_reviews()` merges agent reviews given as text, `load_config()` reads a
repository's configuration, and the schema types describe agent reviews and reports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from deepreview.config import Config, load_config
from deepreview.offline import consolidate_reviews
from deepreview.pipeline import ReviewOptions, ReviewResult
from deepreview.pipeline import review as _run_review
from deepreview.runner import ProgressCallback
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
    config: Config | None = None,
    environ: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    keep_history: bool = True,
) -> ReviewResult:
    """Review a change in the repository at `path` and write the report.

    With no target arguments, the current branch is reviewed against its base. `config`
    (e.g. from `load_config()`) replaces the repository's configuration; `environ` is the
    environment agents, tools and forges see (this process's when None); `progress` is
    called with each agent's state changes; without `keep_history` nothing is stored in
    `.deepreview/` (no history, no cache).
    """
    options = ReviewOptions(
        cwd=Path(path).resolve(),
        target=TargetSpec(base=base, head=head, uncommitted=uncommitted, patch=patch, pr=pr),
        agents=list(agents) if agents else None,
        config=config,
        output_dir=Path(output_dir) if output_dir is not None else None,
        formats=list(formats),
        environ=dict(os.environ) if environ is None else dict(environ),
        use_cache=use_cache,
        keep_history=keep_history,
    )
    if progress is None:
        return _run_review(options)
    return _run_review(options, progress)
