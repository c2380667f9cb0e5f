"""Cost of a model call from its token usage and a price table (USD per million tokens).

One price rule, used by the agents and the pipeline alike: the configured prices first, then
the built-in table; in each, the model's exact id, then the longest prefix of it that the table
names (so `claude-opus-4-8[1m]` and dated ids such as `gpt-5-2026-08-01` find their model).
A cost the agent itself reported wins over a computed one unless the configuration says to
override reported costs.
"""

from __future__ import annotations

from collections.abc import Mapping

from deepreview.schema import AgentRun, Usage

__all__ = ["BUILTIN_PRICES", "cost_usd", "price_of", "priced_run"]

Prices = Mapping[str, tuple[float, float]]

#: Model id -> (input, output) USD per million tokens, standard rates for prompts up to
#: 200k tokens, as the vendors' price pages listed them in 2026-11.
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
    "gpt-6.2-astra": (8.0, 40.0),
    "gpt-6.2-sol": (2.0, 10.0),
    "gpt-6.1-sol": (2.0, 10.0),
    "gpt-6.1-terra": (1.0, 5.0),
    "gpt-6-astra": (10.0, 50.0),
    "gpt-6-sol": (2.0, 10.0),
    "gpt-6-luna": (0.1, 0.5),
    "gpt-5.6-sol": (5.0, 30.0),
    "gpt-5.6-terra": (2.0, 12.0),
    "gpt-5.6-luna": (0.2, 1.2),
    "gpt-5.4": (2.5, 15.0),
    "gpt-5": (1.25, 10.0),
    "gemini-3.8-flash": (0.75, 3.75),
    "gemini-3.5-flash": (1.5, 9.0),
    "gemini-3.5-flash-lite": (0.3, 2.5),
    "gemini-3.1-pro": (2.0, 12.0),
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.3, 2.5),
    "gemini-2.5-flash-lite": (0.1, 0.4),
}

_CACHED_INPUT_FACTOR = 0.1


def _lookup(model: str, table: Prices) -> tuple[float, float] | None:
    """The exact id's price, else the price of the longest prefix of `model` in `table`."""
    if model in table:
        return table[model]
    prefixes = [p for p in table if p and model.startswith(p)]
    return table[max(prefixes, key=len)] if prefixes else None


def price_of(model: str, prices: Prices) -> tuple[float, float] | None:
    """The (input, output) price of `model`: configured `prices`, then the built-in table."""
    model = model.strip().rsplit("/", 1)[-1].lower()
    return _lookup(model, {k.lower(): v for k, v in prices.items()}) or _lookup(
        model, BUILTIN_PRICES
    )


def cost_usd(model: str | None, usage: Usage | None, prices: Prices) -> float | None:
    """USD cost of `usage` under the price rule; None when the model has no known price.

    `usage.input_tokens` counts all input, `cached_input_tokens` the part of it read from a
    cache (charged at a tenth); `output_tokens` includes any reasoning tokens.
    """
    if model is None or usage is None:
        return None
    price = price_of(model, prices)
    if price is None:
        return None
    per_in, per_out = price
    total = (
        max(0, usage.input_tokens - usage.cached_input_tokens) * per_in
        + usage.cached_input_tokens * per_in * _CACHED_INPUT_FACTOR
        + usage.output_tokens * per_out
    )
    return round(total / 1_000_000, 6)


def priced_run(run: AgentRun, prices: Prices, *, override_reported: bool = False) -> AgentRun:
    """`run` with its cost under the price rule; a reported cost is kept unless overridden.

    A run whose model has no price keeps whatever cost it has.
    """
    if run.cost_reported and run.cost_usd is not None and not override_reported:
        return run
    cost = cost_usd(run.model, run.usage, prices)
    if cost is None:
        return run
    return run.model_copy(update={"cost_usd": cost, "cost_reported": False})
