"""Overhead of deepreview over its agents: three fake AI CLIs that each take 5 s.

Run: python benchmarks/overhead.py [--delay 5] [--repeat 3]
Prints the command's wall-clock time, the report's own wall-clock, and their ratio to the
slowest agent's time (target: <= 1.1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import repo_factory as factory  # noqa: E402

FAKES = ROOT / "tests" / "fakes"
REVIEW = {
    "summary": "ok",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "title": "Division by zero on an empty list",
            "locations": [{"path": "app.py", "start_line": 2}],
            "excerpt": "return sum(xs) / len(xs)",
        }
    ],
}


def make_repo(base: Path) -> Path:
    repo = factory.make_repo(base / "repo", {"README.md": "# bench\n"})
    factory.git(repo, "checkout", "-qb", "feature")
    factory.commit(repo, {"app.py": "def mean(xs):\n    return sum(xs) / len(xs)\n"}, "Add mean")
    return repo


def one_run(repo: Path, out: Path, env: dict[str, str]) -> tuple[float, float, float]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepreview",
            "review",
            "--no-cache",
            "--agent",
            "claude",
            "--agent",
            "codex",
            "--agent",
            "gemini",
            "--output",
            str(out),
            "--format",
            "json",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"review failed: {proc.stderr}")
    report = json.loads(max(out.glob("*.json"), key=lambda p: p.stat().st_mtime).read_text())
    statuses = [r["status"] for r in report["runs"]]
    if statuses != ["ok", "ok", "ok"]:
        sys.exit(f"agents did not all succeed: {statuses}")
    slowest = max(float(r["duration_s"]) for r in report["runs"])
    return elapsed, float(report["wall_clock_s"]), slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=5.0, help="seconds (> 0) per agent")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.delay <= 0:
        parser.error("--delay must be positive")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = make_repo(base)
        review = base / "review.json"
        review.write_text(json.dumps(REVIEW))
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
        env["PATH"] = f"{FAKES}{os.pathsep}{env['PATH']}"
        for agent in ("CLAUDE", "CODEX", "GEMINI"):
            env[f"FAKE_{agent}_DELAY"] = str(args.delay)
            env[f"FAKE_{agent}_REVIEW"] = str(review)
        results = [one_run(repo, base / f"out{i}", env) for i in range(args.repeat)]
    command = statistics.median(r[0] for r in results)
    report = statistics.median(r[1] for r in results)
    slowest = statistics.median(r[2] for r in results)
    print(f"three agents of {args.delay:g} s each, {args.repeat} runs (median)")
    print(f"  command wall-clock : {command:6.2f} s   ratio {command / args.delay:.3f}")
    print(f"  report wall-clock  : {report:6.2f} s   ratio {report / args.delay:.3f}")
    print(f"  slowest agent      : {slowest:6.2f} s   (its own run, as the report records it)")
    print(f"  report vs slowest  : +{report - slowest:5.2f} s   ratio {report / slowest:.3f}")
    print(
        f"  overhead           : {command - args.delay:6.2f} s (interpreter start, worktree, "
        "agents' process start, consolidation, rendering)"
    )


if __name__ == "__main__":
    main()
