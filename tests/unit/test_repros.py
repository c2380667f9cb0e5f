"""Repros of agents' claims: the answer schema and parsers that read them, the labels their runs
earn, and what a label does to the claim's severity and the report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.parse import parse_review
from deepreview.prompt import review_json_schema
from deepreview.schema import (
    AgentReview,
    AgentRun,
    Finding,
    Location,
    Repro,
    Reproduction,
    ReproLabel,
    ReproStep,
    Verification,
)
from deepreview.verify.repro import default_command, label_of, repro_problem
from tests.repro_case import ANSWER, CLAMP_FIX, SCALE_TEST

# --------------------------------------------------------------------------- labels


def step(where: str, outcome: str, note: str = "") -> ReproStep:
    return ReproStep.model_validate({"where": where, "outcome": outcome, "note": note})


@pytest.mark.parametrize(
    ("head", "base", "fix", "label"),
    [
        ("passed", "failed", None, "not reproduced"),
        ("passed", "passed", "passed", "not reproduced"),
        ("failed", "passed", None, "reproduced"),
        ("failed", "passed", "failed", "reproduced"),
        ("failed", "passed", "passed", "fix verified"),
        ("failed", "failed", "passed", "fix verified"),  # new code: no base to pass at
        ("failed", "failed", None, "inconclusive"),
        ("failed", "not run", "not run", "inconclusive"),
        ("timeout", "passed", "passed", "inconclusive"),
        ("not run", None, None, "inconclusive"),
    ],
)
def test_labels_follow_the_rules(
    head: str, base: str | None, fix: str | None, label: ReproLabel
) -> None:
    got, reason = label_of(
        step("head", head),
        step("base", base) if base else None,
        step("fix", fix) if fix else None,
    )
    assert got == label
    assert reason and reason[0].islower() and not reason.endswith(".")


def test_a_repro_that_did_not_run_says_why() -> None:
    label, reason = label_of(step("head", "not run", "no command to run x.rb"), None, None)
    assert (label, reason) == (
        "inconclusive",
        "the repro did not finish at the head (no command to run x.rb)",
    )


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("tests/test_x.py", "python -m pytest -q -p no:cacheprovider tests/test_x.py"),
        ("pkg/x_test.go", "go test ./pkg"),
        ("check.sh", "bash check.sh"),
        ("t.mjs", "node t.mjs"),
        ("spec/x_spec.rb", None),
    ],
)
def test_a_test_file_without_a_command_runs_by_its_name(path: str, command: str | None) -> None:
    assert default_command(path) == command


@pytest.mark.parametrize(
    ("repro", "problem"),
    [
        (Repro(content="exit 1\n"), None),
        (Repro(kind="test", path="tests/t.py", content="x\n"), None),
        (Repro(kind="test", path="/etc/t.py", content="x\n"), "not inside the repository"),
        (Repro(kind="test", path="a/../../t.py", content="x\n"), "not inside the repository"),
        (Repro(kind="test", path=".git/hooks/t.py", content="x\n"), "not inside the repository"),
        (Repro(kind="test", path="t.rb", content="x\n"), "no command to run t.rb"),
        (Repro(kind="test", path="t.rb", content="x\n", command="ruby t.rb"), None),
        (Repro(content="x" * 100_001), "larger than"),
    ],
)
def test_repros_that_cannot_run_are_refused(repro: Repro, problem: str | None) -> None:
    found = repro_problem(repro)
    assert (found is None) if problem is None else (found is not None and problem in found)


# --------------------------------------------------------------------------- schema and parsers


def test_the_strict_schema_asks_for_every_repro_field_nullable() -> None:
    items = review_json_schema(strict=True)["properties"]["findings"]["items"]
    assert "repro" in items["required"]
    repro = items["properties"]["repro"]
    obj = next(v for v in repro["anyOf"] if v.get("type") == "object")
    assert {"type": "null"} in repro["anyOf"]
    assert obj["required"] == ["kind", "path", "content", "command", "fix_patch"]
    assert obj["additionalProperties"] is False
    assert obj["properties"]["fix_patch"]["type"] == ["string", "null"]
    loose = review_json_schema()["properties"]["findings"]["items"]
    assert "repro" not in loose.get("required", [])


def test_an_answer_without_repros_stays_valid() -> None:
    old = {"findings": [{"id": "I1", "severity": "important", "title": "t"}]}
    assert AgentReview.model_validate(old).findings[0].repro is None
    review = parse_review(json.dumps(old))
    assert review.findings[0].repro is None and review.parse_notes == []


def test_the_structured_answer_s_repros_are_read() -> None:
    review = parse_review(ANSWER)
    repros = {f.id: f.repro for f in review.findings}
    assert repros["C1"] == Repro(
        content='python -c "from calc import clamp; assert clamp(11, 0, 10) == 10"\n',
        fix_patch=CLAMP_FIX,
    )
    assert repros["I1"] == Repro(
        kind="test",
        path="tests/test_repro_scale.py",
        content=SCALE_TEST,
        command="python -m pytest -q tests/test_repro_scale.py",
    )
    assert review.parse_notes == []


def _one(repro: Any) -> tuple[Repro | None, list[str]]:
    answer = {"findings": [{"id": "I1", "severity": "important", "title": "t", "repro": repro}]}
    review = parse_review(json.dumps(answer))
    return review.findings[0].repro, review.parse_notes


def test_repro_drifts_are_read_and_bad_ones_dropped_with_a_note() -> None:
    assert _one("exit 1") == (Repro(content="exit 1\n"), [])
    got, _ = _one({"file": "t_test.go", "code": "package x\n", "cmd": "go test ."})
    assert got == Repro(kind="test", path="t_test.go", content="package x\n", command="go test .")
    got, _ = _one({"script": "false\n", "patch": "--- a/x\n"})
    assert got == Repro(content="false\n", fix_patch="--- a/x\n")
    assert _one({"content": "  "}) == (None, ["finding 'I1': repro has no content; dropped"])
    assert _one({"kind": "test", "content": "x"}) == (
        None,
        ["finding 'I1': test repro has no path; dropped"],
    )
    assert _one(["x"]) == (None, ["finding 'I1': repro is not an object; dropped"])
    assert _one(None) == (None, [])


MARKDOWN = """## Important Issues

