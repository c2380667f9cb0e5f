"""Reading earlier rounds back from their reports, and recognising re-raised declines."""

from __future__ import annotations

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.parse.report import read_prior, read_resolution
from deepreview.render.json import render_json
from deepreview.schema import AgentReview, AgentRun, DeclinedFinding, Finding, Location
from tests.factories import sample_report

REPORT = """\
# Deep Review: 20260501-pr-7

| | |
|---|---|
| **Round** | 3 |

## Important Issues

I1. **Lock held across the network call** — `svc/store.go:40-52` (important, concurrency)

I2. **Cache never evicts** — `svc/cache.go:12`

~~I3. **Rejected claim**~~ — `svc/x.go:1`

### Suggestions

1. **Rename `doIt`** — `svc/run.go:3`

```text
I9. **Not a finding, inside a fence** — `a.go:1`
```

## Resolution

| | |
|---|---|
| **Addressed** | 2026-05-02 |

| # | Finding | Action | Reason |
|---|---|---|---|
| 1 | Important I1: Lock held across the network call | Fixed | |
| 2 | Important #2: Cache never evicts | Skipped | bounded by design |
| 3 | Suggestion S1: Rename | Skipped (naming is the team's) | |
"""


def test_resolution_rows_with_ids_numbers_and_inline_reasons() -> None:
    rows = read_resolution(REPORT)
    assert [(r.finding_id, r.action, r.reason, r.declined) for r in rows] == [
        ("I1", "fixed", "", False),
        ("I2", "skipped", "bounded by design", True),
        ("S1", "skipped", "naming is the team's", True),
    ]


def test_a_markdown_report_gives_findings_round_and_declines_with_places() -> None:
    prior = read_prior(REPORT)
    assert prior.round == 3
    assert [(f.id, f.severity, f.location) for f in prior.findings] == [
        ("I1", "important", "svc/store.go:40-52"),
        ("I2", "important", "svc/cache.go:12"),
        ("S1", "suggestion", "svc/run.go:3"),
    ]
    assert [(d.title, d.round, d.reason, d.location) for d in prior.declined] == [
        ("Cache never evicts", 3, "bounded by design", "svc/cache.go:12"),
        ("Rename `doIt`", 3, "naming is the team's", "svc/run.go:3"),
    ]


def test_the_agents_own_findings_in_the_appendix_are_not_the_reports() -> None:
    appendix = """
## Appendix: Original Reviews

### Gemini 3.1 Pro

## Important Issues

I2. **Agent's own second finding** — `svc/other.go:7`
"""
    text = REPORT.replace("## Resolution", appendix.lstrip("\n") + "\n## Resolution")
    prior = read_prior(text)
    assert [f.title for f in prior.findings] == [
        "Lock held across the network call",
        "Cache never evicts",
        "Rename `doIt`",
    ]
    assert [d.title for d in prior.declined] == ["Cache never evicts", "Rename `doIt`"]


def test_a_json_report_reads_back_exactly() -> None:
    report = sample_report()
    prior = read_prior(render_json(report))
    assert prior.round == report.round and prior.head_sha == report.target.head_sha
    assert [f.fingerprint for f in prior.findings] == [f.fingerprint for f in report.findings]


def _run(*findings: Finding) -> AgentRun:
    return AgentRun(
        agent="codex",
        display_name="Codex",
        kind="ai",
        status="ok",
        review=AgentReview(findings=list(findings)),
    )


def test_a_reworded_reraise_near_the_declined_place_is_dropped_as_declined() -> None:
    declined = DeclinedFinding(
        fingerprint="0" * 16,
        title="Cache never evicts old entries",
        round=2,
        reason="bounded by design",
        location="svc/cache.go:12",
    )
    again = Finding(
        id="I1",
        severity="important",
        title="Entries are never evicted from the cache map",
        body="Memory grows without bound.",
        locations=[Location(path="svc/cache.go", start_line=18)],
    )
    elsewhere = again.model_copy(
        update={"locations": [Location(path="svc/other.go", start_line=18)]}
    )
    other_claim = again.model_copy(update={"title": "Cache key ignores the tenant"})
    out = consolidate(ConsolidationInput(runs=[_run(again)], declined=[declined]))
    assert out.findings == []
    assert out.dropped[0].kind == "declined"
    assert out.dropped[0].reason == "declined in round 2: bounded by design"
    for kept in (elsewhere, other_claim):
        result = consolidate(ConsolidationInput(runs=[_run(kept)], declined=[declined]))
        assert [f.title for f in result.findings] == [kept.title]
