"""Round matching: fixed, still present, changed, new."""

from __future__ import annotations

from deepreview.consolidate.rounds import match_rounds
from deepreview.prior import PriorRecord
from deepreview.schema import (
    AgentReview,
    AgentRun,
    ConsolidatedFinding,
    Location,
    PriorFindingVerdict,
    Severity,
)


def cf(
    fid: str, fp: str, title: str, path: str, sev: Severity = "important"
) -> ConsolidatedFinding:
    return ConsolidatedFinding(
        id=fid,
        fingerprint=fp,
        severity=sev,
        title=title,
        locations=[Location(path=path, start_line=3)],
        agents=["a"],
    )


def prior(pid: str, fp: str, title: str, path: str, sev: str = "important") -> PriorRecord:
    return PriorRecord(id=pid, fingerprint=fp, severity=sev, title=title, location=f"{path}:3")


def test_same_fingerprint_is_still_present_and_missing_one_is_fixed() -> None:
    current = [cf("I1", "fp-a", "Race in cache refresh", "a.py")]
    prev = [
        prior("I1", "fp-a", "Race in cache refresh", "a.py"),
        prior("I2", "fp-b", "Unchecked error from close", "b.py"),
    ]
    updated, outcome = match_rounds(current, prev)
    assert updated[0].prior_status == "still-present"
    assert [(o.id, o.status, o.current_id) for o in outcome] == [
        ("I1", "still-present", "I1"),
        ("I2", "fixed", None),
    ]


def test_reworded_title_in_same_file_is_changed_and_new_one_is_new() -> None:
    current = [
        cf("S1", "fp-x", "race in the cache refresh path", "a.py", "suggestion"),
        cf("I1", "fp-new", "SQL built by string formatting", "db.py"),
    ]
    prev = [prior("I1", "fp-a", "Race in cache refresh", "a.py")]
    updated, outcome = match_rounds(current, prev)
    assert [f.prior_status for f in updated] == ["changed", "new"]
    assert outcome[0].status == "changed" and outcome[0].current_id == "S1"


def test_similar_title_in_another_file_does_not_match() -> None:
    current = [cf("I1", "fp-x", "Race in cache refresh", "other.py")]
    _, outcome = match_rounds(current, [prior("I1", "fp-a", "Race in cache refresh", "a.py")])
    assert outcome[0].status == "fixed"


def test_agents_verdict_keeps_unmatched_prior_finding_open() -> None:
    run = AgentRun(
        agent="claude",
        display_name="Claude",
        status="ok",
        review=AgentReview(
            prior_findings=[PriorFindingVerdict(finding_id="I2", status="still-present")]
        ),
    )
    _, outcome = match_rounds([], [prior("I2", "fp-b", "Unchecked error", "b.py")], [run])
    assert outcome[0].status == "still-present"


def test_no_prior_round_leaves_findings_unmarked() -> None:
    current = [cf("I1", "fp-a", "x", "a.py")]
    updated, outcome = match_rounds(current, [])
    assert updated[0].prior_status is None and outcome == []
