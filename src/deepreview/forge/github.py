"""GitHub: pull-request references, the REST + GraphQL client, reading a PR, publishing a review.

The forge registry (`forge/registry.py`) opens `GitHub` for github.com, for the host of
`GITHUB_API_URL` (GitHub Enterprise) and for any host no other forge claims.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from deepreview.forge.base import ForgeError, PullRef, PullRequestInfo
from deepreview.forge.rest import RestClient
from deepreview.publish.plan import InlineComment, Posted, PublishPlan, into_body, plan_review
from deepreview.schema import Commit, FeedbackComment, Location, Report
from deepreview.source.git import TargetError, git, git_text

DEFAULT_API_URL = "https://api.github.com"

_REPO_RE = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_PR_URL_RE = re.compile(r"/(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/pulls?/(?P<n>\d{1,9})(?:/.*)?")
_SHORT_REF_RE = re.compile(r"(?:(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#|#)?(?P<n>\d{1,9})")
_MAX_PAGES = 100

_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          isResolved
          isOutdated
          path
          line
          startLine
          comments(first: 1) { nodes { author { login } body url } }
        }
      }
    }
  }
}
"""


class GitHubError(ForgeError):
    """A GitHub request failed; the message is one line, safe to show (it never holds a token)."""


def parse_pr_ref(arg: str) -> PullRef:
    """`123`, `#123`, `owner/name#123` or a PR URL (any host, any tab) -> (repo or None, number)."""
    text = arg.strip()
    if "://" in text:
        parts = urlsplit(text)
        match = _PR_URL_RE.fullmatch(parts.path.rstrip("/"))
        if parts.scheme in ("http", "https") and parts.hostname and match:
            return _checked(match["repo"], match["n"], arg)
    elif match := _SHORT_REF_RE.fullmatch(text):
        return _checked(match["repo"], match["n"], arg)
    raise GitHubError(f"GitHub: not a pull request number or URL: {arg!r}")


def _checked(repo: str | None, digits: str, arg: str) -> PullRef:
    number = int(digits)
    if number < 1:
        raise GitHubError(f"GitHub: not a pull request number or URL: {arg!r}")
    return PullRef(repo, number)


