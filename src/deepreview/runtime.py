"""The runtime a review runs in, read once from the environment at the entry point.

The CLI and the library entry (`deepreview.review`) build it; everything below gets it as a
value (`ReviewContext.runtime`), never from `os.environ`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

#: `1` runs agents one at a time.
SERIAL_ENV = "DEEPREVIEW_SERIAL"
#: Where remembered tool versions live (default: the user's cache folder).
CACHE_ENV = "DEEPREVIEW_CACHE_DIR"


@dataclass(frozen=True)
class Runtime:
    """The environment agents and tools are given, the cache folder, and the serial flag."""

    environ: Mapping[str, str]
    cache_dir: Path
    serial: bool = False

    def concurrency(self, wanted: int) -> int:
        """How many of something may run at once: `wanted` (at least 1), or 1 when serial."""
        return 1 if self.serial else max(1, wanted)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runtime:
        """The runtime `environ` describes (`DEEPREVIEW_CACHE_DIR`, `DEEPREVIEW_SERIAL`)."""
        cache = environ.get(CACHE_ENV, "").strip() or platformdirs.user_cache_dir("deepreview")
        return cls(dict(environ), Path(cache), environ.get(SERIAL_ENV, "").strip() == "1")
