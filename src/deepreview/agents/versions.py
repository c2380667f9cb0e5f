"""Agent CLI versions, remembered across runs so a review does not spawn `--version` each time.

An entry is keyed by the executable's real path, size and modification time: an upgrade
changes the key. The cache lives in the user's cache folder (`DEEPREVIEW_CACHE_DIR` overrides).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import platformdirs

CACHE_ENV = "DEEPREVIEW_CACHE_DIR"
_FILE = "cli-versions.json"


def _cache_file() -> Path:
    root = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("deepreview")
    return Path(root) / _FILE


def _key(executable: str) -> str | None:
    try:
        real = os.path.realpath(executable)
        st = os.stat(real)
    except OSError:
        return None
    return f"{real}:{st.st_size}:{st.st_mtime_ns}"


def _load() -> dict[str, str | None]:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def known_version(executable: str) -> tuple[bool, str | None]:
    """(found, version) for `executable` as last seen unchanged on disk."""
    key = _key(executable)
    if key is None:
        return False, None
    data = _load()
    if key not in data:
        return False, None
    value = data[key]
    return True, value if isinstance(value, str) else None


def remember_version(executable: str, version: str | None) -> None:
    """Store `executable`'s version; a cache that cannot be written is silently skipped."""
    key = _key(executable)
    if key is None:
        return
    data = _load()
    data[key] = version
    path = _cache_file()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
