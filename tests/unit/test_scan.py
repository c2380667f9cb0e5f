"""The `scan` agent end to end on real git repositories."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from deepreview.agents.scan import ScanAgent
from deepreview.context import ReviewContext
from deepreview.diff import parse_diff_file
from deepreview.schema import AgentRun, Commit, Finding, Location, ReportTarget
from tests import repo_factory
from tests.runtimes import make_runtime

GIT_ENV = {**os.environ, **repo_factory.GIT_ENV}
# Built at run time so that this file holds no literal credential.
AWS_KEY = "AKIA" + "Q3EGRXBR7TZ5WMJN"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(tmp_path: Path, base: dict[str, str]) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    return repo, commit(repo, base, "Base")


def context(repo: Path, base: str) -> ReviewContext:
    diff_file = repo.parent / "change.diff"
    diff_file.write_text(git(repo, "diff", f"{base}..HEAD"), encoding="utf-8")
    log = git(repo, "log", "--reverse", "--format=%H%x00%s", f"{base}..HEAD")
    commits = []
    for line in log.splitlines():
        sha, subject = line.split("\0")
        files = git(repo, "show", "--name-only", "--format=", sha).split()
        commits.append(Commit(sha=sha, subject=subject, files_changed=len(files)))
    diff = parse_diff_file(diff_file)
    target = ReportTarget(kind="range", commits=commits, changed_files=diff.paths)
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=diff,
        target=target,
        base_sha=base,
        run_dir=repo.parent / "run",
        runtime=make_runtime(),
    )


def scan(ctx: ReviewContext) -> AgentRun:
    return asyncio.run(ScanAgent().run(ctx))


def only(findings: list[Finding], category: str) -> Finding:
    matching = [f for f in findings if f.category == category]
    assert len(matching) == 1, findings
    return matching[0]


APP_BEFORE = "def helper():\n    return 1\n"
APP_AFTER = f'''def helper():
    return 1


# TODO: retry on timeout
AWS_ACCESS_KEY_ID = "{AWS_KEY}"


def _private():
    breakpoint()
'''


def test_finds_todo_secret_and_debugger_with_redaction(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"app.py": APP_BEFORE})
    commit(repo, {"app.py": APP_AFTER}, "Add credentials")
    run = scan(context(repo, base))

    assert run.status == "ok" and run.agent == "scan" and run.display_name == "scan"
    assert run.review is not None
    review = run.review
    limitations = [(lim.location, lim.quote) for lim in review.limitations]
    assert limitations == [(Location(path="app.py", start_line=5), "TODO: retry on timeout")]
    assert review.limitations[0].judgement
    secret = only(review.findings, "security")
    assert (secret.id, secret.severity) == ("C1", "critical")
    assert secret.locations[0].label() == "app.py:6"
    assert secret.excerpt == f'AWS_ACCESS_KEY_ID = "AKIA…{AWS_KEY[-4:]}"'
    assert "AWS access key id" in secret.title
    debug = only(review.findings, "debug")
    assert debug.severity == "suggestion" and debug.locations[0].label() == "app.py:10"
    assert debug.excerpt == "    breakpoint()"
    # The secret appears nowhere in the run: not in findings, raw listing or any field.
    dumped = run.model_dump_json()
    assert AWS_KEY not in dumped and AWS_KEY[4:] not in dumped
    assert f"AKIA…{AWS_KEY[-4:]}" in run.raw_output
    assert "TODO: retry on timeout" in run.raw_output


def test_secrets_in_comments_and_leftovers_are_redacted(tmp_path: Path) -> None:
    token = "gh" + "p_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    js = f"// TODO: drop {token}\nconsole.log('{token}');\n"
    repo, base = make_repo(tmp_path, {"README.md": "r\n"})
    commit(repo, {"src/boot.js": js}, "Add boot")
    run = scan(context(repo, base))
    assert run.review is not None
    shown = f"ghp_…{token[-4:]}"
    assert [lim.quote for lim in run.review.limitations] == [f"TODO: drop {shown}"]
    assert only(run.review.findings, "debug").excerpt == f"console.log('{shown}');"
    assert len([f for f in run.review.findings if f.category == "security"]) == 2
    assert token not in run.model_dump_json()


def test_conflict_markers_are_important_but_rst_underlines_are_not(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"notes.txt": "a\n", "guide.rst": "x\n"})
    conflicted = "a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> topic\n"
    commit(repo, {"notes.txt": conflicted, "guide.rst": "Title\n=======\n\ntext\n"}, "Merge")
    review = scan(context(repo, base)).review
    assert review is not None
    conflict = only(review.findings, "regression")
    assert conflict.severity == "important"
    assert [loc.label() for loc in conflict.locations] == [
        "notes.txt:2",
        "notes.txt:4",
        "notes.txt:6",
    ]
    assert conflict.excerpt == "<<<<<<< HEAD"


def test_console_log_flagged_in_source_but_not_in_tests(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"README.md": "r\n"})
    js = "export function run() {\n  console.log('x');\n  debugger;\n}\n"
    files = {
        "src/run.js": js,
        "src/run.test.js": "console.log('in test');\n",
        "scripts/release.js": "console.log('released');\n",
        "bin/tool.js": "console.log(usage);\n",
    }
    commit(repo, files, "Add run")
    review = scan(context(repo, base)).review
    assert review is not None
    debug = sorted(f.locations[0].label() for f in review.findings if f.category == "debug")
    assert debug == ["src/run.js:2", "src/run.js:3"]


def test_testing_and_documentation_gaps(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"lib/calc.py": "X = 1\n"})
    source = (
        "X = 1\n\n\ndef add(a, b):\n    return a + b\n\n\n"
        'def sub(a, b):\n    """Difference."""\n    return a - b\n\n\n'
        "def _hidden():\n    return 0\n\n\n"
        "class Meter:\n    # Measures things.\n    def read(self):\n        return 0\n"
    )
    commit(repo, {"lib/calc.py": source}, "Add arithmetic")
    review = scan(context(repo, base)).review
    assert review is not None
    gap = only(review.findings, "gap")
    assert gap.severity == "suggestion" and gap.locations[0].label() == "lib/calc.py:2"
    assert "no test file changed" in review.testing
    doc = only(review.findings, "documentation")
    assert doc.locations[0].label() == "lib/calc.py:4"
    assert doc.excerpt == "def add(a, b):"
    # add and Meter are undocumented; sub has a docstring, Meter.read a comment right above,
    # _hidden is private.
    assert doc.title.startswith("2 public definition(s)")
    assert "`add` (lib/calc.py:4), `Meter` (lib/calc.py:17)" in review.documentation
    assert "`sub`" not in review.documentation and "`Meter.read`" not in review.documentation
    assert "`_hidden`" not in review.documentation


def test_tests_and_docs_changed_close_the_gaps(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"lib/calc.py": "X = 1\n"})
    files = {
        "lib/calc.py": "X = 1\n\n\ndef add(a, b):\n    return a + b\n",
        "tests/test_calc.py": "from lib.calc import add\n\nassert add(1, 2) == 3\n",
        "docs/calc.md": "# add\n",
    }
    commit(repo, files, "Add add")
    review = scan(context(repo, base)).review
    assert review is not None
    assert not [f for f in review.findings if f.category in ("gap", "documentation")]
    assert review.testing.startswith("1 test file(s) changed alongside 1 source file(s)")
    assert review.documentation == "Documentation changed: `docs/calc.md`."


def test_commit_structure_flags_fixup_and_wip(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"a.txt": "1\n"})
    commit(repo, {"a.txt": "2\n"}, "Change a")
    commit(repo, {"a.txt": "3\n"}, "fixup! Change a")
    commit(repo, {"b.txt": "b\n"}, "WIP: try b")
    commit(repo, {"c.txt": "c\n"}, "Add c " + "with a very long subject " * 4)
    review = scan(context(repo, base)).review
    assert review is not None
    text = review.commit_structure
    assert text.startswith("4 commit(s): ")
    assert "1 fold-in commit(s) to squash" in text and "fixup! Change a" in text
    assert "1 work-in-progress commit(s)" in text
    assert "1 subject(s) longer than 72 characters" in text
    assert "(1 file(s))" in text
    finding = only(review.findings, "commits")
    assert finding.severity == "suggestion" and finding.locations == []
    assert finding.title.startswith("2 fixup!/squash!/WIP commit(s)")


def test_fold_in_commits_already_upstream_are_not_flagged(tmp_path: Path) -> None:
    upstream, base = make_repo(tmp_path, {"a.txt": "1\n"})
    merged = commit(upstream, {"a.txt": "2\n"}, "fixup! Base")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    local = commit(clone, {"a.txt": "3\n"}, "WIP: more")
    review = scan(context(clone, base)).review
    assert review is not None
    finding = only(review.findings, "commits")
    assert finding.title.startswith("1 fixup!/squash!/WIP commit(s)")
    assert local[:8] in finding.body and merged[:8] not in finding.body
    assert "fold-in" not in review.commit_structure


def test_coverage_lists_every_changed_file_with_its_findings(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"app.py": APP_BEFORE, "old.txt": "gone\n"})
    (repo / "old.txt").unlink()
    commit(repo, {"app.py": APP_AFTER, "logo.bin": "\0\1\2"}, "Change")
    review = scan(context(repo, base)).review
    assert review is not None
    coverage = {c.path: c.finding_ids for c in review.coverage}
    assert set(coverage) == {"app.py", "old.txt", "logo.bin"}
    in_app = {f.id for f in review.findings if f.locations and f.locations[0].path == "app.py"}
    assert set(coverage["app.py"]) == in_app and "C1" in in_app
    assert coverage["old.txt"] == [] and coverage["logo.bin"] == []
    assert all(c.reviewed for c in review.coverage)


def test_empty_uncommitted_target_is_quiet(tmp_path: Path) -> None:
    repo, base = make_repo(tmp_path, {"a.txt": "1\n"})
    run = scan(context(repo, base))
    assert run.status == "ok" and run.review is not None
    assert run.review.findings == [] and run.review.limitations == []
    assert run.review.commit_structure.startswith("No commits")
    assert run.review.testing == "No source files changed."
