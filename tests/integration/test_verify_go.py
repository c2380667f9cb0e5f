"""The `verify` reviewer on a real Go module (standard library only, so nothing is fetched):
`go test` at the head, changed-line coverage per test from a coverage-built test binary, mutation
probes read on Go's syntax by deepreview's own Go program, each run against its covering tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deepreview.verify import go_tests
from tests.integration.test_verify import run_verify, verification
from tests.repo_factory import commit, git, make_repo

pytestmark = pytest.mark.go

GO_MOD = "module example.com/calc\n\ngo 1.19\n"
CLAMP = """package calc

import "sort"

// Clamp limits x to [lo, hi].
func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
"""
CLAMP_TEST = """package calc

import "testing"

func TestClamp(t *testing.T) {
	if got := Clamp(-1, 0, 10); got != 0 {
		t.Fatalf("Clamp(-1, 0, 10) = %d", got)
	}
	if got := Clamp(11, 0, 10); got != 10 {
		t.Fatalf("Clamp(11, 0, 10) = %d", got)
	}
}
"""
ADDED = """
// Double doubles x up to 100.
func Double(x int) int {
	if x > 100 {
		return x
	}
	return x * 2
}

// Half is not tested.
func Half(x int) int {
	return x / 2
}

// Sorted returns a sorted copy of xs.
func Sorted(xs []int) []int {
	out := append([]int(nil), xs...)
	sort.Ints(out)
	return out
}
"""
ADDED_TEST = """
func TestDouble(t *testing.T) {
	if got := Double(3); got != 6 {
		t.Fatalf("Double(3) = %d", got)
	}
}

func TestSorted(t *testing.T) {
	if got := Sorted([]int{2, 1}); len(got) != 2 || got[0] != 1 {
		t.Fatalf("Sorted = %v", got)
	}
}

// TestSourceUnchanged runs no code of the package, and fails on a mutant of Double's condition.
func TestSourceUnchanged(t *testing.T) {
	data, err := os.ReadFile("calc.go")
	if err != nil || !strings.Contains(string(data), "if x > 100 {") {
		t.Fatalf("calc.go is not the head's: %v", err)
	}
}
"""
FEATURE_TEST = (
    CLAMP_TEST.replace('import "testing"', 'import (\n\t"os"\n\t"strings"\n\t"testing"\n)')
    + ADDED_TEST
)


TEXT = """package text

import "strings"

func Shout(s string) string { return strings.ToUpper(s) }
"""
TEXT_TEST = """package text

import "testing"

