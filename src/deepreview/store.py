"""Review history, declines and the agent result cache, in SQLite under `.deepreview/`.

Migrations are append-only: a released migration is never edited, a change is a new one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deepreview.escape import escape_surrogates, escaped_model
from deepreview.schema import AgentRun, DeclinedFinding, Examination, Report
from deepreview.traces import ignore_folder

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
    """
    ALTER TABLE reviews ADD COLUMN series TEXT;
    ALTER TABLE reviews ADD COLUMN target_key TEXT;
    UPDATE reviews SET series = CASE
        WHEN pr_number IS NOT NULL THEN 'pr:' || pr_number
        WHEN branch IS NOT NULL THEN 'branch:' || branch END;
    CREATE INDEX reviews_series ON reviews(series);
    """,
    """
    CREATE TABLE examinations (
        key TEXT PRIMARY KEY,
        examiner TEXT NOT NULL,
        created_at TEXT NOT NULL,
        examination_json TEXT NOT NULL
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
    series: str | None = None
    target_key: str | None = None


@dataclass(frozen=True)
class StoredFinding:
    """A consolidated finding of a stored review."""

    review_id: str
    finding_id: str
    fingerprint: str
    severity: str
    title: str
    location: str


_RECORD_COLUMNS = (
    "id, created_at, pr_number, branch, head_sha, round, verdict, report_path, series, target_key"
)


def number_round(
    earlier: Sequence[ReviewRecord], target_key: str | None
) -> tuple[int, int | None, ReviewRecord | None]:
    """(round, round it re-runs, review of the previous round) of a new review of a series.

    Reviewing the same target as the series' latest review again re-runs its round; anything
    else is the next round. The previous round is the latest review numbered one lower."""
    if not earlier:
        return 1, None, None
    last = earlier[-1]
    if target_key is not None and last.target_key == target_key:
        rnd, rerun_of = last.round, last.round
    else:
        rnd, rerun_of = max(r.round for r in earlier) + 1, None
    prior = next((r for r in reversed(earlier) if r.round == rnd - 1), None)
    return rnd, rerun_of, prior


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
            ignore_folder(path.parent)
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

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that holds the database's write lock from its start, so that
        concurrent reviews read and write the history one after the other."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"review history {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._locked() as db:  # two first runs at once must not both create the tables
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            current = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in sql.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_version VALUES (?)", (version,))

    # ---------------------------------------------------------------- history

    def add_review(
        self,
        report: Report,
        report_path: Path | None,
        series: str | None = None,
        target_key: str | None = None,
    ) -> None:
        """Record a written report and its findings (in the series `series`, reviewing the
        target identified by `target_key`)."""
        with self._tx() as db:
            self._insert(db, report, report_path, series, target_key)

    def record_new(
        self,
        report: Report,
        series: str | None,
        target_key: str | None,
        write: Callable[[Report, Callable[[str], bool]], tuple[Report, Path | None]],
        renumber: bool = True,
    ) -> Report:
        """Number `report` within its series, `write` it and record it, all in one
        transaction: concurrent reviews never share an id or a round. `write` is given the
        test of ids stored already and returns the report as written (its id may have
        changed) and its path. Without `renumber` the report keeps its round (given by a
        published review)."""
        with self._locked() as db:
            if series is not None and renumber:
                rnd, rerun_of, _ = number_round(self.in_series(series), target_key)
                report = report.model_copy(update={"round": rnd, "rerun_of": rerun_of})
            report, path = write(report, self.has_review)
            self._insert(db, report, path, series, target_key)
        return report

    def has_review(self, review_id: str) -> bool:
        """Whether a review of this id is stored."""
        row = self._db.execute("SELECT 1 FROM reviews WHERE id = ?", (review_id,)).fetchone()
        return row is not None

    def in_series(self, series: str) -> list[ReviewRecord]:
        """The reviews of one series, oldest first."""
        rows = self._db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM reviews WHERE series = ? ORDER BY created_at, rowid",
            (series,),
        ).fetchall()
        return [ReviewRecord(*row) for row in rows]

    def pr_of_branch(self, branch: str) -> int | None:
        """The PR most recently reviewed from `branch`, if any."""
        row = self._db.execute(
            "SELECT pr_number FROM reviews WHERE branch = ? AND pr_number IS NOT NULL "
            "ORDER BY created_at DESC LIMIT 1",
            (branch,),
        ).fetchone()
        return int(row[0]) if row else None

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        report: Report,
        report_path: Path | None,
        series: str | None,
        target_key: str | None,
    ) -> None:
        pr = report.target.pr.number if report.target.pr else None
        db.execute(
            "INSERT OR REPLACE INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                report.id,
                report.created_at.isoformat(),
                report.target.repo,
                pr,
                report.target.branch,
                report.target.head_sha,
                report.round,
                report.verdict.decision,
                escaped_model(report).model_dump_json(),
                str(report_path) if report_path else None,
                series,
                target_key,
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
                    escape_surrogates(f.title),
                    escape_surrogates(f.locations[0].label()) if f.locations else "",
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
            "SELECT d.fingerprint, d.title, d.round, d.reason, "
            "(SELECT f.location FROM findings f WHERE f.review_id = d.review_id "
            "AND f.fingerprint = d.fingerprint LIMIT 1) "
            f"FROM declines d WHERE d.review_id IN ({marks}) ORDER BY d.created_at",
            ids,
        ).fetchall()
        seen: dict[str, DeclinedFinding] = {}
        for fp, title, rnd, reason, location in rows:
            seen[fp] = DeclinedFinding(
                fingerprint=fp, title=title, round=rnd, reason=reason, location=location or None
            )
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
                (
                    key,
                    run.agent,
                    datetime.now(UTC).isoformat(),
                    escaped_model(run).model_dump_json(),
                ),
            )

    def cached_examination(self, key: str) -> Examination | None:
        """A cached cross-examination (see `crossexam.examine`)."""
        row = self._db.execute(
            "SELECT examination_json FROM examinations WHERE key = ?", (key,)
        ).fetchone()
        try:
            return None if row is None else Examination.model_validate(json.loads(row[0]))
        except ValueError:
            return None

    def put_examination(self, key: str, examination: Examination) -> None:
        """Cache a cross-examination that gave a usable answer."""
        row = (key, examination.examiner_agent, datetime.now(UTC).isoformat())
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO examinations VALUES (?,?,?,?)",
                (*row, escaped_model(examination).model_dump_json()),
            )
