"""The `verify` reviewer on real repositories: the project's tests really run (in deepreview's
development virtualenv, standing in for the project's own), at the head and the merge base."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from deepreview.config import Config, VerifyConfig
from deepreview.context import ReviewContext
from deepreview.diff import parse_diff
from deepreview.pipeline import ReviewOptions, review
from deepreview.schema import AgentRun, Report, ReportTarget, Verification
from tests.repo_factory import commit, git, make_repo
from tests.runtimes import make_runtime

CLAMP = """def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""
CLAMP_TESTS = """from calc import clamp


def test_low():
    assert clamp(-1, 0, 10) == 0


def test_high():
    assert clamp(11, 0, 10) == 10
"""
PYPROJECT = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
SECRET = "s3cr3t-value-that-must-not-leak"


def project(tmp_path: Path, tests: str = CLAMP_TESTS) -> Path:
    """A small Python project (src layout, pytest) on main, with branch `feature` checked out."""
    repo = make_repo(
        tmp_path / "proj",
        {"pyproject.toml": PYPROJECT, "src/calc/__init__.py": CLAMP, "tests/test_calc.py": tests},
    )
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def run_verify(
    repo: Path, tmp_path: Path, path: str = "", **settings: object
) -> tuple[Report, AgentRun]:
    environ = {
        "PATH": f"{path}:/usr/bin:/bin" if path else "/usr/bin:/bin",
        "VIRTUAL_ENV": sys.prefix,
        "DEPLOY_TOKEN": SECRET,
        "DATABASE_URL": f"postgres://u:{SECRET}@db/x",
    }
    result = review(
        ReviewOptions(
            cwd=repo,
            agents=["verify"],
            config=Config(verify=VerifyConfig(**settings)),  # type: ignore[arg-type]
            output_dir=tmp_path / "out",
            formats=("md", "json"),
            environ=environ,
            keep_history=False,
        )
    )
    run = next(r for r in result.report.runs if r.agent == "verify")
    return result.report, run


def bare_context(repo: Path, tmp_path: Path, target: ReportTarget, **kw: Any) -> ReviewContext:
    """A review context of `repo` with an empty diff, as the verify agent receives it."""
    kw.setdefault("runtime", make_runtime())
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=parse_diff(""),
        target=target,
        base_sha=None,
        run_dir=tmp_path / "run",
        **kw,
    )


def verification(run: AgentRun) -> Verification:
    assert run.status == "ok", run.reason
    assert run.verification is not None
    return run.verification


def test_a_change_that_breaks_a_test_is_a_blocking_finding(tmp_path: Path) -> None:
    repo = project(tmp_path)
    commit(repo, {"src/calc/__init__.py": CLAMP.replace("return hi\n", "return hi - 1\n")}, "x")
    report, run = run_verify(repo, tmp_path)
    v = verification(run)
    assert v.broken_by_change == ["tests/test_calc.py::test_high"]
    assert v.failing_at_base == []
    labels = [e.label for e in v.executed]
    assert labels == ["tests at head", "failing tests at base", "coverage of the changed lines"]
    assert [e.exit_code for e in v.executed] == [1, 0, 1]
    assert "merge base" in v.executed[1].where
    (finding,) = [f for f in report.findings if f.agents == ["verify"]]
    assert finding.severity == "critical"
    assert "test_high" in finding.title and "fails at head, passes at base" in finding.title
    assert "assert 9 == 10" in finding.body
    assert [loc.label() for loc in finding.locations] == ["src/calc/__init__.py:5"]
    assert report.verdict.decision == "Rework"
    testing = " ".join(t.text for t in report.testing)
    assert "1 passed, 1 failed" in testing
    assert "mutations of the changed lines" not in testing  # none ran: nothing to count


