"""Which command runs a repository's tests: configured, else detected from its files."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Runner = Literal["pytest", "go", "npm", "cargo", "custom"]


@dataclass(frozen=True)
class SuiteCommand:
    """The suite's command and the runner it belongs to (which decides what can be measured)."""

    runner: Runner
    argv: tuple[str, ...]
    reason: str

    def text(self) -> str:
        """The command as one line."""
        return " ".join(self.argv)


def _pytest_configured(root: Path) -> str | None:
    if (root / "pytest.ini").is_file():
        return "pytest.ini"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(errors="replace")).get("tool", {})
        except tomllib.TOMLDecodeError:
            tool = {}
        if isinstance(tool, dict) and "pytest" in tool:
            return "[tool.pytest] in pyproject.toml"
    for name in ("setup.cfg", "tox.ini"):
        path = root / name
        if path.is_file() and "[tool:pytest]" in path.read_text(errors="replace"):
            return f"[tool:pytest] in {name}"
    for folder in ("tests", "test"):
        if any((root / folder).rglob("test_*.py")):
            return f"test_*.py files under {folder}/"
    return None


def _npm_test(root: Path) -> bool:
    try:
        data = json.loads((root / "package.json").read_text(errors="replace"))
    except (OSError, ValueError):
        return False
    scripts = data.get("scripts") if isinstance(data, dict) else None
    test = scripts.get("test") if isinstance(scripts, dict) else None
    return isinstance(test, str) and "no test specified" not in test


def detect_suite_command(root: Path, configured: list[str] | None = None) -> SuiteCommand | None:
    """The test command of the tree at `root`, or None when there is none."""
    if configured:
        runner: Runner = "pytest" if "pytest" in configured[:3] else "custom"
        return SuiteCommand(runner, tuple(configured), "configured")
    found = _pytest_configured(root)
    if found is not None:
        return SuiteCommand("pytest", ("python", "-m", "pytest"), found)
    if (root / "go.mod").is_file():
        return SuiteCommand("go", ("go", "test", "./..."), "go.mod")
    if _npm_test(root):
        return SuiteCommand("npm", ("npm", "test"), "scripts.test in package.json")
    if (root / "Cargo.toml").is_file():
        return SuiteCommand("cargo", ("cargo", "test"), "Cargo.toml")
    return None
