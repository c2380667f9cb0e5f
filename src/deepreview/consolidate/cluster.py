"""Clustering: findings from different agents about the same defect become one group.

Candidate pairs come only from cheap indexes — same file name (all pairs in small files, a line
window in large ones), identical excerpt, a rare shared backticked symbol, an analyzer rule on
one line — so the cost stays about linear in the number of findings.

Two agents' findings are the same defect when their places and their words agree: the nearer
the cited lines, the less the texts (title and body, TF-IDF weighted) need to share. Places
alone never suffice: two models' claims merge only when they share a content word beyond the
code they cite, and a style or documentation nit, or a request for tests, never merges into a
claim about behaviour. Groups grow by their best links first, and a group takes a finding (or
another group) only when most pairs of different agents' findings across them link, so that no
chain of partial overlaps joins distinct defects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

from deepreview.consolidate.claim import Claim
from deepreview.consolidate.similarity import cosine, similarity

#: Two line ranges at most this far apart are "near".
NEAR_LINES = 5
#: Two line ranges at most this far apart are "close" (the same function, typically).
CLOSE_LINES = 20
#: Text cosine (title and body) that links two agents' findings, by how their places relate.
LINK_COSINE = {"overlap": 0.12, "near": 0.15, "close": 0.15, "file": 0.2, "other": 0.35}
#: Files with at most this many findings compare every pair.
PAIRWISE_LIMIT = 48
#: In larger files, how many following findings (by line) each finding is compared with.
WINDOW = 24
#: A backticked symbol links findings across files only when at most this many mention it.
RARE_SYMBOL = 8
#: Excerpts shorter than this (without whitespace) are too generic to identify a defect.
MIN_SHARED_EXCERPT = 12


def cluster(claims: Sequence[Claim]) -> list[list[Claim]]:
    """Group claims that describe the same defect, best-supported merges first.

    Two findings of one agent end up together only when they are near duplicates of each other,
    and two groups join only when most of their findings link (see `_joinable`). Groups come out
    ordered by their first claim, members in input order.
    """
    scored = [
        (-score, i, j)
        for i, j in _candidates(claims)
        if (score := pair_score(claims[i], claims[j])) is not None
    ]
    scored.sort()  # a pair found twice is harmless: its second union is a no-op
    parent = list(range(len(claims)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(claims))}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, i, j in scored:
        ri, rj = find(i), find(j)
        if ri == rj or not _joinable(claims, members[ri], members[rj]):
            continue
        if ri > rj:
            ri, rj = rj, ri
        parent[rj] = ri
        members[ri].extend(members.pop(rj))
    return [[claims[i] for i in sorted(group)] for _, group in sorted(members.items())]


def pair_score(a: Claim, b: Claim) -> float | None:
    """How strongly two claims look like the same defect; None when they are distinct.

    One agent's two findings merge only as near duplicates (close lines and almost the same
    title, or the same excerpt). Across agents: the same excerpt merges; otherwise the texts'
    cosine must reach LINK_COSINE for how the places relate (overlapping lines, near, close,
    same file, other files), or the titles must be alike; across files a rare shared symbol is
    required too.
    """
    if a.deterministic and b.deterministic and a.finding.rule and b.finding.rule:
        return 400.0 if _same_analyzer_hit(a, b) else None  # different rules, different issues
    shared = not a.symbols.isdisjoint(b.symbols)
    same_excerpt = len(a.excerpt_key) >= MIN_SHARED_EXCERPT and a.excerpt_key == b.excerpt_key
    rel = _relation(a, b)
    if not same_excerpt and (
        (rel == "other" and not shared) or (a.agent == b.agent and rel not in ("overlap", "near"))
    ):
        return None  # cheap rejections before the text comparison
    sim = similarity(a.title_key, b.title_key)
    if a.agent == b.agent:
        near_duplicate = (rel in ("overlap", "near") and sim >= 90) or (same_excerpt and sim >= 70)
        return 300.0 + sim if near_duplicate else None
    if not (a.deterministic or b.deterministic) and not shared_claim(a, b):
        return None
    if same_excerpt:
        return 200.0 + sim
    cos = cosine(a.vector, b.vector)
    linked = cos >= LINK_COSINE[rel]
    base = {"overlap": 150.0, "near": 100.0, "close": 100.0, "file": 50.0, "other": 0.0}[rel]
    if rel == "overlap" and (linked or sim >= 60):
        return base + 100 * cos
    if rel in ("near", "close") and (linked or sim >= 75):
        return base + 100 * cos
    if rel == "file" and (linked or sim >= 85):
        return base + 100 * cos
    if rel == "other" and (linked or sim >= 85):
        return base + 100 * cos
    return None


def shared_claim(a: Claim, b: Claim) -> bool:
    """Whether two models' findings make one claim: they share a content word beyond the code
    on the line, and are about the same aspect (a style or documentation nit, or missing
    tests, is not the behaviour problem on the same lines)."""
    return a.aspect == b.aspect and not a.claim_words.isdisjoint(b.claim_words)


def _same_analyzer_hit(a: Claim, b: Claim) -> bool:
    """Deterministic analyzers reporting one rule on one line report one thing."""
    return (
        a.finding.rule == b.finding.rule
        and a.path == b.path
        and a.span is not None
        and b.span is not None
        and a.span[0] == b.span[0]
    )


def _relation(a: Claim, b: Claim) -> str:
    """overlap / near (same file, lines within NEAR_LINES) / close (within CLOSE_LINES) / file
    (same file) / other."""
    if not same_file(a.path, b.path):
        return "other"
    sa, sb = a.span, b.span
    if sa is None or sb is None:
        return "file"
    gap = max(sa[0], sb[0]) - min(sa[1], sb[1])
    if gap <= 0:
        return "overlap"
    if gap <= NEAR_LINES:
        return "near"
    return "close" if gap <= CLOSE_LINES else "file"


def same_file(a: str | None, b: str | None) -> bool:
    """Equal paths, or one a trailing part of the other (`x.go` cited bare, `pkg/x.go` in full)."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long.endswith("/" + short)


