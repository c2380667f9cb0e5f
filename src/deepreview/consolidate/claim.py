"""A grounded agent finding: the unit clustering and severity work on."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepreview.consolidate.fingerprint import words_fingerprint
from deepreview.consolidate.similarity import Vector
from deepreview.schema import Finding, Location


@dataclass(slots=True)
class Claim:
    """One agent's finding after grounding, with what clustering compares precomputed."""

    order: int
    run_index: int
    agent: str
    kind: str
    family: str
    finding: Finding
    locations: list[Location]
    notes: list[str]
    title_key: str
    symbols: frozenset[str]
    excerpt_key: str
    #: Title and body as a TF-IDF vector over all claims of the consolidation.
    vector: Vector = field(default_factory=dict)
    #: The primary location's path.
    path: str | None = field(init=False)
    #: The primary location's file name.
    file_name: str | None = field(init=False)
    #: First and last line of the primary location, if it has lines.
    span: tuple[int, int] | None = field(init=False)
    #: The content words of the title.
    words: frozenset[str] = field(init=False)
    #: Whether the claim comes from an analyzer or a built-in check (not a model).
    deterministic: bool = field(init=False)
    #: The finding's own fingerprint (primary path, category, title).
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        primary = self.locations[0] if self.locations else None
        self.path = primary.path if primary is not None else None
        self.file_name = self.path.rsplit("/", 1)[-1] if self.path is not None else None
        start = primary.start_line if primary is not None else None
        end = primary.end_line if primary is not None else None
        self.span = None if start is None else (start, max(end or start, start))
        self.words = frozenset(self.title_key.split())
        self.deterministic = self.kind in ("analyzer", "builtin")
        self.fingerprint = words_fingerprint(self.path, self.words, self.finding.category)
