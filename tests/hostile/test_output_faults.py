"""The report cannot be written: one clear line, exit 2, and no half-written report left."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from tests.hostile.conftest import Cli
from tests.repo_factory import commit

NOTES = "".join(f"# TODO: handle corner case number {n} before release\n" for n in range(300))


def assert_one_line_error(stderr: str, message: str) -> None:
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("deepreview: error: cannot write the report to "), stderr
    assert message in lines[-1]
    assert "Traceback" not in stderr


@pytest.mark.parametrize("below", ["", "reviews"])
def test_an_output_path_under_a_regular_file(
    cli: Cli, repo: Path, tmp_path: Path, below: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder\n")
    out = blocker / below if below else blocker
    proc = cli.review(repo, "--agent", "scan", "--output", str(out))
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "exists" if not below else "Not a directory")
    assert blocker.read_text() == "a file, not a folder\n"


def test_a_full_disk_leaves_no_report_behind(cli: Cli, repo: Path, tmp_path: Path) -> None:
    commit(repo, {"ledger/notes.py": NOTES}, "Write down what is left")
    sized = tmp_path / "sized"
    assert cli.review(repo, "--agent", "scan", "--no-cache", "--output", str(sized)).returncode == 0
    md_size = next(sized.glob("*.md")).stat().st_size
    json_size = next(sized.glob("*.json")).stat().st_size
    assert md_size * 1.5 < json_size
    limit = (md_size + json_size) // 2  # the Markdown fits, the JSON does not
    (repo / ".deepreview" / "deepreview.db").unlink()  # the same review again: round 1

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = cli.review(repo, "--agent", "scan", "--no-cache", preexec_fn=small_disk)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "File too large")
    print("XX", proc.stderr, list(cli.out.iterdir()), limit, md_size, json_size)
    assert list(cli.out.iterdir()) == []
