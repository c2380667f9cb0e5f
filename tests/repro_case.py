"""A change with three claims an AI reviewer backs with repros, shared by the contract test
that records a real CLI giving this answer and the review that replays the recording.

The change breaks `clamp` (a value above the bound comes back as `hi - 1`) and `scale` (it
drops the first value), and adds `mean`. The answer's repros:

- C1 `clamp`: a bash script, with a fix: fails at the head, passes at the base and with the
  fix (*fix verified*);
- I1 `scale`: a pytest file: fails at the head, passes at the base (*reproduced*);
- I2 `mean` "floors": its script passes at the head (*not reproduced*: the claim is wrong).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from tests.repo_factory import commit, git, make_repo

CALC_BEFORE = """def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def scale(values, factor):
    return [v * factor for v in values]
"""
CALC_AFTER = """def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi - 1
    return x


def scale(values, factor):
    return [v * factor for v in values[1:]]


def mean(values):
    return sum(values) / len(values)
"""
TESTS = """from calc import clamp


def test_low():
    assert clamp(-1, 0, 10) == 0
"""
FILES = {
    "pyproject.toml": '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "calc.py": CALC_BEFORE,
    "tests/test_calc.py": TESTS,
}
CLAMP_FIX = """--- a/calc.py
+++ b/calc.py
@@ -3,5 +3,5 @@
         return lo
     if x > hi:
-        return hi - 1
+        return hi
     return x
"""
SCALE_TEST = """from calc import scale


def test_scale_keeps_every_value():
    assert scale([1, 2, 3], 2) == [2, 4, 6]
"""


def _finding(**fields: Any) -> dict[str, Any]:
    return {"category": "regression", "excerpt_lang": "python", "rule": None, **fields}


#: The reviewer's structured answer (what the emulated model sends, the real CLI prints).
REVIEW: dict[str, Any] = {
    "summary": "Breaks `clamp` and `scale`; adds `mean`.",
    "findings": [
        _finding(
            id="C1",
            severity="critical",
            title="`clamp` returns `hi - 1` above the upper bound",
            body="A value above `hi` comes back one below the bound instead of `hi`.",
            locations=[{"path": "calc.py", "start_line": 5, "end_line": 5}],
            excerpt="        return hi - 1",
            fix="Return `hi`.",
            repro={
                "kind": "script",
                "path": None,
                "content": 'python -c "from calc import clamp; assert clamp(11, 0, 10) == 10"\n',
                "command": None,
                "fix_patch": CLAMP_FIX,
            },
        ),
        _finding(
            id="I1",
            severity="important",
            title="`scale` drops the first value",
            body="The slice `values[1:]` skips the first element, so callers lose data.",
            locations=[{"path": "calc.py", "start_line": 10, "end_line": 10}],
            excerpt="    return [v * factor for v in values[1:]]",
            fix="Iterate over `values`.",
            repro={
                "kind": "test",
                "path": "tests/test_repro_scale.py",
                "content": SCALE_TEST,
                "command": "python -m pytest -q tests/test_repro_scale.py",
                "fix_patch": None,
            },
        ),
        _finding(
            id="I2",
            severity="important",
            title="`mean` floors integer averages",
            body="`mean([1, 2])` gives 1 rather than 1.5: the division truncates.",
            locations=[{"path": "calc.py", "start_line": 14, "end_line": 14}],
            excerpt="    return sum(values) / len(values)",
            fix="Use true division.",
            repro={
                "kind": "script",
                "path": None,
                "content": 'python -c "from calc import mean; assert mean([1, 2]) == 1.5"\n',
                "command": None,
                "fix_patch": None,
            },
        ),
    ],
    "concerns": [],
    "strengths": [],
    "testing": "No test covers `scale` or the upper bound of `clamp`.",
    "documentation": "",
    "commit_structure": "",
    "limitations": [],
}
ANSWER = json.dumps(REVIEW)


def make_calc_change(root: Path) -> tuple[Path, str]:
    """The repository (branch `feature` checked out, one commit ahead of `main`) and the
    merge base's sha."""
    repo = make_repo(root / "calc", FILES)
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"calc.py": CALC_AFTER}, "Scale and average")
    return repo, base


FAKES = Path(__file__).resolve().parent / "fakes"


def review_config(agent: str) -> str:
    """The review's configuration: the replayed `agent` and verify (coverage is not the point
    here)."""
    return f'agents = ["{agent}", "verify"]\n[verify]\ncoverage = false\nmutations = false\n'


def replay_environment(home: Path, agent: str = "claude", **extra: str) -> dict[str, str]:
    """This process's environment without FAKE_ settings, the fake CLIs first on PATH, `agent`
    replaying its recorded repro-backed answer, and deepreview's virtualenv as the project's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_")}
    fake = f"FAKE_{agent.upper()}_"
    return env | {
        "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": sys.prefix,
        "HOME": str(home),
        f"{fake}MODE": "replay",
        f"{fake}RECORDING": "repro",
        **extra,
    }
