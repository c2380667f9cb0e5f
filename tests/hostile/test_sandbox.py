"""The agent sandbox, provoked for real on this kernel: writes outside the policy are refused,
the network is cut, CPU and memory limits kill, and an unconfined host says so."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from deepreview.agents.sandbox import (
    Host,
    SandboxPolicy,
    agent_policy,
    confine,
    detect_host,
    mac_profile,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Landlock is Linux")

WRITE = """
import sys
from pathlib import Path
for target in sys.argv[1:]:
    try:
        Path(target).write_text("x")
        print("wrote", target)
    except OSError as exc:
        print("refused", target, exc.errno)
"""


def run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


@linux_only
def test_writes_outside_the_policy_are_refused_also_under_the_temp_folder(tmp_path: Path) -> None:
    allowed, checkout = tmp_path / "worktree", tmp_path / "checkout"
    allowed.mkdir()
    checkout.mkdir()
    assert tmp_path.is_relative_to(Path(tempfile.gettempdir()))
    confined = confine(
        [sys.executable, "-c", WRITE, str(allowed / "a"), str(checkout / "b"), str(tmp_path / "c")],
        SandboxPolicy(writable=(allowed,)),
    )
    assert confined.description.startswith("Landlock ABI ")
    proc = run(confined.argv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"wrote {allowed / 'a'}",
        f"refused {checkout / 'b'} 13",
        f"refused {tmp_path / 'c'} 13",
    ]
    assert not (checkout / "b").exists() and (allowed / "a").read_text() == "x"


@linux_only
def test_deleting_renaming_and_truncating_outside_are_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = (
        "import os, sys\n"
        "for name, op in [('unlink', lambda: os.unlink(sys.argv[1])),\n"
        "                 ('rename', lambda: os.rename(sys.argv[1], sys.argv[2] + '/v')),\n"
        "                 ('truncate', lambda: os.truncate(sys.argv[1], 0)),\n"
        "                 ('mkdir', lambda: os.mkdir(sys.argv[1] + '.d'))]:\n"
        "    try:\n"
        "        op(); print(name, 'done')\n"
        "    except OSError as exc:\n"
        "        print(name, 'refused')\n"
    )
    argv = [sys.executable, "-c", script, str(victim), str(scratch)]
    proc = run(confine(argv, SandboxPolicy(writable=(scratch,))).argv)
    assert proc.stdout.split("\n")[:4] == [
        "unlink refused",
        "rename refused",
        "truncate refused",
        "mkdir refused",
    ]
    assert victim.read_text() == "precious"


@linux_only
def test_no_network_keeps_loopback_but_cannot_reach_the_host() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    script = (
        "import socket, sys\n"
        "inner = socket.create_server(('127.0.0.1', 0))\n"
        "socket.create_connection(inner.getsockname(), timeout=2).close()\n"
        "print('own loopback ok')\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2).close()\n"
        "    print('reached the host')\n"
        "except OSError:\n"
        "    print('host unreachable')\n"
    )
    policy = SandboxPolicy(writable=(), network=False)
    confined = confine([sys.executable, "-c", script, str(port)], policy)
    with server:
        proc = run(confined.argv)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody connected to the host's server
            server.accept()
    assert "no network (user + network namespace, loopback only)" in confined.description
    assert proc.stdout.splitlines() == ["own loopback ok", "host unreachable"], proc.stderr


@linux_only
def test_cpu_and_memory_limits_stop_the_process(tmp_path: Path) -> None:
    spin = confine([sys.executable, "-c", "while True: pass"], SandboxPolicy((), cpu_seconds=1))
    assert "CPU 1 s" in spin.description
    proc = run(spin.argv, timeout=30)
    assert proc.returncode < 0  # SIGXCPU, then SIGKILL
    hog = "try:\n    b = bytearray(1 << 30)\n    print('allocated')\n"
    hog += "except MemoryError:\n    print('refused')"
    policy = SandboxPolicy((), memory_bytes=512 * 2**20)
    confined = confine([sys.executable, "-c", hog], policy)
    assert "memory 512 MiB" in confined.description
    assert run(confined.argv).stdout.strip() == "refused"


@linux_only
def test_a_file_size_limit_stops_a_runaway_write_and_core_dumps_are_off(tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    write = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "print(resource.getrlimit(resource.RLIMIT_CORE)[0])\n"
        "try:\n"
        "    open(sys.argv[1], 'wb').write(b'x' * (1 << 20))\n"
        "    print('written')\n"
        "except OSError as exc:\n"
        "    print('refused', exc.errno)\n"
    )
    policy = SandboxPolicy((tmp_path,), file_bytes=64 * 2**10)
    confined = confine([sys.executable, "-c", write, str(target)], policy)
    assert "files up to 64 KiB, no core dumps" in confined.description
    out = run(confined.argv).stdout.split()
    assert out[0] == "0"
    assert out[1:] == ["refused", "27"]  # EFBIG
    assert target.stat().st_size <= 64 * 2**10


def test_an_agent_policy_names_worktree_tmpdir_and_state_folders(tmp_path: Path) -> None:
    policy = agent_policy(tmp_path / "wt", tmp_path / "tmp", {"HOME": "/home/u"}, (".codex", "/s"))
    assert policy.writable == (
        tmp_path / "wt",
        tmp_path / "tmp",
        Path("/home/u/.codex"),
        Path("/s"),
    )
    assert policy.network


def test_an_unconfinable_host_runs_the_command_as_is_and_says_so() -> None:
    argv = ["claude", "-p"]
    plain = confine(argv, SandboxPolicy((Path("/w"),)), host=Host("other"))
    assert plain.argv == argv
    assert plain.description.startswith("not confined (no sandbox on this OS)")
    no_landlock = confine(argv, SandboxPolicy((), network=False), host=Host("linux", 0))
    assert no_landlock.description.startswith("not confined (no Landlock in this kernel)")
    assert no_landlock.description.endswith("network not isolated")
    refused = confine(argv, SandboxPolicy((), network=False), host=Host("linux", 3, False, "EPERM"))
    assert refused.description.endswith("network not isolated (EPERM)")
    assert "--no-network" not in refused.argv and refused.argv[-2:] == argv


def test_the_macos_profile_denies_writes_except_the_policy() -> None:
    profile = mac_profile(SandboxPolicy((Path('/w/a "b"'),), network=False))
    lines = profile.splitlines()
    assert lines[:3] == ["(version 1)", "(allow default)", "(deny file-write*)"]
    assert '(subpath "/w/a \\"b\\"")' in lines[3] and '(subpath "/dev/null")' in lines[3]
    assert "(deny network*)" in lines
    confined = confine(["x"], SandboxPolicy(()), host=Host("darwin"))
    assert confined.argv[-4:-2] == ["/usr/bin/sandbox-exec", "-p"]
    assert confined.description.startswith("sandbox-exec: writes only to")


@linux_only
def test_this_kernel_offers_landlock() -> None:
    """The machine the tests run on confines for real; the other tests rely on it."""
    assert detect_host().landlock_abi >= 1
