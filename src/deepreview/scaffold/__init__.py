"""The files `deepreview init` writes: a commented configuration and CI jobs."""

from __future__ import annotations

from importlib import resources

#: Where each scaffold goes in the repository, by name.
DESTINATIONS = {
    "config": "deepreview.toml",
    "github": ".github/workflows/deepreview.yml",
    "gitlab": ".gitlab-ci.yml",
}
_FILES = {"config": "deepreview.toml", "github": "github.yml", "gitlab": "gitlab-ci.yml"}


def scaffold(name: str) -> str:
    """The text of scaffold `name` (config, github or gitlab)."""
    return (resources.files(__name__) / _FILES[name]).read_text(encoding="utf-8")
