"""Agents that answer a one-off question besides reviewing: the question's prompt carries its
own answer schema (`Prompt.schema`), and the reply is an `Answer`, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from deepreview.context import ReviewContext
from deepreview.prompt import Prompt

AnswerStatus = Literal["ok", "failed", "timeout"]


@dataclass(frozen=True)
class Answer:
    """An agent's reply: its text and structured object, or why there is none."""

    status: AnswerStatus
    text: str = ""
    structured: dict[str, Any] | None = None
    model: str | None = None
    reason: str | None = None
    duration_s: float = 0.0
    cost_usd: float | None = None
    sandbox: str | None = None


@runtime_checkable
class Answerer(Protocol):
    """An agent that can answer a question (CLI and model-API agents)."""

    async def answer(self, ctx: ReviewContext, prompt: Prompt, timeout_s: float) -> Answer:
        """Ask `prompt` in `ctx` within `timeout_s`; failures are an Answer with a reason."""
        ...
