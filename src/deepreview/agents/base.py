"""The Agent protocol, the built-in registry and third-party discovery."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import ClassVar, Literal, Protocol, runtime_checkable

from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.redact import is_secret_name
from deepreview.schema import AgentRun

AgentKind = Literal["ai", "analyzer", "builtin"]

#: Built-in agents as "module:Class", imported only when used.
BUILTIN_AGENTS: dict[str, str] = {
    "scan": "deepreview.agents.scan:ScanAgent",
    "verify": "deepreview.agents.verify:VerifyAgent",
    "ruff": "deepreview.agents.ruff:RuffAgent",
    "bandit": "deepreview.agents.bandit:BanditAgent",
    "claude": "deepreview.agents.claude:ClaudeAgent",
    "codex": "deepreview.agents.codex:CodexAgent",
    "gemini": "deepreview.agents.gemini:GeminiAgent",
    "anthropic-api": "deepreview.agents.anthropic_api:AnthropicApiAgent",
    "openai-api": "deepreview.agents.openai_api:OpenAIApiAgent",
    "gemini-api": "deepreview.agents.gemini_api:GeminiApiAgent",
    "openai-compatible": "deepreview.agents.openai_api:OpenAICompatibleAgent",
}

ENTRY_POINT_GROUP = "deepreview.agents"


@dataclass(frozen=True)
class Availability:
    """Whether an agent can run here, and why not."""

    available: bool
    reason: str = ""


@runtime_checkable
class Agent(Protocol):
    """A reviewer. Capabilities are declared as class attributes."""

    config: AgentConfig

    @property
    def name(self) -> str:
        """Registry name."""
        ...

    @property
    def kind(self) -> AgentKind:
        """ "ai", "analyzer" or "builtin"."""
        ...

    @property
    def default_enabled(self) -> bool:
        """Whether `agents = "auto"` enables the agent when it is available."""
        ...

    def display_name(self) -> str:
        """Vendor and model for the Reviewers line, e.g. 'Claude Opus 4.6 (effort: high)'."""
        ...

    def availability(self, environ: Mapping[str, str]) -> Availability:
        """Whether the agent can run with this environment."""
        ...

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Review the change. May raise; the runner turns exceptions into failed runs."""
        ...


class AgentBase:
    """Small shared defaults for agents; subclasses set the class attributes."""

    name: ClassVar[str] = ""
    kind: ClassVar[AgentKind] = "builtin"
    binary: ClassVar[str | None] = None
    key_env: ClassVar[tuple[str, ...]] = ()
    default_enabled: ClassVar[bool] = True
    #: Vendor family whose opinion the agent gives, for consensus; None: its own.
    family: ClassVar[str | None] = None
    #: Whether a successful run may be reused for the same prompt, head and diff.
    cacheable: ClassVar[bool] = True

    def __init__(self, config: AgentConfig | None = None) -> None:
        self.config = config or AgentConfig()

    def display_name(self) -> str:
        """The configured display name, else the agent's name."""
        return self.config.display_name or self.name

    def availability(self, environ: Mapping[str, str]) -> Availability:
        """Available when the binary is on PATH and a key (if any) is set."""
        if self.binary and shutil.which(self.binary, path=environ.get("PATH")) is None:
            return Availability(False, f"`{self.binary}` not found on PATH")
        if self.key_env and not any(environ.get(k) for k in self.key_env):
            return Availability(False, f"set {' or '.join(self.key_env)}")
        return Availability(True)


class UnknownAgentError(KeyError):
    """No agent of that name is registered."""


def available_agent_names() -> list[str]:
    """Built-in names followed by third-party entry points."""
    names = list(BUILTIN_AGENTS)
    names += [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in names]
    return names


def agent_class(name: str) -> type[Agent]:
    """Resolve an agent class by registry name."""
    target = BUILTIN_AGENTS.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        cls: type[Agent] = getattr(importlib.import_module(module), attr)
        return cls
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            loaded: type[Agent] = ep.load()
            return loaded
    raise UnknownAgentError(name)


def agent_environment(
    environ: Mapping[str, str], keep: tuple[str, ...] = (), extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for one agent: credentials removed except those named in `keep`."""
    env = {k: v for k, v in environ.items() if k in keep or not is_secret_name(k)}
    if extra:
        env.update(extra)
    return env
