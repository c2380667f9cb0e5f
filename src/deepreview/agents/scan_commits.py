"""Commit-structure facts of the reviewed range: count, subjects, fold-in and WIP commits."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from deepreview.schema import Commit, Finding

#: Ranges with more commits than this are summarized rather than listed one by one.
LISTED_COMMITS = 10
#: How many fold-in or WIP commits a paragraph names before it only counts them.
NAMED_COMMITS = 5
#: Subjects longer than this are hard to read in `git log --oneline` and forge UIs.
MAX_SUBJECT = 72

_FOLD_IN = re.compile(r"^(?:fixup|squash|amend)! ")
_WIP = re.compile(r"^\s*(?:\[wip\]|wip\b)|\bWIP\b", re.I)


def _short(commit: Commit) -> str:
    return f"`{commit.sha[:8]}` {commit.subject}"


def needs_folding(commit: Commit) -> bool:
    """Whether the subject marks a fixup!/squash!/amend! or work-in-progress commit."""
    return bool(_FOLD_IN.match(commit.subject) or _WIP.search(commit.subject))


def commit_structure(
    commits: Sequence[Commit], in_base: Collection[str] = ()
) -> tuple[str, Finding | None]:
    """A factual paragraph about the commits, and a suggestion for fixup!/squash!/WIP ones
    that are not already in the base's history (`in_base`: shas it holds; those cannot be
    folded any more)."""
    if not commits:
        return "No commits in the target (uncommitted changes or a patch).", None
    parts = [_overview(commits)]
    open_ = [c for c in commits if c.sha not in in_base]
    fold_in = [c for c in open_ if _FOLD_IN.match(c.subject)]
    wip = [c for c in open_ if not _FOLD_IN.match(c.subject) and _WIP.search(c.subject)]
    long = [c for c in commits if len(c.subject) > MAX_SUBJECT]
    if fold_in:
        parts.append(f"{len(fold_in)} fold-in commit(s) to squash: {_names(fold_in)}.")
    if wip:
        parts.append(f"{len(wip)} work-in-progress commit(s): {_names(wip)}.")
    if long:
        parts.append(f"{len(long)} subject(s) longer than {MAX_SUBJECT} characters.")
    text = " ".join(parts)
    flagged = fold_in + wip
    if not flagged:
        return text, None
    finding = Finding(
        id="",
        severity="suggestion",
        category="commits",
        title=f"{len(flagged)} fixup!/squash!/WIP commit(s) in the range",
        body=f"Fold these into the commits they amend before merging: {_names(flagged)}.",
        fix="git rebase -i --autosquash <base>",
    )
    return text, finding


def _overview(commits: Sequence[Commit]) -> str:
    """Every commit of a short range; counts, authors, merges and the largest of a long one."""
    # files_changed stays 0 when the target did not count files; then it is left out.
    counted = any(c.files_changed for c in commits)

    def files(c: Commit) -> str:
        return f" ({c.files_changed} file(s))" if counted else ""

    if len(commits) <= LISTED_COMMITS:
        return f"{len(commits)} commit(s): {'; '.join(_short(c) + files(c) for c in commits)}."
    authors = len({c.author for c in commits if c.author})
    merges = sum(1 for c in commits if c.subject.startswith("Merge "))
    text = f"{len(commits)} commits"
    if authors:
        text += f" by {authors} author(s)"
    if merges:
        text += f", {merges} of them merge commits"
    if counted:
        largest = sorted(commits, key=lambda c: -c.files_changed)[:3]
        text += f"; the largest: {'; '.join(_short(c) + files(c) for c in largest)}"
    return text + "."


def _names(commits: Sequence[Commit]) -> str:
    named = ", ".join(_short(c) for c in commits[:NAMED_COMMITS])
    more = len(commits) - NAMED_COMMITS
    return f"{named} and {more} more" if more > 0 else named
