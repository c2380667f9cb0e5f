"""Replay benchmark: consolidate the agents' original reviews kept in each corpus report's
appendix and compare the result with the consolidation the report itself holds.

    python benchmarks/replay_corpus.py [--corpus DIR] [--upstream GIT_DIR [--scope]] [-v]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deepreview.offline import OfflineError, consolidate_reviews
from deepreview.parse import parse_review
from deepreview.parse.appendix import split_appendix
from deepreview.parse.report import ReportReadError, read_prior
from deepreview.prior import PriorRound
from deepreview.schema import Finding, Report
from replay_reference import ACTED_ON, Reference, map_members, read_reference, vendor

METHOD = """\
Method. For every corpus report with an appendix of original reviews, the reviews are parsed
and consolidated by deepreview (no source tree unless grounding is asked for). The reference is
read from the report's consolidated part by an independent reader (benchmarks/replay_reference.py):
each consolidated finding's attributed agents are mapped to those agents' own findings, first
through the retro's Reconciliation entries, then by file/line overlap, identical code block and
title words. Same-issue pairs = pairs of agent findings under one consolidated finding; only
agent findings the reference maps take part (findings the lead dropped are neither right nor
wrong to merge). Severity: each reference finding vs. our finding holding most of its members.
Verdict: exact decision, and on three levels (Rework / fixes required / no fixes required);
beside it the constant answer 'Merge with fixes' and the documented verdict rule applied to
the lead's own findings (how often the lead's verdict follows from its own severities).
Each report is given the earlier reports of its series as prior rounds, as a user's later
rounds would be (--no-prior: without them). Unique insights and coverage misses: ours vs. the
retro table, per agent. Finding precision:
our consolidated findings holding an agent finding the lead kept. Acted on: of the critical and
important findings of reports with a Resolution table, the share the author then fixed, tested,
commented or documented (ours through the lead's finding they match; unmatched = not acted on)."""


@dataclass
class Tally:
    """Counts for one report or the total."""

    reports: int = 0
    ref_pairs: int = 0
    our_pairs: int = 0
    common: int = 0
    sev_matched: int = 0
    sev_agree: int = 0
    verdicts: int = 0
    verdict_exact: int = 0
    verdict_level: int = 0
    unmapped: int = 0
    retro_cells: int = 0
    unique_exact: int = 0
    unique_diff: int = 0
    misses_exact: int = 0
    misses_diff: int = 0
    citations: int = 0
    resolved: int = 0
    corrected: int = 0
    rejected: int = 0
    ours: int = 0
    ours_kept: int = 0
    ours_blocking: int = 0
    ref_blocking: int = 0
    verdict_constant: int = 0
    verdict_rule_on_lead: int = 0
    resolved_reports: int = 0
    ref_blocking_resolved: int = 0
    ref_blocking_acted: int = 0
    ours_blocking_resolved: int = 0
    ours_blocking_acted: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)


def _level(d: str | None) -> str | None:
    return {"Merge with optional fixes": "Merge as-is"}.get(d or "", d)


