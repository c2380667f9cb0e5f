"""Agents that hang, crash, flood, babble or answer out of schema: the review still lands."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli, pid_alive, run_of, write_answer

OUT_OF_SCHEMA = {
    "summary": "Several problems.",
    "findings": [
        {
            "id": "I1",
            "severity": "blocker",
            "title": "Loop never ends",
            "locations": [{"path": "ledger/settle.py", "start_line": 8}],
        },
        {
            "id": "I2",
            "severity": "important",
            "title": "Negative line",
            "locations": [{"path": "ledger/settle.py", "start_line": -5}],
        },
        {
            "id": "I3",
            "severity": "important",
            "title": "Huge line",
            "locations": [{"path": "ledger/settle.py", "start_line": 10**12}],
        },
        {
            "id": "C1",
            "severity": "critical",
            "title": "Climbs out",
            "locations": [{"path": "../../etc/passwd", "start_line": 1}],
        },
        {
            "id": "C2",
            "severity": "critical",
            "title": "Absolute path",
            "locations": [{"path": "/etc/shadow", "start_line": 1}],
        },
        {"severity": "important"},
        {
            "id": "S1",
            "severity": "suggestion",
            "title": "Name the total",
            "locations": [{"path": "ledger/settle.py", "start_line": 6}],
        },
    ],
}


def test_a_hanging_agent_is_killed_with_its_children(cli: Cli, repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "deepreview.toml"
    config.write_text("[agent.claude]\ntimeout_s = 2\n")
    pids = cli.logs / "pids"
    t0 = time.monotonic()
    proc = cli.review(
        repo,
        "--agent",
        "claude",
        "--agent",
        "scan",
        "--config",
        str(config),
        env={"HOSTILE_MODE": "hang", "HOSTILE_PIDS": str(pids)},
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    claude = run_of(report, "claude")
    assert (claude["status"], claude["reason"]) == ("timeout", "timeout after 2 s")
    assert run_of(report, "scan")["status"] == "ok"
    assert report["findings"], "the other agent's findings are in the report"
    leader, child = (int(p) for p in pids.read_text().split())
    assert not pid_alive(leader) and not pid_alive(child)
    assert elapsed < 30
    assert cli.leftover_worktrees() == []


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("crash_mid", "exit 1: TypeError: Cannot read properties of undefined"),
        ("binary", "no result in the output"),
        ("truncated", "no result in the output"),
    ],
)
def test_a_broken_answer_fails_that_agent_only(
    cli: Cli, repo: Path, mode: str, reason: str
) -> None:
    proc = cli.review(repo, "--agent", "claude", "--agent", "scan", env={"HOSTILE_MODE": mode})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    report = cli.report()
    claude = run_of(report, "claude")
    assert (claude["status"], claude["reason"]) == ("failed", reason)
    assert run_of(report, "scan")["status"] == "ok"
    md = next(cli.out.glob("*.md")).read_text(encoding="utf-8")
    assert reason in md


def test_fifty_megabytes_of_output_are_capped_and_the_answer_still_read(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    answer = write_answer(
        tmp_path / "answer.json",
        {
            "summary": "ok",
            "findings": [
                {
                    "id": "I1",
                    "severity": "important",
                    "title": "Overflow on huge batches",
                    "locations": [{"path": "ledger/settle.py", "start_line": 8}],
                }
            ],
        },
    )
    proc = cli.review(
        repo, "--agent", "claude", env={"HOSTILE_MODE": "flood", "HOSTILE_REVIEW": answer}
    )
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    claude = run_of(report, "claude")
    assert claude["status"] == "ok"
    assert "trace truncated in memory; the file holds all of it" in claude["notes"]
    assert [f["title"] for f in report["findings"]] == ["Overflow on huge batches"]
    assert len(claude["raw_output"]) < 10_000
    for path in cli.out.iterdir():
        assert path.stat().st_size < 1_000_000


def test_an_answer_out_of_schema_is_normalized_with_reasons(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    answer = write_answer(tmp_path / "answer.json", OUT_OF_SCHEMA)
    proc = cli.review(repo, "--agent", "claude", env={"HOSTILE_REVIEW": answer})
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    notes = run_of(report, "claude")["review"]["parse_notes"]
    for expected in (
        "severity 'blocker' taken as critical",
        "finding 'I2': line number -5 is not positive; dropped",
        "finding 'C1': location path '../../etc/passwd' is outside the repository; dropped",
        "finding 'C2': location path '/etc/shadow' is outside the repository; dropped",
        "finding 6 rejected: it has no title, message or description",
    ):
        assert expected in notes
    by_title = {f["title"]: f for f in report["findings"]}
    assert by_title["Loop never ends"]["severity"] == "critical"
    assert by_title["Huge line"]["locations"] == [
        {"path": "ledger/settle.py", "start_line": None, "end_line": None}
    ]
    assert by_title["Name the total"]["locations"][0]["start_line"] == 6
    cited = [loc["path"] for f in report["findings"] for loc in f["locations"]]
    assert all(not p.startswith("/") and ".." not in p for p in cited)
    huge = [e for e in report["reconciliation"] if e["finding_id"] == "I3"]
    assert "line 1000000000000 is outside `ledger/settle.py`" in huge[0]["note"]
    md = next(cli.out.glob("*.md")).read_text(encoding="utf-8")
    assert "'/etc/shadow' is outside the repository" in md
