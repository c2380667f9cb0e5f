"""Pre-existing findings: what the change did not introduce is listed apart, never dropped.

Rule: a finding counts toward the verdict when one of its places is in a counted scope (by
default: on lines the change adds), or when an AI reviewer ties it to the change, by citing a
line the change adds or by saying the change causes it (removes, breaks, introduces) or makes
it reachable or worse; any
other finding is pre-existing (listed in Design Observations). The diff runs from the merge
base, so a place that is not on an added line is code the merge base already had.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from deepreview.consolidate.claim import Claim
from deepreview.parse.locations import find_locations
from deepreview.scope import DiffScope, Placement, Scope

#: The change named as the cause, or the code said to be newly reachable or worse (bounded
#: gaps keep the match linear).
_TIED = re.compile(
    r"\b(?:this|the)\s+(?:change|pr|pull request|patch|commit|diff|branch)\b[^.\n]{0,80}?"
    r"\b(?:now|makes?|made|introduc\w*|caus\w*|expos\w*|break\w*|regress\w*|trigger\w*"
    r"|reach\w*|worsen\w*|remov\w*|delet\w*|drop\w*)\b"
    r"|\b(?:introduced|caused|exposed|worsened)\s+by\s+(?:this|the)\s+"
    r"(?:change|pr|pull request|patch|commit|diff)\b"
    r"|\b(?:now|newly)\s+(?:reachable|exposed|triggered|called|hit|possible|broken)\b"
    r"|\bregression\b|\bmakes?\s+(?:it|this|the \w+)\s+worse\b|\bexacerbat\w*",
    re.IGNORECASE,
)


def tied_to_change(claim: Claim, scope: DiffScope) -> bool:
    """Whether an AI reviewer's claim cites a line the change adds or names the change as
    what causes the problem or makes it reachable or worse."""
    if claim.kind != "ai":
        return False
    text = f"{claim.finding.title}\n{claim.finding.body}"
    if _TIED.search(text):
        return True
    cited = find_locations(text, [])
    return bool(cited) and scope.added(cited)


def pre_existing_reason(
    placement: Placement | None,
    members: Sequence[Claim],
    scope: DiffScope,
    counted: Collection[Scope],
) -> str | None:
    """Why a cluster is pre-existing, or None when it counts toward the verdict."""
    if placement is None or placement.scope in counted:
        return None
    if any(tied_to_change(c, scope) for c in members):
        return None
    return (
        f"pre-existing: the cited code is unchanged since the merge base "
        f"({placement.scope.describe().rstrip('.')}); listed in Design Observations"
    )
