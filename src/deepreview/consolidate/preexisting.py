"""Pre-existing findings: what the change did not introduce is listed apart, never dropped.

Rule: a finding is pre-existing when its cited code stood unchanged at the merge base and the
change did not write it — none of its places is in a counted scope (by default: on lines the
change adds), or the added lines it cites only move code the change deletes elsewhere (a moved
or rewritten file git cannot pair as a rename) — unless an AI reviewer ties it to the change,
by citing a line the change writes, by saying the change causes it (removes, breaks,
introduces) or makes it reachable or worse, or by saying tests are missing (a review asks for
tests of what the change does, wherever the test file is). Pre-existing findings are listed in
Design Observations with the merge-base place named in the reason. The diff runs from the
merge base, so every place the change does not write is code the merge base already had, and
the diff alone says where it stood there: no check reads more than the diff once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from deepreview.consolidate.claim import TEST_GAP, Claim
from deepreview.diff import FileDiff
from deepreview.parse.locations import find_locations
from deepreview.schema import Location
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
    r"|\bregression\b|\bmakes?\s+(?:it|this|the \w+)\s+worse\b|\bexacerbat\w*"
    f"|{TEST_GAP.pattern}",
    re.IGNORECASE,
)

#: Non-space characters the cited added lines need before they are recognised as moved code
#: (a lone brace or `return nil` stands in too many places to say where it came from).
MOVED_MIN_CHARS = 24


class BaseCode:
    """Where cited code stood at the merge base, read from the diff (its deleted lines are
    indexed once, on first use)."""

    def __init__(self, scope: DiffScope) -> None:
        self.scope = scope
        self._deleted: dict[str, dict[str, int]] | None = None
        self._added: dict[str, dict[int, str]] = {}

    def written(self, locations: Sequence[Location]) -> bool:
        """Whether the change writes code at any of `locations`: adds lines there that are not
        only code it moved."""
        return any(
            (p := self.scope.place_one(loc)) is not None
            and p.scope is Scope.ADDED
            and self.moved_from(loc) is None
            for loc in locations
        )

    def moved_from(self, loc: Location) -> Location | None:
        """The merge-base place of the lines the change adds at `loc` when they only move code
        the change deletes (each cited added line, stripped, among one file's deleted lines);
        None when they are new code, too short to tell, or the place has no lines."""
        fd = self.scope.file(loc.path)
        if fd is None or loc.start_line is None or fd.status == "deleted":
            return None
        start, end = loc.start_line, max(loc.end_line or loc.start_line, loc.start_line)
        if fd.path not in self._added:
            self._added[fd.path] = {
                ln.new_lineno: ln.text.strip() for ln in fd.added() if ln.new_lineno is not None
            }
        lines = self._added[fd.path]
        if end - start < len(lines):
            cited = [lines.get(n, "") for n in range(start, end + 1)]
        else:
            cited = [text for n, text in sorted(lines.items()) if start <= n <= end]
        added = [text for text in cited if text]
        if sum(len(t.replace(" ", "")) for t in added) < MOVED_MIN_CHARS:
            return None
        deleted = self._index()
        sources = sorted(
            (path for path, lines in deleted.items() if all(t in lines for t in added)),
            key=lambda p: (p != (fd.old_path or loc.path), p),
        )
        if not sources:
            return None
        return Location(path=sources[0], start_line=deleted[sources[0]][added[0]])

    def at_base(self, loc: Location) -> Location:
        """Where a place the change does not write stood at the merge base: its old path and
        the line before the change's hunks above it shifted it."""
        fd = self.scope.file(loc.path)
        if fd is None:
            return loc
        path = fd.old_path or loc.path
        if loc.start_line is None:
            return Location(path=path)
        return Location(path=path, start_line=loc.start_line - _shift(fd, loc.start_line))

    def _index(self) -> dict[str, dict[str, int]]:
        """Old path -> stripped deleted line -> its first old line number."""
        if self._deleted is None:
            self._deleted = {}
            for fd in self.scope.diff.files if self.scope.diff is not None else ():
                if fd.old_path is None or not fd.deleted_count:
                    continue
                lines = self._deleted.setdefault(fd.old_path, {})
                for h in fd.hunks:
                    for ln in h.lines:
                        if ln.kind == "deleted" and ln.old_lineno is not None:
                            lines.setdefault(ln.text.strip(), ln.old_lineno)
        return self._deleted


def _shift(fd: FileDiff, line: int) -> int:
    """How many lines the change added above new-side `line`, less those it deleted there."""
    shift = 0
    for h in fd.hunks:
        if h.new_count == 0:  # only deletes, after new line `new_start`
            if h.new_start >= line:
                break
            shift -= h.old_count
            continue
        if h.new_start > line:
            break
        if h.new_start + h.new_count - 1 < line:
            shift += h.new_count - h.old_count
            continue
        for ln in h.lines:  # the hunk holding `line`: only its lines above it count
            if ln.new_lineno is not None and ln.new_lineno >= line:
                break
            shift += (ln.kind == "added") - (ln.kind == "deleted")
        break
    return shift


def tied_to_change(claim: Claim, base: BaseCode) -> bool:
    """Whether an AI reviewer's claim cites a line the change writes or names the change as
    what causes the problem or makes it reachable or worse."""
    if claim.kind != "ai":
        return False
    text = f"{claim.finding.title}\n{claim.finding.body}"
    if _TIED.search(text):
        return True
    cited = find_locations(text, [])
    return bool(cited) and base.written(cited)


def pre_existing_reason(
    placement: Placement | None,
    locations: Sequence[Location],
    members: Sequence[Claim],
    base: BaseCode,
    counted: Collection[Scope],
) -> str | None:
    """Why a cluster is pre-existing (naming where its code stood at the merge base), or None
    when it counts toward the verdict."""
    if placement is None:
        return None
    moved: Location | None = None
    if placement.scope in counted:
        if placement.scope is not Scope.ADDED or base.written(locations):
            return None
        moved = next((m for loc in locations if (m := base.moved_from(loc)) is not None), None)
    if any(tied_to_change(c, base) for c in members):
        return None
    if moved is not None:
        return (
            f"pre-existing: the change moves this code unchanged from `{moved.label()}` at the "
            "merge base; listed in Design Observations"
        )
    where = base.at_base(locations[0]).label() if locations else "no cited place"
    return (
        f"pre-existing: the cited code is unchanged since the merge base (`{where}` there; "
        f"{placement.scope.describe().rstrip('.').lower()}); listed in Design Observations"
    )
