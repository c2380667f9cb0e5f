"""How many findings the Markdown parser recovers from real reviews.

    python benchmarks/parse_corpus.py [CORPUS_DIR] [-v] [--fail-under PCT]

For each report in CORPUS_DIR (default: ../shared/corpus/rdd-reviews next to the repository),
the agents' reviews are taken from the report's `## Appendix: Original Reviews`. A small
line-based counter, independent of the parser, lists the findings each review numbers itself
(numbered items and id-led heads such as `I2.` inside the Critical / Important / Suggestions /
Findings sections); the parser's findings are matched to them by id. Printed per report and in
total: reviews, numbered findings, recovered findings and their share, and how many of the
recovered ones have a severity stated by the agent, at least one location, and a fix. Then the
locations: every distinct `path:line` (also `path, line N`) a review cites, counted by a regex
of its own, and how many of those the parser put on a finding (`cited`, `locrec`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from deepreview.parse.appendix import split_appendix
from deepreview.parse.markdown import parse_markdown_review

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s+(?P<h>.+)|(?:[-*]\s+)?\*\*(?P<b>[^*]+)\*\*:?\s*)$")
_LETTER_ITEM = re.compile(r"^\s{0,3}(?:#{2,6}\s+)?(?:[-*+]\s+)?(?:\*\*)?\s*(?P<id>[CIS]\d{1,3})\b")
_NUMBER_ITEM = re.compile(r"^\s{0,3}(?:#{2,6}\s+)?(?:\*\*)?(?P<n>\d{1,3})\.\s+(?:\*\*)?\S")
_CITATION = re.compile(
    r"(?<![\w/.-])(?P<path>(?:[\w.-]+/)*[\w.-]+\.[A-Za-z]{1,5})`?"
    r"(?::|,?\s+\(?lines?\s+)(?P<line>\d+)"
)
_SECTION_LETTER = (
    (re.compile(r"^(critical|blockers?)\b"), "C"),
    (re.compile(r"^(important|major)\b"), "I"),
    (re.compile(r"^(suggestions?|minor|nits?)\b"), "S"),
)


def numbered_findings(review: str) -> list[str]:
    """The ids of the findings a review numbers itself, in order: `I2` as written, a plain
    `2.` under "Important Issues" as I2, under a bare "Findings" heading as 2. Within one
    section, plain numbers must count up by one (other numbered lists are a finding's text);
    once a review uses letter ids, plain numbered items are not findings. Repeated ids get
    `-2`, `-3`, ... A fence around the whole review is ignored."""
    ids: list[str] = []
    fenced = in_findings = letter_ids = False
    letter: str | None = None
    last: int | None = None
    lines = review.strip().split("\n")
    if len(lines) > 1 and _FENCE.match(lines[0]) and lines[-1].rstrip().endswith(("```", "~~~")):
        lines = lines[1:-1]  # the whole review wrapped in one code fence
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else _HEADING.match(line)
        if heading and not (_LETTER_ITEM.match(line) or _NUMBER_ITEM.match(line)):
            title = re.sub(r"[*_`]", "", heading.group("h") or heading.group("b")).strip().lower()
            letter = next((ltr for rx, ltr in _SECTION_LETTER if rx.match(title)), None)
            in_findings = letter is not None or bool(re.match(r"^(review )?findings\b", title))
            last = None
            continue
        if fenced or not in_findings:
            continue
        m = _LETTER_ITEM.match(line)
        if m:
            ids.append(m.group("id"))
            letter_ids = True
            continue
        n = _NUMBER_ITEM.match(line)
        if n and not letter_ids and "**" in line[: n.end() + 2]:
            num = int(n.group("n"))
            if last is None or num == last + 1:
                ids.append(f"{letter}{num}" if letter else str(num))
                last = num
    seen: Counter[str] = Counter()
    unique = []
    for i in ids:
        seen[i] += 1
        unique.append(i if seen[i] == 1 else f"{i}-{seen[i]}")
    return unique


@dataclass
class Tally:
    """Counts for one report or the total."""

    reviews: int = 0
    numbered: int = 0
    recovered: int = 0
    severity: int = 0
    located: int = 0
    fixed: int = 0
    extra: int = 0
    notes: int = 0
    cited: int = 0
    located_citations: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, name: str) -> str:
        pct = 100.0 * self.recovered / self.numbered if self.numbered else 100.0
        return (
            f"{name:<52} {self.reviews:>3} {self.numbered:>5} {self.recovered:>5} {pct:>6.1f}% "
            f"{self.severity:>5} {self.located:>5} {self.fixed:>5} {self.extra:>5} {self.notes:>5}"
            f" {self.cited:>6} {self.located_citations:>6}"
        )


def measure(report: Path, verbose: bool) -> Tally:
    """Parse every review of one report and compare with the independent count."""
    tally = Tally()
    for heading, text in split_appendix(report.read_text(encoding="utf-8")):
        tally.reviews += 1
        expected = numbered_findings(text)
        review = parse_markdown_review(text)
        unstated = {
            m.group(1)
            for n in review.parse_notes
            if (m := re.match(r"finding '([^']+)' has no severity", n))
        }
        by_id = {f.id: f for f in review.findings}
        matched = [by_id[i] for i in expected if i in by_id]
        tally.numbered += len(expected)
        tally.recovered += len(matched)
        tally.severity += sum(1 for f in matched if f.id not in unstated)
        tally.located += sum(1 for f in matched if f.locations)
        tally.fixed += sum(1 for f in matched if f.fix)
        tally.extra += len(set(by_id) - set(expected))
        tally.notes += len(review.parse_notes)
        cited = {(m.group("path"), int(m.group("line"))) for m in _CITATION.finditer(text)}
        placed = {(loc.path, loc.start_line) for f in review.findings for loc in f.locations}
        tally.cited += len(cited)
        tally.located_citations += sum(
            1
            for path, line in cited
            if any(n == line and (q.endswith(path) or path.endswith(q)) for q, n in placed)
        )
        if verbose:
            missing = [i for i in expected if i not in by_id]
            extra = sorted(set(by_id) - set(expected))
            print(f"  {heading}: {len(matched)}/{len(expected)}", end="")
            print(f" missing={missing}" if missing else "", end="")
            print(f" extra={extra}" if extra else "")
            for note in review.parse_notes:
                print(f"      note: {note}")
    return tally


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=repo.parent / "shared/corpus/rdd-reviews"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and notes")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 1 below this %%")
    args = parser.parse_args(argv)
    reports = sorted(args.corpus.glob("*.md"))
    if not reports:
        print(f"no reports in {args.corpus}", file=sys.stderr)
        return 2
    header = f"{'report':<52} {'rev':>3} {'numb':>5} {'recov':>5} {'recov%':>7} "
    print(
        header
        + f"{'sev':>5} {'loc':>5} {'fix':>5} {'extra':>5} {'notes':>5} {'cited':>6} {'locrec':>6}"
    )
    total = Tally()
    started = time.perf_counter()
    for report in reports:
        tally = measure(report, args.verbose)
        if tally.reviews:
            print(tally.row(report.name[:52]))
        total.add(tally)
    elapsed = time.perf_counter() - started
    print(total.row(f"TOTAL ({len(reports)} reports, {elapsed:.1f} s)"))
    share = 100.0 * total.located_citations / total.cited if total.cited else 100.0
    print(f"locations recovered: {total.located_citations} of {total.cited} cited ({share:.1f}%)")
    pct = 100.0 * total.recovered / total.numbered if total.numbered else 100.0
    return 1 if pct < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
