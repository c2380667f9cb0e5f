"""An agent wrapper that reuses a stored result for the same agent, prompt, head and diff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from deepreview.agents.base import Agent, AgentKind, Availability
from deepreview.context import ReviewContext
from deepreview.redact import Redactor
from deepreview.runner import live_tool_calls
from deepreview.schema import AgentRun
from deepreview.store import Store, cache_key
from deepreview.traces import live_notes
from deepreview.version import __version__


class CachedAgent:
    """Wraps an agent: a cache hit returns the stored run marked cached; a successful fresh run
    is stored (redacted) as soon as it finishes, so an interrupted review keeps it."""

    default_enabled: ClassVar[bool] = True

    def __init__(self, inner: Agent, store: Store, prompt_version: str, redactor: Redactor) -> None:
        self.inner = inner
        self.config = inner.config
        self.store = store
        self.prompt_version = prompt_version
        self.redactor = redactor
        self.name = inner.name
        self.kind: AgentKind = inner.kind

    def display_name(self) -> str:
        """The wrapped agent's display name."""
        return self.inner.display_name()

    def availability(self, environ: Mapping[str, str]) -> Availability:
        """The wrapped agent's availability."""
        return self.inner.availability(environ)

    def tool_calls_so_far(self, ctx: ReviewContext) -> int | None:
        """The wrapped agent's live tool-call count, if it keeps one."""
        return live_tool_calls(self.inner, ctx)

    def key(self, ctx: ReviewContext) -> str:
        """The cache key of this agent for `ctx`."""
        return cache_key(
            self.inner.name,
            self.config.model,
            self.config.effort,
            f"{self.prompt_version}/{__version__}",
            ctx.target.head_sha or ctx.base_sha or "",
            ctx.diff_source.sha256,
            extra=[*self.config.extra_args, ctx.untrusted_text],
        )

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """The cached run, or a fresh one (stored when it succeeded)."""
        key = self.key(ctx)
        hit = self.store.cached_run(key)
        if hit is not None:  # its trace may have been pruned since
            return hit.model_copy(update={"notes": live_notes(hit.notes, ctx.repo_root)})
        run = await self.inner.run(ctx)
        if run.status == "ok":
            self.store.put_run(key, self.redactor.model(run))
        return run
