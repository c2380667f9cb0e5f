"""GitLab merge requests through REST API v4: read them, fetch their head, publish a review.

The review is one summary note plus a diff discussion per inline finding, positioned on the new
side with the merge request's base, start and head shas. Every note carries the same hidden
markers as on GitHub, so publishing again edits the notes instead of adding new ones, and the
discussions of findings no longer raised are edited and resolved. Self-managed instances: the
API is `CI_API_V4_URL`, else `GITLAB_API_URL`, else `<CI_SERVER_URL or GITLAB_URL or the
reference's host>/api/v4`; the token is `GITLAB_TOKEN` (or `CI_JOB_TOKEN`, which reads only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from deepreview.forge.base import ForgeError, PullRef, PullRequestInfo
from deepreview.forge.rest import RestClient
from deepreview.publish.plan import InlineComment, Posted, PublishPlan, into_body, plan_review
from deepreview.schema import Commit, FeedbackComment, Location, Report
from deepreview.source.git import TargetError, git, git_text

DEFAULT_SERVER = "https://gitlab.com"
_PROJECT_RE = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")
_MR_URL_RE = re.compile(r"/(?P<project>.+?)/-/merge_requests/(?P<n>\d{1,9})(?:/.*)?")
_SHORT_REF_RE = re.compile(r"(?:(?P<project>[A-Za-z0-9_./-]+)!|!)?(?P<n>\d{1,9})")
_MAX_PAGES = 100


class GitLabError(ForgeError):
    """A GitLab request failed; the message is one line and never holds a token."""


def parse_mr_ref(arg: str) -> tuple[PullRef, str | None]:
    """`7`, `!7`, `group/project!7` or a merge-request URL -> (reference, server or None)."""
    text = arg.strip()
    if "://" in text:
        parts = urlsplit(text)
        match = _MR_URL_RE.fullmatch(parts.path.rstrip("/"))
        if parts.scheme in ("http", "https") and parts.hostname and match:
            server = f"{parts.scheme}://{parts.netloc}"
            return _checked(match["project"], match["n"], arg), server
    elif match := _SHORT_REF_RE.fullmatch(text):
        return _checked(match["project"], match["n"], arg), None
    raise GitLabError(f"GitLab: not a merge request number or URL: {arg!r}")


def _checked(project: str | None, digits: str, arg: str) -> PullRef:
    number = int(digits)
    if number < 1 or (project is not None and not _PROJECT_RE.fullmatch(project)):
        raise GitLabError(f"GitLab: not a merge request number or URL: {arg!r}")
    return PullRef(project, number)


def _server(environ: Mapping[str, str]) -> str | None:
    for name in ("CI_SERVER_URL", "GITLAB_URL"):
        if value := environ.get(name, "").strip():
            return value.rstrip("/")
    return None


def _api(environ: Mapping[str, str]) -> str | None:
    for name in ("CI_API_V4_URL", "GITLAB_API_URL"):
        if value := environ.get(name, "").strip():
            return value.rstrip("/")
    server = _server(environ)
    return f"{server}/api/v4" if server else None


@dataclass(frozen=True)
class _Thread:
    """One of our diff discussions: the discussion id and its first note."""

    discussion: str
    note: Posted
    resolved: bool


class GitLabClient(RestClient):
    """A small GitLab REST v4 client with bounded retries and page-header pagination."""

    forge = "GitLab"
    error = GitLabError
    auth_hint = "set GITLAB_TOKEN"
    max_retry_wait_s = 30.0

    def __init__(self, token: str | None, api_url: str, *, job_token: bool = False) -> None:
        headers = {"User-Agent": "deepreview"}
        if token:
            headers["JOB-TOKEN" if job_token else "PRIVATE-TOKEN"] = token
        super().__init__(api_url, headers)

    def paginate(self, path: str) -> list[Any]:
        """Every item of a list endpoint, page by page (`X-Next-Page`)."""
        items: list[Any] = []
        page = "1"
        for _ in range(_MAX_PAGES):
            response = self.send("GET", path, params={"per_page": 100, "page": page})
            chunk = self.decode(response, "GET", path)
            if not isinstance(chunk, list):
                raise GitLabError(f"GitLab: expected a list from GET {path}")
            items.extend(chunk)
            page = response.headers.get("x-next-page", "").strip()
            if not page:
                return items
        raise GitLabError(f"GitLab: GET {path} has more than {_MAX_PAGES} pages")


def _project(repo: str) -> str:
    if not _PROJECT_RE.fullmatch(repo) or ".." in repo.split("/"):
        raise GitLabError(f"GitLab: bad project path {repo!r} (expected group/project)")
    return "/projects/" + quote(repo, safe="")


def fetch_mr_head(checkout: Path, remote: str, number: int) -> str:
    """Fetch `refs/merge-requests/N/head` from `remote` into `refs/deepreview/pull/N`."""
    if not remote or remote.startswith("-") or number < 1:
        raise GitLabError(f"GitLab: cannot fetch merge request !{number} from {remote!r}")
    ref = f"refs/deepreview/pull/{number}"
    try:
        git(
            checkout,
            "fetch",
            "--quiet",
            "--no-tags",
            remote,
            f"+refs/merge-requests/{number}/head:{ref}",
        )
        return git_text(checkout, "rev-parse", "--verify", f"{ref}^{{commit}}")
    except TargetError as exc:
        raise GitLabError(
            f"GitLab: cannot fetch merge request !{number} from {remote}: {exc}"
        ) from exc


class GitLab:
    """GitLab (gitlab.com or self-managed) as a `Forge`."""

    name = "GitLab"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = dict(environ)
        token = environ.get("GITLAB_TOKEN", "").strip()
        job = environ.get("CI_JOB_TOKEN", "").strip() if not token else ""
        self._token, self._job_token = token or job or None, bool(job)
        self._client: GitLabClient | None = None
        self._threads: dict[int, _Thread] = {}

    @property
    def client(self) -> GitLabClient:
        """The API client, for the instance the environment (or the last URL parsed) names."""
        if self._client is None:
            api = _api(self._environ) or f"{DEFAULT_SERVER}/api/v4"
            self._client = GitLabClient(self._token, api, job_token=self._job_token)
        return self._client

    def parse_ref(self, ref: str) -> PullRef:
        """`7`, `!7`, `group/project!7` or a merge-request URL (whose host is the instance)."""
        pull, server = parse_mr_ref(ref)
        if server and self._client is None and _api(self._environ) is None:
            self._environ["GITLAB_URL"] = server
        return pull

    # ------------------------------------------------------------------ reading

    def merge_request(self, repo: str, number: int) -> dict[str, Any]:
        """The merge request object."""
        try:
            mr = self.client.request("GET", f"{_project(repo)}/merge_requests/{number}")
        except GitLabError as exc:
            if exc.status == 404:
                raise GitLabError(
                    f"GitLab: 404 merge request !{number} not found in {repo}", 404
                ) from exc
            raise
        if not isinstance(mr, dict):
            raise GitLabError(f"GitLab: unexpected answer for merge request !{number}")
        return mr

    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        """Metadata, commits and unresolved discussions of merge request `number`."""
        mr = self.merge_request(repo, number)
        base = f"{_project(repo)}/merge_requests/{number}"
        try:
            refs = mr.get("diff_refs") or {}
            url = str(mr["web_url"])
            info = PullRequestInfo(
                repo=repo,
                number=number,
                title=str(mr["title"]),
                url=url,
                author=str((mr.get("author") or {}).get("username") or "ghost"),
                body=str(mr.get("description") or ""),
                base_ref=str(mr["target_branch"]),
                base_sha=str(refs.get("base_sha") or ""),
                head_ref=str(mr["source_branch"]),
                head_sha=str(refs.get("head_sha") or mr.get("sha") or ""),
                commits=[],
                unresolved=[],
                repo_url=url.split("/-/merge_requests/", 1)[0],
            )
            commits = [_commit(c) for c in self.client.paginate(f"{base}/commits")]
            unresolved = _unresolved(self.client.paginate(f"{base}/discussions"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise GitLabError(f"GitLab: unexpected answer for {base}: missing {exc}") from exc
        return replace(info, commits=commits, unresolved=unresolved)

    def fetch_head(self, checkout: Path, remote: str, number: int) -> str:
        """`refs/merge-requests/N/head` from `remote`."""
        return fetch_mr_head(checkout, remote, number)

    def discussions(self, repo: str, number: int) -> list[dict[str, Any]]:
        """Every discussion of the merge request."""
        items = self.client.paginate(f"{_project(repo)}/merge_requests/{number}/discussions")
        return [d for d in items if isinstance(d, dict)]

    # ------------------------------------------------------------------ publishing

    def plan(self, report: Report, *, report_url: str | None = None) -> PublishPlan:
        """The review `report` makes on its merge request, given our notes already there."""
        repo, number = _pull_of(report)
        comments, summaries, threads = posted_notes(self.discussions(repo, number))
        self._threads = threads
        return plan_review(report, comments, summaries, report_url=report_url)

    def publish(self, report: Report, plan: PublishPlan) -> PublishPlan:
        """Edit our notes, resolve the discussions of fixed findings, add new discussions, and
        post or edit the summary note. Lines GitLab refuses to anchor go into the summary."""
        repo, number = _pull_of(report)
        base = f"{_project(repo)}/merge_requests/{number}"
        refs = self.merge_request(repo, number).get("diff_refs") or {}
        for update in plan.updates:
            self.client.request(
                "PUT", f"{base}/notes/{update.comment_id}", json={"body": update.body}
            )
            thread = self._threads.get(update.comment_id)
            if update.resolved and thread is not None and not thread.resolved:
                self.client.request(
                    "PUT", f"{base}/discussions/{thread.discussion}", params={"resolved": "true"}
                )
        refused: list[InlineComment] = []
        for comment in plan.comments:
            try:
                self.client.request("POST", f"{base}/discussions", json=_discussion(comment, refs))
            except GitLabError as exc:
                if exc.status not in (400, 422):
                    raise
                refused.append(comment)
        if refused:
            plan = into_body(plan, report, refused)
        if plan.review_id is None:
            note = self.client.request("POST", f"{base}/notes", json={"body": plan.body})
            plan = replace(plan, review_id=int(note["id"]) if isinstance(note, dict) else None)
        else:
            self.client.request("PUT", f"{base}/notes/{plan.review_id}", json={"body": plan.body})
        return replace(plan, commit_id=plan.commit_id or refs.get("head_sha"))

    def describe(self, plan: PublishPlan) -> dict[str, Any]:
        """The plan as GitLab's API would receive it."""
        return {
            "report_id": plan.report_id,
            "commit_id": plan.commit_id,
            "note": {
                "action": "create" if plan.review_id is None else "update",
                "note_id": plan.review_id,
                "body": plan.body,
            },
            "discussions": [
                {"fingerprint": c.fingerprint, **_discussion(c, {"head_sha": plan.commit_id})}
                for c in plan.comments
            ],
            "updates": [
                {
                    "note_id": u.comment_id,
                    "fingerprint": u.fingerprint,
                    "resolved": u.resolved,
                    "body": u.body,
                }
                for u in plan.updates
            ],
            "in_body": list(plan.in_body),
        }

    def close(self) -> None:
        """Close the client."""
        if self._client is not None:
            self._client.close()


