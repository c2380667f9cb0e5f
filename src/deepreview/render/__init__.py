"""Renderers: one module per output format, all reading only the `Report`."""

from __future__ import annotations

from collections.abc import Callable

from deepreview.render.html import render_html
from deepreview.render.json import render_json
from deepreview.render.markdown import render_markdown
from deepreview.render.sarif import render_sarif
from deepreview.schema import Report

Renderer = Callable[[Report], str]

#: Output format -> renderer. A new format is one module and one line here.
RENDERERS: dict[str, Renderer] = {
    "md": render_markdown,
    "json": render_json,
    "html": render_html,
    "sarif": render_sarif,
}


class UnknownFormatError(ValueError):
    """No renderer is registered for the requested format."""


def render(report: Report, fmt: str) -> str:
    """The report in format `fmt` (one of `RENDERERS`)."""
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        known = ", ".join(sorted(RENDERERS))
        raise UnknownFormatError(f"unknown report format {fmt!r}; choose one of: {known}")
    return renderer(report)


__all__ = ["RENDERERS", "Renderer", "UnknownFormatError", "render"]
