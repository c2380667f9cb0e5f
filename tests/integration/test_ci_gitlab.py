"""`deepreview ci` in a simulated GitLab CI merge-request pipeline, against the fake GitLab.

Each run is a fresh clone with no `.deepreview/`: rounds come from the published summary note.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepreview.ci.state import read_state
from deepreview.forge.gitlab import parse_mr_ref
from deepreview.forge.registry import forge_for
from deepreview.publish.plan import REPORT_MARKER, RESOLVED_MARKER, fingerprint_of
from tests.fake_gitlab import FakeGitLab, FakeMergeRequest
from tests.integration.test_pr_rounds import ROUND1, ROUND2, deepreview
from tests.repo_factory import GIT_ENV, git, make_repo, write

TOKEN = "glpat-ciJobToken0123456789abcd"
SECRET = "q8Zr2LxV9pWm4TnY7bKcD3"
PROJECT = "grp/shop"


def push_mr_head(upstream: Path, work: Path, content: str, message: str) -> str:
    write(work, {"shop/lookup.py": content})
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    sha = git(work, "rev-parse", "HEAD")
    git(work, "push", "-q", str(upstream), f"{sha}:refs/merge-requests/7/head", "--force")
    return sha


@dataclass
class Pipeline:
    root: Path
    upstream: Path
    scratch: Path
    gl: FakeGitLab
    mr: FakeMergeRequest
    base_env: dict[str, str]
    jobs: int = 0

    def job(self, *args: str) -> tuple[int, dict[str, str], str]:
        """`deepreview ci` as a fresh merge-request pipeline job; (exit code, dotenv, output)."""
        self.jobs += 1
        clone = self.root / f"job{self.jobs}"
        git(self.root, "clone", "-q", str(self.upstream), str(clone))
        head = self.mr.data["sha"]
        git(clone, "fetch", "-q", "origin", "refs/merge-requests/7/head")
        git(clone, "checkout", "-q", head)
        env = {
            **self.base_env,
            "GITLAB_CI": "true",
            "CI_SERVER_URL": self.gl.url,
            "CI_API_V4_URL": f"{self.gl.url}/api/v4",
            "CI_PROJECT_PATH": PROJECT,
            "CI_PROJECT_ID": "42",
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": "7",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": self.mr.data["diff_refs"]["base_sha"],
            "CI_COMMIT_SHA": head,
            "GITLAB_TOKEN": TOKEN,
        }
        proc = deepreview(clone, env, "ci", "--agent", "scan", *args)
        assert proc.returncode in (0, 1), proc.stderr
        dotenv = clone / ".deepreview" / "reviews" / "deepreview.env"
        lines = dotenv.read_text().splitlines() if dotenv.exists() else []
        outputs = dict(line.split("=", 1) for line in lines)
        return proc.returncode, outputs, proc.stdout + proc.stderr

    def ours(self) -> dict[str, list[dict[str, object]]]:
        out: dict[str, list[dict[str, object]]] = {}
        for note in self.gl.ours(self.mr):
            fp = fingerprint_of(str(note["body"]))
            if fp:
                out.setdefault(fp, []).append(note)
        return out

    def summaries(self) -> list[dict[str, object]]:
        return [n for n in self.gl.ours(self.mr) if str(n["body"]).startswith(REPORT_MARKER)]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    seed = make_repo(tmp_path / "seed", {"README.md": "# shop\n", "shop/__init__.py": ""})
    upstream = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(upstream))
    scratch = tmp_path / "scratch"
    git(tmp_path, "clone", "-q", str(upstream), str(scratch))
    head1 = push_mr_head(upstream, scratch, ROUND1, "Add a customer lookup")
    with FakeGitLab(token=TOKEN) as gl:
        mr = gl.add_merge_request(
            PROJECT,
            7,
            base_sha=git(seed, "rev-parse", "HEAD"),
            head_sha=head1,
            commentable={"shop/lookup.py": set(range(1, 12))},
        )
        gl.push(mr, head1, "Add a customer lookup")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "CI"))}
        env.update(GIT_ENV)
        yield Pipeline(tmp_path, upstream, scratch, gl, mr, env)


def test_two_pipelines_make_two_rounds_of_one_review(pipeline: Pipeline) -> None:
    code, out, text = pipeline.job("--fail-on", "critical")
    assert code == 1, text
    assert out["DEEPREVIEW_VERDICT"] == "Rework" and out["DEEPREVIEW_ROUND"] == "1"
    first = pipeline.ours()
    assert first and all(len(n) == 1 for n in first.values())
    assert all(v[0]["position"] for v in first.values())
    (summary,) = pipeline.summaries()
    state = read_state(str(summary["body"]))
    assert state is not None and state.round == 1 and state.head_sha == pipeline.mr.data["sha"]
    position = next(iter(first.values()))[0]["position"]
    assert isinstance(position, dict) and position["head_sha"] == state.head_sha
    secret_fp = next(f.fingerprint for f in state.findings if f.severity == "critical")
    debug_fp = next(f.fingerprint for f in state.findings if "breakpoint" in f.title)

    # A developer declines the debugger finding; an outsider's decline does not count.
    pipeline.gl.members[8] = 30
    outsider = {"id": 9, "username": "drive-by"}
    pipeline.gl.reply(
        pipeline.mr, int(first[secret_fp][0]["id"]), "/deepreview decline no", outsider
    )  # type: ignore[call-overload]
    pipeline.gl.reply(
        pipeline.mr,
        int(first[debug_fp][0]["id"]),  # type: ignore[call-overload]
        "/deepreview decline kept on purpose for the demo",
        {"id": 8, "username": "lee"},
    )

    head2 = push_mr_head(pipeline.upstream, pipeline.scratch, ROUND2, "Read the token from env")
    pipeline.gl.push(pipeline.mr, head2, "Read the token from env")
    code, out, text = pipeline.job()
    assert code == 0, text
    assert out["DEEPREVIEW_ROUND"] == "2" and out["DEEPREVIEW_CRITICAL"] == "0"
    report = json.loads(Path(out["DEEPREVIEW_REPORT_JSON"]).read_text())
    assert report["round"] == 2 and report["target"]["head_sha"] == head2
    assert report["target"]["pr"]["url"].endswith("/grp/shop/-/merge_requests/7")
    assert {p["fingerprint"]: p["status"] for p in report["prior_findings"]}[secret_fp] == "fixed"
    assert [d["reason"] for d in report["declined"]] == ["kept on purpose for the demo"]

    second = pipeline.ours()
    assert all(len(n) == 1 for n in second.values())  # no discussion duplicated
    assert len(pipeline.summaries()) == 1
    fixed = second[secret_fp][0]
    assert RESOLVED_MARKER in str(fixed["body"]) and fixed["resolved"] is True
    body = str(pipeline.summaries()[0]["body"])
    assert "Round 2: 1 fixed · 1 still present · 1 declined" in body
    everything = (
        json.dumps(pipeline.mr.discussions) + text + Path(out["DEEPREVIEW_REPORT_MD"]).read_text()
    )
    assert TOKEN not in everything and SECRET not in everything


def test_a_line_gitlab_refuses_goes_into_the_summary(pipeline: Pipeline) -> None:
    pipeline.mr.commentable = {}
    code, _, text = pipeline.job()
    assert code == 0, text
    assert pipeline.ours() == {}
    (summary,) = pipeline.summaries()
    assert "### Not on diff lines" in str(summary["body"])


def test_merge_request_references() -> None:
    ref, server = parse_mr_ref("https://git.example.org/grp/sub/shop/-/merge_requests/12/diffs")
    assert (ref.repo, ref.number, server) == ("grp/sub/shop", 12, "https://git.example.org")
    assert parse_mr_ref("!7")[0].number == 7 and parse_mr_ref("grp/shop!3")[0].repo == "grp/shop"
    env = {"CI_SERVER_URL": "https://git.example.org"}
    assert forge_for("https://git.example.org/grp/shop/-/merge_requests/1", env).name == "GitLab"
    assert forge_for("git@gitlab.com:grp/shop.git", {}).name == "GitLab"
    assert forge_for("https://github.com/o/r/pull/1", env).name == "GitHub"


def test_a_bad_token_is_one_clear_error(pipeline: Pipeline) -> None:
    pipeline.gl.token = "glpat-something-else-entirely"
    clone = pipeline.root / "bad"
    git(pipeline.root, "clone", "-q", str(pipeline.upstream), str(clone))
    env = {
        **pipeline.base_env,
        "GITLAB_CI": "true",
        "CI_SERVER_URL": pipeline.gl.url,
        "CI_PROJECT_PATH": PROJECT,
        "CI_MERGE_REQUEST_IID": "7",
        "GITLAB_TOKEN": TOKEN,
    }
    proc = deepreview(clone, env, "ci", "--agent", "scan")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "deepreview: error: GitLab: authentication failed (set GITLAB_TOKEN)"
    )
    assert TOKEN not in proc.stderr
