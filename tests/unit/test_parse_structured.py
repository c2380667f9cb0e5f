"""Structured (JSON) answers -> AgentReview: extraction, field drifts, normalization notes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepreview.parse import parse_review
from deepreview.parse.structured import extract_json, review_from_json
from deepreview.schema import AgentReview
from tests.repro_case import CLAMP_FIX, SCALE_TEST
from tests.repro_case import REVIEW as REPRO_REVIEW

REVIEW: dict[str, Any] = {
    "summary": "Adds an export command.",
    "findings": [
        {
            "id": "I1",
            "severity": "important",
            "category": "regression",
            "title": "Export buffers the whole account",
            "body": "Memory grows with the account.",
            "locations": [{"path": "ledger/export.py", "start_line": 40, "end_line": 52}],
            "excerpt": "rows = list(db.rows(account))",
            "excerpt_lang": "python",
            "fix": "Stream the rows.",
            "rule": None,
        }
    ],
    "concerns": [],
    "strengths": [],
    "testing": "",
    "documentation": "",
    "commit_structure": "",
    "limitations": [],
    "coverage": [{"path": "ledger/export.py", "reviewed": True, "finding_ids": ["I1"]}],
    "verdict": "Merge with fixes — I1",
    "prior_findings": [],
}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(REVIEW),
        "```json\n" + json.dumps(REVIEW, indent=2) + "\n```",
        "Here is my review:\n\n" + json.dumps(REVIEW, indent=2) + "\n\nThanks.",
        # a JSON excerpt that is not a review comes first; the review is preferred
        '```json\n{"name": "x"}\n```\n\n```\n' + json.dumps(REVIEW) + "\n```",
    ],
)
def test_extract_json_finds_the_review(text: str) -> None:
    assert extract_json(text) == REVIEW


def test_extract_json_without_json() -> None:
    assert extract_json("## Findings\n\nNone {really}.") is None
    assert extract_json('Not a review: {"name": "x"}') is None
    assert extract_json('{"name": "x"}') == {"name": "x"}


def test_schema_conforming_review_needs_no_notes() -> None:
    review, notes = review_from_json(REVIEW)
    assert notes == []
    [finding] = review.findings
    assert (finding.id, finding.severity, finding.category) == ("I1", "important", "regression")
    assert [loc.label() for loc in finding.locations] == ["ledger/export.py:40-52"]
    assert (finding.excerpt_lang, finding.fix, finding.rule) == ("python", "Stream the rows.", None)
    assert review.verdict == "Merge with fixes — I1"
    assert review.coverage[0].finding_ids == ["I1"]


def test_common_drifts_are_normalized_with_notes() -> None:
    obj = {
        "Summary": "Adds export.",
        "issues": [
            {
                "file": "ledger/export.py",
                "line": "40",
                "end_line": 52,
                "severity": "High",
                "message": "Export buffers everything\nRows are listed in memory.",
                "category": "Performance",
            },
            {
                "id": "I7",
                "title": "Export path unchecked",
                "severity": "major",
                "location": "a.py:8",
            },
            {"title": "Nit", "severity": "nit", "path": "b.py", "lines": "7-3", "foo": 1},
        ],
        "mood": "great",
    }
    review, notes = review_from_json(obj)
    assert [(f.id, f.severity, f.category, f.title) for f in review.findings] == [
        ("C1", "critical", "performance", "Export buffers everything"),
        ("I7", "important", "issue", "Export path unchecked"),
        ("S1", "suggestion", "issue", "Nit"),
    ]
    assert review.findings[0].body == "Rows are listed in memory."
    labels = [[loc.label() for loc in f.locations] for f in review.findings]
    assert labels == [["ledger/export.py:40-52"], ["a.py:8"], ["b.py:3-7"]]
    assert notes == [
        "ignored field 'mood'",
        "severity 'High' taken as critical",
        "severity 'major' taken as important",
        "finding field 'foo' ignored",
        "severity 'nit' taken as suggestion",
        "finding 'Nit': line range '7-3' is reversed; swapped",
        "finding 'Export buffers everything' has no id; numbered C1",
        "finding 'Nit' has no id; numbered S1",
    ]


def test_bad_values_are_rejected_or_dropped_with_notes() -> None:
    obj = {
        "findings": [
            {
                "id": "I1",
                "title": "Neg",
                "severity": "important",
                "location": {"file": "a.py", "line": -4},
            },
            {"id": "I2", "title": "Odd", "severity": "urgent-ish", "path": "../up.py", "line": 3},
            {
                "id": "I3",
                "title": "Abs",
                "severity": "important",
                "path": "/srv/run/x/c.py",
                "line": 2,
            },
            {"id": "I4", "title": "Elsewhere", "severity": "important", "path": "/etc/hosts"},
            {"severity": "low"},
            {"id": "I1", "title": "Again", "severity": "important"},
            42,
        ],
        "prior_findings": [{"finding_id": "S3", "status": "gone"}],
    }
    review, notes = review_from_json(obj, root="/srv/run/x")
    assert [(f.id, f.severity, [loc.label() for loc in f.locations]) for f in review.findings] == [
        ("I1", "important", ["a.py"]),
        ("I2", "suggestion", []),
        ("I3", "important", ["c.py:2"]),
        ("I4", "important", []),
        ("I1-2", "important", []),
    ]
    assert review.prior_findings == []
    assert notes == [
        "finding 'I1': line number -4 is not positive; dropped",
        "finding 'I2' has unknown severity 'urgent-ish'; taken as suggestion",
        "finding 'I2': location path '../up.py' is outside the repository; dropped",
        "finding 'I3': path '/srv/run/x/c.py' made relative: 'c.py'",
        "finding 'I4': location path '/etc/hosts' is outside the repository; dropped",
        "finding 5 rejected: it has no title, message or description",
        "finding 7 rejected: expected an object, got int",
        "duplicate finding id 'I1'; renamed 'I1-2'",
        "prior finding 'S3' has unknown status 'gone'; dropped",
    ]


def test_other_parts_accept_loose_shapes() -> None:
    obj = {
        "findings": [],
        "concerns": ["Export and import diverge", {"title": "Outbox", "scope": "later"}],
        "strengths": [{"description": "Small commands\nwith tests"}],
        "coverage": {"ledger/export.py": ["I1"], "/etc/passwd": []},
        "verdict": {"decision": "Merge with fixes", "reason": "I1 breaks large exports"},
        "prior_findings": [
            {"finding_id": "S1", "status": "Fixed"},
            {"id": "S2", "status": "still present", "note": "same"},
        ],
        "limitations": [{"location": "ledger/export.py:12", "quote": "TODO: encodings"}],
        "testing": ["covers the happy path", "no failure tests"],
    }
    review, notes = review_from_json(obj)
    assert [(c.title, c.scope) for c in review.concerns] == [
        ("Export and import diverge", "in-scope"),
        ("Outbox", "in-scope"),
    ]
    assert [(s.title, s.body) for s in review.strengths] == [("Small commands", "with tests")]
    assert [(c.path, c.finding_ids) for c in review.coverage] == [("ledger/export.py", ["I1"])]
    assert review.verdict == "Merge with fixes — I1 breaks large exports"
    assert [(p.finding_id, p.status) for p in review.prior_findings] == [
        ("S1", "fixed"),
        ("S2", "still-present"),
    ]
    [limitation] = review.limitations
    assert limitation.location is not None and limitation.location.label() == "ledger/export.py:12"
    assert review.testing == "covers the happy path\nno failure tests"
    assert notes == [
        "concern scope 'later' taken as in-scope",
        "coverage path '/etc/passwd' is outside the repository; dropped",
    ]


def test_a_bare_list_is_a_list_of_findings() -> None:
    review, notes = review_from_json(
        [{"file": "a.py", "line": 3, "severity": "medium", "message": "Off by one"}]
    )
    assert [(f.id, f.severity, f.title) for f in review.findings] == [
        ("I1", "important", "Off by one")
    ]
    assert notes == [
        "severity 'medium' taken as important",
        "finding 'Off by one' has no id; numbered I1",
    ]


def test_parse_review_uses_json_and_records_notes() -> None:
    text = "Sure, here it is:\n```json\n" + json.dumps({"issues": [{"title": "T"}]}) + "\n```"
    review = parse_review(text)
    assert [(f.id, f.severity) for f in review.findings] == [("S1", "suggestion")]
    assert review.parse_notes == [
        "finding 'T' has no severity; taken as suggestion",
        "finding 'T' has no id; numbered S1",
    ]


def test_parse_review_reads_markdown_with_json_excerpts_as_markdown() -> None:
    text = (
        "### Important Issues\n\n1. **Config drops keys** — `cfg/load.py:4` (important, gap)\n\n"
        '```json\n{"name": "x", "port": 1}\n```\n'
    )
    review = parse_review(text)
    assert [f.id for f in review.findings] == ["I1"]
    assert review.findings[0].excerpt == '{"name": "x", "port": 1}'


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "findings",
                        "issues",
                        "title",
                        "severity",
                        "file",
                        "line",
                        "locations",
                        "coverage",
                        "concerns",
                        "verdict",
                        "prior_findings",
                        "path",
                        "status",
                        "x",
                    ]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_review_from_json_never_raises(obj: object) -> None:
    review, notes = review_from_json(obj)
    assert isinstance(review, AgentReview)
    assert all(isinstance(n, str) for n in notes)


def test_a_script_written_out_with_raw_line_breaks_keeps_its_repro() -> None:
    """A model writing a repro's script and fix as they are (line breaks and tabs inside the
    JSON strings) in its text answer: the review and every repro are read back."""
    written_out = json.dumps(REPRO_REVIEW, indent=2).replace("\\n", "\n").replace("\\t", "\t")
    review = parse_review("Here is my review.\n```json\n" + written_out + "\n```\n")
    assert review.parse_notes == []
    repros = {f.id: f.repro for f in review.findings}
    assert sorted(repros) == ["C1", "I1", "I2"]
    clamp, scale = repros["C1"], repros["I1"]
    assert clamp is not None and scale is not None
    assert (clamp.fix_patch, scale.path, scale.content) == (
        CLAMP_FIX,
        "tests/test_repro_scale.py",
        SCALE_TEST,
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('```json\n{"summary": "Two issues.",\n "findings": [\n```\n', "line 4"),
        ('Here it is:\n{"findings": [{"title": "T"} {"title": "U"}]}', "line 2"),
    ],
)
def test_a_json_review_that_does_not_decode_is_said_so(text: str, where: str) -> None:
    review = parse_review(text)
    [note] = review.parse_notes
    assert note.startswith("the answer's JSON review does not decode (")
    assert f"{where} of the answer" in note and note.endswith("read as Markdown")
    assert "Two issues." in review.summary or '"T"' in review.summary  # the text is kept


def test_markdown_with_a_json_excerpt_gets_no_decoding_note() -> None:
    text = '### Important Issues\n\n1. **Off by one** — `a.py:4`\n\n```json\n{"port": 1,\n```\n'
    assert parse_review(text).parse_notes == []
