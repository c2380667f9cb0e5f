"""The merge-base check: code the change only moves, or did not touch, is pre-existing, and the
reason names where it stood at the merge base."""

from __future__ import annotations

from typing import Any

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.diff import parse_diff
from deepreview.schema import AgentReview, AgentRun, Finding, Location
from deepreview.scope import Scope
from tests.memtree import MemTree

HELPER = [
    "def run(cmd):",
    "    result = subprocess.run(cmd, shell=True)",
    "    return result.stdout",
]
#: `run` moves from util.py (lines 3-5 there) into a new file, one line lower.
MOVED = (
    "diff --git a/util.py b/util.py\n--- a/util.py\n+++ b/util.py\n"
    "@@ -3,3 +2,0 @@\n"
    + "".join(f"-{line}\n" for line in HELPER)
    + "diff --git a/runner.py b/runner.py\nnew file mode 100644\n--- /dev/null\n"
    "+++ b/runner.py\n@@ -0,0 +1,4 @@\n+import subprocess\n"
    + "".join(f"+{line}\n" for line in HELPER)
)
HEAD = MemTree({"runner.py": "import subprocess\n" + "\n".join(HELPER), "util.py": "x = 1\ny = 2"})


def claude(f: Finding) -> AgentRun:
    return AgentRun(
        agent="claude",
        display_name="Claude",
        kind="ai",
        status="ok",
        review=AgentReview(findings=[f]),
    )


def review(body: str = "The command goes to a shell.", line: int = 3, diff: str = MOVED) -> Any:
    f = Finding(
        id="I1",
        severity="important",
        title="Shell command from input",
        body=body,
        locations=[Location(path="runner.py", start_line=line)],
    )
    return consolidate(ConsolidationInput(runs=[claude(f)], tree=HEAD, diff=parse_diff(diff)))


def test_code_the_change_only_moves_is_pre_existing_and_named_at_the_base() -> None:
    out = review()
    assert out.findings == [] and out.verdict.decision == "Merge as-is"
    [moved] = out.pre_existing
    assert moved.scope is Scope.ADDED
    assert "moves this code unchanged from `util.py:4` at the merge base" in moved.pre_existing
    assert moved.pre_existing in out.reconciliation[0].note


def test_moved_code_the_text_ties_to_the_change_still_counts() -> None:
    out = review("Moving it here makes it reachable: this change now calls it with user input.")
    assert [f.id for f in out.findings] == ["I1"] and not out.pre_existing


def test_citing_the_moved_line_does_not_tie_it_to_the_change() -> None:
    out = review("See runner.py:3, where the command goes to a shell.")
    assert out.findings == [] and len(out.pre_existing) == 1


def test_moved_code_that_the_change_also_edits_counts() -> None:
    edited = MOVED.replace("+    result = subprocess.run(cmd, shell=True)", "+    result = go(cmd)")
    out = review(diff=edited)
    assert [f.id for f in out.findings] == ["I1"]


def test_a_line_too_short_to_tell_where_it_came_from_counts() -> None:
    short = (
        "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -7 +6,0 @@\n-\treturn nil\n"
        "diff --git a/runner.py b/runner.py\n--- a/runner.py\n+++ b/runner.py\n"
        "@@ -2,0 +3 @@\n+\treturn nil\n"
    )
    assert [f.id for f in review(diff=short).findings] == ["I1"]


def test_an_untouched_place_names_its_line_at_the_merge_base() -> None:
    two_added_above = (
        "diff --git a/runner.py b/runner.py\n--- a/runner.py\n+++ b/runner.py\n"
        "@@ -1,0 +2,2 @@\n+import os\n+import sys\n"
    )
    out = review(line=4, diff=two_added_above)
    [kept] = out.pre_existing
    assert kept.scope is Scope.FILE
    assert "(`runner.py:2` there;" in kept.pre_existing  # head line 4, two lines lower


def test_without_a_diff_nothing_is_pre_existing() -> None:
    unplaced = Finding(id="I1", severity="important", title="x")
    out = consolidate(ConsolidationInput(runs=[claude(unplaced)], tree=HEAD))
    assert [(f.id, f.scope) for f in out.findings] == [("I1", None)] and not out.pre_existing


def test_a_missing_test_is_about_the_change_wherever_the_test_file_is() -> None:
    elsewhere = (
        "diff --git a/runner.py b/runner.py\n--- a/runner.py\n+++ b/runner.py\n"
        "@@ -1,0 +2 @@\n+import os\n"
    )
    assert review(line=4, diff=elsewhere).findings == []  # untouched line, nothing ties it
    out = review("No unit test covers the shell branch.", line=4, diff=elsewhere)
    assert [f.id for f in out.findings] == ["I1"]
