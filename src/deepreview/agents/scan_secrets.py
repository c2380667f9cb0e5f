"""Likely secrets on added lines, precision first.

Known token formats (cloud keys, forge tokens, private keys with key material) are critical. A
generic value is reported only when it is assigned to a credential-like name and looks random
(length, a digit, Shannon entropy); it is at most important and never fires on markup
attributes, identifiers, prose, translation files, lock files or published sample tokens.
A secret value never leaves this module unredacted: hits carry only its first and last four
characters, its length and entropy, and the line with every secret replaced by that form.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from deepreview.agents.scan_files import excerpt_lang, is_doc_path, is_test_path
from deepreview.diff import FileDiff
from deepreview.redact import KNOWN_TOKENS, mask
from deepreview.schema import Finding, Location, Severity

MIN_GENERIC_LENGTH = 16
#: Shannon entropy (bits per character) above which a secret-named value looks random.
MIN_ENTROPY = 3.5
#: Base64 characters after a private-key header that make it a key, not a mention of one.
MIN_KEY_MATERIAL = 40
PRIVATE_KEY = "private key"
GENERIC = "high-entropy value"

_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (PRIVATE_KEY, re.compile(r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")),
    *KNOWN_TOKENS,
)
#: Cheap literal tests that let most lines skip the patterns above and below.
_TOKEN_HINT = re.compile(
    r"PRIVATE KEY|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack|AIza|_live_|_test_|"
    r"sk-|eyJ"
)
_NAME_HINT = re.compile(r"(?i)key|secret|token|passw|pwd|credential|passphrase")
_KEY_MATERIAL = re.compile(rf"[A-Za-z0-9+/=]{{{MIN_KEY_MATERIAL}}}")

#: A name starts where no name character precedes it, so each run is tried once (linear).
_NAME = r"(?<![A-Za-z0-9_.$@:-])[A-Za-z0-9_.$@:-]{1,80}"
#: Values that are addresses, not credentials.
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)*$")
#: Quotes may be backslash-escaped, as in a tool's JSON output quoting the line.
_QUOTED = re.compile(
    rf"(?P<name>{_NAME})\\?[\"']?(?P<gap>[ \t]{{0,8}})(?::=|=>|[:=])[ \t]{{0,8}}[bru]?\\?"
    r"(?P<q>[\"'])(?P<value>[^\"'\s\\]{1,512})\\?(?P=q)"
)
_UNQUOTED = re.compile(
    rf"^[ \t]{{0,40}}(?:export[ \t]+)?(?P<name>{_NAME})[ \t]{{0,8}}[:=][ \t]{{0,8}}"
    r"(?P<value>[A-Za-z0-9+/=_.\-]{1,512})[ \t]*$"
)
#: Name words that hold a credential on their own, and qualifiers that make a "key" one.
_CREDENTIAL_WORDS = frozenset({
    "secret", "secrets", "password", "passwd", "passwords", "pwd", "passphrase", "token",
    "tokens", "credential", "credentials", "apikey", "privatekey", "accesskey", "secretkey",
})  # fmt: skip
_KEY_QUALIFIERS = frozenset({
    "api", "secret", "access", "private", "signing", "sign", "encryption", "encrypt", "master",
    "client", "app", "license", "service", "account", "session", "hmac", "crypto", "shared",
    "deploy", "ssh", "gpg", "pgp", "aws", "consumer", "webhook", "auth",
})  # fmt: skip
#: Last name words that still name the value itself (`api_key_value`, `TOKEN_B64`).
_VALUE_WORDS = frozenset({"value", "val", "b64", "base64", "hex", "raw", "bytes", "str", "data"})
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
#: Dotted or dashed identifier paths: i18n keys, property paths, handler names.
_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(?:[.:/-][A-Za-z_$][A-Za-z0-9_$]*)+$")
_CONFIG_SUFFIXES = {".env", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".properties"}
#: Files whose attributes (`name="value"`) are markup, not assignments.
_MARKUP_SUFFIXES = {
    ".html", ".htm", ".vue", ".svelte", ".jsx", ".tsx", ".xml", ".xaml", ".wxs", ".wxi",
    ".svg", ".xhtml", ".erb", ".hbs", ".njk", ".j2", ".jinja", ".astro",
}  # fmt: skip
_LOCK_NAMES = {
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "go.sum",
    "Cargo.lock", "poetry.lock", "Pipfile.lock", "Gemfile.lock", "composer.lock", "uv.lock",
    "flake.lock", "mix.lock", "pubspec.lock", "Podfile.lock", "packages.lock.json",
}  # fmt: skip
_I18N_DIRS = {"locale", "locales", "i18n", "l10n", "lang", "langs", "translations", "messages"}
_I18N_SUFFIXES = {".po", ".pot", ".ftl", ".xliff", ".xlf", ".arb", ".resx", ".strings"}
_PLACEHOLDERS = (
    "changeme", "change_me", "xxx", "placeholder", "example", "dummy", "sample", "your",
    "redacted", "replace", "secret_here", "****", "...", "<", "${", "{{", "%(", "os.environ",
    "getenv", "process.env", "://", "(", "[",
)  # fmt: skip
#: Claims of the token every JWT tutorial and debugger shows (published, not a secret).
_SAMPLE_JWT_CLAIMS = ({"sub": "1234567890", "name": "John Doe"},)


@dataclass(frozen=True)
class SecretHit:
    """A likely secret on one line; holds no unredacted secret text."""

    kind: str
    name: str | None
    redacted: str
    redacted_line: str
    length: int = 0
    entropy: float = 0.0


def shannon_entropy(value: str) -> float:
    """Bits per character of `value`'s character distribution."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def credential_name(name: str) -> bool:
    """Whether an assigned name says it holds a credential: a credential word (`password`,
    `token`, `secret`) or a qualified key (`api_key`, `signingKey`), as its last word or
    followed only by a word naming the value (`_value`, `_b64`)."""
    words = [w.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _CAMEL.findall(part)]
    while len(words) > 1 and words[-1] in _VALUE_WORDS:
        words.pop()
    if not words:
        return False
    last = words[-1]
    if last in _CREDENTIAL_WORDS:
        return True
    return last in ("key", "keys") and len(words) > 1 and words[-2] in _KEY_QUALIFIERS


