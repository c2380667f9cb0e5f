"""The package's public surface is what `__all__` says, and it works."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import deepreview
from tests.repo_factory import commit, git, make_repo


def test_all_names_exist_and_are_documented() -> None:
    assert sorted(deepreview.__all__) == deepreview.__all__
    for name in deepreview.__all__:
        obj = getattr(deepreview, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), name


def test_review_from_the_library(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "checkout", "-q", "-b", "feat")
    commit(repo, {"notes.py": "# TODO: remove before release\nX = 1\n"}, "Add notes")
    result = deepreview.review(repo, agents=["scan"], output_dir=tmp_path / "out")
    assert result.report.target.branch == "feat"
    assert result.paths["md"].read_text().startswith(f"# Deep Review: {result.report.id}")
    assert any("TODO" in lim.quote for lim in result.report.limitations)


def test_consolidate_reviews_from_the_library() -> None:
    review = (
        "## Important Issues\n\n"
        "I1. **Leaks the socket on error** — `net.py:3`\n\nThe socket is never closed.\n"
    )
    report = deepreview.consolidate_reviews(
        [("Claude Opus 4.6", review), ("Codex GPT 5.4", review)]
    )
    assert [f.agents for f in report.findings] == [["Claude Opus 4.6", "Codex GPT 5.4"]]
    assert report.verdict.decision == "Merge with fixes"


def test_review_uses_the_config_environment_and_progress_it_is_given(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    git(repo, "checkout", "-q", "-b", "feat")
    commit(repo, {"notes.py": "# TODO: remove before release\nX = 1\n"}, "Add notes")
    (repo / "deepreview.toml").write_text('agents = ["ruff"]\n')  # the passed config wins
    config = deepreview.Config(agents=["scan"], output_dir="elsewhere")
    events: list[str] = []
    result = deepreview.review(
        repo,
        config=config,
        environ={"PATH": os.environ["PATH"], "DEEPREVIEW_CACHE_DIR": str(tmp_path / "c")},
        progress=lambda event: events.append(f"{event.agent}:{event.state}"),
        keep_history=False,
    )
    assert [run.agent for run in result.report.runs] == ["scan"]
    assert result.paths["md"].parent == repo / "elsewhere"
    assert events[0] == "scan:queued" and events[-1] == "scan:ok"
    assert not (repo / ".deepreview" / "deepreview.db").exists()
