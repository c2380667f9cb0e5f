"""Which commands run a repository's tests: the root's (configured, else detected from its
files) and `go test ./...` in each Go module below the root that holds a changed Go file."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

Runner = Literal["pytest", "go", "npm", "cargo", "custom"]
#: Folders the go tool leaves out of `./...`.
GO_IGNORED = ("vendor", "testdata")


@dataclass(frozen=True)
class SuiteCommand:
    """The suite's command and the runner it belongs to (which decides what can be measured)."""

    runner: Runner
    argv: tuple[str, ...]
    reason: str

    def text(self) -> str:
        """The command as one line."""
        return " ".join(self.argv)


_GO_TEST = SuiteCommand("go", ("go", "test", "./..."), "go.mod")


def go_ignored(folders: Iterable[str]) -> bool:
    """Whether a file in these nested folders belongs to no Go package: one of them is vendor/
    or testdata/, or starts with `.` or `_` (the go tool leaves them out)."""
    return any(p in GO_IGNORED or p.startswith((".", "_")) for p in folders)


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
        return _GO_TEST
    if _npm_test(root):
        return SuiteCommand("npm", ("npm", "test"), "scripts.test in package.json")
    if (root / "Cargo.toml").is_file():
        return SuiteCommand("cargo", ("cargo", "test"), "Cargo.toml")
    return None


@dataclass(frozen=True)
class Suite:
    """A test command and the folder it runs in (repository-relative, `.` for the root)."""

    command: SuiteCommand
    folder: str = "."

    def holds(self, path: str) -> bool:
        """Whether the repository-relative `path` is inside the suite's folder."""
        return self.folder == "." or path.startswith(f"{self.folder}/")

    def inside(self, path: str) -> str:
        """A repository-relative path made relative to the suite's folder."""
        return path if self.folder == "." else path.removeprefix(f"{self.folder}/")

    def outside(self, path: str) -> str:
        """A path relative to the suite's folder made repository-relative."""
        return path if self.folder == "." else f"{self.folder}/{path}"

    def text(self) -> str:
        """The command as one line run from the repository root."""
        command = self.command.text()
        return command if self.folder == "." else f"cd {self.folder} && {command}"

    def name(self) -> str:
        """What the report calls the suite when there is more than one."""
        if self.command.runner != "go":
            return f"Root suite `{self.command.text()}`"
        return "Go module at the root" if self.folder == "." else f"Go module `{self.folder}`"


def go_modules(root: Path, changed: Iterable[str]) -> list[str]:
    """The folders (`.` for the root) of the Go modules holding the `changed` `.go` files: the
    nearest folder with a go.mod above each, none for a file under vendor/, testdata/ or a
    folder starting with `.` or `_`. Each folder is looked at once."""
    nearest: dict[PurePosixPath, str | None] = {}

    def module_of(folder: PurePosixPath) -> str | None:
        if folder not in nearest:
            if (root / folder / "go.mod").is_file():
                nearest[folder] = folder.as_posix()
            else:
                up = folder.parent
                nearest[folder] = None if up == folder else module_of(up)
        return nearest[folder]

    found: set[str] = set()
    for path in changed:
        folder = PurePosixPath(path).parent
        if not path.endswith(".go") or go_ignored(folder.parts):
            continue
        module = module_of(folder)
        if module is not None:
            found.add(module)
    return sorted(found, key=lambda f: (f != ".", f))


def detect_suites(
    root: Path, changed: Iterable[str], configured: list[str] | None = None
) -> list[Suite]:
    """The suites of the tree at `root` for a change of the `changed` paths: the root's own
    command (the root Go module's when that is `go test ./...`), then each Go module below the
    root that holds a changed Go file (its `./...` leaves out the modules nested in it, as the
    root's leaves out theirs)."""
    command = detect_suite_command(root, configured)
    suites = [Suite(command)] if command is not None else []
    suites += [Suite(_GO_TEST, f) for f in go_modules(root, changed) if f != "."]
    return suites
