"""Per-test Go coverage with several single-test runs at once (`verify.test_concurrency`): the
runs overlap, and what they measure is what one run at a time measures."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path

import pytest

from deepreview.verify import changed_coverage
from deepreview.verify.environment import ProjectEnvironment, scrubbed_environment
from deepreview.verify.execute import Confinement, Execution, execute
from deepreview.verify.go_tests import GoCoverage, per_test_coverage
from tests.integration.test_cli_agents import alive
from tests.integration.test_verify import verification
from tests.integration.test_verify_go import GO_MOD, run_go_verify
from tests.repo_factory import commit, git, make_repo, write

pytestmark = pytest.mark.go

ADDED = """package calc

// Double doubles x up to 100.
func Double(x int) int {
	if x > 100 {
		return x
	}
	return x * 2
}

// Half halves x.
func Half(x int) int {
	return x / 2
}

// Neg negates x.
func Neg(x int) int {
	return -x
}

// Square is not tested.
func Square(x int) int {
	return x * x
}
"""
#: The tests' helpers. In a coverage run only (not at the head, not for a mutant), `timed`
#: sleeps a second and keeps in `stamps/` when it started and ended, and `stuck` keeps its
#: process id in `pids/` and sleeps two minutes (files beside the tests, in the scratch copy).
HELPERS = """package calc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func keep(t *testing.T, folder, name, text string) {
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func timed(t *testing.T) {
	if testing.CoverMode() != "" {
		start := time.Now().UnixNano()
		time.Sleep(time.Second)
		keep(t, "stamps", t.Name(), fmt.Sprintf("%d %d", start, time.Now().UnixNano()))
	}
}

func stuck(t *testing.T) {
	if testing.CoverMode() != "" {
		keep(t, "pids", strconv.Itoa(os.Getpid()), "")
		time.Sleep(2 * time.Minute)
	}
}

func want(t *testing.T, got, expected int) {
	if got != expected {
		t.Fatalf("got %d, want %d", got, expected)
	}
}
"""
#: Four tests of a second each in a coverage run.
TESTS = """package calc

import "testing"

func TestDouble(t *testing.T) { timed(t); want(t, Double(3), 6) }

func TestDoubleBig(t *testing.T) { timed(t); want(t, Double(200), 200) }

func TestHalf(t *testing.T) { timed(t); want(t, Half(4), 2) }

func TestNeg(t *testing.T) { timed(t); want(t, Neg(1), -1) }
"""

Observed = list[tuple[GoCoverage, float, list[tuple[int, int]]]]


def watch_coverage(monkeypatch: pytest.MonkeyPatch) -> Observed:
    """Each Go coverage measurement: what it returned, its wall time and the tests' stamps."""
    seen: Observed = []
    real = changed_coverage.per_test_coverage

    async def observed(*args, **kwargs):  # type: ignore[no-untyped-def]
        stamps = args[1] / "calc" / "stamps"
        t0 = time.monotonic()
        cov = await real(*args, **kwargs)
        wall = time.monotonic() - t0
        spans = [tuple(map(int, p.read_text().split())) for p in sorted(stamps.glob("Test*"))]
        seen.append((cov, wall, spans))  # type: ignore[arg-type]
        return cov

    monkeypatch.setattr(changed_coverage, "per_test_coverage", observed)
    return seen


def overlapping(spans: Sequence[tuple[int, int]]) -> int:
    """How many pairs of (start, end) intervals overlap."""
    return sum(a[0] < b[1] and b[0] < a[1] for a, b in itertools.combinations(spans, 2))


def test_single_test_runs_overlap_and_measure_what_one_at_a_time_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(
        tmp_path / "gomod",
        {
            "go.mod": GO_MOD,
            "calc/calc.go": "package calc\n",
            "calc/calc_test.go": TESTS,
            "calc/helpers_test.go": HELPERS,
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"calc/calc.go": ADDED}, "Double, Half, Neg and Square")
    seen = watch_coverage(monkeypatch)
    runs = {}
    for n in (3, 1):
        _, run = run_go_verify(repo, tmp_path / f"at-{n}", budget_s=300, test_concurrency=n)
        runs[n] = verification(run)
    (parallel, parallel_s, parallel_spans), (serial, serial_s, serial_spans) = seen
    print(f"per-test coverage wall time: {parallel_s:.2f} s at 3, {serial_s:.2f} s at 1")
    assert len(parallel_spans) == len(serial_spans) == 4  # each test ran once, in coverage
    assert overlapping(parallel_spans) >= 1
    assert overlapping(serial_spans) == 0
    # The same profiles, in the same order, and the same outcomes.
    assert parallel.profiles == serial.profiles
    assert [p.tests for p in parallel.profiles] == [
        frozenset({f"example.com/calc/calc.{t}"})
        for t in ("TestDouble", "TestDoubleBig", "TestHalf", "TestNeg")
    ]
    assert {k: r.outcome for k, r in parallel.results.items()} == {
        k: r.outcome for k, r in serial.results.items()
    }
    assert list(parallel.results) == list(serial.results)
    assert parallel.notes == serial.notes
    three, one = runs[3], runs[1]
    assert [(e.label, e.command) for e in three.executed] == [
        (e.label, e.command) for e in one.executed
    ]
    assert three.notes == one.notes
    assert (three.added_lines, three.covered_lines) == (one.added_lines, one.covered_lines)
    assert (three.added_lines, three.covered_lines) == (6, 5)  # Square's return not run
    assert [loc.label() for loc in three.uncovered] == ["calc/calc.go:23"]
    assert [(m.description, m.outcome, m.tests) for m in three.mutations] == [
        (m.description, m.outcome, m.tests) for m in one.mutations
    ]
    # A mutant of Double's condition ran only the two tests that execute it.
    assert {m.tests for m in three.mutations if "x > 100" in m.description} == {2}


#: Two tests stuck for two minutes in a coverage run, two quick ones.
STUCK = """package calc

import "testing"

func TestStuckA(t *testing.T) { stuck(t) }

func TestDouble(t *testing.T) { want(t, Double(3), 6) }

func TestStuckB(t *testing.T) { stuck(t) }

func TestHalf(t *testing.T) { want(t, Half(4), 2) }
"""


def test_runs_at_once_are_killed_at_the_limit_and_on_cancellation(tmp_path: Path) -> None:
    go = shutil.which("go")
    assert go is not None, "the go marker needs Go installed (apt-get install golang-go)"
    tree = tmp_path / "tree"
    files = {"go.mod": GO_MOD, "calc/calc.go": ADDED, "calc/calc_test.go": STUCK}
    write(tree, {**files, "calc/helpers_test.go": HELPERS})
    work, home, tmp = tmp_path / "work", tmp_path / "work/home", tmp_path / "work/tmp"
    for folder in (home, tmp):
        folder.mkdir(parents=True)
    project = ProjectEnvironment((Path(go).resolve().parent,), None, "Go on PATH")
    env = scrubbed_environment({"PATH": "/usr/bin:/bin"}, project, home, tmp)
    confinement = Confinement(writable=(tmp_path,), memory_bytes=4 << 30)
    pids = tree / "calc" / "pids"

    async def run(label: str, argv: Sequence[str], cwd: Path, timeout: float) -> Execution:
        return await execute(
            label,
            argv,
            cwd=cwd,
            where="scratch",
            env=env,
            timeout_s=timeout,
            confinement=confinement,
            capture_dir=work / "output",
        )

    def coverage(deadline: float) -> Awaitable[GoCoverage]:
        return per_test_coverage(run, tree, work, "example.com/calc", ["./calc"], deadline, {}, 3)

    async def cancelled() -> list[int]:
        task = asyncio.create_task(coverage(time.monotonic() + 600))
        for _ in range(1200):  # both stuck tests run at once (the build comes first)
            if len(list(pids.glob("*"))) == 2 or task.done():
                break
            await asyncio.sleep(0.1)
        running = [int(p.name) for p in pids.glob("*")]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return running

    running = asyncio.run(cancelled())
    assert len(running) == 2 and not any(map(alive, running))
    shutil.rmtree(pids)
    t0 = time.monotonic()
    cov = asyncio.run(coverage(time.monotonic() + 8))
    took = time.monotonic() - t0
    timed_out = [int(p.name) for p in pids.glob("*")]
    assert len(timed_out) == 3 and not any(map(alive, timed_out))  # two alone, one together
    assert took < 60  # the stuck runs (two minutes each) were stopped at the limit
    # The single-test runs ran out of time; so did the run of all four together.
    assert cov.notes == ["The coverage run of `./calc`'s tests hit its time limit."]
    assert [(e.label, e.timed_out) for e in cov.executed] == [
        ("coverage test binary", False),
        ("coverage of the changed lines", True),
    ]
    assert cov.profiles == [] and cov.results == {}
