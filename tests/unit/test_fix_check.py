"""A proposed fix is carried as a patch only when `git apply --check` accepts it at the head."""

from __future__ import annotations

from pathlib import Path

from deepreview.fix_check import proposed_patch, with_applicable_fixes
from deepreview.schema import ConsolidatedFinding, Repro, Reproduction, ReproLabel
from tests.repo_factory import make_repo

SOURCE = "def add(a, b):\n    return a - b\n"
GOOD = """--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
"""
STALE = GOOD.replace("-    return a - b", "-    return a * b")


def finding(fix: str | None) -> ConsolidatedFinding:
    return ConsolidatedFinding(
        id="I1", fingerprint="f", severity="important", title="add subtracts", agents=["x"], fix=fix
    )


def test_patch_found_in_a_fenced_block_or_as_the_whole_fix() -> None:
    assert proposed_patch(f"Use plus:\n\n```diff\n{GOOD}```\n") == GOOD
    assert proposed_patch(GOOD) == GOOD
    assert proposed_patch("Use `+` instead of `-`.") is None
    assert proposed_patch(None) is None


def test_only_patches_that_apply_at_head_are_kept(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"calc.py": SOURCE})
    checked = with_applicable_fixes(
        [finding(f"```diff\n{GOOD}```"), finding(f"```diff\n{STALE}```"), finding("prose")], repo
    )
    assert [f.fix_patch for f in checked] == [GOOD, None, None]
    assert (repo / "calc.py").read_text() == SOURCE  # checked, never applied


def test_a_fix_its_repro_verified_is_carried_when_the_fix_text_holds_no_patch(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", {"calc.py": SOURCE})

    def reproduction(label: ReproLabel, patch: str) -> Reproduction:
        return Reproduction(
            agent="claude",
            reviewer="Claude",
            finding_id="I1",
            title="add subtracts",
            repro=Repro(content="exit 1", fix_patch=patch),
            label=label,
            reason="r",
            consolidated_id="I1",
        )

    prose = [finding("Use `+`.")]
    assert (
        with_applicable_fixes(prose, repo, [reproduction("fix verified", GOOD)])[0].fix_patch
        == GOOD
    )
    assert (
        with_applicable_fixes(prose, repo, [reproduction("reproduced", GOOD)])[0].fix_patch is None
    )
    stale = [reproduction("fix verified", STALE)]
    assert with_applicable_fixes(prose, repo, stale)[0].fix_patch is None
