"""The `deepreview` command end to end, as a real subprocess on real repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import REPORT_SECTIONS
from tests.repo_factory import commit, git, make_repo

#: Every section heading; a review without AI agents also has process notes (and none has
#: reproductions: they come from AI agents).
SECTIONS = [f"## {title}" for title in REPORT_SECTIONS if title != "Reproductions"]

PLANTED = '''import os
import subprocess
import time

AWS_ACCESS_KEY_ID = "AKIAQWERTYUIOPASDFGH"


def run(cmd: str) -> int:
    """Run a shell command."""
    # TODO: validate cmd before running it
    return subprocess.run(cmd, shell=True).returncode
'''


def deepreview(
    cwd: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI",)}
    env["DEEPREVIEW_SERIAL"] = "0"
    return subprocess.run(
        [sys.executable, "-m", "deepreview", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", {"README.md": "# demo\n", "app/__init__.py": ""})
    git(repo, "checkout", "-q", "-b", "feature/runner")
    commit(repo, {"app/runner.py": PLANTED}, "Add a command runner")
    return repo


def test_planted_defects_are_found_attributed_and_rework(planted: Path) -> None:
    status_before = git(planted, "status", "--porcelain")
    proc = deepreview(planted, "review", "--agent", "scan", "--agent", "ruff", "--agent", "bandit")
    assert proc.returncode == 0, proc.stderr
    reports = sorted((planted / ".deepreview" / "reviews").glob("*.json"))
    assert len(reports) == 1
    data = json.loads(reports[0].read_text())
    assert data["verdict"]["decision"] == "Rework"
    assert any("Add an AI reviewer" in note for note in data["notes"])
    by_agent: dict[str, list[dict[str, object]]] = {}
    for f in data["findings"]:
        for src in f["sources"]:
            by_agent.setdefault(src["agent"].split()[0], []).append(f)
    titles = {a: " ".join(str(f["title"]) for f in fs) for a, fs in by_agent.items()}
    assert "F401" in titles["ruff"]  # unused import os
    assert "B602" in titles["bandit"] or "B604" in titles["bandit"]  # shell=True
    secret = [f for f in data["findings"] if f["severity"] == "critical"]
    assert secret and any("scan" in f["agents"] for f in secret)
    assert any("TODO" in lim["quote"] for lim in data["limitations"])
    # the secret value itself is never written out
    md = reports[0].with_suffix(".md").read_text()
    assert "AKIAQWERTYUIOPASDFGH" not in md
    assert "AKIAQWERTYUIOPASDFGH" not in reports[0].read_text()
    positions = [md.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "**Rework**" in md
    # the user's checkout is untouched and no worktree is left behind
    assert git(planted, "status", "--porcelain") == status_before
    assert len(git(planted, "worktree", "list").splitlines()) == 1
    assert str(reports[0].with_suffix(".md").relative_to(planted)) in proc.stdout.replace("\n", "")


def test_works_from_a_subdirectory(planted: Path) -> None:
    proc = deepreview(planted / "app", "review", "--agent", "scan", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(list((planted / ".deepreview" / "reviews").glob("*.json"))) == 1


def test_fail_on_critical_exits_1(planted: Path, tmp_path: Path) -> None:
    proc = deepreview(
        planted,
        "review",
        "--agent",
        "scan",
        "--fail-on",
        "critical",
        "--output",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 1, proc.stderr
    assert list((tmp_path / "out").glob("*.md"))


def test_patch_from_stdin(planted: Path, tmp_path: Path) -> None:
    patch = git(planted, "diff", "main", "HEAD") + "\n"
    proc = deepreview(
        planted,
        "review",
        "--agent",
        "scan",
        "--patch",
        "-",
        "--base",
        "main",
        "--output",
        str(tmp_path / "o"),
        stdin=patch.encode(),
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(next((tmp_path / "o").glob("*.json")).read_text())
    assert data["target"]["kind"] == "patch"
    assert data["target"]["changed_files"] == ["app/runner.py"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "--base", "no-such-ref"), "unknown revision: no-such-ref"),
        (("review", "--base", "HEAD", "--agent", "scan"), "nothing to review: the diff is empty"),
        (("review", "--patch", "/nonexistent/x.patch"), "cannot read patch /nonexistent/x.patch"),
        (("review", "--format", "pdf"), "unknown format pdf"),
        (("review", "--agent", "nope"), "unknown agent 'nope'"),
    ],
)
def test_errors_are_one_line_with_exit_2(
    planted: Path, args: tuple[str, ...], message: str
) -> None:
    proc = deepreview(planted, *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"deepreview: error: {message}")
    assert "Traceback" not in proc.stderr


def test_not_a_git_repository(tmp_path: Path) -> None:
    proc = deepreview(tmp_path, "review")
    assert proc.returncode == 2
    assert "deepreview: error: not a git repository" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_is_reported(planted: Path) -> None:
    (planted / "deepreview.toml").write_text("agents = 3\n")
    proc = deepreview(planted, "review")
    assert proc.returncode == 2
    assert "deepreview.toml: agents" in proc.stderr


def test_schema_command_prints_both_schemas(tmp_path: Path) -> None:
    proc = deepreview(tmp_path, "schema")
    data = json.loads(proc.stdout)
    assert set(data) == {"review", "report"}
    assert "findings" in data["review"]["properties"]
    assert "verdict" in data["report"]["properties"]


def test_all_formats_and_an_index_of_reports(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "all"
    for _ in range(2):
        proc = deepreview(
            planted,
            "review",
            "--agent",
            "scan",
            "--format",
            "md,json,html,sarif",
            "--output",
            str(out),
            "--no-cache",
        )
        assert proc.returncode == 0, proc.stderr
        time.sleep(1.1)  # report ids have one-second resolution
    pages = sorted(out.glob("*.html"))
    assert [p.name for p in pages][-1] == "index.html" and len(pages) == 3
    sarif = json.loads(next(out.glob("*.sarif")).read_text())
    assert sarif["version"] == "2.1.0"
    assert any(r["level"] == "error" for r in sarif["runs"][0]["results"])
    index = (out / "index.html").read_text()
    ids = [p.stem for p in pages if p.name != "index.html"]
    assert index.index(ids[1]) < index.index(ids[0])  # newest first


def test_every_review_rebuilds_the_index(planted: Path) -> None:
    out = planted / ".deepreview" / "reviews"
    proc = deepreview(planted, "review", "--agent", "scan", "--format", "md")
    assert proc.returncode == 0, proc.stderr
    index = (out / "index.html").read_text()
    (md,) = out.glob("*.md")
    assert f'href="{md.name}"' in index
    assert "Add a command runner" in index  # the title: the newest commit's subject
    base = git(planted, "merge-base", "main", "HEAD").strip()[:7]
    head = git(planted, "rev-parse", "HEAD").strip()[:7]
    assert f"{base}..{head}" in index
    assert '<span class="sev critical">1 critical</span>' in index
    assert "Rework" in index


def test_an_index_written_by_something_else_is_left_alone(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<html>my own page</html>")
    proc = deepreview(planted, "review", "--agent", "scan", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "index.html").read_text() == "<html>my own page</html>"


def test_resolve_appends_a_resolution_that_later_rounds_honour(planted: Path) -> None:
    assert deepreview(planted, "review", "--agent", "scan").returncode == 0
    [first] = sorted((planted / ".deepreview" / "reviews").glob("*.json"))
    data = json.loads(first.read_text())
    secret = next(f for f in data["findings"] if f["severity"] == "critical")
    other = next(f for f in data["findings"] if f["id"] != secret["id"])
    proc = deepreview(
        planted,
        "resolve",
        data["id"],
        f"{secret['id']}=skipped:a documented test key",
        f"{other['id']}=fixed",
    )
    assert proc.returncode == 0, proc.stderr
    md = first.with_suffix(".md").read_text()
    section = md[md.index("## Resolution") :]
    assert f"| 1 | Critical {secret['id']}: " in section
    assert "| Skipped | a documented test key |" in section and "| Fixed |" in section
    assert "**Commit** | `" in section
    bad = deepreview(planted, "resolve", data["id"], "Z9=fixed")
    assert bad.returncode == 2 and "has no finding Z9" in bad.stderr
    assert deepreview(planted, "resolve", data["id"], "I1=maybe").returncode == 2
    # The next round drops the skipped finding as declined.
    commit(planted, {"app/more.py": "X = 1\n"}, "More")
    assert deepreview(planted, "review", "--agent", "scan").returncode == 0
    second = max((planted / ".deepreview" / "reviews").glob("*.json"), key=lambda p: p.name)
    again = json.loads(second.read_text())
    assert secret["fingerprint"] not in {f["fingerprint"] for f in again["findings"]}
    assert [d["reason"] for d in again["declined"]] == ["a documented test key"]
