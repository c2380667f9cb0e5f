"""A small base for external static analyzers, plus finding helpers shared with `scan`.

An analyzer subclass declares the tool (a Python `module` run with this interpreter, or a
`binary` on PATH), the file suffixes it checks, its command-line options and a parser that turns
the tool's output into `ToolIssue` values. The base selects the changed files, runs the tool in
the worktree, reads excerpts from the head files, marks what lies outside the diff, redacts
likely secrets from what the tool printed and always returns an `AgentRun`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import ClassVar, Literal

from deepreview.agents.base import (
    AgentBase,
    AgentKind,
    Availability,
    agent_environment,
)
from deepreview.agents.process import ProcessResult, run_process
from deepreview.agents.sandbox import AGENT_FILE_BYTES, SandboxPolicy, confine
from deepreview.agents.scan_files import is_test_path
from deepreview.agents.scan_secrets import redact_finding, redact_text
from deepreview.agents.versions import probe_version
from deepreview.config import AgentConfig
from deepreview.context import ReviewContext
from deepreview.schema import (
    SEVERITIES,
    SEVERITY_LETTER,
    AgentReview,
    AgentRun,
    CoverageEntry,
    Finding,
    Location,
    Severity,
)
from deepreview.scope import DiffScope, place
from deepreview.source.tree import DirectoryTree

#: Most lines of a finding's excerpt taken from the head file.
MAX_EXCERPT_LINES = 10


class ToolOutputError(ValueError):
    """The analyzer printed something that is not the output format it was asked for."""


@dataclass(frozen=True)
class ToolIssue:
    """One problem as the tool reports it, before it becomes a Finding."""

    path: str
    line: int | None
    end_line: int | None
    rule: str
    message: str
    severity: Severity
    category: str
    detail: str = ""
    fix: str | None = None


@dataclass(frozen=True)
class ToolOutput:
    """A parsed tool run: its issues and anything worth telling the reader (skipped files)."""

    issues: list[ToolIssue]
    notes: list[str]


def excerpt_of(lines: Sequence[str] | None, start: int | None, end: int | None) -> str | None:
    """Head-file lines start..end (1-based, capped at MAX_EXCERPT_LINES), verbatim."""
    if lines is None or start is None or not 1 <= start <= len(lines):
        return None
    stop = min(end if end is not None and end >= start else start, len(lines))
    stop = min(stop, start + MAX_EXCERPT_LINES - 1)
    return "\n".join(lines[start - 1 : stop])


def number_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings ordered by severity, location and title, with ids C1.., I1.., S1.."""

    def order(f: Finding) -> tuple[int, str, int, str]:
        loc = f.locations[0] if f.locations else None
        path = loc.path if loc else ""
        line = (loc.start_line or 0) if loc else 0
        return (SEVERITIES.index(f.severity), path, line, f.title)

    counters = dict.fromkeys(SEVERITIES, 0)
    numbered: list[Finding] = []
    for f in sorted(findings, key=order):
        counters[f.severity] += 1
        fid = f"{SEVERITY_LETTER[f.severity]}{counters[f.severity]}"
        numbered.append(f.model_copy(update={"id": fid}))
    return numbered


def coverage_of(paths: Iterable[str], findings: Sequence[Finding]) -> list[CoverageEntry]:
    """Each path as reviewed, with the ids of the findings located in it."""
    return [
        CoverageEntry(
            path=p,
            finding_ids=[f.id for f in findings if any(loc.path == p for loc in f.locations)],
        )
        for p in paths
    ]


def confined(ctx: ReviewContext, argv: list[str]) -> list[str]:
    """`argv` under the analyzers' sandbox: writes only to the head worktree and the run folder,
    no network, bounded file size (the tools only read the code, so nothing more is needed)."""
    policy = SandboxPolicy((ctx.worktree, ctx.run_dir), network=False, file_bytes=AGENT_FILE_BYTES)
    return confine(argv, policy).argv


