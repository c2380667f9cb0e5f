"""Review history, declines and the agent result cache, in SQLite under `.deepreview/`.

Migrations are append-only: a released migration is never edited, a change is a new one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deepreview.schema import AgentRun, DeclinedFinding, Report

DB_NAME = "deepreview.db"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reviews (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        repo TEXT,
        pr_number INTEGER,
        branch TEXT,
        head_sha TEXT,
        round INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        report_json TEXT NOT NULL,
        report_path TEXT
    );
    CREATE INDEX reviews_pr ON reviews(pr_number);
    CREATE INDEX reviews_branch ON reviews(branch);
    CREATE TABLE findings (
        review_id TEXT NOT NULL REFERENCES reviews(id),
        finding_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        location TEXT NOT NULL,
        PRIMARY KEY (review_id, finding_id)
    );
    CREATE TABLE declines (
        fingerprint TEXT NOT NULL,
        title TEXT NOT NULL,
        review_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        pr_number INTEGER,
        branch TEXT,
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        created_at TEXT NOT NULL,
        run_json TEXT NOT NULL
    );
    """,
)


class StoreError(Exception):
    """The history cannot be read or written, or a lookup failed; the message is for users."""


@dataclass(frozen=True)
class ReviewRecord:
    """One stored review, without its full report."""

    id: str
    created_at: str
    pr_number: int | None
    branch: str | None
    head_sha: str | None
    round: int
    verdict: str
    report_path: str | None


@dataclass(frozen=True)
class StoredFinding:
    """A consolidated finding of a stored review."""

    review_id: str
    finding_id: str
    fingerprint: str
    severity: str
    title: str
    location: str


def cache_key(
    agent: str,
    model: str | None,
    effort: str | None,
    prompt_version: str,
    head_sha: str,
    diff_sha256: str,
    extra: Sequence[str] = (),
) -> str:
    """The cache key of an agent result: same agent, model, prompt, head and diff (given by
    the SHA-256 of its text)."""
    h = hashlib.sha256()
    for part in (agent, model or "", effort or "", prompt_version, head_sha, diff_sha256, *extra):
        h.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()


