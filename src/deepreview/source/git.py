"""Git plumbing: repository discovery, refs, ranges, commits, patches."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from deepreview.schema import Commit


class TargetError(Exception):
    """The review target cannot be resolved; the message is shown to the user as is."""


#: Variables that point git at another repository, index or object store (a hook or a wrapper
#: may have set them): dropped, so that every call acts on the repository it names.
_REDIRECTING = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)


def git_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every git call: the process's without the redirecting variables
    (credential helpers, SSH and config settings still work), no terminal prompt, the C locale,
    then `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING}
    return {**env, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(extra or {})}


def git(
    repo: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> bytes:
    """Run git in `repo` and return stdout; raise TargetError with git's message on failure."""
    full_env = git_environment(env)
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=repo,
            input=input,
            capture_output=True,
            env=full_env,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise TargetError("git is not installed") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise TargetError(msg[-1] if msg else f"git {args[0]} failed")
    return proc.stdout


def git_text(repo: Path, *args: str) -> str:
    """`git` with stdout decoded and stripped."""
    return git(repo, *args).decode("utf-8", "replace").strip()


def find_repo_root(cwd: Path) -> Path:
    """The top of the working tree containing `cwd`."""
    if not cwd.is_dir():
        raise TargetError(f"{cwd}: no such directory")
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        env=git_environment(),
        cwd=cwd,
        capture_output=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise TargetError(f"not a git repository: {cwd}")
    return Path(proc.stdout.decode().strip())


def resolve(repo: Path, ref: str) -> str:
    """The commit sha of `ref`."""
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        env=git_environment(),
        cwd=repo,
        capture_output=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise TargetError(f"unknown revision: {ref}")
    return proc.stdout.decode().strip()


def has_commits(repo: Path) -> bool:
    """Whether HEAD points at a commit."""
    return (
        subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            env=git_environment(),
            cwd=repo,
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        ).returncode
        == 0
    )


def current_branch(repo: Path) -> str | None:
    """The checked-out branch name, or None when detached."""
    out = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return out.decode().strip() or None


def _ref_exists(repo: Path, ref: str) -> bool:
    out = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return bool(out.strip())


def default_base(repo: Path, head: str = "HEAD") -> str:
    """The ref a branch is reviewed against.

    The branch's upstream when it tracks another branch, else the remote's default branch, else a
    local main/master. Reviewing the default branch itself needs an explicit --base.
    """
    branch = current_branch(repo)
    candidates: list[str] = []
    if branch:
        upstream = git(
            repo, "rev-parse", "--abbrev-ref", f"{branch}@{{upstream}}", check=False
        ).decode()
        upstream = upstream.strip()
        if upstream and upstream.rsplit("/", 1)[-1] != branch:
            candidates.append(upstream)
    remote_head = git(
        repo, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
    )
    if remote_head.strip():
        candidates.append(remote_head.decode().strip())
    candidates += ["main", "master", "origin/main", "origin/master"]
    head_sha = resolve(repo, head)
    for cand in candidates:
        if cand == branch or not _ref_exists(repo, cand):
            continue
        if resolve(repo, cand) == head_sha:
            continue
        return cand
    raise TargetError(
        "cannot find a base to review against (no upstream, main or master other than HEAD); "
        "pass --base REF"
    )


def merge_base(repo: Path, a: str, b: str) -> str:
    """The best common ancestor of two commits."""
    out = git(repo, "merge-base", a, b, check=False).decode().strip()
    if not out:
        raise TargetError(f"{a} and {b} have no common history")
    return out


def commits_between(repo: Path, base: str, head: str) -> list[Commit]:
    """Commits in base..head, newest first, with subject, author and files changed."""
    out = git(
        repo,
        "log",
        "--no-color",
        "--format=%x1e%H%x1f%an%x1f%s",
        "--name-only",
        "-z",
        f"{base}..{head}",
    ).decode("utf-8", "replace")
    commits: list[Commit] = []
    for record in out.split("\x1e"):
        if not record.strip("\x00\n"):
            continue
        header, *names = record.split("\x00")
        sha, author, subject = [*header.strip("\n").split("\x1f"), "", ""][:3]
        files = [f.strip("\n") for f in names if f.strip("\n")]
        commits.append(Commit(sha=sha, subject=subject, author=author, files_changed=len(files)))
    return commits


def diff_to_file(repo: Path, base: str, head: str, dest: Path) -> None:
    """Write `git diff -M base head` to `dest` (streamed: diffs can be huge)."""
    with dest.open("wb") as fh:
        proc = subprocess.run(
            ["git", "diff", "-M", "--no-color", "--no-ext-diff", "--full-index", base, head],
            env=git_environment(),
            cwd=repo,
            stdout=fh,
            stderr=subprocess.PIPE,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    if proc.returncode != 0:
        raise TargetError(proc.stderr.decode("utf-8", "replace").strip() or "git diff failed")


def snapshot_uncommitted(repo: Path) -> str:
    """A commit object holding index + working tree + untracked files, parented on HEAD.

    Uses a temporary index, so the user's index and working tree are untouched.
    """
    git_dir = Path(git_text(repo, "rev-parse", "--absolute-git-dir"))
    with tempfile.TemporaryDirectory(prefix="deepreview-index-") as tmp:
        index = Path(tmp) / "index"
        if (git_dir / "index").exists():
            shutil.copyfile(git_dir / "index", index)
        env = {"GIT_INDEX_FILE": str(index)}
        git(repo, "add", "-A", "--", ".", env=env)
        tree = git(repo, "write-tree", env=env).decode().strip()
    ident = {
        "GIT_AUTHOR_NAME": "deepreview",
        "GIT_AUTHOR_EMAIL": "deepreview@localhost",
        "GIT_COMMITTER_NAME": "deepreview",
        "GIT_COMMITTER_EMAIL": "deepreview@localhost",
    }
    return (
        git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "uncommitted changes", env=ident)
        .decode()
        .strip()
    )


def apply_patch(worktree_path: Path, patch: Path) -> str | None:
    """Apply a patch inside a worktree; return git's complaint when it does not apply."""
    proc = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "--allow-empty", str(patch)],
        env=git_environment(),
        cwd=worktree_path,
        capture_output=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode == 0:
        return None
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "git apply failed"


def remote_url(repo: Path, names: Sequence[str] = ("origin", "upstream")) -> str | None:
    """The URL of the first remote that exists."""
    for name in names:
        out = git(repo, "remote", "get-url", name, check=False).decode().strip()
        if out:
            return out
    return None


def forge_repo(url: str | None) -> tuple[str, str] | None:
    """`(owner/name, web URL)` for a GitHub-style remote URL, else None."""
    if not url:
        return None
    u = url.strip()
    if u.endswith(".git"):
        u = u[:-4]
    host_path: str | None = None
    if u.startswith(("https://", "http://", "ssh://")):
        rest = u.split("://", 1)[1]
        rest = rest.split("@", 1)[-1]
        host, _, path = rest.partition("/")
        host_path = f"{host.split(':')[0]}/{path}"
    elif "@" in u and ":" in u:
        host, _, path = u.split("@", 1)[1].partition(":")
        host_path = f"{host}/{path}"
    if not host_path:
        return None
    host, _, path = host_path.partition("/")
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2:
        return None
    slug = "/".join(parts)
    return slug, f"https://{host}/{slug}"
