"""Go's side of `verify`: the coverage profile parser, the mutation-site reader (deepreview's
own Go program, built and run for real under the `go` marker) and the delete-a-line fallback."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from deepreview.schema import ExecutedCommand
from deepreview.verify.environment import project_environment, scrubbed_environment
from deepreview.verify.execute import Execution
from deepreview.verify.go_coverage import (
    Block,
    Profile,
    changed_lines,
    go_code,
    import_path,
    module_path,
    package_patterns,
    read_profile,
)
from deepreview.verify.go_sites import GoFile, arguments, line_spec, read_go_files, read_sites
from deepreview.verify.go_tests import STARTUP_S, expected_s, verbose_results
from deepreview.verify.mutate import file_mutants, line_mutants
from deepreview.verify.suite import CaseResult, did_not_build, go_selection, go_test
from deepreview.verify.units import Unit

PROFILE = """mode: set
example.com/m/calc/a.go:6.31,7.12 1 1
example.com/m/calc/a.go:7.12,9.3 1 0
example.com/m/calc/a.go:10.2,10.23 1 1
example.com/m/calc/a.go:10.2,10.23 1 0
example.com/m/other/o.go:3.14,3.26 1 0
not a block line
example.com/m/calc/a.go:12.2,14.10 2 0
"""


def test_read_profile() -> None:
    blocks = read_profile(PROFILE)
    assert len(blocks) == 6
    assert blocks[0] == Block("example.com/m/calc/a.go", (6, 31), (7, 12), 1, 1)
    assert read_profile("mode: atomic\n") == []


CLAMP = "example.com/m/calc.TestClamp"
LOW = "example.com/m/calc.TestLow"
SITE = GoFile(
    "calc/a.go",
    statements=((7, 2), (8, 3), (10, 2), (13, 3), (20, 1)),
    units=(Unit("Clamp", 7, 14, True),),
)


def test_changed_lines_from_a_profile() -> None:
    profile = Profile(frozenset({CLAMP}), tuple(read_profile(PROFILE)))
    out = changed_lines([profile], "example.com/m", {"calc/a.go": SITE})
    lines = out["calc/a.go"]
    # 7 starts inside a run block; 10 is in a block listed twice, run by one binary; 20 is in no
    # block (not counted); 8 and 13 did not run.
    assert lines.statements == {7, 8, 10, 13}
    assert lines.executed == {7, 10}
    assert lines.missing == {8, 13}
    assert lines.tests[7] == {CLAMP}
    assert lines.units == SITE.units


def test_each_line_is_covered_by_the_tests_whose_profiles_executed_it() -> None:
    clamp = Profile(frozenset({CLAMP}), tuple(read_profile(PROFILE)))
    low_only = PROFILE.replace("7.12,9.3 1 0", "7.12,9.3 1 4")  # runs line 8, not line 7
    low_only = low_only.replace("6.31,7.12 1 1", "6.31,7.12 1 0")
    low = Profile(frozenset({LOW}), tuple(read_profile(low_only)))
    package = Profile(frozenset({CLAMP, LOW}), ())  # a profile without this file's blocks
    lines = changed_lines([clamp, low, package], "example.com/m", {"calc/a.go": SITE})["calc/a.go"]
    assert lines.tests == {7: {CLAMP}, 8: {LOW}, 10: {CLAMP, LOW}}
    assert lines.missing == {13}


def test_a_file_without_blocks_has_all_statements_not_run() -> None:
    site = GoFile("tool/t.go", statements=((3, 2), (4, 2)))
    profile = Profile(frozenset({CLAMP}), tuple(read_profile(PROFILE)))
    out = changed_lines([profile], "example.com/m", {"tool/t.go": site})
    assert (out["tool/t.go"].statements, out["tool/t.go"].executed) == ({3, 4}, frozenset())


VERBOSE = """=== RUN   TestClamp
=== RUN   TestClamp/low
--- PASS: TestClamp (0.25s)
    --- FAIL: TestClamp/low (0.00s)
=== RUN   TestLow
    a_test.go:9: low
