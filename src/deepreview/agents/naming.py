"""Readable display names from model ids: `claude-opus-4-6` -> "Claude Opus 4.6"."""

from __future__ import annotations

import re

__all__ = ["display_name_for_model"]

_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")
_CONTEXT_SUFFIX = re.compile(r"\[[^\]]*\]$")
_SPECIAL = {"gpt": "GPT", "oss": "OSS", "claude": "Claude", "gemini": "Gemini"}
_OPENAI_FIRST = re.compile(r"^(gpt|o\d+|codex|chatgpt)$")


def _word(token: str) -> str:
    if token in _SPECIAL:
        return _SPECIAL[token]
    if re.fullmatch(r"o\d+", token) or not token[:1].isalpha():
        return token  # OpenAI o-series ("o3") and sizes ("32b") stay as written
    return token[:1].upper() + token[1:]


def display_name_for_model(model: str, effort: str | None = None) -> str:
    """Vendor and model for the Reviewers line, e.g. "OpenAI GPT 5.4 (effort: high)".

    Provider prefixes (`models/`, `openai/`) and date suffixes are dropped; consecutive version
    numbers are joined with dots (`4-6` -> `4.6`).
    """
    name = _CONTEXT_SUFFIX.sub("", model.strip().rsplit("/", 1)[-1].lower())
    name = _DATE_SUFFIX.sub("", name)
    tokens = [t for t in re.split(r"[-_:\s]+", name) if t]
    merged: list[str] = []
    for token in tokens:
        if (
            merged
            and re.fullmatch(r"\d{1,2}", token)
            and re.fullmatch(r"\d{1,2}(\.\d{1,2})*", merged[-1])
        ):
            merged[-1] += "." + token
        else:
            merged.append(token)
    if not merged:
        return model
    words = [_word(t) for t in merged]
    if _OPENAI_FIRST.match(merged[0]):
        words.insert(0, "OpenAI")
    label = " ".join(words)
    return f"{label} (effort: {effort})" if effort else label
