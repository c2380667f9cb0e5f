"""The retro summary table: one column per agent and a Totals column, one row per metric."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from deepreview.render.durations import compact
from deepreview.render.reviewers import agent_display, find_run, is_failed
from deepreview.schema import AgentRun, Report, RetroRow

DASH = "—"
TOTALS = "Totals"


def findings_count(row: RetroRow) -> str:
    """`1C 2I 3S`, or a dash when the agent raised nothing."""
    return _counts(row.critical, row.important, row.suggestion)


def _counts(critical: int, important: int, suggestion: int) -> str:
    counts = ((critical, "C"), (important, "I"), (suggestion, "S"))
    return " ".join(f"{n}{letter}" for n, letter in counts if n) or DASH


def _breakdown(counts: Mapping[str, int], *, by_count: bool) -> str:
    """`27 (Read 9, Grep 7)`; a single kind as `2 (I→S)`."""
    total = sum(counts.values())
    items = [(k, n) for k, n in counts.items() if n]
    if not items:
        return str(total)
    if by_count:
        items.sort(key=lambda kv: (-kv[1], kv[0]))
    else:
        items.sort()
    if len(items) == 1 and not by_count:
        return f"{total} ({items[0][0]})"
    return f"{total} ({', '.join(f'{k} {n}' for k, n in items)})"


def tokens(n: int) -> str:
    """`950`, `12.3k`, `1.2M`."""
    if n < 1_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1_000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def usd(amount: float) -> str:
    """`$0.42`, `$0.0031` (small amounts keep two significant digits)."""
    if amount == 0 or amount >= 0.01:
        return f"${amount:,.2f}"
    return f"${amount:.2g}"


@dataclass(frozen=True)
class _Column:
    """One agent's column: its retro row, its run, whether the run failed, and what its
    cross-examinations of other agents' findings cost (None: none priced)."""

    row: RetroRow
    run: AgentRun | None
    failed: bool
    examining_usd: float | None = None

    def cost_usd(self) -> float | None:
        """The review's cost plus the cross-examinations'; None when neither is known."""
        own = self.run.cost_usd if self.run else None
        if own is None and self.examining_usd is None:
            return None
        return (own or 0.0) + (self.examining_usd or 0.0)


def _duration(c: _Column) -> str:
    return DASH if c.failed or c.row.duration_s is None else compact(c.row.duration_s)


def _model(c: _Column) -> str:
    return (c.run.model if c.run else None) or DASH


def _usage(c: _Column) -> tuple[int, int] | None:
    usage = c.run.usage if c.run else None
    if usage is None or not (usage.input_tokens or usage.output_tokens):
        return None
    return usage.input_tokens, usage.output_tokens


def _tokens(c: _Column) -> str:
    used = _usage(c)
    return DASH if used is None else f"{tokens(used[0])} / {tokens(used[1])}"


def _cost(c: _Column) -> str:
    cost = c.cost_usd()
    if cost is None:
        return DASH
    if c.examining_usd:
        return f"{usd(cost)} (cross-examination {usd(c.examining_usd)})"
    return usd(cost)


_ROWS: tuple[tuple[str, Callable[[_Column], str]], ...] = (
    ("Model", _model),
    ("Duration", _duration),
    ("Tokens (in / out)", _tokens),
    ("Cost", _cost),
    ("Findings", lambda c: findings_count(c.row)),
    ("Critical", lambda c: str(c.row.critical)),
    ("Important", lambda c: str(c.row.important)),
    ("Suggestion", lambda c: str(c.row.suggestion)),
    (
        "Tool calls",
        lambda c: _breakdown(c.row.tool_calls, by_count=True) if c.row.tool_calls else DASH,
    ),
    ("Design observations", lambda c: str(c.row.design_observations)),
    ("False positives", lambda c: str(c.row.false_positives)),
    ("Unique insights", lambda c: str(c.row.unique_insights)),
    (
        "Files reviewed",
        lambda c: DASH if c.row.files_reviewed is None else str(c.row.files_reviewed),
    ),
    ("Coverage misses", lambda c: str(c.row.coverage_misses)),
    ("Downgraded", lambda c: _breakdown(c.row.downgraded, by_count=False)),
    ("Dropped", lambda c: str(c.row.dropped)),
)


