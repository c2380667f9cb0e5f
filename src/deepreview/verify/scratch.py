"""Scratch copies of the reviewed trees: the change's code only ever runs in one of these."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from deepreview.source.git import git_environment

#: Never copied into a scratch tree: version-control metadata and local environments.
_SKIPPED = (".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".deepreview")


class ScratchError(RuntimeError):
    """A scratch copy could not be made."""


def copy_tree(source: Path, dest: Path) -> Path:
    """Copy the checked-out tree at `source` (without .git and local environments) to `dest`."""
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(*_SKIPPED))
    return dest


def export_commit(repo: Path, sha: str, dest: Path) -> Path:
    """Write the tree of commit `sha` of `repo` to `dest` (git archive; the repository is only
    read)."""
    dest.mkdir(parents=True)
    with subprocess.Popen(
        ["git", "-C", str(repo), "archive", "--format=tar", sha],
        env=git_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                tar.extractall(dest, filter="data")
        except tarfile.TarError as exc:
            raise ScratchError(f"cannot export {sha[:12]}: {exc}") from exc
        err = proc.stderr.read() if proc.stderr else b""
    if proc.returncode != 0:
        raise ScratchError(f"git archive {sha[:12]}: {err.decode(errors='replace').strip()}")
    return dest
