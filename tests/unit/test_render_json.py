"""The JSON twin: a stable, lossless dump of the Report."""

from __future__ import annotations

import json
from typing import Any

from deepreview.render import render
from deepreview.render.json import render_json
from deepreview.schema import Report
from tests.factories import empty_report, sample_report


def test_round_trips_to_an_equal_report() -> None:
    for report in (sample_report(), empty_report()):
        assert Report.model_validate_json(render_json(report)) == report


def test_keys_sorted_at_every_level_and_indented_by_two() -> None:
    text = render_json(sample_report())
    unsorted: list[list[str]] = []

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if keys != sorted(keys):
            unsorted.append(keys)
        return dict(pairs)

    json.loads(text, object_pairs_hook=check)
    assert unsorted == []
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1].startswith('  "') and not lines[1].startswith("   ")
    assert text.endswith("}\n")


def test_output_does_not_depend_on_dict_insertion_order() -> None:
    report = sample_report()
    run = report.runs[0]
    reordered = run.model_copy(update={"tool_calls": dict(reversed(run.tool_calls.items()))})
    other = report.model_copy(update={"runs": [reordered, *report.runs[1:]]})
    assert list(other.runs[0].tool_calls) != list(run.tool_calls)
    assert render_json(other) == render_json(report)


def test_text_is_kept_unescaped_and_whole() -> None:
    text = render_json(sample_report())
    data = json.loads(text)
    assert "Claude Opus 4.7" in text and "—" in text  # no \u escapes for non-ASCII
    assert data["runs"][2]["status"] == "failed"
    assert data["runs"][1]["cached"] is True
    assert data["created_at"] == "2026-05-04T14:07:31+02:00"


def test_render_dispatches_to_json() -> None:
    report = empty_report()
    assert render(report, "json") == render_json(report)
