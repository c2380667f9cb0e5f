"""Secret redaction of text and of whole agent runs."""

from __future__ import annotations

from pathlib import Path

from deepreview import redact
from deepreview.redact import Redactor, is_secret_name
from deepreview.schema import AgentReview, AgentRun, Finding


def test_environment_secret_values_are_masked() -> None:
    env = {"ANTHROPIC_API_KEY": "s3cr3t-value-123", "HOME": "/root/home-dir"}
    r = Redactor.from_environment(env)
    out = r.text("key=s3cr3t-value-123 home=/root/home-dir")
    assert "s3cr3t-value-123" not in out and "[redacted]" in out
    assert "/root/home-dir" in out


def test_token_shapes_are_masked_even_when_unknown() -> None:
    r = Redactor()
    text = (
        "aws AKIAQWERTYUIOPASDFGH gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done"
    )
    out = r.text(text)
    assert "AKIAQWERTYUIOPASDFGH" not in out
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in out
    assert "MIIEow" not in out
    assert out.endswith(" done") and "AKIA…[redacted]" in out


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["abc"]).text("abc abc") == "abc abc"


def test_model_redaction_reaches_nested_fields() -> None:
    run = AgentRun(
        agent="x",
        display_name="X",
        status="ok",
        raw_output="token tok-ABCDEFGH-9",
        review=AgentReview(
            findings=[Finding(id="C1", severity="critical", title="t", body="uses tok-ABCDEFGH-9")]
        ),
    )
    clean = Redactor(["tok-ABCDEFGH-9"]).model(run)
    assert "tok-ABCDEFGH-9" not in clean.model_dump_json()
    assert clean.review is not None and clean.review.findings[0].body == "uses [redacted]"


def test_known_keys_are_masked_however_short_and_tokens_can_be_left() -> None:
    assert Redactor.for_keys(["abc", None]).text("key abc!") == "key [redacted]!"
    gh = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    assert Redactor.for_keys(["k3y"], tokens=False).text(f"k3y {gh}") == f"[redacted] {gh}"
    assert Redactor.for_keys(["k3y"]).text(gh) == "ghp_…[redacted]"


def test_redact_depends_on_no_agent_module() -> None:
    source = Path(redact.__file__).read_text(encoding="utf-8")
    assert "deepreview.agents" not in source
    assert is_secret_name("GITHUB_TOKEN") and not is_secret_name("HOME")
