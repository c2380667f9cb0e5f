"""Likely secrets on added lines: known token formats and high-entropy values of secret names.

A secret value never leaves this module unredacted: matches carry only its `redact.mask` (its
first four characters and an ellipsis) and the line with every secret replaced by that.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from deepreview.agents.scan_files import excerpt_lang, is_test_path
from deepreview.diff import FileDiff
from deepreview.redact import KNOWN_TOKENS, mask
from deepreview.schema import Finding, Location

MIN_GENERIC_LENGTH = 16
#: Shannon entropy (bits per character) above which a secret-named value looks random.
MIN_ENTROPY = 3.5

_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    *KNOWN_TOKENS,
)
#: Cheap literal tests that let most lines skip the patterns above and below.
_TOKEN_HINT = re.compile(
    r"PRIVATE KEY|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack|AIza|_live_|_test_|"
    r"sk-|eyJ"
)
_NAME_HINT = re.compile(r"(?i)key|secret|token|passw|pwd|credential|auth(?!or)")

#: A name starts at a token boundary and is bounded on both sides of its keyword, so matching
#: a line is linear in its length (unbounded runs backtrack quadratically on long tokens).
_NAME = (
    r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]{0,64}"
    r"(?:key|secret|token|passw(?:or)?d|pwd|credential|auth(?!or))[A-Za-z0-9_]{0,64}"
)
#: Values that are addresses, not credentials.
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)*$")
#: Quotes may be backslash-escaped, as in a tool's JSON output quoting the line.
_QUOTED = re.compile(
    rf"(?i)(?P<name>{_NAME})\\?[\"']?\s*(?::=|=>|[:=])\s*[bru]?\\?(?P<q>[\"'])"
    r"(?P<value>[^\"'\s\\]+)\\?(?P=q)"
)
_UNQUOTED = re.compile(
    rf"(?i)^\s*(?:export\s+)?(?P<name>{_NAME})\s*[:=]\s*(?P<value>[A-Za-z0-9+/=_.\-]+)\s*$"
)
_CONFIG_SUFFIXES = {".env", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".properties"}
_PLACEHOLDERS = (
    "changeme", "change_me", "xxx", "placeholder", "example", "dummy", "sample", "your",
    "redacted", "replace", "secret_here", "****", "...", "<", "${", "{{", "%(", "os.environ",
    "getenv", "process.env", "://",
)  # fmt: skip


@dataclass(frozen=True)
class SecretHit:
    """A likely secret on one line; holds no unredacted secret text."""

    kind: str
    name: str | None
    redacted: str
    redacted_line: str


def shannon_entropy(value: str) -> float:
    """Bits per character of `value`'s character distribution."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def _looks_random(value: str) -> bool:
    lowered = value.lower()
    return (
        len(value) >= MIN_GENERIC_LENGTH
        and not any(p in lowered for p in _PLACEHOLDERS)
        and not value.startswith(("/", "./", "../", "~/"))
        and not _EMAIL.match(value)
        and len(set(value)) > 4
        and shannon_entropy(value) >= MIN_ENTROPY
    )


@functools.lru_cache(maxsize=1024)
def _is_config_file(path: str) -> bool:
    p = PurePosixPath(path)
    return p.suffix in _CONFIG_SUFFIXES or p.name.startswith(".env")


def find_secrets(path: str, line: str) -> list[SecretHit]:
    """Likely secrets on one added line of `path`."""
    found: list[tuple[str, str | None, int, int]] = []  # kind, name, start, end
    for kind, pattern in _TOKENS if _TOKEN_HINT.search(line) else ():
        for m in pattern.finditer(line):
            if kind == "private key":
                found.append((kind, None, m.end(), m.end()))
            else:
                found.append((kind, None, m.start(), m.end()))
    if not found and not _NAME_HINT.search(line):
        return []
    generic = list(_QUOTED.finditer(line))
    if _is_config_file(path):
        generic += list(_UNQUOTED.finditer(line))
    for m in generic:
        start, end = m.span("value")
        overlaps = any(s < end and start < e for _, _, s, e in found)
        if not overlaps and _looks_random(m.group("value")):
            found.append(("high-entropy value", m.group("name"), start, end))
    if not found:
        return []
    redacted_line = line
    for _, _, start, end in sorted(found, key=lambda f: f[2], reverse=True):
        if end > start:
            redacted_line = redacted_line[:start] + mask(line[start:end], "") + redacted_line[end:]
    return [
        SecretHit(kind, name, mask(line[s:e], "") if e > s else "", redacted_line)
        for kind, name, s, e in sorted(found, key=lambda f: f[2])
    ]


def secret_findings(fd: FileDiff) -> list[Finding]:
    """One finding per added line holding likely secrets, shown redacted: critical, or
    important in a test file (where fixtures often look like credentials)."""
    findings: list[Finding] = []
    for ln in fd.added():
        hits = find_secrets(fd.path, ln.text)
        if not hits:
            continue
        kinds = ", ".join(dict.fromkeys(h.kind for h in hits))
        shown = ", ".join(
            f"`{h.redacted}`" + (f" assigned to `{h.name}`" if h.name else "")
            for h in hits
            if h.redacted
        )
        body = (
            f"This line adds what looks like a {kinds}"
            + (f" ({shown})" if shown else "")
            + ". Credentials committed to a repository stay in its history. Revoke and rotate "
            "the credential, then load it from the environment or a secret store."
        )
        in_test = is_test_path(fd.path)
        if in_test:
            body += (
                " It is in a test file: if it is a fixture, make it obviously fake "
                "(e.g. `AKIAIOSFODNN7EXAMPLE`) so scanners and readers can tell."
            )
        findings.append(
            Finding(
                id="",
                severity="important" if in_test else "critical",
                category="security",
                title=f"Likely hard-coded secret: {kinds}",
                body=body,
                locations=[Location(path=fd.path, start_line=ln.new_lineno)],
                excerpt=hits[0].redacted_line,
                excerpt_lang=excerpt_lang(fd.path),
                fix="Remove the value, rotate it, and read it from configuration at run time.",
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
