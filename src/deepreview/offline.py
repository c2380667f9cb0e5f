"""Consolidating reviews that were written elsewhere: each agent's answer given as text (our JSON
review schema or free Markdown), merged by the same engine as `review` into one Report."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from deepreview.consolidate import ConsolidationInput, consolidate
from deepreview.diff import Diff, parse_diff
from deepreview.parse import parse_review
from deepreview.parse.report import ReportReadError, read_prior
from deepreview.prior import PriorRound
from deepreview.schema import AgentRun, Report, ReportTarget
from deepreview.source.git import TargetError, git, merge_base, resolve
from deepreview.source.tree import GitTree

__all__ = ["OfflineError", "consolidate_reviews", "review_spec"]


class OfflineError(Exception):
    """The reviews or the repository cannot be used; the message is shown to the user as is."""


def prior_round(path: Path, number: int) -> PriorRound:
    """The earlier round a report file holds (`number` when the report does not say)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise OfflineError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return read_prior(text, number)
    except ReportReadError as exc:
        raise OfflineError(f"{path}: {exc}") from exc


def review_spec(spec: str) -> tuple[str, Path]:
    """`NAME=FILE` -> (NAME, FILE); a bare `FILE` is named after its stem (`claude.md` ->
    `claude`). A `=` inside a path that exists as a whole is part of the path."""
    name, sep, file = spec.partition("=")
    if not sep or Path(spec).exists():
        path = Path(spec)
        if not path.stem:
            raise OfflineError(f"bad review {spec!r}: expected NAME=FILE or FILE")
        return path.stem, path
    if not name.strip() or not file:
        raise OfflineError(f"bad review {spec!r}: expected NAME=FILE or FILE")
    return name.strip(), Path(file)


def consolidate_reviews(
    reviews: Sequence[tuple[str, str]],
    *,
    repo: Path | None = None,
    head: str | None = None,
    families: Mapping[str, str] | None = None,
    prior: Sequence[PriorRound] = (),
    base: str | None = None,
) -> Report:
    """One Report from (reviewer display name, review text) pairs. With `repo`, every cited
    file, line and excerpt is checked against the commit `head` (default HEAD) of that
    repository (a bare one works too). `prior`: earlier rounds, whose declined findings are
    not raised again. With `base` (needs `repo`), findings are placed against the change from
    the merge base of `base` and the head, and pre-existing ones listed apart. Raises
    OfflineError for no reviews or an unknown commit."""
    if not reviews:
        raise OfflineError("no reviews to consolidate")
    if (head is not None or base is not None) and repo is None:
        raise OfflineError("a head or base commit needs a repository (--repo)")
    runs = _runs(reviews)
    tree: GitTree | None = None
    head_sha: str | None = None
    diff: Diff | None = None
    if repo is not None:
        if not repo.is_dir():
            raise OfflineError(f"{repo}: no such directory")
        try:
            head_sha = resolve(repo, head or "HEAD")
            tree = GitTree(repo, head_sha)
            if base is not None:
                start = merge_base(repo, resolve(repo, base), head_sha)
                diff = parse_diff(
                    git(repo, "diff", "-M", "--no-color", "--no-ext-diff", start, head_sha)
                )
        except (TargetError, ValueError) as exc:
            raise OfflineError(f"{exc} (in {repo})") from exc
    declined = [d for p in prior for d in p.declined]
    result = consolidate(
        ConsolidationInput(
            runs=runs, tree=tree, diff=diff, families=dict(families or {}), declined=declined
        )
    )
    created = datetime.now(UTC)
    return Report(
        id=f"{created.strftime('%Y%m%d-%H%M%S')}-consolidated",
        created_at=created,
        round=max((p.round for p in prior), default=0) + 1,
        target=ReportTarget(kind="range", head_sha=head_sha),
        runs=runs,
        **result.report_fields(),
    )


def _runs(reviews: Sequence[tuple[str, str]]) -> list[AgentRun]:
    """One AgentRun per review (failed when nothing could be read from it); repeated names get
    ` (2)`, ` (3)`, ..."""
    seen: dict[str, int] = {}
    runs: list[AgentRun] = []
    for name, text in reviews:
        seen[name] = seen.get(name, 0) + 1
        display = name if seen[name] == 1 else f"{name} ({seen[name]})"
        review = parse_review(text)
        empty = not (review.findings or review.summary or review.concerns or review.strengths)
        runs.append(
            AgentRun(
                agent=re.sub(r"[^a-z0-9]+", "-", display.lower()).strip("-") or "reviewer",
                display_name=display,
                kind="ai",
                status="failed" if empty else "ok",
                reason="the review holds no findings, summary or observations" if empty else None,
                raw_output=text,
                review=None if empty else review,
                notes=[f"Parsing: {note}" for note in review.parse_notes],
            )
        )
    return runs
