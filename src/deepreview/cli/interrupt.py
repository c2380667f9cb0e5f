"""SIGTERM handled like Ctrl-C, so that a terminated review cleans up as an interrupted one does."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

#: Exit codes of a review stopped by SIGINT or SIGTERM (128 + signal number).
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[list[int]]:
    """While active, SIGTERM stops the review as Ctrl-C does: through the SIGINT handler in
    force (asyncio's cancels the review, so agents' process groups are killed and the worktree
    is removed), or by raising KeyboardInterrupt when SIGINT is ignored or default, as in a
    review started with `&` from a script. Yields the SIGTERMs received."""
    received: list[int] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)
