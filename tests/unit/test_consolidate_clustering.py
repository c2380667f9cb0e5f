"""Clustering: the same defect raised by several agents becomes one attributed finding."""

from __future__ import annotations

from typing import Any

from deepreview.consolidate import Consolidation, ConsolidationInput, consolidate
from deepreview.schema import AgentReview, AgentRun, Finding, Location


def finding(
    fid: str, title: str, path: str | None = None, line: int | None = None, **kw: Any
) -> Finding:
    locations = [Location(path=path, start_line=line, end_line=kw.pop("end", None))] if path else []
    kw.setdefault("severity", "important")
    return Finding(id=fid, title=title, locations=locations, **kw)


def agent(name: str, *findings: Finding, kind: str = "ai") -> AgentRun:
    return AgentRun.model_validate(
        {
            "agent": name.lower(),
            "display_name": name,
            "kind": kind,
            "status": "ok",
            "review": AgentReview(findings=list(findings)),
        }
    )


def run(*runs: AgentRun) -> Consolidation:
    return consolidate(ConsolidationInput(runs=runs))


def groups(out: Consolidation) -> list[list[str]]:
    return [[f"{s.agent}:{s.finding_id}" for s in f.sources] for f in out.findings]


def test_same_defect_at_overlapping_lines_merges_across_agents() -> None:
    out = run(
        agent(
            "Claude",
            finding("I1", "Timeout is not applied to the subprocess", "run.py", 40, end=44),
        ),
        agent("Codex", finding("I3", "Subprocess timeout ignored", "run.py", 42)),
    )
    assert groups(out) == [["Claude:I1", "Codex:I3"]]
    assert out.findings[0].agents == ["Claude", "Codex"]


def test_near_lines_need_some_textual_link() -> None:
    related = run(
        agent("Claude", finding("I1", "Retry loop never gives up", "net.py", 10)),
        agent("Codex", finding("S1", "Retry loop has no upper bound", "net.py", 14)),
    )
    assert len(related.findings) == 1
    unrelated = run(
        agent("Claude", finding("I1", "Retry loop never gives up", "net.py", 10)),
        agent("Codex", finding("S1", "Misleading log message wording", "net.py", 14)),
    )
    assert len(unrelated.findings) == 2


def test_shared_specific_words_link_findings_a_function_apart() -> None:
    body_a = "`stopInstance` reads the stale pid from the lease before `clearLease` runs."
    body_b = "The stale pid in the lease is used by `stopInstance`; `clearLease` comes later."
    filler = [
        finding(f"S{i}", f"Unrelated {w} remark", "other.go", i * 40, body=f"About {w} only.")
        for i, w in enumerate(("logging", "naming", "docs", "spacing"), 1)
    ]
    out = run(
        agent(
            "Claude",
            finding("I1", "PID recycling kills the wrong process", "ctl.go", 50, body=body_a),
            *filler,
        ),
        agent(
            "Codex",
            finding("I2", "Forced stop trusts an old process id", "ctl.go", 66, body=body_b),
        ),
    )
    assert ["Claude:I1", "Codex:I2"] in groups(out)


def test_a_shared_symbol_alone_does_not_link_different_defects() -> None:
    out = run(
        agent(
            "Claude",
            finding(
                "I1",
                "Lock is never released on error",
                "ctl.go",
                50,
                body="`stopInstance` returns early and keeps the mutex held.",
            ),
        ),
        agent(
            "Codex",
            finding(
                "S2",
                "Misleading log message wording",
                "ctl.go",
                55,
                body="`stopInstance` logs 'started' when it stops.",
            ),
        ),
    )
    assert len(out.findings) == 2


def test_a_bare_file_name_and_its_full_path_are_one_file() -> None:
    title = "Nil map write in `applySpec`"
    out = run(
        agent("Claude", finding("I1", title, "app_controller.go", 44)),
        agent("Codex", finding("I3", title, "pkg/app/app_controller.go", 45)),
    )
    assert groups(out) == [["Claude:I1", "Codex:I3"]]


