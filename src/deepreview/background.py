"""CPU-bound work off the event loop, in a daemon thread, so that Ctrl-C takes effect at once.

Awaiting `in_background` returns as soon as the awaiting task is cancelled: the thread is
told through its `threading.Event` (work that checks it stops early) and, being a daemon,
never holds the process open at exit. `asyncio.to_thread` would keep the process until the
work finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """Raised by work that saw its cancellation event set."""


def check(cancel: threading.Event | None) -> None:
    """Raise `Cancelled` when the work was cancelled."""
    if cancel is not None and cancel.is_set():
        raise Cancelled


async def in_background(work: Callable[[threading.Event], T], name: str) -> T:
    """`work(cancel)` in a daemon thread; cancelling the await sets `cancel`."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    cancel = threading.Event()

    def deliver(setter: Callable[[Any], None], value: object) -> None:
        def apply() -> None:
            if not future.done():
                setter(value)

        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(apply)

    def run() -> None:
        try:
            result = work(cancel)
        except BaseException as exc:  # handed to the awaiting task
            deliver(future.set_exception, exc)
        else:
            deliver(future.set_result, result)

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        return await future
    except asyncio.CancelledError:
        cancel.set()
        raise
