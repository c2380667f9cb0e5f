"""The report as SARIF 2.1.0, for code-scanning dashboards and editors."""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any
from urllib.parse import quote

from deepreview.render.reviewers import failure_reason, is_failed, reviewer_name
from deepreview.schema import AgentRun, ConsolidatedFinding, Location, Report, Severity
from deepreview.version import __version__

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SARIF_VERSION = "2.1.0"
#: The key of each result's stable fingerprint; bump the version if the fingerprint changes.
FINGERPRINT_KEY = "deepreview/v1"

LEVELS: dict[Severity, str] = {"critical": "error", "important": "warning", "suggestion": "note"}

#: Descriptions of the categories the consolidation uses; others get a generic one.
CATEGORY_DESCRIPTIONS: dict[str, str] = {
    "regression": "A defect introduced by this change.",
    "gap": "Something the change is missing: a case, a check, a test.",
    "security": "A security weakness.",
    "performance": "A performance problem.",
    "correctness": "Code that does not do what it should.",
    "style": "Style and readability.",
    "documentation": "Documentation, comments or docstrings that are wrong or missing.",
    "testing": "Tests that are missing or do not test what they claim.",
    "design": "A design problem.",
    "issue": "A problem found in review.",
}


def render_sarif(report: Report) -> str:
    """One SARIF log with one run: rules per category, one result per consolidated finding."""
    categories = sorted({f.category for f in report.findings})
    rule_index = {category: n for n, category in enumerate(categories)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "deepreview",
                "version": __version__,
                "rules": [_rule(category) for category in categories],
            }
        },
        "invocations": [_invocation(report)],
        "results": [_result(f, rule_index[f.category]) for f in report.findings],
        "automationDetails": {"id": f"deepreview/{report.id}"},
        "properties": {
            "reportId": report.id,
            "round": report.round,
            "verdict": report.verdict.decision,
            "verdictReason": report.verdict.reason,
        },
    }
    provenance = _provenance(report)
    if provenance:
        run["versionControlProvenance"] = [provenance]
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(category: str) -> dict[str, Any]:
    description = CATEGORY_DESCRIPTIONS.get(category, f"A finding of category {category!r}.")
    return {
        "id": category,
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", category)),
        "shortDescription": {"text": description},
    }


def _region(location: Location) -> dict[str, int] | None:
    if location.start_line is None or location.start_line < 1:
        return None
    region = {"startLine": location.start_line}
    if location.end_line is not None and location.end_line >= location.start_line:
        region["endLine"] = location.end_line
    return region


def _location(location: Location) -> dict[str, Any]:
    uri = quote(location.path.replace("\\", "/").lstrip("/"), safe="/")
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    region = _region(location)
    if region is not None:
        physical["region"] = region
    return {"physicalLocation": physical}


def _message(finding: ConsolidatedFinding) -> str:
    body = finding.body.strip()
    return f"{finding.title.strip()}\n\n{body}" if body else finding.title.strip()


def _result(finding: ConsolidatedFinding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.category,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
    }
    if finding.locations:
        result["locations"] = [_location(loc) for loc in finding.locations]
    result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    result["properties"] = {
        "agents": list(finding.agents),
        "severity": finding.severity,
        "consolidatedId": finding.id,
        "scope": finding.scope.value if finding.scope is not None else None,
    }
    return result


def _notification(run: AgentRun) -> dict[str, Any]:
    label = {"failed": "failed", "timeout": "timed out", "skipped": "was skipped"}[run.status]
    return {
        "level": "warning" if run.status == "skipped" else "error",
        "message": {"text": f"{reviewer_name(run)} {label}: {failure_reason(run)}"},
        "properties": {"agent": run.agent, "status": run.status},
    }


def _invocation(report: Report) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": any(not is_failed(run) for run in report.runs),
        "toolExecutionNotifications": [_notification(r) for r in report.runs if is_failed(r)],
    }
    started = report.created_at
    if started.tzinfo is not None:
        invocation["startTimeUtc"] = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return invocation


def _provenance(report: Report) -> dict[str, str]:
    target = report.target
    if not target.repo_url or not target.head_sha:
        return {}
    provenance = {"repositoryUri": target.repo_url, "revisionId": target.head_sha}
    if target.branch:
        provenance["branch"] = target.branch
    return provenance
