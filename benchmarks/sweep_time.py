"""What sweeping the folders of killed reviews costs.

Run: python benchmarks/sweep_time.py [--files 20000] [--entries 1000] [--repeat 3]
Prints the time of a sweep with nothing to remove in a temp folder of ENTRIES unrelated entries,
the time of a sweep removing the worktree of a review killed with SIGKILL (a repository of FILES
files), and the wall-clock of a `deepreview review --agent scan` of that repository without and
with such a leftover (the sweep runs beside the review), medians after a warm-up review.
"""

from __future__ import annotations

import argparse
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

from deepreview.source.tempdirs import sweep  # noqa: E402

#: Holds a worktree of the repository and commit on its command line until killed.
HOLDER = """
import sys, time
from pathlib import Path
from deepreview.source.worktree import worktree
with worktree(Path(sys.argv[1]), sys.argv[2]) as path:
    print(path, flush=True)
    time.sleep(600)
"""


def make_repo(base: Path, files: int) -> Path:
    repo = factory.make_repo(base / "repo", {"README.md": "# bench\n"})
    factory.write(repo, {f"pkg{i % 100}/mod{i}.py": f"X{i} = {i}\n" for i in range(files)})
    factory.git(repo, "add", "-A")
    factory.git(repo, "commit", "-qm", "Add modules")
    factory.git(repo, "checkout", "-qb", "feature")
    factory.commit(repo, {"app.py": "def mean(xs):\n    return sum(xs) / len(xs)\n"}, "Add mean")
    return repo


def leave_worktree(repo: Path, tmp: Path) -> Path:
    """The folder of a worktree whose owner was killed with SIGKILL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo), "HEAD"],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().strip())
    proc.kill()
    proc.wait()
    return path.parent


def review_s(repo: Path, tmp: Path, out: Path) -> float:
    t0 = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "deepreview", "review", "--agent", "scan", "--output", str(out)],
        cwd=repo,
        env={**os.environ, "TMPDIR": str(tmp)},
        check=True,
        capture_output=True,
    )
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        tmp = base / "tmp"
        tmp.mkdir()
        for i in range(args.entries):
            (tmp / f"other-{i}").mkdir()
        t0 = time.perf_counter()
        assert sweep(root=tmp) == []
        idle = time.perf_counter() - t0
        print(f"sweep with nothing to remove, {args.entries} entries: {idle * 1000:.1f} ms")

        repo = make_repo(base, args.files)
        leftover = leave_worktree(repo, tmp)
        t0 = time.perf_counter()
        assert sweep(root=tmp) == [leftover]
        removal = time.perf_counter() - t0
        registered = len(factory.git(repo, "worktree", "list").splitlines())
        print(
            f"sweep of a killed review's worktree, {args.files} files: {removal:.2f} s "
            f"(worktrees still registered: {registered - 1})"
        )

        review_s(repo, tmp, base / "out")  # warm-up: the history database is created
        clean, swept = [], []
        for _ in range(args.repeat):
            clean.append(review_s(repo, tmp, base / "out"))
            leftover = leave_worktree(repo, tmp)
            swept.append(review_s(repo, tmp, base / "out"))
            assert not leftover.exists()
        print(
            f"review --agent scan: {statistics.median(clean):.2f} s; "
            f"with a leftover to sweep: {statistics.median(swept):.2f} s"
        )


if __name__ == "__main__":
    main()
