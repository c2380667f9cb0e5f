"""Folders a review owns through a lock, and the sweep of those whose review was killed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from deepreview.source.tempdirs import OWNER, RUN_PREFIX, owned_folder, sweep
from tests.repo_factory import git, make_repo

#: Holds a run folder (with the subfolders named on its command line) until killed.
HOLDER = """
import sys, time
from deepreview.source.tempdirs import RUN_PREFIX, owned_folder
with owned_folder(RUN_PREFIX) as folder:
    (folder / "target.diff").write_text("diff")
    for name in sys.argv[1:]:
        (folder / name).mkdir()
    print(folder, flush=True)
    time.sleep(600)
"""

#: Sweeps the folder named on its command line, logging at debug level to stderr.
SWEEPER = """
import logging, sys
from pathlib import Path
from deepreview.source.tempdirs import sweep
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(message)s")
print([p.name for p in sweep(root=Path(sys.argv[1]))])
"""

DAY = 24 * 3600


def held(tmp: Path, *subfolders: str) -> tuple[subprocess.Popen[str], Path]:
    """A process holding a run folder in `tmp`, and that folder."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, *subfolders],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def killed(tmp: Path, *subfolders: str) -> Path:
    """A run folder whose owner was killed with SIGKILL."""
    proc, folder = held(tmp, *subfolders)
    proc.kill()
    proc.wait()
    return folder


def aged(path: Path, seconds: float) -> None:
    """Make `path` look unchanged for `seconds`."""
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_a_live_owners_folder_is_left_and_a_killed_ones_swept(tmp_path: Path) -> None:
    proc, folder = held(tmp_path)
    try:
        assert folder.parent == tmp_path and folder.name.startswith(RUN_PREFIX)
        assert (folder / OWNER).is_file()
        assert sweep(root=tmp_path) == []
        assert (folder / "target.diff").read_text() == "diff"
    finally:
        proc.kill()
        proc.wait()
    assert (folder / "target.diff").exists()  # a killed owner cleans nothing up
    assert sweep(root=tmp_path) == [folder]
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_this_process_is_left_while_open_and_removed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with owned_folder(RUN_PREFIX) as folder:
        (folder / "agents").mkdir()
        assert sweep(root=tmp_path) == []  # the lock holds within one process too
        assert (folder / "agents").is_dir()
    assert list(tmp_path.iterdir()) == []


def test_an_unmarked_folder_is_swept_only_after_a_day(tmp_path: Path) -> None:
    young = tmp_path / "deepreview-run-young"
    old = tmp_path / "deepreview-run-old"
    unrelated = tmp_path / "other-run-old"
    for folder in (young, old, unrelated):
        folder.mkdir()
        (folder / "target.diff").write_text("diff")
    aged(young, DAY - 600)
    aged(old, DAY + 600)
    aged(unrelated, 10 * DAY)
    assert sweep(root=tmp_path) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "deepreview-run-young",
        "other-run-old",
    ]


def test_links_and_files_with_the_prefix_are_left(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    link = tmp_path / "deepreview-wt-link"
    link.symlink_to(target)
    plain = tmp_path / "deepreview-run-file"
    plain.write_text("not a folder")
    aged(link, 10 * DAY)
    aged(plain, 10 * DAY)
    assert sweep(root=tmp_path) == []
    assert (target / "keep.txt").read_text() == "keep" and plain.is_file()


def test_a_swept_worktree_is_unregistered_from_its_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": "X = 1\n"})
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    folder = tmp / "deepreview-wt-old"
    folder.mkdir()
    git(repo, "worktree", "add", "--detach", "--quiet", str(folder / "head"), "HEAD")
    assert len(git(repo, "worktree", "list").splitlines()) == 2
    aged(folder, 2 * DAY)  # a folder from before markers
    assert sweep(root=tmp) == [folder]
    assert not folder.exists()
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "worktree", "list", "--porcelain").count("prunable") == 0


def test_a_checkout_naming_another_worktrees_registration_prunes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    gone = tmp_path / "gone"
    git(repo, "worktree", "add", "--detach", "--quiet", str(gone), "HEAD")
    link = (gone / ".git").read_text()
    shutil.rmtree(gone)  # that registration is stale now, but not the sweep's to drop
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    folder = killed(tmp, "head")
    (folder / "head" / ".git").write_text(link)  # as an agent writing in its worktree could
    assert sweep(root=tmp) == [folder]
    assert "prunable" in git(repo, "worktree", "list", "--porcelain")


def test_a_folder_that_cannot_be_removed_is_left_with_a_debug_note(tmp_path: Path) -> None:
    folder = killed(tmp_path, "busy")
    # A mount point inside the folder, in a namespace of the sweeping process only: rmdir
    # fails with EBUSY whatever the privileges.
    script = 'mount -t tmpfs none "$1" && exec "$2" -c "$3" "$4"'
    args = [str(folder / "busy"), sys.executable, SWEEPER, str(tmp_path)]
    swept = subprocess.run(
        ["unshare", "-r", "-m", "sh", "-c", script, "sh", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.strip() == "[]"
    assert f"DEBUG left {folder}: [Errno 16]" in swept.stderr
    assert (folder / OWNER).is_file() and (folder / "busy").is_dir()
    assert sweep(root=tmp_path) == [folder]  # still marked: the next sweep finishes the job


def test_without_flock_folders_are_made_and_nothing_is_swept(tmp_path: Path) -> None:
    stale = tmp_path / "deepreview-run-stale"
    stale.mkdir()
    os.utime(stale, (0, 0))
    script = (
        "import sys, tempfile\n"
        "sys.modules['fcntl'] = None\n"
        "tempfile.tempdir = sys.argv[1]\n"
        "import deepreview.cli\n"
        "from deepreview.source import tempdirs\n"
        "with tempdirs.owned_folder(tempdirs.RUN_PREFIX) as f:\n"
        "    made = f.is_dir()\n"
        "print(made, f.exists(), tempdirs.sweep())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "False", "[]"]
    assert stale.is_dir()