def test_a_test_already_failing_at_base_is_pre_existing(tmp_path: Path) -> None:
    broken_tests = CLAMP_TESTS + "\n\ndef test_old():\n    assert clamp(5, 0, 10) == 6\n"
    repo = project(tmp_path, broken_tests)
    commit(repo, {"src/calc/__init__.py": CLAMP + "\n\nLIMIT = 3\n"}, "add a constant")
    report, run = run_verify(repo, tmp_path)
    v = verification(run)
    assert v.failing_at_base == ["tests/test_calc.py::test_old"]
    assert v.broken_by_change == []
    assert not [f for f in report.findings if f.severity == "critical"]
    assert "already fail at the merge base (pre-existing" in run.review.testing  # type: ignore[union-attr]


def test_coverage_and_mutations_of_the_changed_lines(tmp_path: Path) -> None:
    repo = project(tmp_path)
    double = "\n\ndef double(x):\n    if x > 100:\n        return x\n    return x * 2\n"
    tests = CLAMP_TESTS + "\n\ndef test_double():\n    from calc import double\n\n"
    tests += "    assert double(3) == 6\n"
    commit(repo, {"src/calc/__init__.py": CLAMP + double, "tests/test_calc.py": tests}, "double")
    report, run = run_verify(repo, tmp_path, budget_s=300)  # all three probes, even under load
    v = verification(run)
    assert (v.added_lines, v.covered_lines) == (4, 3)  # the `def` line runs at import
    assert [loc.label() for loc in v.uncovered] == ["src/calc/__init__.py:11"]
    outcomes = {m.description: m.outcome for m in v.mutations}
    assert outcomes == {
        "`if x > 100` → `if not (x > 100)`": "caught",
        "`x > 100` → `x >= 100`": "survived",
        "`return x * 2` → `return None`": "caught",
    }
    assert all(m.tests == 1 for m in v.mutations)  # only the covering test ran
    (row,) = v.rubric
    assert (row.subject, row.status) == ("`double`", "Not pinned")
    titles = [f.title for f in report.findings]
    assert (
        "Not pinned by any test: `x > 100` → `x >= 100` at src/calc/__init__.py:10 keeps the "
        "suite green" in titles
    )
    assert "Of 3 mutations of the changed lines, the suite caught 2." in run.review.testing  # type: ignore[union-attr]


def test_tests_run_without_secrets_and_outside_the_checkout(tmp_path: Path) -> None:
    probe = """import os
from pathlib import Path


def test_environment_is_scrubbed():
    assert "DEPLOY_TOKEN" not in os.environ
    assert "DATABASE_URL" not in os.environ
    assert Path.cwd().name == "head"
    assert Path(os.environ["HOME"]).parent == Path.cwd().parent
"""
    repo = project(tmp_path)
    commit(repo, {"tests/test_env.py": probe}, "environment test")
    report, run = run_verify(repo, tmp_path)
    v = verification(run)
    assert v.broken_by_change == []
    assert "3 passed" in run.review.testing  # type: ignore[union-attr]
    assert SECRET not in (tmp_path / "out").joinpath(f"{report.id}.json").read_text()
    assert git(repo, "status", "--porcelain") == ""


def test_a_pull_request_is_not_executed_unless_asked(tmp_path: Path) -> None:
    from deepreview.agents.verify import PR_OFF, VerifyAgent

    repo = project(tmp_path)
    ctx = bare_context(repo, tmp_path, ReportTarget(kind="pr"))
    run = asyncio.run(VerifyAgent().run(ctx))
    assert (run.status, run.reason) == ("skipped", PR_OFF)


def test_no_test_command_means_verify_is_skipped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "plain", {"README.md": "hi\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"notes.txt": "more\n"}, "notes")
    _, run = run_verify(repo, tmp_path)
    assert (run.status, run.reason) == ("skipped", "no test command configured or detected")


def test_a_configured_command_that_fails_only_at_head(tmp_path: Path) -> None:
    check = "import sys\nsys.exit(0 if open('VERSION').read().strip() == '1' else 3)\n"
    repo = make_repo(tmp_path / "cfg", {"VERSION": "1\n", "check.py": check})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"VERSION": "2\n"}, "bump")
    report, run = run_verify(repo, tmp_path, command=["python", "check.py"])
    v = verification(run)
    assert [e.exit_code for e in v.executed] == [3, 0]
    assert v.broken_by_change == ["python check.py"]
    assert "pytest and `go test` suites only" in " ".join(v.notes)
    assert report.verdict.decision == "Rework"


