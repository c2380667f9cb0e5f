"""The change the cross-examination recordings were made on, the reviews the claude and codex
models give of it and the answers they give when cross-examined.

Both reviews raise the shell injection in `run` (line 5). Claude alone claims that `first`
fails on an empty list, which its guard prevents (line 13): codex refutes it. Codex alone
claims that `ratio` divides by zero (line 9), which it does: claude confirms it.
"""

from __future__ import annotations

import json
from typing import Any

from tests.contract.emulators import REVIEW

APP_AFTER = (
    "import subprocess\n\n\n"
    "def run(name):\n"
    '    subprocess.run(f"echo {name}", shell=True)\n\n\n'
    "def ratio(done, total):\n"
    "    return done / total\n\n\n"
    "def first(items):\n"
    "    return items[0] if items else None\n"
)

_SHELL: dict[str, Any] = REVIEW["findings"][0]


def _claim(fid: str, severity: str, title: str, body: str, line: int, fix: str) -> dict[str, Any]:
    excerpt = APP_AFTER.splitlines()[line - 1].strip()
    return {
        "id": fid,
        "severity": severity,
        "category": "regression",
        "title": title,
        "body": body,
        "locations": [{"path": "app.py", "start_line": line, "end_line": line}],
        "excerpt": excerpt,
        "excerpt_lang": "python",
        "fix": fix,
        "rule": None,
    }


#: Claude's lone claim, which the code disproves.
WRONG_CLAIM = _claim(
    "I2",
    "important",
    "`first` raises IndexError on an empty list",
    "`first([])` indexes `items[0]` and raises IndexError for callers with no items.",
    13,
    "Return None when `items` is empty.",
)
#: Codex's lone claim, which holds.
TRUE_CLAIM = _claim(
    "C1",
    "critical",
    "`ratio` divides by zero when `total` is 0",
    "`ratio(0, 0)` raises ZeroDivisionError: nothing guards `total` before the division.",
    9,
    "Return 0.0 when `total` is 0.",
)


def _review(summary: str, *findings: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "findings": list(findings),
        "concerns": [],
        "strengths": [],
        "testing": "No test covers the new functions.",
        "documentation": "",
        "commit_structure": "",
        "limitations": [],
    }


REVIEWS: dict[str, dict[str, Any]] = {
    "claude": _review("Two important defects.", _SHELL, WRONG_CLAIM),
    "codex": _review("A critical and an important defect.", _SHELL, TRUE_CLAIM),
}
#: codex examining claude's I2.
REFUTATION: dict[str, Any] = {
    "verdict": "refute",
    "reason": "`first` returns None for an empty list: the conditional checks `items` first.",
    "evidence": [{"path": "app.py", "line": 13, "quote": "    return items[0] if items else None"}],
}
#: claude examining codex's C1.
CONFIRMATION: dict[str, Any] = {
    "verdict": "confirm",
    "reason": "Nothing checks `total` before `done / total`, so `ratio(0, 0)` raises.",
    "evidence": [{"path": "app.py", "line": 9, "quote": "    return done / total"}],
}
#: What each CLI answers when cross-examined, and the recording it is kept in.
ANSWERS: dict[str, tuple[str, str]] = {
    "claude": ("crossexam-confirm", json.dumps(CONFIRMATION)),
    "codex": ("crossexam-refute", json.dumps(REFUTATION)),
    # Gemini answers in text: a sentence, then the object in a fence.
    "gemini": (
        "crossexam-fenced",
        "I checked the division.\n```json\n" + json.dumps(CONFIRMATION, indent=1) + "\n```\n",
    ),
}
