"""Live progress: a rich table on a terminal, plain log lines otherwise.

Logs are written for CI: a heartbeat per running agent (`claude: running 5m12s of 15m, 14 tool
calls`), the agent phase in a collapsible group (`::group::` on GitHub Actions, a section on
GitLab CI), each failure as an annotation on GitHub, and lines that are never wrapped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import TracebackType
from typing import Literal

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from deepreview.runner import ProgressEvent
from deepreview.words import plural

LogStyle = Literal["plain", "github", "gitlab"]

_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "ok": "green",
    "cached": "green",
    "failed": "red",
    "timeout": "red",
    "skipped": "yellow",
}
_SECTION = "deepreview_agents"


def log_style(environ: Mapping[str, str]) -> LogStyle:
    """The CI log dialect of this environment."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if environ.get("GITLAB_CI") == "true":
        return "gitlab"
    return "plain"


def console(*, stderr: bool = False, quiet: bool = False) -> Console:
    """A console that, when not on a terminal, never wraps lines (CI logs are read whole)."""
    out = Console(stderr=stderr, quiet=quiet)
    if not out.is_terminal:
        out.soft_wrap = True
    return out


def clock(seconds: float) -> str:
    """`42s`, `5m12s`, `15m`, `1h02m`."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _escape_command(text: str) -> str:
    """Text safe inside a GitHub workflow command (no line breaks, no injected commands)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class Progress:
    """Receives ProgressEvents; use as a context manager around the review."""

    def __init__(self, console: Console, style: LogStyle = "plain") -> None:
        self.console = console
        self.style = style
        self.live_mode = console.is_terminal and not console.quiet
        self.rows: dict[str, ProgressEvent] = {}
        self.started: dict[str, float] = {}
        self._live: Live | None = None
        self._t0 = time.monotonic()
        self._grouped = False

    def __call__(self, event: ProgressEvent) -> None:
        if event.state == "running" and not event.heartbeat:
            self.started[event.agent] = time.monotonic()
        if event.heartbeat and self.rows.get(event.agent, event).state != "running":
            return  # the agent finished while its heartbeat was on its way
        self.rows[event.agent] = event
        if self._live is not None:
            self._live.update(self._table())
        elif event.state != "queued":
            self._log(event)

    def _print(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def _open_group(self) -> None:
        if self._grouped or self._live is not None:
            return
        self._grouped = True
        if self.style == "github":
            self._print("::group::deepreview: agents")
        elif self.style == "gitlab":
            self._print(
                f"\x1b[0Ksection_start:{int(time.time())}:{_SECTION}[collapsed=true]"
                "\r\x1b[0Kdeepreview: agents"
            )

    def _close_group(self) -> None:
        if not self._grouped:
            return
        self._grouped = False
        if self.style == "github":
            self._print("::endgroup::")
        elif self.style == "gitlab":
            self._print(f"\x1b[0Ksection_end:{int(time.time())}:{_SECTION}\r\x1b[0K")

    def _log(self, e: ProgressEvent) -> None:
        self._open_group()
        stamp = f"[{time.monotonic() - self._t0:7.1f}s]"
        if e.heartbeat:
            line = f"{stamp} {e.display_name}: running {clock(e.elapsed_s)}"
            if e.timeout_s:
                line += f" of {clock(e.timeout_s)}"
            if e.tool_calls is not None:
                line += f", {e.tool_calls} tool call{'' if e.tool_calls == 1 else 's'}"
            self._print(line)
            return
        extra = ""
        if e.findings is not None:
            extra = f" ({plural(e.findings, 'finding')})"
        if e.reason:
            extra += f" — {e.reason}"
        self._print(f"{stamp} {e.display_name}: {e.state}{extra}")  # agent text is not markup
        if self.style == "github" and e.state in ("failed", "timeout"):
            title = _escape_command(f"deepreview: {e.display_name} {e.state}").replace(",", "%2C")
            self._print(f"::error title={title}::{_escape_command(e.reason or e.state)}")

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
        self._close_group()
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None
