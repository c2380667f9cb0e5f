"""What cross-examination adds to a review's wall-clock: two fake AI CLIs (claude and codex)
replaying the recorded cross-examination runs (`tests/fixtures/cli/*/crossexam-*.jsonl`), each
answer taking `--delay` seconds; each raises one claim the other vendor examines.

Run: python benchmarks/crossexam_time.py [--delay 5] [--budget 2]
Prints, for the review without cross-examination, with it, and with a budget shorter than an
examination: the report's wall-clock, the slowest agent's review, what cross-examination added
(the report's wall-clock less that of the review without it) and each examination's outcome
(target: added <= budget).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import repo_factory as factory  # noqa: E402
from tests.contract.crossexam_scenario import APP_AFTER  # noqa: E402

FAKES = ROOT / "tests" / "fakes"
ANSWERS = {"claude": "crossexam-confirm", "codex": "crossexam-refute"}


def make_repo(base: Path) -> Path:
    repo = factory.make_repo(base / "repo", {"app.py": "import subprocess\n"})
    factory.git(repo, "checkout", "-qb", "helpers")
    factory.commit(repo, {"app.py": APP_AFTER}, "Add helpers")
    return repo


def one_review(repo: Path, out: Path, env: dict[str, str], config: str) -> dict[str, Any]:
    (repo / "deepreview.toml").write_text(config)
    command = (sys.executable, "-m", "deepreview", "review", "--no-cache", "--format", "json")
    proc = subprocess.run(
        [*command, "--agent", "claude", "--agent", "codex", "--output", str(out)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"review failed: {proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(next(out.glob("*.json")).read_text())
    if [r["status"] for r in report["runs"]] != ["ok", "ok"]:
        sys.exit(f"agents did not all succeed: {report['runs']}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=5.0, help="seconds (> 0) per answer")
    parser.add_argument("--budget", type=float, default=2.0, help="a budget below --delay")
    args = parser.parse_args()
    if args.delay <= 0 or args.budget <= 0:
        parser.error("--delay and --budget must be positive")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = make_repo(base)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
        env |= {"PATH": f"{FAKES}{os.pathsep}{env['PATH']}", "HOME": str(base / "home")}
        for cli, answer in ANSWERS.items():
            prefix = f"FAKE_{cli.upper()}_"
            env |= {
                prefix + "MODE": "replay",
                prefix + "RECORDING": "crossexam-review",
                prefix + "RECORDING_WHEN": json.dumps({"# The claim to examine": answer}),
                prefix + "DELAY": str(args.delay),
            }
        cases = [
            ("without cross-examination", "[cross_examination]\nenabled = false\n", None),
            ("with cross-examination", "", 300.0),
            (
                f"budget {args.budget:g} s",
                f"[cross_examination]\nbudget_s = {args.budget}\n",
                args.budget,
            ),
        ]
        print(f"two agents (claude, codex), every answer {args.delay:g} s")
        without: float | None = None
        for n, (label, config, budget) in enumerate(cases):
            report = one_review(repo, base / f"out{n}", env, config)
            slowest = max(float(r["duration_s"]) for r in report["runs"])
            wall = float(report["wall_clock_s"])
            without = wall if without is None else without
            added = wall - without
            outcomes = ", ".join(
                f"{e['examiner_agent']}: {e['verdict'] if e['status'] == 'ok' else e['status']}"
                for e in report["examinations"]
            )
            within = (
                ""
                if budget is None
                else f"  (budget {budget:g} s: {'within' if added <= budget else 'OVER'})"
            )
            print(
                f"  {label:<26} report {report['wall_clock_s']:6.2f} s, slowest agent "
                f"{slowest:5.2f} s, added {added:+6.2f} s{within}; {outcomes or 'none examined'}"
            )


if __name__ == "__main__":
    main()
