"""Vendor families and how agreement between agents is worded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deepreview.schema import AgentRun, ConsolidatedFinding

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: Titles in one-sentence reasons are cut to about this many characters.
SHORT_TITLE = 60


def family_of(run: AgentRun, families: Mapping[str, str]) -> str:
    """The vendor whose opinion `run` represents: the longest configured prefix of its model or
    display name, else the family its agent declares, else the agent stands alone."""
    names = [n.lower() for n in (run.model or "", run.display_name) if n]
    matches = sorted(
        (-len(prefix), prefix, family)
        for prefix, family in families.items()
        if prefix and any(n.startswith(prefix.lower()) for n in names)
    )
    if matches:
        return matches[0][2]
    return run.family or run.display_name


def number_word(n: int) -> str:
    """`two` for 2; digits beyond ten."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def agreement(agents: Sequence[str], total: int, families: Mapping[str, str]) -> str:
    """`raised by ruff`, `two agents agree`, `all three agents agree, two vendors`.

    `total` is how many agents contributed reviews; `families` maps display name to vendor,
    and agents of one vendor count as one opinion.
    """
    if len(agents) <= 1:
        return f"raised by {agents[0]}" if agents else "raised by no agent"
    n = len(agents)
    if n == total:
        text = "both agents agree" if n == 2 else f"all {number_word(n)} agents agree"
    else:
        text = f"{number_word(n)} agents agree"
    vendors = len({families.get(a, a) for a in agents})
    if vendors < n:
        text += f", {number_word(vendors)} vendor{'s' if vendors > 1 else ''}"
    return text


def short_title(title: str) -> str:
    """The title without a trailing period, cut at a word boundary to about SHORT_TITLE."""
    text = " ".join(title.split()).rstrip(".")
    if len(text) <= SHORT_TITLE:
        return text
    return text[:SHORT_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def mention(finding: ConsolidatedFinding, total: int, families: Mapping[str, str]) -> str:
    """`I1 “Short title” (two agents agree)`."""
    title = short_title(finding.title)
    title = title[:1].upper() + title[1:]
    return f"{finding.id} “{title}” ({agreement(finding.agents, total, families)})"


def join_words(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
