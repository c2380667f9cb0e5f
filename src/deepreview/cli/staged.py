"""`review --staged`: the index against HEAD, as a patch (what a pre-commit hook reviews)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deepreview.cli.errors import fail
from deepreview.source.git import TargetError, find_repo_root
from deepreview.source.tempdirs import STAGED_PREFIX, owned_folder


@contextmanager
def staged_patch(cwd: Path) -> Iterator[Path]:
    """A temporary patch file holding the staged change (streamed: it may be large)."""
    try:
        repo = find_repo_root(cwd)
    except TargetError as exc:
        fail(str(exc))
    with owned_folder(STAGED_PREFIX) as tmp:
        path = tmp / "staged.patch"
        with path.open("wb") as fh:
            proc = subprocess.run(
                ["git", "diff", "--cached", "--binary", "--full-index", "-M", "--no-color"],
                cwd=repo,
                stdout=fh,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        if proc.returncode != 0:
            fail(proc.stderr.decode("utf-8", "replace").strip() or "git diff --cached failed")
        if path.stat().st_size == 0:
            fail("nothing to review: nothing is staged")
        yield path
