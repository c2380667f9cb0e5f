"""Resolve a pull request into a target: metadata from the forge, head from the remote."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from deepreview.source.git import TargetError, forge_repo, git, remote_url
from deepreview.source.github import (
    GitHubClient,
    PullRequestInfo,
    api_url,
    fetch_pr_head,
    github_token,
    parse_pr_ref,
)
from deepreview.source.resolve import ResolvedTarget, resolve_pull_request


def remote_for(repo: Path, slug: str) -> str:
    """The name of the remote that points at `slug` (else origin)."""
    for name in git(repo, "remote").decode().split():
        forge = forge_repo(git(repo, "remote", "get-url", name).decode().strip())
        if forge and forge[0].lower() == slug.lower():
            return name
    return "origin"


def resolve_pr(
    repo: Path, ref: str, environ: Mapping[str, str], work: Path
) -> tuple[ResolvedTarget, PullRequestInfo]:
    """The PR named by `ref` (number, `owner/name#N` or URL): its metadata, its head fetched as
    `refs/pull/N/head`, and its diff against the merge base written under `work`."""
    slug, number = parse_pr_ref(ref)
    if slug is None:
        forge = forge_repo(remote_url(repo))
        if forge is None:
            raise TargetError(
                "cannot tell the GitHub repository from the remotes; pass the pull request URL"
            )
        slug = forge[0]
    with GitHubClient(github_token(environ), api_url(environ)) as client:
        info = client.pull_request(slug, number)
    remote = remote_for(repo, slug)
    fetch_pr_head(repo, remote, number)
    resolved = resolve_pull_request(repo, number, info.base_ref, info.base_sha, remote, work)
    return resolved, info
