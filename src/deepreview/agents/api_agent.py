"""A base for model-API agents: one structured-output request per review.

A subclass builds the vendor's request and reads the vendor's response; the base assembles the
prompt within the token budget, posts with retries inside the agent's timeout, parses the
answer and always returns an `AgentRun`. API keys come only from the environment and never
reach the run's output, notes or reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx

from deepreview.agents.answer import Answer
from deepreview.agents.base import AgentBase, AgentKind, Availability
from deepreview.agents.http import ApiError, RetryPolicy, post_json
from deepreview.agents.naming import display_name_for_model
from deepreview.agents.pricing import cost_usd
from deepreview.context import ReviewContext
from deepreview.parse import parse_review
from deepreview.parse.outcome import PARSE_FAILURE, parse_failure
from deepreview.prompt import Prompt, build_prompt
from deepreview.redact import Redactor
from deepreview.schema import AgentRun, Usage

__all__ = ["ApiAgent", "ApiAnswer", "ApiRequest", "MalformedResponseError"]


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request to a model API."""

    url: str
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass(frozen=True)
class ApiAnswer:
    """What a model API response says: the answer text, and why it is unusable if it is."""

    text: str
    model: str | None
    usage: Usage | None
    cost_usd: float | None = None
    error: str | None = None


class MalformedResponseError(ValueError):
    """A 2xx response without the fields the API documents."""


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for tolerant response reading)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int:
    """A token count from a JSON value; 0 when absent or not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _broken_json(text: str) -> bool:
    """Whether a structured-output answer begins as a JSON object but does not parse."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return True
    return False


