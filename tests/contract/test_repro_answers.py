"""The pinned real CLIs asked for a review whose answer carries repros: the schema claude and
codex are handed asks for them (codex's in OpenAI strict form), gemini's prompt describes them,
and the answer each prints (gemini's as text after its last tool event) is read back with every
repro, kind, command and fix."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from deepreview.agents.base import agent_class
from deepreview.config import AgentConfig
from tests.contract.emulators import Read, Say, Script
from tests.contract.harness import check_recording, cli_environment, emulate, review_context
from tests.repo_factory import git
from tests.repro_case import ANSWER, CLAMP_FIX, REVIEW, SCALE_TEST, make_calc_change

pytestmark = pytest.mark.contract

#: The model reads the changed file, then answers with the repro-backed review. Gemini, which
#: gets no schema, answers in text as its models do: a sentence before the read, then a sentence
#: and the object, indented, in a fence, streamed in many pieces.
SCRIPTS = {
    "claude": Script(turns=((Read("calc.py"),),), answer=ANSWER),
    "codex": Script(turns=((Read("calc.py"),),), answer=ANSWER),
    "gemini": Script(
        turns=((Say("I'll read calc.py first."), Read("calc.py")),),
        answer="Here is my review.\n```json\n" + json.dumps(REVIEW, indent=2) + "\n```\n",
        answer_chunks=12,
    ),
}
REPRO_FIELDS = ["kind", "path", "content", "command", "fix_patch"]


def strict_objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema in `node` that breaks OpenAI strict rules (a property not
    required, or additional properties allowed)."""
    bad: list[dict[str, Any]] = []
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and (
            sorted(node.get("required", [])) != sorted(props)
            or node.get("additionalProperties") is not False
        ):
            bad.append(node)
        for value in node.values():
            bad += strict_objects(value)
    elif isinstance(node, list):
        for value in node:
            bad += strict_objects(value)
    return bad


def _sent_schema(cli: str, body: dict[str, Any]) -> dict[str, Any]:
    if cli == "claude":
        tool = next(t for t in body["tools"] if t["name"] == "StructuredOutput")
        schema: dict[str, Any] = tool["input_schema"]
        return schema
    sent: dict[str, Any] = body["text"]["format"]["schema"]
    return sent


@pytest.mark.parametrize("cli", ["claude", "codex", "gemini"])
def test_a_structured_answer_with_repros_is_read_back(
    cli: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A folder name that the CLI's own project slug keeps as it is (no underscores).
    repo, base = make_calc_change(tmp_path_factory.mktemp("repro"))
    diff = tmp_path / "change.diff"
    diff.write_text(git(repo, "diff", base, "HEAD") + "\n", encoding="utf-8")
    home = tmp_path / "home"
    with emulate(cli, SCRIPTS[cli], repo) as emulator:
        env = cli_environment(cli, emulator.url, home)
        ctx = review_context((repo, base, diff), tmp_path / "run", env)
        run = asyncio.run(agent_class(cli)(AgentConfig(timeout_s=120)).run(ctx))
    assert run.status == "ok", (run.reason, run.notes)
    assert run.review is not None
    findings = {f.id: f for f in run.review.findings}
    assert sorted(findings) == ["C1", "I1", "I2"]
    clamp, scale, mean = findings["C1"].repro, findings["I1"].repro, findings["I2"].repro
    assert clamp is not None and scale is not None and mean is not None
    assert (clamp.kind, clamp.fix_patch, clamp.path) == ("script", CLAMP_FIX, None)
    assert "assert clamp(11, 0, 10) == 10" in clamp.content
    assert (scale.kind, scale.path, scale.content) == (
        "test",
        "tests/test_repro_scale.py",
        SCALE_TEST,
    )
    assert scale.command == "python -m pytest -q tests/test_repro_scale.py"
    assert (mean.kind, mean.fix_patch) == ("script", None)
    assert not [n for n in run.review.parse_notes if "repro" in n]
    first = emulator.model_calls()[0]
    if cli == "gemini":  # no schema: the prompt's text names the fields
        assert "`repro` is `{kind, path, content, command, fix_patch}`" in first.body.decode()
    else:
        schema = _sent_schema(cli, first.json())
        repro = schema["properties"]["findings"]["items"]["properties"]["repro"]
        variant = next(v for v in repro["anyOf"] if v.get("type") == "object")
        assert sorted(variant["properties"]) == sorted(REPRO_FIELDS)
        if cli == "codex":
            assert strict_objects(schema) == []
    assert "# Reproductions" in first.body.decode()  # the review-v2 instructions reached it
    if cli == "gemini":  # what was read back is the fenced text, not a structured answer
        assert "```json" in (tmp_path / "run" / "gemini.stdout").read_text(encoding="utf-8")
    check_recording(cli, "repro", tmp_path / "run", repo, home)
