"""Free-form Markdown reviews -> AgentReview, on handwritten fixtures of each format variant."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepreview.parse import parse_review
from deepreview.parse.appendix import split_appendix
from deepreview.parse.markdown import parse_markdown_review
from deepreview.schema import AgentReview, Finding

FIXTURES = Path(__file__).parent.parent / "fixtures" / "reviews"


def _parse(name: str) -> AgentReview:
    return parse_markdown_review((FIXTURES / name).read_text(encoding="utf-8"))


def _row(f: Finding) -> tuple[str, str, str, str, list[str]]:
    return (f.id, f.severity, f.category, f.title, [loc.label() for loc in f.locations])


def test_numbered_findings_under_severity_sections() -> None:
    review = _parse("numbered_sections.md")
    assert [_row(f) for f in review.findings] == [
        (
            "C1",
            "critical",
            "regression",
            "Retry loop drops the pending batch",
            ["ledger/settle.py:88"],
        ),
        (
            "I1",
            "important",
            "gap",
            "Timeout is read in milliseconds but documented in seconds",
            ["ledger/config.py:14-16", "docs/settings.md:40-42"],
        ),
        (
            "I2",
            "important",
            "regression",
            "Two writers update the balance without a lock",
            ["ledger/account.py:120", "ledger/account.py:134"],
        ),
        (
            "S3",
            "suggestion",
            "style",
            "Log message names the wrong function",
            ["ledger/settle.py:102"],
        ),
    ]
    critical = review.findings[0]
    assert critical.excerpt_lang == "python"
    assert critical.excerpt == (
        "for attempt in range(3):\n    batch = queue.pop_all()\n    if send(batch):\n        break"
    )
    assert critical.body.startswith("`pop_all()` empties the queue")
    assert critical.fix is not None
    assert critical.fix.startswith("pop only after a successful send:\n```python\n")
    assert review.findings[1].excerpt is None and review.findings[1].fix is None


def test_numbered_review_other_sections_and_preamble() -> None:
    review = _parse("numbered_sections.md")
    assert review.summary.startswith("The change moves settlement into `ledger/settle.py`")
    assert review.summary.endswith("loses entries on retry.")
    assert [(c.title, c.scope) for c in review.concerns] == [
        ("Settlement now owns the queue", "in-scope"),
        ("A persistent outbox would survive restarts", "future"),
    ]
    assert review.concerns[0].body == (
        "The queue could stay in `ledger/queue.py` and settlement would only borrow it."
    )
    # The numbered bold list in the testing section stays text, not findings.
    assert "1. **Send fails twice, then succeeds**" in review.testing
    assert review.documentation == "`docs/settings.md` still says seconds."
    assert review.parse_notes == ["ignored 2 paragraphs of narration before the review"]


def test_letter_ids_and_head_variants() -> None:
    review = _parse("letter_ids.md")
    assert [_row(f) for f in review.findings] == [
        (
            "I1",
            "important",
            "regression",
            "Export buffers the whole account in memory",
            ["ledger/export.py:40-52"],
        ),
        (
            "I2",
            "important",
            "issue",
            "Export path is not checked against the export directory",
            ["ledger/export.py:21", "ledger/paths.py:8-9"],
        ),
        ("C1", "critical", "regression", "Header row is written twice", ["ledger/export.py:60-61"]),
        (
            "S1",
            "suggestion",
            "consistency",
            "Column order differs from the import format",
            ["ledger/export.py:30"],
        ),
        ("S2", "suggestion", "issue", "Progress bar ignores `--quiet`", ["ledger/cli.py:77"]),
    ]
    i1, i2, _, s1, _ = review.findings
    # The numbered bold list inside I1's body is part of the body, not two more findings.
    assert "1. **Open a large account**" in i1.body
    assert i1.fix is not None and i1.fix.startswith("stream rows into the writer.\n\n```diff\n")
    # A diff block with no "Fix:" label starts the fix.
    assert i2.fix is not None and i2.fix.startswith("```diff\n+if not target.resolve()")
    # The tag written after the fix gives severity and category and leaves the fix.
    assert s1.fix == "reuse `IMPORT_COLUMNS`."
    assert review.parse_notes == [
        "finding 'C1' is tagged 'critical' under 'Important Issues'; taken as critical"
    ]


def test_letter_review_other_sections() -> None:
    review = _parse("letter_ids.md")
    assert review.summary == "Adds an export command. Two defects need fixing before merge."
    assert review.verdict == "Merge with fixes — I1 and I2 break exports for large accounts."
    assert [(c.title, c.scope, [loc.label() for loc in c.locations]) for c in review.concerns] == [
        ("Export and import share no schema", "future", ["ledger/columns.py"])
    ]
    assert [(s.title, s.body) for s in review.strengths] == [
        ("Clear command structure", "`ledger/cli.py` keeps each command small."),
        ("The new tests use real temporary databases", ""),
    ]
    [limitation] = review.limitations
    assert limitation.location is not None and limitation.location.label() == "ledger/export.py:12"
    assert limitation.quote == "# TODO: support encodings other than UTF-8"
    assert limitation.judgement == "acceptable for a first version."
    assert [(c.path, c.reviewed, c.finding_ids) for c in review.coverage] == [
        ("ledger/export.py", True, ["I1", "I2", "C1", "S1"]),
        ("ledger/cli.py", True, ["S2"]),
        ("ledger/paths.py", True, []),
        ("docs/export.md", False, []),
    ]


def test_bold_pseudo_headings_prior_round_and_coverage_words() -> None:
    review = _parse("bold_sections.md")
    assert [_row(f) for f in review.findings] == [
        ("I1", "important", "regression", "Eviction timer is never started", ["cache/store.py:55"]),
        (
            "S1",
            "suggestion",
            "robustness",
            "Stats counter is not thread-safe",
            ["cache/stats.py:9"],
        ),
    ]
    assert review.verdict == "Needs changes"
    assert review.summary == "Round 2 of the cache change."
    assert [(p.finding_id, p.status) for p in review.prior_findings] == [
        ("1", "fixed"),
        ("2", "still-present"),
    ]
    assert [s.title for s in review.strengths] == ["The store API stays small"]
    # "Finding 1" and "Suggestion 1" are resolved to the parsed ids.
    assert [(c.path, c.finding_ids) for c in review.coverage] == [
        ("cache/store.py", ["I1"]),
        ("cache/stats.py", ["S1"]),
        ("cache/__init__.py", []),
    ]
    assert review.parse_notes == [
        "unparsed section 'Clarification Q&A' (1 line)",
        "not kept section 'Unresolved Feedback' (1 line)",
    ]


def test_review_wrapped_in_a_fence_is_unwrapped() -> None:
    review = _parse("wrapped.md")
    assert [_row(f) for f in review.findings] == [
        ("I1", "important", "regression", "Config reload races with readers", ["svc/config.py:31"])
    ]
    assert review.findings[0].excerpt == "CONFIG = load()"
    assert review.parse_notes == []


def test_broken_review_is_described_in_notes() -> None:
    review = _parse("broken.md")
    assert [_row(f) for f in review.findings] == [
        ("1", "suggestion", "issue", "Parser accepts empty input", ["tool/parse.py:10"]),
        ("2", "important", "security", "Reads a file outside the project", []),
        ("I3", "important", "gap", "First duplicate", ["tool/a.py:1"]),
        ("I3-2", "important", "gap", "Second duplicate", ["tool/b.py:2"]),
    ]
    assert review.parse_notes == [
        "finding '1' has no severity; taken as suggestion",
        "severity 'major' taken as important",
        "finding '2': location '/etc/tool/defaults.toml:3' is outside the repository; dropped",
        "finding '2': location '../shared/conf.py:1' is outside the repository; dropped",
        "duplicate finding id 'I3'; renamed 'I3-2'",
        "1 line in 'Findings' outside any finding; ignored",
        "unparsed section 'Random Thoughts' (2 lines)",
    ]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("1. **T** — `a/b.py:3-7` (important, gap)", ("I1", "important", "gap", ["a/b.py:3-7"])),
        ("1. **T** — `a.py:3–7`", ("I1", "important", "issue", ["a.py:3-7"])),
        ("1. **T** — `a.py:3,9` (minor)", ("I1", "suggestion", "issue", ["a.py:3", "a.py:9"])),
        ("1. **T** — `a.py:1-2, 5-6`", ("I1", "important", "issue", ["a.py:1-2", "a.py:5-6"])),
        (
            "1. **T** — `a.py:10-12` and `40`",
            ("I1", "important", "issue", ["a.py:10-12", "a.py:40"]),
        ),
        ("1. **T** — `a.py`, `b/c.go`", ("I1", "important", "issue", ["a.py", "b/c.go"])),
        ("1. **T** — `a.py:4, b.py:5`", ("I1", "important", "issue", ["a.py:4", "b.py:5"])),
        (
            "1. **T** — `a.py:9` *(critical, regression)*",
            ("I1", "critical", "regression", ["a.py:9"]),
        ),
        ("1. **T** — `a.py:9` `(nit, style)`", ("I1", "suggestion", "style", ["a.py:9"])),
        ("I4. **T** — a.py:12-14", ("I4", "important", "issue", ["a.py:12-14"])),
        ("**S7. T — `x/y.ts:5`**", ("S7", "suggestion", "issue", ["x/y.ts:5"])),
        ("**C2. T** (critical, gap) — `m.rs:1`", ("C2", "critical", "gap", ["m.rs:1"])),
        ("#### S5: T — `a.py:2`", ("S5", "suggestion", "issue", ["a.py:2"])),
        (
            "I1. **T** — [a.py](/tmp/review-x/src/a.py#L3-L4)",
            ("I1", "important", "issue", ["src/a.py:3-4"]),
        ),
        (
            "I1. **T** — [`src/a.py:8`](/work/proj/src/a.py#L8)",
            ("I1", "important", "issue", ["src/a.py:8"]),
        ),
        (
            "1. **T** — [a.py](/tmp/r1/src/a.py):3-4, [b.py](/tmp/r1/b.py):9 `(important, gap)`",
            ("I1", "important", "gap", ["src/a.py:3-4", "b.py:9"]),
        ),
        ("1. **T** — `a.py:2` (gap/regression)", ("I1", "important", "gap/regression", ["a.py:2"])),
    ],
)
def test_head_line_variants(head: str, expected: tuple[str, str, str, list[str]]) -> None:
    review = parse_markdown_review(f"### Important Issues\n\n{head}\n\nWhy it matters.\n")
    [finding] = review.findings
    labels = [loc.label() for loc in finding.locations]
    assert (finding.id, finding.severity, finding.category, labels) == expected
    assert finding.title == "T"


def test_explanation_on_the_head_line_starts_the_body() -> None:
    text = "### Important Issues\n\n1. **T**: the cache is never cleared after a reload.\n\nMore.\n"
    [finding] = parse_markdown_review(text).findings
    assert finding.title == "T"
    assert finding.body == "the cache is never cleared after a reload.\n\nMore."


def test_location_on_the_line_after_the_head() -> None:
    text = (
        "## Findings\n\n### IMPORTANT\n\n"
        "**I1 — Cache never expires**\n`svc/cache.py:10-12`\n\nBody.\n"
    )
    [finding] = parse_markdown_review(text).findings
    assert _row(finding) == (
        "I1",
        "important",
        "issue",
        "Cache never expires",
        ["svc/cache.py:10-12"],
    )
    assert finding.body == "Body."


def test_absolute_paths_are_cut_below_the_agent_root() -> None:
    text = "### Suggestions\n\n1. **T** — [`x`](/srv/run/abc/pkg/m.go#L7) (suggestion, gap)\n"
    review = parse_review(text, root="/srv/run/abc")
    assert [loc.label() for loc in review.findings[0].locations] == ["pkg/m.go:7"]


def test_heading_levels_comments_in_code_and_sub_headings() -> None:
    text = (
        "# Code Review: PR #9\n\n**Verdict: Approve**\n\n## Executive Summary\n\nFine.\n\n"
        "## Findings\n\n### Suggestions\n\n1. **Rename `tmp`** — `run.sh:4` (suggestion, style)\n\n"
        "```bash\n# Start the job\nrun &\n```\n\n#### Reproduction\n\nRun it twice.\n\n"
        "## Testing Assessment\n\nNo tests.\n\n### Untested scenarios\n\n1. Restart.\n"
    )
    review = parse_markdown_review(text)
    [finding] = review.findings
    assert finding.excerpt == "# Start the job\nrun &"
    assert "#### Reproduction\n\nRun it twice." in finding.body
    assert review.verdict == "Approve"
    assert review.summary == "Fine."
    assert review.testing == "No tests.\n\n### Untested scenarios\n\n1. Restart."
    assert review.parse_notes == []


def test_findings_without_ids_are_numbered() -> None:
    text = "### Suggestions\n\n- **Name clash** — `a.py:3` (suggestion, style)\n"
    review = parse_markdown_review(text)
    assert [f.id for f in review.findings] == ["S1"]
    assert review.parse_notes == ["finding 'Name clash' has no id; numbered S1"]


def test_plain_numbered_items_under_a_severity_heading() -> None:
    text = (
        "### Suggestions\n\n1. Rename `tmp` in `run.sh:4` to `workdir`. More text.\n"
        "2. Drop the unused import.\n\n### Testing Assessment\n\n1. No tests.\n"
    )
    review = parse_markdown_review(text)
    assert [(f.id, f.severity, f.title) for f in review.findings] == [
        ("S1", "suggestion", "Rename `tmp` in `run.sh:4` to `workdir`."),
        ("S2", "suggestion", "Drop the unused import."),
    ]
    assert review.testing == "1. No tests."


def test_findings_without_any_heading() -> None:
    text = (
        "Checked:\n\n1. **a.py** — fine\n2. **b.py** — fine\n\nProblems:\n\n"
        "1. **Off by one** — `a.py:3` (important, gap)\n2. **Typo** — `b.py:9` (nit, docs)\n"
    )
    review = parse_markdown_review(text)
    assert [_row(f) for f in review.findings] == [
        ("1", "important", "gap", "Off by one", ["a.py:3"]),
        ("2", "suggestion", "docs", "Typo", ["b.py:9"]),
    ]
    assert review.summary == "Checked:\n\n1. **a.py** — fine\n2. **b.py** — fine\n\nProblems:"


def test_empty_answer() -> None:
    assert parse_review("  \n").parse_notes == ["the answer is empty"]


def test_split_appendix_returns_each_agent_review() -> None:
    report = (FIXTURES / "appendix_report.md").read_text(encoding="utf-8")
    reviews = split_appendix(report)
    assert [heading for heading, _ in reviews] == [
        "[Claude] — Claude Opus 4.6",
        "Codex GPT 5.4",
        "[Gemini] — Pass 1",
    ]
    claude, codex, gemini = (text for _, text in reviews)
    assert claude.startswith("## Executive Summary") and claude.endswith("pytest -k retry\n```")
    assert codex.startswith("### Executive Summary")
    assert gemini == "The agent timed out before answering."
    assert [_row(f) for f in parse_markdown_review(claude).findings] == [
        ("I1", "important", "regression", "Batch lost on retry", ["ledger/settle.py:88"])
    ]
    assert [f.id for f in parse_markdown_review(codex).findings] == ["I1"]
    assert parse_markdown_review(gemini).findings == []


def test_split_appendix_without_appendix() -> None:
    assert split_appendix("# Deep Review\n\n## Summary\n\nNothing.\n") == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "## Findings",
                "### Important Issues",
                "**Suggestions**",
                "1. **T** — `a.py:1` (important, gap)",
                "I2. **T**",
                "```go",
                "```",
                "- **Concerns**",
                "| `a.py` | I1 |",
                "Fix:",
                "",
                "(suggestion)",
                "#### S1. x — `/abs/p.py:0`",
            ]
        )
        | st.text(max_size=40),
        max_size=25,
    )
)
def test_never_raises(lines: list[str]) -> None:
    review = parse_review("\n".join(lines))
    assert isinstance(review, AgentReview)


# ----------------------------------------------------------------------- shapes real agents write


def _triples(text: str) -> list[tuple[str, str, list[str]]]:
    review = parse_markdown_review(text)
    return [(f.severity, f.title, [loc.label() for loc in f.locations]) for f in review.findings]


def test_locations_inside_the_bold_title() -> None:
    text = (
        "## Important\n\n"
        "**I1. Retry loop never stops — `pkg/retry.go:42`, `pkg/other.go:338-393`**\n\n"
        "The loop ignores the context.\n"
    )
    assert _triples(text) == [
        ("important", "Retry loop never stops", ["pkg/retry.go:42", "pkg/other.go:338-393"])
    ]


def test_priority_tagged_bullets() -> None:
    text = (
        "Reviewed the change.\n\n"
        "- [P1] Retry loop never stops — pkg/retry.go:42-50\n"
        "  The loop ignores the context.\n"
        "- [P2] Typo in a log message — `pkg/log.go:7`\n"
        "- [P0] Token written to the log — pkg/auth.go:12\n"
        "- **[P3] Rename `x`** — pkg/x.go:3\n"
    )
    assert _triples(text) == [
        ("important", "Retry loop never stops", ["pkg/retry.go:42-50"]),
        ("suggestion", "Typo in a log message", ["pkg/log.go:7"]),
        ("critical", "Token written to the log", ["pkg/auth.go:12"]),
        ("suggestion", "Rename `x`", ["pkg/x.go:3"]),
    ]


def test_priority_tagged_paragraphs() -> None:
    text = "[P1] Retry loop never stops — pkg/retry.go:42\nIt spins.\n[P2] Typo — pkg/log.go:7\n"
    assert [t[:2] for t in _triples(text)] == [
        ("important", "Retry loop never stops"),
        ("suggestion", "Typo"),
    ]


def test_severity_led_headings_with_a_file_line() -> None:
    text = (
        "## Findings\n\n"
        "### High: Retry loop never stops\n"
        "**File:** pkg/retry.go, line 42\n"
        "The loop ignores the context.\n\n"
        "### Medium: Missing test\n"
        "**File:** `pkg/retry_test.go`, lines 10-20\n"
        "No test covers cancellation.\n\n"
        "### Low — Typo in a log message\n"
        "**Location:** pkg/log.go (line 7)\n"
    )
    assert _triples(text) == [
        ("critical", "Retry loop never stops", ["pkg/retry.go:42"]),
        ("important", "Missing test", ["pkg/retry_test.go:10-20"]),
        ("suggestion", "Typo in a log message", ["pkg/log.go:7"]),
    ]
    assert parse_markdown_review(text).findings[1].body == "No test covers cancellation."


def test_a_heading_that_only_starts_with_a_severity_word_is_not_a_finding() -> None:
    text = "## High-level overview\n\nFine.\n\n## Summary\n\nAll good.\n"
    assert parse_markdown_review(text).findings == []
