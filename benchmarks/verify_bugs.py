"""`verify` on real bugs: each pair is a fix commit of a real project whose test fails without
it. The change under review is the fix reverted (its source part; the project's tests, the
fix's new test included, stay), reviewed against the fix commit.

Run: python benchmarks/verify_bugs.py --root DIR [--pairs benchmarks/verify_bugs.toml]
                                      [--budget 50] [--only NAME] [--test-concurrency N]

DIR holds one clone per project (`DIR/<project>`, as named in the pairs file); a Python project
has a virtualenv holding its test dependencies and coverage (`DIR/<project>/.venv`), a Go
project needs `go` on /usr/bin:/bin and only the standard library (GOPROXY=off); nothing is
fetched. Prints, per pair and in total: whether `verify` caught the reintroduced bug (the
expected test fails at the head and passes at the base), the mutation score of the changed
lines, the review's wall-clock with and without `verify`, and the time of the changed lines'
coverage runs (`--test-concurrency`: Go single-test runs at once, default the CPU count).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from deepreview.config import Config, VerifyConfig
from deepreview.pipeline import ReviewOptions, review
from deepreview.schema import AgentRun
from deepreview.source.resolve import TargetSpec
from deepreview.verify.go_tests import LABEL

HERE = Path(__file__).resolve().parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/bin:/bin",
}


@dataclass(frozen=True)
class Pair:
    project: str
    fix: str
    source: tuple[str, ...]
    test: str

    @property
    def name(self) -> str:
        return f"{self.project}@{self.fix[:10]}"


def load_pairs(path: Path) -> list[Pair]:
    data = tomllib.loads(path.read_text())
    return [Pair(p["project"], p["fix"], tuple(p["source"]), p["test"]) for p in data["pair"]]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


def reintroduce(clone: Path, pair: Pair, work: Path) -> Path:
    """A local clone at the fix with one more commit: the fix's source files as they were
    before it."""
    repo = work / "repo"
    git(work, "clone", "-q", "--no-hardlinks", "--shared", str(clone), str(repo))
    git(repo, "checkout", "-q", "-b", "reintroduced", pair.fix)
    git(repo, "checkout", f"{pair.fix}^", "--", *pair.source)
    git(repo, "commit", "-q", "-m", "Reintroduce the bug")
    return repo


def one_review(
    repo: Path, pair: Pair, settings: VerifyConfig, agents: list[str]
) -> tuple[float, AgentRun | None]:
    """The review's wall-clock and its `verify` run (None when verify did not take part)."""
    config = Config(verify=settings)
    started = time.monotonic()
    result = review(
        ReviewOptions(
            cwd=repo,
            target=TargetSpec(base=pair.fix, head="reintroduced"),
            agents=agents,
            config=config,
            output_dir=repo.parent / "out",
            formats=("json",),
            environ={"PATH": "/usr/bin:/bin", "HOME": str(repo.parent)},
            keep_history=False,
            use_cache=False,
        )
    )
    elapsed = time.monotonic() - started
    run = next((r for r in result.report.runs if r.agent == "verify"), None)
    return elapsed, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, default=HERE / "verify_bugs.toml")
    parser.add_argument("--budget", type=float, default=50.0)
    parser.add_argument("--only", default=None, help="Only pairs whose name contains this.")
    parser.add_argument("--test-concurrency", type=int, default=None)
    args = parser.parse_args()
    pairs = [p for p in load_pairs(args.pairs) if not args.only or args.only in p.name]
    caught = 0
    killed = probed = 0
    with_times: list[float] = []
    without_times: list[float] = []
    coverage_times: list[float] = []
    concurrency = args.test_concurrency or VerifyConfig().test_concurrency
    print(f"{'pair':<32} {'caught':<7} {'mutants':<9} {'with':>7} {'without':>8} {'coverage':>9}")
    for pair in pairs:
        clone = args.root / pair.project
        venv = clone / ".venv"
        environment = str(venv) if venv.is_dir() else "path"
        settings = VerifyConfig(
            environment=environment, budget_s=args.budget, test_concurrency=concurrency
        )
        with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
            repo = reintroduce(clone, pair, Path(tmp))
            t_without, _ = one_review(repo, pair, settings, ["scan"])
            t_with, run = one_review(repo, pair, settings, ["scan", "verify"])
        v = run.verification if run is not None else None
        t_coverage = sum(e.duration_s for e in (v.executed if v else []) if e.label == LABEL)
        coverage_times.append(t_coverage)
        hit = v is not None and any(
            t == pair.test or t.startswith(pair.test) for t in v.broken_by_change
        )
        ran = [m for m in v.mutations if m.outcome != "not run"] if v else []
        k = sum(m.outcome != "survived" for m in ran)
        caught += hit
        killed += k
        probed += len(ran)
        with_times.append(t_with)
        without_times.append(t_without)
        status = "yes" if hit else ("no" if v else f"({run.reason if run else 'no run'})")
        print(
            f"{pair.name:<32} {status:<7} {f'{k}/{len(ran)}':<9} {t_with:>6.1f}s "
            f"{t_without:>7.1f}s {t_coverage:>8.1f}s"
        )
    n = len(pairs)
    print()
    print(f"reintroduced bugs caught (fails at head, passes at base): {caught}/{n}")
    if probed:
        print(f"mutation score of the changed lines: {killed}/{probed} = {killed / probed:.2f}")
    else:
        print("mutation score of the changed lines: no mutant ran")
    if n:
        print(
            f"review wall-clock, mean: {sum(with_times) / n:.1f} s with verify, "
            f"{sum(without_times) / n:.1f} s without; coverage runs "
            f"{sum(coverage_times) / n:.1f} s at {concurrency} test(s) at once"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