def _looks_random(value: str) -> bool:
    lowered = value.lower()
    return (
        len(value) >= MIN_GENERIC_LENGTH
        and not any(p in lowered for p in _PLACEHOLDERS)
        and not value.startswith(("/", "./", "../", "~/"))
        and not _EMAIL.match(value)
        and not _IDENTIFIER_PATH.match(value)
        and any(c.isdigit() for c in value)
        and any(c.isalpha() for c in value)
        and len(set(value)) > 4
        and shannon_entropy(value) >= MIN_ENTROPY
    )


@functools.lru_cache(maxsize=1024)
def _kind_of_file(path: str) -> str:
    """`lock`, `i18n`, `doc`, `markup`, `config` or `code`: which rules apply to `path`."""
    p = PurePosixPath(path)
    suffix = p.suffix.lower()
    if p.name in _LOCK_NAMES or suffix == ".lock":
        return "lock"
    if suffix in _I18N_SUFFIXES or _I18N_DIRS.intersection(x.lower() for x in p.parts[:-1]):
        return "i18n"
    if is_doc_path(path):
        return "doc"
    if suffix in _MARKUP_SUFFIXES:
        return "markup"
    if suffix in _CONFIG_SUFFIXES or p.name.startswith(".env"):
        return "config"
    return "code"


def is_sample_token(value: str) -> bool:
    """Whether a token is a published sample: vendors' documented example values (they say
    EXAMPLE) and the JSON Web Token every JWT tutorial shows."""
    if "EXAMPLE" in value.upper():
        return True
    if value.startswith("eyJ") and value.count(".") >= 2:
        payload = value.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, UnicodeDecodeError):
            return False
        return isinstance(claims, dict) and any(
            all(claims.get(k) == v for k, v in sample.items()) for sample in _SAMPLE_JWT_CLAIMS
        )
    return False


def _is_attribute(line: str, m: re.Match[str]) -> bool:
    """`name="value"` written as a markup attribute: `=` right after the name, a quote right
    after `=`, the name following whitespace, `<tag` or a binding prefix."""
    if m.group("gap") or line[m.end("name") : m.end("name") + 1] != "=":
        return False
    before = line[: m.start("name")].rstrip("\\")
    return not before or before[-1] in " \t<" or before.endswith(("v-bind", "v-on"))


