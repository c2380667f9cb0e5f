"""Cost of a model call from its token usage and a price table (USD per million tokens)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from deepreview.schema import Usage

__all__ = ["BUILTIN_PRICES", "cost_usd"]

#: Model id -> (input, output) USD per million tokens, from the vendors' price pages.
#: Cached input is charged at a tenth of the input price.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-5": (5.0, 25.0),
    "claude-opus-4-8": (5.0, 25.0),
    "claude-opus-4-7": (5.0, 25.0),
    "claude-opus-4-6": (5.0, 25.0),
    "claude-opus-4-5": (5.0, 25.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "gpt-5.4": (2.5, 15.0),
    "gpt-5": (1.25, 10.0),
}

_CACHED_INPUT_FACTOR = 0.1


_DATE_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


def _price(model: str, table: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The price of `model`, or of the same id without its date suffix."""
    return table.get(model) or table.get(_DATE_SUFFIX.sub("", model))


def cost_usd(
    model: str | None, usage: Usage | None, prices: Mapping[str, tuple[float, float]]
) -> float | None:
    """USD cost of `usage`, with `prices` (from the configuration) taking precedence over the
    built-in table; None when the model has no known price.

    `usage.input_tokens` counts all input, `cached_input_tokens` the part of it read from a
    cache (charged at a tenth); `output_tokens` includes any reasoning tokens.
    """
    if model is None or usage is None:
        return None
    price = _price(model, prices) or _price(model, BUILTIN_PRICES)
    if price is None:
        return None
    per_in, per_out = price
    total = (
        max(0, usage.input_tokens - usage.cached_input_tokens) * per_in
        + usage.cached_input_tokens * per_in * _CACHED_INPUT_FACTOR
        + usage.output_tokens * per_out
    )
    return round(total / 1_000_000, 6)
