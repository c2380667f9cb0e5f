"""What every forge provides: the `Forge` Protocol and the neutral types it reads into."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from deepreview.schema import Commit, FeedbackComment

if TYPE_CHECKING:
    from deepreview.publish.plan import PublishPlan
    from deepreview.schema import Report


class ForgeError(Exception):
    """A forge request failed; the message is one line, safe to show (it never holds a token).

    `status` is the HTTP status when the forge answered, else None.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class PullRef:
    """A pull request as the user named it: the repository when given, and its number."""

    repo: str | None
    number: int


@dataclass(frozen=True)
class PullRequestInfo:
    """A pull request's metadata, commits and unresolved review feedback, forge-neutral."""

    repo: str
    number: int
    title: str
    url: str
    author: str
    body: str
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    commits: list[Commit]
    unresolved: list[FeedbackComment]
    repo_url: str
    """The repository's web address."""
    notes: list[str] = field(default_factory=list)
    """What could not be fetched, for the report's notes."""


class Forge(Protocol):
    """One forge's client, opened for one environment; closed with `close()`."""

    name: str
    """As the user knows it: `GitHub`."""

    def parse_ref(self, ref: str) -> PullRef:
        """A number, `#N`, `owner/name#N` or a pull-request URL; ForgeError when it is none."""
        ...

    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        """Read pull request `number` of `repo`."""
        ...

    def fetch_head(self, checkout: Path, remote: str, number: int) -> str:
        """Fetch the pull request's head from `remote` into `checkout`; return its sha."""
        ...

    def plan(self, report: Report, *, report_url: str | None = None) -> PublishPlan:
        """What publishing `report` on its pull request would send; only reads the forge."""
        ...

    def publish(self, report: Report, plan: PublishPlan) -> PublishPlan:
        """Carry out `plan`; return it as carried out (refused comments moved to the body)."""
        ...

    def describe(self, plan: PublishPlan) -> dict[str, Any]:
        """The plan as this forge's API would receive it, JSON-able (for `--dry-run`)."""
        ...

    def close(self) -> None:
        """Close the connections."""
        ...


#: How a forge is opened: with the environment its token and API address come from.
ForgeFactory = Callable[[Mapping[str, str]], Forge]
