"""What a CI job needs from the forge it runs for: the previous round, and publishing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from deepreview.ci.state import RoundState
from deepreview.schema import DeclinedFinding, Report


@dataclass(frozen=True)
class Previous:
    """The previous round as published: its state block (None when there is none or it is
    unreadable) and every decline known, including those replied on the forge since."""

    state: RoundState | None
    declined: list[DeclinedFinding] = field(default_factory=list)
    found_summary: bool = False


@dataclass(frozen=True)
class Published:
    """What publishing did (or, in a dry run, would do)."""

    plan: dict[str, Any]
    created: int
    updated: int
    resolved: int


class Host(Protocol):
    """One pull or merge request on its forge."""

    def previous(self) -> Previous:
        """The previous round, read from what this tool published."""

    def publish(self, report: Report, *, dry_run: bool) -> Published:
        """Publish `report` as one review (update it on re-runs); GET only with `dry_run`."""

    def close(self) -> None:
        """Release the connection."""
