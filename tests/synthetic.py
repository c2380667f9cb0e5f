"""Synthetic agent runs for consolidation tests and the scale benchmark: agents raising
overlapping findings (random words, near lines, excerpts that are in the files, path variants,
analyzer rule hits) over files of 300 lines held in memory."""

from __future__ import annotations

import random

from deepreview.consolidate import ConsolidationInput
from deepreview.schema import (
    AgentReview,
    AgentRun,
    DeclinedFinding,
    DesignConcern,
    Finding,
    Location,
    Strength,
)
from tests.memtree import MemTree

WORDS = ("race", "leak", "timeout", "retry", "cache", "lock", "parse", "encode", "shell", "close")
AGENTS = [
    ("Claude Opus 4.6", "claude-opus-4-6", "ai"),
    ("Claude Sonnet 4.5", "claude-sonnet-4-5", "ai"),
    ("Codex GPT 5.4", "gpt-5.4", "ai"),
    ("Gemini 3.1 Pro", "gemini-3.1-pro", "ai"),
    ("ruff", None, "analyzer"),
]


def build(per_agent: int, n_files: int, seed: int = 7) -> ConsolidationInput:
    """Agents raising overlapping findings over `n_files` files of 300 lines."""
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
                    locations=[
                        Location(
                            path=rng.choice([path, f"./{path}", f"b/{path}"]),
                            start_line=j + rng.randrange(-3, 4),
                        )
                    ],
                    excerpt=files[path][j - 1] if k % 3 == 0 else None,
                    rule="E501" if kind == "analyzer" else None,
                    fix="fix it" if k % 4 == 0 else None,
                )
            )
        review = AgentReview(
            findings=findings,
            concerns=[DesignConcern(title=f"{rng.choice(WORDS)} handling is scattered")],
            strengths=[Strength(title=f"Good {rng.choice(WORDS)} tests")],
            testing=f"{name} ran the tests.",
        )
        runs.append(
            AgentRun.model_validate(
                {
                    "agent": name.split()[0].lower(),
                    "display_name": name,
                    "model": model,
                    "kind": kind,
                    "status": "ok",
                    "duration_s": 60.0,
                    "review": review,
                    "files_read": sorted(rng.sample(sorted(files), min(5, n_files))),
                }
            )
        )
    declined = [DeclinedFinding(fingerprint="0" * 16, title="old", round=1, reason="no")]
    return ConsolidationInput(runs=runs, tree=MemTree(files), declined=declined)