def test_far_apart_different_defects_in_one_file_stay_apart() -> None:
    out = run(
        agent("Claude", finding("I1", "SQL injection in user lookup", "db.py", 10)),
        agent("Codex", finding("I1", "Connection leak on error path", "db.py", 200)),
    )
    assert len(out.findings) == 2


def test_strongly_similar_titles_in_one_file_merge_even_without_lines() -> None:
    out = run(
        agent("Claude", finding("I1", "Tests do not cover the timeout path", "test_run.py")),
        agent("Gemini", finding("S2", "No test covers timeout handling", "test_run.py", 300)),
    )
    assert len(out.findings) == 1


def test_same_excerpt_merges_even_across_cited_files() -> None:
    excerpt = "token = request.headers['Authorization']"
    out = run(
        agent("Claude", finding("I1", "Token logged", "api.py", 9, excerpt=excerpt)),
        agent(
            "Codex",
            finding(
                "I4", "Credential logged in plain text", "handlers/api.py", 12, excerpt=excerpt
            ),
        ),
    )
    assert len(out.findings) == 1


def test_across_files_only_a_rare_shared_symbol_and_similar_title_merge() -> None:
    body = "`parse_header` trusts the length field"
    same = run(
        agent(
            "Claude", finding("I1", "parse_header trusts untrusted length", "a.py", 5, body=body)
        ),
        agent(
            "Codex",
            finding("I2", "parse_header trusts the untrusted length", "b.py", 80, body=body),
        ),
    )
    assert len(same.findings) == 1
    different = run(
        agent("Claude", finding("I1", "parse_header trusts untrusted length", "a.py", 5)),
        agent("Codex", finding("I2", "parse_header trusts the untrusted length", "b.py", 80)),
    )
    assert len(different.findings) == 2


def test_two_findings_of_one_agent_never_collapse_unless_near_duplicates() -> None:
    out = run(
        agent(
            "Claude",
            finding("I1", "Race between refresh and read", "cache.py", 30),
            finding("I2", "Unbounded cache growth", "cache.py", 31),
        ),
        agent("Codex", finding("I1", "Race between cache refresh and read", "cache.py", 30)),
    )
    assert groups(out) == [["Claude:I1", "Codex:I1"], ["Claude:I2"]]
    dup = run(
        agent(
            "Claude",
            finding("I1", "Race between refresh and read", "cache.py", 30),
            finding("I5", "Race between refresh and read", "cache.py", 31),
        )
    )
    assert groups(dup) == [["Claude:I1", "Claude:I5"]]
    assert dup.findings[0].agents == ["Claude"]


def test_the_better_match_wins_when_one_agent_has_two_candidates() -> None:
    out = run(
        agent(
            "Claude",
            finding("I1", "Missing lock around counter update", "c.py", 20),
            finding("I2", "Counter overflow after many requests", "c.py", 21),
        ),
        agent("Codex", finding("I1", "Counter overflows after many requests", "c.py", 21)),
    )
    assert sorted(groups(out)) == [["Claude:I1"], ["Claude:I2", "Codex:I1"]]


def test_analyzer_hits_with_same_rule_and_line_are_duplicates() -> None:
    ruff = agent(
        "ruff",
        finding("S1", "subprocess call with shell=True", "x.py", 7, rule="S602"),
        kind="analyzer",
    )
    scan = agent(
        "scan",
        finding("S1", "Shell command built from input", "x.py", 7, rule="S602"),
        kind="builtin",
    )
    other = agent(
        "bandit", finding("S1", "Use of assert detected", "x.py", 7, rule="B101"), kind="analyzer"
    )
    out = run(ruff, scan, other)
    assert sorted(groups(out)) == [["bandit:S1"], ["ruff:S1", "scan:S1"]]


