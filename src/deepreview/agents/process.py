"""Run an agent's subprocess: explicit stdin, output to files, timeout, kill the process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: How much of each stream is read back into memory; the full output stays on disk.
MAX_CAPTURE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ProcessResult:
    """What a finished (or killed) process left behind."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool
    stdout_truncated: bool
    stderr_truncated: bool
    stdout_path: Path
    stderr_path: Path


class BinaryNotFoundError(FileNotFoundError):
    """The executable is not on PATH."""


def _read_capped(path: Path) -> tuple[bytes, bool]:
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= MAX_CAPTURE_BYTES:
            return fh.read(), False
        head = fh.read(MAX_CAPTURE_BYTES // 2)
        fh.seek(size - MAX_CAPTURE_BYTES // 2)
        return head + b"\n[... output truncated ...]\n" + fh.read(), True


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: bytes | None,
    timeout_s: float,
    capture_dir: Path,
    name: str,
    grace_s: float = 2.0,
) -> ProcessResult:
    """Run `argv` in its own process group; stdout/stderr go to `capture_dir/name.*`.

    On timeout or cancellation the whole group gets SIGTERM, then SIGKILL after `grace_s`.
    Stdin is always explicit: the given bytes, or /dev/null.
    """
    capture_dir.mkdir(parents=True, exist_ok=True)
    out_path = capture_dir / f"{name}.stdout"
    err_path = capture_dir / f"{name}.stderr"
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=str(cwd),
                env=dict(env),
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise BinaryNotFoundError(f"`{argv[0]}` not found") from exc
        timed_out = False
        try:
            if stdin is not None:
                assert proc.stdin is not None
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    proc.stdin.write(stdin)
                    await proc.stdin.drain()
                proc.stdin.close()
            await asyncio.wait_for(proc.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
            await _terminate(proc, grace_s)
        except BaseException:
            await asyncio.shield(_terminate(proc, grace_s))
            raise
        finally:
            # The leader may have exited while children of its group live on.
            _kill_group(proc.pid)
    stdout, out_trunc = _read_capped(out_path)
    stderr, err_trunc = _read_capped(err_path)
    return ProcessResult(
        returncode=None if timed_out else proc.returncode,
        stdout=stdout,
        stderr=stderr,
        duration_s=time.monotonic() - start,
        timed_out=timed_out,
        stdout_truncated=out_trunc,
        stderr_truncated=err_trunc,
        stdout_path=out_path,
        stderr_path=err_path,
    )


async def _terminate(proc: asyncio.subprocess.Process, grace_s: float) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace_s)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
