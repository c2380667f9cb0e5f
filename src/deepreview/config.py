"""Configuration: defaults < repository config (deepreview.toml or [tool.deepreview]) < flags.

Configuration is a value passed down the call chain, never a global.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepreview.schema import Severity
from deepreview.scope import Scope


class ConfigError(Exception):
    """The configuration file is unreadable or invalid."""


class AgentConfig(BaseModel):
    """Settings of one agent."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    model: str | None = None
    effort: str | None = None
    timeout_s: float = Field(default=900.0, gt=0)
    extra_args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    base_url: str | None = None
    display_name: str | None = None
    max_prompt_tokens: int | None = Field(default=None, gt=0)
    state_paths: list[str] | None = Field(
        default=None,
        description="Files and folders (relative to HOME) a CLI agent may write besides its "
        "worktree and TMPDIR; the default is every AI CLI's state folders.",
    )
    keep_sessions: bool = Field(
        default=False,
        description="Let an agent CLI keep its session transcript in the user's home.",
    )


class VerifyConfig(BaseModel):
    """Settings of the `verify` reviewer, which runs the change's tests in a sandbox."""

    model_config = ConfigDict(extra="forbid")

    command: list[str] | None = Field(
        default=None, description="The test command (argv); detected when not set."
    )
    environment: str = Field(
        default="auto",
        description="'auto' (VIRTUAL_ENV, else the repository's .venv or venv, else PATH), "
        "'path', or the folder of a virtualenv.",
    )
    pull_requests: bool = Field(
        default=False, description="Run a pull request's code (also `--verify`)."
    )
    coverage: bool = True
    mutations: bool = True
    budget_s: float | None = Field(
        default=None,
        gt=0,
        description="Wall-clock budget of the whole verification; default: 50 s, or the "
        "shortest AI agent timeout when AI agents run.",
    )
    memory_mb: int = Field(default=4096, gt=0)
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra variables for the test commands."
    )
    repros: bool = Field(
        default=True, description="Run the repros AI agents attach to their claims."
    )
    repro_timeout_s: float = Field(default=30.0, gt=0, description="Limit of one repro run.")
    repro_budget_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds repros may still run once the last AI agent has finished.",
    )
    repro_concurrency: int = Field(default=2, ge=1, description="Repro runs at once.")
    test_concurrency: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="Go's single-test coverage runs at once; default: the CPU count.",
    )
    max_repros: int = Field(default=12, ge=0, description="Repros run per review.")


_EXAMINED: tuple[Severity, ...] = ("critical", "important")


class CrossExamConfig(BaseModel):
    """Cross-examination: a critical or important finding raised by one AI vendor only is put
    to an agent of another vendor, which confirms or refutes it."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True, description="On when AI agents of two or more vendors reviewed."
    )
    max_concurrency: int = Field(default=4, ge=1, description="Examinations run at once.")
    budget_s: float = Field(
        default=300.0,
        gt=0,
        description="Wall-clock seconds the whole cross-examination may add to the review.",
    )
    severities: list[Severity] = Field(
        default_factory=lambda: list(_EXAMINED),
        description="Consolidated severities whose lone-vendor findings are examined.",
    )


class Config(BaseModel):
    """The whole configuration."""

    model_config = ConfigDict(extra="forbid")

    agents: Literal["auto"] | list[str] = "auto"
    agent: dict[str, AgentConfig] = Field(default_factory=dict)
    output_dir: str = ".deepreview/reviews"
    default_timeout_s: float = Field(default=900.0, gt=0)
    max_concurrency: int = Field(default=8, ge=1)
    heartbeat_s: float = Field(
        default=30.0, gt=0, le=60, description="Seconds between 'still running' log lines."
    )
    model_families: dict[str, str] = Field(
        default_factory=dict, description="Model-name prefix -> vendor family, for consensus."
    )
    verdict_scopes: list[Scope] = Field(
        default_factory=lambda: [Scope.ADDED],
        description="Scopes (added, hunk, file, outside) whose findings count toward the "
        "verdict; findings elsewhere are listed as Pre-existing.",
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Model -> (USD per Mtok in, USD per Mtok out)."
    )
    include: list[str] = Field(
        default_factory=list, description="Paths reviewed even when generated, vendored or lock."
    )
    exclude: list[str] = Field(default_factory=list, description="Paths never reviewed.")
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    cross_examination: CrossExamConfig = Field(default_factory=CrossExamConfig)
    keep_traces: int = Field(
        default=10,
        ge=0,
        description="Keep agents' traces of this many reviews in .deepreview/runs/ (0: none).",
    )
    override_reported_costs: bool = Field(
        default=False, description="Price runs whose agent reported its own cost too."
    )

    def agent_config(self, name: str) -> AgentConfig:
        """The settings of agent `name`: its table, with `default_timeout_s` unless the table
        sets `timeout_s` (defaults when not configured)."""
        cfg = self.agent.get(name, AgentConfig())
        if "timeout_s" in cfg.model_fields_set:
            return cfg
        return cfg.model_copy(update={"timeout_s": self.default_timeout_s})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_config(repo_root: Path | None = None, path: Path | None = None) -> Config:
    """Load the configuration for a repository.

    `path` wins; else `deepreview.toml` at the repository root; else `[tool.deepreview]` in its
    `pyproject.toml`; else the defaults.
    """
    data: dict[str, Any] = {}
    source: Path | None = None
    if path is not None:
        data, source = _read_toml(path), path
    elif repo_root is not None:
        own = repo_root / "deepreview.toml"
        pyproject = repo_root / "pyproject.toml"
        if own.is_file():
            data, source = _read_toml(own), own
        elif pyproject.is_file():
            tool = _read_toml(pyproject).get("tool", {})
            section = tool.get("deepreview") if isinstance(tool, dict) else None
            if isinstance(section, dict):
                data, source = section, pyproject
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from exc
