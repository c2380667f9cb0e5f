"""Which forge a host or URL belongs to, and the forge's web-address shapes.

A new forge is one module (say `forge/gitlab.py`) with a class satisfying `Forge`
(`forge/base.py`) that takes the environment, plus one `ForgeKind` entry in `FORGES` below:
its public hosts, the variables naming a self-hosted instance, and its address shapes. Forges
are asked in order; the last (GitHub) is also the default for hosts no forge claims. The forge
module is imported only when a forge is opened, so a review without a pull request loads no
HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import cast
from urllib.parse import urlsplit

from deepreview.forge.base import Forge, ForgeFactory
from deepreview.schema import WebLinks


@dataclass(frozen=True)
class ForgeKind:
    """One forge: its hosts, where its client lives, the shapes of its web addresses.

    In `links`, `{site}` is the forge's root (`https://host`) and `{repo}` the repository's
    web address; the other placeholders are `WebLinks`'s.
    """

    name: str
    hosts: tuple[str, ...]
    """Public hosts, lower-case."""
    host_variables: tuple[str, ...]
    """Environment variables whose URL's host is a self-hosted instance of this forge."""
    factory: str
    """`module:Class` of the `Forge`, called with the environment."""
    links: WebLinks

    def claims(self, host: str, environ: Mapping[str, str]) -> bool:
        """Whether `host` is this forge's: a public host or one a variable names."""
        if host in self.hosts:
            return True
        own = {host_of(environ.get(v, "")) for v in self.host_variables}
        return host in own - {""}

    def open(self, environ: Mapping[str, str]) -> Forge:
        """A client of this forge for `environ` (token and API address come from there)."""
        module, _, name = self.factory.partition(":")
        factory = cast(ForgeFactory, getattr(import_module(module), name))
        return factory(environ)

    def web_links(self, repo_url: str) -> WebLinks:
        """`links` filled in for the repository at `repo_url`."""
        repo = repo_url.rstrip("/")
        parts = urlsplit(repo)
        site = f"{parts.scheme or 'https'}://{parts.netloc}"
        fields = {
            name: value.replace("{site}", site).replace("{repo}", repo)
            for name, value in self.links.model_dump().items()
        }
        return WebLinks(**fields)


GITHUB = ForgeKind(
    name="GitHub",
    hosts=("github.com",),
    host_variables=("GITHUB_API_URL",),
    factory="deepreview.forge.github:GitHub",
    links=WebLinks(
        profile="{site}/{login}",
        pull="{repo}/pull/{number}",
        commit="{repo}/commit/{sha}",
        blob="{repo}/blob/{sha}/{path}",
        line="#L{start}",
        lines="#L{start}-L{end}",
    ),
)

GITLAB = ForgeKind(
    name="GitLab",
    hosts=("gitlab.com",),
    host_variables=("CI_SERVER_URL", "GITLAB_URL"),
    factory="deepreview.forge.gitlab:GitLab",
    links=WebLinks(
        profile="{site}/{login}",
        pull="{repo}/-/merge_requests/{number}",
        commit="{repo}/-/commit/{sha}",
        blob="{repo}/-/blob/{sha}/{path}",
        line="#L{start}",
        lines="#L{start}-{end}",
    ),
)

#: Every forge, asked in order; the last is the default for hosts no forge claims.
FORGES: tuple[ForgeKind, ...] = (GITLAB, GITHUB)


def host_of(url_or_host: str) -> str:
    """The lower-case host of a URL, an scp-like remote (`git@host:path`) or a bare host."""
    text = url_or_host.strip()
    if "://" in text:
        return (urlsplit(text).hostname or "").lower()
    if "@" in text:
        text = text.split("@", 1)[1]
    return text.split("/", 1)[0].split(":", 1)[0].lower()


def claimed(url_or_host: str | None, environ: Mapping[str, str]) -> ForgeKind | None:
    """The forge that claims the host of `url_or_host`, or None."""
    host = host_of(url_or_host or "")
    return next((kind for kind in FORGES if host and kind.claims(host, environ)), None)


def forge_for(url_or_host: str | None, environ: Mapping[str, str]) -> ForgeKind:
    """The forge of `url_or_host`; the default forge when none claims it or it is unknown."""
    return claimed(url_or_host, environ) or FORGES[-1]


def web_links(repo_url: str | None, environ: Mapping[str, str]) -> WebLinks | None:
    """The web addresses of the repository at `repo_url`, when a forge claims its host."""
    kind = claimed(repo_url, environ)
    return kind.web_links(repo_url) if kind and repo_url else None
