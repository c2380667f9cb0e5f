"""Configuration loading: file precedence and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deepreview.config import ConfigError, load_config
from deepreview.runtime import Runtime


def test_defaults_without_files(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert cfg.agents == "auto"
    assert cfg.agent_config("claude").timeout_s == cfg.default_timeout_s


def test_deepreview_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.deepreview]\nagents = ["ruff"]\n')
    (tmp_path / "deepreview.toml").write_text(
        'agents = ["scan", "claude"]\n[agent.claude]\nmodel = "opus"\neffort = "high"\n'
        'timeout_s = 60\nextra_args = ["--max-turns", "30"]\n'
    )
    cfg = load_config(tmp_path)
    assert cfg.agents == ["scan", "claude"]
    claude = cfg.agent_config("claude")
    assert (claude.model, claude.effort, claude.timeout_s) == ("opus", "high", 60)
    assert claude.extra_args == ["--max-turns", "30"]


def test_pyproject_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.deepreview]\nmax_concurrency = 2\n'
    )
    assert load_config(tmp_path).max_concurrency == 2


def test_unknown_key_is_reported_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "deepreview.toml").write_text("[agent.claude]\nmodle = 'opus'\n")
    with pytest.raises(ConfigError, match=r"deepreview.toml: agent.claude.modle: Extra inputs"):
        load_config(tmp_path)


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "deepreview.toml").write_text("agents = [\n")
    with pytest.raises(ConfigError, match=r"deepreview\.toml"):
        load_config(tmp_path)


def test_negative_timeout_rejected(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text("default_timeout_s = -1\n")
    with pytest.raises(ConfigError, match="default_timeout_s"):
        load_config(None, path)


def test_an_agent_table_without_a_timeout_gets_the_default_timeout(tmp_path: Path) -> None:
    (tmp_path / "deepreview.toml").write_text(
        'default_timeout_s = 120\n[agent.claude]\nmodel = "claude-opus-4-6"\n'
        "[agent.codex]\ntimeout_s = 30\n"
    )
    cfg = load_config(tmp_path)
    claude = cfg.agent_config("claude")
    assert (claude.model, claude.timeout_s) == ("claude-opus-4-6", 120)
    assert cfg.agent_config("codex").timeout_s == 30  # its own timeout wins
    assert cfg.agent_config("gemini").timeout_s == 120


def test_runtime_is_read_from_the_environment_mapping(tmp_path: Path) -> None:
    env = {"DEEPREVIEW_SERIAL": "1", "DEEPREVIEW_CACHE_DIR": str(tmp_path), "PATH": "/x"}
    runtime = Runtime.from_environ(env)
    assert (runtime.serial, runtime.cache_dir, runtime.environ) == (True, tmp_path, env)
    assert Runtime.from_environ({"DEEPREVIEW_SERIAL": "0"}).serial is False


def test_test_concurrency_defaults_to_the_cpu_count_and_is_read_from_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert load_config(tmp_path).verify.test_concurrency == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: one at a time
    assert load_config(tmp_path).verify.test_concurrency == 1
    (tmp_path / "deepreview.toml").write_text("[verify]\ntest_concurrency = 3\n")
    assert load_config(tmp_path).verify.test_concurrency == 3


@pytest.mark.parametrize("value", ["0", "-2", '"many"'])
def test_a_bad_test_concurrency_is_a_config_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "deepreview.toml").write_text(f"[verify]\ntest_concurrency = {value}\n")
    with pytest.raises(ConfigError, match=r"deepreview\.toml: verify\.test_concurrency: Input"):
        load_config(tmp_path)
