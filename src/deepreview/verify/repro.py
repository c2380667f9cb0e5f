"""AI agents' repros of their claims, run by `verify` as each agent finishes.

Each repro runs in its own scratch copies — of the head, of the merge base, and of the head
with the agent's fix applied (after `git apply --check`) — confined like the tests (writes only
to the scratch area, no network where the platform allows, CPU and memory limits, a time
limit, a scrubbed environment). The label it earns, by these rules:

- *not reproduced*: the repro passes (exits 0) at the head.
- *reproduced*: it fails at the head and passes at the merge base.
- *fix verified*: it fails at the head and passes with the agent's fix applied.
- *inconclusive*: anything else (it times out or cannot run at the head, or fails there and
  passes neither at the merge base nor with a fix: a pre-existing defect or a broken repro).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from deepreview.config import VerifyConfig
from deepreview.schema import (
    AgentRun,
    Finding,
    Repro,
    Reproduction,
    ReproLabel,
    ReproStep,
    ReproWhere,
)
from deepreview.verify.execute import Confinement, cpu_limit, execute, tail
from deepreview.verify.scratch import ScratchError, copy_tree, export_commit
from deepreview.verify.suite import tree_import_path

#: Severities whose repros are run (the prompt asks for them on these only).
RUN_FOR = frozenset({"critical", "important"})
#: The output tail kept per run.
OUTPUT_KEPT = 2000
#: The file a script repro is saved as (beside its scratch trees, not inside them).
SCRIPT = "repro.sh"
#: Repros or patches larger than this are not run.
MAX_TEXT = 100_000
WHERE = {
    "head": "scratch copy of the head",
    "base": "scratch copy of the merge base",
    "fix": "scratch copy of the head with the fix applied",
}


def label_of(
    head: ReproStep, base: ReproStep | None, fix: ReproStep | None
) -> tuple[ReproLabel, str]:
    """The label the module's rules give these runs, and the one-sentence reason."""
    if head.outcome == "passed":
        return "not reproduced", "the repro passes at the head"
    if head.outcome != "failed":
        why = head.note or ("it timed out" if head.outcome == "timeout" else "it did not run")
        return "inconclusive", f"the repro did not finish at the head ({why})"
    if fix is not None and fix.outcome == "passed":
        return "fix verified", "the repro fails at the head and passes with the fix applied"
    if base is not None and base.outcome == "passed":
        return "reproduced", "the repro fails at the head and passes at the merge base"
    return "inconclusive", (
        "the repro fails at the head but passes neither at the merge base nor with a fix "
        "(a pre-existing defect, or a broken repro)"
    )


def default_command(path: str) -> str | None:
    """How a test file is run when the agent gave no command, by its name."""
    name = PurePosixPath(path)
    if name.suffix == ".py":
        return f"python -m pytest -q -p no:cacheprovider {path}"
    if name.name.endswith("_test.go"):
        return f"go test ./{name.parent.as_posix()}"
    if name.suffix == ".sh":
        return f"bash {path}"
    if name.suffix in (".js", ".mjs", ".cjs"):
        return f"node {path}"
    return None


def repro_problem(repro: Repro) -> str | None:
    """Why `repro` cannot be run as given, or None."""
    if len(repro.content) > MAX_TEXT or len(repro.fix_patch or "") > MAX_TEXT:
        return f"larger than {MAX_TEXT:,} characters"
    if repro.kind == "test":
        path = PurePosixPath(repro.path or "")
        if not repro.path or path.is_absolute() or ".." in path.parts or ".git" in path.parts:
            return f"the test path {repro.path!r} is not inside the repository"
        if not (repro.command or default_command(repro.path)):
            return f"no command to run {repro.path}"
    return None


