"""Grounding: cited files, lines and excerpts checked against the head tree."""

from __future__ import annotations

from typing import Any

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.diff import Diff, DiffLine, FileDiff, Hunk
from deepreview.schema import AgentReview, AgentRun, Finding, Location
from deepreview.scope import Scope
from tests.memtree import MemTree

SOURCE = "\n".join(
    [
        "import subprocess",
        "",
        "",
        "def run(cmd):",
        "    # run the command",
        "    result = subprocess.run(",
        "        cmd,",
        "        shell=True,",
        "    )",
        "    return result.stdout",
        "",
        "",
        "def other(cmd):",
        "    return subprocess.run(cmd, shell=True)",
    ]
)


def finding(fid: str, path: str | None = None, line: int | None = None, **kw: Any) -> Finding:
    locations = [Location(path=path, start_line=line, end_line=kw.pop("end", None))] if path else []
    kw.setdefault("severity", "important")
    kw.setdefault("title", f"Problem {fid}")
    return Finding(id=fid, locations=locations, **kw)


def agent(name: str, *findings: Finding) -> AgentRun:
    return AgentRun(
        agent=name.lower(),
        display_name=name,
        kind="ai",
        status="ok",
        review=AgentReview(findings=list(findings)),
    )


def one(f: Finding, tree: MemTree | None = None, diff: Diff | None = None) -> Any:
    tree = tree if tree is not None else MemTree({"app.py": SOURCE})
    return consolidate(ConsolidationInput(runs=[agent("Claude", f)], tree=tree, diff=diff))


def test_excerpt_corrects_wrong_line_numbers_and_records_it() -> None:
    out = one(finding("I1", "app.py", 2, excerpt="result = subprocess.run(\n  cmd,"))
    assert out.findings[0].locations == [Location(path="app.py", start_line=6, end_line=7)]
    assert "lines corrected from `app.py:2` to `app.py:6-7`" in out.reconciliation[0].note


def test_cited_range_that_contains_the_excerpt_is_kept() -> None:
    out = one(finding("I1", "app.py", 4, end=10, excerpt="shell=True,"))
    assert out.findings[0].locations == [Location(path="app.py", start_line=4, end_line=10)]
    assert out.reconciliation[0].note == ""


def test_excerpt_matching_ignores_whitespace_and_accepts_elisions() -> None:
    excerpt = "def run(cmd):\n    ...\n  return   result.stdout"
    out = one(finding("I1", "app.py", 1, excerpt=excerpt))
    assert out.findings[0].locations[0].label() == "app.py:4-10"


def test_inline_ellipsis_stands_for_elided_code() -> None:
    out = one(finding("I1", "app.py", 13, excerpt="return subprocess.run(...)"))
    assert out.findings[0].locations[0].label() == "app.py:14"


def test_excerpt_with_diff_markers_matches_the_added_lines() -> None:
    excerpt = "\n".join(
        [
            "@@ -5,3 +5,4 @@",
            "-    result = os.system(cmd)",
            "+    result = subprocess.run(",
            "+  cmd,",
        ]
    )
    out = one(finding("I1", "app.py", 5, excerpt=excerpt))
    assert out.findings[0].locations[0].label() == "app.py:6-7"


def test_excerpt_with_line_number_gutter_matches() -> None:
    out = one(finding("I1", "app.py", 9, excerpt="13: def other(cmd):\n14:     return subprocess"))
    assert out.findings[0].locations[0].label() == "app.py:13-14"


def test_of_several_occurrences_the_one_nearest_the_cited_line_wins() -> None:
    tree = MemTree({"x.py": "\n".join(["a = compute_total(items)", *["pass"] * 30] * 3)})
    out = one(finding("I1", "x.py", 60, excerpt="a = compute_total(items)"), tree)
    assert out.findings[0].locations[0].start_line == 63


def test_missing_file_is_a_false_positive() -> None:
    out = one(finding("I1", "ghost.py", 3, title="Leak in ghost"))
    assert out.findings == []
    [drop] = out.dropped
    assert (drop.kind, drop.finding_id) == ("false-positive", "I1")
    assert "ghost.py" in drop.reason
    assert out.retro[0].false_positives == 1
    assert out.reconciliation[0].consolidated_id is None


