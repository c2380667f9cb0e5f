"""What changed since the head an earlier round reviewed: the commits and files to look at first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deepreview.diff import Diff, parse_diff
from deepreview.schema import Commit
from deepreview.source.git import commits_between, git

_SHA_RE = re.compile(r"[0-9a-f]{7,64}")
#: At most this many paths are listed; the rest are counted.
MAX_PATHS = 200


@dataclass(frozen=True)
class SinceLastReview:
    """The change since `head_sha`, the head the previous round reviewed.

    `rewritten` is set when that head is no longer an ancestor of the new head (a force-push or
    rebase): then there is no "new since" and the whole change is new.
    """

    head_sha: str
    commits: tuple[Commit, ...] = ()
    paths: tuple[str, ...] = ()
    more_paths: int = 0
    rewritten: bool = False


def since_last_review(repo: Path, previous: str | None, head: str) -> SinceLastReview | None:
    """The commits and files between the previous round's head and `head`; None without an
    earlier round, or when nothing changed since."""
    if not previous or not _SHA_RE.fullmatch(previous) or previous == head:
        return None
    full = git(repo, "rev-parse", "--verify", "-q", f"{previous}^{{commit}}", check=False)
    base = git(repo, "merge-base", previous, head, check=False) if full.strip() else b""
    if not base.strip() or base.strip() != full.strip():  # unknown, or not an ancestor
        return SinceLastReview(head_sha=previous, rewritten=True)
    names = git(repo, "diff", "--name-only", "-z", "--no-renames", previous, head)
    paths = [p for p in names.decode("utf-8", "surrogateescape").split("\0") if p]
    return SinceLastReview(
        head_sha=previous,
        commits=tuple(commits_between(repo, previous, head)),
        paths=tuple(paths[:MAX_PATHS]),
        more_paths=max(len(paths) - MAX_PATHS, 0),
    )


def lines_since(repo: Path, previous: str | None, head: str) -> Diff | None:
    """The line changes from the head an earlier round reviewed to `head` (renames followed,
    no context lines); None when that head is unknown or not in the repository."""
    if not previous or not _SHA_RE.fullmatch(previous):
        return None
    if previous == head:
        return Diff()
    found = git(repo, "rev-parse", "--verify", "-q", f"{previous}^{{commit}}", check=False)
    if not found.strip():
        return None
    return parse_diff(git(repo, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", previous, head))
