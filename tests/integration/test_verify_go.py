"""The `verify` reviewer on a real Go module (standard library only, so nothing is fetched):
`go test` at the head, changed-line coverage from `-coverprofile`, mutation probes read on Go's
syntax by deepreview's own Go program."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
"""


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


def test_go_coverage_and_mutations_of_the_changed_lines(tmp_path: Path) -> None:
    repo = go_project(tmp_path)
    commit(
        repo,
        {"calc/calc.go": CLAMP + ADDED, "calc/calc_test.go": CLAMP_TEST + ADDED_TEST},
        "Double, Half and Sorted",
    )
    report, run = run_go_verify(repo, tmp_path, budget_s=300)  # every probe, even under load
    v = verification(run)
    assert [e.label for e in v.executed] == [
        "tests at head",
        "coverage of the changed lines",
        "mutation probes",
    ]
    assert v.executed[0].command == "go test ./..." and v.executed[0].exit_code == 0
    assert "4 passed" in run.review.testing  # type: ignore[union-attr]
    coverage_cmd = v.executed[1].command
    assert "-coverprofile=go-cover.out" in coverage_cmd and coverage_cmd.endswith("./calc")
    # Added statements: Double's if, two returns; Half's return; Sorted's three statements.
    assert (v.added_lines, v.covered_lines) == (7, 5)
    assert [loc.label() for loc in v.uncovered] == ["calc/calc.go:19", "calc/calc.go:26"]
    outcomes = {m.description: m.outcome for m in v.mutations}
    assert outcomes == {
        "`if x > 100` → `if !(x > 100)`": "caught",
        "`x > 100` → `x >= 100`": "survived",
        "`return x * 2` → `return 0`": "caught",
        "`return out` → `return nil`": "caught",
    }
    assert all(m.tests == 3 for m in v.mutations)  # the changed package's three tests
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
