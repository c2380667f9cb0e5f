"""The report as SARIF 2.1.0, for code-scanning dashboards and editors."""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any
from urllib.parse import quote

from deepreview.diff import parse_diff
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


#: An analyzer's finding cites its rule's documentation as "See <url>."; that is the helpUri.
_RULE_DOC = re.compile(r"\bSee (https?://[^\s<>\"]+?)\.?(?:\s|$)")


def rule_id(finding: ConsolidatedFinding) -> str:
    """The tool's own rule (`B602`, `F401`), else `deepreview/<category>`."""
    return finding.rule or f"deepreview/{finding.category}"


def render_sarif(report: Report) -> str:
    """One SARIF log with one run: a rule per tool rule or finding category, one result per
    consolidated finding, with a fix wherever the proposed patch applies at the head."""
    first: dict[str, ConsolidatedFinding] = {}
    for finding in report.findings:
        first.setdefault(rule_id(finding), finding)
    ids = sorted(first)
    rule_index = {rule: n for n, rule in enumerate(ids)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "deepreview",
                "version": __version__,
                "rules": [_rule(rule, first[rule]) for rule in ids],
            }
        },
        "invocations": [_invocation(report)],
        "results": [_result(f, rule_index[rule_id(f)]) for f in report.findings],
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


def _rule(rule: str, example: ConsolidatedFinding) -> dict[str, Any]:
    category = example.category
    if example.rule is None:
        description = CATEGORY_DESCRIPTIONS.get(category, f"A finding of category {category!r}.")
        name = category
    else:
        description = example.title.removeprefix(f"{rule}: ").strip() or rule
        name = f"{rule} {category}"
    entry: dict[str, Any] = {
        "id": rule,
        "name": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name)),
        "shortDescription": {"text": description},
        "properties": {"category": category},
    }
    doc = _RULE_DOC.search(example.body) if example.rule else None
    if doc:
        entry["helpUri"] = doc.group(1)
    return entry


def _region(location: Location) -> dict[str, int] | None:
    if location.start_line is None or location.start_line < 1:
        return None
    region = {"startLine": location.start_line}
    if location.end_line is not None and location.end_line >= location.start_line:
        region["endLine"] = location.end_line
    return region


def _artifact(path: str) -> dict[str, str]:
    return {"uri": quote(path.replace("\\", "/").lstrip("/"), safe="/")}


def _location(location: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(location.path)}
    region = _region(location)
    if region is not None:
        physical["region"] = region
    return {"physicalLocation": physical}


def _message(finding: ConsolidatedFinding) -> str:
    body = finding.body.strip()
    return f"{finding.title.strip()}\n\n{body}" if body else finding.title.strip()


def _result(finding: ConsolidatedFinding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
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
        "category": finding.category,
        "consolidatedId": finding.id,
        "scope": finding.scope.value if finding.scope is not None else None,
    }
    if finding.pre_existing:
        result["properties"]["preExisting"] = finding.pre_existing
    fix = _fix(finding)
    if fix is not None:
        result["fixes"] = [fix]
    return result


def _fix(finding: ConsolidatedFinding) -> dict[str, Any] | None:
    """The checked patch as SARIF replacements: each hunk replaces whole lines of the head."""
    if not finding.fix_patch:
        return None
    patch = parse_diff(finding.fix_patch)
    if patch.errors or not patch.files:
        return None
    changes = []
    for fd in patch.files:
        if fd.status != "modified" or not fd.hunks:
            return None
        replacements = []
        for hunk in fd.hunks:
            first = hunk.old_start if hunk.old_count else hunk.old_start + 1
            inserted = "".join(line.text + "\n" for line in hunk.lines if line.kind != "deleted")
            replacements.append(
                {
                    "deletedRegion": {
                        "startLine": max(1, first),
                        "startColumn": 1,
                        "endLine": max(1, first + hunk.old_count),
                        "endColumn": 1,
                    },
                    "insertedContent": {"text": inserted},
                }
            )
        changes.append({"artifactLocation": _artifact(fd.path), "replacements": replacements})
    agents = ", ".join(finding.agents)
    return {
        "description": {"text": f"Proposed by {agents}; applies at the reviewed head."},
        "artifactChanges": changes,
    }


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
