"""Verdict by rule, its one-sentence reason, vendor-aware agreement and the summary."""

from __future__ import annotations

from typing import Any

from deepreview.consolidate import Consolidation, ConsolidationInput, consolidate
from deepreview.consolidate.consensus import family_of
from deepreview.diff import Diff, DiffLine, FileDiff, Hunk
from deepreview.schema import AgentReview, AgentRun, Finding, Location
from tests.memtree import MemTree


def finding(fid: str, severity: str, title: str, line: int = 1, path: str = "m.py") -> Finding:
    return Finding.model_validate(
        {
            "id": fid,
            "severity": severity,
            "title": title,
            "locations": [Location(path=path, start_line=line)],
        }
    )


#: The families the built-in agents of these names declare.
DECLARED = {"Claude": "Anthropic", "Codex": "OpenAI", "Gemini": "Google"}


def agent(name: str, *findings: Finding, model: str | None = None, **kw: Any) -> AgentRun:
    kw.setdefault("kind", "ai")
    kw.setdefault("family", DECLARED.get(name.split()[0]))
    kw.setdefault("status", "ok")
    review = AgentReview(findings=list(findings)) if kw["status"] == "ok" else None
    return AgentRun.model_validate(
        {
            "agent": name.split()[0].lower(),
            "display_name": name,
            "model": model,
            "review": review,
            **kw,
        }
    )


def run(
    *runs: AgentRun, families: dict[str, str] | None = None, diff: Diff | None = None
) -> Consolidation:
    return consolidate(ConsolidationInput(runs=runs, families=families or {}, diff=diff))


def test_no_findings_merge_as_is() -> None:
    out = run(agent("Claude Opus 4.6"))
    assert out.verdict.decision == "Merge as-is"
    assert out.verdict.reason == "No reviewer raised a finding."


def test_only_suggestions_merge_with_optional_fixes() -> None:
    out = run(agent("ruff", finding("S1", "suggestion", "Unused import `os`"), kind="analyzer"))
    assert out.verdict.decision == "Merge with optional fixes"
    assert out.verdict.reason == "Only suggestions: S1 “Unused import `os`” (raised by ruff)."


def test_important_findings_need_fixes_and_agreement_is_counted() -> None:
    leak = "Connection leaks when the handshake fails"
    out = run(
        agent("Claude Opus 4.6", finding("I1", "important", leak, 10)),
        agent("Codex GPT 5.4", finding("I2", "important", leak + ".", 10)),
        agent(
            "Gemini 3.1 Pro",
            finding("S1", "suggestion", leak, 11),
            finding("S2", "suggestion", "Typo in comment", 90),
        ),
    )
    assert out.verdict.decision == "Merge with fixes"
    assert out.verdict.reason == (
        "I1 “Connection leaks when the handshake fails” (all three agents agree) "
        "should be fixed before merging."
    )


def test_any_critical_means_rework_and_at_most_three_are_named() -> None:
    crit = [finding(f"C{i}", "critical", f"Critical problem number {i}", i * 50) for i in range(5)]
    out = run(agent("Claude Opus 4.6", *crit), agent("Codex GPT 5.4", *crit[:3]))
    assert out.verdict.decision == "Rework"
    assert out.verdict.reason.startswith("C1 “Critical problem number 0” (both agents agree), C2 ")
    assert out.verdict.reason.endswith(
        "C3 “Critical problem number 2” (both agents agree) must be fixed before merging."
    )
    # the two criticals only one vendor rated critical are important
    assert [f.id for f in out.findings] == ["C1", "C2", "C3", "I1", "I2"]
    assert out.verdict.reason.count(". ") == 0


def test_long_titles_are_shortened_in_the_reason() -> None:
    title = "A very long title " + "that keeps going " * 10
    out = run(agent("Claude Opus 4.6", finding("I1", "important", title)))
    assert len(out.verdict.reason) < 140
    assert "…" in out.verdict.reason


