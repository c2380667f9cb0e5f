"""Target resolution against real repositories: ranges, uncommitted changes, patches."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepreview.source.git import TargetError, default_base, find_repo_root
from deepreview.source.resolve import TargetSpec, resolve_target
from deepreview.source.worktree import worktree
from tests.repo_factory import commit, git, make_repo, write


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"app.py": "print('hi')\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"app.py": "print('hello')\n"}, "Say hello")
    commit(repo, {"lib/util.py": "X = 1\n"}, "Add util")
    return repo


def test_branch_is_reviewed_against_main_by_default(repo: Path, tmp_path: Path) -> None:
    assert default_base(repo) == "main"
    t = resolve_target(repo, TargetSpec(), tmp_path)
    assert t.kind == "range"
    assert t.base_sha == git(repo, "rev-parse", "main")
    assert t.head_sha == git(repo, "rev-parse", "HEAD")
    assert [c.subject for c in t.commits] == ["Add util", "Say hello"]
    assert [c.files_changed for c in t.commits] == [1, 1]
    assert t.branch == "feature"
    text = t.diff_path.read_text()
    assert "+print('hello')" in text and "b/lib/util.py" in text


def test_base_is_the_merge_base_when_main_moved_on(repo: Path, tmp_path: Path) -> None:
    fork = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"other.py": "y = 2\n"}, "Unrelated work on main")
    git(repo, "checkout", "-q", "feature")
    t = resolve_target(repo, TargetSpec(), tmp_path)
    assert t.base_sha == fork
    assert "other.py" not in t.diff_path.read_text()


def test_explicit_base_and_head(repo: Path, tmp_path: Path) -> None:
    t = resolve_target(repo, TargetSpec(base="HEAD~1", head="HEAD"), tmp_path)
    assert [c.subject for c in t.commits] == ["Add util"]
    assert "app.py" not in t.diff_path.read_text()


def test_unknown_ref_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="unknown revision: nope"):
        resolve_target(repo, TargetSpec(base="nope"), tmp_path)


def test_default_branch_needs_explicit_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    with pytest.raises(TargetError, match="--base"):
        resolve_target(repo, TargetSpec(), tmp_path)


def test_uncommitted_takes_index_worktree_and_untracked_without_touching_them(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, {"app.py": "print('staged')\n"})
    git(repo, "add", "app.py")
    write(repo, {"lib/util.py": "X = 2\n", "new_file.py": "Z = 3\n"})
    status_before = git(repo, "status", "--porcelain")
    t = resolve_target(repo, TargetSpec(uncommitted=True), tmp_path)
    text = t.diff_path.read_text()
    assert "+print('staged')" in text
    assert "+X = 2" in text
    assert "+Z = 3" in text
    assert git(repo, "status", "--porcelain") == status_before
    assert t.base_sha == git(repo, "rev-parse", "HEAD")
    assert t.head_sha != t.base_sha


def test_patch_is_copied_and_applies_on_head(repo: Path, tmp_path: Path) -> None:
    patch = tmp_path / "change.patch"
    patch.write_text(git(repo, "diff", "HEAD~1", "HEAD") + "\n")
    (tmp_path / "w").mkdir()
    t = resolve_target(repo, TargetSpec(patch=str(patch), base="HEAD~1"), tmp_path / "w")
    assert t.kind == "patch" and t.label == "patch-change"
    assert t.diff_path.read_text() == patch.read_text()


def test_unreadable_patch(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot read patch"):
        resolve_target(repo, TargetSpec(patch=str(tmp_path / "missing.patch")), tmp_path)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not a git repository"):
        find_repo_root(tmp_path)


def test_repo_root_found_from_subdirectory(repo: Path) -> None:
    assert find_repo_root(repo / "lib") == repo.resolve()


def test_worktree_is_removed_even_on_error(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with pytest.raises(RuntimeError), worktree(repo, head) as wt:
        assert (wt / "lib" / "util.py").read_text() == "X = 1\n"
        created = wt
        raise RuntimeError("boom")
    assert not created.exists()
    assert len(git(repo, "worktree", "list").splitlines()) == 1
