"""The `bandit` analyzer: security checks on the changed Python files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from deepreview.agents.analyzer import (
    AnalyzerAgent,
    ToolIssue,
    ToolOutput,
    ToolOutputError,
    pyproject_has_tool,
)
from deepreview.schema import Severity

#: Checks skipped when the repository has no bandit configuration: `assert` use, importing
#: subprocess and shell-less subprocess calls flag nearly every codebase without a defect.
DEFAULT_SKIPS = ("B101", "B404", "B603")


def has_bandit_config(root: Path) -> bool:
    """Whether the repository's pyproject.toml has a [tool.bandit] table."""
    return pyproject_has_tool(root, "bandit")


def issue_severity(severity: str, confidence: str) -> Severity:
    """HIGH severity with HIGH confidence is critical; HIGH or MEDIUM important; else suggestion."""
    severity, confidence = severity.upper(), confidence.upper()
    if severity == "HIGH" and confidence == "HIGH":
        return "critical"
    if severity in ("HIGH", "MEDIUM"):
        return "important"
    return "suggestion"


class BanditAgent(AnalyzerAgent):
    """Bandit with the repository's [tool.bandit] settings, else DEFAULT_SKIPS."""

    name: ClassVar[str] = "bandit"
    binary: ClassVar[str | None] = None
    module: ClassVar[str | None] = "bandit"
    include_tests: ClassVar[bool] = False

    def arguments(self, worktree: Path) -> list[str]:
        """JSON output, quiet; the repository's config when it has one."""
        if has_bandit_config(worktree):
            return ["-f", "json", "-q", "-c", "pyproject.toml"]
        return ["-f", "json", "-q", "--skip", ",".join(DEFAULT_SKIPS)]

    def parse(self, stdout: str) -> ToolOutput:
        """Bandit's JSON report: `results`, and `errors` for files it could not check."""
        try:
            data = json.loads(stdout)
        except json.JSONDecodeError as exc:
            raise ToolOutputError(f"not JSON ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise ToolOutputError("expected a JSON object with a `results` list")
        issues: list[ToolIssue] = []
        notes: list[str] = []
        for item in data["results"]:
            issue = _issue(item)
            if issue is None:
                notes.append(f"skipped an unreadable bandit result: {str(item)[:200]}")
            else:
                issues.append(issue)
        errors = data.get("errors")
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, dict):
                where, why = error.get("filename"), error.get("reason")
                notes.append(f"bandit could not check {where}: {why}")
        return ToolOutput(issues, notes)


def _issue(item: Any) -> ToolIssue | None:
    if not isinstance(item, dict):
        return None
    fields = [item.get(k) for k in ("filename", "test_id", "issue_text")]
    line = item.get("line_number")
    if not all(isinstance(v, str) for v in fields) or not isinstance(line, int):
        return None
    filename, test_id, text = (str(v) for v in fields)
    sev, conf = str(item.get("issue_severity", "")), str(item.get("issue_confidence", ""))
    line_range = item.get("line_range")
    ints = [n for n in line_range if isinstance(n, int)] if isinstance(line_range, list) else []
    cwe = item.get("issue_cwe")
    parts = [f"bandit `{test_id}` ({item.get('test_name')}): severity {sev}, confidence {conf}."]
    if isinstance(cwe, dict) and cwe.get("id"):
        parts.append(f"CWE-{cwe['id']}.")
    if isinstance(item.get("more_info"), str):
        parts.append(f"See {item['more_info']}.")
    return ToolIssue(
        path=filename,
        line=line,
        end_line=max(ints) if ints else line,
        rule=test_id,
        message=text,
        severity=issue_severity(sev, conf),
        category="security",
        detail=" ".join(parts),
    )
