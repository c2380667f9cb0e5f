"""Publishing a report as a PR review on a fake GitHub over real HTTP: create, re-run, resolve."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from deepreview.diff import parse_diff
from deepreview.forge.github import (
    GitHubClient,
    GitHubError,
    carry_out,
    describe_plan,
    plan_publication,
    posted,
)
from deepreview.publish.plan import REPORT_MARKER, PublishPlan, plan_review
from deepreview.schema import (
    ConsolidatedFinding,
    Location,
    PullRequest,
    Report,
    ReportTarget,
    Severity,
    Verdict,
)
from deepreview.scope import place
from tests.fake_github import BOT, FakeGitHub, FakePull, fake_github
from tests.servers import Reply

__all__ = ["fake_github"]

TOKEN = "test-token"
REPO = "octo/shop"
HEAD = "d" * 40

# src/store.py: new-side lines 8-15 are in the hunk; 11 and 12 are added.
DIFF_TEXT = """\
diff --git a/src/store.py b/src/store.py
index 1111111..2222222 100644
--- a/src/store.py
+++ b/src/store.py
@@ -8,6 +8,8 @@ def find(conn, name):
 a = 1
 b = 2
 c = 3
+sql = f"SELECT * FROM t WHERE name = '{name}'"
+rows = conn.execute(sql)
 d = 4
 e = 5
 f = 6
"""


DIFF = parse_diff(DIFF_TEXT)


def _finding(
    fid: str, fp: str, title: str, loc: Location | None, severity: Severity = "important"
) -> ConsolidatedFinding:
    return ConsolidatedFinding(
        id=fid,
        fingerprint=fp,
        severity=severity,
        category="regression",
        title=title,
        body=f"Why {title.lower()} matters.",
        locations=[loc] if loc else [],
        fix="Use a parameter." if fid == "I1" else None,
        agents=["Claude Opus 4.7", "Codex GPT 5.4"],
        **_placed(loc),
    )


def _placed(loc: Location | None) -> dict[str, object]:
    """Scope and anchor as the scope stage gives them against the PR's diff."""
    placement = place(DIFF, [loc] if loc else [])
    assert placement is not None
    return {"scope": placement.scope, "anchor": placement.anchor}


SQL = _finding("I1", "fp-sql", "SQL built from input", Location(path="src/store.py", start_line=11))
ROWS = _finding(
    "S1",
    "fp-rows",
    "Rows fetched eagerly",
    Location(path="src/store.py", start_line=12, end_line=14),
    "suggestion",
)
ELSEWHERE = _finding(
    "S2", "fp-docs", "README still names the old flag", Location(path="README.md", start_line=5)
)
NOWHERE = _finding("S3", "fp-tests", "No test for an empty name", None, "suggestion")
NEW = _finding("S4", "fp-new", "Magic number", Location(path="src/store.py", start_line=9))


def _report(report_id: str, findings: list[ConsolidatedFinding]) -> Report:
    return Report(
        id=report_id,
        created_at=datetime(2026, 5, 4, 12, 0, tzinfo=UTC),
        target=ReportTarget(
            kind="pr", repo=REPO, head_sha=HEAD, pr=PullRequest(number=7, title="Lookup")
        ),
        runs=[],
        verdict=Verdict(decision="Merge with fixes", reason="I1 lets a name inject SQL."),
        summary="Adds a customer lookup.",
        findings=findings,
    )


def publish_review(report: Report, client: GitHubClient, *, dry_run: bool) -> PublishPlan:
    """Plan, then (unless `dry_run`) carry out, as `deepreview publish --forge` does."""
    plan = plan_publication(client, report, (REPO, 7))
    return plan if dry_run else carry_out(client, report, plan, (REPO, 7))


@pytest.fixture
def pull(fake_github: FakeGitHub) -> FakePull:
    return fake_github.add_pull(REPO, 7, commentable={"src/store.py": set(range(8, 16))})


def _publish(gh: FakeGitHub, report: Report, *, dry_run: bool = False) -> list[str]:
    """Publish and return the methods and paths of the write requests it made."""
    before = len(gh.writes())
    with GitHubClient(TOKEN, gh.url) as client:
        publish_review(report, client, dry_run=dry_run)
    return [f"{r.method} {r.path}" for r in gh.writes()[before:]]


def _ours(pull: FakePull) -> list[dict[str, object]]:
    return [r for r in pull.reviews if str(r["body"]).startswith(REPORT_MARKER)]