class AnalyzerAgent(AgentBase):
    """Runs one static analyzer on the changed files it understands."""

    kind: ClassVar[AgentKind] = "analyzer"
    #: Python module run as `python -m <module>`; when None, `binary` is run from PATH.
    module: ClassVar[str | None] = None
    #: File-name endings the tool checks.
    suffixes: ClassVar[tuple[str, ...]] = (".py",)
    #: Whether test files are checked too (security linters skip them: fixtures look risky).
    include_tests: ClassVar[bool] = True
    #: Language named in the skip reason, e.g. "no changed Python files".
    language: ClassVar[str] = "Python"
    excerpt_lang: ClassVar[str] = "python"
    #: Exit codes that mean "ran fine" (most linters exit 1 when they found something).
    ok_returncodes: ClassVar[frozenset[int]] = frozenset({0, 1})

    def __init__(self, config: AgentConfig | None = None) -> None:
        super().__init__(config)
        #: Known from package metadata for module tools; `run()` asks the tool itself.
        self.version: str | None = None
        if self.module is not None:
            with contextlib.suppress(metadata.PackageNotFoundError):
                self.version = metadata.version(self.module)

    def display_name(self) -> str:
        """The configured display name, else `<tool> <version>` once the version is known."""
        if self.config.display_name:
            return self.config.display_name
        return f"{self.name} {self.version}" if self.version else self.name

    def availability(self, environ: Mapping[str, str]) -> Availability:
        """Module tools need the module importable; binary tools need the binary on PATH."""
        if self.module is not None:
            if importlib.util.find_spec(self.module) is None:
                return Availability(False, f"Python module `{self.module}` is not installed")
            return Availability(True)
        return super().availability(environ)

    def command(self) -> list[str]:
        """The tool's executable part of the command line."""
        if self.module is not None:
            return [sys.executable, "-m", self.module]
        assert self.binary is not None, "an analyzer sets `module` or `binary`"
        return [self.binary]

    def arguments(self, worktree: Path) -> list[str]:
        """Options placed between the command and the file list."""
        raise NotImplementedError

    def parse(self, stdout: str) -> ToolOutput:
        """The tool's output as issues; raises ToolOutputError when it is not parseable."""
        raise NotImplementedError

    def changed_files(self, ctx: ReviewContext) -> list[str]:
        """Changed files with a matching suffix that exist at head (tests only if included)."""
        return [
            f.path
            for f in ctx.diff.files
            if f.status != "deleted"
            and not f.is_binary
            and f.path.endswith(self.suffixes)
            and (self.include_tests or not is_test_path(f.path))
            and (ctx.worktree / f.path).is_file()
        ]

    async def run(self, ctx: ReviewContext) -> AgentRun:
        """Run the tool on the changed files; failures become failed runs, never exceptions."""
        started = datetime.now(UTC)
        t0 = time.monotonic()

        def stopped(
            status: Literal["failed", "timeout", "skipped"], reason: str, **fields: object
        ) -> AgentRun:
            duration = time.monotonic() - t0
            return AgentRun.failure(
                self,
                status,
                reason,
                started_at=started,
                duration_s=duration,
                version=self.version,
                **fields,
            )

        files = self.changed_files(ctx)
        if not files:
            return stopped("skipped", f"no changed {self.language} files", applicable=False)
        env = agent_environment(ctx.env, extra=self.config.env)
        installed = self.installed(env)
        if self.module is None and not Path(installed).is_absolute():
            return stopped("failed", f"could not run {self.name}: `{installed}` is not on PATH")
        command = [installed] if self.module is None else self.command()
        argv = [*command, *self.arguments(ctx.worktree), *self.config.extra_args]
        try:
            probe = await probe_version(
                command,
                installed,
                ctx,
                env,
                f"{self.name}-version",
                lambda argv: confined(ctx, argv),
            )
            if probe.failed is not None:
                reason = f"`{self.name} --version` failed: {_last_line(probe.failed)}"
                return stopped("failed", reason)
            self.version = probe.version
            result = await self._run(ctx, env, [*argv, "--", *files])
        except OSError as exc:
            return stopped("failed", f"could not run {self.name}: {exc}")
        raw = redact_text("", result.stdout.decode("utf-8", errors="replace"))
        if result.timed_out:
            return stopped(
                "timeout", f"no result after {self.config.timeout_s:g} s", raw_output=raw
            )
        if result.returncode not in self.ok_returncodes:
            reason = f"{self.name} exited with code {result.returncode}: {_last_line(result)}"
            return stopped("failed", reason, raw_output=raw)
        try:
            output = self.parse(raw)
        except ToolOutputError as exc:
            return stopped("failed", f"unreadable {self.name} output: {exc}", raw_output=raw)
        tree = DirectoryTree(ctx.worktree)
        findings = number_findings(
            redact_finding(self._finding(ctx, tree, group))
            for group in self._grouped(ctx, output.issues)
        )
        review = AgentReview(
            summary=_summary(self.name, len(files), findings),
            findings=findings,
            coverage=coverage_of(files, findings),
        )
        notes = list(output.notes)
        if result.stderr.strip():
            notes.append(f"stderr: {_last_line(result)}")
        return AgentRun(
            agent=self.name,
            display_name=self.display_name(),
            kind=self.kind,
            version=self.version,
            status="ok",
            started_at=started,
            duration_s=round(time.monotonic() - t0, 3),
            raw_output=raw,
            review=review,
            files_read=files,
            notes=notes,
        )

    def installed(self, env: Mapping[str, str]) -> str:
        """The tool's installed file, whose changes mean a new version: the module's source
        for module tools, else the binary found on PATH."""
        if self.module is not None:
            spec = importlib.util.find_spec(self.module)
            if spec is not None and spec.origin:
                return spec.origin
        return shutil.which(self.command()[0], path=env.get("PATH")) or self.command()[0]

    async def _run(
        self, ctx: ReviewContext, env: Mapping[str, str], argv: list[str]
    ) -> ProcessResult:
        return await run_process(
            confined(ctx, argv),
            cwd=ctx.worktree,
            env=env,
            stdin=None,
            timeout_s=self.config.timeout_s,
            capture_dir=ctx.run_dir,
            name=f"{self.name}-check",
        )

    def _finding(
        self, ctx: ReviewContext, tree: DirectoryTree, issues: Sequence[ToolIssue]
    ) -> Finding:
        """One finding for hits of one rule with one message (all their places listed)."""
        first = issues[0]
        locations = [_location(ctx.worktree, i) for i in issues]
        placement = place(ctx.diff, locations)
        parts = [first.detail, placement.scope.describe() if placement else ""]
        if len(locations) > 1:
            parts.append(f"{len(locations)} places: " + ", ".join(loc.label() for loc in locations))
        path = locations[0].path
        excerpt = excerpt_of(tree.read_lines(path), first.line, first.end_line)
        return Finding(
            id="",
            severity=min((i.severity for i in issues), key=SEVERITIES.index),
            category=first.category,
            title=f"{first.rule}: {first.message}",
            body="\n\n".join(part for part in parts if part),
            locations=locations,
            excerpt=excerpt,
            excerpt_lang=self.excerpt_lang if excerpt is not None else None,
            fix=first.fix,
            rule=first.rule,
        )

    def _grouped(self, ctx: ReviewContext, issues: Sequence[ToolIssue]) -> list[list[ToolIssue]]:
        """Hits of one rule with one message, in order; those on lines the change adds stay
        apart from those on unchanged code (which consolidation lists as pre-existing)."""
        scope = DiffScope(ctx.diff)
        groups: dict[tuple[str, str, bool], list[ToolIssue]] = {}
        for i in issues:
            loc = Location(
                path=_relative(ctx.worktree, i.path), start_line=i.line, end_line=i.end_line
            )
            groups.setdefault((i.rule, i.message, scope.added([loc])), []).append(i)
        return list(groups.values())


def _location(worktree: Path, issue: ToolIssue) -> Location:
    return Location(
        path=_relative(worktree, issue.path), start_line=issue.line, end_line=issue.end_line
    )


def _relative(worktree: Path, path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(worktree.resolve())
        except ValueError:
            return p.as_posix()
    return Path(p.as_posix().removeprefix("./")).as_posix()


def _last_line(result: ProcessResult) -> str:
    for stream in (result.stderr, result.stdout):
        lines = stream.decode("utf-8", errors="replace").strip().splitlines()
        if lines:
            return lines[-1].strip()[:300]
    return "no output"


def _summary(tool: str, n_files: int, findings: Sequence[Finding]) -> str:
    counts = ", ".join(
        f"{n} {sev}" for sev in SEVERITIES if (n := sum(f.severity == sev for f in findings))
    )
    files = f"{n_files} changed file{'s' if n_files != 1 else ''}"
    return f"{tool} checked {files}: {counts or 'no issues'}."


def pyproject_has_tool(root: Path, tool: str) -> bool:
    """Whether `root/pyproject.toml` has a `[tool.<tool>]` table."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    section = data.get("tool")
    return isinstance(section, dict) and tool in section