def _pairs(groups: list[set[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset(p) for g in groups for p in combinations(sorted(g), 2)}


def _display_names(report_text: str, headings: list[str]) -> list[str]:
    """Reviewer display names from the header's Reviewers row, matched to headings by vendor."""
    m = re.search(r"\*\*Reviewers\*\*\s*\|\s*(.+?)\s*\|", report_text)
    listed = [re.sub(r"[~*]", "", n).strip() for n in m.group(1).split(",")] if m else []
    names = []
    for h in headings:
        v = vendor(h)
        names.append(next((n for n in listed if vendor(n) == v), h.strip("[] ")))
    return names


def series_key(path: Path) -> str:
    """The review series a report belongs to: its name without the leading timestamp."""
    return re.sub(r"^\d{8}-\d{6}-", "", path.stem)


def earlier_rounds(path: Path, reports: list[Path]) -> list[PriorRound]:
    """The earlier reports of the same series, oldest first, as deepreview reads them back."""
    same = [p for p in reports if series_key(p) == series_key(path) and p.name < path.name]
    rounds = []
    for n, p in enumerate(sorted(same), start=1):
        try:
            rounds.append(read_prior(p.read_text(encoding="utf-8"), n))
        except ReportReadError:
            continue
    return rounds


def replay(
    path: Path,
    upstream: Path | None,
    heads: dict[str, tuple[str, str]],
    verbose: bool,
    prior: list[PriorRound] | None = None,
    scope: bool = False,
) -> Tally | None:
    """Compare one report's own consolidation with ours."""
    text = path.read_text(encoding="utf-8")
    appendix = split_appendix(text)
    if not appendix:
        return None
    names = _display_names(text, [h for h, _ in appendix])
    reviews = [(n, t) for n, (_, t) in zip(names, appendix, strict=True)]
    agent_findings: dict[str, list[Finding]] = {}
    for n, t in reviews:
        v = vendor(n)
        if v is not None:
            agent_findings.setdefault(v, []).extend(parse_review(t).findings)
    if not any(agent_findings.values()):
        print(f"{path.name}: skipped, its appendix holds no findings (only summaries)")
        return None
    ref = read_reference(text)
    map_members(ref, agent_findings)
    titles = {
        (v, f.id): f"{f.title[:50]} @{_where(f)}" for v, fs in agent_findings.items() for f in fs
    }
    head, base = heads.get(path.name, (None, None)) if upstream is not None else (None, None)
    try:
        ours = consolidate_reviews(
            reviews,
            repo=upstream if head else None,
            head=head,
            prior=prior or (),
            base=base if head and scope else None,
        )
    except OfflineError as exc:
        print(f"{path.name}: {exc}", file=sys.stderr)
        return None
    return _compare(ref, ours, titles, grounded=head is not None, verbose=verbose)


def _where(f: Finding) -> str:
    return f.locations[0].label().rsplit("/", 1)[-1] if f.locations else "-"


def _compare(
    ref: Reference,
    ours: Report,
    titles: dict[tuple[str, str], str],
    grounded: bool,
    verbose: bool,
) -> Tally:
    t = Tally(reports=1, unmapped=ref.unmapped)
    universe = {m for r in ref.findings for m in r.members}
    ref_groups = [r.members for r in ref.findings]
    our_groups = [
        {key for s in f.sources if (key := (vendor(s.agent) or s.agent, s.finding_id)) in universe}
        for f in ours.findings
    ]
    rp, op = _pairs(ref_groups), _pairs(our_groups)
    t.ref_pairs, t.our_pairs, t.common = len(rp), len(op), len(rp & op)
    for r in ref.findings:
        if not r.members:
            continue
        best = max(ours.findings, key=lambda f: len(r.members & _keys(f)), default=None)
        if best is None or not r.members & _keys(best):
            continue
        t.sev_matched += 1
        t.sev_agree += best.severity == r.severity
        if verbose and best.severity != r.severity:
            t.details.append(f"  severity {r.id} {r.severity} vs ours {best.id} {r.title[:60]}")
    kept = [f for f in ours.findings if _keys(f) & universe]
    t.ours, t.ours_kept = len(ours.findings), len(kept)
    t.ours_blocking = sum(1 for f in ours.findings if f.severity in BLOCKING)
    t.ref_blocking = sum(1 for r in ref.findings if r.severity in BLOCKING)
    if ref.actions:
        t.resolved_reports = 1
        t.ref_blocking_resolved = t.ref_blocking
        t.ref_blocking_acted = sum(
            1 for r in ref.findings if r.severity in BLOCKING and _acted(ref, r.id)
        )
        t.ours_blocking_resolved = t.ours_blocking
        for f in ours.findings:
            if f.severity not in BLOCKING:
                continue
            r = max(ref.findings, key=lambda r: len(r.members & _keys(f)), default=None)
            t.ours_blocking_acted += bool(r and r.members & _keys(f) and _acted(ref, r.id))
    if verbose:
        for f in ours.findings:
            if f not in kept:
                t.details.append(f"  unkept {f.id} {f.severity} {f.title[:60]}")
    if ref.verdict is not None:
        t.verdicts = 1
        t.verdict_constant = ref.verdict == CONSTANT_VERDICT
        t.verdict_rule_on_lead = ref.verdict == _rule_verdict(r.severity for r in ref.findings)
        t.verdict_exact = ours.verdict.decision == ref.verdict
        t.verdict_level = _level(ours.verdict.decision) == _level(ref.verdict)
    for row in ours.retro:
        v = vendor(row.agent)
        if v in ref.unique and v in ref.misses:
            t.retro_cells += 1
            t.unique_exact += row.unique_insights == ref.unique[v]
            t.unique_diff += abs(row.unique_insights - ref.unique[v])
            t.misses_exact += row.coverage_misses == ref.misses[v]
            t.misses_diff += abs(row.coverage_misses - ref.misses[v])
    if grounded:
        t.citations = len(ours.reconciliation)
        t.rejected = sum(1 for d in ours.dropped if d.kind == "false-positive")
        t.corrected = sum(
            1
            for e in ours.reconciliation
            if e.consolidated_id is not None and re.search(r"corrected|renamed|clamped", e.note)
        )
        t.resolved = t.citations - t.rejected - t.corrected
    if verbose:
        missed = rp - op
        extra = op - rp
        for label, pairs in (("missed", missed), ("extra", extra)):
            for p in sorted(pairs, key=sorted):
                a, b = sorted(p)
                t.details.append(f"  {label} {a[0]} {a[1]} {titles.get(a)}")
                t.details.append(f"  {' ' * len(label)} {b[0]} {b[1]} {titles.get(b)}")
        if ref.verdict and ours.verdict.decision != ref.verdict:
            t.details.append(f"  verdict {ref.verdict} vs ours {ours.verdict.decision}")
    return t


#: Severities that hold up a merge.
BLOCKING = ("critical", "important")
#: The baseline that answers the same verdict for every report.
CONSTANT_VERDICT = "Merge with fixes"


def _rule_verdict(severities: Iterable[str]) -> str:
    """The decision the documented verdict rule gives for findings of these severities."""
    present = set(severities)
    return next((d for sev, d in RULE if sev in present), "Merge as-is")


#: The documented verdict rule: the most severe level present decides.
RULE = (
    ("critical", "Rework"),
    ("important", "Merge with fixes"),
    ("suggestion", "Merge with optional fixes"),
)


def _acted(ref: Reference, finding_id: str) -> bool:
    """Whether the Resolution table says the author acted on the finding."""
    return ref.actions.get(finding_id, "").startswith(ACTED_ON)


def _keys(f: object) -> set[tuple[str, str]]:
    return {(vendor(s.agent) or s.agent, s.finding_id) for s in getattr(f, "sources", [])}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  n/a"


def _by_date(upstream: Path, shas: list[str]) -> list[str]:
    """`shas` newest first by commit date (those upstream has)."""
    return subprocess.run(
        ["git", "-C", str(upstream), "rev-list", "--no-walk", "--date-order", *shas],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()


def upstream_heads(readme: Path, upstream: Path | None) -> dict[str, tuple[str, str]]:
    """Report file -> its reviewed (head, base), from the corpus README's list. The head is the
    newest (by commit date) of the report's shas when all of them are still upstream (the
    list's own order is not always newest first): a report some of whose commits are gone has
    no known head, as the newest one left is an earlier state of the branch and grounding
    against it rejects what later commits added. The base is the parent of the oldest sha
    listed for any report of its series (a later round may list only its new commits)."""
    if not readme.is_file() or upstream is None:
        return {}
    complete: dict[str, list[str]] = {}
    series: dict[str, list[str]] = {}
    for line in readme.read_text(encoding="utf-8").split("\n"):
        m = re.match(r"^(\S+\.md) (\d+)/(\d+) ((?:[0-9a-f]{40} ?)+)$", line.strip())
        if not m:
            continue
        shas = m.group(4).split()
        series.setdefault(series_key(Path(m.group(1))), []).extend(shas)
        if m.group(2) == m.group(3):
            complete[m.group(1)] = shas
    out: dict[str, tuple[str, str]] = {}
    for name, shas in complete.items():
        newest = _by_date(upstream, shas) or shas
        oldest = _by_date(upstream, series[series_key(Path(name))]) or shas
        out[name] = (newest[0], f"{oldest[-1]}^")
    return out


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    corpus = next(
        (d / "shared/corpus/rdd-reviews" for d in repo.parents if (d / "shared/corpus").is_dir()),
        repo.parent / "shared/corpus/rdd-reviews",
    )
    parser.add_argument("--corpus", type=Path, default=corpus)
    parser.add_argument("--upstream", type=Path, help="git dir of the reviewed repository")
    parser.add_argument(
        "--scope",
        action="store_true",
        help="with --upstream: place findings against each report's change (from the parent of "
        "its oldest commit); pre-existing ones leave the comparison, as in a review",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    parser.add_argument(
        "--no-prior",
        action="store_true",
        help="do not give each report the earlier reports of its series (--prior)",
    )
    args = parser.parse_args(argv)
    reports = sorted(args.corpus.glob("*.md"))
    if not reports:
        print(f"no reports in {args.corpus}", file=sys.stderr)
        return 2
    heads = upstream_heads(args.corpus.parent / "README.md", args.upstream)
    print(METHOD)
    if args.upstream is None:
        print("Grounding (e) skipped: no --upstream given.")
    print()
    cols = "report                                 refP ourP  tp  sev   verdict(ref/ours)"
    print(cols)
    total = Tally()
    started = time.perf_counter()
    for path in reports:
        prior = None if args.no_prior else earlier_rounds(path, reports)
        t = replay(path, args.upstream, heads, args.verbose, prior, args.scope)
        if t is None:
            continue
        total.add(t)
        print(
            f"{path.name[:38]:<38} {t.ref_pairs:>4} {t.our_pairs:>4} {t.common:>3} "
            f"{t.sev_agree:>2}/{t.sev_matched:<2} {'=' if t.verdict_exact else 'x'}"
            + (f" ground {t.resolved}/{t.corrected}/{t.rejected}" if t.citations else "")
        )
        for line in t.details:
            print(line)
    elapsed = time.perf_counter() - started
    p = total.common / total.our_pairs if total.our_pairs else 0.0
    r = total.common / total.ref_pairs if total.ref_pairs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print()
    print(f"reports replayed            {total.reports} ({elapsed:.1f} s)")
    print(f"pairs ref / ours / common   {total.ref_pairs} / {total.our_pairs} / {total.common}")
    print(f"pair precision / recall / F1 {p:.3f} / {r:.3f} / {f1:.3f}")
    print(
        f"severity agreement          {_ratio(total.sev_agree, total.sev_matched)} "
        f"({total.sev_agree}/{total.sev_matched})"
    )
    print(
        f"verdict agreement exact     {_ratio(total.verdict_exact, total.verdicts)} "
        f"({total.verdict_exact}/{total.verdicts})"
    )
    print(
        f"constant '{CONSTANT_VERDICT}'  {_ratio(total.verdict_constant, total.verdicts)} "
        f"({total.verdict_constant}/{total.verdicts}) (baseline for the exact agreement)"
    )
    print(
        f"the rule on the lead's own  {_ratio(total.verdict_rule_on_lead, total.verdicts)} "
        f"({total.verdict_rule_on_lead}/{total.verdicts}) (the documented verdict rule applied "
        "to the lead's own findings)"
    )
    print(
        f"verdict agreement 3 levels  {_ratio(total.verdict_level, total.verdicts)} "
        f"({total.verdict_level}/{total.verdicts})"
    )
    print(
        f"finding precision           {_ratio(total.ours_kept, total.ours)} "
        f"({total.ours_kept}/{total.ours} of ours match a finding the lead kept)"
    )
    print(
        f"critical+important ours/ref {_ratio(total.ours_blocking, total.ref_blocking)} "
        f"({total.ours_blocking}/{total.ref_blocking})"
    )
    print(
        "acted on by the author      ours "
        f"{_ratio(total.ours_blocking_acted, total.ours_blocking_resolved)} "
        f"({total.ours_blocking_acted}/{total.ours_blocking_resolved}) vs lead "
        f"{_ratio(total.ref_blocking_acted, total.ref_blocking_resolved)} "
        f"({total.ref_blocking_acted}/{total.ref_blocking_resolved}), "
        f"{total.resolved_reports} reports with a Resolution table"
    )
    print(
        f"unique insights exact       {_ratio(total.unique_exact, total.retro_cells)} "
        f"(mean abs diff {total.unique_diff / max(total.retro_cells, 1):.2f})"
    )
    print(
        f"coverage misses exact       {_ratio(total.misses_exact, total.retro_cells)} "
        f"(mean abs diff {total.misses_diff / max(total.retro_cells, 1):.2f})"
    )
    print(f"attributions left unmapped  {total.unmapped}")
    if args.upstream is not None:
        print(
            f"grounding: citations {total.citations}, resolved {total.resolved}, "
            f"corrected {total.corrected}, rejected {total.rejected}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
