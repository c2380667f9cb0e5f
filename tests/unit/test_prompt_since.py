"""A new round's prompt puts what changed since the previous round's head first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from deepreview.prompt import build_prompt
from deepreview.source.git import commits_between
from deepreview.source.since import since_last_review
from tests.repo_factory import commit, git, make_repo
from tests.unit.test_prompt import make_context


def test_commits_and_files_since_the_reviewed_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n"})
    reviewed = commit(repo, {"a.py": "a = 2\n"}, "First round")
    fix = commit(repo, {"b.py": "b = 1\n"}, "Address the review")
    since = since_last_review(repo, reviewed, fix)
    assert since is not None and not since.rewritten
    assert [c.subject for c in since.commits] == ["Address the review"]
    assert since.paths == ("b.py",)
    assert since_last_review(repo, fix, fix) is None
    assert since_last_review(repo, None, fix) is None


def test_a_rewritten_history_is_reviewed_whole(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n"})
    reviewed = commit(repo, {"a.py": "a = 2\n"}, "First round")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    rebased = commit(repo, {"a.py": "a = 3\n"}, "Rewritten")
    since = since_last_review(repo, reviewed, rebased)
    assert since is not None and since.rewritten and since.commits == ()
    unknown = since_last_review(repo, "0" * 40, rebased)
    assert unknown is not None and unknown.rewritten


def test_prompt_lists_new_commits_first(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, {"app.py": "print('bye')\n"})
    repo, base, head = ctx.repo_root, ctx.base_sha or "", ctx.target.head_sha or ""
    commits = commits_between(repo, base, head)
    first = commits[-1].sha  # oldest: "Change things"
    ctx = replace(
        ctx,
        target=ctx.target.model_copy(update={"commits": commits}),
        since=since_last_review(repo, first, head),
    )
    user = build_prompt(ctx, include_content=False, budget_tokens=None).user
    assert f"Previous round reviewed head {first}." in user
    assert "1 new commit(s)" in user and "- old.txt" in user
    new_at = user.index("Commits new since the previous round:")
    old_at = user.index("Commits reviewed in earlier rounds:")
    assert new_at < user.index("Remove old.txt") < old_at < user.index("Change things")