def test_large_files_still_merge_neighbours() -> None:
    many = [
        finding(f"S{i}", f"Issue number {i} with `sym{i}`", "big.py", i * 20) for i in range(1, 120)
    ]
    other = agent("Codex", finding("I1", "Issue number 77 with `sym77`", "big.py", 1541))
    out = run(agent("Claude", *many), other)
    assert len(out.findings) == 119
    merged = [f for f in out.findings if len(f.agents) == 2]
    assert [s.finding_id for s in merged[0].sources] == ["S77", "I1"]


def test_locations_of_merged_members_are_combined_without_repeats() -> None:
    body = "`load_config` swallows errors"
    out = run(
        agent(
            "Claude",
            finding(
                "I1",
                "load_config swallows parse errors",
                "cfg.py",
                10,
                body=body,
                excerpt="except Exception:\n    pass",
                fix="re-raise",
            ),
        ),
        agent(
            "Codex",
            finding("I2", "load_config swallows parse errors silently", "cfg.py", 11, body=body),
        ),
        agent("Gemini", finding("S1", "load_config swallows errors", "main.py", 3, body=body)),
    )
    [f] = out.findings
    assert [loc.label() for loc in f.locations] == ["cfg.py:10", "main.py:3"]
    assert f.fix == "re-raise"


def test_overlapping_lines_without_a_shared_claim_stay_apart() -> None:
    code = "for k, v := range cache { delete(cache, k) }"
    out = run(
        agent(
            "Claude",
            finding("I1", "Deleting while ranging skips entries", "app.go", 40, excerpt=code),
        ),
        agent(
            "Codex",
            finding("I1", "Unbounded growth of `cache` under load", "app.go", 40, excerpt=code),
        ),
    )
    assert groups(out) == [["Claude:I1"], ["Codex:I1"]]


def test_a_style_nit_never_merges_into_a_behaviour_claim() -> None:
    out = run(
        agent(
            "Claude", finding("S1", "Typo in the retry loop comment", "db.py", 12, category="style")
        ),
        agent("Codex", finding("I1", "Retry loop never backs off", "db.py", 12)),
    )
    assert sorted(groups(out)) == [["Claude:S1"], ["Codex:I1"]]


def test_a_request_for_tests_never_merges_into_a_behaviour_claim() -> None:
    body = "The label validation in ValidateUpdate reads the old object's labels."
    out = run(
        agent(
            "Claude",
            finding(
                "I1",
                "Missing integration test for label validation",
                "hook.go",
                271,
                end=278,
                body=body,
            ),
        ),
        agent(
            "Gemini",
            finding(
                "I1", "Label validation reads the old object", "hook.go", 274, end=278, body=body
            ),
        ),
        agent(
            "Codex",
            finding("S2", "Update tests lack label assertions", "hook.go", 275),
        ),
    )
    assert sorted(groups(out)) == [["Claude:I1", "Codex:S2"], ["Gemini:I1"]]


def test_words_any_review_uses_are_not_a_shared_claim() -> None:
    out = run(
        agent(
            "Claude",
            finding(
                "S1",
                "Parsing duplicated",
                "app.go",
                43,
                end=75,
                body="Both only, even before, instead.",
            ),
        ),
        agent(
            "Gemini",
            finding(
                "C1",
                "Nil map panics",
                "app.go",
                48,
                end=55,
                body="Both only, even before, instead.",
            ),
        ),
    )
    assert sorted(groups(out)) == [["Claude:S1"], ["Gemini:C1"]]


def test_one_bridging_finding_does_not_chain_two_defects() -> None:
    out = run(
        agent("Claude", finding("I1", "Cache entries never expire", "cache.go", 10)),
        agent(
            "Codex",
            finding(
                "I2",
                "Cache entries never expire, and the eviction lock is held across I/O",
                "cache.go",
                10,
                end=14,
            ),
        ),
        agent("Gemini", finding("I3", "Eviction lock held across I/O", "cache.go", 14)),
    )
    [pair] = [g for g in groups(out) if len(g) > 1]
    assert "Codex:I2" in pair and len(out.findings) == 2
