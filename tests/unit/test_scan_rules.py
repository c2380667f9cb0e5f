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
    assert hits[0].redacted == f"{secret[:4]}…{secret[-4:]}" == mask(secret, "", tail=True)
    assert secret not in hits[0].redacted_line
    assert hits[0].redacted_line == line.replace(secret, hits[0].redacted)
    assert hits[0].length == len(secret) and hits[0].entropy == round(shannon_entropy(secret), 2)


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
    assert mask("AKIAABCDEFGH", "", tail=True) == "AKIA…"  # too short to show its end too
    assert mask("AKIAABCDEFGHIJKLMNOP", "", tail=True) == "AKIA…MNOP"


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


def _added(path: str, *lines: str) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def test_in_a_test_file_a_token_is_important_and_a_generic_value_a_suggestion() -> None:
    diff = parse_diff(_added("tests/test_x.py", f'db_password = "{RANDOM}"', f'T = "{GITHUB}"'))
    generic, token = secret_findings(diff.files[0])
    assert (generic.severity, token.severity) == ("suggestion", "important")
    assert "test file" in generic.body
    assert RANDOM not in generic.model_dump_json() and GITHUB not in token.model_dump_json()


def test_a_finding_shows_rule_length_entropy_and_both_ends() -> None:
    [found] = secret_findings(
        parse_diff(_added("app/settings.py", f'API_KEY = "{RANDOM}"')).files[0]
    )
    assert found.severity == "important" and found.rule == "high-entropy value"
    entropy = f"{shannon_entropy(RANDOM):.2f}"
    assert f"`{RANDOM[:4]}…{RANDOM[-4:]}` assigned to `API_KEY`" in found.body
    assert f"({len(RANDOM)} characters, entropy {entropy} bits per character)" in found.body
    assert RANDOM not in found.model_dump_json()


@pytest.mark.parametrize(
    ("path", "line"),
    [
        # markup attributes whose names merely contain "key"
        ("web/Table.vue", '<grid empty-key="tables.orders.emptyState" :key="row[idField]">'),
        ("web/Search.vue", '<input @keydown="onSearchKeydown2" v-bind:key="item.id2">'),
        ("web/App.tsx", '<Item apiKey="k3yFromPropsAbcdef12" />'),
        ("installer/product.wxs", '<CustomAction BinaryKey="InstallHelperBinary1" />'),
        # identifiers and property paths assigned to key-ish names
        ("src/sort.ts", 'const sortKey = "columns.createdAt.v2";'),
        ("src/keys.go", 'primaryKey := "tenant_id_and_region_code_01"'),
        # prose and translations
        ("docs/setup.md", 'Set `api_key = "Zq81Lm4XvT7nB9kW1pYa"` in your profile.'),
        ("web/locales/en.yaml", 'tokenHelp: "Paste the x9Token3Value7Here12 you were given"'),
        ("web/i18n/de.json", '"password": "Passwort3ingebenZweimal"'),
        # lock files hold integrity hashes
        ("package-lock.json", '"integrity": "sha512-Zq81Lm4XvT7nB9kW1pYaQ8Zr2LmX7vT4"'),
        ("yarn.lock", f'  token "{RANDOM}"'),
    ],
)
def test_generic_rule_skips_markup_identifiers_prose_translations_and_locks(
    path: str, line: str
) -> None:
    assert find_secrets(path, line) == []


def test_published_sample_tokens_are_not_secrets() -> None:
    # The JWT every tutorial shows (header, claims sub=1234567890 and name=John Doe).
    sample = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert find_secrets("tests/test_sanitize.py", f'TOKEN = "{sample}"') == []
    assert find_secrets("src/aws.py", 'key_id = "AKIA' + 'IOSFODNN7EXAMPLE"') == []
    assert [h.kind for h in find_secrets("src/app.py", f"Bearer {JWT}")] == ["JSON Web Token"]


def test_a_private_key_header_needs_key_material_to_be_a_finding() -> None:
    header = "-----BEGIN RSA " + "PRIVATE KEY-----"
    mention = _added("web/locales/en.json", f'"keyHint": "Starts with {header} and ends..."')
    assert secret_findings(parse_diff(mention).files[0]) == []
    prose = _added("src/help.ts", f'const hint = "Paste a key ({header})";')
    assert secret_findings(parse_diff(prose).files[0]) == []
    material = "MIIEowIBAAKCAQEA" + "q8Zr2LmX7vT4nB9kW1pYq8Zr2LmX7vT4nB9kW1pY"
    key = parse_diff(_added("deploy/id_rsa", header, material)).files[0]
    [found] = secret_findings(key)
    assert found.severity == "critical" and found.rule == "private key"
    assert material not in found.model_dump_json()
