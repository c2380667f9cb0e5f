"""The built-in `scan` reviewer: language-agnostic checks of the added lines, no key, no network.

It reports likely secrets, merge-conflict markers, debugger leftovers, TODO-style
notes, missing test and documentation changes, and commit-structure facts. Likely secrets are
redacted from everything it returns.

Every check is linear in its input, and the input is capped: an added line longer than
`MAX_LINE_CHARS` (a minified bundle) is skipped, and so are a file's added lines past
`MAX_FILE_CHARS`; the run's notes name each. The scan runs in a background thread that checks
for cancellation between lines and files, so Ctrl-C stops it at once.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from deepreview.agents.analyzer import coverage_of, number_findings
from deepreview.agents.base import AgentBase, AgentKind
from deepreview.agents.scan_commits import commit_structure, needs_folding
from deepreview.agents.scan_gaps import documentation_gap, testing_gap
from deepreview.agents.scan_leftovers import conflict_finding, debug_findings, limitations_in
from deepreview.agents.scan_secrets import redact_finding, redact_text, secret_findings
from deepreview.background import check, in_background
from deepreview.context import ReviewContext
from deepreview.diff import Diff, DiffLine, FileDiff, Hunk, MemoryHunks
from deepreview.schema import SEVERITIES, AgentReview, AgentRun, Commit, Finding, Limitation
from deepreview.source.git import git, git_environment

#: Remote branches whose history a change merges into.
_UPSTREAM_NAMES = ("HEAD", "main", "master")

#: Added lines longer than this are not scanned ("skipped: line too long").
MAX_LINE_CHARS = 50_000
#: A file's added lines past this many characters are not scanned.
MAX_FILE_CHARS = 5_000_000


def _capped_file(fd: FileDiff, cancel: threading.Event | None) -> tuple[FileDiff, list[str]]:
    """`fd` without the added lines over the caps, and a note for each cap that applied."""
    long_lines: set[int] = set()
    cutoff: int | None = None
    total = 0
    for i, ln in enumerate(fd.added()):
        if i % 1024 == 0:
            check(cancel)
        if len(ln.text) > MAX_LINE_CHARS:
            long_lines.add(ln.new_lineno or 0)
            continue
        total += len(ln.text)
        if total > MAX_FILE_CHARS:
            cutoff = ln.new_lineno or 0
            break
    if not long_lines and cutoff is None:
        return fd, []
    notes: list[str] = []
    if long_lines:
        shown = sorted(long_lines)
        where = ", ".join(str(n) for n in shown[:5]) + (
            f" and {len(shown) - 5} more" if len(shown) > 5 else ""
        )
        notes.append(
            f"skipped: line too long: `{fd.path}` line {where} (over {MAX_LINE_CHARS:,} characters)"
        )
    if cutoff is not None:
        notes.append(
            f"skipped: `{fd.path}` from line {cutoff} on: over {MAX_FILE_CHARS:,} characters "
            "of added lines"
        )

    def kept(ln: DiffLine) -> bool:
        n = ln.new_lineno or 0
        return ln.kind != "added" or (n not in long_lines and (cutoff is None or n < cutoff))

    hunks = tuple(
        Hunk(
            h.old_start,
            h.old_count,
            h.new_start,
            h.new_count,
            h.section,
            tuple(ln for ln in h.lines if kept(ln)),
        )
        for h in fd.hunks
    )
    return replace(fd, hunks=MemoryHunks.of(hunks)), notes


def capped_diff(diff: Diff, cancel: threading.Event | None = None) -> tuple[Diff, list[str]]:
    """`diff` within the scan's line and file caps, and what was left out."""
    files: list[FileDiff] = []
    notes: list[str] = []
    for fd in diff.files:
        kept, skipped = (fd, []) if fd.is_binary else _capped_file(fd, cancel)
        files.append(kept)
        notes += skipped
    return replace(diff, files=tuple(files)), notes


