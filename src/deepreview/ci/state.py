"""The round state hidden in a published review: what the next round needs, without a database.

A CI runner starts with an empty `.deepreview/`, so the published summary carries the previous
round in an HTML comment that forges do not display: `<!-- deepreview:state v1 DATA -->`, DATA
being base64 of zlib-compressed JSON. The block is versioned (an unknown version is ignored, not
misread), size-bounded (findings beyond the budget are left out, the count says so) and built
from the already-redacted report, redacted once more on the way out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepreview.redact import Redactor
from deepreview.schema import DeclinedFinding, Report, Severity

STATE_VERSION: Literal[1] = 1
#: The encoded block never exceeds this many characters (well inside a 65,536-character body).
MAX_BLOCK_CHARS = 16_000
_MAX_TITLE = 200
_BLOCK_RE = re.compile(r"<!-- deepreview:state v(\d{1,4}) ([A-Za-z0-9+/=]{0,200000}) -->")


class StateFinding(BaseModel):
    """A finding of the published round, as the next round compares against it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    fingerprint: str
    severity: Severity
    title: str
    location: str = ""


class RoundState(BaseModel):
    """The machine-readable summary of one published round."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1] = STATE_VERSION
    report_id: str
    round: int = Field(ge=1)
    head_sha: str | None = None
    findings: list[StateFinding] = Field(default_factory=list)
    declined: list[DeclinedFinding] = Field(default_factory=list)
    resolutions: dict[str, str] = Field(
        default_factory=dict, description="Fingerprint -> what became of it (fixed, ...)."
    )
    omitted: int = Field(default=0, description="Findings left out to keep the block small.")

    @classmethod
    def of(cls, report: Report) -> RoundState:
        """The state of `report`'s round."""
        by_fp = {p.fingerprint: p.status for p in report.prior_findings}
        return cls(
            report_id=report.id,
            round=report.round,
            head_sha=report.target.head_sha,
            findings=[
                StateFinding(
                    id=f.id,
                    fingerprint=f.fingerprint,
                    severity=f.severity,
                    title=f.title[:_MAX_TITLE],
                    location=f.locations[0].label() if f.locations else "",
                )
                for f in report.findings
            ],
            declined=list(report.declined),
            resolutions=by_fp,
        )


def _encode(state: RoundState) -> str:
    raw = json.dumps(state.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)
    return base64.b64encode(zlib.compress(raw.encode("utf-8"), 9)).decode("ascii")


def state_block(report: Report, redactor: Redactor | None = None) -> str:
    """The hidden block for `report`, at most `MAX_BLOCK_CHARS` long.

    Findings are kept most severe first (the report's order) until the block fits; declines
    are always kept, since losing one would re-raise it.
    """
    state = RoundState.of(report)
    if redactor is not None:
        state = redactor.model(state)
    findings = list(state.findings)
    while True:
        candidate = state.model_copy(
            update={"findings": findings, "omitted": len(state.findings) - len(findings)}
        )
        block = f"<!-- deepreview:state v{STATE_VERSION} {_encode(candidate)} -->"
        if len(block) <= MAX_BLOCK_CHARS or not findings:
            return block
        findings = findings[: len(findings) * 3 // 4]


def read_state(body: str) -> RoundState | None:
    """The round state hidden in a published body; None when there is none or it is unreadable
    (another version, damaged, or edited by hand)."""
    found = None
    for match in _BLOCK_RE.finditer(body):
        found = match  # the last block wins: it is the one this tool appended
    if found is None or int(found[1]) != STATE_VERSION:
        return None
    try:
        raw = zlib.decompressobj().decompress(base64.b64decode(found[2], validate=True), 1 << 22)
        return RoundState.model_validate(json.loads(raw))
    except (binascii.Error, zlib.error, ValueError, ValidationError):
        return None