def test_first_publish_is_one_review_with_inline_comments(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    report = _report("20260504-120000-pr-7", [SQL, ROWS, ELSEWHERE, NOWHERE])
    assert _publish(fake_github, report) == ["POST /repos/octo/shop/pulls/7/reviews"]

    [review] = pull.reviews
    assert review["commit_id"] == HEAD
    body = str(review["body"])
    assert body.startswith(REPORT_MARKER)
    assert "**Merge with fixes**" in body and "I1 lets a name inject SQL." in body
    assert "0 Critical · 2 Important · 2 Suggestions — 2 as inline comments" in body
    assert "`20260504-120000-pr-7`" in body
    # Findings off the diff are listed in the body, those on it are not.
    assert "README still names the old flag" in body and "`README.md:5`" in body
    assert "No test for an empty name" in body
    assert "SQL built from input" not in body

    by_path_line = {(c["path"], c["line"]): c for c in pull.comments}
    assert set(by_path_line) == {("src/store.py", 11), ("src/store.py", 14)}
    sql = by_path_line[("src/store.py", 11)]
    assert str(sql["body"]).startswith("<!-- deepreview:fingerprint=fp-sql -->\n")
    assert "**I1. SQL built from input**" in str(sql["body"])
    assert "**Fix:**\n\nUse a parameter." in str(sql["body"])
    assert by_path_line[("src/store.py", 14)]["start_line"] == 12
    assert {c["side"] for c in pull.comments} == {"RIGHT"}


def test_publishing_again_updates_instead_of_duplicating(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    findings = [SQL, ROWS, ELSEWHERE]
    _publish(fake_github, _report("20260504-120000-pr-7", findings))
    comment_ids = sorted(int(str(c["id"])) for c in pull.comments)
    [review] = pull.reviews

    writes = _publish(fake_github, _report("20260504-130000-pr-7", findings))

    assert writes == [f"PUT /repos/octo/shop/pulls/7/reviews/{review['id']}"]
    assert _ours(pull) == [review] and len(pull.reviews) == 1
    assert sorted(int(str(c["id"])) for c in pull.comments) == comment_ids
    assert "`20260504-130000-pr-7`" in str(review["body"])


def test_fixed_finding_gets_its_comment_edited_and_new_ones_are_added(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    _publish(fake_github, _report("20260504-120000-pr-7", [SQL, ROWS]))
    sql_comment = next(c for c in pull.comments if c["line"] == 11)
    changed_rows = ROWS.model_copy(update={"body": "Now with more detail."})

    writes = _publish(fake_github, _report("20260505-090000-pr-7", [changed_rows, NEW]))

    rows_comment = next(c for c in pull.comments if c["line"] == 14)
    assert sorted(writes) == sorted(
        [
            f"PATCH /repos/octo/shop/pulls/comments/{sql_comment['id']}",
            f"PATCH /repos/octo/shop/pulls/comments/{rows_comment['id']}",
            "POST /repos/octo/shop/pulls/7/comments",
            f"PUT /repos/octo/shop/pulls/7/reviews/{_ours(pull)[0]['id']}",
        ]
    )
    sql_body = str(sql_comment["body"])
    assert sql_body.startswith("<!-- deepreview:fingerprint=fp-sql -->")
    assert "**Resolved** in `20260505-090000-pr-7`." in sql_body
    assert "SQL built from input" in sql_body  # the original stays, folded
    assert "Now with more detail." in str(rows_comment["body"])
    assert [c["line"] for c in pull.comments] == [11, 14, 9]
    assert len(_ours(pull)) == 1
    assert "1 earlier finding(s) no longer raised" in str(_ours(pull)[0]["body"])

    # A third run with the same findings leaves the resolved comment alone.
    writes = _publish(fake_github, _report("20260505-100000-pr-7", [changed_rows, NEW]))
    assert writes == [f"PUT /repos/octo/shop/pulls/7/reviews/{_ours(pull)[0]['id']}"]


def test_dry_run_sends_nothing_and_returns_the_plan(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    report = _report("20260504-120000-pr-7", [SQL, ROWS, ELSEWHERE])
    with GitHubClient(TOKEN, fake_github.url) as client:
        plan = publish_review(report, client, dry_run=True)

    assert fake_github.writes() == []
    assert {r.method for r in fake_github.requests} == {"GET"}
    assert plan.review_id is None and plan.commit_id == HEAD
    assert [(c.path, c.start_line, c.line) for c in plan.comments] == [
        ("src/store.py", None, 11),
        ("src/store.py", 12, 14),
    ]
    assert plan.in_body == ("fp-docs",)
    data = json.loads(json.dumps(describe_plan(plan)))
    assert data["review"]["action"] == "create"
    rows = data["comments"][1]
    assert str(rows.pop("body")).startswith(
        "<!-- deepreview:fingerprint=fp-rows -->\n\n**S1. Rows fetched eagerly**"
    )
    assert rows == {
        "fingerprint": "fp-rows",
        "path": "src/store.py",
        "line": 14,
        "side": "RIGHT",
        "start_line": 12,
        "start_side": "RIGHT",
    }
    assert TOKEN not in json.dumps(data)


def test_refused_anchors_fall_back_to_the_body(fake_github: FakeGitHub, pull: FakePull) -> None:
    # An anchor from an older diff: line 40 is not part of the PR diff, GitHub answers 422.
    stale = _stale()
    report = _report("20260504-120000-pr-7", [SQL, stale])

    with GitHubClient(TOKEN, fake_github.url) as client:
        plan = publish_review(report, client, dry_run=False)

    assert plan.comments == () and plan.in_body == ("fp-sql", "fp-stale")
    [review] = pull.reviews
    assert pull.comments == []
    assert "Stale check" in str(review["body"]) and "SQL built from input" in str(review["body"])
    posts = [r for r in fake_github.writes() if r.method == "POST"]
    assert len(posts) == 2 and len(posts[0].json()["comments"]) == 2


def test_refused_comment_on_a_rerun_is_listed_in_the_updated_body(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    _publish(fake_github, _report("20260504-120000-pr-7", [SQL]))
    stale = _stale()
    _publish(fake_github, _report("20260504-130000-pr-7", [SQL, stale]))

    [review] = _ours(pull)
    assert "Stale check" in str(review["body"])
    assert [c["line"] for c in pull.comments] == [11]


def _stale() -> ConsolidatedFinding:
    line40 = Location(path="src/store.py", start_line=40)
    stale = _finding("I2", "fp-stale", "Stale check", line40)
    return stale.model_copy(update={"anchor": line40})


def test_plan_ignores_other_peoples_comments_and_replies() -> None:
    marker = "<!-- deepreview:fingerprint=fp-sql -->"
    existing: list[dict[str, object]] = [
        {"id": 5, "path": "src/store.py", "body": "Looks odd", "user": {"login": "carol"}},
        {"id": 6, "path": "src/store.py", "body": f"> {marker}\nquoted", "in_reply_to_id": 5},
        {"id": 7, "path": "src/store.py", "body": f"{marker}\nmine", "in_reply_to_id": 5},
        {"id": 8, "body": "LGTM", "state": "APPROVED", "user": {"login": "carol"}},
        {"id": 9, "body": f"{REPORT_MARKER}\nold summary", "user": {"login": BOT}},
        {"id": 11, "body": f"{REPORT_MARKER}\nnewer summary", "user": {"login": BOT}},
    ]
    comments, summaries = posted(existing)
    plan = plan_review(
        _report("r2", [SQL]), comments, summaries, report_url="https://x.test/r2.html"
    )

    assert plan.review_id == 11
    assert plan.updates == ()
    assert [c.fingerprint for c in plan.comments] == ["fp-sql"]
    assert "[full report](https://x.test/r2.html)" in plan.body


def test_publish_with_a_bad_token_fails_clearly_and_writes_nothing(
    fake_github: FakeGitHub, pull: FakePull
) -> None:
    with (
        GitHubClient("nope", fake_github.url) as client,
        pytest.raises(GitHubError) as err,
    ):
        publish_review(_report("r1", [SQL]), client, dry_run=False)
    assert str(err.value) == "GitHub: authentication failed (set GITHUB_TOKEN or GH_TOKEN)"
    assert pull.reviews == [] and fake_github.writes() == []


def test_a_failed_post_is_not_retried(fake_github: FakeGitHub, pull: FakePull) -> None:
    fake_github.fail_next(
        Reply(200, []),  # comments
        Reply(200, []),  # reviews
        Reply(502, {"message": "Bad Gateway"}, {"retry-after": "0"}),
    )
    with (
        GitHubClient(TOKEN, fake_github.url) as client,
        pytest.raises(GitHubError, match=r"^GitHub: 502 Bad Gateway \(POST "),
    ):
        publish_review(_report("r1", [SQL]), client, dry_run=False)
    assert len(fake_github.writes()) == 1
