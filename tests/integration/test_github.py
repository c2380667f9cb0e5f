"""Pull-request metadata from a fake GitHub over real HTTP, PR references, tokens, PR heads."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from deepreview.forge.github import (
    GitHubClient,
    GitHubError,
    api_url,
    fetch_pr_head,
    github_token,
    parse_pr_ref,
)
from deepreview.schema import Commit, FeedbackComment, Location
from tests.fake_github import FakeGitHub, fake_github
from tests.repo_factory import commit, git, make_repo
from tests.servers import Reply

__all__ = ["fake_github"]

TOKEN = "test-token"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("123", (None, 123)),
        (" #42 ", (None, 42)),
        ("octo/hello-world#7", ("octo/hello-world", 7)),
        ("https://github.com/o/r/pull/123", ("o/r", 123)),
        ("https://github.com/o/r/pull/123/files", ("o/r", 123)),
        ("https://github.com/o/r.js/pull/5/files?diff=split#diff-abc", ("o/r.js", 5)),
        ("https://ghe.corp.example/team/svc/pull/9/commits/", ("team/svc", 9)),
        ("http://ghe.local:8443/a_b/c-d/pull/1", ("a_b/c-d", 1)),
    ],
)
def test_pr_references_parse(arg: str, expected: tuple[str | None, int]) -> None:
    ref = parse_pr_ref(arg)
    assert (ref.repo, ref.number) == expected


@pytest.mark.parametrize(
    "arg",
    [
        "",
        "abc",
        "0",
        "-3",
        "o/r7",
        "https://github.com/o/r/issues/3",
        "https://github.com/o/pull/3",
        "ftp://github.com/o/r/pull/3",
        "https://github.com/o/r/pull/x",
    ],
)
def test_bad_pr_references_are_refused(arg: str) -> None:
    with pytest.raises(GitHubError, match="not a pull request number or URL"):
        parse_pr_ref(arg)


def _pull_with_history(gh: FakeGitHub) -> None:
    pull = gh.add_pull("octo/shop", 7, head_sha="c" * 40)
    for i, subject in enumerate(["Add store", "Add lookup", "Fix lookup quoting"]):
        gh.add_commit(pull, f"{i:040d}", f"{subject}\n\nDetails.", "Mona Lisa")
    gh.add_thread(pull, author="alice", body="Fixed already?", path="a.py", line=3, resolved=True)
    gh.add_thread(pull, author="bob", body="Old code", path="b.py", line=9, outdated=True)
    gh.add_thread(pull, author="carol", body="Please quote the name.", path="store.py", line=48)


def test_pull_request_returns_metadata_commits_and_only_open_threads(
    fake_github: FakeGitHub,
) -> None:
    _pull_with_history(fake_github)
    with GitHubClient(TOKEN, fake_github.url) as client:
        info = client.pull_request("octo/shop", 7)
    assert (info.repo, info.number, info.title, info.author) == (
        "octo/shop",
        7,
        "Add a customer lookup",
        "octocat",
    )
    assert info.url == "https://github.com/octo/shop/pull/7"
    assert info.body.startswith("Adds a lookup.")
    assert (info.base_ref, info.base_sha) == ("main", "b" * 40)
    assert (info.head_ref, info.head_sha) == ("feature/lookup", "c" * 40)
    # Three commits over two pages (the fake serves two per page).
    assert info.commits == [
        Commit(sha=f"{0:040d}", subject="Add store", author="Mona Lisa"),
        Commit(sha=f"{1:040d}", subject="Add lookup", author="Mona Lisa"),
        Commit(sha=f"{2:040d}", subject="Fix lookup quoting", author="Mona Lisa"),
    ]
    [open_thread] = info.unresolved
    assert open_thread == FeedbackComment(
        author="carol",
        body="Please quote the name.",
        location=Location(path="store.py", start_line=48, end_line=48),
        url=open_thread.url,
    )
    assert open_thread.url and open_thread.url.startswith(info.url + "#discussion_r")
    assert info.notes == []
    graphql = [r for r in fake_github.requests if r.path == "/graphql"]
    assert len(graphql) == 2  # three threads, two per page
    assert graphql[1].json()["variables"]["cursor"] == "2"
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake_github.requests)
    assert fake_github.writes() == []


def test_missing_pull_request_has_a_clear_message(fake_github: FakeGitHub) -> None:
    with (
        GitHubClient(TOKEN, fake_github.url) as client,
        pytest.raises(GitHubError) as err,
    ):
        client.pull_request("octo/shop", 99)
    assert str(err.value) == "GitHub: 404 pull request #99 not found in octo/shop"
    assert err.value.status == 404


def test_bad_token_gives_the_authentication_message_without_the_token(
    fake_github: FakeGitHub,
) -> None:
    _pull_with_history(fake_github)
    with (
        GitHubClient("wrong-secret-123", fake_github.url) as client,
        pytest.raises(GitHubError) as err,
    ):
        client.pull_request("octo/shop", 7)
    assert str(err.value) == "GitHub: authentication failed (set GITHUB_TOKEN or GH_TOKEN)"
    assert fake_github.requests[0].headers["authorization"] == "Bearer wrong-secret-123"


def test_without_a_token_threads_are_skipped_with_a_note() -> None:
    with FakeGitHub(token=None) as gh:
        _pull_with_history(gh)
        with GitHubClient(None, gh.url) as client:
            info = client.pull_request("octo/shop", 7)
        assert "authorization" not in gh.requests[0].headers
        assert not any(r.path == "/graphql" for r in gh.requests)
    assert info.unresolved == []
    assert info.notes == [
        "unresolved review threads not fetched: GitHub's GraphQL API needs a token"
    ]


def test_server_errors_and_secondary_rate_limits_are_retried(fake_github: FakeGitHub) -> None:
    _pull_with_history(fake_github)
    fake_github.fail_next(
        Reply(502, {"message": "Server Error"}, {"retry-after": "0"}),
        Reply(403, {"message": "You have exceeded a secondary rate limit."}, {"retry-after": "0"}),
    )
    with GitHubClient(TOKEN, fake_github.url) as client:
        info = client.pull_request("octo/shop", 7)
    assert info.title == "Add a customer lookup"
    assert [r.path for r in fake_github.requests[:3]] == ["/repos/octo/shop/pulls/7"] * 3


def test_renamed_repository_redirect_is_followed(fake_github: FakeGitHub) -> None:
    _pull_with_history(fake_github)
    new_home = f"{fake_github.url}/repos/octo/shop/pulls/7"
    fake_github.fail_next(Reply(301, {"message": "Moved Permanently"}, {"location": new_home}))
    with GitHubClient(TOKEN, fake_github.url) as client:
        info = client.pull_request("octo/old-shop", 7)
    assert (info.repo, info.head_sha) == ("octo/shop", "c" * 40)
    assert fake_github.requests[1].path == "/repos/octo/shop/pulls/7"
    assert fake_github.requests[1].headers["authorization"] == f"Bearer {TOKEN}"


def test_retries_are_bounded(fake_github: FakeGitHub) -> None:
    _pull_with_history(fake_github)
    fake_github.fail_next(*[Reply(503, {"message": "Unavailable"}, {"retry-after": "0"})] * 6)
    with (
        GitHubClient(TOKEN, fake_github.url) as client,
        pytest.raises(
            GitHubError, match=r"^GitHub: 503 Unavailable \(GET /repos/octo/shop/pulls/7\)$"
        ),
    ):
        client.pull_request("octo/shop", 7)
    assert len(fake_github.requests) == GitHubClient.max_attempts


def test_long_rate_limits_are_reported_not_waited_for(fake_github: FakeGitHub) -> None:
    fake_github.fail_next(
        Reply(
            403,
            {"message": "API rate limit exceeded for user ID 1."},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"},
        ),
        Reply(
            429, {"message": "You have exceeded a secondary rate limit."}, {"retry-after": "900"}
        ),
    )
    with GitHubClient(TOKEN, fake_github.url) as client:
        with pytest.raises(GitHubError, match=r"^GitHub: 403 API rate limit exceeded .*resets at"):
            client.request("GET", "/repos/o/r/pulls/1")
        with pytest.raises(GitHubError, match=r"secondary rate limit\. \(retry after 900 s\)"):
            client.request("GET", "/repos/o/r/pulls/1")
    assert len(fake_github.requests) == 2


def test_forbidden_and_validation_errors_carry_githubs_message(fake_github: FakeGitHub) -> None:
    fake_github.fail_next(
        Reply(403, {"message": "Resource not accessible by integration"}),
        Reply(
            422,
            {
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequest", "field": "line", "code": "invalid"}],
            },
        ),
    )
    with GitHubClient(TOKEN, fake_github.url) as client:
        with pytest.raises(GitHubError) as err:
            client.request("GET", "/repos/o/r/pulls/1/comments")
        assert str(err.value) == (
            "GitHub: 403 Resource not accessible by integration (GET /repos/o/r/pulls/1/comments)"
        )
        with pytest.raises(GitHubError) as err:
            client.request("POST", "/repos/o/r/pulls/1/reviews", json={})
        assert str(err.value) == (
            "GitHub: 422 Validation Failed: PullRequest line invalid "
            "(POST /repos/o/r/pulls/1/reviews)"
        )
    assert len(fake_github.requests) == 2  # neither is retried


def test_malformed_answers_give_a_clear_error(fake_github: FakeGitHub) -> None:
    _pull_with_history(fake_github)
    fake_github.fail_next(Reply(200, {"title": "no other fields"}))
    with GitHubClient(TOKEN, fake_github.url) as client:
        with pytest.raises(GitHubError, match=r"^GitHub: unexpected answer for /repos/octo/shop"):
            client.pull_request("octo/shop", 7)
        fake_github.fail_next(Reply(200, "<html>maintenance</html>"))
        with pytest.raises(GitHubError, match="answered with something other than JSON"):
            client.pull_request("octo/shop", 7)
        fake_github.fail_next(Reply(200, fake_github.pulls[("octo/shop", 7)].data), Reply(200, [7]))
        with pytest.raises(GitHubError, match=r"^GitHub: unexpected commit list for octo/shop#7$"):
            client.pull_request("octo/shop", 7)


def test_pagination_never_follows_a_link_to_another_host(fake_github: FakeGitHub) -> None:
    fake_github.fail_next(Reply(200, [{"id": 1}], {"link": '<http://198.51.100.7/x>; rel="next"'}))
    with (
        GitHubClient(TOKEN, fake_github.url) as client,
        pytest.raises(GitHubError, match="leads off the API host"),
    ):
        client.paginate("/repos/o/r/pulls/1/comments")
    assert len(fake_github.requests) == 1


def test_graphql_errors_become_github_errors(fake_github: FakeGitHub) -> None:
    variables = {"owner": "octo", "name": "shop", "number": 99, "cursor": None}
    with (
        GitHubClient(TOKEN, fake_github.url) as client,
        pytest.raises(GitHubError, match=r"^GitHub: GraphQL: Could not resolve to a PullRequest"),
    ):
        client.graphql("query { reviewThreads }", variables)


def test_unreachable_server_gives_a_short_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        GitHubClient(TOKEN, f"http://127.0.0.1:{port}") as client,
        pytest.raises(GitHubError, match=rf"^GitHub: cannot reach 127\.0\.0\.1:{port}: "),
    ):
        client.pull_request("octo/shop", 7)


def test_bad_repository_names_are_refused_before_any_request() -> None:
    with (
        GitHubClient(TOKEN, "http://127.0.0.1:9") as client,
        pytest.raises(GitHubError, match="bad repository name"),
    ):
        client.pull_request("octo/../../admin", 1)


def _fake_gh(bin_dir: Path, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f"#!/bin/sh\n{script}\n")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)


def test_token_comes_from_env_then_gh(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _fake_gh(bin_dir, '[ "$1 $2" = "auth token" ] && echo gho_from_gh')
    path = str(bin_dir)
    assert github_token({"GITHUB_TOKEN": "a", "GH_TOKEN": "b", "PATH": path}) == "a"
    assert github_token({"GITHUB_TOKEN": " ", "GH_TOKEN": "b", "PATH": path}) == "b"
    assert github_token({"PATH": path}) == "gho_from_gh"
    assert github_token({"PATH": str(tmp_path / "nowhere")}) is None


def test_gh_not_logged_in_means_no_token(tmp_path: Path) -> None:
    _fake_gh(tmp_path / "bin", "echo 'no oauth token found' >&2; exit 1")
    assert github_token({"PATH": str(tmp_path / "bin")}) is None


def test_api_url_defaults_to_the_public_api() -> None:
    assert api_url({}) == "https://api.github.com"
    assert api_url({"GITHUB_API_URL": "https://ghe.corp/api/v3/"}) == "https://ghe.corp/api/v3"


def test_fetch_pr_head_fetches_into_a_private_ref(tmp_path: Path) -> None:
    origin = make_repo(tmp_path / "origin", {"app.py": "x = 1\n"})
    git(origin, "checkout", "-q", "-b", "contrib")
    head = commit(origin, {"app.py": "x = 2\n"}, "Contribution")
    git(origin, "checkout", "-q", "main")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(origin), str(bare))
    git(bare, "update-ref", "refs/pull/12/head", head)
    git(bare, "update-ref", "-d", "refs/heads/contrib")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))

    assert fetch_pr_head(clone, "origin", 12) == head
    assert git(clone, "rev-parse", "refs/deepreview/pull/12") == head
    assert git(clone, "branch", "--list") == "* main"  # no branch created or switched

    with pytest.raises(GitHubError, match=r"^GitHub: cannot fetch pull request #13 from origin: "):
        fetch_pr_head(clone, "origin", 13)
    with pytest.raises(GitHubError, match="cannot fetch pull request #12"):
        fetch_pr_head(clone, "--upload-pack=touch /tmp/x", 12)
