"""Retro metrics, reconciliation, and the merged observations and assessments."""

from __future__ import annotations

from typing import Any

import pytest

from deepreview.consolidate import Consolidation, ConsolidationInput, consolidate
from deepreview.consolidate.retro import judgement
from deepreview.diff import Diff, FileDiff
from deepreview.schema import (
    AgentReview,
    AgentRun,
    CoverageEntry,
    DesignConcern,
    Finding,
    Limitation,
    Location,
    Strength,
)
from deepreview.scope import Scope
from tests.memtree import MemTree

FILES = {"svc.py": "\n".join(f"line {n}" for n in range(1, 101)), "util.py": "x = 1\ny = 2"}


def finding(fid: str, severity: str, title: str, path: str, line: int, **kw: Any) -> Finding:
    return Finding.model_validate(
        {
            "id": fid,
            "severity": severity,
            "title": title,
            "locations": [Location(path=path, start_line=line)],
            **kw,
        }
    )


def agent(name: str, review: AgentReview | None = None, **kw: Any) -> AgentRun:
    kw.setdefault("kind", "ai")
    kw.setdefault("status", "ok")
    kw.setdefault("duration_s", 100.0)
    return AgentRun.model_validate(
        {"agent": name.split()[0].lower(), "display_name": name, "review": review, **kw}
    )


@pytest.fixture(scope="module")
def out() -> Consolidation:
    claude = AgentReview(
        findings=[
            finding("I1", "important", "Lock not released on error", "svc.py", 10),
            finding("S1", "suggestion", "Helper name misleading", "util.py", 1),
            finding("S2", "suggestion", "Ghost file issue", "ghost.py", 4),
        ],
        concerns=[DesignConcern(title="Global state makes testing hard", body="short")],
        strengths=[Strength(title="Clear error messages")],
        testing="Unit tests cover the happy path.",
        limitations=[
            Limitation(
                location=Location(path="./svc.py", start_line=3),
                quote="# TODO: retry",
                judgement="fine for now",
            )
        ],
        coverage=[CoverageEntry(path="svc.py"), CoverageEntry(path="util.py")],
    )
    codex = AgentReview(
        findings=[
            finding(
                "C1",
                "critical",
                "Lock is never released on the error path",
                "svc.py",
                11,
                body="Unreachable in practice because errors are caught above.",
            ),
            finding("I2", "important", "Timeout ignored in retry loop", "svc.py", 70),
        ],
        concerns=[
            DesignConcern(
                title="Global state makes the service hard to test",
                body="A much longer explanation of the concern.",
                scope="future",
            )
        ],
        strengths=[Strength(title="Clear error messages"), Strength(title="Small commits")],
        testing="  ",
        documentation="README lacks the new flag.",
        limitations=[
            Limitation(location=Location(path="svc.py", start_line=3), quote="#  TODO:  retry")
        ],
    )
    runs = [
        agent(
            "Claude Opus 4.6",
            claude,
            tool_calls={"Read": 20, "Bash": 24, "Grep": 2},
            files_read=["/tmp/wt/svc.py", "util.py", "README.md", "svc.py"],
        ),
        agent("Codex GPT 5.4", codex, duration_s=331.0),
        agent("Gemini 3.1 Pro", status="failed", reason="429 capacity", duration_s=3.0),
    ]
    diff = Diff(
        files=(FileDiff("svc.py", "svc.py", "modified"), FileDiff("util.py", "util.py", "modified"))
    )
    return consolidate(
        ConsolidationInput(
            runs=runs, tree=MemTree(FILES), diff=diff, counted_scopes=frozenset(Scope)
        )
    )


def test_findings_and_reconciliation(out: Consolidation) -> None:
    assert [(f.id, f.agents) for f in out.findings] == [
        ("I1", ["Claude Opus 4.6", "Codex GPT 5.4"]),
        ("I2", ["Codex GPT 5.4"]),
        ("S1", ["Claude Opus 4.6"]),
    ]
    assert [
        (e.agent, e.finding_id, e.consolidated_id, e.to_severity) for e in out.reconciliation
    ] == [
        ("Claude Opus 4.6", "I1", "I1", "important"),
        ("Claude Opus 4.6", "S1", "S1", "suggestion"),
        ("Claude Opus 4.6", "S2", None, None),
        ("Codex GPT 5.4", "C1", "I1", "important"),
        ("Codex GPT 5.4", "I2", "I2", "important"),
    ]
    assert out.reconciliation[3].note == (
        "merged with Claude Opus 4.6 I1; only Codex GPT 5.4 rated it critical; "
        "Claude Opus 4.6 I1 supports important"
    )


