"""The Anthropic Messages API as a reviewer, with JSON Schema structured output."""

from __future__ import annotations

from typing import Any, ClassVar

from deepreview.agents.api_agent import (
    ApiAgent,
    ApiAnswer,
    ApiRequest,
    MalformedResponseError,
    as_dict,
    as_int,
)
from deepreview.prompt import Prompt, review_json_schema
from deepreview.schema import Usage

__all__ = ["AnthropicApiAgent"]

_STOP_ERRORS = {
    "refusal": "refusal",
    "max_tokens": "max_tokens: answer truncated",
    "model_context_window_exceeded": "context window exceeded",
}


class AnthropicApiAgent(ApiAgent):
    """`POST {base}/v1/messages` with `output_config.format` json_schema."""

    name: ClassVar[str] = "anthropic-api"
    family: ClassVar[str | None] = "Anthropic"
    key_env: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY",)
    default_model: ClassVar[str | None] = "claude-opus-4-6"
    default_base_url: ClassVar[str | None] = "https://api.anthropic.com"
    base_url_env: ClassVar[str | None] = "ANTHROPIC_BASE_URL"
    default_prompt_tokens: ClassVar[int] = 150_000
    #: Output limit of one answer; larger non-streaming requests risk the API's time limit.
    max_output_tokens: ClassVar[int] = 16_000

    def request(self, prompt: Prompt, model: str, base_url: str, key: str | None) -> ApiRequest:
        """The Messages request with the review schema as structured output."""
        output_config: dict[str, Any] = {
            "format": {
                "type": "json_schema",
                "schema": prompt.schema or review_json_schema(strict=True),
            }
        }
        if self.config.effort:
            output_config["effort"] = self.config.effort
        headers = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
        if key:
            headers["x-api-key"] = key
        return ApiRequest(
            url=f"{base_url}/v1/messages",
            headers=headers,
            payload={
                "model": model,
                "max_tokens": self.max_output_tokens,
                "system": prompt.system,
                "messages": [{"role": "user", "content": prompt.user}],
                "output_config": output_config,
            },
        )

    def read_answer(self, body: Any) -> ApiAnswer:
        """Text blocks of the message, its usage, and a failure for refusals and truncation."""
        msg = as_dict(body)
        content = msg.get("content")
        if not isinstance(content, list):
            raise MalformedResponseError("response has no `content` list")
        text = "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
        raw_usage = as_dict(msg.get("usage"))
        cached = as_int(raw_usage.get("cache_read_input_tokens"))
        usage = Usage(
            input_tokens=as_int(raw_usage.get("input_tokens"))
            + as_int(raw_usage.get("cache_creation_input_tokens"))
            + cached,
            output_tokens=as_int(raw_usage.get("output_tokens")),
            cached_input_tokens=cached,
        )
        model = msg.get("model")
        return ApiAnswer(
            text=text,
            model=model if isinstance(model, str) else None,
            usage=usage,
            error=_STOP_ERRORS.get(str(msg.get("stop_reason"))),
        )
