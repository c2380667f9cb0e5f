"""How agents are named in a report: display names, effort, failure and cache marks."""

from __future__ import annotations

from deepreview.schema import AgentRun, Report


def reviewer_name(run: AgentRun) -> str:
    """Vendor and model, with the effort when set: `Claude Opus 4.7 (effort: xhigh)`."""
    name = run.display_name or run.agent
    if run.effort and "effort" not in name.lower():
        name = f"{name} (effort: {run.effort})"
    return name


def is_failed(run: AgentRun) -> bool:
    """Whether the run produced no review of its own (failed, timed out, skipped), other than
    because there was nothing for it to check."""
    return run.status != "ok" and run.applicable


def failure_reason(run: AgentRun) -> str:
    """Why the run did not produce a review; its status when no reason was recorded."""
    return run.reason or run.status


def reviewer_label(run: AgentRun) -> str:
    """The Reviewers entry: `~~Gemini 3.1 Pro~~ (429 capacity)`, `Codex GPT 5.4 (cached)`."""
    name = reviewer_name(run)
    if not run.applicable:
        return f"{name} (not applicable: {failure_reason(run)})"
    if is_failed(run):
        return f"~~{name}~~ ({failure_reason(run)})"
    if run.cached:
        return f"{name} (cached)"
    return name


def find_run(report: Report, agent: str) -> AgentRun | None:
    """The run whose registry name or display name is `agent`."""
    for run in report.runs:
        if agent in (run.agent, run.display_name):
            return run
    return None


def agent_display(report: Report, agent: str) -> str:
    """The display name for an agent given by registry or display name."""
    run = find_run(report, agent)
    return run.display_name if run is not None else agent
