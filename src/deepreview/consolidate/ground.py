"""Grounding: check each claim's cited files, lines and excerpt against the head tree."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepreview.consolidate.excerpt import FileIndex, excerpt_variants, locate
from deepreview.consolidate.paths import normalize_path
from deepreview.consolidate.tree import SourceTree
from deepreview.schema import Finding, Location
from deepreview.scope import DiffScope


@dataclass
class Grounding:
    """What grounding made of one finding: its checked locations, or why it was rejected."""

    locations: list[Location] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    drop_reason: str | None = None


class Grounder:
    """Checks findings against a SourceTree (each file read and indexed once)."""

    def __init__(self, tree: SourceTree | None, diff: DiffScope) -> None:
        self._tree = tree
        self._diff = diff
        self._lines: dict[str, list[str] | None] = {}
        self._indexes: dict[str, FileIndex] = {}
        self._by_name: dict[str, list[str]] | None = None

    def ground(self, finding: Finding) -> Grounding:
        """Normalize paths, verify files, lines and excerpt; correct lines where they are off."""
        out = Grounding()
        located: list[Location] = []
        rejected: list[str] = []
        for loc in finding.locations:
            path = normalize_path(loc.path)
            if path is None:
                rejected.append(loc.path)
                continue
            path = self._resolve(path, out.notes)
            if loc.start_line is None and any(o.path == path for o in located):
                continue
            located.append(loc if loc.path == path else loc.model_copy(update={"path": path}))
        if rejected:
            listed = ", ".join(f"`{p}`" for p in rejected)
            if not located:
                out.drop_reason = f"cites a path outside the repository: {listed}"
                return out
            out.notes.append(f"ignored location outside the repository: {listed}")
        if self._tree is None:
            out.locations = [_sanitize(loc, None, out.notes) for loc in located]
            return out
        return self._verify(finding, located, out)

    def _verify(self, finding: Finding, located: list[Location], out: Grounding) -> Grounding:
        present: list[tuple[Location, list[str] | None]] = []
        missing: list[str] = []
        for loc in located:
            fd = self._diff.file(loc.path)
            if fd is not None and fd.status == "deleted":
                present.append((loc, None))  # gone at head: nothing to check against
                continue
            lines = self._read(loc.path)
            if lines is None:
                missing.append(loc.path)
            else:
                present.append((loc, lines))
        if missing and not present:
            out.drop_reason = f"cited file `{missing[0]}` does not exist at head (or is binary)"
            return out
        if missing:
            listed = ", ".join(f"`{p}`" for p in missing)
            out.notes.append(f"removed location in missing file {listed}")
        checked = [loc for loc, _ in present]
        readable = [(i, loc) for i, (loc, lines) in enumerate(present) if lines is not None]
        variants = excerpt_variants(finding.excerpt or "")
        if readable and variants:
            for i, loc in readable:
                span = locate(variants, self._index(loc.path), loc.start_line)
                if span is not None:
                    checked[i] = _correct(loc, span, out.notes)
                    break
            else:
                listed = ", ".join(f"`{loc.path}`" for _, loc in readable)
                out.drop_reason = f"excerpt not found in {listed}"
                return out
        out.locations = [
            _sanitize(loc, len(lines) if lines is not None else None, out.notes)
            for loc, (_, lines) in zip(checked, present, strict=True)
        ]
        return out

    def _resolve(self, path: str, notes: list[str]) -> str:
        """Undo a diff prefix (`a/`, `b/`) and follow a rename to the head path."""
        head, _, rest = path.partition("/")
        if head in ("a", "b") and rest and not self._known(path):
            path = rest
        fd = self._diff.file(path)
        if fd is not None and fd.status == "renamed" and fd.old_path == path and fd.new_path:
            notes.append(f"`{path}` was renamed to `{fd.new_path}`")
            path = fd.new_path
        elif fd is None and not self._known(path):
            full = self._complete(path)
            if full is not None:
                notes.append(f"`{path}` resolved to `{full}`")
                path = full
        return path

    def _complete(self, path: str) -> str | None:
        """The one file whose path ends with `path` (a bare or partial name an agent cited):
        among the changed files first, else the whole tree; None when none or several match."""
        suffix = "/" + path
        changed = [p for p in self._diff.paths if p.endswith(suffix)]
        if changed:
            return changed[0] if len(changed) == 1 else None
        if self._tree is None:
            return None
        if self._by_name is None:
            self._by_name = {}
            for p in self._tree.paths():
                self._by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)
        matches = [p for p in self._by_name.get(path.rsplit("/", 1)[-1], []) if p.endswith(suffix)]
        return matches[0] if len(matches) == 1 else None

    def _known(self, path: str) -> bool:
        return self._diff.file(path) is not None or self._read(path) is not None

    def _read(self, path: str) -> list[str] | None:
        if self._tree is None:
            return None
        if path not in self._lines:
            self._lines[path] = self._tree.read_lines(path)
        return self._lines[path]

    def _index(self, path: str) -> FileIndex:
        if path not in self._indexes:
            self._indexes[path] = FileIndex(self._read(path) or [])
        return self._indexes[path]


def _correct(loc: Location, span: tuple[int, int], notes: list[str]) -> Location:
    """`loc` moved to where the excerpt is, unless its cited range already contains it."""
    start, end = span
    if loc.start_line is not None:
        cited_end = loc.end_line if loc.end_line is not None else loc.start_line
        if loc.start_line <= start and end <= cited_end:
            return loc
    fixed = Location(path=loc.path, start_line=start, end_line=end if end != start else None)
    notes.append(f"lines corrected from `{loc.label()}` to `{fixed.label()}`")
    return fixed


def _sanitize(loc: Location, n_lines: int | None, notes: list[str]) -> Location:
    """Line numbers brought into range: an impossible start removes the lines, an end past
    the file (or before the start) is clamped."""
    start, end = loc.start_line, loc.end_line
    if start is None:
        return loc if end is None else Location(path=loc.path)
    if start < 1 or (n_lines is not None and start > n_lines):
        size = f" ({n_lines} lines)" if n_lines is not None else ""
        notes.append(f"line {start} is outside `{loc.path}`{size}; line removed")
        return Location(path=loc.path)
    if end is not None and end < start:
        notes.append(f"end line {end} precedes start line {start} in `{loc.path}`; end removed")
        end = None
    if end is not None and n_lines is not None and end > n_lines:
        notes.append(f"end line {end} clamped to the last line of `{loc.path}` ({n_lines})")
        end = n_lines
    if end == start:
        end = None
    if (start, end) == (loc.start_line, loc.end_line):
        return loc
    return Location(path=loc.path, start_line=start, end_line=end)
