"""Notice changes to a working tree while agents run: the user's checkout or an agent's worktree.

A tree's state is its `git status` (HEAD, branch, index and working tree, untracked files
included, ignored files not) plus the size and modification time of every file that status
lists. A clean tracked file that changes shows up in the status; a listed (modified or
untracked) file that changes again changes its size or mtime. Cost: one `git status`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from deepreview.source.git import git

#: Fields before the path in each `git status --porcelain=v2` record type.
_FIELDS_BEFORE_PATH = {"1": 8, "2": 9, "u": 10, "?": 1, "!": 1}
#: How many changed paths a note names.
MAX_LISTED = 5


@dataclass(frozen=True)
class TreeState:
    """What `git status` says about a tree, by path; `head` holds the branch lines."""

    head: tuple[str, ...]
    entries: dict[str, tuple[str, int, int]]


def tree_state(root: Path) -> TreeState:
    """The state of the working tree at `root` (without taking git's index lock)."""
    out = git(
        root,
        "status",
        "--porcelain=v2",
        "-z",
        "--branch",
        "--untracked-files=all",
        env={"GIT_OPTIONAL_LOCKS": "0"},
        check=False,
    ).decode("utf-8", "surrogateescape")
    head: list[str] = []
    entries: dict[str, tuple[str, int, int]] = {}
    records = iter(out.split("\0"))
    for record in records:
        if record.startswith("# "):
            head.append(record)
            continue
        fields = _FIELDS_BEFORE_PATH.get(record[:1])
        if fields is None:
            continue
        path = record.split(" ", fields)[-1]
        if record[:1] == "2":
            next(records, None)  # the rename's original path
        try:
            st = os.lstat(root / path)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        entries[path] = (record, size, mtime)
    return TreeState(tuple(head), entries)


def changed_paths(before: TreeState, after: TreeState) -> list[str]:
    """The paths whose state differs, sorted; `HEAD` first when the branch or commit moved."""
    paths = sorted(
        p
        for p in before.entries.keys() | after.entries.keys()
        if before.entries.get(p) != after.entries.get(p)
    )
    return (["HEAD"] if before.head != after.head else []) + paths


def describe(paths: list[str]) -> str:
    """`a`, `b` and N more."""
    listed = ", ".join(f"`{p}`" for p in paths[:MAX_LISTED])
    more = len(paths) - MAX_LISTED
    return listed + (f" and {more} more" if more > 0 else "")
