"""Live progress: a rich table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from deepreview.runner import ProgressEvent
from deepreview.words import plural

_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "ok": "green",
    "cached": "green",
    "failed": "red",
    "timeout": "red",
    "skipped": "yellow",
}


class Progress:
    """Receives ProgressEvents; use as a context manager around the review."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live_mode = console.is_terminal
        self.rows: dict[str, ProgressEvent] = {}
        self.started: dict[str, float] = {}
        self._live: Live | None = None
        self._t0 = time.monotonic()

    def __call__(self, event: ProgressEvent) -> None:
        if event.state == "running":
            self.started[event.agent] = time.monotonic()
        self.rows[event.agent] = event
        if self._live is not None:
            self._live.update(self._table())
        elif event.state != "queued":
            self._log(event)

    def _log(self, e: ProgressEvent) -> None:
        stamp = f"[{time.monotonic() - self._t0:7.1f}s]"
        extra = ""
        if e.findings is not None:
            extra = f" ({plural(e.findings, 'finding')})"
        if e.reason:
            extra += f" — {e.reason}"
        line = f"{stamp} {e.display_name}: {e.state}{extra}"
        self.console.print(line, highlight=False, markup=False)  # agent text is not markup

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False)
        for col in ("agent", "state", "elapsed", "findings"):
            table.add_column(col)
        now = time.monotonic()
        for name, e in self.rows.items():
            if e.state == "running" and name in self.started:
                elapsed = now - self.started[name]
            else:
                elapsed = e.elapsed_s
            state = e.state + (f" ({escape(e.reason)})" if e.reason else "")
            table.add_row(
                e.display_name,
                f"[{_STYLE.get(e.state, '')}]{state}[/]",
                f"{elapsed:5.1f}s" if e.state != "queued" else "",
                "" if e.findings is None else str(e.findings),
            )
        return table

    def __enter__(self) -> Progress:
        if self.live_mode:
            self._live = Live(
                self._table(),
                console=self.console,
                refresh_per_second=4,
                get_renderable=self._table,
                transient=False,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None
