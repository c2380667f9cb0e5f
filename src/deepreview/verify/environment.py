"""The project's own environment for its tests, and the scrubbed variables they run with.

Tests never run under deepreview's own interpreter: installed on its own (pipx, a tool venv),
its packages are not the project's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Variables passed through to test commands; everything else (credentials included) is dropped.
PASSED_THROUGH = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "GOPATH", "GOMODCACHE", "GOROOT")
PASSED_PREFIXES = ("LC_",)


@dataclass(frozen=True)
class ProjectEnvironment:
    """Where the project's interpreter and tools come from."""

    bin_dirs: tuple[Path, ...]
    virtualenv: Path | None
    description: str

    def python(self) -> str:
        """The project's Python: the virtualenv's, else `python3` from PATH."""
        if self.virtualenv is not None:
            return str(_venv_bin(self.virtualenv) / "python")
        return "python3"


def _venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file() and (_venv_bin(path) / "python").exists()


def project_environment(
    repo: Path, environ: Mapping[str, str], setting: str = "auto"
) -> ProjectEnvironment:
    """The environment the tests run in: `setting` is "auto", "path" or a virtualenv folder.

    "auto": the active virtualenv (VIRTUAL_ENV), else `repo/.venv` or `repo/venv`, else the
    tools on PATH (without deepreview's own bin folder).
    """
    candidates: list[tuple[Path, str]] = []
    if setting not in ("auto", "path"):
        path = Path(setting).expanduser()
        venv = path if path.is_absolute() else repo / path
        if not _is_venv(venv):
            raise ValueError(f"verify.environment: {venv} is not a virtualenv")
        return ProjectEnvironment((_venv_bin(venv),), venv, f"virtualenv {venv} (configured)")
    if setting == "auto":
        active = environ.get("VIRTUAL_ENV")
        if active:
            candidates.append((Path(active), "the active virtualenv (VIRTUAL_ENV)"))
        candidates += [(repo / name, f"the repository's {name}") for name in (".venv", "venv")]
    for venv, what in candidates:
        if _is_venv(venv):
            return ProjectEnvironment((_venv_bin(venv),), venv, f"{what}: {venv}")
    return ProjectEnvironment((), None, "the interpreter and tools on PATH")


def scrubbed_environment(
    environ: Mapping[str, str],
    project: ProjectEnvironment,
    home: Path,
    tmp: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables a test command gets: a short allow-list (never credentials), the project's
    bin folders first on PATH, HOME and TMPDIR inside the scratch area, Go offline with the
    user's module cache."""
    env = {k: v for k, v in environ.items() if k in PASSED_THROUGH or k.startswith(PASSED_PREFIXES)}
    own_bin = str(Path(sys.executable).parent)  # deepreview's interpreter, unless it is theirs
    keep_own = own_bin in (str(b) for b in project.bin_dirs)
    path = [
        p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and (keep_own or p != own_bin)
    ]
    env["PATH"] = os.pathsep.join([*(str(b) for b in project.bin_dirs), *path])
    if project.virtualenv is not None:
        env["VIRTUAL_ENV"] = str(project.virtualenv)
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONNOUSERSITE="1",
        GOFLAGS=environ.get("GOFLAGS", "-mod=mod"),
        GOPROXY="off",
        GOTOOLCHAIN="local",
        GOCACHE=str(tmp / "go-cache"),
        NO_COLOR="1",
    )
    modules = _go_module_cache(environ)
    if modules is not None and "GOMODCACHE" not in env:
        env["GOMODCACHE"] = str(modules)
    env.update(extra or {})
    return env


def _go_module_cache(environ: Mapping[str, str]) -> Path | None:
    """The user's Go module cache (read there, offline), which a HOME inside the scratch area
    would otherwise hide: GOMODCACHE, else GOPATH's first entry or ~/go, plus pkg/mod."""
    if environ.get("GOMODCACHE"):
        return Path(environ["GOMODCACHE"])
    gopath = environ.get("GOPATH", "").split(os.pathsep)[0]
    if not gopath and environ.get("HOME"):
        gopath = str(Path(environ["HOME"]) / "go")
    cache = Path(gopath) / "pkg" / "mod" if gopath else None
    return cache if cache is not None and cache.is_dir() else None
