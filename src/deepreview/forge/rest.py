"""The JSON REST transport both forge clients share: bounded retries, one-line errors.

A forge's client names itself, its error class and its authentication hint, and may refine when
to retry (`retry_wait`) and how to read an error answer (`message`, `detail`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import httpx

from deepreview.forge.base import ForgeError


class RestClient:
    """A small JSON REST client; the token goes only into the headers a subclass builds."""

    forge: ClassVar[str]
    error: ClassVar[type[ForgeError]]
    auth_hint: ClassVar[str]
    max_attempts = 4
    max_retry_wait_s = 60.0
    timeout_s = 30.0

    def __init__(
        self,
        api_url: str,
        headers: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        follow_redirects: bool = False,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.api_url + "/",
            headers=dict(headers),
            transport=transport,
            timeout=self.timeout_s,
            follow_redirects=follow_redirects,
        )
        self._host = urlsplit(self.api_url).netloc

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Send one request (`path` relative to the API root) and return the decoded JSON."""
        return self.decode(self.send(method, path, json=json, params=params), method, path)

    def send(
        self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """Send, retrying while `retry_wait` says so, at most `max_attempts` times."""
        label = urlsplit(url).path if "://" in url else url
        attempt = 1
        while True:
            try:
                response = self._http.request(method, url, json=json, params=params)
            except httpx.TimeoutException as exc:
                raise self.error(f"{self.forge}: {method} {label} timed out") from exc
            except httpx.TransportError as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise self.error(f"{self.forge}: cannot reach {self._host}: {reason}") from exc
            wait = self.retry_wait(response, attempt, method, label)
            if wait is None or attempt >= self.max_attempts:
                return response
            time.sleep(wait)
            attempt += 1

    def retry_wait(
        self, response: httpx.Response, attempt: int, method: str, label: str
    ) -> float | None:
        """Seconds before retrying, or None when the answer is final: 429 always, 5xx unless
        the request is a POST (not safe to repeat); `Retry-After` is honoured."""
        status = response.status_code
        if status != 429 and (status < 500 or method == "POST"):
            return None
        wait = response.headers.get("retry-after", "")
        seconds = float(wait) if wait.isdigit() else 0.5 * 2 ** (attempt - 1)
        return min(seconds, self.max_retry_wait_s)

    def message(self, response: httpx.Response) -> str:
        """The error answer's own message, on one line."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            detail = data.get("message") or data.get("error") or response.reason_phrase
            return " ".join(str(detail).split())
        return response.reason_phrase or "error"

    def detail(self, response: httpx.Response) -> str:
        """The error's message as the one-line error shows it (a subclass adds rate limits)."""
        return self.message(response)

    def decode(self, response: httpx.Response, method: str, path: str) -> Any:
        """The JSON of a successful response; the forge's error with a one-line message
        otherwise."""
        status = response.status_code
        if status == 401:
            raise self.error(f"{self.forge}: authentication failed ({self.auth_hint})", 401)
        if status >= 400:
            raise self.error(
                f"{self.forge}: {status} {self.detail(response)} ({method} {path})", status
            )
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise self.error(
                f"{self.forge}: {method} {path} answered with something other than JSON"
            ) from exc
