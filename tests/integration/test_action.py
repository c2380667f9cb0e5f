"""The GitHub Action: its inputs reach `deepreview ci`, its AI CLIs come from the pin file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from deepreview.cli.ci import ci_cmd

ROOT = Path(__file__).resolve().parents[2]


def test_pinned_clis_come_from_the_one_pin_file() -> None:
    pins = json.loads((ROOT / "tests" / "contract" / "cli-versions.json").read_text())
    script = ROOT / "scripts" / "pinned_clis.py"
    out = subprocess.run(
        [sys.executable, str(script), "claude, gemini"], capture_output=True, text=True
    )
    assert out.stdout.split() == [
        f"@anthropic-ai/claude-code@{pins['@anthropic-ai/claude-code']}",
        f"@google/gemini-cli@{pins['@google/gemini-cli']}",
    ]
    bad = subprocess.run([sys.executable, str(script), "cursor"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown AI CLI 'cursor'" in bad.stderr


def test_action_passes_its_inputs_to_ci_options() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = action["runs"]["steps"][-1]["run"]
    flags = {p.opts[0] for p in ci_cmd.params} | {
        o for p in ci_cmd.params for o in p.secondary_opts
    }
    used = {word.strip("()\"'") for word in script.split() if word.strip("()\"'").startswith("--")}
    assert used and used <= flags, used - flags
    for name in ("agents", "fail-on", "models", "publish", "verify", "install-clis"):
        assert name in action["inputs"]
    assert "${{ inputs." not in script  # inputs reach the script only through env


def test_the_review_step_turns_inputs_into_ci_arguments(tmp_path: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = action["runs"]["steps"][-1]
    fake = tmp_path / "deepreview"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "AGENTS": "scan, claude",
        "MODELS": "claude=claude-opus-4-6",
        "FAIL_ON": "critical",
        "CONFIG": "",
        "FORMATS": "md,json,sarif",
        "PUBLISH": "false",
        "DRY_RUN": "true",
        "VERIFY": "false",
    }
    assert set(env) - {"PATH"} <= set(step["env"])
    # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        "ci",
        "--format",
        "md,json,sarif",
        "--agent",
        "scan",
        "--agent",
        "claude",
        "--model",
        "claude=claude-opus-4-6",
        "--fail-on",
        "critical",
        "--no-publish",
        "--dry-run",
        "--no-verify",
    ]
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env={
            **env,
            "AGENTS": "",
            "MODELS": "",
            "FAIL_ON": "",
            "PUBLISH": "true",
            "DRY_RUN": "false",
            "VERIFY": "true",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["ci", "--format", "md,json,sarif", "--verify"]
