"""The Gemini API (`generateContent`) as a reviewer, with JSON Schema output."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

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

__all__ = ["GeminiApiAgent"]

_REFUSALS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)


class GeminiApiAgent(ApiAgent):
    """`POST {base}/v1beta/models/{model}:generateContent` with `responseJsonSchema`."""

    name: ClassVar[str] = "gemini-api"
    family: ClassVar[str | None] = "Google"
    key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    default_model: ClassVar[str | None] = "gemini-2.5-pro"
    default_base_url: ClassVar[str | None] = "https://generativelanguage.googleapis.com"
    default_prompt_tokens: ClassVar[int] = 400_000

    def request(self, prompt: Prompt, model: str, base_url: str, key: str | None) -> ApiRequest:
        """The generateContent request with the review schema as the response schema."""
        generation: dict[str, Any] = {
            "responseMimeType": "application/json",
            "responseJsonSchema": prompt.schema or review_json_schema(strict=False),
        }
        if self.config.effort:
            generation["thinkingConfig"] = {"thinkingLevel": self.config.effort}
        headers = {"content-type": "application/json"}
        if key:
            headers["x-goog-api-key"] = key
        model_id = quote(model.removeprefix("models/"), safe="")
        return ApiRequest(
            url=f"{base_url}/v1beta/models/{model_id}:generateContent",
            headers=headers,
            payload={
                "systemInstruction": {"parts": [{"text": prompt.system}]},
                "contents": [{"role": "user", "parts": [{"text": prompt.user}]}],
                "generationConfig": generation,
            },
        )

    def read_answer(self, body: Any) -> ApiAnswer:
        """The first candidate's text parts (thoughts excluded), usage, and failures for
        blocked prompts, safety stops and truncation."""
        data = as_dict(body)
        meta = as_dict(data.get("usageMetadata"))
        thoughts = as_int(meta.get("thoughtsTokenCount"))
        usage = Usage(
            input_tokens=as_int(meta.get("promptTokenCount")),
            output_tokens=as_int(meta.get("candidatesTokenCount")) + thoughts,
            cached_input_tokens=as_int(meta.get("cachedContentTokenCount")),
            reasoning_tokens=thoughts,
        )
        version = data.get("modelVersion")
        model = version if isinstance(version, str) else None
        candidates = data.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            if as_dict(data.get("promptFeedback")).get("blockReason"):
                return ApiAnswer(text="", model=model, usage=usage, error="refusal")
            raise MalformedResponseError("response has no `candidates`")
        first = as_dict(candidates[0])
        parts = as_dict(first.get("content")).get("parts")
        text = "".join(
            str(part.get("text", ""))
            for part in (parts if isinstance(parts, list) else [])
            if isinstance(part, dict) and not part.get("thought")
        )
        reason = str(first.get("finishReason", ""))
        error = None
        if reason == "MAX_TOKENS":
            error = "max_tokens: answer truncated"
        elif reason in _REFUSALS:
            error = "refusal"
        return ApiAnswer(text=text, model=model, usage=usage, error=error)