class Store:
    """The SQLite store of one repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            ignore = path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# deepreview's history, cache and reports\n*\n")
            self._db = sqlite3.connect(path, timeout=30)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the review history {path}: {exc}") from exc

    @classmethod
    def for_repo(cls, repo_root: Path) -> Store:
        """The store at `<repo>/.deepreview/deepreview.db`."""
        return cls(repo_root / ".deepreview" / DB_NAME)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.Error as exc:
            raise StoreError(f"review history {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
                self._db.executescript(sql)
                self._db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    # ---------------------------------------------------------------- history

    def add_review(self, report: Report, report_path: Path | None) -> None:
        """Record a written report and its findings."""
        pr = report.target.pr.number if report.target.pr else None
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    report.id,
                    report.created_at.isoformat(),
                    report.target.repo,
                    pr,
                    report.target.branch,
                    report.target.head_sha,
                    report.round,
                    report.verdict.decision,
                    report.model_dump_json(),
                    str(report_path) if report_path else None,
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?)",
                [
                    (
                        report.id,
                        f.id,
                        f.fingerprint,
                        f.severity,
                        f.title,
                        f.locations[0].label() if f.locations else "",
                    )
                    for f in report.findings
                ],
            )

    def reviews(self) -> list[ReviewRecord]:
        """Every review of the repository, newest first."""
        rows = self._db.execute(
            "SELECT id, created_at, pr_number, branch, head_sha, round, verdict, report_path "
            "FROM reviews ORDER BY created_at DESC, id DESC"
        ).fetchall()
        return [ReviewRecord(*row) for row in rows]

    def series(self, pr_number: int | None, branch: str | None) -> list[ReviewRecord]:
        """Earlier reviews of the same PR (or, without a PR, of the same branch), oldest first.

        A branch review continues the series of a PR reviewed from that branch.
        """
        if pr_number is None and branch:
            row = self._db.execute(
                "SELECT pr_number FROM reviews WHERE branch = ? AND pr_number IS NOT NULL "
                "ORDER BY created_at DESC LIMIT 1",
                (branch,),
            ).fetchone()
            if row:
                pr_number = row[0]
        cols = "id, created_at, pr_number, branch, head_sha, round, verdict, report_path"
        if pr_number is not None:
            rows = self._db.execute(
                f"SELECT {cols} FROM reviews WHERE pr_number = ? "
                "OR (pr_number IS NULL AND branch = ?) ORDER BY created_at, id",
                (pr_number, branch),
            ).fetchall()
        elif branch:
            rows = self._db.execute(
                f"SELECT {cols} FROM reviews WHERE pr_number IS NULL AND branch = ? "
                "ORDER BY created_at, id",
                (branch,),
            ).fetchall()
        else:
            return []
        return [ReviewRecord(*row) for row in rows]

    def findings(self, review_id: str) -> list[StoredFinding]:
        """The consolidated findings of one review."""
        rows = self._db.execute(
            "SELECT review_id, finding_id, fingerprint, severity, title, location FROM findings "
            "WHERE review_id = ? ORDER BY rowid",
            (review_id,),
        ).fetchall()
        return [StoredFinding(*row) for row in rows]

    def report(self, review_id: str) -> Report:
        """The full stored report."""
        row = self._db.execute(
            "SELECT report_json FROM reviews WHERE id = ?", (review_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no review {review_id}")
        return Report.model_validate_json(row[0])

    # ---------------------------------------------------------------- declines

    def decline(self, ref: str, reason: str) -> StoredFinding:
        """Decline a finding: `I2` (latest review), `<review id>:I2`, or a fingerprint."""
        review_id, _, fid = ref.rpartition(":")
        if review_id:
            rows = self._db.execute(
                "SELECT review_id, finding_id, fingerprint, severity, title, location "
                "FROM findings WHERE review_id = ? AND finding_id = ?",
                (review_id, fid),
            ).fetchall()
        else:
            rows = self._db.execute(
                "SELECT f.review_id, f.finding_id, f.fingerprint, f.severity, f.title, f.location "
                "FROM findings f JOIN reviews r ON r.id = f.review_id "
                "WHERE f.finding_id = ? OR f.fingerprint = ? "
                "ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
                (fid, fid),
            ).fetchall()
        if not rows:
            raise StoreError(f"no finding {ref} in the review history")
        found = StoredFinding(*rows[0])
        rec = self._db.execute(
            "SELECT round, pr_number, branch FROM reviews WHERE id = ?", (found.review_id,)
        ).fetchone()
        with self._tx() as db:
            db.execute(
                "INSERT INTO declines VALUES (?,?,?,?,?,?,?,?)",
                (
                    found.fingerprint,
                    found.title,
                    found.review_id,
                    rec[0],
                    rec[1],
                    rec[2],
                    reason,
                    datetime.now(UTC).isoformat(),
                ),
            )
        return found

    def declined(self, series: Sequence[ReviewRecord]) -> list[DeclinedFinding]:
        """Declines recorded against any review of a series."""
        ids = [r.id for r in series]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            "SELECT fingerprint, title, round, reason FROM declines "
            f"WHERE review_id IN ({marks}) ORDER BY created_at",
            ids,
        ).fetchall()
        seen: dict[str, DeclinedFinding] = {}
        for fp, title, rnd, reason in rows:
            seen[fp] = DeclinedFinding(fingerprint=fp, title=title, round=rnd, reason=reason)
        return list(seen.values())

    # ---------------------------------------------------------------- cache

    def cached_run(self, key: str) -> AgentRun | None:
        """A cached agent result, marked cached."""
        row = self._db.execute("SELECT run_json FROM cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            run = AgentRun.model_validate(json.loads(row[0]))
        except ValueError:
            return None
        return run.model_copy(update={"cached": True})

    def put_run(self, key: str, run: AgentRun) -> None:
        """Cache a successful agent result."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO cache VALUES (?,?,?,?)",
                (key, run.agent, datetime.now(UTC).isoformat(), run.model_dump_json()),
            )
