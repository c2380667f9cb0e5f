"""Consolidation speed: 5 agents x 2,000 findings over 1,000 files, then 4x and 16x that.

    python benchmarks/consolidate_scale.py [--max-scale 16]

Synthetic agents raise overlapping findings (random words, lines, excerpts that are in the
files, analyzer rule hits) over files of 300 lines read from memory. Printed per scale: findings,
consolidated findings, CPU seconds and seconds per 1,000 findings (flat means linear).
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.schema import AgentReview, AgentRun, Finding, Location

WORDS = ("race", "leak", "timeout", "retry", "cache", "lock", "parse", "encode", "shell", "close")
AGENTS = [
    ("Claude Opus 4.6", "claude-opus-4-6", "ai"),
    ("Claude Sonnet 4.5", "claude-sonnet-4-5", "ai"),
    ("Codex GPT 5.4", "gpt-5.4", "ai"),
    ("Gemini 3.1 Pro", "gemini-3.1-pro", "ai"),
    ("ruff", None, "analyzer"),
]


class MemTree:
    """Files held in memory."""

    def __init__(self, files: dict[str, list[str]]) -> None:
        self.files = files

    def read_lines(self, path: str) -> list[str] | None:
        return self.files.get(path)


def build(per_agent: int, n_files: int, seed: int = 7) -> ConsolidationInput:
    """Five agents with `per_agent` findings each over `n_files` files."""
    rng = random.Random(seed)
    files = {
        f"pkg/mod{i}.py": [f"    value_{i}_{j} = compute(arg, {j})" for j in range(1, 301)]
        for i in range(n_files)
    }
    runs = []
    for name, model, kind in AGENTS:
        findings = []
        for k in range(per_agent):
            i, j = rng.randrange(n_files), rng.randrange(1, 300)
            path = f"pkg/mod{i}.py"
            findings.append(
                Finding(
                    id=f"F{k + 1}",
                    severity=rng.choice(["critical", "important", "suggestion"]),
                    title=" ".join(rng.sample(WORDS, 3)) + f" in `value_{i}_{j}`",
                    body=rng.choice(["", "Low-risk in practice.", "See `compute` for details."]),
                    locations=[Location(path=path, start_line=j + rng.randrange(-3, 4))],
                    excerpt=files[path][j - 1] if k % 3 == 0 else None,
                    rule="E501" if kind == "analyzer" else None,
                )
            )
        runs.append(
            AgentRun.model_validate(
                {
                    "agent": name.split()[0].lower(),
                    "display_name": name,
                    "model": model,
                    "kind": kind,
                    "status": "ok",
                    "review": AgentReview(findings=findings),
                }
            )
        )
    return ConsolidationInput(runs=runs, tree=MemTree(files))


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
