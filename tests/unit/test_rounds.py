"""Round matching: fixed, still present, changed, new."""

from __future__ import annotations

from deepreview.consolidate.rounds import follow, match_rounds
from deepreview.diff import Diff, parse_diff
from deepreview.prior import PriorRecord
from deepreview.schema import (
    AgentReview,
    AgentRun,
    ConsolidatedFinding,
    Location,
    PriorFindingVerdict,
    Severity,
    SourceFinding,
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


def since(*hunks: tuple[str, str]) -> Diff:
    """The diff between two heads: (path, hunk text with its @@ header) per file."""
    return parse_diff(
        "".join(
            f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n{hunk}"
            for path, hunk in hunks
        )
    )


#: Line 3 of b.py replaced.
B3_CHANGED = since(("b.py", "@@ -3 +3 @@\n-old\n+new\n"))


def test_same_fingerprint_is_still_present_and_missing_one_is_fixed() -> None:
    current = [cf("I1", "fp-a", "Race in cache refresh", "a.py")]
    prev = [
        prior("I1", "fp-a", "Race in cache refresh", "a.py"),
        prior("I2", "fp-b", "Unchecked error from close", "b.py"),
    ]
    updated, outcome = match_rounds(current, prev, since=B3_CHANGED)
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
    a3_changed = since(("a.py", "@@ -2,2 +2 @@\n-x\n-y\n+z\n"))
    _, outcome = match_rounds(
        current, [prior("I1", "fp-a", "Race in cache refresh", "a.py")], since=a3_changed
    )
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
    [kept], outcome = match_rounds([], [prior("I2", "fp-b", "Unchecked error", "b.py")], [run])
    assert outcome[0].status == "still-present" and outcome[0].current_id == kept.id == "I1"
    assert kept.prior_status == "still-present" and kept.title == "Unchecked error"


def test_no_prior_round_leaves_findings_unmarked() -> None:
    current = [cf("I1", "fp-a", "x", "a.py")]
    updated, outcome = match_rounds(current, [])
    assert updated[0].prior_status is None and outcome == []


def test_unmatched_prior_finding_on_untouched_lines_is_carried_over_not_fixed() -> None:
    current = [
        cf("I1", "fp-a", "Race in cache refresh", "a.py"),
        cf("S1", "fp-s", "Nit", "a.py", "suggestion"),
    ]
    prev = [prior("I1", "fp-b", "Unchecked error from close", "b.py")]
    two_lines_above = since(("b.py", "@@ -1,0 +2,2 @@\n+a\n+b\n"))
    updated, outcome = match_rounds(current, prev, since=two_lines_above)
    assert [(f.id, f.prior_status) for f in updated] == [
        ("I1", "new"),
        ("I2", "unaddressed"),
        ("S1", "new"),
    ]
    carried = updated[1]
    assert carried.title == "Unchecked error from close" and carried.severity == "important"
    assert carried.locations == [Location(path="b.py", start_line=5)]
    assert [(o.id, o.status, o.current_id) for o in outcome] == [("I1", "unaddressed", "I2")]


def test_without_the_diff_since_nothing_is_called_fixed() -> None:
    _, outcome = match_rounds([], [prior("I2", "fp-b", "Unchecked error", "b.py")])
    assert outcome[0].status == "unaddressed"


def test_an_agent_saying_fixed_is_evidence_enough() -> None:
    run = AgentRun(
        agent="claude",
        display_name="Claude",
        status="ok",
        review=AgentReview(prior_findings=[PriorFindingVerdict(finding_id="I2", status="fixed")]),
    )
    found, outcome = match_rounds([], [prior("I2", "fp-b", "Unchecked error", "b.py")], [run])
    assert found == [] and outcome[0].status == "fixed"


def test_carried_finding_keeps_the_whole_prior_finding() -> None:
    whole = cf("C1", "fp-c", "Token logged", "b.py", "critical").model_copy(
        update={
            "body": "The token reaches the log.",
            "agents": ["Claude"],
            "sources": [SourceFinding(agent="Claude", finding_id="I4", severity="critical")],
        }
    )
    record = PriorRecord("C1", "fp-c", "critical", "Token logged", "b.py:3", whole)
    [carried], _ = match_rounds([], [record], since=Diff())
    assert (carried.id, carried.body, carried.agents) == ("C1", whole.body, ["Claude"])
    assert carried.sources == []  # no agent of this round raised it
    assert carried.prior_status == "unaddressed"


def test_follow_maps_cited_lines_through_the_new_commits() -> None:
    span = Location(path="b.py", start_line=10, end_line=12)
    assert follow(since(("b.py", "@@ -11 +11 @@\n-x\n+y\n")), span) is None  # replaced
    assert follow(since(("b.py", "@@ -10,0 +11 @@\n+z\n")), span) is None  # inserted inside
    assert follow(since(("b.py", "@@ -12 +11,0 @@\n-x\n")), span) is None  # deleted
    moved = follow(since(("b.py", "@@ -2,3 +2 @@\n-a\n-b\n-c\n+d\n")), span)
    assert moved == Location(path="b.py", start_line=8, end_line=10)  # two lines fewer above
    below = follow(since(("b.py", "@@ -12,0 +13 @@\n+after\n")), span)
    assert below == span  # lines added after the cited ones leave them in place
    renamed = parse_diff(
        "diff --git a/b.py b/c.py\nsimilarity index 100%\nrename from b.py\nrename to c.py\n"
    )
    assert follow(renamed, span) == span.model_copy(update={"path": "c.py"})
    gone = parse_diff(
        "diff --git a/b.py b/b.py\ndeleted file mode 100644\n--- a/b.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-x\n"
    )
    assert follow(gone, span) is None
    assert follow(since(("other.py", "@@ -1 +1 @@\n-x\n+y\n")), span) == span
