"""An independent reader of a report's consolidated part: the yardstick of the replay benchmark.

It shares no code with the consolidation engine. It reads the consolidated findings (id,
severity, title, locations, first code block, attributed agents), the verdict, the retro
table's "Unique insights" / "Coverage misses" rows and the Reconciliation paragraph, and maps
each consolidated finding to the agents' own findings by location, code excerpt and title words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deepreview.schema import Finding

SEVERITY_OF_LETTER = {"C": "critical", "I": "important", "S": "suggestion"}
_SECTION = re.compile(r"^#{2,4}\s+(?P<title>.+?)\s*$")
_SECTION_SEVERITY = (
    (re.compile(r"^(critical|blockers?)\b", re.I), "C"),
    (re.compile(r"^(important|major)\b", re.I), "I"),
    (re.compile(r"^(suggestions?|minor|nits?)\b", re.I), "S"),
)
_ITEM = re.compile(
    r"^(?:#{2,5}\s+)?(?:(?P<id>[CIS]\d{1,2})|(?P<n>\d{1,2}))[.:)]\s+(?P<strike>~~)?\*\*(?P<title>.+?)\*\*(?P<rest>.*)$"
)
_LOC = re.compile(
    r"`(?P<path>[\w./-]+\.[\w]+|[\w./-]+/[\w.-]+)(?::(?P<a>\d+)(?:-(?P<b>\d+))?)?[^`]*`"
)
_BRACKETS = re.compile(r"\[([^\]]+)\]")
_PAREN_SEVERITY = re.compile(r"\(\*?(critical|important|suggestion)\b", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")
_VERDICT = re.compile(r"\*\*Verdict\*\*\s*\|\s*(?P<v>.+)$", re.I)
_VENDOR = re.compile(r"\b(claude|codex|gemini)\b", re.I)
_WORD = re.compile(r"[a-z0-9_]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "no",
        "not",
        "of",
        "on",
        "or",
        "should",
        "that",
        "the",
        "this",
        "to",
        "was",
        "when",
        "which",
        "will",
        "with",
    ]
)


def vendor(name: str) -> str | None:
    """`claude`, `codex` or `gemini` for an agent name, else None."""
    m = _VENDOR.search(name)
    return m.group(1).lower() if m else None


@dataclass
class RefFinding:
    """One consolidated finding as the report states it."""

    id: str
    severity: str
    title: str
    locations: list[tuple[str, int | None, int | None]]
    excerpt: str
    agents: set[str]
    #: Agent findings attributed to it: (vendor, agent finding id).
    members: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Reference:
    """What the report's own consolidation says."""

    findings: list[RefFinding]
    verdict: str | None
    unique: dict[str, int]
    misses: dict[str, int]
    #: (vendor, agent finding id) -> consolidated id, or None when the lead dropped it.
    reconciled: dict[tuple[str, str], str | None]
    unmapped: int = 0


def consolidated_part(report: str) -> str:
    """Everything above the appendix."""
    m = re.search(r"^#{1,3}\s+Appendix\b", report, re.M)
    return report[: m.start()] if m else report


def read_reference(report: str) -> Reference:
    """The consolidated findings, verdict, retro counts and reconciliation of a report."""
    text = consolidated_part(report)
    return Reference(
        findings=_findings(text),
        verdict=_verdict(text),
        unique=_retro_row(text, "unique insights"),
        misses=_retro_row(text, "coverage misses"),
        reconciled=_reconciliation(text),
    )


def _findings(text: str) -> list[RefFinding]:
    out: list[RefFinding] = []
    letter: str | None = None
    counters: dict[str, int] = {}
    fenced = False
    current: RefFinding | None = None
    code: list[str] | None = None
    for line in text.split("\n"):
        if _FENCE.match(line):
            if fenced and code is not None and current is not None and not current.excerpt:
                current.excerpt = "\n".join(code)
            fenced = not fenced
            code = [] if fenced else None
            continue
        if fenced:
            if code is not None:
                code.append(line)
            continue
        sec = _SECTION.match(line)
        if sec and not _ITEM.match(line):
            title = re.sub(r"[*_`]", "", sec.group("title")).strip()
            letter = next((ltr for rx, ltr in _SECTION_SEVERITY if rx.match(title)), None)
            current = None
            continue
        item = _ITEM.match(line)
        if item is None or letter is None:
            continue
        rest = item.group("rest")
        agents = {
            v for b in _BRACKETS.findall(rest) for part in b.split(",") if (v := vendor(part))
        }
        current = None
        if item.group("strike") or "INVALID" in rest or not agents:
            continue
        sev_letter = item.group("id")[0] if item.group("id") else letter
        paren = _PAREN_SEVERITY.search(rest)
        severity = paren.group(1).lower() if paren else SEVERITY_OF_LETTER[sev_letter]
        counters[letter] = counters.get(letter, 0) + 1
        fid = item.group("id") or f"{letter}{counters[letter]}"
        locs = [
            (m.group("path"), _int(m.group("a")), _int(m.group("b")) or _int(m.group("a")))
            for m in _LOC.finditer(rest.split("[", 1)[0])
        ]
        current = RefFinding(fid, severity, item.group("title"), locs, "", agents)
        out.append(current)
    return out


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def decision(text: str) -> str | None:
    """One of the four decisions named in `text`."""
    t = text.lower()
    if "rework" in t:
        return "Rework"
    if "optional" in t:
        return "Merge with optional fixes"
    if "with fixes" in t or "required changes" in t or "with required" in t:
        return "Merge with fixes"
    if "as-is" in t or "as is" in t:
        return "Merge as-is"
    return None


