"""The commands a user expects: the pre-commit hook, `init`, `show`, and the CI files' sources."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from deepreview.cli import review_cmd
from deepreview.cli.ci import ci_cmd, with_models
from deepreview.config import Config, load_config
from deepreview.scaffold import scaffold
from tests.integration.test_cli import PLANTED
from tests.integration.test_cli_logs import run
from tests.repo_factory import commit, git, make_repo, write

ROOT = Path(__file__).resolve().parents[2]


def _hook_argv() -> list[str]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "deepreview" and hook["pass_filenames"] is False
    argv = shlex.split(hook["entry"])
    assert argv[0] == "deepreview"
    return argv[1:]


def test_pre_commit_hook_reviews_only_the_staged_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "# demo\n", "app/__init__.py": ""})
    write(repo, {"app/runner.py": PLANTED})  # a planted key, not staged yet
    write(repo, {"app/clean.py": '"""Clean."""\n\nVALUE = 1\n'})
    git(repo, "add", "app/clean.py")
    proc = run(repo, *_hook_argv())
    assert proc.returncode == 0, proc.stderr  # the key is in an unstaged file
    report = json.loads(run(repo, "show", "latest", "--format", "json").stdout)
    assert report["target"]["changed_files"] == ["app/clean.py"]
    git(repo, "add", "app/runner.py")
    proc = run(repo, *_hook_argv())
    assert proc.returncode == 1  # critical: the commit is refused
    assert "Rework" in proc.stdout
    git(repo, "commit", "-qm", "everything")
    proc = run(repo, *_hook_argv())
    assert proc.returncode == 2 and "nothing is staged" in proc.stderr


def test_init_writes_a_commented_config_and_ci_jobs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    proc = run(repo, "init", "--github", "--gitlab")
    assert proc.returncode == 0, proc.stderr
    config = (repo / "deepreview.toml").read_text()
    assert config == scaffold("config") and "# agents = " in config
    assert load_config(repo) == load_config(None)  # all commented: the defaults
    setting = re.compile(r"# (\[|[a-z_]+ = )")
    uncommented = "\n".join(
        line[2:] if setting.match(line) else line for line in config.splitlines()
    )
    (tmp_path / "all.toml").write_text(uncommented)
    every = load_config(None, tmp_path / "all.toml")  # every setting shown is a valid one
    assert every.heartbeat_s == 30 and every.agent["claude"].timeout_s == 1200
    workflow = repo / ".github" / "workflows" / "deepreview.yml"
    assert workflow.read_text() == (ROOT / "examples" / "github" / "pull-request.yml").read_text()
    gitlab = (repo / ".gitlab-ci.yml").read_text()
    assert gitlab == (ROOT / "examples" / "gitlab" / "gitlab-ci.yml").read_text()
    again = run(repo, "init")
    assert again.returncode == 2 and "already exist" in again.stderr
    assert run(repo, "init", "--force").returncode == 0


def test_show_prints_any_stored_report_in_any_format(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"README.md": "# demo\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"app/runner.py": PLANTED}, "Add a runner")
    assert run(repo, "show").returncode == 2  # nothing stored yet
    first = json.loads(
        run(repo, "review", "--agent", "scan", "--format", "json", "--output", "-").stdout
    )
    md = run(repo, "show")
    assert md.returncode == 0 and md.stdout.startswith("# ") and first["id"] in md.stdout
    sarif = json.loads(run(repo, "show", first["id"], "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    html = run(repo, "show", "latest", "--format", "html").stdout
    assert html.lstrip().lower().startswith("<!doctype html")
    assert run(repo, "show", "nope").returncode == 2


def test_ci_takes_every_review_option_but_the_target() -> None:
    target = {"base", "head", "uncommitted", "patch", "staged", "pr", "series", "allow_unapplied"}
    review = {p.name for p in review_cmd.params} - target
    missing = review - {p.name for p in ci_cmd.params}
    assert not missing, f"add these review options to `deepreview ci` too: {sorted(missing)}"


def test_model_option_sets_one_agent_model_and_keeps_the_rest() -> None:
    config = Config(default_timeout_s=1200)
    changed = with_models(config, ("claude=claude-opus-4-6", "codex = gpt-5.4"))
    assert changed.agent["claude"].model == "claude-opus-4-6"
    assert changed.agent["codex"].model == "gpt-5.4"
    assert changed.agent["claude"].timeout_s == 1200
    for bad in ("claude", "=x", "claude="):
        with pytest.raises(SystemExit) as exc:
            with_models(config, (bad,))
        assert exc.value.code == 2
