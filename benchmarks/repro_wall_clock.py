"""What running the AI agents' repros adds to a review's wall-clock: `deepreview review` with the
fake claude replaying the recorded repro-backed answer (`tests/fixtures/cli/claude/repro.jsonl`)
after a delay standing in for a slow agent, and `verify` running its three repros.

Usage: python benchmarks/repro_wall_clock.py [--delays 0,20]

Run from the repository root (it uses `tests/fakes` and `tests/repro_case.py`). Prints, per
delay, the review's wall-clock, the agent's and verify's durations and how long verify went on
after the agent: the repros of the slowest agent's claims, which start once it has finished.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.repro_case import CONFIG, make_calc_change, replay_environment  # noqa: E402


def review(root: Path, delay: float) -> str:
    """One review after `delay` seconds of the agent; its figures as one line."""
    repo, _ = make_calc_change(root)
    (repo / "deepreview.toml").write_text(CONFIG, encoding="utf-8")
    env = replay_environment(root / "home", FAKE_CLAUDE_DELAY=str(delay))
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "deepreview", "review", "--output", str(root / "out")],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    total = time.monotonic() - t0
    data = json.loads(next((root / "out").glob("*.json")).read_text(encoding="utf-8"))
    runs = {r["agent"]: r["duration_s"] for r in data["runs"]}
    labels = ", ".join(r["label"] for r in data["reproductions"])
    after = runs["verify"] - runs["claude"]
    return (
        f"delay {delay:g} s: review {total:.1f} s, claude {runs['claude']:.1f} s, verify "
        f"{runs['verify']:.1f} s ({after:+.1f} s after claude); repros: {labels}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", default="0,20", help="agent delays in seconds")
    args = parser.parse_args()
    for delay in (float(d) for d in args.delays.split(",")):
        with tempfile.TemporaryDirectory(prefix="repro-bench-") as tmp:
            print(review(Path(tmp), delay), flush=True)


if __name__ == "__main__":
    main()
