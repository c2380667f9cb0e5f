"""The verification of one suite in its folder of the scratch copies: its tests at the head, the
failing ones at the merge base, the changed lines' coverage, then its mutation probes."""

from __future__ import annotations

from collections.abc import Sequence

from deepreview.verify.changed_coverage import coverage_config, measure_go, measure_python
from deepreview.verify.findings import broken_finding, counts
from deepreview.verify.mutation_runs import probe_lines, run_probes
from deepreview.verify.probe import plan
from deepreview.verify.selection import narrowed
from deepreview.verify.suite import SuiteRun, go_selection, node_file
from deepreview.verify.suite_state import HEAD_SHARE, SuiteState


class SuiteVerifier(SuiteState):
    """Runs one suite's verification steps in turn and keeps what they found."""

    def selection(self) -> list[str] | None:
        """The test files to run at the head: all (empty list) unless the suite is large;
        None when it is large and no test file names a changed module."""
        if not self.pytest:
            return []
        chosen, total = narrowed(self.tree, list(self.added))
        if chosen is None:
            return []
        if not chosen:
            self.text.append(
                f"The suite has {total} test files and none names a changed module: no test ran."
            )
            return None
        self.notes.append(
            f"The suite has {total} test files; the {len(chosen)} that name a changed module "
            f"ran, the other {total - len(chosen)} did not."
        )
        return chosen

    async def run_tests(self) -> None:
        """The suite at the head, its failing tests at the merge base, the changed lines'
        coverage; the mutation probes are planned, to run after every suite's tests."""
        rc = await coverage_config(self)
        selection = self.selection()
        if selection is None:
            return
        self.selected = selection
        left = self.scratch.left()
        head = await self.runner.run(
            "tests at head", self.tree, self.where, left * HEAD_SHARE, selection
        )
        self.head = head
        self.scratch.executed.append(head.execution.record)
        self.text.append(
            f"Ran `{head.execution.record.command}` at the head in a scratch copy: {counts(head)}."
        )
        if head.execution.record.timed_out:
            self.notes.append(
                "The test run at the head hit its time limit; its results are partial."
            )
        failed = head.failed()
        if failed and self.req.base_sha:
            await self.compare_with_base(head, failed, self.req.base_sha, selection)
        if rc is not None:
            await measure_python(self, rc, selection)
        elif self.go_code and self.req.settings.coverage:
            self.measured, go_run = await measure_go(self, head)
            if self.measured and go_run:
                probes = plan(self.scratch.head_tree, self.measured, go_run, [], self.go_mutants_of)
                self.probes = probes, head  # a mutant's start-up: a build, as at head

    async def run_mutants(self) -> None:
        """The planned mutation probes (line deletions where nothing was measured)."""
        if not self.req.settings.mutations or self.head is None:
            return
        if self.probes is not None:
            self.mutations = await run_probes(self, *self.probes)
        elif not (self.pytest or self.go):
            self.mutations = await probe_lines(self, self.head, self.selected)

    async def compare_with_base(
        self, head: SuiteRun, failed: list[str], base_sha: str, selection: Sequence[str]
    ) -> None:
        """Run the failing tests (or, when the run failed as a whole, the same selection) at
        the merge base; blame the change only for those that pass there or do not exist there
        (all of them when the suite's folder does not exist there)."""
        base_tree = await self.scratch.base_tree(base_sha) / self.suite.folder
        whole = head.whole_run_failed
        if not base_tree.is_dir():
            chosen, run_base = [], False
        elif whole:
            chosen = [s for s in selection if (base_tree / s).exists()]
            run_base = bool(chosen) or not selection
        elif self.pytest:
            chosen = sorted({node_file(t) for t in failed if (base_tree / node_file(t)).exists()})
            run_base = bool(chosen)
        else:
            chosen = go_selection(failed) if self.go else []
            run_base = True
        base = None
        if run_base:
            base = await self.runner.run(
                "failing tests at base",
                base_tree,
                f"scratch copy of the merge base {base_sha[:12]}{self.at}",
                max(self.scratch.left(), 30.0),
                chosen,
            )
            self.scratch.executed.append(base.execution.record)
        broken = [t for t in failed if _base_outcome(base, t, whole) != "failed"]
        already = [t for t in failed if t not in broken]
        if broken:
            self.findings.append(broken_finding(broken, head, base_sha, self.added))
            names = ", ".join(f"`{t}`" for t in broken[:3])
            self.text.append(
                f"{len(broken)} test(s) fail at the head and pass at the merge base (or do not "
                f"exist there): the change breaks {names}."
            )
        if already:
            self.text.append(
                f"{len(already)} test(s) already fail at the merge base (pre-existing, not "
                "counted against the change)."
            )
        self.broken, self.already = broken, already


def _base_outcome(base: SuiteRun | None, test_id: str, whole: bool) -> str:
    """ "failed", "passed" or "absent" for `test_id` in the base run (`whole`: the head run
    failed as a whole, so the base run's exit status decides)."""
    if base is None:
        return "absent"
    if whole or not base.results:
        return "failed" if not base.execution.passed else "passed"
    result = base.results.get(test_id)
    if result is None:
        return "absent"
    return "failed" if result.outcome == "failed" else "passed"
