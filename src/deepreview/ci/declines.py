"""Declines said on the forge: a reply `/deepreview decline <reason>` to one of our comments.

Only people with write access can decline (an untrusted pull-request author cannot silence a
finding); the reply names its finding by the fingerprint of the comment it answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deepreview.ci.environment import COMMAND
from deepreview.ci.state import RoundState
from deepreview.schema import DeclinedFinding

DECLINE = f"{COMMAND} decline"
_MAX_REASON = 500


def decline_reason(body: str) -> str | None:
    """The reason of a `/deepreview decline <reason>` reply, else None."""
    text = body.strip()
    if not text.lower().startswith(DECLINE):
        return None
    reason = " ".join(text[len(DECLINE) :].split())
    return reason[:_MAX_REASON] or "declined"


def replied_declines(
    replies: Sequence[tuple[str, str]],
    state: RoundState | None,
    known: Sequence[DeclinedFinding],
) -> list[DeclinedFinding]:
    """Declines from trusted `(fingerprint, reply body)` pairs, after the `known` ones (a
    fingerprint declined twice keeps its first reason)."""
    titles: Mapping[str, str] = {f.fingerprint: f.title for f in state.findings} if state else {}
    round_no = state.round if state else 1
    out = {d.fingerprint: d for d in known}
    for fingerprint, body in replies:
        reason = decline_reason(body)
        if reason is None or fingerprint in out:
            continue
        out[fingerprint] = DeclinedFinding(
            fingerprint=fingerprint,
            title=titles.get(fingerprint, fingerprint),
            round=round_no,
            reason=reason,
        )
    return list(out.values())
