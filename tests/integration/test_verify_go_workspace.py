"""The `verify` reviewer on a Go workspace: a `go.work` whose `use` lines make two modules build
together (one imports the other through the workspace, with no version of it anywhere to
fetch) has each changed module's tests and coverage run in workspace mode, offline; a module the
workspace leaves out is tested on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_verify import verification
from tests.integration.test_verify_go_modules import go_verify
from tests.repo_factory import commit, git, make_repo

pytestmark = pytest.mark.go

HEAD = "scratch copy of the head"
WORK = 'go 1.19\n\nuse (\n\t./greet // the library\n\t"./app"\n)\n'
GREET = """package greet

// Hello greets name.
func Hello(name string) string {
	return "hello " + name
}
"""
GREET_TEST = """package greet

import "testing"

func TestHello(t *testing.T) {
	if Hello("go") != "hello go" {
		t.Fatal("Hello")
	}
}
"""
BYE = '\n// Bye sees name off.\nfunc Bye(name string) string {\n\treturn "bye " + name\n}\n'
BYE_TEST = """
func TestBye(t *testing.T) {
	if Bye("go") != "bye go" {
		t.Fatal("Bye")
	}
}
"""
APP = """package app

import "example.com/greet"

// Welcome greets the world.
func Welcome() string {
	return greet.Hello("world")
}
"""
FAREWELL = """
// Farewell sees the world off; no test calls it.
func Farewell() string {
	return greet.Bye("world")
}
"""
APP_TEST = """package app

import "testing"

func TestWelcome(t *testing.T) {
	if Welcome() != "hello world" {
		t.Fatal("Welcome")
	}
}
"""
TOOL = 'package tool\n\n// Name names the tool.\nfunc Name() string {\n\treturn "tool"\n}\n'
TOOL_TEST = """package tool

import "testing"

func TestName(t *testing.T) {
	if Name() != "tool" {
		t.Fatal("Name")
	}
}
"""


def workspace(tmp_path: Path) -> Path:
    """A go.work using greet and app (app imports greet, whose go.mod it does not require: only
    the workspace resolves it), and a module tool the workspace leaves out; the branch adds a
    tested Bye to greet, an untested Farewell that calls it to app, and a tested Name to tool."""
    repo = make_repo(
        tmp_path / "work",
        {
            "go.work": WORK,
            "greet/go.mod": "module example.com/greet\n\ngo 1.19\n",
            "greet/greet.go": GREET,
            "greet/greet_test.go": GREET_TEST,
            "app/go.mod": "module example.com/app\n\ngo 1.19\n",
            "app/app.go": APP,
            "app/app_test.go": APP_TEST,
            "tool/go.mod": "module example.com/tool\n\ngo 1.19\n",
            "tool/tool_test.go": "package tool\n",
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        {
            "greet/greet.go": GREET + BYE,
            "greet/greet_test.go": GREET_TEST + BYE_TEST,
            "app/app.go": APP + FAREWELL,
            "tool/tool.go": TOOL,
            "tool/tool_test.go": TOOL_TEST,
        },
        "Bye and Farewell; the tool's Name",
    )
    return repo


def test_the_modules_of_a_go_workspace_build_together(tmp_path: Path) -> None:
    repo = workspace(tmp_path)
    report, run = go_verify(repo, tmp_path, budget_s=300)
    v = verification(run)
    assert v.command == (
        "cd app && go test ./...; cd greet && go test ./...; cd tool && go test ./..."
    )
    heads = [(e.where, e.exit_code) for e in v.executed if e.label == "tests at head"]
    assert heads == [(f"{HEAD}, app", 0), (f"{HEAD}, greet", 0), (f"{HEAD}, tool", 0)]
    builds = [(e.where, e.exit_code) for e in v.executed if e.label == "coverage test binary"]
    assert builds == [(f"{HEAD}, app", 0), (f"{HEAD}, greet", 0), (f"{HEAD}, tool", 0)]
    assert v.broken_by_change == [] and v.failing_at_base == []
    assert (v.added_lines, v.covered_lines) == (3, 2)
    assert [loc.label() for loc in v.uncovered] == ["app/app.go:12"]
    assert sorted((m.location.label(), m.outcome) for m in v.mutations) == [
        ("greet/greet.go:10", "caught"),
        ("tool/tool.go:5", "caught"),
    ]
    titles = [f.title for f in report.findings]
    assert titles == ["No test runs the added lines of `Farewell`"]
    testing = run.review.testing  # type: ignore[union-attr]
    for module, passed, covered in (("app", 1, 0), ("greet", 2, 1), ("tool", 1, 1)):
        said = f"Go module `{module}`: Ran `go test ./...` at the head in a scratch copy"
        assert f"{said}: {passed} passed." in testing
        said = f"Go module `{module}`: Changed-line coverage: the tests execute {covered} of the 1"
        assert said in testing
    assert not any("did not build" in n or "gave no profile" in n for n in v.notes), v.notes
    assert git(repo, "status", "--porcelain") == ""
