"""`deepreview ci` in a simulated GitHub Actions job, against the fake GitHub, round after round.

Each run is a fresh clone with no `.deepreview/`: rounds come from the published review only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepreview.ci.state import read_state
from deepreview.publish.plan import REPORT_MARKER, fingerprint_of
from tests.fake_github import FakeGitHub, FakePull
from tests.integration.test_pr_rounds import ROUND1, ROUND2, SECRET, deepreview, push_pr_head
from tests.repo_factory import GIT_ENV, git, make_repo

TOKEN = "ghs_ciJobToken0123456789abcdefghijklmnopq"


@dataclass
class Actions:
    """A repository on the fake GitHub and what a job needs to run against it."""

    root: Path
    upstream: Path
    scratch: Path
    gh: FakeGitHub
    pull: FakePull
    base_env: dict[str, str]
    jobs: int = 0

    def job(
        self, *args: str, event: str = "pull_request", payload: dict[str, object] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """Run `deepreview ci` as a fresh Actions job: a new clone with the PR head checked
        out, an event file, summary and output files. Returns (exit code, outputs, summary)."""
        self.jobs += 1
        work = self.root / f"job{self.jobs}"
        git(self.root, "clone", "-q", str(self.upstream), str(work / "repo"))
        head = self.pull.data["head"]["sha"]
        git(work / "repo", "fetch", "-q", "origin", "refs/pull/7/head")
        git(work / "repo", "checkout", "-q", head)
        event_file = work / "event.json"
        payload = payload or {"action": "synchronize", "number": 7, "pull_request": self.pull.data}
        event_file.write_text(json.dumps(payload))
        summary, outputs = work / "summary.md", work / "output.txt"
        env = {
            **self.base_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_file),
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_API_URL": self.gh.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
        }
        proc = deepreview(work / "repo", env, "ci", "--agent", "scan", *args)
        assert proc.returncode in (0, 1), proc.stderr
        assert not (self.root / "upstream.git" / ".deepreview").exists()
        lines = outputs.read_text().splitlines() if outputs.exists() else []
        parsed = dict(line.split("=", 1) for line in lines if "=" in line)
        text = summary.read_text() if summary.exists() else ""
        return proc.returncode, parsed, text + proc.stdout + proc.stderr

    def ours(self) -> dict[str, list[dict[str, object]]]:
        """This tool's inline comments by fingerprint."""
        out: dict[str, list[dict[str, object]]] = {}
        for c in self.pull.comments:
            fp = fingerprint_of(str(c["body"]))
            if fp and not c.get("in_reply_to_id"):
                out.setdefault(fp, []).append(c)
        return out

    def summaries(self) -> list[dict[str, object]]:
        return [r for r in self.pull.reviews if str(r["body"]).startswith(REPORT_MARKER)]


@pytest.fixture
def actions(tmp_path: Path) -> Iterator[Actions]:
    seed = make_repo(tmp_path / "seed", {"README.md": "# shop\n", "shop/__init__.py": ""})
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(upstream))
    scratch = tmp_path / "scratch"
    git(tmp_path, "clone", "-q", str(upstream), str(scratch))
    head1 = push_pr_head(upstream, scratch, ROUND1, "Add a customer lookup")
    with FakeGitHub(token=TOKEN) as gh:
        pull = gh.add_pull(
            "acme/shop", 7, head_sha=head1, commentable={"shop/lookup.py": set(range(1, 12))}
        )
        pull.data["base"]["sha"] = git(seed, "rev-parse", "HEAD")
        gh.add_commit(pull, head1, "Add a customer lookup", "Dana")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
        env.update(GIT_ENV)
        yield Actions(tmp_path, upstream, scratch, gh, pull, env)