def _joinable(claims: Sequence[Claim], left: list[int], right: list[int]) -> bool:
    """Whether two groups may become one: no two findings of one agent across them that are
    not near duplicates, and more than half of their pairs of different agents' findings the
    same defect by `pair_score` (one bridging finding does not chain two defects together)."""
    cross = hits = 0
    for i in left:
        for j in right:
            linked = pair_score(claims[i], claims[j]) is not None
            if claims[i].agent == claims[j].agent:
                if not linked:
                    return False
                continue
            cross += 1
            hits += linked
    return not cross or 2 * hits > cross


def _candidates(claims: Sequence[Claim]) -> Iterator[tuple[int, int]]:
    """Pairs (i < j) worth scoring; the same pair may come up more than once."""
    by_path: dict[str | None, list[int]] = defaultdict(list)  # by file name
    by_excerpt: dict[str, list[int]] = defaultdict(list)
    by_symbol: dict[str, list[int]] = defaultdict(list)
    by_rule: dict[tuple[str | None, int, str], list[int]] = defaultdict(list)
    for i, c in enumerate(claims):
        by_path[c.file_name].append(i)
        if len(c.excerpt_key) >= MIN_SHARED_EXCERPT:
            by_excerpt[c.excerpt_key].append(i)
        for sym in c.symbols:
            by_symbol[sym].append(i)
        if c.deterministic and c.finding.rule and c.span is not None:
            by_rule[(c.path, c.span[0], c.finding.rule)].append(i)
    for group in by_path.values():
        if len(group) <= PAIRWISE_LIMIT:
            yield from _all_pairs(group)
        else:
            yield from _line_window(claims, group)
    for group in by_excerpt.values():
        yield from _all_pairs(group[:PAIRWISE_LIMIT])
    for group in by_symbol.values():
        if len(group) <= RARE_SYMBOL:
            yield from _all_pairs(group)
    for group in by_rule.values():
        yield from pairwise(group)


def _all_pairs(group: Sequence[int]) -> Iterable[tuple[int, int]]:
    for n, i in enumerate(group):
        for j in group[n + 1 :]:
            yield (i, j) if i < j else (j, i)


def _line_window(claims: Sequence[Claim], group: Sequence[int]) -> Iterable[tuple[int, int]]:
    """Pairs of claims in one file whose lines are within CLOSE_LINES, at most WINDOW each."""
    lined = sorted((span, i) for i in group if (span := claims[i].span) is not None)
    for n, ((_, end), i) in enumerate(lined):
        for (start, _), j in lined[n + 1 : n + 1 + WINDOW]:
            if start > end + CLOSE_LINES:
                break
            yield (i, j) if i < j else (j, i)
