"""The SQLite store: history, series and rounds, declines, the result cache."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deepreview.schema import (
    AgentRun,
    ConsolidatedFinding,
    Location,
    PullRequest,
    Report,
    ReportTarget,
    Verdict,
)
from deepreview.store import MIGRATIONS, Store, StoreError, cache_key

T0 = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def report(rid: str, *, pr: int | None, branch: str, minutes: int, rnd: int = 1) -> Report:
    return Report(
        id=rid,
        created_at=T0 + timedelta(minutes=minutes),
        round=rnd,
        target=ReportTarget(
            kind="pr" if pr else "range",
            branch=branch,
            head_sha="abc",
            pr=PullRequest(number=pr, title="t") if pr else None,
        ),
        runs=[],
        verdict=Verdict(decision="Merge with fixes", reason="I1"),
        summary="s",
        findings=[
            ConsolidatedFinding(
                id="I1",
                fingerprint=f"fp-{rid}",
                severity="important",
                title="Leak",
                locations=[Location(path="a.py", start_line=4)],
                agents=["x"],
            )
        ],
    )


def test_history_newest_first_and_series_by_pr(tmp_path: Path) -> None:
    store = Store.for_repo(tmp_path)
    store.add_review(report("r1", pr=7, branch="feat", minutes=0), None, "pr:7")
    store.add_review(report("r2", pr=None, branch="other", minutes=1), None, "branch:other")
    r3 = report("r3", pr=7, branch="feat", minutes=2, rnd=2)
    store.add_review(r3, tmp_path / "r3.md", "pr:7")
    assert [r.id for r in store.reviews()] == ["r3", "r2", "r1"]
    assert [r.id for r in store.in_series("pr:7")] == ["r1", "r3"]
    assert [r.id for r in store.in_series("branch:other")] == ["r2"]
    # a branch that has a PR continues the PR's series
    assert store.pr_of_branch("feat") == 7 and store.pr_of_branch("other") is None
    assert store.findings("r3")[0].location == "a.py:4"
    assert store.report("r3").round == 2


def test_decline_by_id_and_listing(tmp_path: Path) -> None:
    store = Store.for_repo(tmp_path)
    store.add_review(report("r1", pr=7, branch="feat", minutes=0), None, "pr:7")
    store.add_review(report("r2", pr=7, branch="feat", minutes=1), None, "pr:7")
    found = store.decline("I1", "by design")
    assert found.review_id == "r2"
    store.decline("r1:I1", "not worth it")
    declined = store.declined(store.in_series("pr:7"))
    assert {(d.fingerprint, d.reason) for d in declined} == {
        ("fp-r2", "by design"),
        ("fp-r1", "not worth it"),
    }
    with pytest.raises(StoreError, match="no finding X9"):
        store.decline("X9", "?")


def test_cache_round_trip_marks_cached(tmp_path: Path) -> None:
    store = Store.for_repo(tmp_path)
    key = cache_key("claude", "opus", "high", "review-v1", "abc", "diff")
    assert store.cached_run(key) is None
    store.put_run(key, AgentRun(agent="claude", display_name="Claude", status="ok"))
    cached = store.cached_run(key)
    assert cached is not None and cached.cached and cached.agent == "claude"
    assert key != cache_key("claude", "opus", "high", "review-v1", "abc", "diff2")
    assert key != cache_key("claude", "sonnet", "high", "review-v1", "abc", "diff")


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    Store.for_repo(tmp_path).close()
    Store.for_repo(tmp_path).close()
    db = sqlite3.connect(tmp_path / ".deepreview" / "deepreview.db")
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_unopenable_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".deepreview").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the review history"):
        Store.for_repo(tmp_path)
