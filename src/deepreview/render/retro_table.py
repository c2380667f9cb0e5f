"""The retro summary table: one column per agent, one row per metric."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from deepreview.render.durations import compact
from deepreview.render.reviewers import agent_display, find_run, is_failed
from deepreview.schema import Report, RetroRow

DASH = "—"


def findings_count(row: RetroRow) -> str:
    """`1C 2I 3S`, or a dash when the agent raised nothing."""
    counts = ((row.critical, "C"), (row.important, "I"), (row.suggestion, "S"))
    text = " ".join(f"{n}{letter}" for n, letter in counts if n)
    return text or DASH


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


def _duration(row: RetroRow, failed: bool) -> str:
    return DASH if failed or row.duration_s is None else compact(row.duration_s)


_ROWS: tuple[tuple[str, Callable[[RetroRow, bool], str]], ...] = (
    ("Duration", _duration),
    ("Findings", lambda r, _: findings_count(r)),
    ("Critical", lambda r, _: str(r.critical)),
    ("Important", lambda r, _: str(r.important)),
    ("Suggestion", lambda r, _: str(r.suggestion)),
    ("Tool calls", lambda r, _: _breakdown(r.tool_calls, by_count=True) if r.tool_calls else DASH),
    ("Design observations", lambda r, _: str(r.design_observations)),
    ("False positives", lambda r, _: str(r.false_positives)),
    ("Unique insights", lambda r, _: str(r.unique_insights)),
    ("Files reviewed", lambda r, _: DASH if r.files_reviewed is None else str(r.files_reviewed)),
    ("Coverage misses", lambda r, _: str(r.coverage_misses)),
    ("Downgraded", lambda r, _: _breakdown(r.downgraded, by_count=False)),
    ("Dropped", lambda r, _: str(r.dropped)),
)


def retro_columns(report: Report) -> list[tuple[str, bool]]:
    """Each retro row's agent display name and whether its run failed."""
    columns = []
    for row in report.retro:
        run = find_run(report, row.agent)
        columns.append((agent_display(report, row.agent), run is not None and is_failed(run)))
    return columns


def retro_table(report: Report) -> list[tuple[str, list[str]]]:
    """The table body: each row name with one cell per agent, in `report.retro` order."""
    failed = [is_failed_col for _, is_failed_col in retro_columns(report)]
    return [
        (name, [cell(row, f) for row, f in zip(report.retro, failed, strict=True)])
        for name, cell in _ROWS
    ]
