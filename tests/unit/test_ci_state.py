"""The round state hidden in a published review: round-trips, bounded, versioned, redacted."""

from __future__ import annotations

import base64
import json
import zlib

from deepreview.ci.state import MAX_BLOCK_CHARS, read_state, state_block
from deepreview.redact import Redactor
from deepreview.schema import ConsolidatedFinding, DeclinedFinding, Location
from tests.factories import sample_report


def _finding(n: int, title: str) -> ConsolidatedFinding:
    return ConsolidatedFinding(
        id=f"S{n}",
        fingerprint=f"fp{n:05d}",
        severity="suggestion",
        title=title,
        locations=[Location(path=f"pkg/mod{n}.py", start_line=n)],
        agents=["scan"],
    )


def test_block_round_trips_findings_declines_and_head() -> None:
    report = sample_report()
    state = read_state("Some review text\n\n" + state_block(report))
    assert state is not None
    assert state.report_id == report.id and state.round == report.round
    assert state.head_sha == report.target.head_sha
    assert [f.fingerprint for f in state.findings] == [f.fingerprint for f in report.findings]
    assert state.findings[0].location == report.findings[0].locations[0].label()
    assert state.declined == report.declined


def test_block_is_bounded_and_says_what_it_left_out() -> None:
    many = [_finding(n, f"Finding number {n} about {'x' * 150}") for n in range(3000)]
    report = sample_report().model_copy(update={"findings": many})
    block = state_block(report)
    assert len(block) <= MAX_BLOCK_CHARS
    state = read_state(block)
    assert state is not None
    assert 0 < len(state.findings) < 3000
    assert state.omitted == 3000 - len(state.findings)
    assert [f.id for f in state.findings] == [f"S{n}" for n in range(len(state.findings))]


def test_declines_are_kept_whatever_the_budget() -> None:
    declines = [
        DeclinedFinding(fingerprint=f"d{n}", title="t", round=1, reason="r") for n in range(50)
    ]
    many = [_finding(n, "y" * 190) for n in range(3000)]
    report = sample_report().model_copy(update={"findings": many, "declined": declines})
    state = read_state(state_block(report))
    assert state is not None and len(state.declined) == 50


def test_secrets_in_titles_do_not_reach_the_block() -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    report = sample_report().model_copy(
        update={"findings": [_finding(1, f"Hard-coded {token} and hunter2hunter2")]}
    )
    block = state_block(report, Redactor(["hunter2hunter2"]))
    raw = zlib.decompress(base64.b64decode(block.split()[3])).decode()
    assert token not in raw and "hunter2hunter2" not in raw
    assert "[redacted]" in raw


def test_unknown_version_damaged_or_missing_blocks_are_ignored() -> None:
    good = state_block(sample_report())
    assert read_state("no block here") is None
    assert read_state(good.replace("state v1 ", "state v2 ")) is None
    assert read_state(good.replace("state v1 ", "state v1 AAAA")) is None
    junk = base64.b64encode(zlib.compress(json.dumps({"round": "many"}).encode())).decode()
    assert read_state(f"<!-- deepreview:state v1 {junk} -->") is None


def test_the_last_block_wins() -> None:
    first = sample_report()
    second = first.model_copy(update={"id": "later", "round": 3})
    state = read_state(state_block(first) + "\nquoted\n" + state_block(second))
    assert state is not None and state.report_id == "later" and state.round == 3
