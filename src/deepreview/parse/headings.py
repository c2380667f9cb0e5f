"""What a review's section heading names: `### Important Issues`, `**Concerns**`, `## Verdict`."""

from __future__ import annotations

import re
from typing import Literal

SectionKind = Literal[
    "summary",
    "findings",
    "critical",
    "important",
    "suggestion",
    "design",
    "concerns",
    "strengths",
    "testing",
    "documentation",
    "commits",
    "limitations",
    "coverage",
    "verdict",
    "prior",
    "unresolved",
]

#: Kinds that set the severity of the findings below them.
SEVERITY_KINDS: frozenset[SectionKind] = frozenset({"critical", "important", "suggestion"})

_ISSUES = r"(?:\s+(?:issues?|findings?|problems?|severity|improvements?))?"
_PATTERNS: tuple[tuple[SectionKind, str], ...] = (
    ("verdict", r"verdict\b.*|recommendation|decision|merge decision"),
    ("prior", r"(?:previous|prior|earlier)(?: round| review)? findings\b.*|prior round.*"),
    ("unresolved", r"unresolved (?:feedback|comments|review comments)"),
    ("coverage", r"(?:file )?coverage(?: summary)?|files reviewed|review coverage"),
    ("limitations", r"(?:acknowledged |known )?limitations"),
    ("testing", r"test(?:ing|s)?(?: assessment| coverage| gaps?)?|untested scenarios.*"),
    ("documentation", r"doc(?:umentation|s)?(?: assessment)?"),
    ("commits", r"commits?(?: structure| messages?| history)?"),
    ("concerns", r"(?:design )?concerns?"),
    ("strengths", r"strengths?|positives?|what(?:'s| is) good|what works well"),
    ("design", r"design(?: observations?| notes| review)?|architecture(?: observations?)?"),
    ("critical", rf"(?:critical|blockers?|blocking){_ISSUES}"),
    ("important", rf"(?:important|major|high){_ISSUES}"),
    ("suggestion", rf"(?:suggestions?|minor|nits?|nitpicks?|low|optional){_ISSUES}"),
    ("findings", r"(?:review |detailed )?findings\b.*|issues(?: found)?|problems"),
    ("summary", r"(?:executive )?summary|overview|tl;?dr"),
)
_COMPILED = tuple((kind, re.compile(rf"^(?:{pat})$")) for kind, pat in _PATTERNS)


def normalize_heading(text: str) -> str:
    """A heading's title without emphasis, numbering, trailing colon or parenthetical."""
    t = re.sub(r"[*_`]+", "", text).strip()
    t = re.sub(r"^(?:\d+\.|[A-Z]\.|[ivx]+\.)\s+", "", t)
    t = re.sub(r"\s*\([^)]*\)\s*$", "", t)
    return t.strip().rstrip(":.").strip().lower()


def classify(text: str) -> SectionKind | None:
    """The section kind a heading names, or None for any other heading."""
    t = normalize_heading(text)
    if not t or len(t) > 60:
        return None
    for kind, pattern in _COMPILED:
        if pattern.match(t):
            return kind
    return None
