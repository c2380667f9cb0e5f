"""JSON POST to model APIs with bounded retries: backoff, server-given waits, a total deadline."""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from deepreview.redact import Redactor

__all__ = [
    "RETRY_STATUSES",
    "ApiError",
    "ApiResponse",
    "RetryPolicy",
    "post_json",
    "retry_wait_s",
]

#: Statuses worth another attempt: timeouts, conflicts, rate limits, server errors, overload.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

_STATUS_REASON = {
    400: "bad request",
    401: "authentication failed",
    403: "permission denied",
    404: "not found",
    408: "request timeout",
    409: "conflict",
    413: "request too large",
    422: "unprocessable request",
    429: "rate limited",
    500: "server error",
    502: "bad gateway",
    503: "unavailable",
    504: "gateway timeout",
    529: "overloaded",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. Server-given waits win over the backoff."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0


@dataclass(frozen=True)
class ApiResponse:
    """A successful (2xx) answer."""

    status: int
    body: Any
    attempts: int
    waited_s: float
    retried_statuses: list[int] = field(default_factory=list)


class ApiError(Exception):
    """The API call failed for good; `reason` is short and safe to show ("429 rate limited")."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        detail: str = "",
        attempts: int = 1,
        timed_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.detail = detail
        self.attempts = attempts
        self.timed_out = timed_out


def _error_fields(body: Any) -> tuple[str, str]:
    """(code or type, message) from the error bodies of Anthropic, OpenAI and Gemini."""
    if not isinstance(body, dict):
        return "", ""
    err = body.get("error")
    if isinstance(err, dict):
        code = err.get("code") if isinstance(err.get("code"), str) else err.get("type")
        if not isinstance(code, str):
            code = err.get("status") if isinstance(err.get("status"), str) else ""
        message = err.get("message")
        return str(code or ""), message if isinstance(message, str) else ""
    return "", ""


def _gemini_retry_delay(body: Any) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail, e.g. `"retryDelay": "30s"`."""
    err = body.get("error") if isinstance(body, dict) else None
    details = err.get("details") if isinstance(err, dict) else None
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def retry_wait_s(headers: Mapping[str, str], body: Any = None) -> float | None:
    """The wait the server asks for: `retry-after-ms`, then `Retry-After` (seconds or HTTP date),
    then a Gemini RetryInfo detail; None when it names none."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    after = headers.get("retry-after")
    if after is not None:
        try:
            return max(0.0, float(after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return _gemini_retry_delay(body)


def _parse_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _should_retry(response: httpx.Response, body: Any) -> bool:
    forced = str(response.headers.get("x-should-retry", "")).lower()
    if forced in ("true", "false"):
        return forced == "true"
    code, _ = _error_fields(body)
    if code == "insufficient_quota":
        return False
    return response.status_code in RETRY_STATUSES


def _failure(
    response: httpx.Response, body: Any, secrets: tuple[str, ...], attempts: int
) -> ApiError:
    status = response.status_code
    code, message = _error_fields(body)
    label = "insufficient quota" if code == "insufficient_quota" else None
    label = label or _STATUS_REASON.get(status) or ("server error" if status >= 500 else "error")
    detail = Redactor.for_keys(secrets).text(message or response.text[:300])[:300]
    return ApiError(f"{status} {label}", status=status, detail=detail, attempts=attempts)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    payload: Mapping[str, Any],
    timeout_s: float,
    policy: RetryPolicy | None = None,
    secrets: tuple[str, ...] = (),
) -> ApiResponse:
    """POST `payload` as JSON and return the parsed 2xx body, retrying transient failures.

    Every attempt and wait fits in `timeout_s` in total; a wait that would overrun it ends the
    retries. Raises `ApiError` whose reason and detail never contain `secrets`.
    """
    policy = policy or RetryPolicy()
    deadline = time.monotonic() + timeout_s
    waited = 0.0
    retried: list[int] = []
    attempt = 0
    while True:
        attempt += 1
        remaining = max(0.001, deadline - time.monotonic())
        try:
            response = await client.post(
                url, headers=dict(headers), json=payload, timeout=httpx.Timeout(remaining)
            )
        except httpx.TimeoutException as exc:
            raise ApiError("timeout", attempts=attempt, timed_out=True) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ApiError(
                "invalid base URL", detail=Redactor.for_keys(secrets).text(str(exc))[:300]
            ) from exc
        except httpx.TransportError as exc:
            error: ApiError = ApiError(
                "connection failed",
                detail=Redactor.for_keys(secrets).text(f"{type(exc).__name__}: {exc}")[:300],
                attempts=attempt,
            )
            wait = None
            retryable = True
        else:
            body = _parse_body(response)
            if response.is_success:
                return ApiResponse(response.status_code, body, attempt, waited, retried)
            error = _failure(response, body, secrets, attempt)
            wait = retry_wait_s(response.headers, body)
            retryable = _should_retry(response, body)
            if retryable:
                retried.append(response.status_code)
        if not retryable or attempt >= policy.max_attempts:
            raise error
        if wait is None:
            backoff = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
            wait = backoff * (0.75 + random.random() / 4)  # jitter, not crypto
        if time.monotonic() + wait >= deadline:
            raise error
        await asyncio.sleep(wait)
        waited += wait
