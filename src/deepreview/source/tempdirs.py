"""Temporary folders a review owns, and the sweep of those a killed review left behind.

Each folder holds an owner marker, `.deepreview-owner`, locked with `flock` for as long as its
review runs. The kernel releases the lock when the process ends, however it ends (`kill -9`,
the OOM killer), so a marker whose lock can be taken has no live owner — no process id that
could be reused is involved. The marker is locked before it gets its name, so a folder never
shows an unlocked marker while its review lives.

At the start of a review, `sweep` lists the temp folder once (no recursion) and removes the
folders with a review prefix, owned by this user, whose marker lock is free, dropping the
registration of a git worktree inside them (`git worktree prune` in its repository). A folder
without a marker (from a deepreview without markers, or being created this instant) is removed
only when it has not changed for a day. The sweep never fails a review: what cannot be removed
is left, with a debug-level log note.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from deepreview.background import Cancelled, check
from deepreview.source.git import TargetError, git

#: The review's run folder: agents' scratch areas, the target's diff, verify's scratch copies.
RUN_PREFIX = "deepreview-run-"
#: The folder holding the head worktree.
WORKTREE_PREFIX = "deepreview-wt-"
#: The folder holding `review --staged`'s patch.
STAGED_PREFIX = "deepreview-staged-"
PREFIXES = (RUN_PREFIX, WORKTREE_PREFIX, STAGED_PREFIX)

#: The owner marker, locked by the live review.
OWNER = ".deepreview-owner"
#: A folder without a marker is left alone until it has not changed for this long.
UNMARKED_AGE_S = 24 * 3600

_log = logging.getLogger(__name__)

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # no flock (Windows): folders are not marked and nothing is swept
    fcntl = None


@contextlib.contextmanager
def owned_folder(prefix: str) -> Iterator[Path]:
    """A new folder in the temp folder, marked as this process's until the block ends; removed
    then (also on errors and Ctrl-C), its marker last."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    lock = _claim(folder) if fcntl is not None else None
    try:
        yield folder
    finally:
        try:
            _remove(folder)
        except OSError as exc:
            _log.debug("left %s: %s", folder, exc)
        if lock is not None:
            os.close(lock)


def sweep(cancel: threading.Event | None = None, root: Path | None = None) -> list[Path]:
    """Remove the folders of reviews that are gone from `root` (the temp folder); return them."""
    if fcntl is None:
        return []
    top = root or Path(tempfile.gettempdir())
    try:
        with os.scandir(top) as listing:
            names = [e.name for e in listing if e.name.startswith(PREFIXES)]
    except OSError as exc:
        _log.debug("no sweep of %s: %s", top, exc)
        return []
    removed: list[Path] = []
    now = time.time()
    for name in names:
        try:
            check(cancel)
        except Cancelled:
            break
        folder = top / name
        try:
            if _sweep_one(folder, now):
                removed.append(folder)
                _log.debug("removed %s: its review is gone", folder)
        except (OSError, TargetError) as exc:
            _log.debug("left %s: %s", folder, exc)
    return removed


def _lock(fd: int, wait: bool) -> None:
    """Lock `fd` exclusively (`wait`: until free; else BlockingIOError when held)."""
    assert fcntl is not None  # only called where flock exists
    fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)


def _claim(folder: Path) -> int:
    """Create `folder`'s marker, locked for as long as the returned descriptor stays open
    (it is not inherited by child processes)."""
    staged = folder / f"{OWNER}.new"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _lock(fd, wait=True)
        os.write(fd, f"pid {os.getpid()} since {int(time.time())}\n".encode())
        os.rename(staged, folder / OWNER)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _sweep_one(folder: Path, now: float) -> bool:
    """Remove `folder` if this user's, and its owner is gone (or it is unmarked and a day old)."""
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return False
    try:
        marker = os.open(folder / OWNER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        if now - st.st_mtime < UNMARKED_AGE_S:
            return False
        _remove(folder)
        return True
    try:
        try:
            _lock(marker, wait=False)
        except BlockingIOError:
            return False  # its review is running
        _remove(folder)  # holding the lock: a concurrent sweep leaves it alone
        return True
    finally:
        os.close(marker)


def _remove(folder: Path) -> None:
    """Remove `folder`, its marker last, so a folder left half-removed stays marked; a git
    worktree in it is unregistered from its repository. Raises the first failure."""
    failures: list[OSError] = []
    with os.scandir(folder) as listing:
        entries = [e for e in listing if e.name != OWNER]
    for entry in entries:
        path = Path(entry.path)
        repository = _registered_in(path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            failures.append(exc)
            continue
        if repository is not None:
            git(repository, "--git-dir", str(repository), "worktree", "prune", check=False)
    if failures:
        raise failures[0]
    (folder / OWNER).unlink(missing_ok=True)
    folder.rmdir()


def _registered_in(checkout: Path) -> Path | None:
    """The git folder of the repository in which `checkout` is registered as a worktree, when
    the registration points back at it."""
    link = _small_text(checkout / ".git")
    if link is None or not link.startswith("gitdir: "):
        return None
    admin = Path(link.removeprefix("gitdir: "))
    back, common = _small_text(admin / "gitdir"), _small_text(admin / "commondir")
    if back is None or common is None:
        return None
    if os.path.realpath(back) != os.path.realpath(checkout / ".git"):
        return None
    return Path(os.path.realpath(admin / common))


def _small_text(path: Path) -> str | None:
    """The stripped text of a small regular file (not a link, fifo or device), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 4096).decode("utf-8", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
