"""Inputs that made the built-in checks slow: long random lines, a minified megabyte line, and
Ctrl-C while the scan is busy."""

from __future__ import annotations

import random
import signal
import string
import subprocess
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli, default_sigint, run_of
from tests.repo_factory import commit


def random_line(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


@pytest.mark.timeout(120)  # the quadratic secret pattern took 16 s per such line
def test_long_random_lines_are_scanned_and_a_minified_line_is_skipped(cli: Cli, repo: Path) -> None:
    rng = random.Random(12)
    blob = "".join(f's{i} = "{random_line(rng, 20_000)}"\n' for i in range(50))
    blob += 'AWS_KEY = "AKIAQWERTYUIOPASDFGH"\n'
    commit(
        repo, {"data/blob.py": blob, "data/bundle.txt": "var a=" + "x" * 1_000_000 + ";\n"}, "Add"
    )
    proc = cli.review(repo, "--agent", "scan")
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    scan = run_of(report, "scan")
    assert scan["notes"] == [
        "skipped: line too long: `data/bundle.txt` line 1 (over 50,000 characters)"
    ]
    secret = [f for f in report["findings"] if f["title"].startswith("Likely hard-coded secret")]
    assert [f["locations"][0] for f in secret] == [
        {"path": "data/blob.py", "start_line": 51, "end_line": None}
    ]
    assert "skipped: line too long" in next(cli.out.glob("*.md")).read_text(encoding="utf-8")


def test_ctrl_c_stops_a_busy_scan_at_once(cli: Cli, repo: Path, tmp_path: Path) -> None:
    rng = random.Random(3)
    words = ["token", "=", "'value'", "# TODO", "print(x)", "auth", "(", ")", '"#"']
    lines = [" ".join(rng.choice(words) for _ in range(12)) for _ in range(150_000)]
    commit(repo, {"big/code.py": "\n".join(lines) + "\n"}, "Add a lot of code")
    log = tmp_path / "stderr"
    with log.open("w") as err:
        proc = subprocess.Popen(
            cli.argv("--agent", "scan"),
            cwd=repo,
            env=cli.env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
            preexec_fn=default_sigint,
        )
        try:
            deadline = time.monotonic() + 60
            while "scan: running" not in log.read_text():
                assert time.monotonic() < deadline, "the scan never started"
                time.sleep(0.05)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=15) == 130
        finally:
            proc.kill()
            proc.wait()
    stderr = log.read_text()
    assert "deepreview: interrupted" in stderr and "Traceback" not in stderr
    assert "scan: ok" not in stderr  # stopped before the scan finished (it takes many seconds)
    assert cli.leftover_worktrees() == []
