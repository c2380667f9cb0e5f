"""The Testing Assessment's "Executed by deepreview" block and rubric, in Markdown and HTML."""

from __future__ import annotations

from deepreview.render.html import render_html
from deepreview.render.markdown import render_markdown
from deepreview.render.outline import AssessmentSection, outline
from deepreview.schema import (
    AgentRun,
    ExecutedCommand,
    Location,
    Mutation,
    Report,
    RubricRow,
    Verification,
)
from tests.factories import sample_report

VERIFICATION = Verification(
    command="python -m pytest",
    environment="the repository's .venv: /repo/.venv",
    isolation="Landlock (writes: scratch, temp), no network, CPU 60 s",
    executed=[
        ExecutedCommand(
            label="tests at head",
            command="python -m pytest",
            where="scratch copy of the head",
            duration_s=4.2,
            exit_code=1,
        ),
        ExecutedCommand(
            label="failing tests at base",
            command="python -m pytest tests/test_a.py",
            where="scratch copy of the merge base 0123456789ab",
            duration_s=1.5,
            exit_code=0,
        ),
    ],
    broken_by_change=["tests/test_a.py::test_x"],
    added_lines=10,
    covered_lines=7,
    mutations=[
        Mutation(
            location=Location(path="a.py", start_line=3),
            description="`a < b` → `a <= b`",
            outcome="survived",
            tests=2,
        ),
        Mutation(
            location=Location(path="a.py", start_line=4),
            description="delete `x = 1`",
            outcome="caught",
            tests=2,
        ),
        Mutation(
            location=Location(path="a.py", start_line=5),
            description="delete `y = 1`",
            outcome="not run",
        ),
    ],
    rubric=[
        RubricRow(
            subject="`f`",
            location=Location(path="a.py", start_line=2, end_line=6),
            status="Not pinned",
            note="1 of 2 mutation(s) keep the tests green",
        )
    ],
    notes=["1 of 3 mutations were not run: the time budget (50 s) ran out."],
)


def with_verification(report: Report) -> Report:
    run = AgentRun(agent="verify", display_name="verify", status="ok", verification=VERIFICATION)
    return report.model_copy(update={"runs": [*report.runs, run]})


def test_outline_carries_the_executed_block_in_the_testing_assessment() -> None:
    doc = outline(with_verification(sample_report()))
    (testing,) = [
        s for s in doc.sections if isinstance(s, AssessmentSection) and s.executed is not None
    ]
    assert testing.title == "Testing Assessment"
    assert testing.executed is not None
    assert "Of 2 mutations of the changed lines, the suite caught 1" in testing.executed.facts
    assert [row[3] for row in testing.executed.commands.rows] == ["1", "0"]
    assert all(
        not isinstance(s, AssessmentSection) or s.executed is None
        for s in outline(sample_report()).sections
    )


def test_markdown_lists_commands_isolation_and_rubric() -> None:
    md = render_markdown(with_verification(sample_report()))
    testing = md.split("## Testing Assessment", 1)[1].split("\n---\n", 1)[0]
    assert "- Isolation: Landlock (writes: scratch, temp), no network, CPU 60 s" in testing
    assert "- Changed-line coverage: 7 of 10 added executable lines" in testing
    assert (
        "| `python -m pytest tests/test_a.py` | failing tests at base | scratch copy of the merge "
        "base 0123456789ab | 0 | 1.5 s |" in testing
    )
    assert "| `f` | `a.py:2-6` | Not pinned | 1 of 2 mutation(s) keep the tests green |" in testing
    assert "- 1 of 3 mutations were not run" in testing


def test_html_has_the_same_block() -> None:
    html = render_html(with_verification(sample_report()))
    testing = html.split('id="testing-assessment"', 1)[1].split("Documentation Assessment", 1)[0]
    assert "Executed by deepreview" in testing and "Testing rubric" in testing
    assert "<td>Not pinned</td>" in testing
    assert "scratch copy of the merge base 0123456789ab" in testing


def test_no_command_run_is_said_not_shown_as_an_empty_table() -> None:
    quiet = VERIFICATION.model_copy(update={"executed": [], "mutations": [], "rubric": []})
    run = AgentRun(agent="verify", display_name="verify", status="ok", verification=quiet)
    report = sample_report()
    report = report.model_copy(update={"runs": [*report.runs, run]})
    md = render_markdown(report).split("### Executed by deepreview", 1)[1].split("\n---\n")[0]
    assert "No command ran." in md and "| Command |" not in md
    html = render_html(report).split("Executed by deepreview", 1)[1].split("</section>")[0]
    assert "No command ran." in html and "<table" not in html