--- FAIL: TestLow (1.50s)
--- SKIP: TestLater (0.00s)
FAIL
coverage: 50.0% of statements in ./calc
"""


def test_top_level_results_of_a_verbose_run() -> None:
    results = verbose_results("example.com/m/calc", VERBOSE)
    assert {k: (r.outcome, r.duration_s) for k, r in results.items()} == {
        CLAMP: ("passed", 0.25),
        LOW: ("failed", 1.5),
        "example.com/m/calc.TestLater": ("skipped", 0.0),
    }


def test_the_time_a_package_took_at_the_head() -> None:
    head = {
        i: CaseResult(i, "passed", duration_s=d)
        for i, d in [(CLAMP, 2.0), (f"{CLAMP}/low", 1.0), (LOW, 0.5), ("example.com/m.TestX", 9.0)]
    }
    assert expected_s("example.com/m/calc", head) == STARTUP_S + 2.5  # top-level tests only
    assert expected_s("example.com/m/other", head) == STARTUP_S


def test_module_packages_and_paths(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text('module "example.com/m"\n\ngo 1.19\n')
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "go.mod").write_text("module example.com/n\n")
    assert module_path(tmp_path) == "example.com/m"
    assert module_path(tmp_path / "missing") is None
    added = {
        p: frozenset({1})
        for p in ("a.go", "pkg/b.go", "pkg/b_test.go", "vendor/x/c.go", "nested/d.go", "e.py")
    }
    assert sorted(go_code(tmp_path, added)) == ["a.go", "pkg/b.go"]
    assert package_patterns(["a.go", "pkg/b.go", "pkg/c.go"]) == [".", "./pkg"]
    assert import_path("example.com/m", ".") == "example.com/m"
    assert import_path("example.com/m", "./pkg") == "example.com/m/pkg"


def test_go_test_ids() -> None:
    assert go_test("gopkg.in/yaml.v3.TestX/case.v2") == ("gopkg.in/yaml.v3", "TestX", True)
    assert go_test("example.com/m.ExampleF") == ("example.com/m", "ExampleF", False)
    assert go_test("go test ./...") is None
    ids = ["ex/a.TestB/sub", "ex/a.TestA", "ex/b.TestA"]
    assert go_selection(ids) == ["^(TestA|TestB)$", "ex/a", "ex/b"]


def test_did_not_build() -> None:
    assert did_not_build('{"Output":"FAIL\\texample.com/m/calc [build failed]\\n"}')
    assert did_not_build("error: could not compile `x` due to 2 previous errors")
    assert not did_not_build("--- FAIL: TestClamp (0.00s)")


def test_line_spec_and_arguments() -> None:
    assert line_spec([9, 3, 5, 6, 7, 3]) == "3,5-7,9"
    assert line_spec([]) == ""
    assert arguments({"b.go": frozenset({2}), "a.go": frozenset({1, 2})}) == ["a.go=1-2", "b.go=2"]


def test_read_sites_splices_the_replacement(tmp_path: Path) -> None:
    (tmp_path / "a.go").write_text("package a\n\nfunc F() bool { return x < 1 }\n")
    start = (tmp_path / "a.go").read_bytes().index(b"<")
    mutant = {"line": 3, "start": start, "end": start + 1, "replacement": "<="}
    mutant |= {"description": "d", "function": "F", "trivial": False}
    unit = {"name": "F", "first": 3, "last": 3, "exported": True}
    answer = json.dumps(
        [
            {"path": "a.go", "statements": [[3, 17]], "units": [unit], "mutants": [mutant]},
            {"path": "a.go", "mutants": [{"line": 3, "start": -1}]},
            {"path": "b.go", "error": "b.go:1:1: expected 'package'"},
        ]
    )
    sites = read_sites(answer, tmp_path)
    assert sites["a.go"].mutants == ()  # the later entry for a.go, malformed, is dropped
    sites = read_sites(json.dumps(json.loads(answer)[::2]), tmp_path)
    (read,) = sites["a.go"].mutants
    assert read.text == "package a\n\nfunc F() bool { return x <= 1 }\n"
    assert (read.function, sites["a.go"].statements) == ("F", ((3, 17),))
    assert sites["b.go"].error.startswith("b.go:1:1")
    assert read_sites("not json", tmp_path) == {}


def test_line_mutants_delete_whole_simple_statements() -> None:
    text = (
        "function f(a) {\n"
        "  const b = a;\n"
        "  a.push(1);\n"
        "  console.log(a);\n"
        "  // note;\n"
        "  if (a) { g(); }\n"
        "  return a;\n"
        "}\n"
    )
    mutants = line_mutants(text, frozenset(range(1, 10)))
    assert [(m.line, m.description, m.trivial) for m in mutants] == [
        (3, "delete `a.push(1);`", False),
        (4, "delete `console.log(a);`", True),
    ]
    assert mutants[0].text == text.replace("  a.push(1);\n", "\n")
    assert file_mutants("x.rs", text, frozenset({3})) == line_mutants(text, frozenset({3}))
    assert file_mutants("x.go", text, frozenset({3})) == []
    assert file_mutants("x.md", text, frozenset({3})) == []


GO_SOURCE = """package calc

import "fmt"

// Clamp limits x.
func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	fmt.Println("high")
	n := 0
	n++
	_ = n
	for i := 0; i < 3; i++ {
	}
	return x
}

