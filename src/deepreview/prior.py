"""What a review knows of its earlier rounds: one typed value, whoever supplies it (the store,
a published review's hidden block, or reports given with `consolidate --prior`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deepreview.schema import SEVERITIES, ConsolidatedFinding, DeclinedFinding, Location, Severity

__all__ = ["PriorRecord", "PriorRound"]


@dataclass(frozen=True)
class PriorRecord:
    """A finding of an earlier round, as the store, the rounds matching and the prompt see it."""

    id: str
    fingerprint: str
    severity: str
    title: str
    location: str
    finding: ConsolidatedFinding | None = None  # the whole finding, where the source kept it

    @property
    def path(self) -> str:
        """The file part of the location."""
        return self.location.split(":", 1)[0]

    @property
    def locations(self) -> list[Location]:
        """Its places: the whole finding's, else the one `location` names (none if empty)."""
        if self.finding is not None:
            return list(self.finding.locations)
        if not self.location:
            return []
        path, _, lines = self.location.rpartition(":")
        first, _, last = lines.partition("-")
        if not path or not first.isdigit() or not (last or first).isdigit():
            return [Location(path=self.location)]
        end = int(last) if last and last != first else None
        return [Location(path=path, start_line=int(first), end_line=end)]

    @property
    def severity_level(self) -> Severity:
        """`severity` as a Severity (a suggestion when the source wrote something else)."""
        return next((s for s in SEVERITIES if s == self.severity), "suggestion")


@dataclass(frozen=True)
class PriorRound:
    """The previous round of a review: its number, reviewed head, findings and declines."""

    round: int
    head_sha: str | None
    findings: Sequence[PriorRecord]
    declined: Sequence[DeclinedFinding]
