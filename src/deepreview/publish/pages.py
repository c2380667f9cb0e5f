"""Publish reports to a `reviews` branch, with an index page, without touching the checkout.

Everything goes through git plumbing and a temporary index file: the user's working tree, index
and HEAD stay exactly as they were, even when they hold uncommitted work. The branch can be
served as a static site (GitHub Pages, any web server) or just browsed.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import ValidationError

from deepreview.render.index import IndexEntry, render_index
from deepreview.render.json import render_json
from deepreview.schema import Report
from deepreview.source.git import TargetError, git

INDEX_PAGE = "index.html"
#: Which of a report's files the index links to, best first.
PAGE_FORMATS = ("html", "md", "json")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "deepreview",
    "GIT_AUTHOR_EMAIL": "deepreview@localhost",
    "GIT_COMMITTER_NAME": "deepreview",
    "GIT_COMMITTER_EMAIL": "deepreview@localhost",
}
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SAFE_FORMAT = re.compile(r"[a-z0-9]+")


class PagesError(Exception):
    """The report could not be published to the branch; the message says why."""


def publish_pages(
    repo: Path, report: Report, rendered: Mapping[str, str], branch: str = "reviews"
) -> str:
    """Commit `<id>.<format>` for each rendered format, plus the report's JSON (always, so
    later index pages can list it) and a regenerated `index.html`, on top of `branch`.

    Returns the new commit's sha. Raises PagesError when the branch name or report id is
    unusable, the branch is checked out, or the branch moved while publishing.
    """
    _check_names(report.id, rendered)
    ref = f"refs/heads/{branch}"
    try:
        _check_branch(repo, branch, ref)
        tip = _tip(repo, ref)
        files = {f"{report.id}.{fmt}": text for fmt, text in rendered.items()}
        files.setdefault(f"{report.id}.json", render_json(report))
        existing = _blobs(repo, tip) if tip else {}
        names = set(existing) | set(files)
        entries = [
            IndexEntry.of(stored, _href(stored.id, names))
            for stored in _stored_reports(repo, existing, skip=f"{report.id}.json")
        ]
        entries.append(IndexEntry.of(report, _href(report.id, names)))
        files[INDEX_PAGE] = render_index(entries, repo=report.target.repo)
        tree = _write_tree(repo, tip, files)
        message = f"Publish review {report.id}"
        parents = ["-p", tip] if tip else []
        commit = git(repo, "commit-tree", tree, *parents, "-m", message, env=_identity(repo))
        sha = commit.decode().strip()
        git(repo, "update-ref", "-m", f"deepreview: {message}", ref, sha, tip or "")
    except TargetError as exc:
        raise PagesError(f"cannot publish to branch {branch!r}: {exc}") from exc
    return sha


def _check_names(report_id: str, rendered: Mapping[str, str]) -> None:
    if not _SAFE_ID.fullmatch(report_id):
        raise PagesError(f"report id {report_id!r} cannot be used as a file name")
    bad = [fmt for fmt in rendered if not _SAFE_FORMAT.fullmatch(fmt)]
    if bad:
        raise PagesError(f"format names must be lowercase letters and digits: {bad!r}")


def _check_branch(repo: Path, branch: str, ref: str) -> None:
    checked = git(repo, "check-ref-format", "--branch", branch, check=False).strip()
    if not branch or checked != branch.encode():
        raise PagesError(f"{branch!r} is not a valid branch name")
    worktrees = git(repo, "worktree", "list", "--porcelain").decode("utf-8", "replace")
    if f"branch {ref}" in worktrees.splitlines():
        raise PagesError(
            f"branch {branch!r} is checked out; publishing would change that working tree"
        )


def _tip(repo: Path, ref: str) -> str | None:
    sha = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return sha.decode().strip() or None


def _blobs(repo: Path, tip: str) -> dict[str, str]:
    """The top-level files of `tip`: name -> blob sha."""
    listing = git(repo, "ls-tree", "-z", tip).decode("utf-8", "replace")
    blobs = {}
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind == "blob":
            blobs[name] = sha
    return blobs


def _read_blobs(repo: Path, shas: list[str]) -> Iterator[bytes]:
    """The contents of `shas`, in order, read with one `git cat-file --batch`."""
    out = git(repo, "cat-file", "--batch", input="".join(f"{s}\n" for s in shas).encode())
    pos = 0
    for _ in shas:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        yield out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1


def _stored_reports(repo: Path, blobs: Mapping[str, str], skip: str) -> list[Report]:
    """Every report JSON on the branch except `skip`; other JSON files are left out."""
    names = sorted(name for name in blobs if name.endswith(".json") and name != skip)
    reports = []
    for name, data in zip(names, _read_blobs(repo, [blobs[n] for n in names]), strict=True):
        try:
            stored = Report.model_validate_json(data)
        except ValidationError:
            continue
        if f"{stored.id}.json" == name:
            reports.append(stored)
    return reports


def _href(report_id: str, names: set[str]) -> str:
    return next(
        (f"{report_id}.{fmt}" for fmt in PAGE_FORMATS if f"{report_id}.{fmt}" in names),
        f"{report_id}.json",
    )


def _write_tree(repo: Path, tip: str | None, files: Mapping[str, str]) -> str:
    """The tree of `tip` with `files` added or replaced, built in a temporary index."""
    with tempfile.TemporaryDirectory(prefix="deepreview-pages-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if tip:
            git(repo, "read-tree", tip, env=env)
        for name, text in files.items():
            blob = git(repo, "hash-object", "-w", "--stdin", input=text.encode("utf-8"))
            info = f"100644,{blob.decode().strip()},{name}"
            git(repo, "update-index", "--add", "--cacheinfo", info, env=env)
        return git(repo, "write-tree", env=env).decode().strip()


def _identity(repo: Path) -> dict[str, str]:
    """No extra environment when git knows who commits; else commit as deepreview."""
    known = all(
        git(repo, "var", name, check=False).strip()
        for name in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )
    return {} if known else _IDENTITY
