"""Parse synthetic git diffs of ~20 MB and ~200 MB from a file, as a review does, and review
them end to end (`deepreview review --agent scan --patch FILE`); print time and peak RSS.

Usage: python benchmarks/big_diff.py [--sizes 20,200] [--no-review]

Each parse and each review runs in a fresh process so that peak RSS figures are separate. The
review's peak RSS is that of the deepreview process alone (git, which it runs to make a worktree
and try the patch, is not counted). The synthetic patch does not apply to the scratch repository,
which the report notes; the scan agent still reviews the whole diff.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deepreview.diff import parse_diff_file

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
    """Parse `path` as a review does; the figures of this process."""
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    diff = parse_diff_file(path)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": peak_rss / 1024,
        "model_rss_mb": (peak_rss - base_rss) / 1024,
        "files": len(diff.files),
        "hunks": sum(len(f.hunks) for f in diff.files),
        "errors": len(diff.errors),
    }


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def review(patch: Path, work: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of `deepreview review` of `patch`."""
    repo = work / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    (repo / "README").write_text("scratch\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    command = [sys.executable, "-m", "deepreview", "review", "--agent", "scan", "--no-cache"]
    command += ["--patch", str(patch), "--output", str(work / "out")]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    assert proc.stderr is not None
    if proc.returncode not in (0, 1):
        print(proc.stderr.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return seconds, peak, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="comma-separated sizes in MB")
    parser.add_argument("--no-review", action="store_true", help="only parse")
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse is not None:
        print(json.dumps(parse(args.parse)))
        return 0
    print(
        f"{'size':>8} {'files':>7} {'hunks':>8} {'wall s':>7} {'MB/s':>5} {'peak RSS MB':>11} "
        f"{'model MB':>8} {'review s':>8} {'review RSS MB':>13}"
    )
    for megabytes in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"big_{megabytes}.diff"
            size = generate(path, megabytes)
            run = subprocess.run(
                [sys.executable, __file__, "--parse", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(run.stdout)
            if r["errors"]:
                print(f"parse errors: {r['errors']}", file=sys.stderr)
                return 1
            figures = "-", "-"
            if not args.no_review:
                seconds, peak, code = review(path, Path(tmp))
                if code not in (0, 1):
                    return 1
                figures = f"{seconds:.1f}", f"{peak:.0f}"
            print(
                f"{size / 1e6:>6.0f}MB {r['files']:>7} {r['hunks']:>8} {r['seconds']:>7.1f} "
                f"{size / 1e6 / r['cpu_seconds']:>5.1f} {r['peak_rss_mb']:>11.0f} "
                f"{r['model_rss_mb']:>8.0f} {figures[0]:>8} {figures[1]:>13}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
