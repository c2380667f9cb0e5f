"""Properties of the parsers on hostile input: they never raise, and keep what they can.

(tests/unit/test_diff_properties.py, test_parse_structured.py and test_parse_markdown.py
cover "never raises" on generated text; these add recovery from garbage and invalid bytes.)
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from deepreview.diff import parse_diff
from deepreview.parse import parse_review
from deepreview.schema import AgentReview

#: Prose around an answer: anything but the characters that open JSON or Markdown structure.
prose = st.text(
    alphabet=st.characters(exclude_characters="{}[]`#|*-_>\r", exclude_categories=["Cs"]),
    max_size=200,
)
#: Lines of junk that do not start a diff section.
junk_lines = st.lists(
    st.text(alphabet=st.characters(exclude_characters="\n\r", exclude_categories=["Cs"]))
    .filter(lambda s: not s.startswith(("diff ", "--- ", "+++ ", "@@", "Binary", "GIT binary")))
    .filter(lambda s: not s.startswith(("rename ", "copy ", "old mode", "new ", "deleted ")))
    .filter(lambda s: not s.startswith(("similarity", "dissimilarity", "index "))),
    max_size=8,
)
titles = (
    st.text(
        alphabet=st.characters(whitelist_categories=["L", "N"], whitelist_characters=" "),
        min_size=3,
        max_size=40,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: len(s) >= 3)
)
severities = st.sampled_from(["critical", "important", "suggestion"])
lines = st.integers(min_value=1, max_value=5000)

VALID_DIFF = (
    "diff --git a/pkg/app.py b/pkg/app.py\n"
    "index 1111111..2222222 100644\n"
    "--- a/pkg/app.py\n"
    "+++ b/pkg/app.py\n"
    "@@ -1,2 +1,3 @@\n"
    " import os\n"
    "-x = 1\n"
    "+x = 2\n"
    "+y = 3\n"
)


@settings(max_examples=100, deadline=None)
@given(prose, prose, titles, severities, lines)
def test_a_json_review_in_prose_is_recovered(
    before: str, after: str, title: str, severity: str, line: int
) -> None:
    answer = {
        "summary": "One problem.",
        "findings": [
            {
                "id": "F1",
                "severity": severity,
                "title": title,
                "locations": [{"path": "pkg/app.py", "start_line": line}],
            }
        ],
    }
    review = parse_review(f"{before}\n{json.dumps(answer)}\n{after}")
    assert [(f.severity, f.title) for f in review.findings] == [(severity, title)]
    assert review.findings[0].locations[0].label() == f"pkg/app.py:{line}"


@settings(max_examples=100, deadline=None)
@given(prose, prose, titles, severities, lines)
def test_a_markdown_finding_among_garbage_is_recovered(
    before: str, after: str, title: str, severity: str, line: int
) -> None:
    text = (
        f"{before}\n\n## Findings\n\n### F1. {title} — `pkg/app.py:{line}` ({severity})\n\n"
        f"The body.\n\n{after}\n"
    )
    review = parse_review(text)
    assert [(f.severity, f.title) for f in review.findings] == [(severity, title)]
    assert [loc.label() for loc in review.findings[0].locations] == [f"pkg/app.py:{line}"]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["replace", "surrogateescape", "ignore"]))
def test_review_parsers_take_any_bytes(data: bytes, errors: str) -> None:
    review = parse_review(data.decode("utf-8", errors))
    assert isinstance(review, AgentReview)
    assert all(isinstance(n, str) for n in review.parse_notes)


@settings(max_examples=100, deadline=None)
@given(junk_lines, junk_lines)
def test_a_file_diff_among_junk_is_recovered(before: list[str], after: list[str]) -> None:
    head = "".join(line + "\n" for line in before)
    tail = "".join(line + "\n" for line in after)
    diff = parse_diff((head + VALID_DIFF + tail).encode("utf-8", "surrogatepass"))
    (f,) = [f for f in diff.files if f.path == "pkg/app.py"]
    assert f.added_lines == {2, 3}


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2 * len(VALID_DIFF)))
def test_a_truncated_diff_keeps_the_files_before_the_cut(cut: int) -> None:
    second = VALID_DIFF.replace("pkg/app.py", "pkg/other.py")
    diff = parse_diff((VALID_DIFF + second).encode()[:cut])
    assert all(f.path for f in diff.files)  # a cut-off header never yields a nameless file
    assert len(diff.files) <= 2
    if cut >= len(VALID_DIFF):
        assert diff.files[0].path == "pkg/app.py"
        assert diff.files[0].added_lines == {2, 3}
