"""Renderers: one module per output format, all reading only the `Report`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from deepreview.schema import Report

Renderer = Callable[[Report], str]

#: Output format -> "module:function" of its renderer, imported when first used.
#: A new format is one module and one line here.
RENDERERS: dict[str, str] = {
    "md": "deepreview.render.markdown:render_markdown",
    "json": "deepreview.render.json:render_json",
    "html": "deepreview.render.html:render_html",
    "sarif": "deepreview.render.sarif:render_sarif",
}


def renderer(fmt: str) -> Renderer:
    """The renderer of format `fmt`."""
    target = RENDERERS.get(fmt)
    if target is None:
        known = ", ".join(sorted(RENDERERS))
        raise UnknownFormatError(f"unknown report format {fmt!r}; choose one of: {known}")
    module, _, name = target.partition(":")
    fn: Renderer = getattr(importlib.import_module(module), name)
    return fn


class UnknownFormatError(ValueError):
    """No renderer is registered for the requested format."""


def render(report: Report, fmt: str) -> str:
    """The report in format `fmt` (one of `RENDERERS`)."""
    return renderer(fmt)(report)


__all__ = ["RENDERERS", "Renderer", "UnknownFormatError", "render", "renderer"]
