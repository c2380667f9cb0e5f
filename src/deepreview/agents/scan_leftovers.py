"""Things left behind on added lines: TODO-style notes, conflict markers, debugger calls."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from deepreview.agents.scan_files import (
    excerpt_lang,
    is_doc_path,
    is_test_path,
    split_comment,
    suffix,
)
from deepreview.diff import FileDiff
from deepreview.schema import Finding, Limitation, Location

MAX_QUOTE = 200

#: Marker -> one-line judgement, in the order they are looked for.
_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bFIXME\b", re.I), "The author flags a known defect; it ships with this change."),
    (re.compile(r"(?i:\bTODO\b)|\bXXX\b"), "Open item left in the change; track or resolve it."),
    (
        re.compile(r"\b(?:HACK|workaround)\b", re.I),
        "Self-described workaround; check that the underlying problem is tracked.",
    ),
    (
        # "temporary" alone mostly names temporary files; only its limitation senses count.
        re.compile(
            r"\b(?:for now|temporarily|(?:is|as an?) temporary"
            r"|temporary (?:fix|hack|solution|measure|patch|change|code|until))\b",
            re.I,
        ),
        "Stated as temporary; make sure a follow-up exists.",
    ),
)

_CONFLICT_START = re.compile(r"^(<{7}|>{7})(?: |$)")
_CONFLICT_MID = re.compile(r"^={7}$")

_JS = {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".vue", ".svelte"}
#: Folders of command-line programs and scripts, where printing is the program's output.
_CLI_DIRS = frozenset({"bin", "cli", "cmd", "scripts", "script", "tools", "examples"})
#: Extension set -> (pattern, what it is, whether tests, CLIs and scripts are exempt).
_DEBUG: tuple[tuple[frozenset[str], re.Pattern[str], str, bool], ...] = (
    (frozenset({".py"}), re.compile(r"\bbreakpoint\(\s*\)"), "`breakpoint()` call", False),
    (
        frozenset({".py"}),
        re.compile(r"\b(?:i?pdb|pudb|ipdb|rpdb)\.set_trace\("),
        "debugger `set_trace()` call",
        False,
    ),
    (frozenset(_JS), re.compile(r"^\s*debugger\s*;?\s*$"), "`debugger;` statement", False),
    (frozenset(_JS), re.compile(r"\bconsole\.log\("), "`console.log` call", True),
    (
        frozenset({".rb"}),
        re.compile(r"\bbinding\.(?:pry|irb)\b|\bbyebug\b"),
        "debugger call",
        False,
    ),
    (frozenset({".rs"}), re.compile(r"\bdbg!\("), "`dbg!` macro", False),
)


def limitations_in(fd: FileDiff) -> list[Limitation]:
    """TODO/FIXME/HACK/XXX/'temporary'/'for now'/'workaround' in comments of added lines."""
    found: list[Limitation] = []
    if is_test_path(fd.path) and is_doc_path(fd.path):
        return found  # test fixtures written as prose are data, not the author's notes
    for ln in fd.added():
        _, comment = split_comment(fd.path, ln.text)
        if not comment:
            continue
        judgement = next((j for pattern, j in _MARKERS if pattern.search(comment)), None)
        if judgement is not None:
            found.append(
                Limitation(
                    location=Location(path=fd.path, start_line=ln.new_lineno),
                    quote=comment[:MAX_QUOTE],
                    judgement=judgement,
                )
            )
    return found


def conflict_finding(fd: FileDiff) -> Finding | None:
    """One important finding when added lines hold merge-conflict markers.

    `=======` alone is a heading underline in reST and Markdown, so it counts only next to a
    `<<<<<<<` or `>>>>>>>` marker in the same file.
    """
    added = list(fd.added())
    starts = [ln for ln in added if _CONFLICT_START.match(ln.text)]
    if not starts:
        return None
    marks = [ln for ln in added if _CONFLICT_START.match(ln.text) or _CONFLICT_MID.match(ln.text)]
    return Finding(
        id="",
        severity="important",
        category="regression",
        title=f"Merge-conflict markers left in {fd.path}",
        body=(
            f"{len(marks)} conflict marker line(s) were added. The file will not build or "
            "parse as intended, and one side of the conflict may be lost."
        ),
        locations=[Location(path=fd.path, start_line=ln.new_lineno) for ln in marks],
        excerpt=starts[0].text,
        excerpt_lang=excerpt_lang(fd.path),
        fix="Resolve the conflict and remove the markers.",
    )


def debug_findings(fd: FileDiff) -> list[Finding]:
    """Debugger leftovers in code (not comments) of added lines."""
    ext = suffix(fd.path)
    exempt = is_test_path(fd.path) or bool(
        _CLI_DIRS.intersection(PurePosixPath(fd.path).parts[:-1])
    )
    rules = [r for r in _DEBUG if ext in r[0] and not (r[3] and exempt)]
    if not rules:
        return []
    findings: list[Finding] = []
    for ln in fd.added():
        code, _ = split_comment(fd.path, ln.text)
        what = next((name for _, pattern, name, _ in rules if pattern.search(code)), None)
        if what is None:
            continue
        findings.append(
            Finding(
                id="",
                severity="suggestion",
                category="debug",
                title=f"Debugging leftover: {what} in {PurePosixPath(fd.path).name}",
                body="Added code stops in a debugger or prints debug output; remove it before "
                "merging.",
                locations=[Location(path=fd.path, start_line=ln.new_lineno)],
                excerpt=ln.text,
                excerpt_lang=excerpt_lang(fd.path),
                fix="Delete the line.",
            )
        )
    return findings