def posted_notes(
    discussions: list[dict[str, Any]],
) -> tuple[list[Posted], list[Posted], dict[int, _Thread]]:
    """(first notes of diff discussions, other notes, note id -> its discussion), system notes
    left out."""
    comments: list[Posted] = []
    summaries: list[Posted] = []
    threads: dict[int, _Thread] = {}
    for d in discussions:
        notes = [n for n in d.get("notes") or [] if isinstance(n, dict) and not n.get("system")]
        if not notes or not isinstance(notes[0].get("id"), int):
            continue
        first = notes[0]
        note = Posted(first["id"], str(first.get("body") or ""))
        if first.get("position"):
            comments.append(note)
            threads[note.id] = _Thread(str(d.get("id")), note, bool(first.get("resolved")))
        else:
            summaries.append(note)
    return comments, summaries, threads


def replies(discussions: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(first note id, reply note) of every later note in a diff discussion."""
    out: list[tuple[int, dict[str, Any]]] = []
    for d in discussions:
        notes = [n for n in d.get("notes") or [] if isinstance(n, dict) and not n.get("system")]
        if len(notes) > 1 and notes[0].get("position") and isinstance(notes[0].get("id"), int):
            out += [(notes[0]["id"], n) for n in notes[1:]]
    return out


def _discussion(comment: InlineComment, refs: Mapping[str, Any]) -> dict[str, Any]:
    """A new diff discussion on the new side of `comment.path` at `comment.line`."""
    position = {
        "position_type": "text",
        "base_sha": refs.get("base_sha"),
        "start_sha": refs.get("start_sha"),
        "head_sha": refs.get("head_sha"),
        "old_path": comment.path,
        "new_path": comment.path,
        "new_line": comment.line,
    }
    return {"body": comment.body, "position": position}


def _pull_of(report: Report) -> tuple[str, int]:
    pr, repo = report.target.pr, report.target.repo
    if pr is None or not repo:
        raise GitLabError(f"{report.id} is not a merge-request review (use review --pr)")
    return repo, pr.number


def _commit(item: dict[str, Any]) -> Commit:
    return Commit(
        sha=str(item["id"]),
        subject=str(item.get("title") or str(item.get("message") or "").split("\n", 1)[0]),
        author=str(item.get("author_name") or ""),
    )


def _unresolved(discussions: list[Any]) -> list[FeedbackComment]:
    out: list[FeedbackComment] = []
    for d in discussions:
        notes = [n for n in (d.get("notes") or []) if isinstance(n, dict) and not n.get("system")]
        if not notes or not notes[0].get("resolvable") or notes[0].get("resolved"):
            continue
        first = notes[0]
        position = first.get("position") or {}
        line = position.get("new_line")
        location = (
            Location(
                path=str(position["new_path"]), start_line=line if isinstance(line, int) else None
            )
            if position.get("new_path")
            else None
        )
        out.append(
            FeedbackComment(
                author=str((first.get("author") or {}).get("username") or "ghost"),
                body=str(first.get("body") or ""),
                location=location,
            )
        )
    return out
