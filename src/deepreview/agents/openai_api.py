"""OpenAI Chat Completions as a reviewer (strict JSON Schema output), and any server that
speaks the same wire format (Ollama, llama.cpp `llama-server`, vLLM, gateways)."""

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

__all__ = ["OpenAIApiAgent", "OpenAICompatibleAgent"]

_FINISH_ERRORS = {
    "length": "max_tokens: answer truncated",
    "content_filter": "refusal",
}


class OpenAIApiAgent(ApiAgent):
    """`POST {base}/chat/completions` with `response_format` json_schema, strict."""

    name: ClassVar[str] = "openai-api"
    family: ClassVar[str | None] = "OpenAI"
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    default_model: ClassVar[str | None] = "gpt-5.4"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    base_url_env: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_prompt_tokens: ClassVar[int] = 200_000

    def request(self, prompt: Prompt, model: str, base_url: str, key: str | None) -> ApiRequest:
        """The Chat Completions request with the strict review schema."""
        payload: dict[str, Any] = {
            "model": model,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "code_review",
                    "schema": prompt.schema or review_json_schema(strict=True),
                    "strict": True,
                },
            },
        }
        if self.config.effort:
            payload["reasoning_effort"] = self.config.effort
        headers = {"content-type": "application/json"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        return ApiRequest(url=f"{base_url}/chat/completions", headers=headers, payload=payload)

    def read_answer(self, body: Any) -> ApiAnswer:
        """The first choice's content, its usage, and a failure for refusals and truncation."""
        data = as_dict(body)
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedResponseError("response has no `choices`")
        message = as_dict(choices[0].get("message"))
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        error = _FINISH_ERRORS.get(str(choices[0].get("finish_reason")))
        if message.get("refusal"):
            error = "refusal"
        raw_usage = as_dict(data.get("usage"))
        usage = Usage(
            input_tokens=as_int(raw_usage.get("prompt_tokens")),
            output_tokens=as_int(raw_usage.get("completion_tokens")),
            cached_input_tokens=as_int(
                as_dict(raw_usage.get("prompt_tokens_details")).get("cached_tokens")
            ),
            reasoning_tokens=as_int(
                as_dict(raw_usage.get("completion_tokens_details")).get("reasoning_tokens")
            ),
        )
        cost = raw_usage.get("cost")  # gateways such as OpenRouter report it
        model = data.get("model")
        return ApiAnswer(
            text=text,
            model=model if isinstance(model, str) else None,
            usage=usage,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            error=error,
        )


class OpenAICompatibleAgent(OpenAIApiAgent):
    """A self-hosted or third-party server with the OpenAI wire format. Needs `base_url` and
    `model` in its configuration; the key (OPENAI_COMPATIBLE_API_KEY) is optional."""

    name: ClassVar[str] = "openai-compatible"
    #: A local model is its own family unless `model_families` names one.
    family: ClassVar[str | None] = None
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_COMPATIBLE_API_KEY",)
    key_required: ClassVar[bool] = False
    default_enabled: ClassVar[bool] = False
    default_model: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    #: Local models often have small context windows; raise with `max_prompt_tokens`.
    default_prompt_tokens: ClassVar[int] = 24_000
