"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# --------------------------------------------------------------------------- fake AI CLI agents

#: Fake `claude`, `codex` and `gemini` executables (see tests/fakes/fakelib.py for their knobs).
FAKES_DIR = Path(__file__).parent / "fakes"


@pytest.fixture
def fake_cli_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with the fake agent CLIs first on PATH and no inherited FAKE_* settings.

    PATH is also set for this process, so availability checks see the fakes.
    """
    for name in list(os.environ):
        if name.startswith("FAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", f"{FAKES_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    return dict(os.environ)


# --------------------------------------------------------------------------- user cache


@pytest.fixture(autouse=True)
def private_user_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own user cache folder (remembered CLI versions), also for the
    `deepreview` subprocesses it starts."""
    path = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setenv("DEEPREVIEW_CACHE_DIR", str(path))
    return path