class ApiAgent(AgentBase):
    """Shared flow of the model-API agents; subclasses set the class attributes and implement
    `request` and `read_answer`."""

    kind: ClassVar[AgentKind] = "ai"
    #: Model used when the configuration names none.
    default_model: ClassVar[str | None] = None
    #: Base URL when neither the configuration nor `base_url_env` gives one.
    default_base_url: ClassVar[str | None] = None
    #: Environment variable that may override the base URL.
    base_url_env: ClassVar[str | None] = None
    #: Prompt budget when the configuration sets no `max_prompt_tokens`.
    default_prompt_tokens: ClassVar[int] = 150_000
    #: Whether an API key is required (a local OpenAI-compatible server may need none).
    key_required: ClassVar[bool] = True
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()

    @property
    def model(self) -> str | None:
        """The configured model, else the default."""
        return self.config.model or self.default_model

    def display_name(self) -> str:
        """Configured name, else derived from the model: "Claude Opus 4.6 (effort: high)"."""
        if self.config.display_name:
            return self.config.display_name
        return display_name_for_model(self.model, self.config.effort) if self.model else self.name

    def availability(self, environ: Mapping[str, str]) -> Availability:
        """Available when a key is set (if required), a base URL and a model are known."""
        if self.key_required:
            avail = super().availability(environ)
            if not avail.available:
                return avail
        if self.base_url(environ) is None:
            return Availability(False, f"set base_url in [agent.{self.name}]")
        if self.model is None:
            return Availability(False, f"set model in [agent.{self.name}]")
        return Availability(True)

    def base_url(self, environ: Mapping[str, str]) -> str | None:
        """The API base URL without a trailing slash."""
        env_url = environ.get(self.base_url_env) if self.base_url_env else None
        url = self.config.base_url or env_url or self.default_base_url
        return url.rstrip("/") if url else None

    def api_key(self, environ: Mapping[str, str]) -> str | None:
        """The first key set among `key_env`."""
        return next((environ[k] for k in self.key_env if environ.get(k)), None)

    def request(self, prompt: Prompt, model: str, base_url: str, key: str | None) -> ApiRequest:
        """The vendor request for `prompt`."""
        raise NotImplementedError

    def read_answer(self, body: Any) -> ApiAnswer:
        """The answer in a 2xx response body; raises MalformedResponseError when it has none."""
        raise NotImplementedError

    def _failed(
        self,
        started: datetime,
        clock: float,
        status: Literal["failed", "timeout", "skipped"],
        reason: str,
        **fields: Any,
    ) -> AgentRun:
        fields.setdefault("model", self.model)
        duration = time.monotonic() - clock
        return AgentRun.failure(
            self, status, reason, started_at=started, duration_s=duration, **fields
        )

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Review the change with one API request; failures become failed or timed-out runs."""
        started, clock = datetime.now(UTC), time.monotonic()
        try:
            return await self._run(ctx, started, clock)
        except Exception as exc:  # a broken request must not lose the other agents' work
            key = self.api_key(ctx.env)
            reason = Redactor.for_keys((key,)).text(f"{type(exc).__name__}: {exc}")[:120]
            return self._failed(started, clock, "failed", reason)

    async def answer(self, ctx: ReviewContext, prompt: Prompt, timeout_s: float) -> Answer:
        """Ask `prompt` (its schema instead of the review's) in one request within `timeout_s`."""
        clock = time.monotonic()
        key, base_url, model = self.api_key(ctx.env), self.base_url(ctx.env), self.model
        if (self.key_required and key is None) or base_url is None or model is None:
            return Answer("failed", reason=self.availability(ctx.env).reason or "not configured")
        try:
            got = await self._ask(prompt, model, base_url, key, timeout_s, [])
        except Exception as exc:  # an answer is data: it never raises
            reason = Redactor.for_keys((key,)).text(f"{type(exc).__name__}: {exc}")[:120]
            return Answer("failed", reason=reason)
        duration = round(time.monotonic() - clock, 3)
        if isinstance(got, tuple):
            return Answer(got[0], reason=got[1], duration_s=duration)
        text = Redactor.for_keys((key,) if key else (), tokens=False).text(got.text)
        run_model = got.model or model
        return Answer(
            "failed" if got.error else "ok",
            text=text,
            model=run_model,
            reason=got.error,
            duration_s=duration,
            cost_usd=got.cost_usd
            if got.cost_usd is not None
            else cost_usd(run_model, got.usage, {}),
        )

    async def _ask(
        self,
        prompt: Prompt,
        model: str,
        base_url: str,
        key: str | None,
        timeout_s: float,
        notes: list[str],
    ) -> ApiAnswer | tuple[Literal["failed", "timeout"], str]:
        """The answer to one request, or (status, reason) when there is none; what happened on
        the way (retries, what the server said) is added to `notes`."""
        secrets = (key,) if key else ()
        call = self.request(prompt, model, base_url, key)
        try:
            async with httpx.AsyncClient(follow_redirects=False) as client:
                response = await post_json(
                    client,
                    call.url,
                    headers=call.headers,
                    payload=call.payload,
                    timeout_s=timeout_s,
                    policy=self.retry_policy,
                    secrets=secrets,
                )
        except ApiError as err:
            if err.attempts > 1:
                notes.append(f"gave up after {err.attempts} attempts")
            if err.detail:
                notes.append(f"server said: {err.detail}")
            return ("timeout" if err.timed_out else "failed"), err.reason
        if response.retried_statuses:
            after = ", ".join(str(s) for s in response.retried_statuses)
            notes.append(
                f"{response.attempts} attempts (retried after {after}; "
                f"waited {response.waited_s:.1f} s)"
            )
        try:
            return self.read_answer(response.body)
        except MalformedResponseError as exc:
            notes.append(Redactor.for_keys(secrets).text(str(exc))[:300])
            return "failed", "malformed API response"

    async def _run(self, ctx: ReviewContext, started: datetime, clock: float) -> AgentRun:
        environ = ctx.env
        key = self.api_key(environ)
        base_url = self.base_url(environ)
        model = self.model
        if (self.key_required and key is None) or base_url is None or model is None:
            reason = self.availability(environ).reason or "not configured"
            return self._failed(started, clock, "skipped", reason)
        budget = self.config.max_prompt_tokens or self.default_prompt_tokens
        prompt = build_prompt(ctx, include_content=True, budget_tokens=budget)
        notes: list[str] = []
        if prompt.omitted:
            shown = ", ".join(prompt.omitted[:5]) + (" ..." if len(prompt.omitted) > 5 else "")
            notes.append(
                f"{len(prompt.omitted)} file(s) partly left out of the prompt "
                f"(budget {budget} tokens): {shown}"
            )
        secrets = (key,) if key else ()
        answer = await self._ask(prompt, model, base_url, key, self.config.timeout_s, notes)
        if isinstance(answer, tuple):
            return self._failed(started, clock, answer[0], answer[1], notes=notes)
        run_model = answer.model or model
        fields: dict[str, Any] = {
            "model": run_model,
            "usage": answer.usage,
            "cost_usd": answer.cost_usd
            if answer.cost_usd is not None
            else cost_usd(run_model, answer.usage, {}),
            "cost_reported": answer.cost_usd is not None,
            "files_read": [p for p in ctx.diff.paths if p not in prompt.omitted],
            "raw_output": Redactor.for_keys(secrets, tokens=False).text(answer.text),
            "notes": notes,
        }
        if answer.error is not None:
            return self._failed(started, clock, "failed", answer.error, **fields)
        if _broken_json(answer.text):
            notes.append("the answer starts as JSON but is not valid JSON")
            return self._failed(started, clock, "failed", PARSE_FAILURE, **fields)
        review = parse_review(fields["raw_output"])
        if parse_failure(fields["raw_output"], review, None):
            notes.extend(review.parse_notes[:3])
            return self._failed(started, clock, "failed", PARSE_FAILURE, **fields)
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            kind=self.kind,
            family=self.family,
            effort=self.config.effort,
            status="ok",
            started_at=started,
            duration_s=time.monotonic() - clock,
            review=review,
            **fields,
        )
