"""Source trees over a directory or a git commit: the file readers grounding uses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from deepreview.source.git import git_environment

#: Bytes inspected for a NUL when deciding whether a file is binary (git uses the same size).
_BINARY_PROBE = 8000
_GIT_TIMEOUT_S = 30.0


def split_lines(data: bytes) -> list[str] | None:
    """Decode file bytes into lines (LF or CRLF); None for binary content.

    Only ``\\n`` ends a line, as in git, so line numbers agree with diffs. Undecodable bytes
    survive as surrogate escapes.
    """
    if b"\0" in data[:_BINARY_PROBE]:
        return None
    text = data.decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _relative(path: str) -> PurePosixPath | None:
    """`path` as a repository-relative path, or None if it is absolute, empty or climbs out."""
    rel = PurePosixPath(path.replace("\\", "/"))
    if rel.is_absolute() or not rel.parts or ".." in rel.parts:
        return None
    return rel


class DirectoryTree:
    """A SourceTree over a directory (the head worktree); paths escaping the root read as absent."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._cache: dict[str, list[str] | None] = {}
        self._paths: list[str] | None = None

    def paths(self) -> list[str]:
        """Every regular file below the root (`.git` excluded), sorted."""
        if self._paths is None:
            found: list[str] = []
            for top, dirs, files in os.walk(self._root):
                dirs[:] = [d for d in dirs if d != ".git"]
                rel = Path(top).relative_to(self._root)
                found += [(rel / f).as_posix() for f in files if f != ".git"]
            self._paths = sorted(found)
        return self._paths

    def read_lines(self, path: str) -> list[str] | None:
        """The lines of `root/path`, or None when absent, binary, a directory or outside root."""
        if path not in self._cache:
            self._cache[path] = self._read(path)
        return self._cache[path]

    def _read(self, path: str) -> list[str] | None:
        rel = _relative(path)
        if rel is None:
            return None
        full = (self._root / rel).resolve()
        if not full.is_relative_to(self._root) or not full.is_file():
            return None
        try:
            return split_lines(full.read_bytes())
        except OSError:
            return None


class GitTree:
    """A SourceTree over the files of commit `sha` in `repo` (`git cat-file blob sha:path`, the
    raw content `git show` prints for a file), read once per path."""

    def __init__(self, repo: Path, sha: str) -> None:
        self._repo = repo
        self._sha = sha
        self._cache: dict[str, list[str] | None] = {}
        self._paths: list[str] | None = None
        if (
            sha.startswith("-")
            or self._git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}") is None
        ):
            raise ValueError(f"{sha!r} is not a commit of {repo}")

    def read_lines(self, path: str) -> list[str] | None:
        """The lines of `path` at the commit, or None when absent, binary or not a file."""
        if path not in self._cache:
            self._cache[path] = self._read(path)
        return self._cache[path]

    def paths(self) -> list[str]:
        """Every file of the commit (`git ls-tree -r`), sorted."""
        if self._paths is None:
            out = self._git("ls-tree", "-r", "-z", "--name-only", self._sha)
            names = out.decode("utf-8", "surrogateescape").split("\0") if out else []
            self._paths = sorted(n for n in names if n)
        return self._paths

    def _read(self, path: str) -> list[str] | None:
        rel = _relative(path)
        if rel is None:
            return None
        data = self._git("cat-file", "blob", f"{self._sha}:{rel}")
        return split_lines(data) if data is not None else None

    def _git(self, *args: str) -> bytes | None:
        """Standard output of a git command in the repository, or None if it failed."""
        try:
            proc = subprocess.run(
                ["git", "-C", str(self._repo), *args],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_GIT_TIMEOUT_S,
                env=git_environment(),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout if proc.returncode == 0 else None
