"""What the suites of one verification share: the scratch copies, the confined environment, the
deadline and the commands executed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from deepreview.diff import Diff
from deepreview.schema import ExecutedCommand
from deepreview.verify.environment import scrubbed_environment
from deepreview.verify.execute import Confinement
from deepreview.verify.request import VerifyRequest
from deepreview.verify.scratch import export_commit


def added_by_path(diff: Diff) -> dict[str, frozenset[int]]:
    """The lines the change adds, by path (binary and deleted files left out)."""
    return {
        fd.path: fd.added_lines
        for fd in diff.files
        if not fd.is_binary and fd.status != "deleted" and fd.added_lines
    }


class ScratchArea:
    """What the suites of one verification share: the scratch copies (the merge base's
    exported once, when a suite first needs it), the confined environment, the deadline and the
    commands executed so far, in the order they ran."""

    def __init__(self, req: VerifyRequest, head_tree: Path, deadline: float) -> None:
        self.req, self.head_tree, self.deadline = req, head_tree, deadline
        home, tmp = req.work / "home", req.work / "tmp"
        home.mkdir(parents=True)
        tmp.mkdir(parents=True)
        self.confinement = Confinement(
            writable=(req.work,), memory_bytes=req.settings.memory_mb * 1024 * 1024
        )
        self.env = scrubbed_environment(req.environ, req.project, home, tmp, req.settings.env)
        self.added = added_by_path(req.diff)
        self.nested = frozenset(s.folder for s in req.suites if s.folder != ".")
        """The folders of the Go modules below the root, whose Go files are not the root's."""
        self.executed: list[ExecutedCommand] = []
        self.notes: list[str] = []
        self._base: Path | None = None

    def left(self) -> float:
        """Seconds left of the budget."""
        return self.deadline - time.monotonic()

    def waiting_for_others(self) -> bool:
        """Whether the review still waits for AI agents, within this agent's own timeout."""
        done = self.req.others_done
        if done is None or done.is_set():
            return False
        return time.monotonic() < self.deadline - self.req.budget_s + self.req.ceiling_s

    async def base_tree(self, sha: str) -> Path:
        """The scratch copy of the merge base, exported on first use."""
        if self._base is None:
            self._base = await asyncio.to_thread(
                export_commit, self.req.repo, sha, self.req.work / "base"
            )
        return self._base
