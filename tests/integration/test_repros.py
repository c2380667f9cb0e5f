"""AI agents' repros run by `verify`: in a real repository, in sandboxed scratch copies of the
head, the merge base and the head with the fix, labelled and weighed in the severity rule."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deepreview.config import VerifyConfig
from deepreview.schema import AgentReview, AgentRun, Finding, Repro, Reproduction
from deepreview.verify.environment import project_environment, scrubbed_environment
from deepreview.verify.execute import Confinement
from deepreview.verify.repro import ReproRunner
from tests.repro_case import CLAMP_FIX, make_calc_change, replay_environment, review_config

SECRET = "s3cr3t-token-value-never-shown"
#: The reviewer name each replayed CLI's recorded model gets in the report.
REVIEWERS = {"claude": "Claude Opus 4.8", "gemini": "Gemini 3.8 Flash"}


@pytest.mark.parametrize("agent", sorted(REVIEWERS))
def test_a_review_runs_the_repros_of_a_replayed_cli(agent: str, tmp_path: Path) -> None:
    """`deepreview review` with one CLI replaying a real run's repro-backed answer (claude's
    structured, gemini's a fenced object in its text): the clamp claim's repro fails at the head
    and passes at the base and with its fix (fix verified, and it stays critical as its own
    corroboration), the scale claim's fails at the head and passes at the base (reproduced), the
    mean claim's passes at the head (downgraded, with why); each is that agent's."""
    repo, _ = make_calc_change(tmp_path)
    env = replay_environment(tmp_path / "home", agent, DEPLOY_TOKEN=SECRET)
    (repo / "deepreview.toml").write_text(review_config(agent), encoding="utf-8")
    out = tmp_path / "out"
    args = ["review", "--output", str(out), "--format", "md,json,html"]
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "deepreview", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(next(out.glob("*.json")).read_text())
    found = {f["title"]: f for f in data["findings"]}
    clamp = found["`clamp` returns `hi - 1` above the upper bound"]
    scale = found["`scale` drops the first value"]
    mean = found["`mean` floors integer averages"]
    assert (clamp["severity"], clamp["reproduction"]) == ("critical", "fix verified")
    assert "+        return hi\n" in (clamp["fix_patch"] or "")  # the verified fix, as a patch
    assert (scale["severity"], scale["reproduction"]) == ("important", "reproduced")
    assert (mean["severity"], mean["reproduction"]) == ("suggestion", "not reproduced")
    [change] = mean["severity_changes"]
    assert (change["from_severity"], change["to_severity"]) == ("important", "suggestion")
    assert "passes at the head" in change["reason"]

    repros = {r["finding_id"]: r for r in data["reproductions"]}
    assert sorted(repros) == ["C1", "I1", "I2"]
    steps = {
        k: {s["where"]: (s["outcome"], s["exit_code"]) for s in r["steps"]}
        for k, r in repros.items()
    }
    assert steps["C1"] == {"head": ("failed", 1), "base": ("passed", 0), "fix": ("passed", 0)}
    assert steps["I1"] == {"head": ("failed", 1), "base": ("passed", 0)}
    assert steps["I2"]["head"] == ("passed", 0)
    head_output = next(s["output"] for s in repros["I1"]["steps"] if s["where"] == "head")
    assert "assert [4, 6] == [2, 4, 6]" in head_output
    assert repros["C1"]["consolidated_id"] == clamp["id"]
    assert repros["I2"]["consolidated_id"] == mean["id"]
    reviewer = REVIEWERS[agent]
    assert {(r["agent"], r["reviewer"]) for r in repros.values()} == {(agent, reviewer)}
    assert all(f["agents"] == [reviewer] for f in (clamp, scale, mean))

    notes = {(e["finding_id"], e["note"]) for e in data["reconciliation"]}
    assert any(
        i == "I2" and "repro not reproduced: the repro passes at the head" in n for i, n in notes
    )
    row = next(r for r in data["retro"] if r["agent"] == reviewer)
    assert row["downgraded"] == {"I→S": 1}
    # the repros ran confined and without the environment's secrets
    isolation = repros["C1"]["isolation"]
    assert "Landlock" in isolation or isolation.startswith("not confined")
    md = next(out.glob("*.md")).read_text()
    assert SECRET not in md
    assert "## Reproductions" in md
    repro_md = md.split("## Reproductions", 1)[1]
    for rid, label in (("C1", "fix verified"), ("I1", "reproduced"), ("I2", "not reproduced")):
        assert f"Repro by {reviewer} ({rid}): **{label}**" in repro_md
    assert f"Reproduction: [Reproductions → {clamp['id']}](#repro-{clamp['id']})" in md
    assert "```text repro-output" in md and "```diff patch" in md
    html = next(out.glob("*.md")).with_suffix(".html").read_text()
    assert f'href="#repro-{clamp["id"].lower()}"' in html
    assert elapsed < 120


# --------------------------------------------------------------------------- the runner


def _runner(tmp_path: Path, repo: Path, base: str, **settings: Any) -> ReproRunner:
    work = tmp_path / "work"
    home, tmp = work / "home", work / "tmp"
    home.mkdir(parents=True)
    tmp.mkdir()
    environ = {"PATH": os.environ["PATH"], "VIRTUAL_ENV": sys.prefix, "API_KEY": SECRET}
    project = project_environment(repo, environ)
    return ReproRunner(
        repo=repo,
        head_tree=repo,
        base_sha=base,
        work=work,
        base_export=tmp_path / "base",
        env=scrubbed_environment(environ, project, home, tmp),
        confinement=Confinement(writable=(work,), memory_bytes=2**31),
        settings=VerifyConfig(**settings),
        answers=asyncio.Queue(),
        done=asyncio.Event(),
        stop_at=time.monotonic() + 120,
    )


def _run(*repros: Repro) -> AgentRun:
    findings = [
        Finding(id=f"I{n}", severity="important", title=f"claim {n}", repro=r)
        for n, r in enumerate(repros, 1)
    ]
    return AgentRun(
        agent="claude",
        display_name="Claude",
        kind="ai",
        status="ok",
        review=AgentReview(findings=findings),
    )


def _script(text: str, fix: str | None = None) -> Repro:
    return Repro(content=text, fix_patch=fix)


async def _started_before_the_others_finish(runner: ReproRunner) -> tuple[bool, list[Reproduction]]:
    task = asyncio.create_task(runner.run_all())
    runner.answers.put_nowait(_run(_script("sleep 1; exit 1\n")))
    folder = runner.work / "repro-01"
    for _ in range(100):
        if folder.exists():
            break
        await asyncio.sleep(0.05)
    early = folder.exists() and not runner.done.is_set()
    runner.done.set()
    return early, await task


def test_repros_start_as_each_agent_finishes(tmp_path: Path) -> None:
    repo, base = make_calc_change(tmp_path)
    runner = _runner(tmp_path, repo, base)
    early, [result] = asyncio.run(_started_before_the_others_finish(runner))
    assert early  # running while other agents were still at work
    assert result.label == "inconclusive"  # fails at the head and at the base
    assert [s.outcome for s in result.steps] == ["failed", "failed"]


def test_a_fix_that_does_not_apply_is_said_so(tmp_path: Path) -> None:
    repo, base = make_calc_change(tmp_path)
    stale = CLAMP_FIX.replace("return hi - 1", "return hi - 2")
    check = 'python -c "from calc import clamp; assert clamp(11, 0, 10) == 10"\n'
    runner = _runner(tmp_path, repo, base)
    runner.answers.put_nowait(_run(_script(check, fix=stale), _script(check, fix=CLAMP_FIX)))
    runner.done.set()
    stale_result, good = asyncio.run(runner.run_all())
    fix = next(s for s in stale_result.steps if s.where == "fix")
    assert fix.outcome == "not run" and fix.note.startswith("the fix does not apply")
    assert stale_result.label == "reproduced"
    assert good.label == "fix verified"
    assert (repo / "calc.py").read_text().count("hi - 1") == 1  # the checkout is untouched


def test_the_budget_stops_slow_repros_and_says_so(tmp_path: Path) -> None:
    repo, base = make_calc_change(tmp_path)
    runner = _runner(tmp_path, repo, base, repro_budget_s=1.0)
    runner.answers.put_nowait(_run(_script("sleep 30\n")))
    runner.done.set()
    t0 = time.monotonic()
    [result] = asyncio.run(runner.run_all())
    assert time.monotonic() - t0 < 10
    assert result.label == "inconclusive" and "budget ran out" in result.reason
    assert any("stopped unfinished" in n for n in runner.notes)


def test_repros_see_no_secret_and_cannot_leave_the_scratch_copy(tmp_path: Path) -> None:
    repo, base = make_calc_change(tmp_path)
    outside = tmp_path / "escaped.txt"
    script = f'env; echo x > {outside} || true; test -z "${{API_KEY:-}}"\n'
    runner = _runner(tmp_path, repo, base)
    runner.answers.put_nowait(_run(_script(script)))
    runner.done.set()
    [result] = asyncio.run(runner.run_all())
    head = result.steps[0]
    assert head.outcome == "passed", head.output
    assert SECRET not in head.output
    if "Landlock" in result.isolation:
        assert not outside.exists()


@pytest.mark.parametrize(
    ("repro", "why"),
    [
        (Repro(kind="test", path="../outside.py", content="x\n"), "not inside the repository"),
        (Repro(kind="test", path="tests/check.rb", content="x\n"), "no command to run"),
    ],
)
def test_a_repro_that_cannot_run_is_inconclusive_and_says_why(
    tmp_path: Path, repro: Repro, why: str
) -> None:
    repo, base = make_calc_change(tmp_path)
    runner = _runner(tmp_path, repo, base)
    runner.answers.put_nowait(_run(repro))
    runner.done.set()
    [result] = asyncio.run(runner.run_all())
    assert result.label == "inconclusive" and why in result.reason
    assert not (tmp_path / "outside.py").exists()