def _total_duration(cs: Sequence[_Column], report: Report) -> str:
    return compact(report.wall_clock_s) if report.wall_clock_s > 0 else DASH


def _total_tokens(cs: Sequence[_Column], _: Report) -> str:
    used = [u for c in cs if (u := _usage(c)) is not None]
    if not used:
        return DASH
    return f"{tokens(sum(u[0] for u in used))} / {tokens(sum(u[1] for u in used))}"


def _total_cost(cs: Sequence[_Column], _: Report) -> str:
    costs = [cost for c in cs if (cost := c.cost_usd()) is not None]
    return usd(sum(costs)) if costs else DASH


def _total_counts(cs: Sequence[_Column], _: Report) -> str:
    rows = [c.row for c in cs]
    return _counts(*(sum(getattr(r, s) for r in rows) for s in SEVERITY_FIELDS))


def _changed(report: Report) -> str:
    """The number of changed files reviewed: what every agent's count is out of."""
    return str(len(report.target.changed_files)) if report.target.changed_files else DASH


def _sum(field: str) -> Callable[[Sequence[_Column], Report], str]:
    return lambda cs, _: str(sum(getattr(c.row, field) for c in cs))


def _sum_breakdown(field: str, by_count: bool) -> Callable[[Sequence[_Column], Report], str]:
    def total(cs: Sequence[_Column], _: Report) -> str:
        merged: Counter[str] = Counter()
        for c in cs:
            merged.update(getattr(c.row, field))
        return _breakdown(dict(merged), by_count=by_count) if merged or not by_count else DASH

    return total


SEVERITY_FIELDS = ("critical", "important", "suggestion")

#: The Totals column: sums over the agents, the review's wall-clock time as its duration,
#: and a dash where a sum means nothing (models, files per agent).
_TOTALS: dict[str, Callable[[Sequence[_Column], Report], str]] = {
    "Model": lambda cs, _: DASH,
    "Duration": _total_duration,
    "Tokens (in / out)": _total_tokens,
    "Cost": _total_cost,
    "Findings": _total_counts,
    **{s.capitalize(): _sum(s) for s in SEVERITY_FIELDS},
    "Tool calls": _sum_breakdown("tool_calls", by_count=True),
    "Design observations": _sum("design_observations"),
    "False positives": _sum("false_positives"),
    "Unique insights": _sum("unique_insights"),
    "Files reviewed": lambda cs, report: _changed(report),
    "Coverage misses": _sum("coverage_misses"),
    "Downgraded": _sum_breakdown("downgraded", by_count=False),
    "Dropped": _sum("dropped"),
}


def _columns(report: Report) -> list[_Column]:
    examining: dict[str, float] = {}
    for e in report.examinations:
        if e.cost_usd is not None and not e.cached:
            examining[e.examiner_agent] = examining.get(e.examiner_agent, 0.0) + e.cost_usd
    columns = []
    for row in report.retro:
        run = find_run(report, row.agent)
        failed = run is not None and is_failed(run)
        spent = examining.get(run.agent) if run is not None else None
        columns.append(_Column(row, run, failed, spent))
    return columns


def retro_columns(report: Report) -> list[tuple[str, bool]]:
    """Each retro row's agent display name and whether its run failed, then Totals."""
    agents = [(agent_display(report, c.row.agent), c.failed) for c in _columns(report)]
    return [*agents, (TOTALS, False)] if agents else []


def retro_table(report: Report) -> list[tuple[str, list[str]]]:
    """The table body: each row name with one cell per agent, in `report.retro` order, and
    the Totals cell."""
    columns = _columns(report)
    if not columns:
        return []
    return [
        (name, [*(cell(c) for c in columns), _TOTALS[name](columns, report)])
        for name, cell in _ROWS
    ]
