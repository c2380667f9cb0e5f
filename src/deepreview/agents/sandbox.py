"""Confine an agent's process: writes only where its policy allows, optionally no network and
CPU / memory limits.

`confine` turns a command into one that runs it under a `SandboxPolicy`, and says in one line
which confinement is in force. On Linux the command goes through the launcher
`sandbox_exec.py` (Landlock for writes, a user + network namespace for the network, rlimits);
on macOS through `sandbox-exec` with an equivalent profile; elsewhere, or when the kernel has
no Landlock, the command runs unconfined and the description says so.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepreview.agents import sandbox_exec

#: State folders and files of the AI CLIs, relative to the home folder: writable by agents.
DEFAULT_STATE_PATHS = (".claude", ".claude.json", ".codex", ".gemini", ".cache", ".npm")

#: The largest file a confined process may write (RLIMIT_FSIZE): a runaway write stops there.
AGENT_FILE_BYTES = 2 * 2**30

LAUNCHER = Path(sandbox_exec.__file__)
_MAC_SANDBOX = "/usr/bin/sandbox-exec"
_PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SandboxPolicy:
    """Where a confined process may write, whether it may reach the network, and its limits."""

    writable: tuple[Path, ...]
    network: bool = True
    cpu_seconds: int | None = None
    memory_bytes: int | None = None
    file_bytes: int | None = None


@dataclass(frozen=True)
class Confined:
    """The command that runs the original one under a policy, and what confines it."""

    argv: list[str]
    description: str


@dataclass(frozen=True)
class Host:
    """What this machine offers for confinement."""

    system: str
    landlock_abi: int = 0
    network_namespace: bool = False
    network_error: str = ""


@functools.cache
def _network_probe() -> tuple[bool, str]:
    """Whether an unprivileged network namespace can be made here (asked once, in a child)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-S", str(LAUNCHER), "--probe"],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        found = json.loads(proc.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return False, str(exc)
    return bool(found.get("network_namespace")), str(found.get("network_error", ""))


def detect_host(network: bool = True) -> Host:
    """This machine's confinement; the network namespace is probed only when `network` is
    False (it costs a process start)."""
    if sys.platform == "darwin":
        return Host("darwin" if Path(_MAC_SANDBOX).exists() else "other")
    if not sys.platform.startswith("linux"):
        return Host("other")
    ok, error = (False, "") if network else _network_probe()
    return Host("linux", sandbox_exec.landlock_abi(), ok, error)


def agent_policy(
    worktree: Path,
    tmpdir: Path,
    environ: Mapping[str, str],
    state_paths: Sequence[str] = DEFAULT_STATE_PATHS,
) -> SandboxPolicy:
    """An AI CLI's policy: its worktree, its private TMPDIR and its state folders under HOME
    (absolute entries of `state_paths` are taken as they are)."""
    home = Path(environ.get("HOME") or Path.home())
    state = tuple(home / Path(p).expanduser() for p in state_paths)
    return SandboxPolicy(writable=(worktree, tmpdir, *state), file_bytes=AGENT_FILE_BYTES)


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def _limits(policy: SandboxPolicy) -> tuple[list[str], list[str]]:
    args: list[str] = []
    said: list[str] = []
    if policy.cpu_seconds is not None:
        args += ["--cpu", str(policy.cpu_seconds)]
        said.append(f"CPU {policy.cpu_seconds} s")
    if policy.memory_bytes is not None:
        args += ["--memory", str(policy.memory_bytes)]
        said.append(f"memory {_size(policy.memory_bytes)}")
    if policy.file_bytes is not None:
        args += ["--file-size", str(policy.file_bytes)]
        said.append(f"files up to {_size(policy.file_bytes)}, no core dumps")
    return args, said


def _where(policy: SandboxPolicy) -> str:
    return ", ".join(str(p) for p in policy.writable)


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mac_profile(policy: SandboxPolicy) -> str:
    """The `sandbox-exec` profile: everything allowed but writes outside `writable` (and the
    network beyond loopback when it is off)."""
    allowed = [f"(subpath {_quote(os.path.realpath(p))})" for p in policy.writable]
    allowed += [f"(subpath {_quote(d)})" for d in sandbox_exec.DEVICES]
    rules = ["(version 1)", "(allow default)", "(deny file-write*)"]
    rules.append(f"(allow file-write* {' '.join(allowed)})")
    if not policy.network:
        rules += [
            "(deny network*)",
            '(allow network* (local ip "localhost:*") (remote ip "localhost:*"))',
        ]
    return "\n".join(rules)


def confine(argv: Sequence[str], policy: SandboxPolicy, *, host: Host | None = None) -> Confined:
    """The command running `argv` under `policy` on this machine (or on `host`)."""
    host = host or detect_host(policy.network)
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER)]
    limit_args, limits = _limits(policy)
    if host.system == "linux" and host.landlock_abi >= 1:
        args = ["--landlock", *(a for p in policy.writable for a in ("--write", str(p)))]
        said = [f"Landlock ABI {host.landlock_abi}: writes only to {_where(policy)}"]
        if not policy.network:
            if host.network_namespace:
                args.append("--no-network")
                said.append("no network (user + network namespace, loopback only)")
            else:
                said.append(f"network not isolated ({host.network_error or 'no namespace'})")
        return Confined([*launcher, *args, *limit_args, "--", *argv], "; ".join(said + limits))
    if host.system == "darwin":
        said = [f"sandbox-exec: writes only to {_where(policy)}"]
        if not policy.network:
            said.append("no network beyond loopback")
        command = [_MAC_SANDBOX, "-p", mac_profile(policy), *argv]
        return Confined([*launcher, *limit_args, "--", *command], "; ".join(said + limits))
    reason = "no Landlock in this kernel" if host.system == "linux" else "no sandbox on this OS"
    said = [f"not confined ({reason}): writes outside the worktree are detected, not prevented"]
    if not policy.network:
        said.append("network not isolated")
    if limit_args and os.name == "posix":
        return Confined([*launcher, *limit_args, "--", *argv], "; ".join(said + limits))
    return Confined(list(argv), "; ".join(said))