def in_upstream_history(repo: Path, shas: Sequence[str]) -> set[str]:
    """Which of `shas` a remote's default branch already holds (published history that a
    rebase can no longer fold); none when the repository has no remote."""
    if not shas:
        return set()
    listed = git(repo, "for-each-ref", "--format=%(refname)", "refs/remotes/", check=False)
    refs = [r for r in listed.decode().split() if r.rsplit("/", 1)[-1] in _UPSTREAM_NAMES]
    found: set[str] = set()
    for sha in shas:
        for ref in refs:
            probe = subprocess.run(
                ["git", "-C", str(repo), "merge-base", "--is-ancestor", sha, ref],
                env=git_environment(),
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                found.add(sha)
                break
    return found


def scan_review(
    diff: Diff,
    worktree: Path,
    commits: Sequence[Commit],
    cancel: threading.Event | None = None,
    in_base: Collection[str] = (),
) -> AgentReview:
    """Everything `scan` finds in the added lines of `diff` (head files read from `worktree`;
    `in_base`: commits already in the base's history); raises `Cancelled` soon after `cancel`
    is set. Callers cap `diff` first (`capped_diff`)."""
    findings: list[Finding] = []
    limitations: list[Limitation] = []
    for fd in diff.files:
        check(cancel)
        if fd.is_binary:
            continue
        findings += secret_findings(fd)
        findings += debug_findings(fd)
        conflict = conflict_finding(fd)
        if conflict is not None:
            findings.append(conflict)
        limitations += [
            lim.model_copy(update={"quote": redact_text(fd.path, lim.quote)})
            for lim in limitations_in(fd)
        ]
    testing, test_gap = testing_gap(diff)
    documentation, doc_gap = documentation_gap(diff, worktree)
    commits_text, commit_finding = commit_structure(commits, in_base)
    findings += [f for f in (test_gap, doc_gap, commit_finding) if f is not None]
    numbered = number_findings(redact_finding(f) for f in findings)
    counts = ", ".join(
        f"{n} {sev}" for sev in SEVERITIES if (n := sum(f.severity == sev for f in numbered))
    )
    summary = (
        f"scan checked the added lines of {len(diff.files)} changed file(s): "
        f"{counts or 'no findings'}; {len(limitations)} acknowledged limitation(s)."
    )
    return AgentReview(
        summary=summary,
        findings=numbered,
        testing=testing,
        documentation=documentation,
        commit_structure=commits_text,
        limitations=limitations,
        coverage=coverage_of(diff.paths, numbered),
    )


def render_listing(review: AgentReview) -> str:
    """A readable Markdown listing of a scan review (its raw output)."""
    out = ["# scan", "", review.summary, "", "## Findings", ""]
    for f in review.findings:
        where = ", ".join(f"`{loc.label()}`" for loc in f.locations)
        out.append(
            f"- **{f.id}** ({f.severity}, {f.category}) {f.title}"
            + (f" — {where}" if where else "")
        )
        if f.excerpt is not None:
            out += [
                "",
                f"  ```{f.excerpt_lang or ''}",
                *(f"  {x}" for x in f.excerpt.splitlines()),
                "  ```",
            ]
        out += ["", f"  {f.body}", ""]
    if not review.findings:
        out += ["None.", ""]
    out += ["## Acknowledged limitations", ""]
    for lim in review.limitations:
        where = f"`{lim.location.label()}` — " if lim.location else ""
        out.append(f"- {where}“{lim.quote}” — {lim.judgement}")
    if not review.limitations:
        out.append("None.")
    out += ["", "## Testing", "", review.testing, "", "## Documentation", "", review.documentation]
    out += ["", "## Commit structure", "", review.commit_structure, "", "## Coverage", ""]
    for entry in review.coverage:
        out.append(f"- `{entry.path}`: " + (", ".join(entry.finding_ids) or "reviewed, no issues"))
    return "\n".join(out) + "\n"


class ScanAgent(AgentBase):
    """Checks that need no model and no external tool."""

    name: ClassVar[str] = "scan"
    kind: ClassVar[AgentKind] = "builtin"
    binary: ClassVar[str | None] = None
    default_enabled: ClassVar[bool] = True

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Scan the change within the caps, in a background thread."""
        started = datetime.now(UTC)
        t0 = time.monotonic()
        commits = ctx.target.commits
        flagged = [c.sha for c in commits if needs_folding(c)]
        in_base = await asyncio.to_thread(in_upstream_history, ctx.repo_root, flagged)

        def work(cancel: threading.Event) -> tuple[AgentReview, list[str]]:
            diff, notes = capped_diff(ctx.diff, cancel)
            return scan_review(diff, ctx.worktree, commits, cancel, in_base), notes

        review, notes = await in_background(work, "deepreview-scan")
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            kind=self.kind,
            status="ok",
            started_at=started,
            duration_s=round(time.monotonic() - t0, 3),
            raw_output=render_listing(review),
            review=review,
            files_read=ctx.diff.paths,
            notes=notes,
        )
