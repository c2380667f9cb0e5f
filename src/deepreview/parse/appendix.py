"""The agents' own reviews in a report's `## Appendix: Original Reviews`."""

from __future__ import annotations

import re

_APPENDIX = re.compile(r"^#{1,3}\s+Appendix\b.*Reviews?\b.*$", re.I)
#: Report sections that follow the appendix (the rest of the report is the reviews themselves,
#: whose own headings may be of any level).
_AFTER = re.compile(r"^#{1,2}\s+(?:Resolution|Review Process Notes|Appendix\b)", re.I)
_AGENT = re.compile(
    r"^(?P<marks>#{2,4})\s+(?P<name>\[[^\]]+\].*|(?:[\w.-]+\s+){0,2}"
    r"(?:Claude|Codex|Gemini|GPT|Opus|Sonnet|Haiku|o\d|Grok|Llama|Mistral|DeepSeek|Qwen|Copilot"
    r"|Cursor|Aider|Kimi|GLM|Ruff|Bandit|Semgrep|deepreview)\b.*)$",
    re.I,
)
_SECTION_WORDS = re.compile(
    r"summary|findings|issues|suggestions|observations|assessment|structure|limitations"
    r"|concerns|strengths|feedback|coverage|verdict",
    re.I,
)


def split_appendix(report_markdown: str) -> list[tuple[str, str]]:
    """(heading, review text) for each agent review in the report's appendix, in order; empty
    when the report has no appendix. Headings look like `[Claude] — Claude Opus 4.6`,
    `Claude Opus 4.6` or `[Codex] — Pass 1`."""
    lines = report_markdown.replace("\r\n", "\n").split("\n")
    start = next((i for i, ln in enumerate(lines) if _APPENDIX.match(ln)), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines)) if _AFTER.match(lines[i])), len(lines))
    heads: list[tuple[int, str]] = []
    level: str | None = None
    for i in range(start + 1, end):
        m = _AGENT.match(lines[i].rstrip())
        if m is None or len(m.group("name")) > 80 or _is_section(m.group("name")):
            continue
        if level is None:
            level = m.group("marks")
        if m.group("marks") == level:
            heads.append((i, m.group("name").strip()))
    reviews: list[tuple[str, str]] = []
    for k, (i, name) in enumerate(heads):
        stop = heads[k + 1][0] if k + 1 < len(heads) else end
        reviews.append((name, _trim(lines[i + 1 : stop])))
    return reviews


def without_appendix(report_markdown: str) -> str:
    """The report with its appendix of original reviews left out (what follows it, such as a
    Resolution section, stays): the agents' own findings there are not the report's."""
    lines = report_markdown.replace("\r\n", "\n").split("\n")
    start = next((i for i, ln in enumerate(lines) if _APPENDIX.match(ln)), None)
    if start is None:
        return report_markdown
    end = next((i for i in range(start + 1, len(lines)) if _AFTER.match(lines[i])), len(lines))
    return "\n".join(lines[:start] + lines[end:])


def _is_section(name: str) -> bool:
    return not name.startswith("[") and bool(_SECTION_WORDS.search(name))


def _trim(lines: list[str]) -> str:
    """The review without the blank lines and `---` rules around it."""
    while lines and re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})?\s*", lines[0]):
        lines = lines[1:]
    while lines and re.fullmatch(r"\s*(?:-{3,}|\*{3,}|_{3,})?\s*", lines[-1]):
        lines = lines[:-1]
    return "\n".join(lines)
