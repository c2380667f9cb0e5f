"""DirectoryTree and GitTree: the file readers grounding uses, on real files and repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deepreview.consolidate import SourceTree
from deepreview.source.tree import DirectoryTree, GitTree


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("one\ntwo\nthree\n")
    (root / "crlf.txt").write_bytes(b"a\r\nb\r\n")
    (root / "blob.bin").write_bytes(b"\x89PNG\0\0data")
    (root / "noeol.txt").write_text("last line without newline")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


def test_directory_tree_reads_lines(repo: Path) -> None:
    tree: SourceTree = DirectoryTree(repo)
    assert tree.read_lines("src/app.py") == ["one", "two", "three"]
    assert tree.read_lines("crlf.txt") == ["a", "b"]
    assert tree.read_lines("noeol.txt") == ["last line without newline"]


def test_directory_tree_absent_binary_and_directories_read_as_none(repo: Path) -> None:
    tree = DirectoryTree(repo)
    assert tree.read_lines("nope.py") is None
    assert tree.read_lines("blob.bin") is None
    assert tree.read_lines("src") is None


def test_directory_tree_rejects_paths_escaping_the_root(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret\n")
    (repo / "link.txt").symlink_to(tmp_path / "secret.txt")
    tree = DirectoryTree(repo)
    assert tree.read_lines("../secret.txt") is None
    assert tree.read_lines(str(tmp_path / "secret.txt")) is None
    assert tree.read_lines("link.txt") is None


def test_git_tree_reads_the_commit_not_the_worktree(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "app.py").write_text("changed\n")
    git(repo, "commit", "-qam", "second")
    second = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "app.py").write_text("uncommitted\n")
    assert GitTree(repo, first).read_lines("src/app.py") == ["one", "two", "three"]
    assert GitTree(repo, second).read_lines("src/app.py") == ["changed"]
    assert GitTree(repo, second).read_lines("crlf.txt") == ["a", "b"]


def test_git_tree_absent_binary_directory_and_escaping_paths_are_none(repo: Path) -> None:
    tree = GitTree(repo, git(repo, "rev-parse", "HEAD"))
    for path in ("nope.py", "blob.bin", "src", "../repo/src/app.py", "/src/app.py"):
        assert tree.read_lines(path) is None, path


def test_git_tree_caches_each_path(repo: Path) -> None:
    tree = GitTree(repo, git(repo, "rev-parse", "HEAD"))
    first = tree.read_lines("src/app.py")
    (repo / ".git").rename(repo / "moved.git")  # later reads could no longer reach git
    assert tree.read_lines("src/app.py") is first


def test_git_tree_rejects_an_unknown_commit(repo: Path) -> None:
    with pytest.raises(ValueError, match="not a commit"):
        GitTree(repo, "0" * 40)
    with pytest.raises(ValueError, match="not a commit"):
        GitTree(repo, "--output=/tmp/x")
