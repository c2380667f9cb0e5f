"""Consolidation speed: 5 agents x 2,000 findings over 1,000 files, then 4x and 16x that.

    python benchmarks/consolidate_scale.py [--max-scale 16]

Synthetic agents raise overlapping findings (random words, lines, excerpts that are in the
files, analyzer rule hits) over files of 300 lines read from memory. Printed per scale: findings,
consolidated findings, CPU seconds and seconds per 1,000 findings (flat means linear).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.synthetic import build

from deepreview.consolidate import consolidate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-scale", type=int, default=16, help="largest multiple (1, 4, 16)")
    args = parser.parse_args(argv)
    print(f"{'scale':>5} {'findings':>9} {'files':>6} {'merged':>7} {'cpu s':>7} {'s/1k':>6}")
    for scale in (s for s in (1, 4, 16) if s <= args.max_scale):
        inp = build(per_agent=2000 * scale, n_files=1000 * scale)
        total = sum(len(r.review.findings) for r in inp.runs if r.review is not None)
        start = time.process_time()
        result = consolidate(inp)
        cpu = time.process_time() - start
        print(
            f"{scale:>4}x {total:>9} {1000 * scale:>6} {len(result.findings):>7} "
            f"{cpu:>7.2f} {1000 * cpu / total:>6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
