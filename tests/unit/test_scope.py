"""The scope stage: one definition of where a place sits relative to the change."""

from __future__ import annotations

from deepreview.diff import parse_diff
from deepreview.render.html import render_html
from deepreview.render.markdown import render_markdown
from deepreview.schema import ConsolidatedFinding, Location
from deepreview.scope import DiffScope, Scope, place
from tests.factories import sample_report

# app.py: hunk covers new lines 10-17; 12-13 added; old line 15 ("gone") deleted before new 16.
DIFF = parse_diff(
    """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -10,7 +10,8 @@ def run():
 a = 1
 b = 2
+c = 3
+d = 4
 e = 5
 f = 6
-gone = 7
 h = 8
 i = 9
diff --git a/new.py b/new.py
new file mode 100644
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+x = 1
+y = 2
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-z = 1
"""
)


def at(path: str, start: int | None = None, end: int | None = None) -> Location:
    return Location(path=path, start_line=start, end_line=end)


def test_each_place_gets_its_scope() -> None:
    assert not DIFF.errors
    scope = DiffScope(DIFF)
    cases = {
        at("app.py", 12): Scope.ADDED,
        at("app.py", 10, 12): Scope.ADDED,  # a range that reaches an added line
        at("app.py", 10): Scope.HUNK,  # context line
        at("app.py", 16): Scope.HUNK,  # right after the deleted line: unchanged
        at("app.py", 15): Scope.HUNK,  # right before it
        at("app.py", 17): Scope.HUNK,
        at("app.py", 40): Scope.FILE,
        at("app.py"): Scope.FILE,
        at("new.py"): Scope.ADDED,
        at("new.py", 2): Scope.ADDED,
        at("old.py", 1): Scope.ADDED,  # a deleted file is all change
        at("other.py", 3): Scope.OUTSIDE,
    }
    got = {loc.label(): p.scope for loc in cases if (p := scope.place_one(loc)) is not None}
    assert got == {loc.label(): s for loc, s in cases.items()}


def test_anchor_is_the_part_of_the_place_inside_one_hunk() -> None:
    scope = DiffScope(DIFF)
    assert scope.place_one(at("app.py", 12, 13)).anchor == at("app.py", 12, 13)  # type: ignore[union-attr]
    clipped = scope.place_one(at("app.py", 15, 30))
    assert clipped is not None and clipped.anchor == at("app.py", 15, 17)
    assert scope.place_one(at("app.py", 40)).anchor is None  # type: ignore[union-attr]
    assert scope.place_one(at("old.py", 1)).anchor is None  # type: ignore[union-attr]
    assert scope.place_one(at("app.py")).anchor is None  # type: ignore[union-attr]


def test_several_places_take_the_narrowest_scope_and_an_anchor_on_added_lines() -> None:
    got = place(DIFF, [at("app.py", 40), at("app.py", 10), at("app.py", 13)])
    assert got is not None and got.scope is Scope.ADDED and got.anchor == at("app.py", 13)
    assert place(DIFF, []) is not None and place(DIFF, []).scope is Scope.OUTSIDE  # type: ignore[union-attr]


def test_without_a_diff_nothing_is_placed_and_everything_counts_as_added() -> None:
    assert place(None, [at("app.py", 1)]) is None
    assert DiffScope(None).added([at("app.py", 1)])


def test_a_huge_cited_range_is_placed_in_time_linear_in_the_change() -> None:
    got = place(DIFF, [at("app.py", 1, 10**9)])
    assert got is not None and got.scope is Scope.ADDED and got.anchor == at("app.py", 10, 17)


def test_reports_stored_with_in_diff_still_load() -> None:
    data = sample_report().findings[0].model_dump(exclude={"scope", "anchor"})
    assert ConsolidatedFinding.model_validate({**data, "in_diff": False}).scope is Scope.FILE
    assert ConsolidatedFinding.model_validate({**data, "in_diff": True}).scope is None


def test_pre_existing_findings_are_listed_in_design_observations() -> None:
    report = sample_report()
    moved = report.findings[0].model_copy(
        update={"id": "P1", "scope": Scope.HUNK, "pre_existing": "pre-existing: unchanged"}
    )
    with_moved = report.model_copy(update={"pre_existing": [moved]})
    text = render_markdown(with_moved)
    design = text[text.index("## Design Observations") :]
    assert "### Pre-existing" in design and f"P1. **{moved.title}**" in design
    page = render_html(with_moved)
    assert "Pre-existing</h3>" in page and '<ol class="concerns pre-existing">' in page
    assert "Pre-existing</h3>" not in render_html(report)
