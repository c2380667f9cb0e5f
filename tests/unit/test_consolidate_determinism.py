"""Determinism: same input, byte-identical output, whatever the hash seed."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from deepreview.consolidate import Consolidation, consolidate
from tests.synthetic import build


def dump(result: Consolidation) -> str:
    """The whole consolidation as JSON text."""
    data = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, list):
            data[f.name] = [v if isinstance(v, str) else v.model_dump(mode="json") for v in value]
        else:
            data[f.name] = value if isinstance(value, str) else value.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, indent=1)


def test_same_input_gives_identical_output() -> None:
    inp = build(per_agent=150, n_files=40)
    first = dump(consolidate(inp))
    assert dump(consolidate(inp)) == first
    assert dump(consolidate(build(per_agent=150, n_files=40))) == first
    assert len(json.loads(first)["findings"]) > 100


def test_output_does_not_depend_on_the_hash_seed() -> None:
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-m", "tests.unit.test_consolidate_determinism"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    assert '"verdict"' in outputs.pop()


def test_every_finding_of_five_busy_agents_is_accounted_for() -> None:
    result = consolidate(build(per_agent=400, n_files=200))
    assert len(result.reconciliation) == 2000
    assert 600 < len(result.findings) < 2000


if __name__ == "__main__":
    print(dump(consolidate(build(per_agent=60, n_files=15))))