def test_two_jobs_make_two_rounds_of_one_review(actions: Actions) -> None:
    code, out, summary = actions.job("--fail-on", "critical")
    assert code == 1  # the planted key is critical
    assert out["verdict"] == "Rework" and out["round"] == "1"
    assert int(out["critical"]) == 1 and int(out["findings"]) >= 2
    assert Path(out["report_json"]).is_file() and out["report_md"].endswith(".md")
    assert "# Code Review" in summary or "Rework" in summary
    first = actions.ours()
    assert first and all(len(c) == 1 for c in first.values())
    assert len(actions.summaries()) == 1
    state = read_state(str(actions.summaries()[0]["body"]))
    assert state is not None and state.round == 1
    assert state.head_sha == actions.pull.data["head"]["sha"]
    secret_fp = next(f.fingerprint for f in state.findings if f.severity == "critical")
    debug_fp = next(f.fingerprint for f in state.findings if "breakpoint" in f.title)

    # A maintainer declines the debugger finding by replying to its comment.
    parent = first[debug_fp][0]
    actions.pull.comments.append(
        {
            "id": actions.gh.new_id(),
            "in_reply_to_id": parent["id"],
            "author_association": "MEMBER",
            "user": {"login": "lee"},
            "path": parent["path"],
            "body": "/deepreview decline kept on purpose for the demo",
        }
    )

    head2 = push_pr_head(actions.upstream, actions.scratch, ROUND2, "Read the token from env")
    actions.pull.data["head"]["sha"] = head2
    actions.gh.add_commit(actions.pull, head2, "Read the token from env", "Dana")
    code, out, summary = actions.job()
    assert code == 0
    assert out["round"] == "2" and out["critical"] == "0"
    report = json.loads(Path(out["report_json"]).read_text())
    assert report["round"] == 2 and report["target"]["head_sha"] == head2
    assert {p["fingerprint"]: p["status"] for p in report["prior_findings"]}[secret_fp] == "fixed"
    assert all("breakpoint" not in f["title"] for f in report["findings"])  # declined
    assert [d["reason"] for d in report["declined"]] == ["kept on purpose for the demo"]

    second = actions.ours()
    assert all(len(c) == 1 for c in second.values())  # no comment duplicated
    assert set(first) <= set(second)
    assert "**Resolved** in" in str(second[secret_fp][0]["body"])
    assert "**Declined: kept on purpose for the demo**" in str(second[debug_fp][0]["body"])
    assert len(actions.summaries()) == 1  # the one review, updated
    body = str(actions.summaries()[0]["body"])
    assert "Round 2: 1 fixed · 1 still present · 1 declined" in body
    state2 = read_state(body)
    assert state2 is not None and state2.round == 2 and state2.head_sha == head2
    assert [d.fingerprint for d in state2.declined] == [debug_fp]

    everything = summary + json.dumps(actions.pull.comments) + json.dumps(actions.pull.reviews)
    everything += Path(out["report_md"]).read_text()
    assert TOKEN not in everything and SECRET not in everything


def test_dry_run_posts_nothing_and_still_reports(actions: Actions) -> None:
    code, out, summary = actions.job("--dry-run")
    assert code == 0
    assert actions.gh.writes() == []
    assert out["verdict"] == "Rework" and "review_url" not in out
    plan = json.loads(summary[summary.index('{\n  "comments"') :].split("\n}\n", 1)[0] + "\n}")
    assert plan["review"]["action"] == "create"
    assert "deepreview:state v1" in plan["review"]["body"]


def test_review_on_demand_only_for_collaborators(actions: Actions) -> None:
    def comment(association: str) -> dict[str, object]:
        return {
            "action": "created",
            "issue": {"number": 7, "pull_request": {"url": "…"}},
            "comment": {"body": "/deepreview please", "author_association": association},
        }

    code, out, text = actions.job(event="issue_comment", payload=comment("NONE"))
    assert code == 0 and out == {}
    assert "without write access" in text
    assert actions.gh.requests == []
    code, out, text = actions.job(event="issue_comment", payload=comment("COLLABORATOR"))
    assert code == 0 and out["round"] == "1" and len(actions.summaries()) == 1
