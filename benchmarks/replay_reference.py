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
_VERDICT = re.compile(r"\*\*Verdict\*\*\s*[|:]\s*(?P<v>.+)$", re.I)
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
    #: (vendor, title words) -> consolidated id or None, for entries that name an agent's
    #: finding of a pass by its title (`Codex P1 closed-channel panic: ... → I2`).
    reconciled_by_title: list[tuple[str, str, str | None]] = field(default_factory=list)
    #: Consolidated id -> the author's action in the report's Resolution table.
    actions: dict[str, str] = field(default_factory=dict)
    unmapped: int = 0


def consolidated_part(report: str) -> str:
    """Everything above the appendix."""
    m = re.search(r"^#{1,3}\s+Appendix\b", report, re.M)
    return report[: m.start()] if m else report


def read_reference(report: str) -> Reference:
    """The consolidated findings, verdict, retro counts and reconciliation of a report."""
    text = consolidated_part(report)
    by_id, by_title = _reconciliation(text)
    return Reference(
        findings=_findings(text),
        verdict=_verdict(text),
        unique=_retro_row(text, "unique insights"),
        misses=_retro_row(text, "coverage misses"),
        reconciled=by_id,
        reconciled_by_title=by_title,
        actions=resolution_actions(report),
    )


#: Resolution actions that mean the author acted on the finding.
ACTED_ON = ("fixed", "test written", "commented", "documentation updated")
_RESOLUTION_ROW = re.compile(
    r"^\|\s*\d+\s*\|\s*\**(?P<sev>critical|important|suggestion)\**\s+"
    r"(?:(?P<id>[CIS]\d{1,2})|#(?P<n>\d{1,2}))\b[^|]*\|\s*(?P<action>[^|(]+)",
    re.I | re.M,
)


def resolution_actions(report: str) -> dict[str, str]:
    """Consolidated id -> the action (lowercase) of the report's `## Resolution` table."""
    m = re.search(r"^## Resolution\s*$", report, re.M)
    if m is None:
        return {}
    out: dict[str, str] = {}
    for row in _RESOLUTION_ROW.finditer(report[m.end() :]):
        fid = row.group("id") or f"{row.group('sev')[0].upper()}{row.group('n')}"
        out.setdefault(fid.upper(), row.group("action").strip().lower())
    return out


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
    if "optional" in t or re.search(r"\bwith (?:minor )?suggestions\b", t):
        return "Merge with optional fixes"
    if re.search(r"\bwith (?:minor |required )?(?:fixes|changes)\b|changes requested", t):
        return "Merge with fixes"
    if re.search(r"\b(?:request|needs?) changes\b", t):
        return "Merge with fixes"
    if "as-is" in t or "as is" in t or "no blocking" in t:
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


_RECONCILIATION = re.compile(
    r"\*\*Reconciliation\*?\*?[.:]?\*?\*?|^#{2,4}\s+Reconciliation\s*$|^Reconciliation(?: note)?:",
    re.M,
)
_CLAUSE_START = re.compile(
    r"(?=\b(?:Claude|Codex|Gemini)\b(?:'s)?\s+(?:(?:P\d|pass[- ]?\d)\s+|[CIS]\d))"
)
_CLAUSE_HEAD = re.compile(
    r"(Claude|Codex|Gemini)\b(?:'s)?\s+(?:(P\d|pass[- ]?\d)\s+)?(?:([CIS]\d{1,2})\b)?"
)
_TARGET = re.compile(r"(?:→|->|into|as|consolidated)\s+(?:\w+\s+){0,3}?\(?([CIS]\d{1,2})\b")
_DROPPED = re.compile(r"dropped|rejected|false positive|limitation|not a", re.I)


def _reconciliation(
    text: str,
) -> tuple[dict[tuple[str, str], str | None], list[tuple[str, str, str | None]]]:
    """`Gemini C1 (...): critical → important I1` style clauses: agent id -> consolidated id;
    clauses that say dropped / rejected / false positive / limitation map to None. Clauses
    naming a pass's finding by its title (`Codex P1 closed-channel panic: ...`) are returned
    apart, keyed by those title words. Read from a bold label, a `Reconciliation` heading or
    a plain `Reconciliation:` line, every one in the report."""
    by_id: dict[tuple[str, str], str | None] = {}
    by_title: list[tuple[str, str, str | None]] = []
    for m in _RECONCILIATION.finditer(text):
        body = text[m.end() :].split("\n\n\n")[0]
        body = re.split(r"\n(?:#{1,3} |---)", body)[0]
        for clause in _CLAUSE_START.split(body):
            head = _CLAUSE_HEAD.match(clause)
            if head is None or not (head.group(2) or head.group(3)):
                continue
            tail = clause[head.end() :]
            target = _TARGET.search(tail)
            cid = target.group(1) if target else None
            if target is None and not _DROPPED.search(tail):
                continue
            vendor_ = head.group(1).lower()
            if head.group(3):
                by_id.setdefault((vendor_, head.group(3)), cid)
            else:
                title = re.split(r"[:(—]| \(|→|->", tail, maxsplit=1)[0]
                by_title.append((vendor_, title.strip(' `"*'), cid))
    return by_id, by_title


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
#: A further finding of an agent already mapped into a consolidated finding joins it only
#: with a strong match (same place and shared title words, or the same code).
SECOND_MEMBER_SCORE = 3.0
#: Title-word overlap that ties a reconciliation entry naming a finding by title to it.
TITLE_MATCH = 0.3


def map_members(ref: Reference, agent_findings: dict[str, list[Finding]]) -> None:
    """Fill each consolidated finding's `members`: reconciliation entries first, then a greedy
    best-score assignment (each agent finding used once) that gives every attributed agent its
    first finding in each consolidated finding before any takes a further one."""
    by_id = {f.id: f for f in ref.findings}
    used: set[tuple[str, str]] = set()
    filled: set[tuple[str, str]] = set()
    reconciled = dict(ref.reconciled)
    for v, title, cid in ref.reconciled_by_title:
        words = _words(title)
        scored = [
            (len(words & _words(f.title)) / len(words | _words(f.title)), f.id)
            for f in agent_findings.get(v, [])
            if words and (v, f.id) not in reconciled
        ]
        best = max(scored, default=None)
        if best is not None and best[0] >= TITLE_MATCH:
            reconciled[(v, best[1])] = cid
    for (v, aid), cid in reconciled.items():
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
    for second in (False, True):  # every attributed agent's first member, then further ones
        for score, rid, v, fid in candidates:
            if score < (SECOND_MEMBER_SCORE if second else MIN_SCORE):
                break
            if (v, fid) in used or ((rid, v) in filled) != second:
                continue
            by_id[rid].members.add((v, fid))
            used.add((v, fid))
            filled.add((rid, v))
    ref.unmapped = sum(1 for r in ref.findings for v in r.agents if (r.id, v) not in filled)