def test_a_small_budget_leaves_mutations_unrun_and_says_so(tmp_path: Path) -> None:
    repo = project(tmp_path)
    body = "".join(f"\n\ndef f{i}(x):\n    return x + {i}\n" for i in range(40))
    tests = CLAMP_TESTS + "".join(
        f"\n\ndef test_f{i}():\n    from calc import f{i}\n\n    assert f{i}(1) == {i + 1}\n"
        for i in range(40)
    )
    commit(repo, {"src/calc/__init__.py": CLAMP + body, "tests/test_calc.py": tests}, "f")
    _, run = run_verify(repo, tmp_path, budget_s=60)
    v = verification(run)
    not_run = [m for m in v.mutations if m.outcome == "not run"]
    assert not_run, v.mutations
    assert any("were not run: the time budget (60 s) ran out" in n for n in v.notes)
    report_json = json.loads(run.model_dump_json())
    assert report_json["verification"]["mutations"]


@pytest.mark.parametrize("flag", [True, False])
def test_verify_flag(tmp_path: Path, flag: bool) -> None:
    from deepreview.pipeline import _with_verify

    config = _with_verify(Config(), ReviewOptions(cwd=tmp_path, environ={}, verify=flag))
    assert config.verify.pull_requests is flag
    assert config.agent_config("verify").enabled is flag


def test_a_command_failing_at_head_and_base_is_pre_existing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "cfg", {"check.py": "raise SystemExit(2)\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"notes.txt": "x\n"}, "notes")
    report, run = run_verify(repo, tmp_path, command=["python", "check.py"])
    v = verification(run)
    assert [e.exit_code for e in v.executed] == [2, 2]
    assert (v.broken_by_change, v.failing_at_base) == ([], ["python check.py"])
    assert report.verdict.decision == "Merge as-is"


def test_a_run_stopped_at_its_time_limit_blames_nothing(tmp_path: Path) -> None:
    sleeper = "import time\ntime.sleep(60)\n"
    repo = make_repo(tmp_path / "slow", {"check.py": sleeper})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"notes.txt": "x\n"}, "notes")
    report, run = run_verify(repo, tmp_path, command=["python", "check.py"], budget_s=4)
    v = verification(run)
    assert [(e.label, e.timed_out) for e in v.executed] == [("tests at head", True)]
    assert v.broken_by_change == [] and not report.findings
    assert any("time limit" in n for n in v.notes)


def test_a_large_suite_runs_only_the_test_files_naming_a_changed_module(tmp_path: Path) -> None:
    others = {f"tests/test_other{i}.py": f"def test_{i}():\n    assert True\n" for i in range(31)}
    repo = project(tmp_path)
    commit(repo, others, "more tests")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "feature")
    git(repo, "checkout", "-q", "feature")
    commit(repo, {"src/calc/__init__.py": CLAMP + "\n\nLIMIT = 3\n"}, "constant")
    _, run = run_verify(repo, tmp_path)
    v = verification(run)
    assert "2 passed" in run.review.testing  # type: ignore[union-attr]
    assert any("the 1 that name a changed module ran, the other 31 did not" in n for n in v.notes)
    commit(repo, {"data.txt": "x\n"}, "data only")
    git(repo, "branch", "-f", "main", "HEAD~1")
    _, run = run_verify(repo, tmp_path)
    assert "none names a changed module: no test ran" in run.review.testing  # type: ignore[union-attr]
    assert verification(run).executed == []


