"""Severity on the evidence, consolidated ids and order, fingerprints and declined findings."""

from __future__ import annotations

from typing import Any

from deepreview.consolidate import Consolidation, ConsolidationInput, consolidate, fingerprint
from deepreview.schema import AgentReview, AgentRun, DeclinedFinding, Finding, Location


def finding(
    fid: str, severity: str, title: str, path: str | None = None, line: int | None = None, **kw: Any
) -> Finding:
    locations = [Location(path=path, start_line=line)] if path else []
    return Finding.model_validate(
        {"id": fid, "severity": severity, "title": title, "locations": locations, **kw}
    )


#: The families the built-in agents of these names declare.
DECLARED = {"Claude": "Anthropic", "Codex": "OpenAI", "Gemini": "Google"}


def agent(name: str, *findings: Finding, kind: str = "ai") -> AgentRun:
    review = AgentReview(findings=list(findings))
    return AgentRun.model_validate(
        {
            "agent": name.lower(),
            "display_name": name,
            "family": DECLARED.get(name.split()[0]),
            "kind": kind,
            "status": "ok",
            "review": review,
        }
    )


def run(*runs: AgentRun, declined: tuple[DeclinedFinding, ...] = ()) -> Consolidation:
    return consolidate(ConsolidationInput(runs=runs, declined=declined))


def test_two_vendors_disagreeing_take_the_level_both_support() -> None:
    out = run(
        agent("Claude", finding("S1", "suggestion", "Unchecked error from `Close`", "f.go", 10)),
        agent("Codex", finding("I2", "important", "Error from `Close` is ignored", "f.go", 10)),
    )
    [f] = out.findings
    assert (f.id, f.severity) == ("S1", "suggestion")
    [change] = f.severity_changes
    assert (change.agent, change.from_severity, change.to_severity) == (
        "Codex",
        "important",
        "suggestion",
    )
    assert change.reason == "only Codex rated it important; Claude S1 supports suggestion"
    assert out.retro[1].downgraded == {"I→S": 1}


def test_three_vendors_take_the_second_most_severe_opinion() -> None:
    title = "Deadlock when the watcher stops"
    out = run(
        agent("Claude", finding("I1", "important", title, "w.go", 5)),
        agent("Codex", finding("C1", "critical", title, "w.go", 5)),
        agent("Gemini", finding("S1", "suggestion", title, "w.go", 5)),
    )
    [f] = out.findings
    assert f.severity == "important"
    assert {(c.agent, c.to_severity) for c in f.severity_changes} == {
        ("Codex", "important"),
        ("Gemini", "important"),
    }


def test_two_models_of_one_vendor_are_one_opinion() -> None:
    title = "Token written to the log"
    out = run(
        agent("Claude Opus", finding("C1", "critical", title, "a.py", 3)),
        agent("Claude Sonnet", finding("C1", "critical", title, "a.py", 3)),
        agent("Codex", finding("I1", "important", title, "a.py", 3)),
    )
    assert out.findings[0].severity == "important"
    # configured families can make them two vendors
    split = consolidate(
        ConsolidationInput(
            runs=[
                agent("Claude Opus", finding("C1", "critical", title, "a.py", 3)),
                agent("Claude Sonnet", finding("C1", "critical", title, "a.py", 3)),
                agent("Codex", finding("I1", "important", title, "a.py", 3)),
            ],
            families={"claude opus": "Opus", "claude sonnet": "Sonnet"},
        )
    )
    assert split.findings[0].severity == "critical"


def test_a_critical_needs_a_second_vendor_when_several_reviewed() -> None:
    out = run(
        agent("Claude", finding("C1", "critical", "Deletes user data", "m.py", 2)),
        agent("Codex", finding("S1", "suggestion", "Rename helper", "b.py", 1)),
    )
    crit = next(f for f in out.findings if f.title == "Deletes user data")
    assert crit.severity == "important"
    assert crit.severity_changes[0].reason == (
        "only Claude rated it critical; a critical needs a second vendor"
    )
    alone = run(agent("Claude", finding("C1", "critical", "Deletes user data", "m.py", 2)))
    assert alone.findings[0].severity == "critical"


def test_an_analyzer_critical_stands_on_its_own() -> None:
    hit = finding("C1", "critical", "Hard-coded password", "cfg.py", 3, rule="S105")
    out = run(
        agent("bandit", hit, kind="analyzer"),
        agent("Claude", finding("S1", "suggestion", "Rename helper", "b.py", 1)),
    )
    assert out.findings[0].severity == "critical"


def test_own_hedge_lowers_one_step_and_counts_as_downgrade() -> None:
    body = "In practice this is theoretical: the input is validated upstream."
    out = run(agent("Codex", finding("C1", "critical", "Path traversal", "srv.py", 4, body=body)))
    [f] = out.findings
    assert f.severity == "important"
    assert f.severity_changes[0].reason == "its supporting agents call it theoretical"
    assert out.retro[0].downgraded == {"C→I": 1}
    entry = out.reconciliation[0]
    assert (entry.from_severity, entry.to_severity, entry.consolidated_id) == (
        "critical",
        "important",
        "I1",
    )


def test_hedge_counts_only_when_every_supporter_hedges() -> None:
    out = run(
        agent(
            "Claude",
            finding("C1", "critical", "Race on `state`", "s.py", 3, body="Only cosmetic impact."),
        ),
        agent("Codex", finding("C2", "critical", "Data race on `state`", "s.py", 3)),
    )
    assert out.findings[0].severity == "critical"
    assert out.findings[0].severity_changes == []


