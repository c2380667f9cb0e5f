"""Resolve a pull request into a target: metadata from its forge, head from the remote."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from deepreview.forge.base import ForgeError, PullRequestInfo
from deepreview.forge.registry import forge_for
from deepreview.source.git import TargetError, forge_repo, git, remote_url
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
    """The PR named by `ref` (number, `owner/name#N` or URL): its metadata, its head fetched
    from the remote, and its diff against the merge base written under `work`.

    The forge is the one of the URL's host, else of the remote's; what it cannot read or
    fetch is a TargetError carrying the forge's message.
    """
    remote = remote_url(repo)
    forge = forge_for(ref if "://" in ref else remote, environ).open(environ)
    try:
        pull = forge.parse_ref(ref)
        slug = pull.repo
        if slug is None:
            found = forge_repo(remote)
            if found is None:
                raise TargetError(
                    f"cannot tell the {forge.name} repository from the remotes; "
                    "pass the pull request URL"
                )
            slug = found[0]
        info = forge.pull_request(slug, pull.number)
        name = remote_for(repo, slug)
        head_sha = forge.fetch_head(repo, name, pull.number)
    except ForgeError as exc:
        raise TargetError(str(exc)) from exc
    finally:
        forge.close()
    resolved = resolve_pull_request(
        repo, pull.number, head_sha, info.base_ref, info.base_sha, name, work
    )
    return resolved, info
