"""Choose which agents run: configured ones, or every available one with `agents = "auto"`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from deepreview.agents.base import (
    Agent,
    Availability,
    UnknownAgentError,
    agent_class,
    available_agent_names,
)
from deepreview.config import Config, ConfigError
from deepreview.schema import AgentRun


@dataclass(frozen=True)
class AgentStatus:
    """One known agent, as `deepreview agents` lists it."""

    name: str
    kind: str
    display_name: str
    availability: Availability
    enabled: bool


@dataclass(frozen=True)
class Selection:
    """Agents to run, and configured agents that cannot run (reported as skipped)."""

    agents: list[Agent]
    skipped: list[AgentRun]


def _instantiate(name: str, config: Config) -> Agent:
    try:
        cls = agent_class(name)
    except UnknownAgentError as exc:
        known = ", ".join(available_agent_names())
        raise ConfigError(f"unknown agent '{name}' (known: {known})") from exc
    agent: Agent = cls(config.agent_config(name))  # type: ignore[call-arg]
    return agent


def agent_statuses(config: Config, environ: Mapping[str, str]) -> list[AgentStatus]:
    """Every known agent with its availability here."""
    out: list[AgentStatus] = []
    for name in available_agent_names():
        try:
            agent = _instantiate(name, config)
        except Exception as exc:  # a broken third-party plugin must not hide the others
            out.append(
                AgentStatus(name, "?", name, Availability(False, f"cannot load: {exc}"), False)
            )
            continue
        avail = agent.availability(environ)
        enabled = _wanted(name, agent, config, avail)
        out.append(AgentStatus(name, agent.kind, agent.display_name(), avail, enabled))
    return out


def _wanted(name: str, agent: Agent, config: Config, avail: Availability) -> bool:
    own = config.agent.get(name)
    if own is not None and not own.enabled:
        return False
    if config.agents == "auto":
        return avail.available and (agent.default_enabled or own is not None)
    return name in config.agents


def select_agents(
    config: Config, environ: Mapping[str, str], names: Sequence[str] | None = None
) -> Selection:
    """Agents for this review. `names` (from the command line) overrides the configuration.

    Agents asked for by name that cannot run become skipped runs, so the report says why.
    """
    explicit = list(names) if names else (None if config.agents == "auto" else config.agents)
    candidates = explicit if explicit is not None else available_agent_names()
    agents: list[Agent] = []
    skipped: list[AgentRun] = []
    for name in dict.fromkeys(candidates):
        agent = _instantiate(name, config)
        avail = agent.availability(environ)
        if explicit is None and not _wanted(name, agent, config, avail):
            continue
        if not avail.available:
            skipped.append(
                AgentRun.failure(
                    agent,
                    "skipped",
                    avail.reason,
                    started_at=datetime.now(UTC),
                    agent=name,
                    effort=None,
                )
            )
            continue
        agents.append(agent)
    return Selection(agents, skipped)
