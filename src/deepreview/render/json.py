"""The report's JSON twin: the `Report` model, keys sorted, indented by two."""

from __future__ import annotations

import json

from deepreview.schema import Report


def render_json(report: Report) -> str:
    """The Report as JSON that `Report.model_validate_json` reads back unchanged."""
    data = report.model_dump(mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
