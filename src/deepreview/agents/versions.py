"""Tool versions (agent CLIs and analyzers), probed with `--version` once per installed tool.

An entry is keyed by the tool's real path, size and modification time: an upgrade changes the
key. The cache lives in the runtime's cache folder (`Runtime.cache_dir`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deepreview.agents.process import ProcessResult, run_process
from deepreview.context import ReviewContext

_FILE = "cli-versions.json"
#: How long `--version` may take.
VERSION_TIMEOUT_S = 30.0
_VERSION = re.compile(r"\d+(?:\.\d+)+[\w.+-]*")


@dataclass(frozen=True)
class VersionProbe:
    """The version a tool reported (None when it printed none), or the failed probe."""

    version: str | None
    failed: ProcessResult | None = None


async def probe_version(
    command: Sequence[str],
    installed: str,
    ctx: ReviewContext,
    env: Mapping[str, str],
    name: str,
    confined: Callable[[list[str]], list[str]],
) -> VersionProbe:
    """`command --version` for the tool whose installed file is `installed`, unless its
    version is remembered; it runs as `confined` wraps it, like the tool's own run. A probe
    that fails (or times out) is not remembered. Raises OSError when the command cannot be
    started."""
    cache = ctx.runtime.cache_dir
    found, known = _known_version(installed, cache)
    if found:
        return VersionProbe(known)
    result = await run_process(
        confined([*command, "--version"]),
        cwd=ctx.worktree,
        env=env,
        stdin=None,
        timeout_s=VERSION_TIMEOUT_S,
        capture_dir=ctx.run_dir,
        name=name,
    )
    if result.returncode != 0:
        return VersionProbe(None, result)
    match = _VERSION.search(result.stdout.decode(errors="replace"))
    version = match.group(0) if match else None
    _remember_version(installed, version, cache)
    return VersionProbe(version)


def _key(executable: str) -> str | None:
    try:
        real = os.path.realpath(executable)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def _load(path: Path) -> dict[str, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _known_version(executable: str, cache_dir: Path) -> tuple[bool, str | None]:
    """(found, version) for `executable` as last seen unchanged on disk."""
    key = _key(executable)
    if key is None:
        return False, None
    data = _load(cache_dir / _FILE)
    if key not in data:
        return False, None
    value = data[key]
    return True, value if isinstance(value, str) else None


def _remember_version(executable: str, version: str | None, cache_dir: Path) -> None:
    """Store `executable`'s version; a cache that cannot be written is silently skipped."""
    key = _key(executable)
    if key is None:
        return
    path = cache_dir / _FILE
    data = _load(path)
    data[key] = version
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
