"""Which proposed fixes apply: an agent's fix counts as a patch only if `git apply --check`
accepts it at the reviewed head. The result is carried in the Report (`fix_patch`), so renderers
such as SARIF never touch git."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from deepreview.schema import ConsolidatedFinding, Reproduction
from deepreview.source.git import git_environment

_DIFF_FENCE = re.compile(r"^(`{3,}|~{3,})\s*(?:diff|patch)\b[^\n]*\n(.*?)^\1\s*$", re.M | re.S)
_PATCH_START = re.compile(r"^(?:diff --git |--- )", re.M)
#: Proposed patches larger than this are not checked (no fix is that large).
MAX_PATCH = 64_000


def proposed_patch(fix: str | None) -> str | None:
    """The unified diff in a fix: its first ```diff block, or the fix itself when it is one."""
    if not fix:
        return None
    fenced = _DIFF_FENCE.search(fix)
    text = fenced.group(2) if fenced else fix
    start = _PATCH_START.search(text)
    if start is None or "\n@@ " not in text:
        return None
    patch = text[start.start() :]
    return patch if patch.endswith("\n") else patch + "\n"


def _applies(worktree: Path, patch: str) -> bool:
    for strip in ("-p1", "-p0"):
        proc = subprocess.run(
            ["git", "apply", "--check", "--recount", strip, "-"],
            cwd=worktree,
            input=patch.encode("utf-8", "surrogateescape"),
            capture_output=True,
            env=git_environment(),
            check=False,
            timeout=60,
        )
        if proc.returncode == 0:
            return True
    return False


def with_applicable_fixes(
    findings: Sequence[ConsolidatedFinding],
    worktree: Path,
    reproductions: Sequence[Reproduction] = (),
) -> list[ConsolidatedFinding]:
    """`findings`, each whose proposed patch applies at `worktree` carrying it as `fix_patch`;
    a finding whose fix text holds none takes the patch its repro verified, when it applies."""
    verified = {
        r.consolidated_id: r.repro.fix_patch
        for r in reproductions
        if r.label == "fix verified" and r.consolidated_id and r.repro.fix_patch
    }
    out: list[ConsolidatedFinding] = []
    for finding in findings:
        patch = proposed_patch(finding.fix) or proposed_patch(verified.get(finding.id))
        if patch is not None and len(patch) <= MAX_PATCH and _applies(worktree, patch):
            finding = finding.model_copy(update={"fix_patch": patch})
        out.append(finding)
    return out