def test_excerpt_absent_from_the_file_is_a_false_positive() -> None:
    out = one(finding("I1", "app.py", 6, excerpt="os.system(user_input)  # unsafe"))
    assert out.findings == []
    assert out.dropped[0].reason == "excerpt not found in `app.py`"


def test_excerpt_found_in_a_secondary_location_is_accepted() -> None:
    tree = MemTree({"app.py": SOURCE, "b.py": "x = 1\ny = dangerous_call(x)\n"})
    f = Finding(
        id="I1",
        severity="important",
        title="t",
        locations=[Location(path="app.py", start_line=3), Location(path="b.py", start_line=9)],
        excerpt="y = dangerous_call(x)",
    )
    out = one(f, tree)
    assert [loc.label() for loc in out.findings[0].locations] == ["app.py:3", "b.py:2"]


def test_out_of_range_lines_without_excerpt_are_removed_or_clamped() -> None:
    out = one(finding("I1", "app.py", 400))
    assert out.findings[0].locations == [Location(path="app.py")]
    assert "line 400 is outside `app.py` (14 lines)" in out.reconciliation[0].note
    out = one(finding("I1", "app.py", 12, end=90))
    assert out.findings[0].locations[0].label() == "app.py:12-14"
    out = one(finding("I1", "app.py", 0))
    assert out.findings[0].locations == [Location(path="app.py")]


def test_paths_are_normalized() -> None:
    for cited in ("./app.py", "b/app.py", "a/app.py", "app.py", ".//app.py"):
        out = one(finding("I1", cited, 6))
        assert out.findings[0].locations[0].path == "app.py", cited


def test_a_real_directory_named_like_a_diff_prefix_is_kept() -> None:
    tree = MemTree({"a/app.py": SOURCE})
    out = one(finding("I1", "a/app.py", 6), tree)
    assert out.findings[0].locations[0].path == "a/app.py"


def test_absolute_and_escaping_paths_are_rejected() -> None:
    for cited in ("/etc/passwd", "../outside.py", "src/../../x.py", "C:/x.py"):
        out = one(finding("I1", cited, 1))
        assert out.findings == [], cited
        assert out.dropped[0].reason.startswith("cites a path outside the repository")


def test_finding_without_location_is_kept_but_ranked_after_grounded_ones() -> None:
    runs = [agent("Claude", finding("I1", title="Vague worry"), finding("I2", "app.py", 6))]
    out = consolidate(ConsolidationInput(runs=runs, tree=MemTree({"app.py": SOURCE})))
    assert [(f.id, f.title) for f in out.findings] == [("I1", "Problem I2"), ("I2", "Vague worry")]


def test_without_a_tree_grounding_is_skipped_and_said() -> None:
    runs = [agent("Claude", finding("I1", "./ghost.py", 3))]
    out = consolidate(ConsolidationInput(runs=runs))
    assert out.findings[0].locations[0].label() == "ghost.py:3"
    assert any("unverified" in n for n in out.notes)


def _diff(*files: FileDiff) -> Diff:
    return Diff(files=files)


def _modified(path: str, start: int, count: int, old_path: str | None = None) -> FileDiff:
    lines = tuple(DiffLine("added", "x", None, start + i) for i in range(count))
    return FileDiff(
        old_path=old_path or path,
        new_path=path,
        status="renamed" if old_path else "modified",
        hunks=(Hunk(start, 0, start, count, "", lines),),
    )


def test_findings_off_the_added_lines_are_pre_existing_and_never_dropped() -> None:
    diff = _diff(_modified("app.py", 6, 2))
    on = one(finding("I1", "app.py", 7), diff=diff)
    assert [f.scope for f in on.findings] == [Scope.ADDED] and not on.pre_existing
    far = one(finding("I1", "app.py", 14), diff=diff)
    assert far.findings == [] and far.verdict.decision == "Merge as-is"
    assert [(f.id, f.scope, f.severity) for f in far.pre_existing] == [
        ("P1", Scope.FILE, "important")
    ]
    assert "pre-existing" in far.reconciliation[0].note
    assert far.reconciliation[0].consolidated_id == "P1"
    untouched = one(finding("I1", "other.py", 1), MemTree({"other.py": "x = 1"}), diff)
    assert untouched.pre_existing[0].scope is Scope.OUTSIDE