@dataclass
class ReproRunner:
    """Runs the repros of the AI agents' findings as their runs arrive, within a budget."""

    repo: Path
    head_tree: Path
    base_sha: str | None
    work: Path
    """The repros' scratch area: the only place their runs may write."""
    base_export: Path
    """Where the merge base is exported once, outside `work` (no repro can alter it)."""
    env: Mapping[str, str]
    confinement: Confinement
    settings: VerifyConfig
    answers: asyncio.Queue[AgentRun]
    done: asyncio.Event
    stop_at: float
    """Monotonic time by which every repro has ended (the agent's own time limit)."""
    redact: Callable[[str], str] = lambda text: text
    results: list[Reproduction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _base: asyncio.Task[Path | None] | None = None
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.repro_concurrency)

    async def run_all(self) -> list[Reproduction]:
        """Start each arriving run's repros at once; once every AI agent has finished, wait
        for them at most `repro_budget_s`, and never past `stop_at`."""
        started: list[tuple[Reproduction, asyncio.Task[Reproduction]]] = []
        skipped = 0
        while (run := await _next(self.answers, self.done, self.stop_at)) is not None:
            for finding in _with_repros(run):
                if len(started) >= self.settings.max_repros:
                    skipped += 1
                    continue
                record = self._record(run, finding)
                task = asyncio.create_task(self.reproduce(record, len(started) + 1))
                started.append((record, task))
        if skipped:
            self.notes.append(
                f"{skipped} repro(s) not run: at most {self.settings.max_repros} per review "
                "(verify.max_repros)."
            )
        if not started:
            return []
        limit = min(self.settings.repro_budget_s, max(0.0, self.stop_at - time.monotonic()))
        _, late = await asyncio.wait([t for _, t in started], timeout=limit)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        if late:
            self.notes.append(
                f"{len(late)} repro(s) stopped unfinished: the repro budget "
                f"({self.settings.repro_budget_s:g} s after the last AI agent) ran out."
            )
        self.results = [_outcome(record, task) for record, task in started]
        return self.results

    def isolation(self) -> str:
        """The confinement each run is under, with its limits."""
        timeout = self.settings.repro_timeout_s
        said = self.confinement.wrap(["true"], cpu_seconds=cpu_limit(timeout))[1]
        return f"{said}; {timeout:g} s per run"

    def _record(self, run: AgentRun, finding: Finding) -> Reproduction:
        """The repro of `finding`, not run yet."""
        assert finding.repro is not None
        return Reproduction(
            agent=run.agent,
            reviewer=run.display_name,
            finding_id=finding.id,
            title=finding.title,
            repro=finding.repro,
            label="inconclusive",
            reason="",
            isolation=self.isolation(),
        )

    async def reproduce(self, record: Reproduction, n: int) -> Reproduction:
        """Run one repro at the head, the merge base and with its fix; label it."""
        repro = record.repro
        problem = repro_problem(repro)
        if problem is not None:
            return _labelled(record, [ReproStep(where="head", outcome="not run", note=problem)])
        folder = self.work / f"repro-{n:02d}"
        folder.mkdir(parents=True)
        if repro.kind == "script":
            (folder / SCRIPT).write_text(repro.content, encoding="utf-8")
        wanted: list[asyncio.Task[ReproStep]] = [
            asyncio.create_task(self._step("head", repro, folder)),
            asyncio.create_task(self._step("base", repro, folder)),
        ]
        if repro.fix_patch:
            wanted.append(asyncio.create_task(self._step("fix", repro, folder)))
        try:
            steps = list(await asyncio.gather(*wanted))
        finally:
            for task in wanted:
                task.cancel()
            await asyncio.gather(*wanted, return_exceptions=True)
            await asyncio.to_thread(shutil.rmtree, folder, True)
        return _labelled(record, steps)

    async def _base_tree(self) -> Path | None:
        """The merge base exported once (None without a merge base)."""
        if self.base_sha is None:
            return None
        if self._base is None:
            self._base = asyncio.create_task(
                asyncio.to_thread(export_commit, self.repo, self.base_sha, self.base_export)
            )
        return await asyncio.shield(self._base)

    async def _tree(self, where: ReproWhere, repro: Repro, folder: Path) -> tuple[Path | None, str]:
        """The scratch tree a step runs in, or None and why."""
        source = self.head_tree
        if where == "base":
            try:
                found = await self._base_tree()
            except ScratchError as exc:
                return None, str(exc)
            if found is None:
                return None, "no merge base"
            source = found
        tree = await asyncio.to_thread(copy_tree, source, folder / where)
        if where == "fix":
            path_var = self.env.get("PATH", "/usr/bin:/bin")
            problem = await asyncio.to_thread(apply_fix, tree, repro.fix_patch or "", path_var)
            if problem is not None:
                return None, f"the fix does not apply: {problem}"
        if repro.kind == "test" and repro.path:
            target = tree / repro.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(repro.content, encoding="utf-8")
        return tree, ""

    async def _step(self, where: ReproWhere, repro: Repro, folder: Path) -> ReproStep:
        async with self._slots:
            tree, why = await self._tree(where, repro, folder)
            if tree is None:
                return ReproStep(where=where, outcome="not run", note=why)
            if repro.kind == "script":
                argv, shown = ["bash", str(folder / SCRIPT)], f"bash {SCRIPT}"
            else:
                assert repro.path is not None
                shown = repro.command or default_command(repro.path) or ""
                argv = ["bash", "-c", shown]
            env = {**self.env, "PYTHONPATH": os.pathsep.join(tree_import_path(tree))}
            ran = await execute(
                f"repro at {where}",
                argv,
                cwd=tree,
                where=WHERE[where],
                env=env,
                timeout_s=self.settings.repro_timeout_s,
                confinement=self.confinement,
                capture_dir=folder / f"output-{where}",
                shown=shown,
            )
        r = ran.record
        outcome = "timeout" if r.timed_out else ("passed" if ran.passed else "failed")
        if r.exit_code is None and not r.timed_out:
            outcome = "not run"
        return ReproStep(
            where=where,
            outcome=outcome,
            exit_code=r.exit_code,
            duration_s=r.duration_s,
            output=self.redact(tail(ran.output.replace(f"{tree}/", "").strip(), OUTPUT_KEPT)),
            note="" if r.exit_code is not None or r.timed_out else ran.output.strip()[:300],
        )


