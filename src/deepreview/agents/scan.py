"""The built-in `scan` reviewer: language-agnostic checks of the added lines, no key, no network.

It reports likely secrets, merge-conflict markers, debugger leftovers, TODO-style
notes, missing test and documentation changes, and commit-structure facts. Likely secrets are
redacted from everything it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from deepreview.agents.analyzer import coverage_of, number_findings
from deepreview.agents.base import AgentBase, AgentKind
from deepreview.agents.scan_commits import commit_structure
from deepreview.agents.scan_gaps import documentation_gap, testing_gap
from deepreview.agents.scan_leftovers import conflict_finding, debug_findings, limitations_in
from deepreview.agents.scan_secrets import redact_finding, redact_text, secret_findings
from deepreview.context import ReviewContext
from deepreview.diff import Diff
from deepreview.schema import SEVERITIES, AgentReview, AgentRun, Commit, Finding, Limitation


def scan_review(diff: Diff, worktree: Path, commits: Sequence[Commit]) -> AgentReview:
    """Everything `scan` finds in the added lines of `diff` (head files read from `worktree`)."""
    findings: list[Finding] = []
    limitations: list[Limitation] = []
    for fd in diff.files:
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
    commits_text, commit_finding = commit_structure(commits)
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
        """Scan the change; reads head files in a worker thread."""
        started = datetime.now(UTC)
        t0 = time.monotonic()
        review = await asyncio.to_thread(scan_review, ctx.diff, ctx.worktree, ctx.target.commits)
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
        )