def test_the_change_s_code_runs_confined(tmp_path: Path) -> None:
    import socket

    outside = tmp_path / "escaped.txt"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        probe = f"""import socket


def test_write_outside_the_scratch_copy():
    try:
        open({str(outside)!r}, "w").write("x")
    except OSError:
        return
    raise AssertionError("wrote outside")


def test_reach_the_host_network():
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
    except OSError:
        return
    raise AssertionError("connected")
"""
        repo = project(tmp_path)
        commit(repo, {"tests/test_escape.py": probe}, "escape attempts")
        _, run = run_verify(repo, tmp_path, coverage=False)
    v = verification(run)
    results = run.review.testing  # type: ignore[union-attr]
    if "Landlock" in v.isolation:
        assert not outside.exists()
        if "no network" in v.isolation:
            assert "4 passed" in results, results
        else:
            assert "network not isolated" in v.isolation
    else:
        assert v.isolation.startswith("not confined")


def npm_project(tmp_path: Path, test_js: str, changed_add: str) -> Path:
    """An npm project whose `npm test` runs test.js against add.js, with add.js changed to
    `changed_add` on branch `feature`."""
    package = '{"name": "x", "version": "1.0.0", "scripts": {"test": "node test.js"}}\n'
    repo = make_repo(
        tmp_path / "js",
        {
            "package.json": package,
            "add.js": "module.exports = (a, b) => a + b;\n",
            "test.js": test_js,
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"add.js": changed_add}, "change add")
    return repo


@pytest.mark.npm
def test_npm_test_fails_at_head_and_passes_at_base(tmp_path: Path) -> None:
    test_js = (
        'const add = require("./add");\n'
        'if (add(2, 2) !== 4) { console.error("add(2, 2) is " + add(2, 2)); process.exit(1); }\n'
    )
    repo = npm_project(tmp_path, test_js, "module.exports = (a, b) => a * b + 1;\n")
    environ_path = os.path.dirname(shutil.which("npm") or "")
    report, run = run_verify(repo, tmp_path, env={}, environment="path", path=environ_path)
    v = verification(run)
    assert v.command == "npm test"
    assert [e.exit_code for e in v.executed] == [1, 0]
    assert v.broken_by_change == ["npm test"]
    (finding,) = report.findings
    assert "add(2, 2) is 5" in finding.body
    assert [loc.label() for loc in finding.locations] == ["add.js:1"]


@pytest.mark.npm
def test_npm_mutants_delete_added_statement_lines(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    assert npm is not None, "the npm tests need npm (Node.js); run them with -m npm"
    add = (
        "function add(a, b) {\n"
        "  let total = a;\n"
        "  total += b;\n"
        "  if (total > 100) total = 100;\n"
        "  return total;\n"
        "}\n"
        "module.exports = add;\n"
    )
    test_js = 'const add = require("./add");\nif (add(2, 2) !== 4) process.exit(1);\n'
    repo = npm_project(tmp_path, test_js, add)
    report, run = run_verify(repo, tmp_path, environment="path", path=os.path.dirname(npm))
    v = verification(run)
    outcomes = {(m.location.start_line, m.description): m.outcome for m in v.mutations}
    assert outcomes == {
        (3, "delete `total += b;`"): "caught",
        (4, "delete `if (total > 100) total = 100;`"): "survived",
        (7, "delete `module.exports = add;`"): "caught",
    }
    assert v.added_lines is None  # no coverage measured for npm
    assert "Of 3 mutations of the changed lines, the suite caught 2." in run.review.testing  # type: ignore[union-attr]
    assert any("ran the whole command" in n for n in v.notes)
    assert (
        "Not pinned by any test: delete `if (total > 100) total = 100;` at add.js:4 keeps the "
        "suite green" in [f.title for f in report.findings]
    )


def test_the_serial_flag_runs_one_test_and_one_repro_at_a_time(tmp_path: Path) -> None:
    from deepreview.agents.verify import serial_settings

    def ctx(serial: bool) -> ReviewContext:
        return bare_context(
            tmp_path,
            tmp_path,
            ReportTarget(kind="range"),
            runtime=make_runtime(serial=serial),
            verify=VerifyConfig(test_concurrency=4, repro_concurrency=3),
        )

    both = serial_settings(ctx(True))
    assert (both.test_concurrency, both.repro_concurrency) == (1, 1)
    free = serial_settings(ctx(False))
    assert (free.test_concurrency, free.repro_concurrency) == (4, 3)
