"""Parse synthetic git diffs of ~20 MB and ~200 MB, streamed from a file; print time and peak RSS.

Usage: python benchmarks/big_diff.py [--sizes 20,200]

Each size is parsed in a fresh subprocess so that peak RSS figures are separate.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deepreview.diff import parse_diff

HUNKS_PER_FILE = 4
CONTEXT = 3


def hunk(number: int, start: int) -> bytes:
    """One hunk: 3 context, 2 deleted, 4 added, 1 context, 2 deleted, 3 added, 3 context."""
    ctx = [f"    value_{number}_{k} = compute(value_{number}_{k - 1}, {k})" for k in range(7)]
    body = [
        *(" " + c for c in ctx[:CONTEXT]),
        f"-    old_call({number}, 'first')",
        f"-    old_call({number}, 'second')",
        f"+    new_call({number}, 'first', retries=3)",
        f"+    new_call({number}, 'second', retries=3)",
        f"+    log.debug('called %s', {number})",
        "+",
        " " + ctx[3],
        f"-    return legacy_result_{number}",
        "-",
        f"+    result = merge(result_{number}, extra)",
        f"+    return result  # {number}",
        "+    # trailing note",
        *(" " + c for c in ctx[4:]),
    ]
    old_count = sum(1 for ln in body if ln[0] in " -")
    new_count = sum(1 for ln in body if ln[0] in " +")
    new_start = start + number % 5
    header = f"@@ -{start},{old_count} +{new_start},{new_count} @@ def function_{number}():"
    return ("\n".join([header, *body]) + "\n").encode()


def generate(path: Path, megabytes: int) -> int:
    """Write a git-style diff of about `megabytes` MB, one file at a time; return its size."""
    target = megabytes * 1_000_000
    written = 0
    with path.open("wb") as out:
        i = 0
        while written < target:
            name = f"src/pkg_{i % 97}/module_{i}.py"
            parts = [
                f"diff --git a/{name} b/{name}\nindex 1a2b3c4..5d6e7f8 100644\n"
                f"--- a/{name}\n+++ b/{name}\n".encode()
            ]
            parts += [hunk(i * HUNKS_PER_FILE + h, 10 + 40 * h) for h in range(HUNKS_PER_FILE)]
            block = b"".join(parts)
            out.write(block)
            written += len(block)
            i += 1
    return written


def parse(path: Path) -> dict[str, float]:
    """Parse `path` by streaming it; the figures of this process."""
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    with path.open("rb") as fh:
        diff = parse_diff(fh)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lines = sum(len(h.lines) for f in diff.files for h in f.hunks)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": peak_rss / 1024,
        "model_rss_mb": (peak_rss - base_rss) / 1024,
        "files": len(diff.files),
        "lines": lines,
        "errors": len(diff.errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="comma-separated sizes in MB")
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse is not None:
        print(json.dumps(parse(args.parse)))
        return 0
    print(
        f"{'size':>8} {'files':>7} {'lines':>9} {'wall s':>7} {'cpu s':>6} {'MB/s':>5} "
        f"{'peak RSS MB':>11} {'model B/line':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for megabytes in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"big_{megabytes}.diff"
            size = generate(path, megabytes)
            run = subprocess.run(
                [sys.executable, __file__, "--parse", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(run.stdout)
            path.unlink()
            if r["errors"]:
                print(f"parse errors: {r['errors']}", file=sys.stderr)
                return 1
            per_line = r["model_rss_mb"] * 1024 * 1024 / max(r["lines"], 1)
            print(
                f"{size / 1e6:>6.0f}MB {r['files']:>7} {r['lines']:>9} {r['seconds']:>7.1f} "
                f"{r['cpu_seconds']:>6.1f} {size / 1e6 / r['cpu_seconds']:>5.1f} "
                f"{r['peak_rss_mb']:>11.0f} {per_line:>12.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
