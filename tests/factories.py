"""Report values built in code, shared by the renderer, publisher and CLI tests.

`sample_report()` fills every part of a `Report`: a second-round PR review with a failed agent,
a cached one, an analyzer, findings of every severity (one outside the diff), dropped and
downgraded findings. `empty_report()` is a review that found nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from deepreview.forge.registry import GITHUB
from deepreview.schema import (
    AgentReview,
    AgentRun,
    AttributedConcern,
    AttributedLimitation,
    AttributedStrength,
    AttributedText,
    Commit,
    ConsolidatedFinding,
    DeclinedFinding,
    DesignConcern,
    DroppedFinding,
    FeedbackComment,
    Finding,
    Location,
    PriorFinding,
    PullRequest,
    ReconciliationEntry,
    Report,
    ReportTarget,
    Repro,
    Reproduction,
    ReproStep,
    RetroRow,
    SeverityChange,
    SourceFinding,
    Strength,
    Usage,
    Verdict,
)
from deepreview.scope import Scope

CEST = timezone(timedelta(hours=2))
STARTED = datetime(2026, 5, 4, 14, 7, 31, tzinfo=CEST)

CLAUDE = "Claude Opus 4.7"
CODEX = "Codex GPT 5.4"
GEMINI = "Gemini 3.1 Pro"
RUFF = "Ruff 0.6.9"

STORE_EXCERPT = """def find_customer(conn, name):
    sql = f"SELECT id, name FROM customers WHERE name = '{name}'"
    return conn.execute(sql).fetchone()"""

STORE_FIX = """Pass the name as a parameter:

```diff
-    sql = f"SELECT id, name FROM customers WHERE name = '{name}'"
-    return conn.execute(sql).fetchone()
+    sql = "SELECT id, name FROM customers WHERE name = ?"
+    return conn.execute(sql, (name,)).fetchone()
```"""

CLAUDE_REVIEW = """## Executive Summary

The change adds a customer lookup to the invoice CLI and a retrying HTTP client. The lookup
builds SQL from user input; that must be fixed before merge.

## Findings

### Critical Issues

C1. **SQL built from the customer name** — `src/invoicer/store.py:48-50` (critical, security)

```python
sql = f"SELECT id, name FROM customers WHERE name = '{name}'"
```

A name such as `x' OR '1'='1` returns the first customer instead of none.

### Important Issues

I2. **Cache key ignores the currency** — `src/invoicer/cache.py:17` (important, gap)

### Suggestions

S3. **Docstring of `total()` still says cents** — `src/invoicer/money.py:30` (suggestion)

S4. **`Decimal` compared with a float** — `src/invoicer/money.py:41` (suggestion)

## Coverage Summary

