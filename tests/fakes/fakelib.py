"""Plumbing shared by the fake agent CLIs; each fake is driven by FAKE_<AGENT>_* variables.

FAKE_<AGENT>_MODE    which behaviour to show (see each fake)
FAKE_<AGENT>_REVIEW  file whose text is the agent's answer
FAKE_<AGENT>_READS   comma-separated repository-relative files the agent "reads"
FAKE_<AGENT>_DELAY   seconds to wait before answering
FAKE_<AGENT>_LOG     file to write the invocation to (argv, cwd, stdin, environment names)
FAKE_<AGENT>_CALLS   file to append one line per invocation to

FAKE_<AGENT>_MODE=replay prints what the real CLI printed in one recorded run
(`tests/fixtures/cli/<agent>/<FAKE_<AGENT>_RECORDING>.jsonl`, recorded by the contract tests):
its stdout with `${WORKTREE}` as the current folder, its stderr and its exit code.
FAKE_<AGENT>_RECORDING_WHEN is a JSON object {marker: recording}: the first recording whose
marker the prompt (stdin) holds is replayed instead (e.g. a cross-examination question); the
recording `hang` hangs instead.
FAKE_<AGENT>_HANG_AFTER=N prints only the first N lines, then hangs (a run that times out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).resolve().parent.parent / "fixtures" / "cli"
DEFAULT_REVIEW = '{"summary": "No issues found.", "findings": []}'


class Fake:
    """The settings of one fake, read from its environment variables."""

    def __init__(self, agent: str) -> None:
        self.prefix = f"FAKE_{agent.upper()}_"
        self.mode = self.setting("MODE", "ok")

    def setting(self, key: str, default: str = "") -> str:
        return os.environ.get(self.prefix + key, default)

    def review(self) -> str:
        path = self.setting("REVIEW")
        return Path(path).read_text(encoding="utf-8") if path else DEFAULT_REVIEW

    def reads(self) -> list[str]:
        return [p for p in self.setting("READS").split(",") if p]

    def record_call(self, what: str) -> None:
        path = self.setting("CALLS")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(what + "\n")

    def log(self, stdin: str, **extra: Any) -> None:
        path = self.setting("LOG")
        if path:
            entry = {"argv": sys.argv[1:], "cwd": os.getcwd(), "stdin": stdin}
            entry["env"] = sorted(os.environ)
            entry.update(extra)
            Path(path).write_text(json.dumps(entry), encoding="utf-8")

    def wait(self) -> None:
        time.sleep(float(self.setting("DELAY", "0") or 0))

    def hang(self, stdin: str) -> None:
        """Start a child `sleep` in the same process group, then never finish."""
        child = subprocess.Popen(["sleep", "1000"])
        self.log(stdin, child_pid=child.pid)
        while True:
            time.sleep(60)


def emit(obj: dict[str, Any]) -> None:
    """Print one JSON line, flushed like a streaming CLI."""
    print(json.dumps(obj), flush=True)


def crash(message: str) -> None:
    """Die the way a Node/Rust program does on an unexpected error."""
    sys.stderr.write(message)
    sys.stderr.flush()
    raise SystemExit(1)


def replay(fake: Fake, agent: str) -> None:
    """Print a recorded run of the real CLI and exit with its exit code (see the module)."""
    stdin = sys.stdin.read()
    fake.log(stdin)
    fake.wait()
    when: dict[str, str] = json.loads(fake.setting("RECORDING_WHEN") or "{}")
    chosen = next((rec for marker, rec in when.items() if marker in stdin), None)
    if chosen == "hang":
        fake.hang(stdin)
    path = RECORDINGS / agent / f"{chosen or fake.setting('RECORDING', 'tool')}.jsonl"
    meta = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").replace("${WORKTREE}", os.getcwd()).splitlines()
    hang_after = fake.setting("HANG_AFTER")
    for line in lines[: int(hang_after)] if hang_after else lines:
        print(line, flush=True)
    if hang_after:
        fake.hang(stdin)
    sys.stderr.write(meta["stderr"])
    raise SystemExit(meta["exit"])
