"""Report sizes for a real range: the Markdown, HTML and JSON a review of it writes.

Run: python benchmarks/report_size.py REPO --base REF --head REF [--agent scan --agent ruff ...]
REPO is a clone outside this project. Prints each format's size, the number of skipped files
and findings, and where the verdict sits in the Markdown (its line number).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--base", required=True)
    parser.add_argument("--head", required=True)
    parser.add_argument("--agent", action="append", dest="agents")
    args = parser.parse_args()
    agents = args.agents or ["scan", "ruff", "bandit"]
    with tempfile.TemporaryDirectory(prefix="deepreview-size-") as out:
        command = [
            sys.executable, "-m", "deepreview", "review", "-C", str(args.repo),
            "--base", args.base, "--head", args.head, "--format", "md,html,json",
            "--output", out, "--no-cache",
            *(flag for agent in agents for flag in ("--agent", agent)),
        ]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(proc.stderr.strip() or f"deepreview exited {proc.returncode}")
        folder = Path(out)
        paths = {
            ext: next(p for p in folder.glob(f"*.{ext}") if p.name != "index.html")
            for ext in ("md", "html", "json")
        }
        sizes = {ext: path.stat().st_size for ext, path in paths.items()}
        report = json.loads(paths["json"].read_text(encoding="utf-8"))
        md = paths["md"].read_text(encoding="utf-8").splitlines()
    verdict_line = next(n for n, line in enumerate(md, 1) if "Verdict" in line)
    print(f"range      {args.base}..{args.head}: {len(report['target']['commits'])} commits")
    for ext, size in sizes.items():
        print(f"{ext:<10} {size:>10,} bytes")
    print(f"skipped    {len(report['target'].get('skipped_files', []))} files")
    earlier = len(report.get("pre_existing", []))
    print(f"findings   {len(report['findings'])} (+{earlier} pre-existing)")
    print(f"verdict    Markdown line {verdict_line}: {report['verdict']['decision']}")
    print(f"wall-clock {elapsed:.1f} s")


if __name__ == "__main__":
    main()
