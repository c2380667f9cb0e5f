"""Agents' answers -> AgentReview: structured JSON when the answer holds it, else free-form
Markdown."""

from __future__ import annotations

from deepreview.parse.markdown import parse_markdown_review
from deepreview.parse.structured import (
    extract_json,
    json_error,
    looks_like_review,
    review_from_json,
)
from deepreview.schema import AgentReview

__all__ = ["parse_review"]


def parse_review(text: str, *, root: str | None = None) -> AgentReview:
    """Parse an agent's answer. Never raises. JSON shaped like a review (bare, fenced or
    surrounded by prose) is read as such; anything else as a Markdown review. What could not
    be parsed is described in `parse_notes`, and so is a JSON review that does not decode (it is
    then read as Markdown). `root`: the directory the agent ran in, so that absolute paths it
    cites can be made repository-relative."""
    obj = extract_json(text)
    if obj is not None and looks_like_review(obj):
        review, notes = review_from_json(obj, root=root)
    else:
        review = parse_markdown_review(text, root=root)
        why = json_error(text)
        notes = (
            [f"the answer's JSON review does not decode ({why}); read as Markdown"] if why else []
        )
    if notes:
        review = review.model_copy(update={"parse_notes": [*review.parse_notes, *notes]})
    return review
