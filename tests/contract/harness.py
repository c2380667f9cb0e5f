"""Running the pinned real agent CLIs against the loopback emulators.

The CLIs are found in `$DEEPREVIEW_CLI_BIN` (the `node_modules/.bin` of an
`npm install` of `cli-versions.json`; `.ci/run` installs and sets it). Without it a contract
test is skipped locally and fails in CI (`CI=true`).

Each run gets a throwaway HOME holding what the CLI needs to talk to the emulator (§ "Pointing
each CLI at a local server" of the agent-interfaces notes) and settings that keep error retries
short: `CLAUDE_CODE_MAX_RETRIES=1`, gemini `general.maxAttempts = 1`, codex's provider
`request_max_retries = 1` / `stream_max_retries = 1`.

The stdout of every run is checked against the recordings under `tests/fixtures/cli/<cli>/`,
which the fake CLIs in `tests/fakes/` replay: every event kind it prints must be one the
recordings have, and it must end as `<scenario>.jsonl` ends (how many deltas or items a model
turn gives varies from run to run); `DEEPREVIEW_RECORD_FIXTURES=1` rewrites the recordings.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deepreview.context import ReviewContext
from deepreview.diff import parse_diff_file
from deepreview.schema import ReportTarget
from tests.contract.emulators import (
    APP_AFTER,
    APP_BEFORE,
    AnthropicEmulator,
    Emulator,
    GeminiEmulator,
    OpenAIEmulator,
    Script,
)
from tests.repo_factory import commit, git, make_repo
from tests.runtimes import make_runtime

VERSIONS_FILE = Path(__file__).with_name("cli-versions.json")
FIXTURES = Path(__file__).parent.parent / "fixtures" / "cli"
BIN_ENV = "DEEPREVIEW_CLI_BIN"
RECORD_ENV = "DEEPREVIEW_RECORD_FIXTURES"
CLIS = ("claude", "codex", "gemini")
EMULATORS: dict[str, type[Emulator]] = {
    "claude": AnthropicEmulator,
    "codex": OpenAIEmulator,
    "gemini": GeminiEmulator,
}


def pinned_versions() -> dict[str, str]:
    """npm package -> pinned version."""
    versions: dict[str, str] = json.loads(VERSIONS_FILE.read_text(encoding="utf-8"))
    return versions


def cli_bin() -> Path:
    """The folder holding the real CLIs; skips (fails in CI) when they are not installed."""
    folder = os.environ.get(BIN_ENV)
    missing = [c for c in CLIS if not folder or not (Path(folder) / c).exists()]
    if missing:
        why = f"real CLIs not installed ({', '.join(missing)}): set {BIN_ENV}"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return Path(str(folder))


Change = tuple[Path, str, Path]


def make_change(root: Path, after: str = APP_AFTER) -> Change:
    """A repository under `root` with one commit changing `app.py` to `after` (by default
    adding a shell-injection risk): its path, the base sha and the diff file."""
    repo = make_repo(root / "repo", {"app.py": APP_BEFORE})
    base = git(repo, "rev-parse", "HEAD")
    head = commit(repo, {"app.py": after}, "Run a command")
    diff = root / "change.diff"
    diff.write_text(git(repo, "diff", base, head) + "\n", encoding="utf-8")
    return repo, base, diff


def review_context(change: Change, run_dir: Path, env: dict[str, str]) -> ReviewContext:
    """The context an agent reviews `change` in (the repository is its own worktree)."""
    repo, base, diff = change
    return ReviewContext(
        repo_root=repo,
        worktree=repo,
        diff=parse_diff_file(diff),
        target=ReportTarget(kind="range", changed_files=["app.py"]),
        base_sha=base,
        run_dir=run_dir,
        runtime=make_runtime(env),
    )


def cli_environment(cli: str, url: str, home: Path) -> dict[str, str]:
    """The environment that points `cli` at the emulator at `url`, with HOME = `home`."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{cli_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
    }
    if cli == "claude":
        env |= {
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": "contract-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_MAX_RETRIES": "1",
        }
    elif cli == "codex":
        codex_home = home / ".codex"
        codex_home.mkdir(exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model_provider = "local"\n'
            "[model_providers.local]\n"
            'name = "local"\n'
            f'base_url = "{url}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "OPENAI_API_KEY"\n'
            "request_max_retries = 1\n"
            "stream_max_retries = 1\n",
            encoding="utf-8",
        )
        env |= {"OPENAI_API_KEY": "contract-key", "CODEX_HOME": str(codex_home)}
    else:
        gemini_home = home / ".gemini"
        gemini_home.mkdir(exist_ok=True)
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "general": {"maxAttempts": 1},
        }
        (gemini_home / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        env |= {"GOOGLE_GEMINI_BASE_URL": url, "GEMINI_API_KEY": "contract-key"}
    return env


@contextmanager
def emulate(cli: str, script: Script, worktree: Path) -> Iterator[Emulator]:
    """A running emulator of `cli`'s vendor API."""
    with EMULATORS[cli](script, str(worktree.resolve())) as emulator:
        yield emulator


# --------------------------------------------------------------------------- recordings

_VOLATILE = re.compile(
    r"^(timestamp|session_id|thread_id|uuid|id|tool_id|tool_use_id|parent_tool_use_id|"
    r"duration_ms|duration_api_ms|request_id|call_id)$"
)


def skeleton(stdout: str) -> list[str]:
    """The event kinds of a JSONL trace, one `type[/subtype]` per line (what a parser keys on)."""
    kinds = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            sub = event.get("subtype") or (event.get("item") or {}).get("type")
            kinds.append(f"{event.get('type')}/{sub}" if sub else str(event.get("type")))
    return kinds


def neutral(stdout: str, worktree: Path, home: Path) -> str:
    """`stdout` with the run's folders replaced by placeholders, for a recording."""
    text = stdout.replace(str(worktree.resolve()), "${WORKTREE}").replace(
        str(worktree), "${WORKTREE}"
    )
    text = text.replace(str(worktree.resolve()).replace("/", "-"), "${WORKTREE_SLUG}")
    text = text.replace(str(home), "${HOME}")
    return text.replace(str(cli_bin().resolve().parent.parent), "${NPM_PREFIX}")


def check_recording(cli: str, scenario: str, run_dir: Path, worktree: Path, home: Path) -> None:
    """The real CLI's output has the recorded skeleton and exit code; rewritten when recording.

    A recording is `<scenario>.jsonl` (stdout) and `<scenario>.meta.json` (exit code, stderr).
    """
    path = FIXTURES / cli / f"{scenario}.jsonl"
    meta_path = path.with_suffix(".meta.json")
    stdout = (run_dir / f"{cli}.stdout").read_text(encoding="utf-8", errors="replace")
    stderr = (run_dir / f"{cli}.stderr").read_text(encoding="utf-8", errors="replace")
    exit_code = int((run_dir / f"{cli}.exit").read_text().strip())
    if os.environ.get(RECORD_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(neutral(stdout, worktree, home), encoding="utf-8")
        meta = {"exit": exit_code, "stderr": neutral(stderr, worktree, home)[-4000:]}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return
    assert path.is_file(), f"no recording {path}: run with {RECORD_ENV}=1"
    assert json.loads(meta_path.read_text())["exit"] == exit_code
    fresh, recorded = skeleton(stdout), skeleton(path.read_text(encoding="utf-8"))
    known = {k for p in path.parent.glob("*.jsonl") for k in skeleton(p.read_text())}
    new = sorted(set(fresh) - known)
    assert not new and fresh[-1:] == recorded[-1:], (
        f"{cli} {scenario}: the real CLI printed event kinds no recording has ({new}) or "
        f"ended differently from {path}; re-record with {RECORD_ENV}=1"
    )


def recorded_events(path: Path) -> list[dict[str, Any]]:
    """The JSON events of a recording."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
