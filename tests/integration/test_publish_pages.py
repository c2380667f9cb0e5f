"""Publishing to the `reviews` branch of a real repository, leaving the checkout alone."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from deepreview.publish.pages import PagesError, publish_pages
from deepreview.render.html import render_html
from deepreview.render.json import render_json
from deepreview.render.markdown import render_markdown
from deepreview.schema import Report
from tests.factories import empty_report, sample_report
from tests.repo_factory import GIT_ENV, commit, git, make_repo, write

SAMPLE_ID = "20260504-140731-pr-42"
EMPTY_ID = "20260504-090000-fix-typo"


@pytest.fixture(autouse=True)
def hermetic_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """Git as the publisher sees it: no user or system config, a known identity."""
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with work in progress: a modified file, a staged file, an untracked file."""
    path = make_repo(tmp_path / "repo", {"app.py": "print(1)\n", "lib.py": "x = 1\n"})
    commit(path, {"app.py": "print(2)\n"}, "Second commit")
    write(path, {"app.py": "print(3)  # unsaved work\n", "lib.py": "x = 2\n", "new.txt": "draft\n"})
    git(path, "add", "lib.py")
    return path


def checkout_state(repo: Path) -> tuple[bytes, str, str, str, str, str, bytes]:
    """Everything of the user's checkout that publishing must not change."""
    index = (repo / ".git" / "index").read_bytes()
    return (
        index,
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "diff", "--cached"),
        git(repo, "diff"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        (repo / "app.py").read_bytes(),
    )


def rendered(report: Report) -> dict[str, str]:
    return {"md": render_markdown(report), "html": render_html(report), "json": render_json(report)}


def files_on(repo: Path, ref: str) -> set[str]:
    return set(git(repo, "ls-tree", "--name-only", ref).splitlines())


def index_links(repo: Path, ref: str = "reviews") -> list[str]:
    return re.findall(r'<td><a href="([^"#]+)">', git(repo, "show", f"{ref}:index.html"))


def test_publish_creates_the_branch_without_touching_the_checkout(repo: Path) -> None:
    before = checkout_state(repo)
    sha = publish_pages(repo, sample_report(), rendered(sample_report()))
    assert checkout_state(repo) == before
    assert git(repo, "rev-parse", "refs/heads/reviews") == sha
    assert git(repo, "rev-list", "--count", "reviews") == "1"
    assert files_on(repo, "reviews") == {
        f"{SAMPLE_ID}.md",
        f"{SAMPLE_ID}.html",
        f"{SAMPLE_ID}.json",
        "index.html",
    }
    assert git(repo, "show", f"reviews:{SAMPLE_ID}.md") == render_markdown(sample_report()).strip()
    stored = Report.model_validate_json(git(repo, "show", f"reviews:{SAMPLE_ID}.json"))
    assert stored == sample_report()
    assert index_links(repo) == [f"{SAMPLE_ID}.html"]
    assert git(repo, "log", "-1", "--format=%s|%an", "reviews") == (
        f"Publish review {SAMPLE_ID}|Test Author"
    )
    # No stray temporary index is left in the repository.
    assert sorted(p.name for p in (repo / ".git").glob("*index*")) == ["index"]


def test_two_publishes_make_two_commits_and_index_both_newest_first(repo: Path) -> None:
    first = publish_pages(repo, sample_report(), rendered(sample_report()))
    before = checkout_state(repo)
    # Published second but reviewed earlier in the day: listed below the first.
    second = publish_pages(repo, empty_report(), rendered(empty_report()))
    assert checkout_state(repo) == before
    assert git(repo, "rev-parse", f"{second}^") == first
    assert git(repo, "rev-list", "--count", "reviews") == "2"
    assert {f"{SAMPLE_ID}.html", f"{EMPTY_ID}.html"} <= files_on(repo, "reviews")
    assert index_links(repo) == [f"{SAMPLE_ID}.html", f"{EMPTY_ID}.html"]
    page = git(repo, "show", "reviews:index.html")
    assert "2 reports, newest first." in page
    assert "#42 — Customer lookup | retrying client" in page
    assert 'class="verdict rework">Rework<' in page
    assert 'class="verdict merge-as-is">Merge as-is<' in page


def test_a_newer_review_goes_on_top(repo: Path) -> None:
    publish_pages(repo, sample_report(), rendered(sample_report()))
    later = empty_report().model_copy(
        update={
            "id": "20260505-080000-fix-typo",
            "created_at": sample_report().created_at + timedelta(days=1),
        }
    )
    publish_pages(repo, later, {"md": render_markdown(later)})
    # Only Markdown was given: the JSON is written anyway and the index links the Markdown.
    assert "20260505-080000-fix-typo.json" in files_on(repo, "reviews")
    assert index_links(repo) == ["20260505-080000-fix-typo.md", f"{SAMPLE_ID}.html"]


def test_republishing_a_report_replaces_its_files(repo: Path) -> None:
    publish_pages(repo, sample_report(), rendered(sample_report()))
    publish_pages(repo, sample_report(), {"md": "# edited\n"})
    assert git(repo, "show", f"reviews:{SAMPLE_ID}.md") == "# edited"
    assert index_links(repo) == [f"{SAMPLE_ID}.html"]


def test_a_malformed_json_on_the_branch_is_kept_and_left_out_of_the_index(repo: Path) -> None:
    broken = empty_report().model_copy(update={"id": "broken"})
    publish_pages(repo, broken, {"json": "{not json"})
    publish_pages(repo, sample_report(), rendered(sample_report()))
    assert git(repo, "show", "reviews:broken.json") == "{not json"
    assert index_links(repo) == [f"{SAMPLE_ID}.html"]


def test_refuses_a_branch_that_is_checked_out(repo: Path) -> None:
    git(repo, "branch", "reviews")
    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "reviews")
    tip = git(repo, "rev-parse", "reviews")
    with pytest.raises(PagesError, match="checked out"):
        publish_pages(repo, sample_report(), rendered(sample_report()))
    assert git(repo, "rev-parse", "reviews") == tip


@pytest.mark.parametrize(
    ("report_id", "formats", "branch", "message"),
    [
        (SAMPLE_ID, {"md": "x"}, "bad..name", "not a valid branch name"),
        ("../escape", {"md": "x"}, "reviews", "cannot be used as a file name"),
        (SAMPLE_ID, {"../md": "x"}, "reviews", "format names"),
    ],
)
def test_bad_names_are_refused_before_anything_is_written(
    repo: Path, report_id: str, formats: dict[str, str], branch: str, message: str
) -> None:
    objects = sorted(p.name for p in (repo / ".git" / "objects").rglob("*"))
    report = sample_report().model_copy(update={"id": report_id})
    with pytest.raises(PagesError, match=re.escape(message)):
        publish_pages(repo, report, formats, branch=branch)
    assert sorted(p.name for p in (repo / ".git" / "objects").rglob("*")) == objects
    assert git(repo, "branch", "--list") == "* main"


def test_commits_as_deepreview_when_git_has_no_identity(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        monkeypatch.delenv(name)
    git(repo, "config", "user.useConfigOnly", "true")
    assert "GIT_AUTHOR_NAME" not in os.environ
    publish_pages(repo, empty_report(), {"md": "# r\n"})
    assert git(repo, "log", "-1", "--format=%an <%ae>", "reviews") == (
        "deepreview <deepreview@localhost>"
    )


def test_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PagesError, match="cannot publish to branch 'reviews'"):
        publish_pages(tmp_path, empty_report(), {"md": "# r\n"})
