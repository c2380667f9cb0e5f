"""Every registered renderer against the same fixtures, compared with stored snapshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepreview.render import RENDERERS, render
from deepreview.schema import Report
from deepreview.version import __version__
from tests.factories import empty_report, sample_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "render"
UPDATE_ENV = "DEEPREVIEW_UPDATE_GOLDEN"
FIXTURES = {"sample": sample_report, "empty": empty_report}


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/render/<name>; DEEPREVIEW_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path}; run with {UPDATE_ENV}=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; {UPDATE_ENV}=1 to accept"


def snapshot_text(report: Report, fmt: str) -> str:
    """The rendering with the package version masked, so a release does not rewrite snapshots."""
    return render(report, fmt).replace(__version__, "VERSION")


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_renderer_matches_snapshot(fmt: str, fixture: str) -> None:
    assert_golden(f"{fixture}.{fmt}", snapshot_text(FIXTURES[fixture](), fmt))


def test_every_renderer_has_a_snapshot_of_every_fixture() -> None:
    stored = {p.name for p in GOLDEN.iterdir()}
    expected = {f"{fixture}.{fmt}" for fixture in FIXTURES for fmt in RENDERERS}
    assert expected <= stored
    assert not {name for name in stored - expected if name.rsplit(".", 1)[-1] in RENDERERS}