def github_token(environ: Mapping[str, str]) -> str | None:
    """GITHUB_TOKEN, then GH_TOKEN, then `gh auth token` when gh is installed and logged in."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        if value := environ.get(name, "").strip():
            return value
    gh = shutil.which("gh", path=environ.get("PATH"))
    if gh is None:
        return None
    try:
        proc = subprocess.run(
            [gh, "auth", "token"],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    token = proc.stdout.decode("utf-8", "replace").strip()
    return token if proc.returncode == 0 and token and "\n" not in token else None


def api_url(environ: Mapping[str, str]) -> str:
    """GITHUB_API_URL (GitHub Enterprise: `https://host/api/v3`) or the public API."""
    return (environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")


def _graphql_url(base: str) -> str:
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


def _check_repo(repo: str) -> None:
    if not _REPO_RE.fullmatch(repo) or ".." in repo:
        raise GitHubError(f"GitHub: bad repository name {repo!r} (expected owner/name)")


class GitHubClient(RestClient):
    """A small GitHub REST + GraphQL client with bounded retries and Link-header pagination.

    The token goes only into the Authorization header.
    """

    forge = "GitHub"
    error = GitHubError
    auth_hint = "set GITHUB_TOKEN or GH_TOKEN"

    def __init__(
        self, token: str | None, api_url: str, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.has_token = bool(token)
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "deepreview",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # Redirects are followed for renamed repositories; httpx drops auth off-origin.
        super().__init__(api_url, headers, transport=transport, follow_redirects=True)

    def paginate(self, path: str) -> list[Any]:
        """All items of a list endpoint, following `Link: rel="next"` on the API host only."""
        items: list[Any] = []
        url: str = path
        params: Mapping[str, str | int] | None = {"per_page": 100}
        for _ in range(_MAX_PAGES):
            response = self.send("GET", url, params=params)
            page = self.decode(response, "GET", path)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub: expected a list from GET {path}")
            items.extend(page)
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return items
            if urlsplit(next_url).netloc != self._host:
                raise GitHubError(f"GitHub: pagination of GET {path} leads off the API host")
            url, params = next_url, None
        raise GitHubError(f"GitHub: GET {path} has more than {_MAX_PAGES} pages")

    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run a GraphQL query and return its `data`; GraphQL errors become GitHubError."""
        url = _graphql_url(self.api_url)
        response = self.send("POST", url, json={"query": query, "variables": dict(variables)})
        body = self.decode(response, "POST", "/graphql")
        if not isinstance(body, dict):
            raise GitHubError("GitHub: GraphQL answer is not an object")
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            message = first.get("message") if isinstance(first, dict) else first
            raise GitHubError(f"GitHub: GraphQL: {' '.join(str(message).split())}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GitHubError("GitHub: GraphQL answer has no data")
        return data

    def retry_wait(
        self, response: httpx.Response, attempt: int, method: str, label: str
    ) -> float | None:
        """Secondary rate limits are always retried, 5xx only for idempotent requests (a
        GraphQL query is one)."""
        status = response.status_code
        retry_after = response.headers.get("retry-after", "")
        if status in (403, 429):
            if retry_after.isdigit():
                wait = float(retry_after)
            elif "secondary rate limit" in self.message(response).lower():
                wait = 2.0**attempt
            else:
                return None
            return wait if wait <= self.max_retry_wait_s else None
        if status >= 500 and (method != "POST" or label.endswith("/graphql")):
            wait = float(retry_after) if retry_after.isdigit() else 0.5 * 2 ** (attempt - 1)
            return min(wait, self.max_retry_wait_s)
        return None

    def message(self, response: httpx.Response) -> str:
        """GitHub's `message` plus the details of its `errors` list, on one line."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return response.reason_phrase or "error"
        parts = [str(data.get("message") or response.reason_phrase or "error")]
        errors = data.get("errors")
        for err in errors if isinstance(errors, list) else []:
            if isinstance(err, dict):
                detail = err.get("message") or " ".join(
                    str(err[k]) for k in ("resource", "field", "code") if err.get(k)
                )
            else:
                detail = str(err)
            if detail:
                parts.append(str(detail))
        return ": ".join(" ".join(p.split()) for p in parts)

    def detail(self, response: httpx.Response) -> str:
        """The message, with when the rate limit resets or when to retry."""
        message = self.message(response)
        if response.status_code not in (403, 429):
            return message
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset", "")
            when = time.strftime("%H:%M", time.localtime(int(reset))) if reset.isdigit() else "?"
            return f"{message} (rate limit resets at {when})"
        if (wait := response.headers.get("retry-after", "")).isdigit():
            return f"{message} (retry after {wait} s)"
        return message

    # ------------------------------------------------------------------ pull requests

    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        """The PR's metadata, its commits, and its review threads neither resolved nor outdated."""
        _check_repo(repo)
        base = f"/repos/{repo}/pulls/{number}"
        try:
            pr = self.request("GET", base)
        except GitHubError as exc:
            if exc.status == 404:
                raise GitHubError(
                    f"GitHub: 404 pull request #{number} not found in {repo}", 404
                ) from exc
            raise
        try:
            # The base repository's name as GitHub has it now (the repository may be renamed).
            repo = str(pr["base"]["repo"]["full_name"])
            _check_repo(repo)
            info = PullRequestInfo(
                repo=repo,
                number=number,
                title=str(pr["title"]),
                url=str(pr["html_url"]),
                author=str((pr.get("user") or {}).get("login") or "ghost"),
                body=str(pr.get("body") or ""),
                base_ref=str(pr["base"]["ref"]),
                base_sha=str(pr["base"]["sha"]),
                head_ref=str(pr["head"]["ref"]),
                head_sha=str(pr["head"]["sha"]),
                commits=[],
                unresolved=[],
                repo_url=str(pr["html_url"]).rsplit("/pull/", 1)[0],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise GitHubError(f"GitHub: unexpected answer for {base}: missing {exc}") from exc
        items = self.paginate(f"/repos/{repo}/pulls/{number}/commits")
        try:
            commits = [_commit(c) for c in items]
        except (KeyError, TypeError, AttributeError) as exc:
            raise GitHubError(f"GitHub: unexpected commit list for {repo}#{number}") from exc
        if not self.has_token:
            note = "unresolved review threads not fetched: GitHub's GraphQL API needs a token"
            return replace(info, commits=commits, notes=[note])
        return replace(info, commits=commits, unresolved=self._unresolved_threads(repo, number))

    def _unresolved_threads(self, repo: str, number: int) -> list[FeedbackComment]:
        owner, name = repo.split("/")
        out: list[FeedbackComment] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            data = self.graphql(
                _THREADS_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor}
            )
            try:
                threads = data["repository"]["pullRequest"]["reviewThreads"]
                for node in threads["nodes"]:
                    if not node["isResolved"] and not node["isOutdated"]:
                        out.extend(_feedback(node))
                page = threads["pageInfo"]
            except (KeyError, TypeError, AttributeError) as exc:
                raise GitHubError(
                    f"GitHub: unexpected review threads answer for {repo}#{number}"
                ) from exc
            if not page.get("hasNextPage"):
                return out
            cursor = page.get("endCursor")
        raise GitHubError(f"GitHub: {repo}#{number} has too many review threads")


def _commit(item: dict[str, Any]) -> Commit:
    detail = item.get("commit") or {}
    author = (detail.get("author") or {}).get("name") or (item.get("author") or {}).get("login")
    message = str(detail.get("message") or "")
    return Commit(
        sha=str(item["sha"]),
        subject=message.split("\n", 1)[0].strip(),
        author=str(author or ""),
    )


def _feedback(node: dict[str, Any]) -> list[FeedbackComment]:
    comments = node["comments"]["nodes"]
    if not comments:
        return []
    first = comments[0]
    location = None
    if node.get("path"):
        line, start = node.get("line"), node.get("startLine")
        location = Location(
            path=str(node["path"]),
            start_line=start if isinstance(start, int) else line,
            end_line=line if isinstance(line, int) else None,
        )
    return [
        FeedbackComment(
            author=str((first.get("author") or {}).get("login") or "ghost"),
            body=str(first.get("body") or ""),
            location=location,
            url=first.get("url"),
        )
    ]


def fetch_pr_head(repo_path: Path, remote: str, number: int) -> str:
    """Fetch `refs/pull/N/head` from `remote` into `refs/deepreview/pull/N`; return its sha."""
    if not remote or remote.startswith("-") or number < 1:
        raise GitHubError(f"GitHub: cannot fetch pull request #{number} from {remote!r}")
    ref = f"refs/deepreview/pull/{number}"
    try:
        git(repo_path, "fetch", "--quiet", "--no-tags", remote, f"+refs/pull/{number}/head:{ref}")
        return git_text(repo_path, "rev-parse", "--verify", f"{ref}^{{commit}}")
    except TargetError as exc:
        raise GitHubError(
            f"GitHub: cannot fetch pull request #{number} from {remote}: {exc}"
        ) from exc


# --------------------------------------------------------------------------- publishing


def _comment_payload(comment: InlineComment) -> dict[str, Any]:
    """An inline comment as GitHub's review API takes it (new side: RIGHT)."""
    out: dict[str, Any] = {"path": comment.path, "line": comment.line, "side": "RIGHT"}
    if comment.start_line is not None:
        out |= {"start_line": comment.start_line, "start_side": "RIGHT"}
    out["body"] = comment.body
    return out


def describe_plan(plan: PublishPlan) -> dict[str, Any]:
    """The plan as GitHub's review API would receive it, as plain JSON-able data."""
    return {
        "report_id": plan.report_id,
        "commit_id": plan.commit_id,
        "review": {
            "action": "create" if plan.review_id is None else "update",
            "review_id": plan.review_id,
            "event": "COMMENT",
            "body": plan.body,
        },
        "comments": [{"fingerprint": c.fingerprint, **_comment_payload(c)} for c in plan.comments],
        "updates": [
            {
                "comment_id": u.comment_id,
                "fingerprint": u.fingerprint,
                "resolved": u.resolved,
                "body": u.body,
            }
            for u in plan.updates
        ],
        "in_body": list(plan.in_body),
    }


def posted(existing: list[Any]) -> tuple[list[Posted], list[Posted]]:
    """GitHub's review-comment and review objects as (top-level inline comments, summaries)."""
    comments: list[Posted] = []
    summaries: list[Posted] = []
    for item in existing:
        if not isinstance(item, dict) or not isinstance(item.get("body"), str):
            continue
        value = item.get("id")
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if "path" not in item:
            summaries.append(Posted(value, item["body"]))
        elif not item.get("in_reply_to_id"):
            comments.append(Posted(value, item["body"]))
    return comments, summaries


def _pull_of(report: Report) -> tuple[str, int]:
    pr, repo = report.target.pr, report.target.repo
    if pr is None or not repo:
        raise GitHubError(f"{report.id} is not a pull-request review (use review --pr)")
    _check_repo(repo)
    return repo, pr.number


def plan_publication(
    client: GitHubClient,
    report: Report,
    pull: tuple[str, int],
    *,
    report_url: str | None = None,
) -> PublishPlan:
    """Read the review comments and reviews of `pull` (repository, number) and plan the
    review of `report` there (GETs only)."""
    repo, number = pull
    _check_repo(repo)
    base = f"/repos/{repo}/pulls/{number}"
    existing = client.paginate(f"{base}/comments") + client.paginate(f"{base}/reviews")
    comments, summaries = posted(existing)
    return plan_review(report, comments, summaries, report_url=report_url)


def carry_out(
    client: GitHubClient, report: Report, plan: PublishPlan, pull: tuple[str, int]
) -> PublishPlan:
    """Send `plan` to `pull` (repository, number) and return it as carried out.

    Comments GitHub refuses to place (422: line not in the diff) are listed in the review body.
    """
    repo, number = pull
    _check_repo(repo)
    base = f"/repos/{repo}/pulls/{number}"
    commit_id = plan.commit_id or str(client.request("GET", base)["head"]["sha"])
    plan = replace(plan, commit_id=commit_id)
    for update in plan.updates:
        client.request(
            "PATCH", f"/repos/{repo}/pulls/comments/{update.comment_id}", json={"body": update.body}
        )
    if plan.review_id is None:
        review = {"commit_id": commit_id, "event": "COMMENT", "body": plan.body}
        try:
            client.request(
                "POST",
                f"{base}/reviews",
                json={**review, "comments": [_comment_payload(c) for c in plan.comments]},
            )
        except GitHubError as exc:
            if exc.status != 422 or not plan.comments:
                raise
            plan = into_body(plan, report, plan.comments)
            client.request("POST", f"{base}/reviews", json={**review, "body": plan.body})
        return plan
    refused: list[InlineComment] = []
    for comment in plan.comments:
        try:
            client.request(
                "POST",
                f"{base}/comments",
                json={"commit_id": commit_id, **_comment_payload(comment)},
            )
        except GitHubError as exc:
            if exc.status != 422:
                raise
            refused.append(comment)
    if refused:
        plan = into_body(plan, report, refused)
    client.request("PUT", f"{base}/reviews/{plan.review_id}", json={"body": plan.body})
    return plan


# --------------------------------------------------------------------------- the forge


class GitHub:
    """GitHub (github.com or Enterprise) as a `Forge`: token and API address from `environ`."""

    name = "GitHub"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.client = GitHubClient(github_token(environ), api_url(environ))

    def parse_ref(self, ref: str) -> PullRef:
        """`123`, `#123`, `owner/name#123` or a PR URL."""
        return parse_pr_ref(ref)

    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        """Metadata, commits and unresolved review threads."""
        return self.client.pull_request(repo, number)

    def fetch_head(self, checkout: Path, remote: str, number: int) -> str:
        """`refs/pull/N/head` from `remote`."""
        return fetch_pr_head(checkout, remote, number)

    def plan(self, report: Report, *, report_url: str | None = None) -> PublishPlan:
        """The review `report` makes on its PR, given what is posted there already."""
        return plan_publication(self.client, report, _pull_of(report), report_url=report_url)

    def publish(self, report: Report, plan: PublishPlan) -> PublishPlan:
        """One review: a summary body and inline comments, or edits of the earlier ones."""
        return carry_out(self.client, report, plan, _pull_of(report))

    def describe(self, plan: PublishPlan) -> dict[str, Any]:
        """The plan as GitHub's review API would receive it."""
        return describe_plan(plan)

    def close(self) -> None:
        """Close the client."""
        self.client.close()