def test_an_ai_finding_that_ties_itself_to_the_change_counts() -> None:
    diff = _diff(_modified("app.py", 6, 2))
    body = "The retry added at `app.py:7` now calls this with an unquoted command."
    tied = one(finding("I1", "app.py", 14, body=body), diff=diff)
    assert [f.id for f in tied.findings] == ["I1"] and tied.findings[0].scope is Scope.FILE
    worse = one(finding("I1", "app.py", 14, body="This change makes it reachable."), diff=diff)
    assert [f.id for f in worse.findings] == ["I1"]
    body = "This change removes the length check above, so the slice can overrun."
    removed = one(finding("I1", "app.py", 14, body=body), diff=diff)
    assert [f.id for f in removed.findings] == ["I1"]


def test_counted_scopes_are_configurable() -> None:
    diff = _diff(_modified("app.py", 6, 2))
    run = agent("Claude", finding("I1", "app.py", 14))
    out = consolidate(
        ConsolidationInput(
            runs=[run],
            tree=MemTree({"app.py": SOURCE}),
            diff=diff,
            counted_scopes=frozenset(Scope),
        )
    )
    assert [f.id for f in out.findings] == ["I1"] and not out.pre_existing


def test_old_path_of_a_renamed_file_follows_the_rename() -> None:
    diff = _diff(_modified("new.py", 1, 1, old_path="old.py"))
    out = one(finding("I1", "old.py", 1), MemTree({"new.py": SOURCE}), diff)
    assert out.findings[0].locations[0].path == "new.py"
    assert "renamed" in out.reconciliation[0].note


def test_finding_on_a_deleted_file_is_kept_unverified() -> None:
    deleted = FileDiff(old_path="gone.py", new_path=None, status="deleted")
    out = one(finding("I1", "gone.py", 5, excerpt="whatever was here"), diff=_diff(deleted))
    assert out.findings[0].locations[0].label() == "gone.py:5"
    assert out.findings[0].scope is Scope.ADDED and out.findings[0].anchor is None


def test_reviewer_annotations_in_the_excerpt_are_tolerated() -> None:
    excerpt = "    result = subprocess.run(  # <-- no timeout!\n        cmd,"
    out = one(finding("I1", "app.py", 1, excerpt=excerpt))
    assert out.findings[0].locations[0].label() == "app.py:6-7"


def test_too_short_excerpt_proves_nothing_and_is_not_checked() -> None:
    out = one(finding("I1", "app.py", 3, excerpt="  )\n"))
    assert out.findings[0].locations[0].label() == "app.py:3"


def test_bare_file_name_resolves_to_the_one_file_that_ends_with_it() -> None:
    tree = MemTree({"pkg/svc/app.py": SOURCE, "pkg/other/util.py": "x = 1"})
    out = one(finding("I1", "app.py", 6, excerpt="shell=True,"), tree=tree)
    assert [loc.path for loc in out.findings[0].locations] == ["pkg/svc/app.py"]
    assert "`app.py` resolved to `pkg/svc/app.py`" in out.reconciliation[0].note


def test_ambiguous_bare_file_name_is_not_guessed() -> None:
    tree = MemTree({"a/app.py": SOURCE, "b/app.py": SOURCE})
    out = one(finding("I1", "app.py", 6, excerpt="shell=True,"), tree=tree)
    assert out.findings == []
    assert out.dropped[0].kind == "false-positive"


def test_an_excerpt_that_leaves_lines_out_unmarked_still_grounds() -> None:
    quoted = (
        "def run(cmd):\n    result = subprocess.run(\n        shell=True,\n    return result.stdout"
    )
    out = one(finding("I1", "app.py", 4, excerpt=quoted))
    assert out.findings[0].locations == [Location(path="app.py", start_line=4, end_line=10)]


def test_an_excerpt_out_of_order_or_spread_too_far_is_still_rejected() -> None:
    backwards = "    return result.stdout\ndef run(cmd):"
    assert one(finding("I1", "app.py", 4, excerpt=backwards)).findings == []
    long_body = "\n".join(["def run(cmd):", *(["    step()"] * 40), "    return cmd"])
    spread = "def run(cmd):\n    return cmd"
    out = one(finding("I1", "app.py", 1, excerpt=spread), MemTree({"app.py": long_body}))
    assert out.findings == [] and out.dropped[0].reason == "excerpt not found in `app.py`"