def _labelled(record: Reproduction, steps: list[ReproStep]) -> Reproduction:
    by = {s.where: s for s in steps}
    label, reason = label_of(by["head"], by.get("base"), by.get("fix"))
    return record.model_copy(update={"steps": steps, "label": label, "reason": reason})


def _outcome(record: Reproduction, task: asyncio.Task[Reproduction]) -> Reproduction:
    """The task's labelled repro; a stopped or failed one is inconclusive, and says why."""
    if task.cancelled():
        why = "stopped: the repro budget ran out"
    elif (exc := task.exception()) is not None:
        why = f"could not run: {type(exc).__name__}: {exc}"[:300]
    else:
        return task.result()
    return _labelled(record, [ReproStep(where="head", outcome="not run", note=why)])


def apply_fix(tree: Path, patch: str, path_var: str) -> str | None:
    """Apply `patch` in `tree` (a scratch copy outside any repository) once `git apply
    --check` accepts it; else the first line of git's reason."""
    env = {"PATH": path_var, "GIT_CEILING_DIRECTORIES": str(tree.parent)}
    reason = ""
    for strip in ("-p1", "-p0"):
        checked = _git_apply(tree, patch, env, "--check", strip)
        if checked.returncode == 0:
            applied = _git_apply(tree, patch, env, strip)
            if applied.returncode == 0:
                return None
            checked = applied
        lines = checked.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = reason or (lines[0] if lines else "")
    return (reason or "git apply refused it")[:300]


def _git_apply(
    tree: Path, patch: str, env: Mapping[str, str], *args: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "apply", "--recount", *args, "-"],
        cwd=tree,
        input=patch.encode("utf-8", "surrogateescape"),
        capture_output=True,
        env=dict(env),
        check=False,
        timeout=60,
    )


def _with_repros(run: AgentRun) -> Sequence[Finding]:
    if run.review is None or run.status not in ("ok", "timeout"):
        return []
    return [f for f in run.review.findings if f.repro is not None and f.severity in RUN_FOR]


async def _next(
    answers: asyncio.Queue[AgentRun], done: asyncio.Event, stop_at: float
) -> AgentRun | None:
    """The next finished AI run; None once every AI agent has finished and all were taken,
    or at `stop_at`."""
    while True:
        if not answers.empty():
            return answers.get_nowait()
        if done.is_set():
            return None
        left = stop_at - time.monotonic()
        if left <= 0:
            return None
        getter = asyncio.ensure_future(answers.get())
        waiter = asyncio.ensure_future(done.wait())
        finished, _ = await asyncio.wait(
            {getter, waiter}, timeout=left, return_when="FIRST_COMPLETED"
        )
        waiter.cancel()
        if getter in finished:
            return getter.result()
        getter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await getter
