"""ReviewContext: everything an agent needs to review a change."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.config import VerifyConfig
from deepreview.diff import Diff, DiffSource
from deepreview.prior import PriorRecord
from deepreview.runtime import Runtime
from deepreview.schema import AgentRun, DeclinedFinding, ReportTarget
from deepreview.source.since import SinceLastReview


@dataclass(frozen=True)
class ReviewContext:
    """The reviewed change. Agents run in `worktree` (a checkout of the head state), never in
    the user's repository; `repo_root` is only for reading git metadata. `diff` is parsed from
    a file (`parse_diff_file`), which gives its text and identity: see `diff_source`."""

    repo_root: Path
    worktree: Path
    diff: Diff
    target: ReportTarget
    base_sha: str | None
    run_dir: Path
    runtime: Runtime
    prior_findings: tuple[PriorRecord, ...] = ()
    declined: tuple[DeclinedFinding, ...] = ()
    untrusted_text: str = ""
    since: SinceLastReview | None = None
    #: Where the run folder's traces are kept once the review ends (None: not kept).
    trace_dir: Path | None = None
    """What changed since the head the previous round reviewed."""
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    ai_done: asyncio.Event = field(default_factory=asyncio.Event, compare=False)
    """Set by the runner once every AI agent has finished (at once when none runs)."""
    answers: asyncio.Queue[AgentRun] = field(default_factory=asyncio.Queue, compare=False)
    """Each AI agent's run, put by the runner as it finishes (before `ai_done` is set)."""

    @property
    def env(self) -> Mapping[str, str]:
        """The review's environment; each agent narrows it to what it may see."""
        return self.runtime.environ

    @property
    def diff_source(self) -> DiffSource:
        """The file the diff was parsed from: its text, size and SHA-256."""
        if self.diff.source is None:
            raise ValueError("the review's diff was not parsed from a file")
        return self.diff.source
