"""Go's workspace mode for a command run in a folder: the `go.work` that governs it and the Go
variables that make the command build there."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_USE_BLOCK = re.compile(r"use\s*\($")
_USE_LINE = re.compile(r"use\s+(\S+)$")


def governing_workspace(env: Mapping[str, str], cwd: Path) -> Path | None:
    """The go.work file a go command in `cwd` uses, as Go finds it: GOWORK's file, none when it
    is `off`, else the nearest go.work in `cwd` or a folder above."""
    configured = env.get("GOWORK", "")
    if configured == "off":
        return None
    if configured not in ("", "auto"):
        return cwd / configured
    for folder in (cwd, *cwd.parents):
        if (folder / "go.work").is_file():
            return folder / "go.work"
    return None


def used_modules(work_file: Path) -> set[Path]:
    """The module folders a go.work's `use` directives name (one line each or in a block)."""
    folders: set[Path] = set()
    block = False
    for raw in work_file.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split("//", 1)[0].strip()
        if block:
            block = line != ")"
            entry = line if block else ""
        elif _USE_BLOCK.match(line):
            block, entry = True, ""
        else:
            single = _USE_LINE.match(line)
            entry = single[1] if single else ""
        if entry:
            folders.add((work_file.parent / entry.strip('"`')).resolve())
    return folders


def _module_folder(cwd: Path) -> Path | None:
    """The folder of the module holding `cwd`: the nearest with a go.mod, `cwd` or above."""
    return next((f for f in (cwd, *cwd.parents) if (f / "go.mod").is_file()), None)


def go_environment(env: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """`env` for a command run in `cwd`. Under a go.work whose `use` lines name the module
    holding `cwd` (or with no module there), Go allows `-mod` only as `readonly`, so a `-mod`
    flag in GOFLAGS becomes `-mod=readonly`; a module the go.work leaves out cannot build in
    workspace mode at all, so it builds on its own (GOWORK=off)."""
    out = dict(env)
    work_file = governing_workspace(env, cwd)
    if work_file is None or not work_file.is_file():
        return out
    module = _module_folder(cwd)
    if module is not None and module.resolve() not in used_modules(work_file):
        out["GOWORK"] = "off"
        return out
    if "GOFLAGS" in out:
        flags = out["GOFLAGS"].split()
        out["GOFLAGS"] = " ".join(
            "-mod=readonly" if f.lstrip("-").startswith("mod=") else f for f in flags
        )
    return out