**I1. `scale` drops the first value** — `calc.py:10`

The slice skips the first element.

Save as `tests/test_repro_scale.py`; run with `python -m pytest -q tests/test_repro_scale.py`:

```python repro
{test}```

```text repro-output
1 failed
```

Fix:

```diff patch
{fix}```

**I2. `clamp` is off by one** — `calc.py:5`

```bash repro
python -c "from calc import clamp; assert clamp(11, 0, 10) == 10"
```
"""


def test_a_markdown_review_s_repro_fences_are_read() -> None:
    review = parse_review(MARKDOWN.format(test=SCALE_TEST, fix=CLAMP_FIX))
    scale, clamp = review.findings
    assert scale.repro == Repro(
        kind="test",
        path="tests/test_repro_scale.py",
        content=SCALE_TEST,
        command="python -m pytest -q tests/test_repro_scale.py",
        fix_patch=CLAMP_FIX,
    )
    assert scale.excerpt is None  # the repro is not the cited code
    assert "1 failed" not in scale.body  # the agent's own output is not evidence
    assert scale.fix is not None and "return hi" in scale.fix
    assert clamp.repro is not None and clamp.repro.kind == "script"
    assert "assert clamp(11, 0, 10)" in clamp.repro.content


# --------------------------------------------------------------------------- consolidation

CLAUDE = "Claude"


def _claude(*findings: Finding) -> AgentRun:
    return AgentRun(
        agent="claude",
        display_name=CLAUDE,
        kind="ai",
        family="Anthropic",
        status="ok",
        review=AgentReview(findings=list(findings)),
    )


def _other() -> AgentRun:
    """A second vendor that reviewed and found nothing (so a lone critical needs support)."""
    return AgentRun(
        agent="codex", display_name="Codex", kind="ai", family="OpenAI", status="ok",
        review=AgentReview(summary="Nothing found."),
    )  # fmt: skip


def _verify(*labels: tuple[str, ReproLabel]) -> AgentRun:
    reproductions = [
        Reproduction(
            agent="claude",
            reviewer=CLAUDE,
            finding_id=fid,
            title=fid,
            repro=Repro(content="exit 1\n"),
            label=label,
            reason=f"because {label}",
        )
        for fid, label in labels
    ]
    verification = Verification(
        command="", environment="PATH", isolation="none", reproductions=reproductions
    )
    return AgentRun(
        agent="verify",
        display_name="verify",
        status="ok",
        review=AgentReview(),
        verification=verification,
    )


def _finding(fid: str, severity: str, title: str, line: int) -> Finding:
    return Finding.model_validate(
        {
            "id": fid,
            "severity": severity,
            "title": title,
            "locations": [Location(path="calc.py", start_line=line)],
            "repro": {"content": "exit 1\n"},
        }
    )


def test_a_reproduced_lone_critical_is_its_own_second_opinion() -> None:
    crit = _finding("C1", "critical", "Overflow in the buffer copy", 5)
    sonnet = _claude(_finding("I1", "important", "Overflow in the buffer copy", 5))
    sonnet = sonnet.model_copy(update={"agent": "claude-sonnet", "display_name": "Sonnet"})
    alone = consolidate(ConsolidationInput(runs=[_claude(crit), sonnet, _other()]))
    assert [f.severity for f in alone.findings] == ["important"]
    for label in ("reproduced", "fix verified"):
        runs = [_claude(crit), sonnet, _other(), _verify(("C1", label))]
        out = consolidate(ConsolidationInput(runs=runs))
        [f] = out.findings
        assert (f.severity, f.reproduction) == ("critical", label)
        [change] = f.severity_changes  # the other model of the same vendor is raised
        assert (change.agent, change.to_severity) == ("Sonnet", "critical")
        assert change.reason == (
            f"{CLAUDE} C1 supports critical, and its repro is {label}: a second opinion"
        )
        [entry] = [e for e in out.reconciliation if e.agent == CLAUDE]
        assert f"repro {label}: because {label}" in entry.note


def test_a_reproduced_hedged_important_is_not_a_lone_vendors() -> None:
    imp = _finding("I1", "important", "Division by zero", 9).model_copy(
        update={"body": "A latent crash."}
    )
    alone = consolidate(ConsolidationInput(runs=[_claude(imp), _other()]))
    assert alone.findings[0].severity == "suggestion"  # rule 5
    runs = [_claude(imp), _other(), _verify(("I1", "reproduced"))]
    assert consolidate(ConsolidationInput(runs=runs)).findings[0].severity == "important"


def test_a_claim_whose_repro_passes_at_the_head_is_one_step_lower() -> None:
    imp = _finding("I1", "important", "Cache key ignores the currency", 9)
    out = consolidate(ConsolidationInput(runs=[_claude(imp), _verify(("I1", "not reproduced"))]))
    [f] = out.findings
    assert (f.id, f.severity, f.reproduction) == ("S1", "suggestion", "not reproduced")
    [change] = f.severity_changes
    assert (change.from_severity, change.to_severity) == ("important", "suggestion")
    assert change.reason == (
        "the repro of Claude I1 passes at the head, so it counts one step lower: suggestion"
    )
    assert out.retro[0].downgraded == {"I→S": 1}
    [entry] = [e for e in out.reconciliation if e.agent == CLAUDE]
    assert change.reason in entry.note and "repro not reproduced" in entry.note


def test_an_inconclusive_repro_changes_nothing() -> None:
    imp = _finding("I1", "important", "Cache key ignores the currency", 9)
    plain = consolidate(ConsolidationInput(runs=[_claude(imp)]))
    out = consolidate(ConsolidationInput(runs=[_claude(imp), _verify(("I1", "inconclusive"))]))
    assert [f.severity for f in out.findings] == [f.severity for f in plain.findings]
    assert out.findings[0].reproduction == "inconclusive"


def test_reproductions_are_placed_on_their_findings_in_report_order() -> None:
    runs = [
        _claude(
            _finding("I1", "important", "Cache key ignores the currency", 9),
            _finding("C1", "critical", "Overflow in the buffer copy", 5),
        ),
        _verify(("I1", "reproduced"), ("C1", "fix verified"), ("I9", "reproduced")),
    ]
    out = consolidate(ConsolidationInput(runs=runs))
    placed = [(r.finding_id, r.consolidated_id) for r in out.reproductions]
    assert placed == [("C1", "C1"), ("I1", "I1"), ("I9", None)]  # I9: no such claim
