"""A real HTTP server on 127.0.0.1 for fake APIs: it records every request and answers from a
queue of scripted replies, or from a handler function.

    with LoopbackServer() as server:
        server.enqueue(Reply(429, {"error": ...}, {"retry-after-ms": "200"}), Reply(200, body))
        ... call server.url ...
        assert server.requests[0].headers["x-api-key"] == "..."
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """A scripted response: a dict or list body is sent as JSON, str and bytes as they are."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str | None = None

    def encoded(self) -> tuple[bytes, str]:
        """The body bytes and their content type."""
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[Recorded], Reply]


class LoopbackServer:
    """A threaded HTTP server on an ephemeral loopback port."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._queue: deque[Reply] = deque()
        self._handler: Handler | None = None
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._request_handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (no trailing slash)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._queue.extend(replies)

    def handle(self, handler: Handler) -> None:
        """Answer requests with `handler` once the queue is empty."""
        self._handler = handler

    def _next_reply(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self._handler is not None:
            return self._handler(request)
        return Reply(500, {"error": {"message": "no reply scripted"}})

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = Recorded(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    at=time.monotonic(),
                )
                reply = server._next_reply(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data, content_type = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. its timeout); nothing to answer

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return _Handler

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class ServedFake:
    """A fake service on a `LoopbackServer`: subclasses answer with `answer`."""

    def __init__(self, first_id: int = 1000) -> None:
        self._server = LoopbackServer()
        self._server.handle(self.answer)
        self._next_id = first_id

    def answer(self, request: Recorded) -> Reply:
        """The reply to one request."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """The server root, without a trailing slash."""
        return self._server.url

    @property
    def requests(self) -> list[Recorded]:
        """Every request received, in order."""
        return self._server.requests

    def fail_next(self, *replies: Reply) -> None:
        """Answer the next requests with these replies before serving state again."""
        self._server.enqueue(*replies)

    def new_id(self) -> int:
        """A fresh object id."""
        self._next_id += 1
        return self._next_id

    def __enter__(self) -> Self:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A running loopback server, stopped after the test."""
    with LoopbackServer() as server:
        yield server