| File | Result |
|---|---|
| `src/invoicer/store.py` | C1 |
| `src/invoicer/cli.py` | Reviewed, no issues |
"""

GEMINI_STDERR = """Error: 429 RESOURCE_EXHAUSTED: no capacity for gemini-3.1-pro | retry in 60s
    at request (client.js:212:11)"""

#: The report's body sections in order (report-format.md section 3); the process notes are
#: present only when there are notes.
#: The sample report's header rows, in order.
HEADER_ROWS = [
    "Date",
    "Repo",
    "Round",
    "Author",
    "PR",
    "Branch",
    "Commits",
    "Review SHA",
    "Reviewers",
    "Verdict",
    "Wall-clock time",
]

#: Sections a report has only when there is something in them.
OPTIONAL_SECTIONS = ("Reproductions", "Review Process Notes")
REPORT_SECTIONS = [
    "Executive Summary",
    "Critical Issues",
    "Important Issues",
    "Suggestions",
    "Reproductions",
    "Design Observations",
    "Testing Assessment",
    "Documentation Assessment",
    "Commit Structure",
    "Acknowledged Limitations",
    "Unresolved Feedback",
    "Agent Performance Retro",
    "Review Process Notes",
    "Appendix: Original Reviews",
]


def _codex_events() -> str:
    events = [
        {"type": "thread.started", "thread_id": "th_01"},
        {"type": "item.completed", "item": {"type": "command_execution", "command": "rg -n sql"}},
        {
            "type": "item.completed",
            "item": {
                "type": "agent_message",
                "text": "I1. **Retry loop never gives up on 503**\n\n```python\nwhile True:\n```",
            },
        },
        {"type": "turn.completed", "usage": {"input_tokens": 48211, "output_tokens": 3120}},
    ]
    return "\n".join(json.dumps(e) for e in events)


RUFF_OUTPUT = json.dumps(
    [
        {
            "code": "F401",
            "message": "`os` imported but unused",
            "filename": "src/invoicer/cli.py",
            "location": {"row": 3, "column": 8},
        }
    ],
    indent=2,
)


def _runs() -> list[AgentRun]:
    claude_review = AgentReview(
        summary="Adds a customer lookup and a retrying client; the lookup is injectable.",
        findings=[
            Finding(
                id="C1",
                severity="critical",
                category="security",
                title="SQL built from the customer name",
                locations=[Location(path="src/invoicer/store.py", start_line=48, end_line=50)],
            ),
            Finding(
                id="I2",
                severity="important",
                category="gap",
                title="Cache key ignores the currency",
                locations=[Location(path="src/invoicer/cache.py", start_line=17)],
            ),
            Finding(id="S3", severity="suggestion", title="Docstring of `total()` says cents"),
            Finding(id="S4", severity="suggestion", title="`Decimal` compared with a float"),
        ],
        concerns=[DesignConcern(title="Store and CLI share one connection", scope="future")],
        strengths=[Strength(title="Money is Decimal end to end")],
    )
    return [
        AgentRun(
            agent="claude",
            family="Anthropic",
            display_name=CLAUDE,
            kind="ai",
            model="claude-opus-4-7",
            effort="xhigh",
            version="2.1.3",
            status="ok",
            started_at=STARTED + timedelta(seconds=4),
            duration_s=417.4,
            usage=Usage(input_tokens=183_402, output_tokens=9_877, cached_input_tokens=120_000),
            cost_usd=2.84,
            tool_calls={"Read": 9, "Grep": 7, "Bash": 6, "Glob": 5},
            files_read=["src/invoicer/store.py", "src/invoicer/cli.py", "src/invoicer/money.py"],
            raw_output=CLAUDE_REVIEW,
            review=claude_review,
        ),
        AgentRun(
            agent="codex",
            family="OpenAI",
            display_name=CODEX,
            kind="ai",
            model="gpt-5.4",
            effort="high",
            status="ok",
            started_at=STARTED + timedelta(seconds=4),
            duration_s=214.0,
            usage=Usage(input_tokens=48_211, output_tokens=3_120),
            tool_calls={"shell": 20, "stdin": 1},
            files_read=["src/invoicer/client.py", "src/invoicer/store.py"],
            raw_output=_codex_events(),
            review=AgentReview(parse_notes=["no Coverage Summary section"]),
            cached=True,
        ),
        AgentRun(
            agent="gemini",
            family="Google",
            display_name=GEMINI,
            kind="ai",
            model="gemini-3.1-pro",
            status="failed",
            reason="429 capacity",
            started_at=STARTED + timedelta(seconds=4),
            duration_s=12.3,
            raw_output=GEMINI_STDERR,
            notes=["retried twice before giving up"],
        ),
        AgentRun(
            agent="ruff",
            display_name=RUFF,
            kind="analyzer",
            version="0.6.9",
            status="ok",
            started_at=STARTED + timedelta(seconds=1),
            duration_s=0.4,
            raw_output=RUFF_OUTPUT,
            review=AgentReview(
                summary="ruff checked 2 changed Python file(s): 1 suggestion.",
                findings=[
                    Finding(
                        id="S1",
                        severity="suggestion",
                        category="lint",
                        title="F401: `os` imported but unused",
                        locations=[Location(path="src/invoicer/cli.py", start_line=3)],
                        rule="F401",
                    )
                ],
            ),
        ),
    ]


def _findings() -> list[ConsolidatedFinding]:
    return [
        ConsolidatedFinding(
            id="C1",
            fingerprint="3f9a1c0e",
            severity="critical",
            category="security",
            title="SQL built from the customer name with an f-string",
            body=(
                "`find_customer` interpolates `name` into the statement, and `cli.py:61` passes\n"
                "the `--customer` option straight through. A name such as `x' OR '1'='1` returns\n"
                "the first customer, so an invoice can be issued to the wrong account."
            ),
            locations=[
                Location(path="src/invoicer/store.py", start_line=48, end_line=50),
                Location(path="src/invoicer/cli.py", start_line=61),
            ],
            excerpt=STORE_EXCERPT,
            fix=STORE_FIX,
            agents=[CLAUDE, CODEX],
            sources=[
                SourceFinding(agent="claude", finding_id="C1", severity="critical"),
                SourceFinding(agent="codex", finding_id="I1", severity="important"),
            ],
            severity_changes=[
                SeverityChange(
                    agent="codex",
                    finding_id="I1",
                    from_severity="important",
                    to_severity="critical",
                    reason="reachable from the CLI with any customer name",
                )
            ],
            prior_status="still-present",
            reproduction="fix verified",
        ),
        ConsolidatedFinding(
            id="I1",
            fingerprint="b71d22aa",
            severity="important",
            category="regression",
            title="Retry loop never gives up when the server answers 503",
            body="`post_invoice` retries on every 5xx without a limit or a backoff ceiling.",
            locations=[
                Location(path="src/invoicer/client.py", start_line=88, end_line=101),
                Location(path="tests/test_client.py", start_line=40),
            ],
            excerpt="while True:\n    resp = session.post(url, json=body)\n    if resp.ok:\n"
            "        return resp",
            fix="Stop after `max_attempts` and raise `InvoiceServiceError`.",
            agents=[CODEX],
            sources=[SourceFinding(agent="codex", finding_id="I2", severity="important")],
            prior_status="new",
        ),
        ConsolidatedFinding(
            id="I2",
            fingerprint="0c44e8d1",
            severity="important",
            category="gap",
            title="Cache key ignores the currency",
            body="Two invoices with the same amount in EUR and USD share one cached total.",
            locations=[Location(path="src/invoicer/cache.py", start_line=17)],
            excerpt="key = f'{customer_id}:{amount}'",
            excerpt_lang="python",
            agents=[CLAUDE],
            sources=[SourceFinding(agent="claude", finding_id="I2", severity="important")],
            scope=Scope.FILE,
            prior_status="changed",
        ),
        ConsolidatedFinding(
            id="S1",
            fingerprint="9e0f7a55",
            severity="suggestion",
            category="style",
            title="Unused import `os`",
            locations=[Location(path="src/invoicer/cli.py", start_line=3)],
            excerpt="import os",
            fix="Remove the import.",
            agents=[RUFF],
            sources=[SourceFinding(agent="ruff", finding_id="F401", severity="suggestion")],
        ),
        ConsolidatedFinding(
            id="S2",
            fingerprint="61aa0b2c",
            severity="suggestion",
            category="documentation",
            title="Docstring of `total()` still says cents",
            body="`total()` returns a `Decimal` in major units since this change.",
            locations=[Location(path="src/invoicer/money.py", start_line=30)],
            agents=[CLAUDE, CODEX],
            sources=[
                SourceFinding(agent="claude", finding_id="S3", severity="suggestion"),
                SourceFinding(agent="codex", finding_id="I3", severity="important"),
            ],
            severity_changes=[
                SeverityChange(
                    agent="codex",
                    finding_id="I3",
                    from_severity="important",
                    to_severity="suggestion",
                    reason="wrong docstring, no wrong behaviour",
                )
            ],
            reproduction="not reproduced",
        ),
    ]


REPRO_ISOLATION = (
    "Landlock ABI 7: writes only to /tmp/run/verify/repros; no network (user + network "
    "namespace, loopback only); CPU 61 s; memory 4096 MiB; 30 s per run"
)


def _reproductions() -> list[Reproduction]:
    """A verified fix for C1 and a repro that passes at the head for S2."""
    test = (
        "from invoicer.store import find_customer\n\n\n"
        "def test_quote_in_name(conn):\n"
        "    assert find_customer(conn, \"x' OR '1'='1\") is None\n"
    )
    return [
        Reproduction(
            agent="claude",
            reviewer=CLAUDE,
            finding_id="C1",
            title="SQL built from the customer name",
            repro=Repro(
                kind="test",
                path="tests/test_repro_lookup.py",
                content=test,
                command="python -m pytest -q tests/test_repro_lookup.py",
                fix_patch=STORE_FIX.split("```diff\n", 1)[-1].split("```", 1)[0],
            ),
            label="fix verified",
            reason="the repro fails at the head and passes with the fix applied",
            steps=[
                ReproStep(
                    where="head",
                    outcome="failed",
                    exit_code=1,
                    duration_s=0.62,
                    output="FAILED tests/test_repro_lookup.py::test_quote_in_name\n1 failed",
                ),
                ReproStep(
                    where="base",
                    outcome="failed",
                    exit_code=4,
                    duration_s=0.31,
                    output="ImportError: cannot import name 'find_customer'",
                ),
                ReproStep(
                    where="fix", outcome="passed", exit_code=0, duration_s=0.58, output="1 passed"
                ),
            ],
            isolation=REPRO_ISOLATION,
            consolidated_id="C1",
        ),
        Reproduction(
            agent="codex",
            reviewer=CODEX,
            finding_id="I3",
            title="Docstring of `total()` still says cents",
            repro=Repro(content="python -c 'from invoicer.money import total; total()'\n"),
            label="not reproduced",
            reason="the repro passes at the head",
            steps=[
                ReproStep(where="head", outcome="passed", exit_code=0, duration_s=0.2),
                ReproStep(where="base", outcome="failed", exit_code=1, duration_s=0.2),
            ],
            isolation=REPRO_ISOLATION,
            consolidated_id="S2",
        ),
    ]


def _retro() -> list[RetroRow]:
    return [
        RetroRow(
            agent="claude",
            duration_s=417.4,
            critical=1,
            important=1,
            suggestion=2,
            tool_calls={"Read": 9, "Grep": 7, "Bash": 6, "Glob": 5},
            design_observations=2,
            false_positives=1,
            unique_insights=1,
            files_reviewed=5,
            coverage_misses=1,
            dropped=1,
            narrative=(
                "Found the injection and traced it to the CLI option. Its S4 was a false\n"
                "positive: `money.py:41` compares two `Decimal` values."
            ),
        ),
        RetroRow(
            agent="codex",
            duration_s=214.0,
            important=3,
            tool_calls={"shell": 20, "stdin": 1},
            design_observations=1,
            unique_insights=1,
            files_reviewed=4,
            coverage_misses=1,
            downgraded={"I→S": 1},
            dropped=1,
            narrative="The only agent to run the client against a 503; its severities ran hot.",
        ),
        RetroRow(
            agent="gemini",
            duration_s=None,
            coverage_misses=4,
            narrative="Failed at the first request: the provider had no capacity (HTTP 429).",
        ),
        RetroRow(agent="ruff", duration_s=0.4, suggestion=1, files_reviewed=5),
    ]


def _reconciliation() -> list[ReconciliationEntry]:
    return [
        ReconciliationEntry(
            agent="claude",
            finding_id="C1",
            consolidated_id="C1",
            from_severity="critical",
            to_severity="critical",
        ),
        ReconciliationEntry(
            agent="claude",
            finding_id="I2",
            consolidated_id="I2",
            from_severity="important",
            to_severity="important",
        ),
        ReconciliationEntry(
            agent="claude",
            finding_id="S3",
            consolidated_id="S2",
            from_severity="suggestion",
            to_severity="suggestion",
        ),
        ReconciliationEntry(
            agent="claude",
            finding_id="S4",
            consolidated_id=None,
            from_severity="suggestion",
            to_severity=None,
        ),
        ReconciliationEntry(
            agent="codex",
            finding_id="I1",
            consolidated_id="C1",
            from_severity="important",
            to_severity="critical",
            note="reachable from the CLI with any customer name",
        ),
        ReconciliationEntry(
            agent="codex",
            finding_id="I2",
            consolidated_id="I1",
            from_severity="important",
            to_severity="important",
        ),
        ReconciliationEntry(
            agent="codex",
            finding_id="I3",
            consolidated_id="S2",
            from_severity="important",
            to_severity="suggestion",
            note="wrong docstring, no wrong behaviour",
        ),
        ReconciliationEntry(
            agent="ruff",
            finding_id="F401",
            consolidated_id="S1",
            from_severity="suggestion",
            to_severity="suggestion",
        ),
    ]


def sample_report() -> Report:
    """A second-round PR review with every section of the report populated."""
    return Report(
        id="20260504-140731-pr-42",
        created_at=STARTED,
        round=2,
        round_of="PR #42",
        target=ReportTarget(
            kind="pr",
            repo="acme/invoicer",
            repo_url="https://github.com/acme/invoicer",
            links=GITHUB.web_links("https://github.com/acme/invoicer"),
            branch="customer-lookup",
            base="main",
            head_sha="4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1",
            commits=[
                Commit(sha="9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d", subject="Look up customers"),
                Commit(
                    sha="4be1f0c9d2a37e86b5c1d0e9f8a7b6c5d4e3f2a1",
                    subject="Accept `net|gross` totals in the CLI",
                    author="Dana Fox",
                    files_changed=3,
                ),
            ],
            pr=PullRequest(
                number=42,
                title="Customer lookup | retrying client",
                author="dfox",
                body="Adds `invoicer customer` and retries on server errors.",
            ),
            changed_files=[
                "src/invoicer/cli.py",
                "src/invoicer/client.py",
                "src/invoicer/money.py",
                "src/invoicer/store.py",
                "tests/test_client.py",
            ],
        ),
        runs=_runs(),
        verdict=Verdict(
            decision="Rework",
            reason="C1 lets any customer name rewrite the lookup query; both agents agree.",
        ),
        summary=(
            "The change adds `invoicer customer` and a retrying HTTP client. The lookup builds\n"
            "SQL from the customer name (C1, Claude and Codex agree), and the client retries\n"
            "a 503 forever (I1). Round 1's S2 is fixed by the new commits."
        ),
        findings=_findings(),
        reproductions=_reproductions(),
        concerns=[
            AttributedConcern(
                title="Retry policy lives inside the client",
                body="Callers cannot shorten it for interactive use.",
                scope="in-scope",
                locations=[Location(path="src/invoicer/client.py", start_line=80)],
                agents=[CODEX],
            ),
            AttributedConcern(
                title="Store and CLI share one connection",
                body="Fine for a CLI;\na server would need a pool.",
                scope="future",
                agents=[CLAUDE],
            ),
        ],
        strengths=[
            AttributedStrength(
                title="Money is `Decimal` end to end",
                body="No float arithmetic survives in `money.py`.",
                agents=[CLAUDE, CODEX],
            ),
            AttributedStrength(title="Small, reviewable commits", agents=[CLAUDE]),
        ],
        testing=[
            AttributedText(agent="claude", text="`pytest -q`: 41 passed. No test covers C1."),
            AttributedText(
                agent="codex",
                text="Untested, worst first:\n\n1. a 503 storm (I1)\n2. a non-ASCII customer name",
            ),
        ],
        documentation=[
            AttributedText(agent="claude", text="README still shows `--cents` (see S2)."),
        ],
        commit_structure=[
            AttributedText(agent="codex", text="Two commits, each builds; messages match."),
        ],
        limitations=[
            AttributedLimitation(
                location=Location(path="src/invoicer/client.py", start_line=92),
                quote="# TODO: make the retry budget configurable",
                judgement="Fine for now; I1 needs the ceiling regardless.",
                agents=[CLAUDE, CODEX],
            ),
            AttributedLimitation(
                quote="Only SQLite is supported for now.",
                judgement="Stated in the PR description; consistent with the code.",
                agents=[CLAUDE],
            ),
        ],
        declined=[
            DeclinedFinding(
                fingerprint="77aa01be",
                title="Use an ORM instead of raw SQL",
                round=1,
                reason="out of scope for this PR",
            )
        ],
        prior_findings=[
            PriorFinding(
                id="I3",
                fingerprint="3f9a1c0e",
                title="SQL built from the customer name",
                status="still-present",
                current_id="C1",
            ),
            PriorFinding(
                id="I1",
                fingerprint="0c44e8d1",
                title="Cache key ignores the currency",
                status="changed",
                current_id="I2",
            ),
            PriorFinding(
                id="S2",
                fingerprint="5d0c9e11",
                title="`--verbose` flag is ignored",
                status="fixed",
            ),
        ],
        unresolved_feedback=[
            FeedbackComment(
                author="mlee",
                body="Can we cap retries at 5?",
                location=Location(path="src/invoicer/client.py", start_line=88),
                url="https://github.com/acme/invoicer/pull/42#discussion_r1001",
            ),
            FeedbackComment(author="@ci-bot", body="Coverage fell from 91% to 87%."),
        ],
        retro=_retro(),
        reconciliation=_reconciliation(),
        dropped=[
            DroppedFinding(
                agent="claude",
                finding_id="S4",
                title="`Decimal` compared with a float",
                kind="false-positive",
                reason="`money.py:41` compares two `Decimal` values",
            ),
            DroppedFinding(
                agent="codex",
                finding_id="S1",
                title="Use an ORM instead of raw SQL",
                kind="declined",
                reason="declined in round 1",
            ),
        ],
        wall_clock_s=882.0,
        notes=[
            "Gemini hit its capacity limit; rerun with `--agents gemini` later.",
            "Codex's answer came from the cache (same head, prompt and settings).",
        ],
    )


def empty_report() -> Report:
    """A review of uncommitted changes in which no agent found anything."""
    return Report(
        id="20260504-090000-fix-typo",
        created_at=datetime(2026, 5, 4, 9, 0, 0, tzinfo=CEST),
        target=ReportTarget(kind="uncommitted"),
        runs=[
            AgentRun(
                agent="scan",
                display_name="deepreview scan",
                status="ok",
                duration_s=0.1,
            )
        ],
        verdict=Verdict(decision="Merge as-is", reason="nothing to fix"),
        summary="",
    )