def test_unreachable_code_as_the_defect_is_not_a_hedge() -> None:
    body = "The branch is unreachable, so the validation never runs."
    out = run(agent("Codex", finding("I1", "important", "Dead check", "v.py", 8, body=body)))
    assert out.findings[0].severity == "important"


def test_negated_hedge_does_not_lower() -> None:
    body = "This is not theoretical: the crash reproduces on every run."
    out = run(
        agent("Codex", finding("I1", "important", "Crash on empty input", "p.py", 2, body=body))
    )
    assert out.findings[0].severity == "important"


def test_suggestion_is_the_floor() -> None:
    out = run(agent("Codex", finding("S1", "suggestion", "Cosmetic naming nit", "p.py", 2)))
    assert out.findings[0].severity == "suggestion"
    assert out.findings[0].severity_changes == []


def test_ids_follow_severity_then_agreement_then_location() -> None:
    out = run(
        agent(
            "Claude",
            finding("S1", "suggestion", "Rename helper", "b.py", 1),
            finding("I1", "important", "Leaks file handle", "z.py", 5),
            finding("I2", "important", "Wrong default timeout", "a.py", 9),
            finding("I3", "important", "General design worry"),
            finding("C1", "critical", "Deletes user data", "m.py", 2),
        ),
        agent(
            "Codex",
            finding("I9", "important", "File handle leak", "z.py", 5),
            finding("C4", "critical", "Deletes user data", "m.py", 2),
        ),
    )
    assert [(f.id, f.title) for f in out.findings] == [
        ("C1", "Deletes user data"),
        ("I1", "Leaks file handle"),
        ("I2", "Wrong default timeout"),
        ("I3", "General design worry"),
        ("S1", "Rename helper"),
    ]


def test_text_comes_from_the_most_complete_member() -> None:
    out = run(
        agent("Claude", finding("I1", "important", "Leak", "z.py", 5, body="short")),
        agent(
            "Codex",
            finding(
                "I2",
                "important",
                "File handle leak in `load`",
                "z.py",
                5,
                body="`load` opens without closing",
                excerpt="f = open(p)",
                excerpt_lang="python",
                fix="use with",
            ),
        ),
    )
    f = out.findings[0]
    assert (f.title, f.excerpt, f.excerpt_lang, f.fix) == (
        "File handle leak in `load`",
        "f = open(p)",
        "python",
        "use with",
    )
    assert f.agents == ["Claude", "Codex"]


def test_fingerprint_is_stable_across_small_rewordings_and_line_moves() -> None:
    base = fingerprint("src/app.py", "Missing timeout on `requests.get` calls", "gap")
    assert fingerprint("./src/app.py", "missing timeout on requests.get call.", "GAP") == base
    assert fingerprint("src/app.py", "Timeout missing on the requests.get calls", "gap") == base
    assert fingerprint("src/other.py", "Missing timeout on requests.get calls", "gap") != base
    assert fingerprint("src/app.py", "Missing retry on requests.get calls", "gap") != base
    assert fingerprint("src/app.py", "Missing timeout on requests.get calls", "regression") != base
    assert len(base) == 16 and int(base, 16) >= 0
    assert fingerprint(None, "x", "gap") == fingerprint("", "x", "gap")


def test_declined_findings_are_dropped_with_their_round() -> None:
    title = "Use a dataclass for options"
    declined = DeclinedFinding(
        fingerprint=fingerprint("opts.py", title, "style"), title=title, round=2, reason="by design"
    )
    out = run(
        agent("Claude", finding("S1", "suggestion", title, "opts.py", 40, category="style")),
        agent(
            "Codex",
            finding(
                "S4",
                "suggestion",
                "Options should use a dataclass",
                "opts.py",
                41,
                category="style",
            ),
        ),
        declined=(declined,),
    )
    assert out.findings == []
    assert [(d.agent, d.kind, d.reason) for d in out.dropped] == [
        ("Claude", "declined", "declined in round 2: by design"),
        ("Codex", "declined", "declined in round 2: by design"),
    ]
    assert out.verdict.decision == "Merge as-is"
    assert [r.dropped for r in out.retro] == [1, 1]
    assert [r.false_positives for r in out.retro] == [0, 0]


def test_a_lone_vendors_hedged_important_is_a_suggestion_and_recorded() -> None:
    body = "A latent ordering issue: nothing calls this twice today, a comment-only fix is enough."
    out = run(
        agent("Claude", finding("I1", "important", "Init order is fragile", "a.go", 3, body=body)),
        agent("Codex", finding("S1", "suggestion", "Rename `x`", "b.go", 9)),
    )
    fragile = next(f for f in out.findings if f.title == "Init order is fragile")
    assert fragile.severity == "suggestion"
    [change] = fragile.severity_changes
    assert change.reason == "an important from one vendor only, and its own text calls it latent"
    entry = next(e for e in out.reconciliation if e.finding_id == "I1")
    assert entry.to_severity == "suggestion" and "calls it latent" in entry.note
    assert out.retro[0].downgraded == {"I→S": 1}


def test_a_hedge_does_not_lower_an_important_two_vendors_raise_or_an_unhedged_one() -> None:
    body = "Latent today, but the retry path reaches it."
    shared = run(
        agent(
            "Claude", finding("I1", "important", "Retry reuses a closed body", "r.go", 7, body=body)
        ),
        agent("Codex", finding("I1", "important", "Closed body reused on retry", "r.go", 7)),
    )
    assert [f.severity for f in shared.findings] == ["important"]
    plain = run(
        agent("Claude", finding("I1", "important", "Retry reuses a closed body", "r.go", 7))
    )
    assert [f.severity for f in plain.findings] == ["important"]
