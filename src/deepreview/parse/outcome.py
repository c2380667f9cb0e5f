"""Whether a parsed answer was understood: the parse-failure rule.

An answer that yields no finding is understood only when it says so in a form the parser
reads: a review in valid JSON (its findings list empty, nothing dropped) or an explicit
no-issues statement. Anything else is a parse failure, never a clean review.
"""

from __future__ import annotations

import re
from typing import Any

from deepreview.parse.structured import FINDINGS_KEYS, extract_json, looks_like_review
from deepreview.schema import AgentReview

__all__ = ["PARSE_FAILURE", "parse_failure"]

#: The short reason of a run whose answer could not be read.
PARSE_FAILURE = "unparseable answer"

_NO_ISSUES = re.compile(
    r"\b(?:no\s+(?:\w+\s+)?(?:issues|findings|problems|defects|bugs|concerns)"
    r"(?:\s+(?:were|was|are|have\s+been))?\s+(?:found|identified|detected|raised|to\s+report)"
    r"|(?:found|identified|see|there\s+are)\s+no\s+(?:\w+\s+)?(?:issues|findings|problems|defects|bugs)"
    r"|nothing\s+to\s+(?:report|flag)|lgtm)\b",
    re.IGNORECASE,
)


def says_no_issues(text: str) -> bool:
    """Whether `text` states plainly that the change has no issues."""
    return bool(_NO_ISSUES.search(text))


def parse_failure(answer: str, review: AgentReview, structured: dict[str, Any] | None) -> bool:
    """Whether an answer that was parsed into `review` is a parse failure (see the module)."""
    if review.findings:
        return False
    obj: Any = structured if structured is not None else extract_json(answer)
    if isinstance(obj, dict) and looks_like_review(obj) and not review.parse_notes:
        lists = [v for k, v in obj.items() if str(k).lower() in FINDINGS_KEYS]
        if any(isinstance(v, list) and not v for v in lists):
            return False
    return not says_no_issues(answer if structured is None else str(structured.get("summary", "")))
