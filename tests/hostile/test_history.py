"""Reviews never overwrite each other, every review is in the history, and rounds continue only
within one lineage."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from deepreview.output import write_new_report
from deepreview.schema import Report
from deepreview.store import Store
from tests.hostile.conftest import Cli, write_answer
from tests.repo_factory import commit

PATCH = """diff --git a/notes.txt b/notes.txt
new file mode 100644
--- /dev/null
+++ b/notes.txt
@@ -0,0 +1 @@
+a note
"""


def history(repo: Path) -> list[tuple[str, int]]:
    """(id, round) of every stored review, oldest first."""
    db = sqlite3.connect(repo / ".deepreview" / "deepreview.db")
    rows = db.execute("SELECT id, round FROM reviews ORDER BY created_at, rowid").fetchall()
    db.close()
    return [(r[0], r[1]) for r in rows]


def reports(cli: Cli) -> list[dict[str, Any]]:
    """Every JSON report written, oldest first."""
    found = [json.loads(p.read_text(encoding="utf-8")) for p in cli.out.glob("*.json")]
    return sorted(found, key=lambda r: (r["created_at"], r["id"]))


def test_reviews_started_together_all_survive_with_their_own_rounds(cli: Cli, repo: Path) -> None:
    commit(repo, {"ledger/more.py": "X = 1\n"}, "Add more")
    commit(repo, {"ledger/most.py": "Y = 2\n"}, "Add most")
    procs = [
        subprocess.Popen(
            cli.argv("--agent", "scan", "--base", base),
            cwd=repo,
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for base in ("HEAD~1", "HEAD~2", "HEAD~3")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    stored = history(repo)
    written = reports(cli)
    assert len(stored) == len(written) == 3
    assert len({r["id"] for r in written}) == 3
    assert sorted(rnd for _, rnd in stored) == [1, 2, 3]  # one series, numbered one at a time
    assert {r["id"]: r["round"] for r in written} == dict(stored)


def test_a_taken_name_gets_a_short_suffix_in_the_folder_and_the_history(
    cli: Cli, repo: Path
) -> None:
    assert cli.review(repo, "--agent", "scan").returncode == 0
    (first,) = reports(cli)
    again = Report.model_validate(first)  # the same id, as two reviews in one second have
    _, paths = write_new_report(again, cli.out, ["md", "json"])
    assert paths["md"].name == f"{first['id']}-2.md"
    store = Store.for_repo(repo)
    try:
        kept = store.record_new(
            again,
            "branch:feature",
            "other",
            lambda r, taken: write_new_report(r, cli.out, ["json"], taken),
        )
    finally:
        store.close()
    assert kept.id == f"{first['id']}-3"  # the id is stored, -2 is taken in the folder
    assert [i for i, _ in history(repo)] == [first["id"], f"{first['id']}-3"]
    assert json.loads((cli.out / f"{first['id']}.json").read_text())["id"] == first["id"]


def test_rounds_continue_only_within_one_lineage(cli: Cli, repo: Path, tmp_path: Path) -> None:
    patch = tmp_path / "change.patch"
    patch.write_text(PATCH)
    assert cli.review(repo, "--agent", "scan", "--patch", str(patch)).returncode == 0
    assert cli.review(repo, "--agent", "scan", "--base", "HEAD~1").returncode == 0
    assert cli.review(repo, "--agent", "scan", "--base", "HEAD~1").returncode == 0
    commit(repo, {"ledger/more.py": "X = 1\n"}, "Add more")
    assert cli.review(repo, "--agent", "scan", "--base", "HEAD~2").returncode == 0
    patched, ranged, rerun, next_round = reports(cli)
    assert (patched["round"], patched["prior_findings"]) == (1, [])
    assert (ranged["round"], ranged["prior_findings"]) == (1, [])  # not a sequel of the patch
    assert (rerun["round"], rerun["rerun_of"]) == (1, 1)
    md = (cli.out / f"{rerun['id']}.md").read_text(encoding="utf-8")
    assert "1 (re-run of round 1)" in md
    assert (next_round["round"], next_round["rerun_of"]) == (2, None)
    previous = {(f["id"], f["fingerprint"]) for f in rerun["findings"]}
    assert {(p["id"], p["fingerprint"]) for p in next_round["prior_findings"]} == previous


def test_a_named_series_joins_patch_reviews(cli: Cli, repo: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.patch", tmp_path / "b.patch"
    first.write_text(PATCH)
    second.write_text(PATCH.replace("a note", "another note"))
    for patch in (first, second):
        args = ("--agent", "scan", "--patch", str(patch), "--series", "notes")
        assert cli.review(repo, *args).returncode == 0
    assert [r["round"] for r in reports(cli)] == [1, 2]


def test_reviews_started_in_one_second_keep_their_traces_under_their_own_ids(
    cli: Cli, repo: Path, tmp_path: Path
) -> None:
    answer = write_answer(tmp_path / "answer.json", {"summary": "ok", "findings": []})
    env = {**cli.env, "HOSTILE_REVIEW": answer}
    procs = [
        subprocess.Popen(
            cli.argv("--agent", "claude", "--base", "HEAD~1", "--no-cache"),
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    written = reports(cli)
    assert len({r["id"] for r in written}) == 3
    for report in written:
        (claude,) = [r for r in report["runs"] if r["agent"] == "claude"]
        (note,) = [n for n in claude["notes"] if n.startswith("trace: ")]
        trace = repo / note.removeprefix("trace: ")
        assert trace.parent.name == report["id"]
        assert trace.is_file()
    folders = sorted(p.name for p in (repo / ".deepreview" / "runs").iterdir() if p.is_dir())
    assert folders == sorted(r["id"] for r in written)
