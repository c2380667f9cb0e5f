"""Unusual diffs, each reviewed for real end to end with the built-in scan agent."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli
from tests.repo_factory import commit, git, make_repo

BASE_FILES: dict[str, str | bytes] = {
    "README.md": "# demo\n",
    "run.sh": "#!/bin/sh\necho hi\n",
    "old_name.py": "VALUE = 1\n",
    "tail.py": "x = 1",
}


def binary_only(repo: Path) -> list[str]:
    commit(repo, {"img/logo.bin": bytes(range(256)) * 8}, "Add a logo")
    return ["img/logo.bin"]


def rename_only(repo: Path) -> list[str]:
    git(repo, "mv", "old_name.py", "new_name.py")
    git(repo, "commit", "-q", "-m", "Rename")
    return ["new_name.py"]


def mode_only(repo: Path) -> list[str]:
    git(repo, "update-index", "--chmod=+x", "run.sh")
    git(repo, "commit", "-q", "-m", "Make it executable")
    return ["run.sh"]


def submodule(repo: Path) -> list[str]:
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/lib")
    git(repo, "commit", "-q", "-m", "Vendor a library")
    return ["vendor/lib"]


def crlf(repo: Path) -> list[str]:
    commit(repo, {"win.py": b"def f():\r\n    # TODO: windows paths\r\n    return 1\r\n"}, "CRLF")
    return ["win.py"]


def no_newline_at_end(repo: Path) -> list[str]:
    commit(repo, {"tail.py": "x = 2"}, "Change the last line")
    return ["tail.py"]


def odd_names(repo: Path) -> list[str]:
    names = ["dir with space/naïve file.py", "new\nline.py", "tab\there.py", "日本語.py"]
    commit(repo, {n: "VALUE = 2\n" for n in names}, "Odd names")
    return sorted(names)


CASES: dict[str, Callable[[Path], list[str]]] = {
    "binary-only": binary_only,
    "rename-only": rename_only,
    "mode-only": mode_only,
    "submodule": submodule,
    "crlf": crlf,
    "no-newline-at-end": no_newline_at_end,
    "odd-names": odd_names,
}


@pytest.fixture
def base_repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo", BASE_FILES)
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


@pytest.mark.parametrize("case", CASES)
def test_an_unusual_diff_is_reviewed(cli: Cli, base_repo: Path, case: str) -> None:
    expected = CASES[case](base_repo)
    proc = cli.review(base_repo, "--agent", "scan")
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    assert sorted(report["target"]["changed_files"]) == expected
    assert [r["status"] for r in report["runs"]] == ["ok"]
    assert not any(n.startswith("Diff: ") for n in report["notes"]), report["notes"]
    if case == "crlf":
        (limitation,) = report["limitations"]
        assert limitation["quote"].endswith("windows paths")
    assert cli.leftover_worktrees() == []


def test_an_empty_diff_is_a_clear_error(cli: Cli, base_repo: Path) -> None:
    git(base_repo, "commit", "-q", "--allow-empty", "-m", "Nothing")
    proc = cli.review(base_repo, "--agent", "scan")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "deepreview: error: nothing to review: the diff is empty"
    ]


def fast_import_commit(repo: Path, branch: str, files: dict[str, str]) -> None:
    """Commit `files` on top of HEAD as `branch` without writing them to the working tree."""
    chunks = [
        f"commit refs/heads/{branch}\ncommitter A <a@example.com> 0 +0000\n"
        f"data 4\nbig\nfrom {git(repo, 'rev-parse', 'HEAD')}\n"
    ]
    for name, text in files.items():
        data = text.encode()
        chunks.append(f"M 100644 inline {name}\ndata {len(data)}\n{text}\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input="".join(chunks).encode(),
        check=True,
        capture_output=True,
    )


def test_ten_thousand_files(cli: Cli, base_repo: Path) -> None:
    files = {f"pkg{i % 100}/mod{i}.py": f"def f{i}():\n    return {i}\n" for i in range(10_000)}
    fast_import_commit(base_repo, "big", files)
    proc = cli.review(base_repo, "--agent", "scan", "--base", "feature", "--head", "big")
    assert proc.returncode == 0, proc.stderr
    report = cli.report()
    assert len(report["target"]["changed_files"]) == 10_000
    assert cli.leftover_worktrees() == []


def test_a_non_utf8_file_name_and_content_are_reviewed_and_serialized_escaped(
    cli: Cli, repo: Path
) -> None:
    name = b"weird/caf\xe9.py"
    (repo / "weird").mkdir()
    (repo / os.fsdecode(name)).write_bytes(b'"""Caf\xe9."""\n\n# TODO: r\xe9sum\xe9 the l\xf6g\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add a Latin-1 file")
    proc = cli.review(repo, "--agent", "claude", "--agent", "scan", "--format", "md,json,html")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    js_path = next(cli.out.glob("*.json"))
    report = json.loads(js_path.read_bytes().decode("utf-8"))  # valid UTF-8 throughout
    assert "weird/caf\\xe9.py" in report["target"]["changed_files"]
    assert all(r["status"] == "ok" for r in report["runs"]), report["runs"]
    note = next(lim for lim in report["limitations"] if "TODO" in lim["quote"])
    assert note["location"]["path"] == "weird/caf\\xe9.py"
    assert "r\\xe9sum\\xe9 the l\\xf6g" in note["quote"]
    md = next(cli.out.glob("*.md")).read_bytes().decode("utf-8")
    assert "weird/caf\\xe9.py" in md
    db = sqlite3.connect(repo / ".deepreview" / "deepreview.db")
    (stored,) = db.execute("SELECT id FROM reviews").fetchall()
    db.close()
    assert stored[0] == report["id"]