def find_secrets(path: str, line: str) -> list[SecretHit]:
    """Likely secrets on one added line of `path`."""
    kind_of_file = _kind_of_file(path)
    if kind_of_file == "lock":
        return []
    found: list[tuple[str, str | None, int, int]] = []  # kind, name, start, end
    for kind, pattern in _TOKENS if _TOKEN_HINT.search(line) else ():
        for m in pattern.finditer(line):
            if kind == PRIVATE_KEY:
                found.append((kind, None, m.end(), m.end()))
            elif not is_sample_token(m.group(0)):
                found.append((kind, None, m.start(), m.end()))
    generic_applies = kind_of_file in ("code", "config", "markup")
    if not found and not (generic_applies and _NAME_HINT.search(line)):
        return []
    generic = list(_QUOTED.finditer(line)) if generic_applies else []
    if kind_of_file == "config":
        generic += list(_UNQUOTED.finditer(line))
    for m in generic:
        start, end = m.span("value")
        if any(s < end and start < e for _, _, s, e in found):
            continue
        if kind_of_file == "markup" and _is_attribute(line, m):
            continue
        name, value = m.group("name").lstrip(":@"), m.group("value")
        if credential_name(name) and _looks_random(value):
            found.append((GENERIC, name, start, end))
    if not found:
        return []
    redacted_line = line
    for _, _, start, end in sorted(found, key=lambda f: f[2], reverse=True):
        if end > start:
            redacted_line = (
                redacted_line[:start] + mask(line[start:end], "", tail=True) + redacted_line[end:]
            )
    return [
        SecretHit(
            kind,
            name,
            mask(line[s:e], "", tail=True) if e > s else "",
            redacted_line,
            length=e - s,
            entropy=round(shannon_entropy(line[s:e]), 2),
        )
        for kind, name, s, e in sorted(found, key=lambda f: f[2])
    ]


def _has_key_material(line: str, following: Sequence[str]) -> bool:
    """Whether a private-key header is followed by key material on its line or the next."""
    tail = line.split("PRIVATE KEY", 1)[-1]
    return bool(_KEY_MATERIAL.search(tail)) or any(
        _KEY_MATERIAL.search(n.strip()) for n in following[:1]
    )


def _shown(h: SecretHit) -> str:
    """What matched, so a reader can judge it without opening the file."""
    if h.kind == PRIVATE_KEY:
        return "rule `private key`: a private-key header followed by key material"
    what = f"rule `{h.kind}`: `{h.redacted}`"
    if h.name:
        what += f" assigned to `{h.name}`"
    return f"{what} ({h.length} characters, entropy {h.entropy:.2f} bits per character)"


def secret_findings(fd: FileDiff) -> list[Finding]:
    """One finding per added line holding likely secrets, shown redacted. A known token
    format is critical (important in a test file); a generic high-entropy value is important
    (a suggestion in a test file)."""
    findings: list[Finding] = []
    added = list(fd.added())
    in_test = is_test_path(fd.path)
    for i, ln in enumerate(added):
        hits = [
            h
            for h in find_secrets(fd.path, ln.text)
            if h.kind != PRIVATE_KEY
            or _has_key_material(ln.text, [a.text for a in added[i + 1 : i + 2]])
        ]
        if not hits:
            continue
        kinds = ", ".join(dict.fromkeys(h.kind for h in hits))
        known = any(h.kind != GENERIC for h in hits)
        severity: Severity = ("important" if in_test else "critical") if known else "important"
        if not known and in_test:
            severity = "suggestion"
        body = (
            f"This line adds what looks like a {kinds} ("
            + "; ".join(_shown(h) for h in hits)
            + "). Credentials committed to a repository stay in its history. Revoke and rotate "
            "the credential, then load it from the environment or a secret store."
        )
        if in_test:
            body += (
                " It is in a test file: if it is a fixture, make it obviously fake "
                "(e.g. `AKIAIOSFODNN7EXAMPLE`) so scanners and readers can tell."
            )
        findings.append(
            Finding(
                id="",
                severity=severity,
                category="security",
                title=f"Likely hard-coded secret: {kinds}",
                body=body,
                locations=[Location(path=fd.path, start_line=ln.new_lineno)],
                excerpt=hits[0].redacted_line,
                excerpt_lang=excerpt_lang(fd.path),
                fix="Remove the value, rotate it, and read it from configuration at run time.",
                rule=hits[0].kind,
            )
        )
    return findings


def redact_text(path: str, text: str) -> str:
    """`text` with every likely secret on each line replaced by its redacted form."""
    out = []
    for line in text.split("\n"):
        hits = find_secrets(path, line)
        out.append(hits[0].redacted_line if hits else line)
    return "\n".join(out)


def redact_finding(finding: Finding) -> Finding:
    """The finding with likely secrets redacted from its title, body and excerpt."""
    path = finding.locations[0].path if finding.locations else ""
    update = {
        "title": redact_text(path, finding.title),
        "body": redact_text(path, finding.body),
        "excerpt": None if finding.excerpt is None else redact_text(path, finding.excerpt),
    }
    return finding.model_copy(update=update)
