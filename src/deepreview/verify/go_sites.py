"""Mutation sites of Go code, read on its syntax by a small Go program shipped with deepreview
(`gomutate/main.go`, standard library only): the statements that start on added lines, the
functions holding them, and their mutants."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from deepreview.verify.execute import Execution, tail
from deepreview.verify.mutate import Mutant
from deepreview.verify.units import Unit

PROGRAM_FILES = ("main.go", "go.mod")


@dataclass(frozen=True)
class GoFile:
    """What the program read in one Go file (`error`: why it could not)."""

    path: str
    statements: tuple[tuple[int, int], ...] = ()
    units: tuple[Unit, ...] = ()
    mutants: tuple[Mutant, ...] = ()
    error: str = ""


def program_source(dest: Path) -> Path:
    """Copy the program's sources to the folder `dest` (built there with `go build`)."""
    dest.mkdir(parents=True, exist_ok=True)
    folder = resources.files("deepreview.verify").joinpath("gomutate")
    for name in PROGRAM_FILES:
        (dest / name).write_text(folder.joinpath(name).read_text(encoding="utf-8"), "utf-8")
    return dest


def line_spec(lines: Iterable[int]) -> str:
    """Line numbers as the program takes them: `3,5-9`."""
    out: list[str] = []
    run: list[int] = []
    for n in sorted(set(lines)):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def arguments(added: Mapping[str, frozenset[int]]) -> list[str]:
    """The program's arguments for the added lines of these files: `FILE=LINES` each."""
    return [f"{path}={line_spec(lines)}" for path, lines in sorted(added.items())]


def _mutant(raw: Mapping[str, object], data: bytes) -> Mutant | None:
    start, end, line = raw.get("start"), raw.get("end"), raw.get("line")
    replacement = raw.get("replacement")
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(line, int)):
        return None
    if not (0 <= start <= end <= len(data)) or not isinstance(replacement, str):
        return None
    text = (data[:start] + replacement.encode("utf-8") + data[end:]).decode("utf-8", "replace")
    function = raw.get("function")
    return Mutant(
        line=line,
        description=str(raw.get("description") or ""),
        text=text,
        function=function if isinstance(function, str) and function else None,
        trivial=bool(raw.get("trivial")),
    )


def read_sites(output: str, tree: Path) -> dict[str, GoFile]:
    """The program's JSON answer, per file; mutants carry the whole mutated text of the file
    as it is in `tree`."""
    try:
        answer = json.loads(output)
    except ValueError:
        return {}
    out: dict[str, GoFile] = {}
    for entry in answer if isinstance(answer, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        path = entry["path"]
        if entry.get("error"):
            out[path] = GoFile(path, error=str(entry["error"]))
            continue
        data = (tree / path).read_bytes()
        mutants = [_mutant(m, data) for m in entry.get("mutants") or [] if isinstance(m, dict)]
        out[path] = GoFile(
            path,
            statements=tuple(
                (int(s[0]), int(s[1])) for s in entry.get("statements") or [] if len(s) == 2
            ),
            units=tuple(
                Unit(str(u["name"]), int(u["first"]), int(u["last"]), bool(u["exported"]))
                for u in entry.get("units") or []
            ),
            mutants=tuple(m for m in mutants if m is not None),
        )
    return out


#: Runs a tool confined, in the head's scratch copy unless given a folder: (label, argv, cwd).
Tool = Callable[[str, Sequence[str], Path | None], Awaitable[Execution]]


async def read_go_files(
    tool: Tool, work: Path, tree: Path, added: Mapping[str, frozenset[int]]
) -> tuple[dict[str, GoFile], list[str]]:
    """Build the program under `work` and read the `added` lines of the Go files in `tree`
    (the program reads them and runs none of their code). Also what could not be read, said
    as notes; only the files that parse are returned."""
    folder = program_source(work / "gomutate")
    build = await tool("build gomutate", ["go", "build", "-o", "gomutate", "."], folder)
    read = None
    if build.passed:
        read = await tool("read the Go files", [str(folder / "gomutate"), *arguments(added)], None)
    sites = read_sites(read.output.split("\n", 1)[0], tree) if read and read.passed else {}
    notes = [
        f"{path} was not measured: it does not parse ({site.error})."
        for path, site in sorted(sites.items())
        if site.error
    ]
    if not sites:
        failed = read or build
        why = tail(failed.output.strip(), 300)
        notes.append(f"Go coverage skipped: deepreview's Go reader failed: {why}")
    return {p: s for p, s in sites.items() if not s.error}, notes
