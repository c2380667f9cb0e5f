"""What a verification of one change is given, and what it gives back."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deepreview.config import VerifyConfig
from deepreview.diff import Diff
from deepreview.schema import Finding, Verification
from deepreview.verify.detect import Suite
from deepreview.verify.environment import ProjectEnvironment


@dataclass(frozen=True)
class VerifyRequest:
    """What verification needs: the trees, the change and the settings."""

    repo: Path
    head_tree: Path
    diff: Diff
    base_sha: str | None
    work: Path
    environ: Mapping[str, str]
    suites: Sequence[Suite]
    project: ProjectEnvironment
    settings: VerifyConfig
    budget_s: float
    others_done: asyncio.Event | None = None
    """When set: probes may go on past the budget while it is unset (AI agents still run)."""
    ceiling_s: float = 0.0


@dataclass
class VerifyOutcome:
    """Findings, the Testing Assessment paragraph and the executed facts."""

    verification: Verification
    findings: list[Finding] = field(default_factory=list)
    testing: str = ""