func TestShout(t *testing.T) {
	if Shout("a") != "A" {
		t.Fatal("Shout")
	}
}
"""
BASE = CLAMP.replace('import "sort"\n', 'import "sort"\n\nvar _ = sort.Ints\n')


def go_project(tmp_path: Path) -> Path:
    """A Go module of two packages on main (calc imports `sort` and uses it only in a blank
    variable), branch `feature` checked out."""
    repo = make_repo(
        tmp_path / "gomod",
        {
            "go.mod": GO_MOD,
            "calc/calc.go": BASE,
            "calc/calc_test.go": CLAMP_TEST,
            "text/text.go": TEXT,
            "text/text_test.go": TEXT_TEST,
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def run_go_verify(repo: Path, tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    go = shutil.which("go")
    assert go is not None, "the go marker needs Go installed (apt-get install golang-go)"
    return run_verify(
        repo, tmp_path, path=str(Path(go).resolve().parent), environment="path", **settings
    )


def feature(tmp_path: Path) -> Path:
    """The Go project with Double, Half and Sorted added to calc, and four calc tests."""
    repo = go_project(tmp_path)
    commit(
        repo,
        {"calc/calc.go": CLAMP + ADDED, "calc/calc_test.go": FEATURE_TEST},
        "Double, Half and Sorted",
    )
    return repo


def test_go_coverage_per_test_and_mutations_of_the_changed_lines(tmp_path: Path) -> None:
    repo = feature(tmp_path)
    report, run = run_go_verify(repo, tmp_path, budget_s=300)  # every probe, even under load
    v = verification(run)
    assert [e.label for e in v.executed] == [
        "tests at head",
        "coverage test binary",
        "coverage of the changed lines",
        "mutation probes",
    ]
    assert v.executed[0].command == "go test ./..." and v.executed[0].exit_code == 0
    assert "5 passed" in run.review.testing  # type: ignore[union-attr]
    assert v.executed[1].command == (
        "go test -c -cover -covermode=count -coverpkg=./calc -o calc.test ./calc"
    )
    assert v.executed[1].exit_code == 0
    assert v.executed[2].command == (
        "calc.test -test.run=^Name$ -test.coverprofile=calc-N.out, once per top-level test (4 runs)"
    )
    assert (
        "Go coverage was measured per test: 4 top-level test(s) each ran alone with its own "
        "profile, and a mutant runs only the tests that execute its line." in v.notes
    )
    # Added statements: Double's if, two returns; Half's return; Sorted's three statements.
    assert (v.added_lines, v.covered_lines) == (7, 5)
    assert [loc.label() for loc in v.uncovered] == ["calc/calc.go:19", "calc/calc.go:26"]
    # Each mutant ran only the one test that executes its line: TestSourceUnchanged, which
    # would catch both mutants of Double's condition, did not run for them.
    ran = {m.description: (m.outcome, m.tests) for m in v.mutations}
    assert ran == {
        "`if x > 100` → `if !(x > 100)`": ("caught", 1),
        "`x > 100` → `x >= 100`": ("survived", 1),
        "`return x * 2` → `return 0`": ("caught", 1),
        "`return out` → `return nil`": ("caught", 1),
    }
    assert "1 mutant(s) did not compile and are not counted." in v.notes  # sort.Ints deleted
    assert (
        "Go coverage ran the tests of the 1 changed package(s) only; the tests of 1 other "
        "package(s) did not run for it: `./text`." in v.notes
    )
    rubric = {row.subject: row.status for row in v.rubric}
    assert rubric == {"`Double`": "Not pinned", "`Half`": "Not covered", "`Sorted`": "Pinned"}
    titles = [f.title for f in report.findings]
    assert (
        "Not pinned by any test: `x > 100` → `x >= 100` at calc/calc.go:18 keeps the suite green"
        in titles
    )
    assert "No test runs the added lines of `Half`" in titles
    testing = run.review.testing  # type: ignore[union-attr]
    assert "Changed-line coverage: the tests execute 5 of the 7 added executable line(s)" in testing
    assert "Of 4 mutations of the changed lines, the suite caught 3." in testing
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("setting", "value", "why"),
    [
        ("MAX_TESTS", 3, "it has 4 tests, more than 3"),
        # A test binary's start-up longer than any budget: no test fits alone.
        ("STARTUP_S", 10_000.0, "the time ran out after 0 of its 4 tests"),
    ],
)
def test_a_package_over_the_cap_or_the_time_falls_back_to_all_its_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: float, why: str
) -> None:
    monkeypatch.setattr(go_tests, setting, value)
    repo = feature(tmp_path)
    _, run = run_go_verify(repo, tmp_path, budget_s=300)
    v = verification(run)
    assert v.executed[2].label == "coverage of the changed lines"
    assert v.executed[2].command == "calc.test -test.v -test.coverprofile=calc.out"
    assert v.executed[2].exit_code == 0
    assert (
        f"Go coverage of `./calc` is package-wide ({why}): its tests ran together, and a "
        "mutant of a line they execute runs all of them." in v.notes
    )
    assert not any(n.startswith("Go coverage was measured per test") for n in v.notes)
    assert (v.added_lines, v.covered_lines) == (7, 5)  # the same coverage, measured at once
    # Every mutant ran the package's four tests: TestSourceUnchanged catches Double's condition.
    ran = {m.description: (m.outcome, m.tests) for m in v.mutations}
    assert ran["`x > 100` → `x >= 100`"] == ("caught", 4)
    assert {t for _, t in ran.values()} == {4} and len(ran) == 4


def test_a_go_change_that_breaks_a_test_fails_at_head_and_passes_at_base(tmp_path: Path) -> None:
    repo = go_project(tmp_path)
    commit(repo, {"calc/calc.go": BASE.replace("return hi\n", "return hi - 1\n")}, "off by one")
    report, run = run_go_verify(repo, tmp_path)
    v = verification(run)
    assert v.broken_by_change == ["example.com/calc/calc.TestClamp"]
    assert [e.exit_code for e in v.executed[:2]] == [1, 0]
    assert "merge base" in v.executed[1].where
    (critical,) = [f for f in report.findings if f.severity == "critical"]
    assert "Clamp(11, 0, 10) = 9" in critical.body
    assert v.covered_lines == v.added_lines == 1  # the changed return ran
    assert report.verdict.decision == "Rework"