def test_models_of_one_vendor_count_as_one_opinion() -> None:
    same = "Token written to the debug log"
    out = run(
        agent("Claude Opus 4.6", finding("I1", "important", same), model="claude-opus-4-6"),
        agent("Claude Sonnet 4.5", finding("I1", "important", same), model="claude-sonnet-4-5"),
        agent("Codex GPT 5.4", finding("I1", "important", "Unrelated thing", 400), model="gpt-5.4"),
    )
    assert out.verdict.reason == (
        "I1 “Token written to the debug log” (two agents agree, one vendor) and "
        "I2 “Unrelated thing” (raised by Codex GPT 5.4) should be fixed before merging."
    )


def test_one_vendor_opinion_ranks_below_two_vendors() -> None:
    def pair(title: str, line: int) -> list[Finding]:
        return [finding("I1", "important", title, line)]

    out = run(
        agent("Claude Opus 4.6", *pair("Alpha defect in parser", 10), *pair("Beta defect", 500)),
        agent("Claude Sonnet 4.5", *pair("Alpha defect in parser", 10)),
        agent("Codex GPT 5.4", *pair("Beta defect", 500)),
    )
    assert [f.title for f in out.findings] == ["Beta defect", "Alpha defect in parser"]


def test_family_is_declared_or_configured_never_guessed() -> None:
    def fam(name: str, model: str | None = None, kind: str = "ai", **families: str) -> str:
        return family_of(agent(name, model=model, kind=kind), families)

    assert fam("Claude Opus 4.6") == "Anthropic"
    assert fam("Codex", model="o3") == "OpenAI"
    assert fam("Gemini 3.1 Pro") == "Google"
    assert fam("ruff", kind="analyzer") == "ruff"
    # an agent that declares no family (a local model) stands alone, whatever its model
    assert fam("Local GPT OSS", model="gpt-oss-20b") == "Local GPT OSS"
    assert fam("Local", model="qwen3-coder") == "Local"
    assert family_of(agent("Local", model="qwen3-coder"), {"qwen": "Alibaba"}) == "Alibaba"
    assert family_of(agent("X", model="gpt-oss-20b"), {"gpt-oss": "Local", "gpt": "OpenAI"}) == (
        "Local"
    )


def test_summary_has_scope_counts_decisive_findings_and_failures() -> None:
    lines = tuple(DiffLine("added", "x", None, n) for n in (1, 2))
    diff = Diff(files=(FileDiff("m.py", "m.py", "modified", (Hunk(1, 0, 1, 2, "", lines),)),))
    out = run(
        agent(
            "Claude Opus 4.6",
            finding("I1", "important", "Leak in handler"),
            finding("S1", "suggestion", "Rename variable", 200),
        ),
        agent("Gemini 3.1 Pro", status="failed", reason="429 capacity"),
        diff=diff,
    )
    paragraphs = out.summary.split("\n\n")
    assert paragraphs[0] == (
        "The change touches 1 file (+2 −0). Reviewed by Claude Opus 4.6. "
        "Gemini 3.1 Pro (429 capacity) was unable to review it."
    )
    assert len(paragraphs) == 2  # the counts line is the renderer's Structure line
    assert paragraphs[1] == "Decisive finding: I1 “Leak in handler” (raised by Claude Opus 4.6)."


def test_summary_says_what_the_change_does_in_an_ai_agents_words() -> None:
    scan = agent("scan", kind="builtin")
    claude = agent("Claude Opus 4.6").model_copy(
        update={
            "review": AgentReview(
                summary="Adds a retrying client. It wraps httpx. Third sentence is left out."
            )
        }
    )
    paragraphs = run(scan, claude).summary.split("\n\n")
    assert paragraphs[1] == "Claude Opus 4.6: “Adds a retrying client. It wraps httpx.”"


def test_merge_as_is_says_when_findings_were_dropped() -> None:
    gone = Finding(
        id="I1",
        severity="important",
        title="Problem in a file that does not exist",
        locations=[Location(path="missing.py", start_line=3)],
    )
    out = consolidate(ConsolidationInput(runs=[agent("Claude Opus 4.6", gone)], tree=MemTree({})))
    assert out.verdict.decision == "Merge as-is"
    assert out.verdict.reason == "No finding survived verification (1 dropped)."
