"""Turn what the user asked for (a range, uncommitted changes, a patch) into a resolved target."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from deepreview.schema import Commit
from deepreview.source.git import (
    TargetError,
    commits_between,
    current_branch,
    default_base,
    diff_to_file,
    git,
    has_commits,
    merge_base,
    resolve,
    snapshot_uncommitted,
)


@dataclass(frozen=True)
class TargetSpec:
    """The user's request. At most one of `uncommitted` and `patch` is set."""

    base: str | None = None
    head: str | None = None
    uncommitted: bool = False
    patch: str | None = None  # a path, or "-" for stdin
    pr: str | None = None  # a number, `owner/name#N` or a pull-request URL

    def check(self) -> None:
        """Reject combinations that make no sense."""
        if self.pr is not None and (self.patch is not None or self.uncommitted or self.head):
            raise TargetError("--pr cannot be combined with --patch, --uncommitted or --head")
        if self.patch is not None and (self.uncommitted or self.head):
            raise TargetError("--patch cannot be combined with --uncommitted or --head")
        if self.uncommitted and (self.base or self.head):
            raise TargetError("--uncommitted cannot be combined with --base or --head")


@dataclass(frozen=True)
class ResolvedTarget:
    """A target ready to review: a head commit to check out and the diff on disk."""

    kind: Literal["range", "uncommitted", "patch", "pr"]
    repo: Path
    base_sha: str | None
    head_sha: str
    diff_path: Path
    patch_path: Path | None
    commits: list[Commit]
    branch: str | None
    label: str


def resolve_target(repo: Path, spec: TargetSpec, work: Path) -> ResolvedTarget:
    """Resolve `spec` in `repo`, writing the diff (or a copy of the patch) under `work`.

    Pull requests are resolved by `resolve_pull_request`, which needs the forge.
    """
    spec.check()
    if not has_commits(repo):
        raise TargetError("the repository has no commits yet")
    diff_path = work / "target.diff"
    branch = current_branch(repo)
    if spec.patch is not None:
        patch_path = work / "input.patch"
        _copy_patch(spec.patch, patch_path)  # the patch is both the diff and what the tree gets
        head = resolve(repo, spec.base or "HEAD")
        name = "stdin" if spec.patch == "-" else Path(spec.patch).stem
        return ResolvedTarget(
            kind="patch",
            repo=repo,
            base_sha=head,
            head_sha=head,
            diff_path=patch_path,
            patch_path=patch_path,
            commits=[],
            branch=branch,
            label=f"patch-{name}",
        )
    if spec.uncommitted:
        base_sha = resolve(repo, "HEAD")
        head_sha = snapshot_uncommitted(repo)
        diff_to_file(repo, base_sha, head_sha, diff_path)
        return ResolvedTarget(
            kind="uncommitted",
            repo=repo,
            base_sha=base_sha,
            head_sha=head_sha,
            diff_path=diff_path,
            patch_path=None,
            commits=[],
            branch=branch,
            label=f"{branch or 'detached'}-uncommitted",
        )
    head_ref = spec.head or "HEAD"
    head_sha = resolve(repo, head_ref)
    base_ref = spec.base or default_base(repo, head_ref)
    base_sha = merge_base(repo, resolve(repo, base_ref), head_sha)
    diff_to_file(repo, base_sha, head_sha, diff_path)
    label = spec.head if spec.head and spec.head != "HEAD" else (branch or head_sha[:12])
    return ResolvedTarget(
        kind="range",
        repo=repo,
        base_sha=base_sha,
        head_sha=head_sha,
        diff_path=diff_path,
        patch_path=None,
        commits=commits_between(repo, base_sha, head_sha),
        branch=spec.head if spec.head and spec.head != "HEAD" else branch,
        label=label,
    )


def _copy_patch(source: str, dest: Path) -> None:
    """Copy the patch (a file, or stdin for "-") to `dest`, streaming: patches can be huge."""
    try:
        if source == "-":
            with dest.open("wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out)
            return
        with open(source, "rb") as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out)
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == dest:
            raise
        reason = exc.strerror or str(exc)
        raise TargetError(f"cannot read patch {source}: {reason}") from exc


def resolve_pull_request(
    repo: Path, number: int, head_sha: str, base_ref: str, base_sha: str, remote: str, work: Path
) -> ResolvedTarget:
    """A PR whose head `head_sha` was fetched from `remote`: diff it against its base."""
    base_commit = _fetch_base(repo, remote, number, base_ref, base_sha)
    merge = merge_base(repo, base_commit, head_sha)
    diff_path = work / "target.diff"
    diff_to_file(repo, merge, head_sha, diff_path)
    return ResolvedTarget(
        kind="pr",
        repo=repo,
        base_sha=merge,
        head_sha=head_sha,
        diff_path=diff_path,
        patch_path=None,
        commits=commits_between(repo, merge, head_sha),
        branch=None,
        label=f"pr-{number}",
    )


def _fetch_base(repo: Path, remote: str, number: int, base_ref: str, base_sha: str) -> str:
    """The PR's base commit, fetched from the remote when it is not here yet."""
    try:
        return resolve(repo, base_sha)
    except TargetError:
        pass
    ref = f"refs/deepreview/base/{number}"
    git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{base_ref}:{ref}")
    return resolve(repo, ref)