def test_retro_columns(out: Consolidation) -> None:
    claude, codex, gemini = out.retro
    assert claude.model_dump(exclude={"narrative"}) == {
        "agent": "Claude Opus 4.6",
        "duration_s": 100.0,
        "critical": 0,
        "important": 1,
        "suggestion": 2,
        "tool_calls": {"Bash": 24, "Read": 20, "Grep": 2},
        "design_observations": 2,
        "false_positives": 1,
        "unique_insights": 1,
        "files_reviewed": 2,
        "coverage_misses": 1,
        "downgraded": {},
        "dropped": 1,
    }
    assert list(claude.tool_calls) == ["Bash", "Read", "Grep"]
    assert (codex.critical, codex.important, codex.suggestion) == (1, 1, 0)
    assert (codex.unique_insights, codex.coverage_misses, codex.false_positives) == (1, 1, 0)
    assert codex.downgraded == {"C→I": 1}
    assert codex.design_observations == 3
    assert codex.files_reviewed is None
    assert gemini.duration_s is None
    assert (gemini.critical, gemini.coverage_misses, gemini.files_reviewed) == (0, 0, None)


def test_files_reviewed_falls_back_to_coverage() -> None:
    review = AgentReview(
        coverage=[
            CoverageEntry(path="svc.py"),
            CoverageEntry(path="util.py", reviewed=False),
            CoverageEntry(path="other.py"),
        ]
    )
    diff = Diff(files=(FileDiff("svc.py", "svc.py", "modified"),))
    out = consolidate(
        ConsolidationInput(
            runs=[agent("Claude", review)], diff=diff, counted_scopes=frozenset(Scope)
        )
    )
    assert out.retro[0].files_reviewed == 1
    out = consolidate(ConsolidationInput(runs=[agent("Claude", review)]))
    assert out.retro[0].files_reviewed == 2


def test_narratives_come_from_the_data(out: Consolidation) -> None:
    claude, codex, gemini = out.retro
    assert claude.narrative == (
        "Claude Opus 4.6 earned its place: one finding in the report came from it alone. "
        "It reported 3 findings (1I 2S); 2 made the report. "
        "Only it raised S1 Helper name misleading. "
        "1 rejected on verification (S2: cited file `ghost.py` does not exist at head (or is "
        "binary)). It missed I2, raised by others. It looked at 2 of 2 changed files."
    )
    assert "Severity lowered: 1 C→I" in codex.narrative
    assert "Every claim held up against the code" in codex.narrative
    assert codex.narrative.startswith("Codex GPT 5.4 ")
    assert gemini.narrative == (
        "Gemini 3.1 Pro did not complete (429 capacity); nothing it found is in this report."
    )


def test_concerns_and_strengths_merge_with_attribution(out: Consolidation) -> None:
    [concern] = out.concerns
    assert concern.agents == ["Claude Opus 4.6", "Codex GPT 5.4"]
    assert concern.body == "A much longer explanation of the concern."
    assert [(s.title, s.agents) for s in out.strengths] == [
        ("Clear error messages", ["Claude Opus 4.6", "Codex GPT 5.4"]),
        ("Small commits", ["Codex GPT 5.4"]),
    ]


def test_assessments_are_attributed_per_agent(out: Consolidation) -> None:
    assert [(t.agent, t.text) for t in out.testing] == [
        ("Claude Opus 4.6", "Unit tests cover the happy path.")
    ]
    assert [t.agent for t in out.documentation] == ["Codex GPT 5.4"]
    assert out.commit_structure == []


def test_limitations_dedupe_by_location_and_quote(out: Consolidation) -> None:
    [lim] = out.limitations
    assert lim.location == Location(path="svc.py", start_line=3)
    assert lim.agents == ["Claude Opus 4.6", "Codex GPT 5.4"]
    assert lim.judgement == "fine for now"


def test_summary_names_failed_agents_and_drops(out: Consolidation) -> None:
    assert "Gemini 3.1 Pro (429 capacity) was unable to review it." in out.summary
    assert [f.severity for f in out.findings] == ["important", "important", "suggestion"]
    assert "Dropped: 1 claim failed verification." in out.summary


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        ((0, 0, 0, 0), "found nothing to report here"),
        ((5, 1, 1, 4), "was more noise than signal here"),
        ((3, 2, 2, 1), "earned its place: two findings in the report came from it alone"),
        ((3, 3, 0, 0), "added nothing of its own"),
    ],
)
def test_judgement_from_the_figures(figures: tuple[int, int, int, int], expected: str) -> None:
    assert judgement(*figures).startswith(expected)


def test_cost_per_kept_finding_in_the_narrative() -> None:
    review = AgentReview(
        findings=[
            Finding(id="I1", severity="important", title="Off by one", locations=[]),
            Finding(id="S1", severity="suggestion", title="Rename x", locations=[]),
        ]
    )
    run = agent("Claude Opus 4.6", review, cost_usd=0.84)
    (row,) = consolidate(ConsolidationInput(runs=[run])).retro
    assert "It cost $0.84, $0.42 per finding kept." in row.narrative


def test_a_deterministic_check_is_not_charged_with_what_others_found() -> None:
    lint = AgentReview(findings=[finding("S1", "suggestion", "F401: unused import", "util.py", 1)])
    ai = AgentReview(findings=[finding("I1", "important", "Lock never released", "svc.py", 10)])
    runs = [agent("ruff 0.9", lint, kind="analyzer"), agent("Claude Opus 4.6", ai)]
    out = consolidate(ConsolidationInput(runs=runs, tree=MemTree(FILES)))
    misses = {row.agent: row.coverage_misses for row in out.retro}
    assert misses == {"ruff 0.9": 0, "Claude Opus 4.6": 1}
