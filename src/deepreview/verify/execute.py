"""Run one command of the change's code: confined by the sandbox, scrubbed environment, a time
limit, and the process group killed at the limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepreview.agents.process import BinaryNotFoundError, run_process
from deepreview.agents.sandbox import AGENT_FILE_BYTES, SandboxPolicy, confine
from deepreview.schema import ExecutedCommand
from deepreview.verify.go_workspace import go_environment

#: The tail of a command's output kept for the report.
OUTPUT_TAIL = 4000


@dataclass(frozen=True)
class Confinement:
    """How commands are confined: writes only below `writable`, no network, resource limits."""

    writable: tuple[Path, ...]
    memory_bytes: int

    def describe(self) -> str:
        """The confinement's one-line description (without a CPU limit: each command's follows
        from its own time limit)."""
        return self.wrap(["true"], cpu_seconds=None)[1]

    def wrap(self, argv: Sequence[str], cpu_seconds: int | None) -> tuple[list[str], str]:
        """The command that runs `argv` under this confinement, and its one-line description."""
        policy = SandboxPolicy(
            writable=self.writable,
            network=False,
            cpu_seconds=cpu_seconds,
            memory_bytes=self.memory_bytes,
            file_bytes=AGENT_FILE_BYTES,
        )
        confined = confine(argv, policy)
        return confined.argv, confined.description


@dataclass(frozen=True)
class Execution:
    """A finished command: its record for the report and its output."""

    record: ExecutedCommand
    output: str
    isolation: str

    @property
    def passed(self) -> bool:
        """Exit code 0 within the time limit."""
        return self.record.exit_code == 0 and not self.record.timed_out


def cpu_limit(timeout_s: float) -> int:
    """The CPU seconds a command with this time limit may use (two busy cores' worth)."""
    return max(1, int(timeout_s * 2) + 1)


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    """The last `limit` characters of `text`."""
    return text if len(text) <= limit else "…" + text[-limit:]


async def execute(
    label: str,
    argv: Sequence[str],
    *,
    cwd: Path,
    where: str,
    env: Mapping[str, str],
    timeout_s: float,
    confinement: Confinement,
    capture_dir: Path,
    shown: str | None = None,
) -> Execution:
    """Run `argv` in `cwd` confined, with `env` as Go's workspace mode there needs it
    (`go_environment`); `shown` is the command as the report prints it."""
    wrapped, isolation = confinement.wrap(argv, cpu_seconds=cpu_limit(timeout_s))
    # Concurrent runs get distinct names: run_process creates the files before it first awaits.
    name = f"{len(list(capture_dir.glob('*.stdout'))) if capture_dir.exists() else 0:03d}"
    try:
        result = await run_process(
            wrapped,
            cwd=cwd,
            env=go_environment(env, cwd),
            stdin=None,
            timeout_s=max(timeout_s, 0.1),
            capture_dir=capture_dir,
            name=name,
        )
    except BinaryNotFoundError as exc:
        record = ExecutedCommand(
            label=label, command=shown or " ".join(argv), where=where, duration_s=0.0
        )
        return Execution(record, str(exc), isolation)
    output = (result.stdout + b"\n" + result.stderr).decode("utf-8", errors="replace")
    record = ExecutedCommand(
        label=label,
        command=shown or " ".join(argv),
        where=where,
        duration_s=round(result.duration_s, 2),
        exit_code=result.returncode,
        timed_out=result.timed_out,
    )
    return Execution(record, output, isolation)
