"""The cross-examination question and how its answer is read.

The instructions are a versioned data file (`prompts/crossexam-v1.md`); the claim, its location,
its excerpt and the head's lines around it go into one untrusted data block. The answer follows
`ANSWER_SCHEMA`. A structured answer is read as it is; a text answer is searched for its JSON
object (fenced or among prose). A malformed answer is `uncertain`, with why. A confirmation or
refutation counts only with evidence: at least one cited line that exists in the head tree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from deepreview.consolidate.paths import normalize_path
from deepreview.consolidate.tree import SourceTree
from deepreview.prompt import Prompt, untrusted_block
from deepreview.schema import ConsolidatedFinding, ExamVerdict, Location

CROSSEXAM_VERSION = "crossexam-v1"
#: Head lines shown before and after the cited lines.
CONTEXT_LINES = 20
#: Cited lines shown at most.
MAX_CITED_LINES = 80
_VERDICTS: dict[str, ExamVerdict] = {
    "confirm": "confirm",
    "confirmed": "confirm",
    "refute": "refute",
    "refuted": "refute",
    "uncertain": "uncertain",
}
_MAX_REASON = 500

#: The answer's JSON Schema, valid under OpenAI strict rules.
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A verdict on one claim of a code review, with its evidence.",
    "properties": {
        "verdict": {"type": "string", "enum": ["confirm", "refute", "uncertain"]},
        "reason": {"type": "string", "description": "What the evidence shows, briefly."},
        "evidence": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "line": {"type": "integer"},
                    "quote": {"type": "string"},
                },
                "required": ["path", "line", "quote"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["verdict", "reason", "evidence"],
    "additionalProperties": False,
}


def _instructions() -> str:
    ref = resources.files("deepreview") / "prompts" / f"{CROSSEXAM_VERSION}.md"
    return ref.read_text(encoding="utf-8")


def _head_lines(location: Location, tree: SourceTree) -> str:
    """The head's lines around `location`, numbered; empty without lines."""
    lines = tree.read_lines(location.path)
    if not lines or location.start_line is None:
        return ""
    start = max(1, location.start_line - CONTEXT_LINES)
    last = min(location.end_line or location.start_line, location.start_line + MAX_CITED_LINES)
    end = min(len(lines), last + CONTEXT_LINES)
    width = len(str(end))
    shown = "\n".join(f"{n:>{width}}  {lines[n - 1]}" for n in range(start, end + 1))
    return f"\nHead lines {location.path}:{start}-{end}:\n{shown}\n"


def question(finding: ConsolidatedFinding, tree: SourceTree) -> Prompt:
    """The prompt that puts `finding` to an examiner."""
    location = finding.locations[0] if finding.locations else None
    data = [
        f"Severity claimed: {finding.severity}",
        f"Category: {finding.category}",
        f"Location: {location.label() if location else '(none given)'}",
        f"Title: {finding.title}",
        "",
        finding.body.strip(),
    ]
    if finding.excerpt:
        data += ["", "Excerpt the claim cites:", finding.excerpt.rstrip()]
    text = "\n".join(data) + "\n"
    if location is not None:
        text += _head_lines(location, tree)
    user = (
        "# The claim to examine\n\n"
        + untrusted_block(text)
        + "\nExamine this claim against the code in the working tree and answer with the JSON "
        "object described in your instructions.\n"
    )
    return Prompt(
        system=_instructions(),
        user=user,
        omitted=[],
        version=CROSSEXAM_VERSION,
        schema=ANSWER_SCHEMA,
    )


@dataclass(frozen=True)
class Reading:
    """What an answer says: the verdict with its checked evidence, and what was wrong with it."""

    verdict: ExamVerdict
    reason: str
    evidence: list[Location] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


def _json_object(text: str) -> dict[str, Any] | None:
    """The answer's JSON object: the whole text, a fenced block, or the outermost braces."""
    candidates = [text.strip(), *(m.group(1) for m in _FENCE.finditer(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            obj = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


#: How a note about an answer that could not be read begins.
UNUSABLE = "unusable answer"


def _malformed(why: str) -> Reading:
    return Reading("uncertain", "", notes=[f"{UNUSABLE}: {why}"])


def read_answer(
    structured: dict[str, Any] | None, text: str, tree: SourceTree, root: str = ""
) -> Reading:
    """The verdict, reason and evidence of an answer (see the module docstring); cited paths
    under `root` (the worktree) are read relative to it."""
    obj = structured if structured is not None else _json_object(text)
    if obj is None:
        return _malformed("no JSON object in it" if text.strip() else "empty")
    raw = obj.get("verdict")
    verdict = _VERDICTS.get(raw.strip().lower()) if isinstance(raw, str) else None
    if verdict is None:
        return _malformed(f"verdict {raw!r} is not confirm, refute or uncertain")
    reason = obj.get("reason")
    reason = " ".join(reason.split())[:_MAX_REASON] if isinstance(reason, str) else ""
    evidence, notes = _evidence(obj.get("evidence"), tree, f"{root.rstrip('/')}/" if root else "")
    if verdict != "uncertain" and not evidence:
        notes.append(f"a {verdict} without a cited line of the head tree counts as uncertain")
        verdict = "uncertain"
    return Reading(verdict, reason, evidence, notes)


def _evidence(items: Any, tree: SourceTree, root: str) -> tuple[list[Location], list[str]]:
    """The cited lines that exist in the head tree, and a note naming those that do not."""
    found: list[Location] = []
    bad: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        raw_path, line = item.get("path"), item.get("line")
        if isinstance(raw_path, str) and root and raw_path.startswith(root):
            raw_path = raw_path[len(root) :]
        path = normalize_path(raw_path) if isinstance(raw_path, str) else None
        lines = tree.read_lines(path) if path is not None else None
        if not isinstance(line, int) or isinstance(line, bool):
            line = None
        if path is None or lines is None or line is None or not 1 <= line <= len(lines):
            bad.append(f"{raw_path}:{item.get('line')}")
            continue
        loc = Location(path=path, start_line=line, end_line=line)
        if loc not in found:
            found.append(loc)
    notes = [f"evidence not in the head tree ignored: {', '.join(bad)}"] if bad else []
    return found, notes
