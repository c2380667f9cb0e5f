"""The review pipeline: runtime -> config -> agents chosen -> target -> diff -> worktree ->
filter -> agents run -> consolidation (rounds included) -> cross-examination -> report written
-> history.

`review_async` runs these stages in this order, one function each (`_request`, then in the run
folder `_target`, `_patched`, `_review_worktree`, `_report`, `_written`); docs/architecture.md
names the module behind each.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from deepreview.agents.base import Agent
from deepreview.agents.cached import CachedAgent
from deepreview.agents.pricing import priced_run
from deepreview.agents.select import Selection, select_agents
from deepreview.background import in_background
from deepreview.config import Config, load_config
from deepreview.consolidate.engine import Consolidation, ConsolidationInput, consolidate
from deepreview.context import ReviewContext
from deepreview.crossexam import cross_examine
from deepreview.diff import Diff, parse_diff_file
from deepreview.diff_filter import (
    FilterRules,
    generated_attributes,
    head_start,
    skipped_files,
    write_kept,
)
from deepreview.escape import escaped_model
from deepreview.fix_check import with_applicable_fixes
from deepreview.forge.registry import web_links
from deepreview.ids import report_id
from deepreview.output import check_output_dir, reports_in, write_index, write_new_report
from deepreview.prior import PriorRecord, PriorRound
from deepreview.prompt import PROMPT_VERSION
from deepreview.redact import Redactor
from deepreview.runner import ProgressCallback, ProgressEvent, run_agents
from deepreview.runtime import Runtime
from deepreview.schema import (
    AgentRun,
    ConsolidatedFinding,
    DeclinedFinding,
    PullRequest,
    Report,
    ReportTarget,
)
from deepreview.source.changes import TreeState, changed_paths, describe, tree_state
from deepreview.source.git import (
    TargetError,
    apply_patch,
    find_repo_root,
    forge_repo,
    remote_url,
)
from deepreview.source.resolve import (
    ResolvedTarget,
    TargetSpec,
    resolve_target,
)
from deepreview.source.since import lines_since, since_last_review
from deepreview.source.tempdirs import RUN_PREFIX, owned_folder, sweep
from deepreview.source.tree import DirectoryTree
from deepreview.source.worktree import worktree
from deepreview.store import Store, number_round
from deepreview.traces import keep_traces, prune_traces, reserve_trace_folder

if TYPE_CHECKING:
    from deepreview.forge.base import PullRequestInfo

#: What the report says when no AI reviewer took part.
NO_AI_NOTE = (
    "Only the built-in reviewers ran. Add an AI reviewer: install the `claude`, `codex` or "
    "`gemini` CLI, or set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY "
    "(`deepreview agents` lists what is available)."
)


#: How much of an agent's raw output the report keeps: an analyzer's findings are already in
#: its parsed review, so its machine output is kept only in part.
RAW_OUTPUT_LIMIT = 64_000
ANALYZER_OUTPUT_LIMIT = 8_000


class EmptyDiffError(TargetError):
    """There is nothing to review."""


class RequestError(ValueError):
    """The review request cannot be carried out as asked (checked before any agent runs)."""


#: How the verdict line is qualified when no AI agent completed a review.
BUILTIN_ONLY = "built-in reviewers only: no AI agent reviewed the logic"


@dataclass(frozen=True)
class ReviewOptions:
    """Everything a review needs from its caller."""

    cwd: Path
    target: TargetSpec = field(default_factory=TargetSpec)
    agents: Sequence[str] | None = None
    config: Config | None = None
    config_path: Path | None = None
    output_dir: Path | None = None
    formats: Sequence[str] = ("md", "json")
    environ: Mapping[str, str] = field(kw_only=True)
    """The environment agents, tools and forges are given (the CLI passes the process's)."""
    use_cache: bool = True
    keep_history: bool = True
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    prior_round: PriorRound | None = None
    """The previous round when it comes from elsewhere than the local history (a published
    review's state block); it takes the place of the history's series."""
    verify: bool | None = None
    """`--verify` (True: also a pull request's code) / `--no-verify` (False); None: default."""
    allow_missing: bool = False
    """Review without requested agents that are not available (else a RequestError)."""
    allow_unapplied: bool = False
    """Review the unpatched tree when the patch does not apply (else a TargetError)."""
    series: str | None = None
    """The name of the series this review continues (else the target's own lineage)."""

    def __post_init__(self) -> None:
        """Reject a request that cannot succeed before anything runs."""
        from deepreview.render import RENDERERS

        unknown = [f for f in self.formats if f not in RENDERERS]
        if unknown or not self.formats:
            raise RequestError(
                f"unknown format {', '.join(unknown) or '(none)'}; "
                f"choose from {', '.join(RENDERERS)}"
            )
        self.target.check()


@dataclass(frozen=True)
class ReviewResult:
    """The report and where it was written, by format."""

    report: Report
    paths: dict[str, Path]


def _noop(_: ProgressEvent) -> None:
    return None


def _unique_display_names(runs: list[AgentRun]) -> list[AgentRun]:
    seen: dict[str, int] = {}
    out: list[AgentRun] = []
    for run in runs:
        n = seen.get(run.display_name, 0) + 1
        seen[run.display_name] = n
        out.append(
            run if n == 1 else run.model_copy(update={"display_name": f"{run.display_name} ({n})"})
        )
    return out


def _report_target(
    resolved: ResolvedTarget,
    diff: Diff,
    environ: Mapping[str, str],
    pr: PullRequestInfo | None = None,
) -> ReportTarget:
    """What was reviewed, with the forge's web links resolved once for every renderer."""
    forge = forge_repo(remote_url(resolved.repo))
    repo_slug = pr.repo if pr else (forge[0] if forge else None)
    repo_url = pr.repo_url if pr else (forge[1] if forge else None)
    return ReportTarget(
        kind=resolved.kind,
        repo=repo_slug,
        repo_url=repo_url,
        branch=pr.head_ref if pr else resolved.branch,
        base=resolved.base_sha,
        head_sha=resolved.head_sha if resolved.kind in ("range", "pr") else None,
        commits=resolved.commits,
        pr=PullRequest(number=pr.number, title=pr.title, url=pr.url, author=pr.author, body=pr.body)
        if pr
        else None,
        changed_files=diff.paths,
        links=web_links(repo_url, environ),
    )


@dataclass(frozen=True)
class _Series:
    round: int
    round_of: str | None
    prior: list[PriorRecord]
    declined: list[DeclinedFinding]
    head_sha: str | None = None
    rerun_of: int | None = None


def lineage(
    resolved: ResolvedTarget, target: ReportTarget, diff_sha256: str, store: Store | None
) -> tuple[str, str]:
    """(series, target key) of a review. A PR is one series; so is a branch reviewed by range,
    which joins the series of a PR once reviewed from it; a patch, uncommitted changes or a
    detached range are a series of their own (the same change reviewed again is a re-run).
    The target key identifies exactly what was reviewed: the head and the diff."""
    key = f"{resolved.head_sha}:{diff_sha256}"
    if target.pr is not None:
        return f"pr:{target.pr.number}", key
    if resolved.kind == "range" and target.branch:
        pr = store.pr_of_branch(target.branch) if store is not None else None
        return (f"pr:{pr}" if pr is not None else f"branch:{target.branch}"), key
    return f"{resolved.kind}:{diff_sha256[:16]}", key


def _series(
    store: Store | None, series: str, target_key: str, is_pr: bool, given: PriorRound | None
) -> _Series:
    if given is not None:
        return _Series(
            given.round + 1, None, list(given.findings), list(given.declined), given.head_sha
        )
    if store is None:
        return _Series(1, None, [], [])
    earlier = store.in_series(series)
    rnd, rerun_of, previous = number_round(earlier, target_key)
    if previous is None:
        return _Series(rnd, None, [], store.declined(earlier), rerun_of=rerun_of)
    kept = {f.id: f for f in store.report(previous.id).findings}
    prior = [
        PriorRecord(
            f.finding_id, f.fingerprint, f.severity, f.title, f.location, kept.get(f.finding_id)
        )
        for f in store.findings(previous.id)
    ]
    continues_pr = series.startswith("pr:") and not is_pr
    round_of = f"PR #{series.removeprefix('pr:')}" if continues_pr else None
    return _Series(
        rnd, round_of, prior, store.declined(earlier), previous.head_sha, rerun_of=rerun_of
    )


def _change_notes(
    repo: Path, wt: Path, before: tuple[TreeState, TreeState], runs: Sequence[AgentRun]
) -> list[str]:
    """Notes naming the agents that ran while the user's checkout or the worktree changed."""
    ran = ", ".join(r.display_name for r in runs if r.status != "skipped" and not r.cached)
    notes: list[str] = []
    changed = changed_paths(before[0], tree_state(repo))
    if changed:
        notes.append(
            f"The checkout {repo} changed while agents ran ({describe(changed)}); agents that "
            f"ran: {ran}. deepreview does not write there while agents run: check `git status`."
        )
    changed = changed_paths(before[1], tree_state(wt))
    if changed:
        notes.append(
            f"The review worktree changed while agents ran ({describe(changed)}); agents that "
            f"ran: {ran}. Findings were checked against the changed tree."
        )
    return notes


def _sandbox_notes(runs: Sequence[AgentRun]) -> list[str]:
    """One note per agent that ran in a sandbox: which confinement was in force."""
    return [
        f"Sandbox of {r.display_name}: {r.sandbox}." for r in runs if r.sandbox and not r.cached
    ]


def _priced(runs: Sequence[AgentRun], config: Config) -> list[AgentRun]:
    """Costs under the one price rule with the configured prices."""
    override = config.override_reported_costs
    return [priced_run(r, config.prices, override_reported=override) for r in runs]


def _filtered(
    diff: Diff, target: ReportTarget, rules: FilterRules, wt: Path, work: Path
) -> tuple[Diff, ReportTarget]:
    """The diff without the files the review skips, and the target listing them."""
    attributes = generated_attributes(wt, diff.paths)
    skipped = skipped_files(diff, rules, attributes, head_start(wt))
    if not skipped:
        return diff, target
    if len(skipped) == len(diff.files):
        raise EmptyDiffError(
            f"nothing to review: {_all(len(skipped))} skipped as generated, vendored, lock or "
            "excluded (--include PATTERN reviews them)"
        )
    kept_path = work / "reviewed.diff"
    write_kept(diff, skipped, kept_path)
    kept = parse_diff_file(kept_path)
    update = {"changed_files": kept.paths, "skipped_files": skipped}
    return kept, target.model_copy(update=update)


def _earlier_reports(store: Store | None, out_dir: Path) -> list[Report]:
    """The reports the index lists besides the new one: the history's, else those in `out_dir`."""
    if store is None:
        return reports_in(out_dir)
    return [store.report(r.id) for r in store.reviews()]


def _all(n: int) -> str:
    return "the one changed file is" if n == 1 else f"all {n} changed files are"


def _bounded_output(run: AgentRun) -> AgentRun:
    """`run` with its raw output cut to the report's bound, saying how much was cut."""
    parsed = run.kind != "ai" and run.review is not None and run.status == "ok"
    limit = ANALYZER_OUTPUT_LIMIT if parsed else RAW_OUTPUT_LIMIT
    raw = run.raw_output
    if len(raw) <= limit:
        return run
    cut = f"\n[… {len(raw) - limit:,} more characters of raw output cut from the report]"
    return run.model_copy(update={"raw_output": raw[:limit] + cut})


def _wrap_cached(agents: Sequence[Agent], store: Store | None, redactor: Redactor) -> list[Agent]:
    if store is None:
        return list(agents)
    return [
        CachedAgent(a, store, PROMPT_VERSION, redactor) if getattr(a, "cacheable", True) else a
        for a in agents
    ]


def _with_verify(config: Config, options: ReviewOptions) -> Config:
    """`--verify` runs a pull request's code too; `--no-verify` turns the `verify` agent off."""
    if options.verify is None:
        return config
    if not options.verify:
        agent = {
            **config.agent,
            "verify": config.agent_config("verify").model_copy(update={"enabled": False}),
        }
        return config.model_copy(update={"agent": agent})
    verify = config.verify.model_copy(update={"pull_requests": True})
    return config.model_copy(update={"verify": verify})


@dataclass(frozen=True)
class _Request:
    """A checked request: its runtime, repository, configuration, agents and history."""

    runtime: Runtime
    redactor: Redactor
    repo: Path
    config: Config
    out_dir: Path
    selection: Selection
    store: Store | None


@dataclass(frozen=True)
class _Target:
    """What is reviewed: the resolved target, its pull request, its diff and its description."""

    resolved: ResolvedTarget
    pr_info: PullRequestInfo | None
    diff: Diff
    target: ReportTarget


@dataclass(frozen=True)
class _Reviewed:
    """The agents' runs on the worktree and their consolidation."""

    diff: Diff
    target: ReportTarget
    runs: list[AgentRun]
    result: Consolidation
    findings: list[ConsolidatedFinding]
    notes: list[str]
    started: float


def _request(options: ReviewOptions) -> _Request:
    """Stages runtime -> config -> agents chosen: everything checked before anything runs."""
    runtime = Runtime.from_environ(options.environ)
    repo = find_repo_root(options.cwd)
    config = _with_verify(options.config or load_config(repo, options.config_path), options)
    out_dir = options.output_dir or (repo / config.output_dir)
    check_output_dir(out_dir)
    selection = select_agents(config, runtime.environ, options.agents)
    if selection.skipped and not options.allow_missing:
        missing = "; ".join(f"{r.agent} ({r.reason})" for r in selection.skipped)
        raise RequestError(f"requested agent not available: {missing}")
    store = Store.for_repo(repo) if options.keep_history else None
    redactor = Redactor.from_environment(runtime.environ)
    return _Request(runtime, redactor, repo, config, out_dir, selection, store)


async def _target(req: _Request, spec: TargetSpec, work: Path) -> _Target:
    """Stages target -> diff: the change resolved (a pull request read from its forge) and its
    diff parsed from the file it was written to."""
    spec.check()
    pr_info: PullRequestInfo | None = None
    if spec.pr is not None:
        from deepreview.source.pull import resolve_pr  # the forge client only for PRs

        resolved, pr_info = resolve_pr(req.repo, spec.pr, req.runtime.environ, work)
    else:
        resolved = resolve_target(req.repo, spec, work)
    diff_path = resolved.diff_path  # read back from there while agents run
    diff = await in_background(lambda _: parse_diff_file(diff_path), "deepreview-parse")
    if diff.is_empty:
        raise EmptyDiffError("nothing to review: the diff is empty")
    return _Target(
        resolved, pr_info, diff, _report_target(resolved, diff, req.runtime.environ, pr_info)
    )


def _patched(wt: Path, resolved: ResolvedTarget, allow_unapplied: bool) -> list[str]:
    """Stage worktree: a patch applied to the head worktree; the note when it does not apply
    and the review goes on with the unpatched tree."""
    if resolved.patch_path is None:
        return []
    problem = apply_patch(wt, resolved.patch_path)
    if problem and not allow_unapplied:
        raise TargetError(f"the patch does not apply to {resolved.head_sha[:12]}: {problem}")
    if not problem:
        return []
    return [
        f"The patch does not apply to {resolved.head_sha[:12]} ({problem}); "
        "agents saw the unpatched tree."
    ]


async def _review_worktree(
    req: _Request,
    options: ReviewOptions,
    tgt: _Target,
    series: _Series,
    traces: Path | None,
    wt: Path,
    work: Path,
    progress: ProgressCallback,
) -> _Reviewed:
    """Stages filter -> agents run -> consolidation (rounds included) -> cross-examination,
    in the head worktree `wt`."""
    config, resolved = req.config, tgt.resolved
    rules = FilterRules(
        include=(*config.include, *options.include),
        exclude=(*config.exclude, *options.exclude),
    )
    diff, target = _filtered(tgt.diff, tgt.target, rules, wt, work)
    ctx = ReviewContext(
        repo_root=req.repo,
        worktree=wt,
        diff=diff,
        target=target,
        base_sha=resolved.base_sha,
        run_dir=work / "agents",
        runtime=req.runtime,
        prior_findings=tuple(series.prior),
        declined=tuple(series.declined),
        untrusted_text=f"{tgt.pr_info.title}\n\n{tgt.pr_info.body}" if tgt.pr_info else "",
        verify=config.verify,
        trace_dir=traces,
        since=since_last_review(req.repo, series.head_sha, resolved.head_sha),
    )
    cache = req.store if options.use_cache else None
    agents = _wrap_cached(req.selection.agents, cache, req.redactor)
    before = (tree_state(req.repo), tree_state(wt))
    started = time.monotonic()
    runs = await run_agents(
        agents,
        ctx,
        max_concurrency=config.max_concurrency,
        progress=progress,
        heartbeat_s=config.heartbeat_s,
    )
    runs = _unique_display_names([*_priced(runs, config), *req.selection.skipped])
    runs = [_bounded_output(run) for run in runs]
    notes = _sandbox_notes(runs) + _change_notes(req.repo, wt, before, runs)
    given = ConsolidationInput(
        runs=runs,
        diff=diff,
        tree=DirectoryTree(wt),
        declined=series.declined,
        families=config.model_families,
        counted_scopes=frozenset(config.verdict_scopes),
        prior=series.prior,
        since=lines_since(req.repo, series.head_sha, resolved.head_sha),
    )
    result = await in_background(lambda _: consolidate(given), "deepreview-consolidate")
    examinations = await cross_examine(
        [f for f in result.findings if f.sources],  # carried-over ones: none this round
        runs,
        req.selection.agents,
        ctx,
        config.cross_examination,
        families=config.model_families,
        store=cache,
        redactor=req.redactor,
        progress=progress,
    )
    if examinations:
        given = replace(given, examinations=examinations)
        result = await in_background(lambda _: consolidate(given), "deepreview-consolidate")
    findings = with_applicable_fixes(result.findings, wt, result.reproductions)
    return _Reviewed(diff, target, runs, result, findings, notes, started)


def _report(
    rid: str, started: datetime, series: _Series, tgt: _Target, done: _Reviewed, notes: list[str]
) -> Report:
    """The report of the review (before redaction), its verdict qualified when no AI agent
    completed a review."""
    runs = done.runs
    notes = [*notes, *done.notes]
    if not any(r.kind == "ai" for r in runs):
        notes.append(NO_AI_NOTE)
    notes += [f"Diff: {e}" for e in done.diff.errors[:20]]
    if tgt.pr_info is not None:
        notes += tgt.pr_info.notes
    result = done.result
    report = Report(
        id=rid,
        created_at=started,
        round=series.round,
        rerun_of=series.rerun_of,
        round_of=series.round_of,
        target=done.target,
        runs=runs,
        **{**result.report_fields(), "findings": done.findings, "notes": [*notes, *result.notes]},
        declined=series.declined,
        unresolved_feedback=tgt.pr_info.unresolved if tgt.pr_info else [],
        wall_clock_s=round(time.monotonic() - done.started, 1),
    )
    if not any(r.kind == "ai" and r.status == "ok" for r in runs):
        verdict = report.verdict.model_copy(update={"qualifier": BUILTIN_ONLY})
        report = report.model_copy(update={"verdict": verdict})
    return report


def _taken(req: _Request) -> Callable[[str], bool]:
    """Whether a report of this id is already stored or written."""

    def taken(review_id: str) -> bool:
        if req.store is not None and req.store.has_review(review_id):
            return True
        return any(req.out_dir.glob(f"{review_id}.*"))

    return taken


def _written(
    req: _Request, options: ReviewOptions, report: Report, series_key: str, target_key: str
) -> ReviewResult:
    """Stages report written -> history: every format written at once, the review recorded
    (its id and round settled in the same transaction), the index rewritten."""
    paths: dict[str, Path] = {}

    def write(
        report: Report, taken: Callable[[str], bool] = lambda _: False
    ) -> tuple[Report, Path | None]:
        written, placed = write_new_report(report, req.out_dir, options.formats, taken)
        paths.update(placed)
        return written, placed.get("md") or next(iter(placed.values()), None)

    earlier = _earlier_reports(req.store, req.out_dir)
    if req.store is None:
        report, _ = write(report)
    else:
        renumber = options.prior_round is None
        report = req.store.record_new(report, series_key, target_key, write, renumber)
    index = write_index(req.out_dir, [*earlier, report], report.target.repo)
    if index is not None:
        paths["index"] = index
    return ReviewResult(report, paths)


async def review_async(options: ReviewOptions, progress: ProgressCallback = _noop) -> ReviewResult:
    """Run a whole review and write its report, stage by stage (see the module docstring),
    while the folders of reviews killed outright are swept in the background."""
    req = _request(options)
    sweeping = asyncio.ensure_future(in_background(sweep, "deepreview-sweep"))
    try:
        with owned_folder(RUN_PREFIX) as work:
            result = await _review_in(req, options, work, progress)
        await sweeping
        return result
    finally:
        sweeping.cancel()
        if req.store is not None:
            req.store.close()


async def _review_in(
    req: _Request, options: ReviewOptions, work: Path, progress: ProgressCallback
) -> ReviewResult:
    """The stages from the target on, with `work` as the run folder."""
    started = datetime.now().astimezone()
    traces: Path | None = None

    def safe_progress(event: ProgressEvent) -> None:
        redacted = replace(event, reason=req.redactor.text(event.reason)) if event.reason else event
        progress(redacted)

    try:
        tgt = await _target(req, options.target, work)
        resolved = tgt.resolved
        assert tgt.diff.source is not None  # parsed from a file
        series_key, target_key = lineage(resolved, tgt.target, tgt.diff.source.sha256, req.store)
        if options.series is not None:
            series_key = f"named:{options.series}"
        is_pr = tgt.pr_info is not None
        series = _series(req.store, series_key, target_key, is_pr, options.prior_round)
        rid = report_id(started, resolved.label)
        if req.config.keep_traces:
            rid, traces = reserve_trace_folder(req.repo, rid, _taken(req))
        with worktree(req.repo, resolved.head_sha) as wt:
            notes = _patched(wt, resolved, options.allow_unapplied)
            done = await _review_worktree(
                req, options, tgt, series, traces, wt, work, safe_progress
            )
        report = _report(rid, started, series, tgt, done, notes)
        report = escaped_model(req.redactor.model(report))
        return _written(req, options, report, series_key, target_key)
    finally:
        if traces is not None and (work / "agents").is_dir():
            keep_traces(work / "agents", traces, req.redactor)
            prune_traces(req.repo, req.config.keep_traces)
        elif traces is not None:
            shutil.rmtree(traces, ignore_errors=True)  # nothing ran: no traces to keep


def review(options: ReviewOptions, progress: ProgressCallback = _noop) -> ReviewResult:
    """Synchronous entry point of `review_async`."""
    return asyncio.run(review_async(options, progress))
