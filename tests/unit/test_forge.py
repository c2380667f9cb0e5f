"""The forge registry: which forge a host or URL belongs to, and the links it resolves."""

from __future__ import annotations

import pytest

from deepreview.forge.base import ForgeError
from deepreview.forge.github import GitHub, GitHubError
from deepreview.forge.registry import GITHUB, claimed, forge_for, host_of, web_links
from deepreview.schema import Location
from deepreview.source.git import TargetError


@pytest.mark.parametrize(
    ("where", "host"),
    [
        ("https://github.com/o/r/pull/1", "github.com"),
        ("git@GitHub.com:o/r.git", "github.com"),
        ("ssh://git@ghe.corp:2222/o/r.git", "ghe.corp"),
        ("ghe.corp:8443", "ghe.corp"),
    ],
)
def test_host_of_urls_remotes_and_hosts(where: str, host: str) -> None:
    assert host_of(where) == host


def test_github_is_picked_by_its_host() -> None:
    assert claimed("https://github.com/o/r/pull/1", {}) is GITHUB
    assert claimed("git@github.com:o/r.git", {}) is GITHUB


def test_an_enterprise_host_is_github_when_the_api_url_names_it() -> None:
    env = {"GITHUB_API_URL": "https://ghe.corp/api/v3"}
    assert claimed("https://ghe.corp/team/svc/pull/9", {}) is None
    assert claimed("https://ghe.corp/team/svc/pull/9", env) is GITHUB
    assert claimed("https://other.corp/team/svc", env) is None


def test_an_unclaimed_host_opens_the_default_forge_but_gets_no_links() -> None:
    assert forge_for("https://gitlab.example.com/a/b", {}) is GITHUB
    assert forge_for(None, {}) is GITHUB
    assert web_links("https://gitlab.example.com/a/b", {}) is None
    assert web_links(None, {}) is None


def test_opening_a_forge_gives_the_client_of_its_kind() -> None:
    forge = GITHUB.open({"GITHUB_TOKEN": "t", "GITHUB_API_URL": "http://127.0.0.1:9"})
    try:
        assert isinstance(forge, GitHub) and forge.name == "GitHub"
        assert forge.client.api_url == "http://127.0.0.1:9"
    finally:
        forge.close()


def test_github_links_are_resolved_from_the_repository_address() -> None:
    links = web_links("https://github.com/acme/shop/", {})
    assert links is not None
    assert links.profile_url("@dfox") == "https://github.com/dfox"
    assert links.pull_url(7) == "https://github.com/acme/shop/pull/7"
    assert links.commit_url("abc") == "https://github.com/acme/shop/commit/abc"
    sha = "f" * 40
    one = Location(path="src/a b.py", start_line=3)
    assert links.blob_url(sha, one) == f"https://github.com/acme/shop/blob/{sha}/src/a%20b.py#L3"
    span = Location(path="x.py", start_line=3, end_line=5)
    assert links.blob_url(sha, span).endswith("/x.py#L3-L5")
    assert links.blob_url(sha, Location(path="x.py")).endswith("/x.py")


def test_braces_in_values_are_not_templates() -> None:
    links = web_links("https://github.com/acme/shop", {})
    assert links is not None
    assert links.profile_url("{sha}") == "https://github.com/%7Bsha%7D"


def test_forge_errors_are_not_target_errors() -> None:
    assert issubclass(GitHubError, ForgeError)
    assert not issubclass(ForgeError, TargetError)