def _verdict(text: str) -> str | None:
    for line in text.split("\n"):
        m = _VERDICT.search(line)
        if m:
            return decision(m.group("v").split("—")[0].split(" -- ")[0])
    return None


def _retro_row(text: str, label: str) -> dict[str, int]:
    """The retro summary table's row `label`, by vendor (column headers name the agents)."""
    header: list[str] | None = None
    for line in text.split("\n"):
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if re.sub(r"[*_]", "", cells[0]).strip().lower() == label:
            out: dict[str, int] = {}
            for name, cell in zip(header[1:], cells[1:], strict=False):
                v, n = vendor(name), re.match(r"\s*(\d+)", cell)
                if v and n:
                    out[v] = int(n.group(1))
            return out
    return {}


def _reconciliation(text: str) -> dict[tuple[str, str], str | None]:
    """`Gemini C1 (...): critical → important I1` style clauses: agent id -> consolidated id;
    clauses that say dropped / rejected / false positive / limitation map to None."""
    m = re.search(r"\*\*Reconciliation\*?\*?[.:]?\*?\*?", text)
    if m is None:
        return {}
    body = text[m.end() :].split("\n\n\n")[0]
    body = re.split(r"\n(?:#{1,3} |---)", body)[0]
    clauses = re.split(r"(?=\b(?:Claude|Codex|Gemini)\b(?:'s)?\s+(?:[\w.]+\s+){0,2}?[CIS]\d)", body)
    out: dict[tuple[str, str], str | None] = {}
    for clause in clauses:
        head = re.match(
            r"(Claude|Codex|Gemini)\b(?:'s)?\s+(?:[\w.]+\s+){0,2}?([CIS]\d{1,2})\b", clause
        )
        if head is None:
            continue
        key = (head.group(1).lower(), head.group(2))
        tail = clause[head.end() :]
        target = re.search(
            r"(?:→|->|into|as|consolidated)\s+(?:\w+\s+){0,3}?\(?([CIS]\d{1,2})\b", tail
        )
        if target:
            out[key] = target.group(1)
        elif re.search(r"dropped|rejected|false positive|limitation|not a", tail, re.I):
            out[key] = None
    return out


# --------------------------------------------------------------------------- mapping


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def _squash(text: str) -> str:
    return "".join(text.split())


def match_score(ref: RefFinding, f: Finding) -> float:
    """How well an agent finding fits a consolidated finding: file and line overlap, the same
    code block, and shared title words (Jaccard)."""
    score = 0.0
    ref_names = {p.rsplit("/", 1)[-1]: (a, b) for p, a, b in ref.locations}
    for loc in f.locations:
        name = loc.path.rsplit("/", 1)[-1]
        if name not in ref_names:
            continue
        a, b = ref_names[name]
        score = max(score, 1.0)
        if a is not None and loc.start_line is not None:
            end = loc.end_line or loc.start_line
            if loc.start_line <= (b or a) + 10 and a <= end + 10:
                score = max(score, 2.0)
    if ref.excerpt and f.excerpt:
        x, y = _squash(ref.excerpt), _squash(f.excerpt)
        if len(x) >= 12 and len(y) >= 12 and (x in y or y in x):
            score += 2.0
    rw, fw = _words(ref.title), _words(f.title)
    if rw and fw:
        score += 3.0 * len(rw & fw) / len(rw | fw)
    return score


#: Below this score an attribution is left unmapped rather than guessed.
MIN_SCORE = 1.6


def map_members(ref: Reference, agent_findings: dict[str, list[Finding]]) -> None:
    """Fill each consolidated finding's `members`: reconciliation entries first, then a greedy
    best-score assignment per attributed agent (each agent finding used once)."""
    by_id = {f.id: f for f in ref.findings}
    used: set[tuple[str, str]] = set()
    filled: set[tuple[str, str]] = set()
    for (v, aid), cid in ref.reconciled.items():
        if cid is None or cid not in by_id:
            if cid is None and any(f.id == aid for f in agent_findings.get(v, [])):
                used.add((v, aid))
            continue
        if any(f.id == aid for f in agent_findings.get(v, [])):
            by_id[cid].members.add((v, aid))
            used.add((v, aid))
            filled.add((cid, v))
    candidates = [
        (match_score(r, f), r.id, v, f.id)
        for r in ref.findings
        for v in r.agents
        if (r.id, v) not in filled
        for f in agent_findings.get(v, [])
    ]
    candidates.sort(key=lambda c: -c[0])
    for score, rid, v, fid in candidates:
        if score < MIN_SCORE:
            break
        if (rid, v) in filled or (v, fid) in used:
            continue
        by_id[rid].members.add((v, fid))
        used.add((v, fid))
        filled.add((rid, v))
    ref.unmapped = sum(1 for r in ref.findings for v in r.agents if (r.id, v) not in filled)
