"""Keep secrets out of reports, logs and caches: the one place that masks them.

Two nets: the values of credential-like environment variables, and well-known token shapes
(which also catch a key an agent quotes from the reviewed code). `mask` is how every masked
value looks; the scan agent shows found secrets with it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

MIN_SECRET_LEN = 8

#: Environment variables that hold credentials. They are removed from every agent's
#: environment and handed back only to the agent that declares it needs them.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|AUTH|PAT)(?:_|$)",
    re.IGNORECASE,
)

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


def is_secret_name(name: str) -> bool:
    """Whether an environment variable name looks like a credential."""
    return bool(_SECRET_NAME.search(name))


def mask(secret: str, label: str = "[redacted]", *, tail: bool = False) -> str:
    """A secret shown safely: its first four characters, an ellipsis and `label`; with `tail`,
    also its last four when it is long enough (16+) to hide anything that way."""
    end = secret[-4:] if tail and len(secret) >= 16 else ""
    return f"{secret[:4]}…{end}{label}"


class Redactor:
    """Replaces known secret values (with `[redacted]`) and, unless `tokens` is false, token
    shapes (with their `mask`) in text."""

    def __init__(
        self, secrets: Iterable[str] = (), *, tokens: bool = True, min_length: int = MIN_SECRET_LEN
    ) -> None:
        values = sorted({s for s in secrets if len(s) >= min_length}, key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(v) for v in values)) if values else None
        self._patterns = TOKEN_PATTERNS if tokens else ()

    @classmethod
    def for_keys(cls, keys: Iterable[str | None], *, tokens: bool = True) -> Redactor:
        """A redactor for credentials known to be secrets (an API key), however short."""
        return cls((k for k in keys if k), tokens=tokens, min_length=1)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Redactor:
        """A redactor for every credential-like variable of `environ`."""
        return cls(v for k, v in environ.items() if is_secret_name(k))

    def text(self, text: str) -> str:
        """`text` with secrets masked."""
        if self._literal is not None:
            text = self._literal.sub("[redacted]", text)
        for pat in self._patterns:
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
