"""The unified-diff parser: golden cases from real git runs, a live repository, edge cases."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deepreview.diff import Diff, DiffLine, FileHunks, MemoryHunks, parse_diff, parse_diff_file
from tests.repo_factory import GIT_ENV, commit, git, make_repo, write

GOLDEN = Path(__file__).parent.parent / "golden" / "diff"
CASES = sorted(p.stem for p in GOLDEN.glob("*.diff"))
KIND = {"context": " ", "added": "+", "deleted": "-"}


def as_json(diff: Diff) -> dict[str, Any]:
    """The golden-file form of a parsed diff."""

    def line(ln: DiffLine) -> list[Any]:
        flags = [name for name, on in (("noeol", ln.no_newline_at_eof), ("crlf", ln.crlf)) if on]
        return [KIND[ln.kind], ln.old_lineno, ln.new_lineno, ln.text, *flags]

    return {
        "files": [
            {
                "old_path": f.old_path,
                "new_path": f.new_path,
                "status": f.status,
                "is_binary": f.is_binary,
                "is_submodule": f.is_submodule,
                "old_mode": f.old_mode,
                "new_mode": f.new_mode,
                "similarity": f.similarity,
                "added_lines": sorted(f.added_lines),
                "hunks": [
                    {
                        "old": [h.old_start, h.old_count],
                        "new": [h.new_start, h.new_count],
                        "section": h.section,
                        "lines": [line(ln) for ln in h.lines],
                    }
                    for h in f.hunks
                ],
            }
            for f in diff.files
        ],
        "errors": list(diff.errors),
    }


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """`data` in pieces that ignore line boundaries."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def git_diff_stream(repo: Path, *args: str) -> Diff:
    """Parse `git diff` straight from the process's stdout pipe."""
    proc = subprocess.Popen(
        ["git", "diff", "-M", "--no-color", "--no-ext-diff", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        env={**os.environ, **GIT_ENV},
    )
    assert proc.stdout is not None
    with proc.stdout:
        diff = parse_diff(proc.stdout)
    assert proc.wait() == 0
    return diff


def test_golden_cases_exist() -> None:
    assert len(CASES) >= 15
    assert all((GOLDEN / f"{case}.json").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    data = (GOLDEN / f"{case}.diff").read_bytes()
    expected = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    with (GOLDEN / f"{case}.diff").open("rb") as fh:
        assert as_json(parse_diff(fh)) == expected
    assert as_json(parse_diff(data)) == expected
    assert as_json(parse_diff(data.decode("utf-8", "surrogateescape"))) == expected
    assert as_json(parse_diff(chunks(data, 7))) == expected


def test_live_repository_with_every_kind_of_change(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "edit.py": "".join(f"line {i}\n" for i in range(1, 21)),
            "moved.txt": "".join(f"moved {i}\n" for i in range(30)),
            "source.txt": "".join(f"copy me {i}\n" for i in range(30)),
            "logo.bin": b"\x00\x01\x02\x03",
            "run.sh": "#!/bin/sh\n",
            "gone.txt": "bye\n",
        },
    )
    write(repo, {"edit.py": "".join(f"line {i}\n" for i in range(1, 21)).replace("line 7", "L7")})
    git(repo, "mv", "moved.txt", "renamed.txt")
    write(repo, {"copied.txt": (repo / "source.txt").read_text()})
    write(repo, {"logo.bin": b"\x00\x01\x02\x04\x05"})
    (repo / "run.sh").chmod(0o755)
    git(repo, "rm", "-q", "gone.txt")
    write(repo, {"ünïcode.txt": "é\n", "name with space.txt": "a\nb\n"})
    git(repo, "add", "-A")

    diff = git_diff_stream(repo, "--cached", "-C", "-C")

    assert diff.errors == ()
    summary = {(f.status, f.old_path, f.new_path) for f in diff.files}
    assert summary == {
        ("copied", "source.txt", "copied.txt"),
        ("modified", "edit.py", "edit.py"),
        ("deleted", "gone.txt", None),
        ("modified", "logo.bin", "logo.bin"),
        ("added", None, "name with space.txt"),
        ("renamed", "moved.txt", "renamed.txt"),
        ("modified", "run.sh", "run.sh"),
        ("added", None, "ünïcode.txt"),
    }
    edit = diff.file("edit.py")
    assert edit is not None and edit.added_lines == frozenset({7})
    assert [(ln.kind, ln.text, ln.old_lineno) for ln in edit.hunks[0].lines if ln.kind != "added"][
        3
    ] == ("deleted", "line 7", 7)
    logo, run = diff.file("logo.bin"), diff.file("run.sh")
    assert logo is not None and logo.is_binary and not logo.hunks
    assert (
        run is not None and run.mode_only and (run.old_mode, run.new_mode) == ("100644", "100755")
    )
    renamed, copied = diff.file("renamed.txt"), diff.file("copied.txt")
    assert renamed is not None and renamed.similarity == 100 and not renamed.hunks
    assert copied is not None and copied.similarity == 100
    spaced = diff.file("name with space.txt")
    assert spaced is not None and spaced.added_lines == frozenset({1, 2})
    unicode = diff.file("ünïcode.txt")
    assert unicode is not None and [ln.text for ln in unicode.added()] == ["é"]


def test_live_submodule_and_no_prefix(tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib")
    first = git(lib, "rev-parse", "HEAD")
    second = commit(lib, {"more.txt": "x\n"}, "more")
    repo = make_repo(tmp_path / "repo")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "a/lib")
    git(repo, "-C", "a/lib", "checkout", "-q", first)
    commit(repo, {}, "add submodule")
    git(repo, "-C", "a/lib", "checkout", "-q", second)
    git(repo, "add", "a/lib")

    diff = git_diff_stream(repo, "--cached", "--no-prefix")

    assert diff.errors == ()
    (sub,) = diff.files
    assert (sub.path, sub.status, sub.is_submodule) == ("a/lib", "modified", True)
    assert [ln.text for ln in sub.added()] == [f"Subproject commit {second}"]


def test_non_utf8_bytes_are_recoverable() -> None:
    raw = b"caf\xe9 \xff\xfe end"
    patch = b"--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+" + raw + b"\n"
    (line,) = parse_diff(patch).files[0].added()
    assert line.text.encode("utf-8", "surrogateescape") == raw


def test_quoted_names_decode_c_escapes() -> None:
    name = 't\\tab\\nnl \\"q\\" \\\\ \\303\\251'
    patch = f'diff --git "a/{name}" "b/{name}"\nnew file mode 100644\n'
    diff = parse_diff(patch)
    assert diff.errors == ()
    assert diff.files[0].path == 't\tab\nnl "q" \\ é'


def test_unquoted_names_with_spaces_and_no_prefix_lookalike() -> None:
    diff = parse_diff(
        "diff --git a/x y b/x y\nold mode 100644\nnew mode 100755\n"
        "diff --git a/z a/z\nold mode 100644\nnew mode 100755\n"
    )
    assert diff.paths == ["x y", "a/z"]
    assert all(f.mode_only for f in diff.files)


def test_crlf_is_kept_out_of_text_but_recorded() -> None:
    diff = parse_diff(b"--- a/w\r\n+++ b/w\r\n@@ -1 +1 @@\r\n-old\r\n+new\n")
    assert diff.errors == ()
    assert diff.paths == ["w"]
    old, new = diff.files[0].hunks[0].lines
    assert (old.text, old.crlf, new.text, new.crlf) == ("old", True, "new", False)


def test_malformed_lines_are_reported_with_line_numbers() -> None:
    diff = parse_diff("diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n ok\n?\n")
    assert diff.errors == ("line 6: hunk ends early (expected 1 old, 1 new lines)",)
    assert diff.files[0].hunks[0].lines == (DiffLine("context", "ok", 1, 1),)


def test_error_list_is_capped() -> None:
    diff = parse_diff("@@ -1 +1 @@\n" * 500)
    assert len(diff.errors) == 201
    assert diff.errors[0] == "line 1: hunk header without a file header: '@@ -1 +1 @@'"
    assert diff.errors[-1] == "… and 300 more errors"


def test_plain_diff_with_epoch_in_local_time_is_an_addition() -> None:
    diff = parse_diff(
        "--- old/new.c\t1969-12-31 19:00:00.000000000 -0500\n"
        "+++ new/new.c\t2024-05-01 10:00:00.000000000 -0500\n"
        "@@ -0,0 +1 @@\n+int x;\n"
    )
    assert [(f.status, f.old_path, f.new_path) for f in diff.files] == [("added", None, "new.c")]


def test_empty_input_is_an_empty_diff() -> None:
    assert parse_diff(b"") == Diff()
    assert parse_diff([]).is_empty


def test_streaming_holds_lines_not_the_input() -> None:
    """20 MB of binary patch data (in long rows, to keep the test fast) are not kept."""

    def lines() -> Iterator[bytes]:
        yield b"diff --git a/big.bin b/big.bin\nindex 1..2 100644\nGIT binary patch\nliteral 9\n"
        row = b"z" + b"0123456789" * 400 + b"\n"
        for _ in range(20_000_000 // len(row)):
            yield row
        yield b"\ndiff --git a/t b/t\n--- a/t\n+++ b/t\n@@ -1 +1 @@\n-a\n+b\n"

    tracemalloc.start()
    try:
        diff = parse_diff(lines())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert diff.paths == ["big.bin", "t"] and diff.files[0].is_binary
    assert peak < 1_000_000


def test_model_equality_across_input_forms() -> None:
    text = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -3,2 +3,3 @@ def f():\n a\n+b\n c\n"
    parsed = parse_diff(text)
    assert parsed == parse_diff(text.encode()) == parse_diff(io.BytesIO(text.encode()))
    hunk = parsed.files[0].hunks[0]
    assert hunk.section == "def f():"
    assert [(ln.old_lineno, ln.new_lineno) for ln in hunk.lines] == [(3, 3), (None, 4), (4, 5)]


def test_block_boundaries_do_not_change_the_result() -> None:
    """Multi-byte and undecodable characters straddle the reader's 64 KiB blocks."""
    rows = [b"+\xc3\xa9t\xc3\xa9 \xff" + b"x" * (i % 50) + b"\xe2\x82\xac" for i in range(6000)]
    data = b"--- a/f\n+++ b/f\n@@ -0,0 +1,6000 @@\n" + b"\n".join(rows) + b"\n"
    assert len(data) > 3 * 65536
    parsed = parse_diff(data)
    assert parsed.errors == ()
    texts = [ln.text.encode("utf-8", "surrogateescape") for ln in parsed.files[0].added()]
    assert texts == [row[1:] for row in rows]
    assert parse_diff(io.BytesIO(data)) == parsed
    assert parse_diff(data.splitlines(keepends=True)) == parsed
    assert parse_diff(chunks(data, 65537)) == parsed
    assert parse_diff(data.decode("utf-8", "surrogateescape")) == parsed


def test_plain_binary_files_line() -> None:
    diff = parse_diff("Only in new: x\nBinary files old/img/a.png and new/img/a.png differ\n")
    assert [(f.path, f.status, f.is_binary) for f in diff.files] == [
        ("img/a.png", "modified", True)
    ]


def test_garbage_collector_is_left_as_found() -> None:
    def failing() -> Iterator[bytes]:
        yield b"diff --git a/f b/f\n"
        raise OSError("pipe closed")

    assert gc.isenabled()
    parse_diff("diff --git a/f b/f\nold mode 100644\nnew mode 100755\n")
    assert gc.isenabled()
    with pytest.raises(OSError, match="pipe closed"):
        parse_diff(failing())
    assert gc.isenabled()
    gc.disable()
    try:
        parse_diff(b"")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_git_log_patches_with_indented_messages(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "1\n"})
    commit(repo, {"a.txt": "2\n"}, "Second\n\n- removed a thing\n+ added a thing\n")
    commit(repo, {"b.txt": "b\n"}, "Third\n\n indented\n")
    log = git(repo, "log", "-p", "--stat", "--no-color", "--no-ext-diff")
    diff = parse_diff(log + "\n")
    assert diff.errors == ()
    assert [(f.status, f.path) for f in diff.files] == [
        ("added", "b.txt"),
        ("modified", "a.txt"),
        ("added", "a.txt"),
    ]


@pytest.mark.parametrize("case", CASES)
def test_file_parse_matches_the_in_memory_parse(case: str) -> None:
    path = GOLDEN / f"{case}.diff"
    data = path.read_bytes()
    diff = parse_diff_file(path)
    expected = parse_diff(data)
    assert as_json(diff) == as_json(expected)
    assert [(f.added_count, f.deleted_count) for f in diff.files] == [
        (f.added_count, f.deleted_count) for f in expected.files
    ]
    assert diff.source is not None
    assert diff.source.size == len(data)
    assert diff.source.sha256 == hashlib.sha256(data).hexdigest()
    for f in diff.files:
        assert f.offset is not None
        assert data[f.offset :].startswith((b"diff --git ", b"--- ", b"Binary files ")), f.path


def big_diff(files: int, hunks: int, rows: int) -> bytes:
    """A git diff of `files` files with `hunks` hunks of `rows` added, deleted and context
    lines each."""
    out = []
    for i in range(files):
        out.append(f"diff --git a/d/f{i}.py b/d/f{i}.py\n--- a/d/f{i}.py\n+++ b/d/f{i}.py\n")
        for h in range(hunks):
            start = 1 + h * rows * 3
            body = "".join(f" c{k}\n-old {k}\n+new {k} é\n" for k in range(rows))
            out.append(f"@@ -{start},{rows * 2} +{start},{rows * 2} @@ def f{h}():\n{body}")
    return "".join(out).encode()


def test_file_parse_keeps_no_lines_and_reads_them_back(tmp_path: Path) -> None:
    data = big_diff(files=20, hunks=10, rows=400)  # 2 MB, 240,000 lines
    path = tmp_path / "big.diff"
    path.write_bytes(data)
    gc.collect()
    tracemalloc.start()
    try:
        diff = parse_diff_file(path)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert diff.errors == ()
    assert len(data) > 2_000_000
    assert kept < 50_000  # the lines alone take 20 MB in memory
    assert peak < 2_000_000  # a block of input at a time
    added = sum(ln.kind == "added" for f in diff.files for h in f.hunks for ln in h.lines)
    assert added == sum(f.added_count for f in diff.files) == 20 * 10 * 400
    last = diff.files[17].hunks[-1]
    assert (last.new_start, last.new_count, last.section) == (1 + 9 * 1200, 800, "def f9():")
    assert last.lines[-1] == DiffLine("added", "new 399 é", None, 1 + 9 * 1200 + 799)


def test_file_parse_counts_and_ranges_need_no_file(tmp_path: Path) -> None:
    path = tmp_path / "change.diff"
    path.write_bytes(big_diff(files=2, hunks=3, rows=5))
    diff = parse_diff_file(path)
    expected = parse_diff(path.read_bytes())
    path.unlink()
    for got, want in zip(diff.files, expected.files, strict=True):
        assert got.added_lines == want.added_lines and len(got.added_lines) == 15
        assert (got.added_count, got.deleted_count) == (15, 15)
        assert [(h.new_start, h.new_count) for h in got.hunks] == [(1, 10), (16, 10), (31, 10)]
        assert got.touches(12, 14) is False and got.touches(12, 14, context=2) is True
        assert got.touches(40) is True and got.touches(41) is False
    with pytest.raises(FileNotFoundError):
        _ = diff.files[0].hunks[0].lines


def test_file_and_memory_hunk_stores_give_the_same_hunks(tmp_path: Path) -> None:
    data = big_diff(files=3, hunks=4, rows=6)
    path = tmp_path / "change.diff"
    path.write_bytes(data)
    from_file, in_memory = parse_diff_file(path), parse_diff(data)
    for got, want in zip(from_file.files, in_memory.files, strict=True):
        assert isinstance(got.hunks, FileHunks) and isinstance(want.hunks, MemoryHunks)
        assert [(h.section, h.lines) for h in got.hunks] == [
            (h.section, h.lines) for h in want.hunks
        ]
        assert got.hunks == want.hunks and got.hunks[-1] == want.hunks[-1]
        rebuilt = MemoryHunks.of(want.hunks)  # what a FileDiff made from Hunk objects holds
        for store in (got.hunks, want.hunks, rebuilt):
            assert store.added_lines() == want.added_lines and len(store.added_lines()) == 24
            assert (store.added_count(), store.deleted_count()) == (24, 24)
            assert list(store.new_ranges()) == [(h.new_start, h.new_count) for h in want.hunks]
