"""The runtime tests give agents: an environment and the test's private cache folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from deepreview.runtime import CACHE_ENV, Runtime


def make_runtime(environ: Mapping[str, str] | None = None, *, serial: bool = False) -> Runtime:
    """`environ` (this process's when None), the cache folder `private_user_cache` set up."""
    env = dict(os.environ if environ is None else environ)
    return Runtime(env, Path(os.environ[CACHE_ENV]), serial)
