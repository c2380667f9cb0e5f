"""Print the npm packages of the named AI CLIs at the versions deepreview is tested with.

    python scripts/pinned_clis.py claude,codex  ->  @anthropic-ai/claude-code@… @openai/codex@…

The versions come from the one file that pins them, `tests/contract/cli-versions.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PINS = Path(__file__).resolve().parent.parent / "tests" / "contract" / "cli-versions.json"
PACKAGES = {
    "claude": "@anthropic-ai/claude-code",
    "codex": "@openai/codex",
    "gemini": "@google/gemini-cli",
}


def pinned(names: str, pins: dict[str, str]) -> list[str]:
    """`package@version` for each comma-separated CLI name; ValueError for an unknown one."""
    out: list[str] = []
    for name in (n.strip().lower() for n in names.split(",")):
        if not name:
            continue
        if name not in PACKAGES:
            raise ValueError(f"unknown AI CLI {name!r}; choose from {', '.join(PACKAGES)}")
        package = PACKAGES[name]
        out.append(f"{package}@{pins[package]}")
    return out


def main(argv: list[str]) -> int:
    try:
        packages = pinned(argv[1] if len(argv) > 1 else "", json.loads(PINS.read_text()))
    except (ValueError, KeyError, OSError) as exc:
        print(f"pinned_clis: {exc}", file=sys.stderr)
        return 2
    print(" ".join(packages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
