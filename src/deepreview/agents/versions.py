"""Agent CLI versions, remembered across runs so a review does not spawn `--version` each time.

An entry is keyed by the executable's real path, size and modification time: an upgrade
changes the key. The cache lives in the runtime's cache folder (`Runtime.cache_dir`).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

_FILE = "cli-versions.json"


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


def known_version(executable: str, cache_dir: Path) -> tuple[bool, str | None]:
    """(found, version) for `executable` as last seen unchanged on disk."""
    key = _key(executable)
    if key is None:
        return False, None
    data = _load(cache_dir / _FILE)
    if key not in data:
        return False, None
    value = data[key]
    return True, value if isinstance(value, str) else None


def remember_version(executable: str, version: str | None, cache_dir: Path) -> None:
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
