"""What verification found, in the report's terms: the findings, the Testing rubric's rows and
the wording of counts and lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from deepreview.agents.scan_files import is_test_path
from deepreview.schema import Finding, Location, Mutation, RubricRow
from deepreview.verify.execute import tail
from deepreview.verify.lines import FileLines
from deepreview.verify.probe import Probe
from deepreview.verify.suite import SuiteRun

#: Surviving mutants reported one by one; the rest are counted.
MAX_MUTANT_FINDINGS = 10
#: Failing tests quoted in a finding.
MAX_QUOTED = 5


def rubric(measured: Mapping[str, FileLines], mutations: Sequence[Mutation]) -> list[RubricRow]:
    """A Testing rubric row per measured unit holding added statements: Not covered, Not
    pinned (a mutant survived), Pinned (all caught) or Covered (not probed)."""
    rows: list[RubricRow] = []
    for path, lines in sorted(measured.items()):
        for unit in lines.units:
            first, last = unit.first, unit.last
            inside = frozenset(n for n in lines.statements if first <= n <= last)
            if not inside:
                continue
            mine = [
                m
                for m in mutations
                if m.location.path == path
                and first <= (m.location.start_line or 0) <= last
                and m.outcome != "not run"
            ]
            missing = inside & lines.missing
            loc = Location(path=path, start_line=first, end_line=last)
            if missing == inside:
                status, note = "Not covered", f"no test runs its {len(inside)} added line(s)"
            elif any(m.outcome == "survived" for m in mine):
                kept = sum(m.outcome == "survived" for m in mine)
                status, note = (
                    "Not pinned",
                    f"{kept} of {len(mine)} mutation(s) keep the tests green",
                )
            elif mine:
                status, note = "Pinned", f"the tests catch all {len(mine)} mutation(s)"
            else:
                status, note = "Covered", "not probed"
            if missing and missing != inside:
                note += f"; {len(missing)} added line(s) not run"
            rows.append(RubricRow(subject=f"`{unit.name}`", location=loc, status=status, note=note))
    return rows


def _first_run(lines: frozenset[int]) -> tuple[int, int]:
    start = end = min(lines)
    while end + 1 in lines:
        end += 1
    return start, end


def blamed_locations(added: Mapping[str, frozenset[int]], messages: str) -> list[Location]:
    """Where a test broken by the change points: the first added lines of the changed files,
    files named in the failure output first, code before tests; at most three."""
    ranked = sorted(added, key=lambda p: (p not in messages, is_test_path(p), p))
    out = []
    for path in ranked[:3]:
        start, end = _first_run(added[path])
        out.append(Location(path=path, start_line=start, end_line=end))
    return out


def broken_finding(
    broken: Sequence[str], head: SuiteRun, base_sha: str, added: Mapping[str, frozenset[int]]
) -> Finding:
    """The critical finding for tests that fail at the head and pass at the merge base, quoting
    the first MAX_QUOTED failures."""
    quoted = []
    messages = []
    for test_id in broken[:MAX_QUOTED]:
        result = head.results.get(test_id)
        message = result.message if result else tail(head.execution.output, 1500)
        messages.append(message)
        quoted.append(f"`{test_id}`:\n\n```text\n{tail(message.strip(), 1500)}\n```")
    more = f"\n\n…and {len(broken) - MAX_QUOTED} more." if len(broken) > MAX_QUOTED else ""
    names = ", ".join(f"`{t}`" for t in broken[:3]) + (" …" if len(broken) > 3 else "")
    return Finding(
        id="C1",
        severity="critical",
        category="regression",
        title=f"The change breaks {names}: fails at head, passes at base",
        body=(
            f"{len(broken)} test(s) fail at the head and pass at the merge base "
            f"{base_sha[:12]}, both run by deepreview in scratch copies; the locations are "
            "the change's first added lines in the files involved.\n\n" + "\n\n".join(quoted) + more
        ),
        locations=blamed_locations(added, "\n".join(messages)),
        fix="Make the failing tests pass again, or change them if the new behaviour is intended.",
    )


def _testing_suggestion(title: str, body: str, location: Location, fix: str) -> Finding:
    return Finding(
        id="S1",
        severity="suggestion",
        category="testing",
        title=title,
        body=body,
        locations=[location],
        fix=fix,
    )


def uncovered_findings(measured: Mapping[str, FileLines]) -> list[Finding]:
    """A suggestion per public unit none of whose added statements a test executes."""
    out = []
    for path, lines in sorted(measured.items()):
        for unit in lines.units:
            name = unit.name
            inside = sorted(n for n in lines.statements if unit.first <= n <= unit.last)
            if not unit.public or not inside or any(n in lines.executed for n in inside):
                continue
            out.append(
                _testing_suggestion(
                    f"No test runs the added lines of `{name}`",
                    f"The suite executes none of the {len(inside)} added line(s) of `{name}` "
                    f"({path}:{inside[0]}-{inside[-1]}).",
                    Location(path=path, start_line=inside[0], end_line=inside[-1]),
                    f"Add a test that calls `{name}` and asserts its result.",
                )
            )
    return out


def uncovered(measured: Mapping[str, FileLines]) -> list[Location]:
    """Added statements no test executes."""
    return [
        Location(path=p, start_line=n)
        for p, fl in sorted(measured.items())
        for n in sorted(fl.missing)
    ]


def mutant_findings(probed: Sequence[tuple[Probe, Mutation]]) -> list[Finding]:
    """A suggestion per surviving non-trivial mutant, the first MAX_MUTANT_FINDINGS."""
    out = []
    for probe, m in probed:
        if m.outcome != "survived" or probe.mutant.trivial:
            continue
        out.append(
            _testing_suggestion(
                f"Not pinned by any test: {m.description} at {m.location.label()} "
                "keeps the suite green",
                f"With this mutation the {m.tests} test(s) that run the line still pass."
                + (f" (in `{probe.mutant.function}`)" if probe.mutant.function else ""),
                m.location,
                "Add an assertion that fails under this mutation.",
            )
        )
    return out[:MAX_MUTANT_FINDINGS]


def counts(run: SuiteRun) -> str:
    """A run's tests counted by outcome, passed first (`3 passed, 1 failed`); without
    per-test results, its exit code or that it timed out."""
    if not run.results:
        code = run.execution.record.exit_code
        return "timed out" if run.execution.record.timed_out else f"exit code {code}"
    by: dict[str, int] = {}
    for r in run.results.values():
        by[r.outcome] = by.get(r.outcome, 0) + 1
    return ", ".join(f"{n} {o}" for o, n in sorted(by.items(), key=lambda kv: kv[0] != "passed"))


def line_list(locations: Sequence[Location]) -> str:
    """The locations' labels as `name_list` lists them."""
    return name_list([loc.label() for loc in locations])


def name_list(items: Sequence[str], limit: int = 8) -> str:
    """The first `limit` of `items` in backticks, and how many more there are."""
    shown = ", ".join(f"`{n}`" for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
