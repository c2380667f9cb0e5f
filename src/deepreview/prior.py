"""What a review knows of its earlier rounds: one typed value, whoever supplies it (the store,
a published review's hidden block, or reports given with `consolidate --prior`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deepreview.schema import DeclinedFinding

__all__ = ["PriorRecord", "PriorRound"]


@dataclass(frozen=True)
class PriorRecord:
    """A finding of an earlier round, as the store, the rounds matching and the prompt see it."""

    id: str
    fingerprint: str
    severity: str
    title: str
    location: str

    @property
    def path(self) -> str:
        """The file part of the location."""
        return self.location.split(":", 1)[0]


@dataclass(frozen=True)
class PriorRound:
    """The previous round of a review: its number, reviewed head, findings and declines."""

    round: int
    head_sha: str | None
    findings: Sequence[PriorRecord]
    declined: Sequence[DeclinedFinding]
