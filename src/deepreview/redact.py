"""Keep secrets out of reports, logs and caches.

Two nets: the values of credential-like environment variables, and well-known token shapes
(which also catch a key an agent quotes from the reviewed code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from deepreview.agents.base import is_secret_name

MIN_SECRET_LEN = 8

#: Well-known credential formats, by kind. Used to mask text and, by `scan`, to find secrets.
KNOWN_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("GitHub token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Slack webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("Stripe secret key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}\b")),
    ("OpenAI or Anthropic key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b")),
    ("JSON Web Token", re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")),
)
#: A whole private-key block (or its unterminated start).
PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = (
    PRIVATE_KEY_BLOCK,
    *(pattern for _, pattern in KNOWN_TOKENS),
)

M = TypeVar("M", bound=BaseModel)


def mask(secret: str) -> str:
    """A secret shown safely: its first four characters and an ellipsis."""
    return f"{secret[:4]}…[redacted]"


class Redactor:
    """Replaces known secret values and token shapes in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(v) for v in values)) if values else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Redactor:
        """A redactor for every credential-like variable of `environ`."""
        return cls(v for k, v in environ.items() if is_secret_name(k))

    def text(self, text: str) -> str:
        """`text` with secrets masked."""
        if self._literal is not None:
            text = self._literal.sub("[redacted]", text)
        for pat in TOKEN_PATTERNS:
            text = pat.sub(lambda m: mask(m.group(0)), text)
        return text

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v) for k, v in value.items()}
        return value

    def model(self, obj: M) -> M:
        """A copy of a pydantic model with every string field redacted."""
        data = self._walk(obj.model_dump(mode="python"))
        return type(obj).model_validate(data)
