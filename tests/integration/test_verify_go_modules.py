"""The `verify` reviewer on Go modules below the repository root: each module holding a changed
Go file has its tests, changed-line coverage and mutants run in its own folder of the scratch
copy, and the report names files by their repository paths and figures by their module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deepreview.schema import AgentRun, Report
from deepreview.verify import review as verify_review
from tests.integration.test_verify import run_verify, verification
from tests.integration.test_verify_go import (
    ADDED,
    BASE,
    CLAMP,
    CLAMP_TEST,
    FEATURE_TEST,
    TEXT,
    TEXT_TEST,
)
from tests.repo_factory import commit, git, make_repo

pytestmark = pytest.mark.go

HEAD = "scratch copy of the head"
TOOL = "def shout(s):\n    return s.upper()\n"
TOOL_TEST = "from tool import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n"
FAILING_TEST = (
    'package tools\n\nimport "testing"\n\nfunc TestNever(t *testing.T) { t.Fatal("ran") }\n'
)
WHISPER = "\nfunc Whisper(s string) string { return strings.ToLower(s) }\n"
WHISPER_TEST = """
func TestWhisper(t *testing.T) {
	if Whisper("A") != "a" {
		t.Fatal("Whisper")
	}
}
"""


def go_verify(repo: Path, tmp_path: Path, **settings: object) -> tuple[Report, AgentRun]:
    """`verify` with Go on PATH and the test process's virtualenv as the project's (pytest)."""
    go = shutil.which("go")
    assert go is not None, "the go marker needs Go installed (apt-get install golang-go)"
    return run_verify(repo, tmp_path, path=str(Path(go).resolve().parent), **settings)


def test_a_go_module_beside_a_python_package(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "mono",
        {
            "tool.py": TOOL,
            "tests/test_tool.py": TOOL_TEST,
            "services/api/go.mod": "module example.com/api\n\ngo 1.19\n",
            "services/api/calc/calc.go": BASE,
            "services/api/calc/calc_test.go": CLAMP_TEST,
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        {
            "services/api/calc/calc.go": CLAMP + ADDED,
            "services/api/calc/calc_test.go": FEATURE_TEST,
        },
        "Double, Half and Sorted",
    )
    report, run = go_verify(repo, tmp_path, budget_s=300)
    v = verification(run)
    assert v.command == "python -m pytest; cd services/api && go test ./..."
    ran = [(e.label, e.where, e.exit_code) for e in v.executed]
    assert ran[:3] == [
        ("tests at head", HEAD, 0),
        ("tests at head", f"{HEAD}, services/api", 0),
        ("coverage test binary", f"{HEAD}, services/api", 0),
    ]
    assert v.executed[1].command == "go test ./..."
    assert v.executed[2].command.endswith("-coverpkg=./calc -o calc.test ./calc")
    assert ran[-1][:2] == ("mutation probes", f"{HEAD}, services/api")
    assert (v.added_lines, v.covered_lines) == (7, 5)
    assert [loc.label() for loc in v.uncovered] == [
        "services/api/calc/calc.go:19",
        "services/api/calc/calc.go:26",
    ]
    titles = [f.title for f in report.findings]
    assert "No test runs the added lines of `Half`" in titles
    assert (
        "Not pinned by any test: `x > 100` → `x >= 100` at services/api/calc/calc.go:18 keeps the "
        "suite green" in titles
    )
    assert {m.location.path for m in v.mutations} == {"services/api/calc/calc.go"}
    assert {row.location.path for row in v.rubric} == {"services/api/calc/calc.go"}
    testing = run.review.testing  # type: ignore[union-attr]
    assert "Root suite `python -m pytest`: Ran `python -m pytest` at the head" in testing
    assert (
        "Go module `services/api`: Changed-line coverage: the tests execute 5 of the 7 added "
        "executable line(s)" in testing
    )
    assert "Go module `services/api`: Of 4 mutations of the changed lines" in testing
    assert (
        "Go module `services/api`: Go coverage was measured per test: 4 top-level test(s) each "
        "ran alone with its own profile, and a mutant runs only the tests that execute its line."
        in v.notes
    )
    assert git(repo, "status", "--porcelain") == ""


def two_modules(tmp_path: Path) -> Path:
    """A Go module at the root (package text) holding two nested modules, services/calc and
    tools (whose one test fails); the branch adds a tested Whisper to text and breaks
    services/calc's Clamp."""
    repo = make_repo(
        tmp_path / "gomono",
        {
            "go.mod": "module example.com/root\n\ngo 1.19\n",
            "text/text.go": TEXT,
            "text/text_test.go": TEXT_TEST,
            "services/calc/go.mod": "module example.com/calc\n\ngo 1.19\n",
            "services/calc/calc.go": BASE,
            "services/calc/calc_test.go": CLAMP_TEST,
            "tools/go.mod": "module example.com/tools\n\ngo 1.19\n",
            "tools/tools_test.go": FAILING_TEST,
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        {
            "text/text.go": TEXT + WHISPER,
            "text/text_test.go": TEXT_TEST + WHISPER_TEST,
            "services/calc/calc.go": BASE.replace("return hi\n", "return hi - 1\n"),
        },
        "Whisper; off by one",
    )
    return repo


def test_two_changed_modules_one_at_the_root(tmp_path: Path) -> None:
    report, run = go_verify(two_modules(tmp_path), tmp_path, budget_s=300)
    v = verification(run)
    assert v.command == "go test ./...; cd services/calc && go test ./..."
    heads = [(e.where, e.exit_code) for e in v.executed if e.label == "tests at head"]
    # The root's `./...` leaves out the nested modules: tools' failing test did not run.
    assert heads == [(HEAD, 0), (f"{HEAD}, services/calc", 1)]
    assert not any("tools" in e.where or "tools" in e.command for e in v.executed)
    (base,) = [e for e in v.executed if e.label == "failing tests at base"]
    assert base.where.startswith("scratch copy of the merge base") and base.exit_code == 0
    assert base.where.endswith(", services/calc")
    assert v.broken_by_change == ["example.com/calc.TestClamp"]
    (critical,) = [f for f in report.findings if f.severity == "critical"]
    assert [loc.label() for loc in critical.locations] == ["services/calc/calc.go:13"]
    assert "Clamp(11, 0, 10) = 9" in critical.body
    assert (v.added_lines, v.covered_lines) == (2, 2)
    assert {m.location.path for m in v.mutations} == {"text/text.go"}  # calc's tests fail at head
    assert all(m.outcome == "caught" for m in v.mutations) and v.mutations
    testing = run.review.testing  # type: ignore[union-attr]
    for said in (
        "Go module at the root: Ran `go test ./...` at the head in a scratch copy: 2 passed.",
        "Go module `services/calc`: Ran `go test ./...` at the head in a scratch copy: 1 failed.",
        "Go module `services/calc`: 1 test(s) fail at the head and pass at the merge base",
        "Go module at the root: Changed-line coverage: the tests execute 1 of the 1 added",
        "Go module `services/calc`: Changed-line coverage: the tests execute 1 of the 1 added",
    ):
        assert said in testing
    assert report.verdict.decision == "Rework"


def test_a_module_whose_turn_comes_after_the_budget_is_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any time spent at all leaves less than the whole budget for the second module's turn.
    monkeypatch.setattr(verify_review, "TURN_S", 300.0)
    _, run = go_verify(two_modules(tmp_path), tmp_path, budget_s=300, coverage=False)
    v = verification(run)
    assert [e.where for e in v.executed] == [HEAD]
    assert (
        "Go module `services/calc` was not run: the time budget (300 s) was spent before its turn."
        in v.notes
    )
    assert v.broken_by_change == []


def test_a_module_the_change_adds_has_its_failing_tests_blamed_on_the_change(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "new", {"README.md": "A repository without tests.\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        {
            "svc/go.mod": "module example.com/svc\n\ngo 1.19\n",
            "svc/calc.go": BASE.replace("return hi\n", "return hi - 1\n"),
            "svc/calc_test.go": CLAMP_TEST,
        },
        "a new module",
    )
    report, run = go_verify(repo, tmp_path, coverage=False)
    v = verification(run)
    assert v.command == "cd svc && go test ./..."
    assert [(e.label, e.where, e.exit_code) for e in v.executed] == [
        ("tests at head", f"{HEAD}, svc", 1)  # svc/ does not exist at the base: nothing to run
    ]
    assert v.broken_by_change == ["example.com/svc.TestClamp"]
    testing = run.review.testing  # type: ignore[union-attr]
    assert testing.startswith("Ran `go test ./...` at the head in a scratch copy: 1 failed.")
    (critical,) = [f for f in report.findings if f.severity == "critical"]
    assert critical.locations[0].path == "svc/calc.go"
