"""ReviewContext: everything an agent needs to review a change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.diff import Diff
from deepreview.schema import DeclinedFinding, ReportTarget


@dataclass(frozen=True)
class PriorRoundFinding:
    """A finding of the previous round, as shown to agents."""

    id: str
    fingerprint: str
    severity: str
    title: str
    location: str


@dataclass(frozen=True)
class ReviewContext:
    """The reviewed change. Agents run in `worktree` (a checkout of the head state), never in
    the user's repository; `repo_root` is only for reading git metadata."""

    repo_root: Path
    worktree: Path
    diff: Diff
    diff_text: str
    target: ReportTarget
    base_sha: str | None
    run_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    prior_findings: tuple[PriorRoundFinding, ...] = ()
    declined: tuple[DeclinedFinding, ...] = ()
    untrusted_text: str = ""
