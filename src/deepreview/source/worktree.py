"""The head worktree: a detached checkout of the reviewed commit in a folder the review owns."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from deepreview.source.git import git
from deepreview.source.tempdirs import WORKTREE_PREFIX, owned_folder


@contextlib.contextmanager
def worktree(repo: Path, sha: str) -> Iterator[Path]:
    """A detached temporary worktree of `sha`, removed on exit (also on errors and Ctrl-C; a
    review killed outright leaves it to the next review's sweep, `source/tempdirs.py`)."""
    with owned_folder(WORKTREE_PREFIX) as parent:
        path = parent / "head"
        try:
            # Parallel checkout (one worker per core): creating files dominates on big trees.
            git(
                repo,
                "-c",
                "checkout.workers=0",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(path),
                sha,
            )
            yield path
        finally:  # tolerating a half-created worktree
            git(repo, "worktree", "remove", "--force", str(path), check=False)
            shutil.rmtree(path, ignore_errors=True)
            git(repo, "worktree", "prune", check=False)
