"""The scan agent on inputs that used to be slow: long random lines and a minified line.

Run: python benchmarks/scan_lines.py [--lines 50] [--length 20000]
Prints the seconds (CPU) that the scan's checks take for N random lines of the given length,
for one such line, and for a 1 MB line (skipped as too long), plus lines of code per second on
ordinary short lines (linear: doubling the input doubles the time).
"""

from __future__ import annotations

import argparse
import random
import string
import time
from pathlib import Path

from deepreview.agents.scan import capped_diff, scan_review
from deepreview.diff import Diff, parse_diff


def added_file(path: str, lines: list[str]) -> Diff:
    head = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    body = "".join(f"+{line}\n" for line in lines)
    return parse_diff(f"{head}@@ -0,0 +1,{len(lines)} @@\n{body}")


def scan_seconds(diff: Diff) -> float:
    t0 = time.process_time()
    capped, _ = capped_diff(diff)
    scan_review(capped, Path("."), [])
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--length", type=int, default=20_000)
    args = parser.parse_args()
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits

    def line(n: int) -> str:
        return 's = "' + "".join(rng.choice(alphabet) for _ in range(n)) + '"'

    many = [line(args.length) for _ in range(args.lines)]
    seconds = scan_seconds(added_file("a.py", many))
    print(f"{args.lines} random lines of {args.length:,}: {seconds:.2f} s")
    print(f"1 random line of {args.length:,}: {scan_seconds(added_file('a.py', many[:1])):.3f} s")
    print(f"1 line of 1,000,000: {scan_seconds(added_file('b.js', ['x' * 1_000_000])):.3f} s")
    words = ["token", "=", "'value'", "# TODO", "print(x)", "auth", "(", ")"]
    for n in (10_000, 20_000):
        code = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(n)]
        seconds = scan_seconds(added_file("c.py", code))
        print(f"{n:,} short lines: {seconds:.2f} s ({n / seconds:,.0f} lines/s)")


if __name__ == "__main__":
    main()
