"""The pieces of the `verify` reviewer that need no test run: detection, environments,
mutants, result parsing."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from deepreview.agents.scan_files import is_test_path
from deepreview.verify.detect import (
    Suite,
    SuiteCommand,
    detect_suite_command,
    detect_suites,
    go_modules,
)
from deepreview.verify.environment import project_environment, scrubbed_environment
from deepreview.verify.execute import Confinement, cpu_limit
from deepreview.verify.mutate import python_mutants, spread
from deepreview.verify.suite import go_selection, read_go_results, read_pytest_results


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "argv", "reason"),
    [
        ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "python -m pytest", "pyproject"),
        ({"setup.cfg": "[tool:pytest]\naddopts=-q\n"}, "python -m pytest", "setup.cfg"),
        ({"pytest.ini": "[pytest]\n"}, "python -m pytest", "pytest.ini"),
        ({"tests/unit/test_a.py": ""}, "python -m pytest", "tests/"),
        ({"go.mod": "module x\n"}, "go test ./...", "go.mod"),
        ({"package.json": '{"scripts": {"test": "node t.js"}}'}, "npm test", "package.json"),
        ({"Cargo.toml": "[package]\n"}, "cargo test", "Cargo.toml"),
    ],
)
def test_detection(tmp_path: Path, files: dict[str, str], argv: str, reason: str) -> None:
    found = detect_suite_command(tree(tmp_path, files))
    assert found is not None
    assert found.text() == argv
    assert reason in found.reason


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "x"},
        {"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'},
        {"pyproject.toml": "[project]\nname = 'x'\n"},
        {"pyproject.toml": "not toml ["},
    ],
)
def test_no_test_command(tmp_path: Path, files: dict[str, str]) -> None:
    assert detect_suite_command(tree(tmp_path, files)) is None


def test_configured_command_wins(tmp_path: Path) -> None:
    tree(tmp_path, {"go.mod": "module x\n"})
    found = detect_suite_command(tmp_path, ["make", "check"])
    assert found is not None and (found.runner, found.text()) == ("custom", "make check")


MODULES = {
    "go.mod": "module example.com/root\n",
    "services/api/go.mod": "module example.com/api\n",
    "services/api/testdata/m/go.mod": "module example.com/m\n",
    "tools/go.mod": "module example.com/tools\n",
}


def test_the_nearest_go_mod_above_each_changed_go_file_is_its_module(tmp_path: Path) -> None:
    tree(tmp_path, MODULES)
    changed = [
        "services/api/x/y/z.go",
        "services/api/main.go",
        "services/web.go",  # no go.mod in services/: the root's
        "services/api/vendor/v/v.go",
        "services/api/testdata/m/t.go",
        "scripts/_draft/q.go",
        "tools/README.md",
    ]
    assert go_modules(tmp_path, changed) == [".", "services/api"]
    assert go_modules(tmp_path, changed[3:]) == []
    (tmp_path / "go.mod").unlink()
    assert go_modules(tmp_path, ["services/web.go", "services/api/main.go"]) == ["services/api"]


def test_suites_are_the_roots_then_each_changed_go_module_below_it(tmp_path: Path) -> None:
    tree(tmp_path, MODULES)
    changed = ["a.go", "services/api/main.go"]
    suites = detect_suites(tmp_path, changed)
    assert [(s.command.text(), s.folder) for s in suites] == [
        ("go test ./...", "."),
        ("go test ./...", "services/api"),
    ]
    assert [s.text() for s in suites] == ["go test ./...", "cd services/api && go test ./..."]
    assert [s.name() for s in suites] == ["Go module at the root", "Go module `services/api`"]
    # The root's suite is the root's tests, even with no Go file changed there.
    assert [s.folder for s in detect_suites(tmp_path, ["README.md"])] == ["."]
    # A Python root beside the Go modules: the root's suite is pytest (the root module's Go is
    # not measured then), the nested module is.
    tree(tmp_path, {"pytest.ini": "[pytest]\n"})
    suites = detect_suites(tmp_path, changed)
    assert [(s.command.runner, s.folder) for s in suites] == [
        ("pytest", "."),
        ("go", "services/api"),
    ]
    assert suites[0].name() == "Root suite `python -m pytest`"
    configured = detect_suites(tmp_path, changed, ["make", "check"])
    assert [(s.command.runner, s.folder) for s in configured] == [
        ("custom", "."),
        ("go", "services/api"),
    ]
    (tmp_path / "pytest.ini").unlink()
    (tmp_path / "go.mod").unlink()
    assert [s.folder for s in detect_suites(tmp_path, changed)] == ["services/api"]
    assert detect_suites(tmp_path, ["a.go", "notes.txt"]) == []


def test_a_suite_maps_paths_between_its_folder_and_the_repository() -> None:
    api = Suite(SuiteCommand("go", ("go", "test", "./..."), "go.mod"), "services/api")
    assert api.holds("services/api/x.go") and not api.holds("services/apix/x.go")
    assert api.inside("services/api/x/y.go") == "x/y.go"
    assert api.outside("x/y.go") == "services/api/x/y.go"
    root = Suite(api.command)
    assert root.holds("x.go") and root.inside("x.go") == root.outside("x.go") == "x.go"


def fake_venv(path: Path) -> Path:
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (path / "bin" / "python").symlink_to(sys.executable)
    return path


def test_environment_order(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    fake_venv(repo / "venv")
    assert project_environment(repo, {}).virtualenv == repo / "venv"
    fake_venv(repo / ".venv")
    assert project_environment(repo, {}).virtualenv == repo / ".venv"
    active = fake_venv(tmp_path / "active")
    env = project_environment(repo, {"VIRTUAL_ENV": str(active)})
    assert env.virtualenv == active and "VIRTUAL_ENV" in env.description
    on_path = project_environment(repo, {"VIRTUAL_ENV": str(active)}, "path")
    assert on_path.virtualenv is None and on_path.python() == "python3"
    with pytest.raises(ValueError, match="not a virtualenv"):
        project_environment(repo, {}, "nowhere")


def test_scrubbed_environment_keeps_no_credentials(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "v")
    project = project_environment(tmp_path, {"VIRTUAL_ENV": str(venv)})
    environ = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin",
        "LC_ALL": "C.UTF-8",
        "GITHUB_TOKEN": "x" * 20,
        "DATABASE_URL": "postgres://u:p@h/d",
        "HOME": "/root",
    }
    env = scrubbed_environment(environ, project, tmp_path / "home", tmp_path / "tmp")
    assert "GITHUB_TOKEN" not in env and "DATABASE_URL" not in env
    assert env["HOME"] == str(tmp_path / "home") and env["TMPDIR"] == str(tmp_path / "tmp")
    assert env["LC_ALL"] == "C.UTF-8"
    assert env["PATH"].split(":") == [str(venv / "bin"), "/usr/bin"]  # not deepreview's own


SOURCE = '''def f(a, b):
    """Docstring."""
    if a < b and b > 0:
        print(a)
        return a + 1
    total = a
    return True
'''


def test_python_mutants() -> None:
    mutants = python_mutants(SOURCE, frozenset(range(1, 8)))
    described = {(m.line, m.description): m for m in mutants}
    assert set(described) == {
        (3, "`if a < b and b > 0` → `if not (a < b and b > 0)`"),
        (3, "`a < b and b > 0` → `a < b or b > 0`"),
        (3, "`a < b` → `a <= b`"),
        (3, "`b > 0` → `b >= 0`"),
        (4, "delete `print(a)`"),
        (5, "`return a + 1` → `return None`"),
        (6, "delete `total = a`"),
        (7, "`return True` → `return False`"),
    }
    assert described[(4, "delete `print(a)`")].trivial
    assert not described[(6, "delete `total = a`")].trivial
    for m in mutants:
        assert m.function == "f"
        assert ast.dump(ast.parse(m.text)) != ast.dump(ast.parse(SOURCE))
    namespace: dict[str, object] = {}
    exec(described[(3, "`a < b` → `a <= b`")].text, namespace)
    assert namespace["f"](1, 1) == 2  # type: ignore[operator]


def test_mutants_only_on_the_given_lines_and_never_for_broken_code() -> None:
    assert {m.line for m in python_mutants(SOURCE, frozenset({6}))} == {6}
    assert python_mutants("def broken(:\n", frozenset({1})) == []


def test_mutants_of_non_ascii_lines_keep_the_text_intact() -> None:
    text = 'def g(x):\n    return "é" if x > 1 else "ü"\n'
    (m,) = [m for m in python_mutants(text, frozenset({2})) if "x >= 1" in m.description]
    assert '"é" if (x >= 1) else "ü"' in m.text


def test_spread_gives_every_line_one_mutant_first() -> None:
    mutants = python_mutants(SOURCE, frozenset(range(1, 8)))
    lines = [m.line for m in spread(mutants)]
    assert lines[:5] == [3, 4, 5, 6, 7]
    assert sorted(lines) == sorted(m.line for m in mutants)


def test_read_pytest_results(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    records = [
        {"id": "t.py::a", "outcome": "passed", "message": "", "duration": 0.5},
        {"id": "t.py::a", "outcome": "failed", "message": "teardown boom", "duration": 0.1},
        {"id": "t.py::b", "outcome": "skipped", "message": ""},
        {"id": "t.py::c", "outcome": "weird"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n")
    results = read_pytest_results(path)
    assert {k: r.outcome for k, r in results.items()} == {
        "t.py::a": "failed",
        "t.py::b": "skipped",
        "t.py::c": "failed",
    }
    assert results["t.py::a"].message == "teardown boom"
    assert read_pytest_results(tmp_path / "missing.jsonl") == {}


def test_read_go_results() -> None:
    events = [
        {"Action": "run", "Package": "ex/calc", "Test": "TestAdd"},
        {"Action": "output", "Package": "ex/calc", "Test": "TestAdd", "Output": "want 3 got 4\n"},
        {"Action": "fail", "Package": "ex/calc", "Test": "TestAdd", "Elapsed": 0.01},
        {"Action": "pass", "Package": "ex/calc", "Test": "TestSub", "Elapsed": 0},
        {"Action": "fail", "Package": "ex/calc", "Elapsed": 0.02},
    ]
    output = "\n".join(json.dumps(e) for e in events) + "\nFAIL\n"
    results = read_go_results(output)
    assert {k: r.outcome for k, r in results.items()} == {
        "ex/calc.TestAdd": "failed",
        "ex/calc.TestSub": "passed",
    }
    assert "want 3 got 4" in results["ex/calc.TestAdd"].message
    assert go_selection(["ex/calc.TestAdd"]) == ["^(TestAdd)$", "ex/calc"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_a.py", True),
        ("pkg/test_b.py", True),
        ("pkg/b_test.go", True),
        ("conftest.py", True),
        ("src/pkg/mod.py", False),
        ("src/contest.py", False),
        ("test.js", True),
        ("web/a.test.ts", True),
        ("lib/latest.js", False),
    ],
)
def test_is_test_path(path: str, expected: bool) -> None:
    assert is_test_path(path) is expected


def test_probes_go_on_past_the_budget_only_while_others_still_run(tmp_path: Path) -> None:
    import asyncio
    import time

    from deepreview.schema import ExecutedCommand
    from deepreview.verify.execute import Execution
    from deepreview.verify.probe import Probe, probe_all
    from deepreview.verify.suite import SuiteRun

    (tmp_path / "m.py").write_text(SOURCE)
    mutants = python_mutants(SOURCE, frozenset({3, 5, 6}))
    probes = [Probe("m.py", m, ("t.py::test",), 0.0) for m in mutants[:3]]
    seen: list[str] = []

    async def run(probe: Probe, timeout: float) -> SuiteRun:
        seen.append((tmp_path / "m.py").read_text())
        record = ExecutedCommand(label="mutant", command="x", where="w", duration_s=0, exit_code=1)
        return SuiteRun(Execution(record, "", "none"))

    answers = iter([True, True, False])
    result = asyncio.run(probe_all(tmp_path, probes, run, time.monotonic(), lambda: next(answers)))
    assert [m.outcome for _, m in result] == ["caught", "caught", "not run"]
    assert [p for p, _ in result] == probes
    assert seen == [probes[0].mutant.text, probes[1].mutant.text]
    assert (tmp_path / "m.py").read_text() == SOURCE  # restored after each mutant


def test_the_confinement_said_without_a_command_names_no_cpu_limit(tmp_path: Path) -> None:
    confinement = Confinement(writable=(tmp_path,), memory_bytes=2**30)
    described = confinement.describe()
    assert "CPU" not in described and "memory 1024 MiB" in described
    assert "CPU 21 s" in confinement.wrap(["true"], cpu_seconds=cpu_limit(10))[1]
