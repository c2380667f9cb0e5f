"""Which CI system runs us, and which pull or merge request its job is about.

Read once, from the environment mapping the caller passes (never `os.environ` here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ForgeName = Literal["github", "gitlab"]

#: Comment authors GitHub lets through for on-demand reviews: people with write access.
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
#: The comment that asks for a review on demand.
COMMAND = "/deepreview"


class CIError(Exception):
    """The CI environment is incomplete or names no pull request; the message is for users."""


@dataclass(frozen=True)
class CIJob:
    """One CI job reviewing one pull (GitHub) or merge (GitLab) request.

    `reference` is what `review --pr` takes for it; `skip` says why the job should not review
    (an event that is not about a pull request, a comment from someone without write access).
    """

    forge: ForgeName
    api_url: str
    server_url: str
    repo: str
    number: int | None
    reference: str
    token: str | None
    event: str
    head_sha: str | None = None
    base_sha: str | None = None
    project_id: str | None = None
    summary_path: Path | None = None
    output_path: Path | None = None
    skip: str | None = None

    @property
    def request_url(self) -> str | None:
        """The web page of the pull or merge request."""
        if self.number is None:
            return None
        kind = "pull" if self.forge == "github" else "-/merge_requests"
        return f"{self.server_url}/{self.repo}/{kind}/{self.number}"


def detect(environ: Mapping[str, str], pr: str | None = None) -> CIJob:
    """The job described by `environ`; `pr` (a number) overrides the event's request."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return _github(environ, pr)
    if environ.get("GITLAB_CI") == "true":
        return _gitlab(environ, pr)
    raise CIError(
        "not running in GitHub Actions or GitLab CI (GITHUB_ACTIONS or GITLAB_CI is not 'true')"
    )


def _need(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise CIError(f"{name} is not set")
    return value


def _number(text: str, what: str) -> int:
    digits = text.strip().lstrip("#!")
    if not digits.isdigit() or int(digits) < 1:
        raise CIError(f"{what}: not a pull request number: {text!r}")
    return int(digits)


def _path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "").strip()
    return Path(value) if value else None


def _event(environ: Mapping[str, str]) -> dict[str, Any]:
    path = environ.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CIError(f"GITHUB_EVENT_PATH {path}: cannot read the event ({exc})") from exc
    return data if isinstance(data, dict) else {}


def _github(environ: Mapping[str, str], pr: str | None) -> CIJob:
    repo = _need(environ, "GITHUB_REPOSITORY")
    server = (environ.get("GITHUB_SERVER_URL", "").strip() or "https://github.com").rstrip("/")
    api = (environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com").rstrip("/")
    name = environ.get("GITHUB_EVENT_NAME", "").strip()
    event = _event(environ)
    number: int | None = None
    head = base = skip = None
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        number = _number(str(pull.get("number", "")), "the event's pull_request")
        head = _sha(pull.get("head"))
        base = _sha(pull.get("base"))
    elif name == "issue_comment":
        issue, comment = event.get("issue") or {}, event.get("comment") or {}
        if not isinstance(issue, dict) or not issue.get("pull_request"):
            skip = "the comment is on an issue, not on a pull request"
        elif not str(comment.get("body", "")).lstrip().startswith(COMMAND):
            skip = f"the comment does not start with {COMMAND}"
        elif comment.get("author_association") not in TRUSTED_ASSOCIATIONS:
            skip = f"{COMMAND} comes from someone without write access to {repo}"
        number = _number(str(issue.get("number", "")), "the event's issue")
    if pr is not None:
        number, skip = _number(pr, "--pr"), None
    if number is None and skip is None:
        skip = f"the {name or 'unknown'} event is not about a pull request (pass --pr N)"
    return CIJob(
        forge="github",
        api_url=api,
        server_url=server,
        repo=repo,
        number=number,
        reference=f"{repo}#{number}" if number else "",
        token=environ.get("GITHUB_TOKEN", "").strip()
        or environ.get("GH_TOKEN", "").strip()
        or None,
        event=name,
        head_sha=head,
        base_sha=base,
        summary_path=_path(environ, "GITHUB_STEP_SUMMARY"),
        output_path=_path(environ, "GITHUB_OUTPUT"),
        skip=skip,
    )


def _sha(side: object) -> str | None:
    sha = side.get("sha") if isinstance(side, dict) else None
    return sha if isinstance(sha, str) and sha else None


def _gitlab(environ: Mapping[str, str], pr: str | None) -> CIJob:
    server = _need(environ, "CI_SERVER_URL").rstrip("/")
    api = (environ.get("CI_API_V4_URL", "").strip() or f"{server}/api/v4").rstrip("/")
    repo = _need(environ, "CI_PROJECT_PATH")
    iid = pr or environ.get("CI_MERGE_REQUEST_IID", "").strip()
    number = _number(iid, "CI_MERGE_REQUEST_IID") if iid else None
    skip = None if number else "not a merge request pipeline (CI_MERGE_REQUEST_IID is not set)"
    return CIJob(
        forge="gitlab",
        api_url=api,
        server_url=server,
        repo=repo,
        number=number,
        reference=f"{server}/{repo}/-/merge_requests/{number}" if number else "",
        token=environ.get("GITLAB_TOKEN", "").strip() or None,
        event=environ.get("CI_PIPELINE_SOURCE", "").strip(),
        head_sha=environ.get("CI_COMMIT_SHA", "").strip() or None,
        base_sha=environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "").strip() or None,
        project_id=environ.get("CI_PROJECT_ID", "").strip() or None,
        skip=skip,
    )
