"""Structured (JSON) answers -> AgentReview, tolerant of the usual drifts: other field names
(`file`/`line`, `message`, `issues`), other severity words (high, major, nit, ...), numbers as
strings, absolute paths, raw line breaks and tabs inside strings (a script or patch written out
as it is)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from deepreview.parse.locations import line_ranges, parse_reference, relative_path
from deepreview.parse.severity import scope_of, severity_of
from deepreview.schema import (
    SEVERITY_LETTER,
    AgentReview,
    CoverageEntry,
    DesignConcern,
    Finding,
    Limitation,
    Location,
    PriorFindingVerdict,
    Repro,
    Severity,
    Strength,
)

_REVIEW_KEYS = frozenset(
    {"findings", "issues", "summary", "verdict", "concerns", "strengths", "coverage", "testing"}
)
_FINDING_KEYS = frozenset(
    {"title", "severity", "message", "file", "path", "locations", "location", "body", "description"}
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "executive_summary", "overview"),
    "findings": ("findings", "issues", "problems", "defects", "comments"),
    "concerns": ("concerns", "design_concerns", "design_observations"),
    "strengths": ("strengths", "positives"),
    "testing": ("testing", "testing_assessment", "tests"),
    "documentation": ("documentation", "documentation_assessment", "docs"),
    "commit_structure": ("commit_structure", "commits", "commit_assessment"),
    "limitations": ("limitations", "acknowledged_limitations"),
    "coverage": ("coverage", "coverage_summary", "files_reviewed"),
    "verdict": ("verdict", "recommendation", "decision"),
    "prior_findings": ("prior_findings", "previous_findings"),
    "parse_notes": ("parse_notes",),
}
#: Keys a review's findings list goes by.
FINDINGS_KEYS = frozenset(_ALIASES["findings"])
_FINDING_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "finding_id", "key"),
    "severity": ("severity", "level", "priority", "impact"),
    "category": ("category", "type", "kind", "tag"),
    "title": ("title", "headline", "name", "summary"),
    "body": ("body", "description", "details", "explanation", "message", "rationale", "text"),
    "excerpt": ("excerpt", "code", "snippet", "quote", "code_excerpt"),
    "excerpt_lang": ("excerpt_lang", "language", "lang"),
    "fix": ("fix", "suggestion", "recommendation", "suggested_fix", "remediation", "patch"),
    "rule": ("rule", "rule_id", "check_id"),
    "locations": ("locations", "location"),
    "file": ("file", "path", "filename", "file_path"),
    "line": ("line", "start_line", "line_start", "lines", "start"),
    "end_line": ("end_line", "line_end", "end"),
    "repro": ("repro", "reproduction", "repro_script"),
}
_REPRO_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": ("kind", "type"),
    "path": ("path", "file", "test_path", "save_as"),
    "content": ("content", "script", "code", "source", "test"),
    "command": ("command", "cmd", "run"),
    "fix_patch": ("fix_patch", "patch", "fix_diff", "diff"),
}
_STATUS = {
    "fixed": "fixed",
    "addressed": "fixed",
    "resolved": "fixed",
    "still-present": "still-present",
    "still present": "still-present",
    "still_present": "still-present",
    "present": "still-present",
    "open": "still-present",
    "not fixed": "still-present",
    "unresolved": "still-present",
    "changed": "changed",
    "partially fixed": "changed",
}

M = TypeVar("M", bound=BaseModel)


#: Decodes JSON whose strings may hold raw control characters (line breaks, tabs).
_DECODER = json.JSONDecoder(strict=False)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(?P<body>.*?)\n[ \t]*```", re.S)
_OPENING = re.compile(r"(?m)^[ \t]*(?P<open>[{\[])")
#: The keys a review object opens with, quoted as JSON quotes them.
_QUOTED_REVIEW_KEY = re.compile(r'"(?:summary|findings)"\s*:')


def extract_json(text: str) -> object | None:
    """The JSON value `text` holds: the whole text, a ```json fence, or an object or array
    starting a line amid prose. Prefers a value shaped like a review; None when there is none."""
    candidates: list[object] = list(_candidates(text))
    for value in candidates:
        if looks_like_review(value):
            return value
    return candidates[0] if candidates else None


def _candidates(text: str) -> Iterator[object]:
    stripped = text.strip()
    try:
        value = _DECODER.decode(stripped)
    except (ValueError, RecursionError):
        pass
    else:
        if isinstance(value, dict | list):
            yield value
            return
    for m in _FENCE.finditer(text):
        try:
            value = _DECODER.decode(m.group("body"))
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict | list):
            yield value
    for attempt, m in enumerate(_OPENING.finditer(text)):
        if attempt >= 200:
            break
        try:
            value, _ = _DECODER.raw_decode(text, m.start("open"))
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict | list):
            yield value


def json_error(text: str) -> str | None:
    """Why the JSON review `text` seems to hold does not decode: the error at the first object
    or array opening a line and followed by `"summary":` or `"findings":`, or None."""
    m = _OPENING.search(text)
    if m is None or not _QUOTED_REVIEW_KEY.search(text, m.start()):
        return None
    try:
        _DECODER.raw_decode(text, m.start("open"))
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno} of the answer"
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__
    return None


def looks_like_review(value: object) -> bool:
    """Whether a JSON value is a review (an object with review fields) or a list of findings."""
    if isinstance(value, dict):
        keys = {_key(k) for k in value}
        if "review" in keys and len(keys) == 1:
            return looks_like_review(next(iter(value.values())))
        return bool(keys & _REVIEW_KEYS)
    if isinstance(value, list):
        return bool(value) and all(
            isinstance(v, dict) and {_key(k) for k in v} & _FINDING_KEYS for v in value
        )
    return False


def review_from_json(obj: object, *, root: str | None = None) -> tuple[AgentReview, list[str]]:
    """The review a JSON value holds, and notes on what was normalized or rejected. Never
    raises; `root` is the directory the agent ran in (absolute paths under it become relative)."""
    notes: list[str] = []
    try:
        return _Reader(notes, root).review(obj), notes
    except Exception as exc:  # a review must never be lost to a reader bug
        notes.append(f"could not read the JSON review ({type(exc).__name__}: {exc})")
        return AgentReview(), notes


def _key(k: object) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(k))
    return re.sub(r"[\s-]+", "_", s.strip()).lower()


def _pick(d: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in d and d[name] is not None:
            return d[name]
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(f"- {_text(v)}" if not isinstance(v, str) else v for v in value).strip()
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_text(v)}" for k, v in value.items()).strip()
    return str(value)


class _Reader:
    def __init__(self, notes: list[str], root: str | None) -> None:
        self.notes = notes
        self.root = root
        self.mapped_words: set[str] = set()

    def review(self, obj: object) -> AgentReview:
        if isinstance(obj, list):
            obj = {"findings": obj}
        if not isinstance(obj, dict):
            self.notes.append(f"expected a JSON object, got {type(obj).__name__}")
            return AgentReview()
        data = {_key(k): v for k, v in obj.items()}
        if set(data) == {"review"} and isinstance(data["review"], dict):
            data = {_key(k): v for k, v in data["review"].items()}
        known = {alias for names in _ALIASES.values() for alias in names}
        for k in data:
            if k not in known:
                self.notes.append(f"ignored field {k!r}")
        get: Callable[[str], Any] = lambda name: _pick(data, _ALIASES[name])  # noqa: E731
        findings = self._findings(get("findings"))
        return AgentReview(
            summary=_text(get("summary")),
            findings=findings,
            concerns=self._each(get("concerns"), "concern", self._concern),
            strengths=self._each(get("strengths"), "strength", self._strength),
            testing=_text(get("testing")),
            documentation=_text(get("documentation")),
            commit_structure=_text(get("commit_structure")),
            limitations=self._each(get("limitations"), "limitation", self._limitation),
            coverage=self._coverage(get("coverage")),
            verdict=self._verdict(get("verdict")),
            prior_findings=self._each(get("prior_findings"), "prior finding", self._prior),
            parse_notes=[str(n) for n in get("parse_notes") or [] if n],
        )

    def _each(self, value: Any, what: str, build: Callable[[Any], M | None]) -> list[M]:
        if value is None or value == "":
            return []
        items = value if isinstance(value, list) else [value]
        out: list[M] = []
        for i, item in enumerate(items, 1):
            try:
                built = build(item)
            except (ValidationError, TypeError, ValueError) as exc:
                self.notes.append(f"{what} {i} rejected: {_short(exc)}")
                continue
            if built is not None:
                out.append(built)
        return out

    # ------------------------------------------------------------------ findings

    def _findings(self, value: Any) -> list[Finding]:
        findings = self._each(value, "finding", self._finding)
        seen: dict[str, int] = {}
        result: list[Finding] = []
        for f in findings:
            ident = f.id
            if not ident:
                letter = SEVERITY_LETTER[f.severity]
                n = 1 + sum(1 for g in result if g.id.startswith(letter))
                ident = f"{letter}{n}"
                self.notes.append(f"finding {f.title[:60]!r} has no id; numbered {ident}")
            count = seen.get(ident, 0) + 1
            seen[ident] = count
            if count > 1:
                self.notes.append(f"duplicate finding id {ident!r}; renamed '{ident}-{count}'")
                ident = f"{ident}-{count}"
            result.append(f.model_copy(update={"id": ident}))
        return result

    def _finding(self, item: Any) -> Finding:
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            raise TypeError(f"expected an object, got {type(item).__name__}")
        d = {_key(k): v for k, v in item.items()}
        known = {a for names in _FINDING_ALIASES.values() for a in names}
        for k in d:
            if k not in known:
                self.notes.append(f"finding field {k!r} ignored")
        get: Callable[[str], Any] = lambda name: _pick(d, _FINDING_ALIASES[name])  # noqa: E731
        ident = str(get("id")).strip() if get("id") is not None else ""
        label = ident or _text(get("title"))[:60] or "?"
        title = _text(get("title"))
        body = _text(get("body"))
        if not title:
            first, _, rest = body.partition("\n")
            title, body = first.strip()[:200], (body if len(first) > 200 else rest.strip())
            if not title:
                raise ValueError("it has no title, message or description")
        severity = self._severity(get("severity"), label)
        locations = self._finding_locations(get, label)
        fix = get("fix")
        return Finding(
            id=ident,
            severity=severity,
            category=_text(get("category")).lower() or "issue",
            title=" ".join(title.split()),
            body=body,
            locations=locations,
            excerpt=_text(get("excerpt")) or None,
            excerpt_lang=_text(get("excerpt_lang")) or None,
            fix=_text(fix) or None,
            rule=_text(get("rule")) or None,
            repro=self._repro(get("repro"), label),
        )

    def _repro(self, value: Any, label: str) -> Repro | None:
        """A finding's repro: `{kind, path, content, command, fix_patch}` or a bare script."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = {"content": value}
        if not isinstance(value, dict):
            self.notes.append(f"finding {label!r}: repro is not an object; dropped")
            return None
        d = {_key(k): v for k, v in value.items()}
        get: Callable[[str], Any] = lambda name: _pick(d, _REPRO_ALIASES[name])  # noqa: E731
        content = get("content")
        if not isinstance(content, str) or not content.strip():
            self.notes.append(f"finding {label!r}: repro has no content; dropped")
            return None
        path = _text(get("path")) or None
        said = _text(get("kind")).lower()
        kind = said if said in ("script", "test") else ("test" if path else "script")
        if kind == "test" and path is None:
            self.notes.append(f"finding {label!r}: test repro has no path; dropped")
            return None
        patch = get("fix_patch")
        return Repro(
            kind=kind,
            path=path,
            content=content if content.endswith("\n") else content + "\n",
            command=_text(get("command")) or None,
            fix_patch=patch if isinstance(patch, str) and patch.strip() else None,
        )

    def _severity(self, value: Any, label: str) -> Severity:
        if value is None or _text(value) == "":
            self.notes.append(f"finding {label!r} has no severity; taken as suggestion")
            return "suggestion"
        word = _text(value)
        severity = severity_of(word)
        if severity is None:
            self.notes.append(
                f"finding {label!r} has unknown severity {word!r}; taken as suggestion"
            )
            return "suggestion"
        key = word.lower()
        if key != severity and key not in self.mapped_words:
            self.mapped_words.add(key)
            self.notes.append(f"severity {word!r} taken as {severity}")
        return severity

    def _finding_locations(self, get: Callable[[str], Any], label: str) -> list[Location]:
        raw = get("locations")
        items = raw if isinstance(raw, list) else ([raw] if raw is not None else [])
        if get("file") is not None:
            items.append(
                {"path": get("file"), "start_line": get("line"), "end_line": get("end_line")}
            )
        out: list[Location] = []
        for item in items:
            for loc in self._locations(item, label):
                if loc not in out:
                    out.append(loc)
        return out

    def _locations(self, value: Any, label: str) -> list[Location]:
        """One location value (`"a.py:3-5"` or `{path, start_line, end_line}`) as Locations."""
        if isinstance(value, str):
            ref = parse_reference(value)
            path, spec = ref if ref else (value.strip(), None)
            ranges: list[tuple[int | None, int | None]] = list(line_ranges(spec)) if spec else []
            if spec and re.search(r"(?<![\d])-\d", spec):
                self.notes.append(f"finding {label!r}: negative line number in {value!r} dropped")
        elif isinstance(value, dict):
            d = {_key(k): v for k, v in value.items()}
            path = _text(_pick(d, _FINDING_ALIASES["file"]))
            ranges = [self._lines(d, label)]
        else:
            self.notes.append(f"finding {label!r}: location {value!r} is not a path; dropped")
            return []
        rel = relative_path(path, self.root) if path else None
        if rel is None:
            self.notes.append(
                f"finding {label!r}: location path {path!r} is outside the repository; dropped"
            )
            return []
        if rel != path.strip():
            self.notes.append(f"finding {label!r}: path {path!r} made relative: {rel!r}")
        if not ranges:
            return [Location(path=rel)]
        return [Location(path=rel, start_line=s, end_line=e) for s, e in ranges]

    def _lines(self, d: dict[str, Any], label: str) -> tuple[int | None, int | None]:
        start = _pick(d, _FINDING_ALIASES["line"])
        end = _pick(d, _FINDING_ALIASES["end_line"])
        if isinstance(start, list):
            start, end = [*start, None, None][:2]
        elif isinstance(start, str) and not start.strip().lstrip("-").isdigit():
            nums = [int(n) for n in re.findall(r"\d+", start)]
            if len(nums) > 1 and nums[1] < nums[0]:
                self.notes.append(f"finding {label!r}: line range {start!r} is reversed; swapped")
            ranges = line_ranges(start)
            if ranges:
                return ranges[0]
        s, e = self._line(start, label), self._line(end, label)
        if s is None:
            return None, None
        if e is not None and e < s:
            self.notes.append(f"finding {label!r}: end line {e} before start line {s}; swapped")
            s, e = e, s
        return s, None if e == s else e

    def _line(self, value: Any, label: str) -> int | None:
        if value is None or value == "":
            return None
        try:
            n = int(str(value).strip())
        except (ValueError, RecursionError):
            self.notes.append(f"finding {label!r}: line {value!r} is not a number; dropped")
            return None
        if n < 1:
            self.notes.append(f"finding {label!r}: line number {n} is not positive; dropped")
            return None
        return n

    # ------------------------------------------------------------------ the other parts

    def _concern(self, item: Any) -> DesignConcern:
        d = _titled(item)
        scope = _text(d.get("scope"))
        if scope and scope.lower() not in ("in-scope", "future"):
            self.notes.append(f"concern scope {scope!r} taken as {scope_of(scope)}")
        return DesignConcern(
            title=_text(d.get("title")),
            body=_text(_pick(d, ("body", "description", "details"))),
            scope=scope_of(scope) if scope else "in-scope",
            locations=self._plain_locations(d),
        )

    def _strength(self, item: Any) -> Strength:
        d = _titled(item)
        return Strength(
            title=_text(d.get("title")),
            body=_text(_pick(d, ("body", "description", "details"))),
            locations=self._plain_locations(d),
        )

    def _plain_locations(self, d: dict[str, Any]) -> list[Location]:
        raw = _pick(d, ("locations", "location"))
        items = raw if isinstance(raw, list) else ([raw] if raw is not None else [])
        return [loc for item in items for loc in self._locations(item, _text(d.get("title")))]

    def _limitation(self, item: Any) -> Limitation:
        d = {"quote": item} if isinstance(item, str) else {_key(k): v for k, v in item.items()}
        raw = d.get("location")
        locs = self._locations(raw, "limitation") if raw is not None else []
        quote = _text(_pick(d, ("quote", "text", "comment", "title")))
        if not quote:
            raise ValueError("it has no quote")
        return Limitation(
            location=locs[0] if locs else None,
            quote=quote,
            judgement=_text(_pick(d, ("judgement", "judgment", "note", "assessment"))),
        )

    def _coverage(self, value: Any) -> list[CoverageEntry]:
        if isinstance(value, dict):
            value = [{"path": k, "finding_ids": v} for k, v in value.items()]
        return self._each(value, "coverage entry", self._coverage_entry)

    def _coverage_entry(self, item: Any) -> CoverageEntry | None:
        d = {"path": item} if isinstance(item, str) else {_key(k): v for k, v in item.items()}
        path = _text(_pick(d, ("path", "file", "filename")))
        rel = relative_path(path, self.root) if path else None
        if rel is None:
            self.notes.append(f"coverage path {path!r} is outside the repository; dropped")
            return None
        ids = _pick(d, ("finding_ids", "findings", "ids", "status"))
        if isinstance(ids, str):
            ids = re.findall(r"\b[A-Z]?\d{1,3}\b", ids)
        reviewed = d.get("reviewed", True)
        if isinstance(reviewed, str):
            reviewed = reviewed.strip().lower() not in ("false", "no", "0", "not reviewed")
        return CoverageEntry(
            path=rel, reviewed=bool(reviewed), finding_ids=[str(i) for i in ids or []]
        )

    def _verdict(self, value: Any) -> str | None:
        if isinstance(value, dict):
            d = {_key(k): v for k, v in value.items()}
            parts = [_text(_pick(d, ("decision", "verdict"))), _text(_pick(d, ("reason",)))]
            return " — ".join(p for p in parts if p) or None
        return _text(value) or None

    def _prior(self, item: Any) -> PriorFindingVerdict | None:
        d = {_key(k): v for k, v in item.items()}
        ident = _text(_pick(d, ("finding_id", "id")))
        raw = _text(d.get("status")).lower().replace("_", "-")
        status = _STATUS.get(raw) or _STATUS.get(raw.replace("-", " "))
        if status is None:
            self.notes.append(f"prior finding {ident!r} has unknown status {raw!r}; dropped")
            return None
        return PriorFindingVerdict.model_validate(
            {"finding_id": ident, "status": status, "note": _text(d.get("note"))}
        )


def _titled(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        return {"title": item}
    if not isinstance(item, dict):
        raise TypeError(f"expected an object, got {type(item).__name__}")
    d = {_key(k): v for k, v in item.items()}
    if not _text(d.get("title")):
        text = _text(_pick(d, ("body", "description", "text")))
        d["title"], _, rest = text.partition("\n")
        d["body"] = rest
    return d


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)
