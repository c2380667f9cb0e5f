"""Design observations, assessments and limitations: merged across agents, with attribution."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from deepreview.consolidate.paths import normalize_path
from deepreview.consolidate.similarity import similarity, squash, text_key
from deepreview.schema import (
    AgentReview,
    AttributedConcern,
    AttributedLimitation,
    AttributedStrength,
    AttributedText,
    DesignConcern,
    Limitation,
    Location,
    Strength,
)

#: Title similarity (0..100) at which two agents' observations are the same point.
SAME_POINT = 75
#: Between two observations of one agent, only near-identical titles merge.
SAME_AGENT_SAME_POINT = 95

Reviews = Sequence[tuple[str, AgentReview]]
T = TypeVar("T", DesignConcern, Strength)


@dataclass
class _Group(Generic[T]):
    key: str
    items: list[T] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)


def _group(entries: list[tuple[str, T]]) -> list[_Group[T]]:
    """Observations grouped by similar title, most-agreed first, then in order of appearance."""
    groups: list[_Group[T]] = []
    for agent, item in entries:
        key = text_key(item.title)
        for g in groups:
            bar = SAME_AGENT_SAME_POINT if agent in g.agents else SAME_POINT
            if similarity(key, g.key) >= bar:
                break
        else:
            g = _Group(key)
            groups.append(g)
        g.items.append(item)
        if agent not in g.agents:
            g.agents.append(agent)
    return sorted(groups, key=lambda g: -len(g.agents))


def _best(items: Sequence[T]) -> T:
    """The most detailed item (longest body, then the first)."""
    return max(items, key=lambda i: len(i.body))


def _locations(items: Sequence[DesignConcern] | Sequence[Strength]) -> list[Location]:
    out: list[Location] = []
    for item in items:
        for loc in item.locations:
            path = normalize_path(loc.path)
            if path is None:
                continue
            fixed = loc.model_copy(update={"path": path})
            if fixed not in out:
                out.append(fixed)
    return out


def merge_concerns(reviews: Reviews) -> list[AttributedConcern]:
    """Design concerns, near-duplicates across agents merged and attributed."""
    out: list[AttributedConcern] = []
    for g in _group([(agent, c) for agent, r in reviews for c in r.concerns]):
        best = _best(g.items)
        out.append(
            AttributedConcern(
                title=best.title,
                body=best.body,
                scope=best.scope,
                locations=_locations(g.items),
                agents=g.agents,
            )
        )
    return out


def merge_strengths(reviews: Reviews) -> list[AttributedStrength]:
    """Strengths, near-duplicates across agents merged and attributed."""
    out: list[AttributedStrength] = []
    for g in _group([(agent, s) for agent, r in reviews for s in r.strengths]):
        best = _best(g.items)
        out.append(
            AttributedStrength(
                title=best.title, body=best.body, locations=_locations(g.items), agents=g.agents
            )
        )
    return out


def texts(reviews: Reviews, pick: Callable[[AgentReview], str]) -> list[AttributedText]:
    """One attributed paragraph per agent that wrote a non-empty one."""
    return [
        AttributedText(agent=agent, text=text)
        for agent, review in reviews
        if (text := pick(review).strip())
    ]


def merge_limitations(reviews: Reviews) -> list[AttributedLimitation]:
    """Acknowledged limitations, deduplicated by location and (whitespace-insensitive) quote."""
    merged: dict[tuple[str, str], tuple[Limitation, list[str]]] = {}
    for agent, review in reviews:
        for lim in review.limitations:
            loc = lim.location
            path = normalize_path(loc.path) if loc is not None else None
            if loc is not None and path is not None:
                loc = loc.model_copy(update={"path": path})
            else:
                loc = None
            key = (loc.label() if loc is not None else "", squash(lim.quote))
            if key not in merged:
                merged[key] = (lim.model_copy(update={"location": loc}), [])
            first, agents = merged[key]
            if not first.judgement and lim.judgement:
                merged[key] = (first.model_copy(update={"judgement": lim.judgement}), agents)
            if agent not in agents:
                agents.append(agent)
    return [
        AttributedLimitation(
            location=lim.location, quote=lim.quote, judgement=lim.judgement, agents=agents
        )
        for lim, agents in merged.values()
    ]
