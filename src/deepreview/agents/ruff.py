"""The `ruff` analyzer: pyflakes, bugbear and error rules on the changed Python files."""

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

#: Rules used when the repository has no ruff configuration of its own.
DEFAULT_RULES = ("F", "E9", "B", "PLE")

#: Pyflakes rules about dead or sloppy code rather than code that fails.
_MINOR_PYFLAKES = frozenset({"F401", "F403", "F405", "F541", "F811", "F841", "F842"})
_SYNTAX = "invalid-syntax"


def has_ruff_config(root: Path) -> bool:
    """Whether `root` holds ruff.toml, .ruff.toml or a pyproject.toml with [tool.ruff]."""
    if (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file():
        return True
    return pyproject_has_tool(root, "ruff")


def rule_severity(code: str) -> tuple[Severity, str]:
    """Our severity and category for a ruff rule code, by its linter: the code's letters
    (`F` is pyflakes, `FA` another linter; `S` is bandit, `SIM` another)."""
    linter = code.rstrip("0123456789")
    if code == _SYNTAX or code.startswith("E9"):
        return "important", "syntax"
    if linter == "S":
        return "important", "security"
    if linter == "F":
        return ("suggestion" if code in _MINOR_PYFLAKES else "important"), "lint"
    if linter == "PLE":
        return "important", "lint"
    return "suggestion", "lint"


class RuffAgent(AnalyzerAgent):
    """Ruff with the repository's own configuration, else DEFAULT_RULES."""

    name: ClassVar[str] = "ruff"
    binary: ClassVar[str | None] = None
    module: ClassVar[str | None] = "ruff"
    ok_returncodes: ClassVar[frozenset[int]] = frozenset({0})

    def arguments(self, worktree: Path) -> list[str]:
        """`check` with JSON output; repository config when present, else isolated defaults."""
        base = ["check", "--output-format", "json", "--no-cache", "--exit-zero"]
        if has_ruff_config(worktree):
            return [*base, "--force-exclude"]
        return [*base, "--isolated", "--select", ",".join(DEFAULT_RULES)]

    def parse(self, stdout: str) -> ToolOutput:
        """Ruff's JSON list of diagnostics."""
        try:
            data = json.loads(stdout)
        except json.JSONDecodeError as exc:
            raise ToolOutputError(f"not JSON ({exc})") from exc
        if not isinstance(data, list):
            raise ToolOutputError(f"expected a JSON list, got {type(data).__name__}")
        issues: list[ToolIssue] = []
        notes: list[str] = []
        for item in data:
            issue = _issue(item)
            if issue is None:
                notes.append(f"skipped an unreadable ruff diagnostic: {str(item)[:200]}")
            else:
                issues.append(issue)
        return ToolOutput(issues, notes)


def _row(value: Any) -> int | None:
    row = value.get("row") if isinstance(value, dict) else None
    return row if isinstance(row, int) else None


def _issue(item: Any) -> ToolIssue | None:
    if not isinstance(item, dict):
        return None
    filename, message = item.get("filename"), item.get("message")
    if not isinstance(filename, str) or not isinstance(message, str):
        return None
    raw_code = item.get("code")
    code = raw_code if isinstance(raw_code, str) else _SYNTAX
    severity, category = rule_severity(code)
    fix = item.get("fix")
    fix_text = fix.get("message") if isinstance(fix, dict) else None
    name, url = item.get("name"), item.get("url")
    detail = " ".join(
        part
        for part in (
            f"ruff rule `{code}` ({name})." if isinstance(name, str) else "",
            f"See {url}." if isinstance(url, str) else "",
        )
        if part
    )
    return ToolIssue(
        path=filename,
        line=_row(item.get("location")),
        end_line=_row(item.get("end_location")),
        rule=code,
        message=message,
        severity=severity,
        category=category,
        detail=detail,
        fix=fix_text if isinstance(fix_text, str) else None,
    )
