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
    """While active, SIGTERM raises SIGINT: asyncio cancels the review, so agents' process
    groups are killed and the worktree is removed. Yields the SIGTERMs received."""
    received: list[int] = []

    def on_sigterm(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)
