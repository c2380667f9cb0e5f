"""Which CI job we are in: GitHub Actions and GitLab CI variables and events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepreview.ci.environment import CIError, detect
from deepreview.ci.outputs import append_outputs, job_outputs, trim_summary
from deepreview.redact import Redactor
from tests.factories import sample_report


def _actions(
    tmp_path: Path, event: dict[str, object], name: str = "pull_request"
) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_EVENT_NAME": name,
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": "https://ghe.example/api/v3",
        "GITHUB_SERVER_URL": "https://ghe.example",
        "GITHUB_TOKEN": "tok",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_OUTPUT": str(tmp_path / "out"),
    }


def test_pull_request_event(tmp_path: Path) -> None:
    pull = {"number": 12, "head": {"sha": "h" * 40}, "base": {"sha": "b" * 40}}
    job = detect(_actions(tmp_path, {"pull_request": pull}))
    assert (job.forge, job.repo, job.number, job.reference) == (
        "github",
        "acme/shop",
        12,
        "acme/shop#12",
    )
    assert job.api_url == "https://ghe.example/api/v3" and job.token == "tok"
    assert job.head_sha == "h" * 40 and job.base_sha == "b" * 40
    assert job.summary_path == tmp_path / "summary" and job.skip is None
    assert job.request_url == "https://ghe.example/acme/shop/pull/12"


def test_push_event_needs_an_explicit_pr(tmp_path: Path) -> None:
    env = _actions(tmp_path, {"ref": "refs/heads/main"}, "push")
    assert detect(env).skip == "the push event is not about a pull request (pass --pr N)"
    assert detect(env, "#5").number == 5


@pytest.mark.parametrize(
    ("issue", "body", "association", "skip"),
    [
        ({"number": 3}, "/deepreview", "OWNER", "not on a pull request"),
        ({"number": 3, "pull_request": {}}, "/deepreview", "OWNER", "not on a pull request"),
        ({"number": 3, "pull_request": {"url": "u"}}, "looks good", "OWNER", "does not start"),
        ({"number": 3, "pull_request": {"url": "u"}}, "/deepreview", "CONTRIBUTOR", "write access"),
        ({"number": 3, "pull_request": {"url": "u"}}, " /deepreview now", "MEMBER", None),
    ],
)
def test_comment_event(
    tmp_path: Path, issue: dict[str, object], body: str, association: str, skip: str | None
) -> None:
    event = {"issue": issue, "comment": {"body": body, "author_association": association}}
    job = detect(_actions(tmp_path, event, "issue_comment"))
    assert (job.skip is None) if skip is None else (skip in (job.skip or ""))
    assert job.number == 3


def test_gitlab_merge_request_pipeline() -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": "https://gitlab.example",
        "CI_API_V4_URL": "https://gitlab.example/api/v4",
        "CI_PROJECT_PATH": "grp/sub/shop",
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "9",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": "b" * 40,
        "CI_COMMIT_SHA": "c" * 40,
        "GITLAB_TOKEN": "glt",
    }
    job = detect(env)
    assert (job.forge, job.repo, job.number, job.project_id) == ("gitlab", "grp/sub/shop", 9, "42")
    assert job.reference == "https://gitlab.example/grp/sub/shop/-/merge_requests/9"
    assert job.base_sha == "b" * 40 and job.head_sha == "c" * 40 and job.token == "glt"
    del env["CI_MERGE_REQUEST_IID"]
    assert "not a merge request pipeline" in (detect(env).skip or "")


def test_outside_ci_and_broken_events_are_errors(tmp_path: Path) -> None:
    with pytest.raises(CIError, match="not running in GitHub Actions or GitLab CI"):
        detect({})
    env = _actions(tmp_path, {})
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    with pytest.raises(CIError, match="cannot read the event"):
        detect(env)
    with pytest.raises(CIError, match="GITHUB_REPOSITORY is not set"):
        detect({"GITHUB_ACTIONS": "true"})


def test_summary_is_trimmed_at_a_line_to_its_limit() -> None:
    text = "".join(f"line {n} é\n" for n in range(10_000))
    cut = trim_summary(text, "report.md", limit=5_000)
    assert len(cut.encode()) <= 5_000
    assert cut.endswith("the full report is in report.md)\n")
    kept = cut.split("\n\n…", 1)[0]
    assert text.startswith(kept) and kept.endswith("é\n")
    assert trim_summary("short\n", "x") == "short\n"


def test_outputs_are_redacted_and_multiline_values_use_heredocs(tmp_path: Path) -> None:
    report = sample_report()
    outputs = job_outputs(report, {"md": tmp_path / "r.md"})
    assert outputs["verdict"] == report.verdict.decision
    assert outputs["report_md"] == str(tmp_path / "r.md")
    path = tmp_path / "out"
    append_outputs(path, {**outputs, "note": "a\nsecret-value-123"}, Redactor(["secret-value-123"]))
    text = path.read_text()
    assert f"verdict={report.verdict.decision}\n" in text
    assert "secret-value-123" not in text
    delimiter = text.split("note<<", 1)[1].split("\n", 1)[0]
    assert f"note<<{delimiter}\na\n[redacted]\n{delimiter}\n" in text
