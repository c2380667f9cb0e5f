"""A fake GitHub API on 127.0.0.1: real HTTP, in-memory pull requests, REST and GraphQL.

It serves what deepreview uses: a pull request, its commits, review comments and reviews
(paginated with Link headers), the reviewThreads GraphQL query, and the review-writing
endpoints. It checks the bearer token, refuses comments on lines outside the PR diff (422, as
GitHub does) and can be told to fail the next requests.

    with FakeGitHub(token="t0k") as gh:
        pr = gh.add_pull("o/r", 7, commentable={"app.py": {1, 2, 3}})
        client = GitHubClient("t0k", gh.url)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.servers import Recorded, Reply, ServedFake

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
BOT = "deepreview-bot"


@dataclass
class FakePull:
    """One pull request's state."""

    repo: str
    number: int
    data: dict[str, Any]
    commentable: dict[str, set[int]]
    commits: list[dict[str, Any]] = field(default_factory=list)
    threads: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakeGitHub(ServedFake):
    """The fake server. `requests` records every request; `pulls` holds the state."""

    def __init__(self, token: str | None = "test-token", page_size: int = 2) -> None:
        super().__init__(first_id=1000)
        self.token = token
        self.page_size = page_size
        self.pulls: dict[tuple[str, int], FakePull] = {}

    def writes(self) -> list[Recorded]:
        """The requests that would change state on GitHub."""
        return [r for r in self.requests if r.method in WRITE_METHODS and r.path != "/graphql"]

    # ------------------------------------------------------------------ state

    def add_pull(
        self,
        repo: str,
        number: int,
        *,
        commentable: dict[str, set[int]] | None = None,
        title: str = "Add a customer lookup",
        author: str = "octocat",
        head_sha: str = "a" * 40,
    ) -> FakePull:
        """A pull request with no commits, threads or reviews yet."""
        data = {
            "number": number,
            "title": title,
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "user": {"login": author},
            "body": "Adds a lookup.\n\nCloses #3.",
            "base": {"ref": "main", "sha": "b" * 40, "repo": {"full_name": repo}},
            "head": {"ref": "feature/lookup", "sha": head_sha, "repo": {"full_name": repo}},
        }
        pull = FakePull(repo, number, data, commentable or {})
        self.pulls[(repo, number)] = pull
        return pull

    def add_commit(self, pull: FakePull, sha: str, message: str, author: str) -> None:
        pull.commits.append(
            {
                "sha": sha,
                "commit": {"message": message, "author": {"name": author}},
                "author": {"login": author.lower().replace(" ", "")},
            }
        )

    def add_thread(
        self,
        pull: FakePull,
        *,
        author: str,
        body: str,
        path: str,
        line: int | None,
        resolved: bool = False,
        outdated: bool = False,
    ) -> None:
        comment_id = self.new_id()
        pull.threads.append(
            {
                "isResolved": resolved,
                "isOutdated": outdated,
                "path": path,
                "line": None if outdated else line,
                "startLine": None,
                "comments": {
                    "nodes": [
                        {
                            "author": {"login": author},
                            "body": body,
                            "url": f"{pull.data['html_url']}#discussion_r{comment_id}",
                        }
                    ]
                },
            }
        )

    # ------------------------------------------------------------------ HTTP

    def answer(self, request: Recorded) -> Reply:
        if self.token is not None and request.headers.get("authorization") != (
            f"Bearer {self.token}"
        ):
            return Reply(401, {"message": "Bad credentials"})
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)
        if request.method == "POST" and path == "/graphql":
            return self._graphql(request.json())
        if m := re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/comments/(\d+)", path):
            return self._edit_comment(request, m[1], int(m[2]))
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/(\d+)(/[a-z]+)?(?:/(\d+))?", path)
        pull = self.pulls.get((m[1], int(m[2]))) if m else None
        if m is None or pull is None:
            return Reply(404, {"message": "Not Found"})
        route = (request.method, m[3] or "", m[4] is not None)
        if route == ("GET", "", False):
            return Reply(200, pull.data)
        if request.method == "GET" and not route[2]:
            items = {"/commits": pull.commits, "/comments": pull.comments, "/reviews": pull.reviews}
            if m[3] in items:
                return self._page(request.path, items[m[3]], query)
        if route == ("POST", "/reviews", False):
            return self._create_review(pull, request.json())
        if route == ("POST", "/comments", False):
            return self._create_comment(pull, request.json())
        if route == ("PUT", "/reviews", True):
            return self._edit_review(pull, int(m[4]), request.json())
        return Reply(404, {"message": "Not Found"})

    def _page(self, path: str, items: list[dict[str, Any]], query: dict[str, list[str]]) -> Reply:
        per_page = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            base = self.url + urlsplit(path).path
            headers["link"] = (
                f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                f'<{base}?per_page={per_page}&page=1>; rel="first"'
            )
        return Reply(200, chunk, headers)

    def _graphql(self, payload: dict[str, Any]) -> Reply:
        if "reviewThreads" not in payload.get("query", ""):
            return Reply(200, {"errors": [{"message": "unsupported query"}]})
        v = payload["variables"]
        pull = self.pulls.get((f"{v['owner']}/{v['name']}", v["number"]))
        if pull is None:
            message = f"Could not resolve to a PullRequest with the number of {v['number']}."
            return Reply(
                200,
                {
                    "data": {"repository": {"pullRequest": None}},
                    "errors": [{"type": "NOT_FOUND", "message": message}],
                },
            )
        start = int(v.get("cursor") or 0)
        nodes = pull.threads[start : start + self.page_size]
        end = start + len(nodes)
        threads = {
            "pageInfo": {"hasNextPage": end < len(pull.threads), "endCursor": str(end)},
            "nodes": nodes,
        }
        data = {"repository": {"pullRequest": {"reviewThreads": threads}}}
        return Reply(200, {"data": data})

    def _check_line(self, pull: FakePull, comment: dict[str, Any]) -> str | None:
        lines = pull.commentable.get(comment.get("path", ""), set())
        wanted = [comment.get("line"), comment.get("start_line", comment.get("line"))]
        if comment.get("side") != "RIGHT" or any(n not in lines for n in wanted):
            return "Pull request review thread line must be part of the diff"
        return None

    def _store_comment(self, pull: FakePull, review_id: int, c: dict[str, Any]) -> dict[str, Any]:
        comment = {
            "id": self.new_id(),
            "pull_request_review_id": review_id,
            "in_reply_to_id": None,
            "user": {"login": BOT},
            "path": c["path"],
            "line": c["line"],
            "start_line": c.get("start_line"),
            "side": c["side"],
            "body": c["body"],
        }
        pull.comments.append(comment)
        return comment

    def _new_review(self, pull: FakePull, body: str, commit_id: str) -> dict[str, Any]:
        review = {
            "id": self.new_id(),
            "user": {"login": BOT},
            "body": body,
            "state": "COMMENTED",
            "commit_id": commit_id,
        }
        pull.reviews.append(review)
        return review

    def _create_review(self, pull: FakePull, payload: dict[str, Any]) -> Reply:
        comments = payload.get("comments", [])
        for c in comments:
            if error := self._check_line(pull, c):
                return Reply(422, {"message": "Unprocessable Entity", "errors": [error]})
        if payload.get("event") != "COMMENT" or (not comments and not payload.get("body")):
            return Reply(422, {"message": "Unprocessable Entity", "errors": ["bad review"]})
        review = self._new_review(pull, payload.get("body", ""), payload.get("commit_id", ""))
        for c in comments:
            self._store_comment(pull, review["id"], c)
        return Reply(200, review)

    def _create_comment(self, pull: FakePull, payload: dict[str, Any]) -> Reply:
        if not payload.get("commit_id"):
            return Reply(422, {"message": "Validation Failed", "errors": ["commit_id missing"]})
        if error := self._check_line(pull, payload):
            return Reply(422, {"message": "Validation Failed", "errors": [error]})
        # GitHub wraps a lone review comment in a review of its own, with an empty body.
        review = self._new_review(pull, "", payload["commit_id"])
        return Reply(201, self._store_comment(pull, review["id"], payload))

    def _edit_comment(self, request: Recorded, repo: str, comment_id: int) -> Reply:
        for pull in self.pulls.values():
            for comment in pull.comments:
                if pull.repo == repo and comment["id"] == comment_id:
                    if request.method != "PATCH":
                        return Reply(404, {"message": "Not Found"})
                    comment["body"] = request.json()["body"]
                    return Reply(200, comment)
        return Reply(404, {"message": "Not Found"})

    def _edit_review(self, pull: FakePull, review_id: int, payload: dict[str, Any]) -> Reply:
        for review in pull.reviews:
            if review["id"] == review_id:
                review["body"] = payload["body"]
                return Reply(200, review)
        return Reply(404, {"message": "Not Found"})


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub that requires the token `test-token`."""
    with FakeGitHub() as server:
        yield server
