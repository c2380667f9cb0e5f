"""`deepreview init`: a commented deepreview.toml and, on request, the CI job that runs it."""

from __future__ import annotations

from pathlib import Path

import click

from deepreview.cli.errors import fail
from deepreview.scaffold import DESTINATIONS, scaffold
from deepreview.source.git import TargetError, find_repo_root


@click.command("init")
@click.option("--github", is_flag=True, help="Also write the GitHub Actions workflow.")
@click.option("--gitlab", is_flag=True, help="Also write .gitlab-ci.yml.")
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option("-C", "cwd", type=click.Path(path_type=Path), default=".", help="Run as if in DIR.")
def init_cmd(github: bool, gitlab: bool, force: bool, cwd: Path) -> None:
    """Write deepreview.toml (every setting, commented) at the repository root."""
    try:
        root = find_repo_root(cwd.resolve())
    except TargetError as exc:
        fail(str(exc))
    wanted = ["config", *(["github"] if github else []), *(["gitlab"] if gitlab else [])]
    targets = [(name, root / DESTINATIONS[name]) for name in wanted]
    existing = [str(path.relative_to(root)) for _, path in targets if path.exists()]
    if existing and not force:
        fail(f"{', '.join(existing)} already exist(s); pass --force to overwrite")
    for name, path in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(scaffold(name), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc}")
        click.echo(f"wrote {path.relative_to(root)}")
