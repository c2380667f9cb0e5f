"""Go's workspace mode for a command's folder: which go.work governs it, the modules its `use`
lines name, and the Go variables a command run there gets."""

from __future__ import annotations

from pathlib import Path

from deepreview.verify.go_workspace import go_environment, governing_workspace, used_modules
from tests.repo_factory import write

ENV = {"GOFLAGS": "-mod=mod -trimpath", "GOPROXY": "off"}
WORK = '// the workspace\ngo 1.19\n\nuse ./lib // one line\nuse (\n\t./app\n\t"./cmd/x"\n)\n'


def tree(root: Path) -> Path:
    write(
        root,
        {
            "go.work": WORK,
            "lib/go.mod": "module example.com/lib\n",
            "app/go.mod": "module example.com/app\n",
            "app/inner/x.go": "package inner\n",
            "cmd/x/go.mod": "module example.com/x\n",
            "tools/go.mod": "module example.com/tools\n",
            "docs/readme.go": "package docs\n",
        },
    )
    return root


def test_the_use_directives_name_the_workspace_modules(tmp_path: Path) -> None:
    root = tree(tmp_path).resolve()
    assert used_modules(root / "go.work") == {root / "lib", root / "app", root / "cmd" / "x"}


def test_the_nearest_go_work_governs_unless_gowork_says_otherwise(tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert governing_workspace({}, root / "app" / "inner") == root / "go.work"
    assert governing_workspace({"GOWORK": "auto"}, root / "lib") == root / "go.work"
    assert governing_workspace({"GOWORK": "off"}, root / "lib") is None
    assert governing_workspace({"GOWORK": "/elsewhere/go.work"}, root) == Path("/elsewhere/go.work")


def test_a_workspace_module_builds_in_workspace_mode_with_mod_readonly(tmp_path: Path) -> None:
    root = tree(tmp_path)
    for folder in (root / "app" / "inner", root / "lib", root / "cmd" / "x", root / "docs"):
        env = go_environment(ENV, folder)
        assert env["GOFLAGS"] == "-mod=readonly -trimpath", folder
        assert "GOWORK" not in env
    assert "GOFLAGS" not in go_environment({"GOPROXY": "off"}, root / "lib")
    assert go_environment({"GOFLAGS": "--mod=vendor"}, root / "lib")["GOFLAGS"] == "-mod=readonly"


def test_a_module_the_workspace_leaves_out_builds_on_its_own(tmp_path: Path) -> None:
    env = go_environment(ENV, tree(tmp_path) / "tools")
    assert env == {**ENV, "GOWORK": "off"}


def test_without_a_governing_go_work_the_variables_stay(tmp_path: Path) -> None:
    write(tmp_path, {"m/go.mod": "module example.com/m\n"})
    assert go_environment(ENV, tmp_path / "m") == ENV
    root = tree(tmp_path / "w")
    assert go_environment({**ENV, "GOWORK": "off"}, root / "lib") == {**ENV, "GOWORK": "off"}
