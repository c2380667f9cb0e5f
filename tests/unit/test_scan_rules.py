"""The line rules behind `scan`: secrets, comments, file kinds."""

from __future__ import annotations

import pytest

from deepreview.agents.scan_files import is_doc_path, is_source_path, is_test_path, split_comment
from deepreview.agents.scan_secrets import find_secrets, secret_findings, shannon_entropy
from deepreview.diff import parse_diff
from deepreview.redact import mask

# Token-shaped values are assembled at run time so that this file holds no literal credential.
GITHUB = "gh" + "p_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GOOGLE = "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk" + "_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
SLACK = "xo" + "xb-" + "123456789012-abcdefABCDEF"
JWT = "eyJ" + "hbGciOiJIUzI1NiJ9.eyJ" + "zdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N"
RANDOM = "q8Zr2LmX7vT4nB9kW1pY"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f'token = "{GITHUB}"', "GitHub token"),
        (f"const key = '{GOOGLE}';", "Google API key"),
        (f"STRIPE={STRIPE}", "Stripe secret key"),
        (f"slack: {SLACK}", "Slack token"),
        (f"Authorization: Bearer {JWT}", "JSON Web Token"),
        (f'db_password = "{RANDOM}"', "high-entropy value"),
        (f'{{"client_secret": "{RANDOM}"}}', "high-entropy value"),
        (f'"code": "1 db_password = \\"{RANDOM}\\"\\n",', "high-entropy value"),
    ],
)
def test_secrets_are_found_and_redacted(line: str, kind: str) -> None:
    hits = find_secrets("config/settings.py", line)
    assert [h.kind for h in hits] == [kind]
    secret = next(v for v in (GITHUB, GOOGLE, STRIPE, SLACK, JWT, RANDOM) if v in line)
    assert hits[0].redacted == secret[:4] + "…"
    assert secret not in hits[0].redacted_line
    assert hits[0].redacted_line == line.replace(secret, secret[:4] + "…")


def test_private_key_header_is_found_and_kept() -> None:
    header = "-----BEGIN OPENSSH " + "PRIVATE KEY-----"
    hits = find_secrets("id_ed25519", header)
    assert [h.kind for h in hits] == ["private key"]
    assert hits[0].redacted_line == header


@pytest.mark.parametrize(
    "line",
    [
        'password = "changeme-changeme-1"',
        'api_key = "xxxxxxxxxxxxxxxxxxxx"',
        'token = os.environ["API_TOKEN_VALUE_1"]',
        'secret_key = "${SECRET_KEY_FROM_ENV}"',
        'password = "passwordpassword"',
        'token_url = "https://auth.example.org/oauth/token"',
        'key_file = "/etc/ssl/private/server-2024.key"',
        'name = "q8Zr2LmX7vT4nB9kW1pY"',
    ],
)
def test_placeholders_lookups_and_plain_values_are_not_secrets(line: str) -> None:
    assert find_secrets("app.py", line) == []


def test_unquoted_values_count_only_in_config_files() -> None:
    line = f"API_TOKEN={RANDOM}"
    assert [h.kind for h in find_secrets(".env.production", line)] == ["high-entropy value"]
    assert find_secrets("app.py", line) == []


def test_entropy_and_redaction() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert mask("AKIAABCDEFGH", "") == "AKIA…"


@pytest.mark.parametrize(
    ("path", "line", "expected"),
    [
        ("a.py", 'x = "#not"  # real', ('x = "#not"  ', "real")),
        ("a.py", "y = 1 // 2", ("y = 1 // 2", None)),
        ("a.go", "x := 1 // TODO: later", ("x := 1 ", "TODO: later")),
        ("a.c", "#include <stdio.h>", ("#include <stdio.h>", None)),
        ("a.c", " * for now only ASCII", ("", "for now only ASCII")),
        ("q.sql", "select 1; -- temporary", ("select 1; ", "temporary")),
        ("README.md", "For now only GitHub.", ("", "For now only GitHub.")),
        ("Makefile", "# HACK: pin", ("", "HACK: pin")),
        ("data.unknown", "// note", ("", "note")),
        ("data.unknown", "value # trailing", ("value # trailing", None)),
    ],
)
def test_split_comment(path: str, line: str, expected: tuple[str, str | None]) -> None:
    assert split_comment(path, line) == expected


@pytest.mark.parametrize(
    ("path", "test", "source", "doc"),
    [
        ("src/app.py", False, True, False),
        ("tests/test_app.py", True, False, False),
        ("pkg/app_test.go", True, False, False),
        ("web/button.spec.tsx", True, False, False),
        ("docs/guide.md", False, False, True),
        ("docs/conf.py", False, True, True),
        ("config.yaml", False, False, False),
    ],
)
def test_file_kinds(path: str, test: bool, source: bool, doc: bool) -> None:
    assert (is_test_path(path), is_source_path(path), is_doc_path(path)) == (test, source, doc)


def test_secret_in_a_test_file_is_important_not_critical() -> None:
    patch = (
        "diff --git a/tests/test_x.py b/tests/test_x.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/tests/test_x.py\n@@ -0,0 +1 @@\n"
        f'+db_password = "{RANDOM}"\n'
    )
    fd = parse_diff(patch).files[0]
    [found] = secret_findings(fd)
    assert found.severity == "important"
    assert "test file" in found.body
    assert RANDOM not in found.model_dump_json()
