"""The sandbox launcher: confine this process, then exec the agent's command.

Usage: ``python -I -S sandbox_exec.py [--landlock] [--write PATH]... [--no-network] [--cpu S]
[--memory BYTES] -- COMMAND...``. It is started by path, isolated and without site packages
(standard library only, so nothing of the reviewed tree or the package is imported), and
applies, in this order: resource limits, a new user + network namespace (``--no-network``),
Landlock write confinement to the ``--write`` paths (``--landlock``), then ``execvp``. Any step
that fails ends the launcher with exit 126 and one line on stderr, so a command never runs less
confined than announced. ``--probe`` reports instead what this kernel allows, as JSON on stdout
(the probing process is spent: it may end in a new namespace).
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import json
import os
import resource
import socket
import struct
import sys
from collections.abc import Sequence

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every Linux architecture
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_WRITE_FILE = 1 << 1
_REMOVE_DIR = 1 << 4
_REMOVE_FILE = 1 << 5
_MAKE_CHAR = 1 << 6
_MAKE_DIR = 1 << 7
_MAKE_REG = 1 << 8
_MAKE_SOCK = 1 << 9
_MAKE_FIFO = 1 << 10
_MAKE_BLOCK = 1 << 11
_MAKE_SYM = 1 << 12
_REFER = 1 << 13  # ABI 2
_TRUNCATE = 1 << 14  # ABI 3
#: Every access right that changes the file system, by the ABI that introduced it.
_WRITES_ABI1 = (
    _WRITE_FILE
    | _REMOVE_DIR
    | _REMOVE_FILE
    | _MAKE_CHAR
    | _MAKE_DIR
    | _MAKE_REG
    | _MAKE_SOCK
    | _MAKE_FIFO
    | _MAKE_BLOCK
    | _MAKE_SYM
)
#: The rights a rule on a file (not a directory) may carry.
_FILE_RIGHTS = _WRITE_FILE | _TRUNCATE
#: Devices every program writes to; they hold no user data.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/ptmx", "/dev/shm")

EXIT_REFUSED = 126


class SandboxError(OSError):
    """The kernel refused a confinement step."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise SandboxError(code, f"{what}: {os.strerror(code)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers; 0 when it has none (or it is disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        result = _libc().syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(result), 0)


def handled_writes(abi: int) -> int:
    """The write rights a ruleset of this ABI handles."""
    rights = _WRITES_ABI1
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def apply_landlock(writable: Sequence[str]) -> int:
    """Deny every file-system write outside `writable` to this process and its children;
    reading and executing stay allowed everywhere. Missing paths are skipped. Returns the ABI."""
    abi = landlock_abi()
    if abi < 1:
        raise SandboxError(errno.ENOSYS, "Landlock is not available in this kernel")
    libc = _libc()
    handled = handled_writes(abi)
    attr = struct.pack("=Q", handled)
    ruleset = _check(
        libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, attr, len(attr), 0), "landlock_create_ruleset"
    )
    try:
        for path in writable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                is_dir = os.path.isdir(f"/proc/self/fd/{fd}")
                allowed = handled if is_dir else handled & _FILE_RIGHTS
                rule = struct.pack("=Qi", allowed, fd)
                _check(
                    libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _RULE_PATH_BENEATH, rule, 0),
                    f"landlock_add_rule {path}",
                )
            finally:
                os.close(fd)
        _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        _check(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def _loopback_up() -> None:
    """Bring `lo` up in the new network namespace, so loopback servers keep working."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request + b"\0" * 22)[:18])
        up = struct.pack("16sH", b"lo", flags[1] | _IFF_UP) + b"\0" * 22
        fcntl.ioctl(sock, _SIOCSIFFLAGS, up)


def isolate_network() -> None:
    """Enter a new network namespace with only loopback (in a new user namespace unless
    already privileged); the process keeps its own user and group ids."""
    uid, gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWNET if uid == 0 else _CLONE_NEWUSER | _CLONE_NEWNET
    _check(_libc().unshare(flags), "unshare(user, network namespace)")
    if uid != 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _loopback_up()


def apply_limits(
    cpu_seconds: int | None, memory_bytes: int | None, file_bytes: int | None = None
) -> None:
    """CPU time (SIGXCPU at the limit, SIGKILL a second later), address-space and file-size
    limits; a file-size limit also turns core dumps off."""
    if file_bytes is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cpu_seconds is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    if memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def probe() -> dict[str, object]:
    """What this kernel allows; this process is spent (it may end in a new namespace)."""
    found: dict[str, object] = {"landlock_abi": landlock_abi(), "network_namespace": True}
    try:
        isolate_network()
    except OSError as exc:
        found["network_namespace"] = False
        found["network_error"] = str(exc)
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sandbox_exec", allow_abbrev=False)
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--landlock", action="store_true")
    parser.add_argument("--write", action="append", default=[])
    parser.add_argument("--no-network", action="store_true")
    parser.add_argument("--cpu", type=int)
    parser.add_argument("--memory", type=int)
    parser.add_argument("--file-size", type=int)
    parser.add_argument("command", nargs="*")
    return parser


def main(argv: Sequence[str]) -> int:
    """Confine this process as asked, then replace it with the command."""
    args = _parser().parse_args(argv)
    if args.probe:
        print(json.dumps(probe()))
        return 0
    if not args.command:
        print("sandbox_exec: no command", file=sys.stderr)
        return 2
    try:
        apply_limits(args.cpu, args.memory, args.file_size)
        if args.no_network:
            isolate_network()
        if args.landlock:
            apply_landlock([*args.write, *DEVICES])
    except OSError as exc:
        print(f"sandbox_exec: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        os.execvp(args.command[0], args.command)
    except OSError as exc:
        print(f"sandbox_exec: {args.command[0]}: {exc.strerror}", file=sys.stderr)
        return 127
    return 0  # not reached: execvp replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
