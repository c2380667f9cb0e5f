"""Property tests of the diff parser: it never raises, and it reads difflib's output back."""

from __future__ import annotations

import difflib
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from deepreview.diff import Diff, parse_diff, parse_diff_file

# Fragments that steer random input into every parser state.
FRAGMENTS = [
    "diff --git a/f b/f",
    'diff --git "a/q\\303\\251" "b/q\\303\\251"',
    "diff --git a/x y b/x y",
    "diff --cc f",
    "--- a/f",
    "+++ b/f",
    "--- /dev/null",
    "+++ /dev/null",
    "--- old/f\t1970-01-01 00:00:00 +0000",
    "@@ -1 +1 @@",
    "@@ -1,2 +1,3 @@ section",
    "@@ -0,0 +1 @@",
    "@@ -99999999999999999999 +1 @@",
    "old mode 100644",
    "new mode 100755",
    "new file mode 160000",
    "deleted file mode 100644",
    "rename from a",
    "rename to b",
    "copy from a",
    "copy to b",
    "similarity index 50%",
    "index 1..2 160000",
    "Binary files a/f and b/f differ",
    "Binary files x differ",
    "GIT binary patch",
    "\\ No newline at end of file",
    "From 0000 Mon Sep 17 00:00:00 2001",
    "-- ",
    " context",
    "-deleted",
    "+added",
    "",
]
diffish_lines = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=40)


def check(diff: Diff) -> None:
    assert all(msg.startswith("line ") or msg.startswith("…") for msg in diff.errors)
    for f in diff.files:
        assert f.path
        for h in f.hunks:
            for ln in h.lines:
                assert "\n" not in ln.text


def check_file_parse(data: bytes, expected: Diff) -> None:
    """Parsing `data` from a file gives `expected`, hunk sections, lines and counts included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.diff"
        path.write_bytes(data)
        from_file = parse_diff_file(path)
        assert from_file == expected
        for got, want in zip(from_file.files, expected.files, strict=True):
            assert [h.section for h in got.hunks] == [h.section for h in want.hunks]
            assert got.added_lines == want.added_lines
            assert (got.added_count, got.deleted_count) == (want.added_count, want.deleted_count)


@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=50))
def test_arbitrary_bytes_never_raise(data: bytes, size: int) -> None:
    whole = parse_diff(data)
    check(whole)
    assert parse_diff(data[i : i + size] for i in range(0, len(data), size)) == whole
    check_file_parse(data, whole)


@given(diffish_lines, st.sampled_from(["\n", "\r\n"]), st.integers(min_value=1, max_value=50))
def test_diff_like_input_never_raises_and_chunking_does_not_matter(
    lines: list[str], newline: str, size: int
) -> None:
    data = newline.join(lines).encode("utf-8", "surrogatepass")
    whole = parse_diff(data)
    check(whole)
    assert parse_diff(data[i : i + size] for i in range(0, len(data), size)) == whole
    check_file_parse(data, whole)


texts = st.text(
    alphabet=st.characters(exclude_characters="\n\r", exclude_categories=["Cs"]), max_size=6
)
file_lines = st.lists(st.sampled_from(["a", "b", "c", "", " x", "-y", "+z"]) | texts, max_size=30)


@given(file_lines, file_lines, st.integers(min_value=0, max_value=4))
def test_difflib_round_trip(old: list[str], new: list[str], context: int) -> None:
    patch = "\n".join(difflib.unified_diff(old, new, "a/f", "b/f", n=context, lineterm=""))
    diff = parse_diff(patch)
    assert diff.errors == ()
    if old == new:
        assert diff.is_empty
        return
    (f,) = diff.files
    assert f.path == "f"
    matcher = difflib.SequenceMatcher(None, old, new)
    really_added = {
        j + 1
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
        for j in range(j1, j2)
    }
    assert f.added_lines == really_added
    for h in f.hunks:
        for ln in h.lines:
            if ln.old_lineno is not None:
                assert old[ln.old_lineno - 1] == ln.text
            if ln.new_lineno is not None:
                assert new[ln.new_lineno - 1] == ln.text