type T struct{}

func (t *T) String() string { return "t" }

func div(a, b int) (int, error) {
	if b == 0 || a == 0 {
		return 0, fmt.Errorf("zero")
	}
	return a / b, nil
}

func ok() bool { return true }
"""


@pytest.mark.go
def test_the_go_reader_on_real_source(tmp_path: Path) -> None:
    go = shutil.which("go")
    assert go is not None, "the go marker needs Go installed (apt-get install golang-go)"
    project = project_environment(tmp_path, {}, "path")
    env = scrubbed_environment(os.environ, project, tmp_path / "home", tmp_path / "tmp")
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()

    async def tool(label: str, argv: Sequence[str], cwd: Path | None) -> Execution:
        done = subprocess.run(argv, cwd=cwd or tree, env=env, capture_output=True, text=True)
        record = ExecutedCommand(
            label=label, command=argv[0], where="", duration_s=0, exit_code=done.returncode
        )
        return Execution(record, done.stdout + "\n" + done.stderr, "none")

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.go").write_text(GO_SOURCE)
    (tree / "broken.go").write_text("package x\nfunc {\n")
    lines = {"a.go": frozenset(range(7, 31)) - {16}, "broken.go": frozenset({2})}
    sites, notes = asyncio.run(read_go_files(tool, tmp_path / "work", tree, lines))
    assert sorted(sites) == ["a.go"]
    (note,) = notes
    assert note.startswith("broken.go was not measured: it does not parse (broken.go:2:")
    a = sites["a.go"]
    assert [(u.name, u.first, u.last, u.public) for u in a.units] == [
        ("Clamp", 7, 17, True),
        ("T.String", 21, 21, True),
        ("div", 24, 28, False),
        ("ok", 30, 30, False),
    ]
    assert [line for line, _ in a.statements] == [7, 8, 10, 11, 12, 13, 14, 21, 24, 25, 27, 30]
    described = {(m.line, m.description): m for m in a.mutants}
    assert set(described) == {
        (7, "`if x < lo` → `if !(x < lo)`"),
        (7, "`x < lo` → `x <= lo`"),
        (8, "`return lo` → `return 0`"),
        (10, 'delete `fmt.Println("high")`'),
        (12, "delete `n++`"),
        (14, "`for i < 3` → `for !(i < 3)`"),
        (14, "`i < 3` → `i <= 3`"),
        (21, '`return "t"` → `return ""`'),
        (24, "`if b == 0 || a == 0` → `if !(b == 0 || a == 0)`"),
        (24, "`b == 0 || a == 0` → `b == 0 && a == 0`"),
        (24, "`b == 0` → `b != 0`"),
        (24, "`a == 0` → `a != 0`"),
        (25, '`return 0, fmt.Errorf("zero")` → `return 0, nil`'),
        (27, "`return a / b, nil` → `return 0, nil`"),
        (30, "`return true` → `return false`"),
    }  # not: `n := 0`, `_ = n`, the loop's `i++`, line 16 (not added)
    assert described[(10, 'delete `fmt.Println("high")`')].trivial
    assert described[(21, '`return "t"` → `return ""`')].trivial  # String() only describes
    assert not described[(12, "delete `n++`")].trivial
    assert described[(7, "`x < lo` → `x <= lo`")].function == "Clamp"
    for m in a.mutants:  # every mutant is valid Go syntax
        check = subprocess.run(
            [str(Path(go).parent / "gofmt"), "-e"],
            input=m.text,
            text=True,
            capture_output=True,
            env=env,
        )
        assert check.returncode == 0, (m.description, check.stderr)
        assert m.text != GO_SOURCE


def test_go_runs_offline_with_its_caches_in_the_scratch_area(tmp_path: Path) -> None:
    project = project_environment(tmp_path, {}, "path")
    env = scrubbed_environment({"PATH": "/usr/bin"}, project, tmp_path / "home", tmp_path / "tmp")
    assert (env["GOPROXY"], env["GOTOOLCHAIN"], env["GOFLAGS"]) == ("off", "local", "-mod=mod")
    assert env["GOCACHE"] == str(tmp_path / "tmp" / "go-cache")
    assert "GOPATH" not in env and "GOMODCACHE" not in env  # no module cache to read
    modules = tmp_path / "user" / "go" / "pkg" / "mod"
    modules.mkdir(parents=True)
    environ = {"PATH": "/usr/bin", "HOME": str(tmp_path / "user")}
    env = scrubbed_environment(environ, project, tmp_path / "home", tmp_path / "tmp")
    assert env["GOMODCACHE"] == str(modules)  # the user's, though HOME is the scratch one
    assert env["HOME"] == str(tmp_path / "home")
