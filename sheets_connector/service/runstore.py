"""``RunStore`` on one SQLite file (WAL), shareable by several service processes on one host.

Every call opens its own short connection, so the store is safe to use from any thread and
from several processes at once; the lock and the replay guard use ``BEGIN IMMEDIATE`` so two
writers never both win.  Times are written with the injected ``clock`` (tests freeze it).

Several hosts need a server database instead (the same four tables in PostgreSQL would do):
SQLite's locking is only reliable on a local disk, not on a network share.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .store import FINISHED, NewRun, Run, RunProgress, RunResult, RunState

STALE_ERROR = "The service stopped during this run, so it did not finish. Run it again."

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    spreadsheet_id TEXT NOT NULL,
    trigger TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    worksheet TEXT,
    requested_by TEXT,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    result TEXT,
    error TEXT,
    progress TEXT,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_sheet ON runs (spreadsheet_id, dry_run, seq);
CREATE TABLE IF NOT EXISTS locks (
    spreadsheet_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SQLiteRunStore:
    """Run history, run locks and the replay guard in one SQLite file."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = Path(path)
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so concurrent writers queue instead of racing."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _now(self) -> datetime:
        # whole seconds: what a person reads, and what every client's date parser accepts
        return self._clock().astimezone(timezone.utc).replace(microsecond=0)

    # -- runs -------------------------------------------------------------------------------
    def create_run(self, run: NewRun) -> Run:
        now = self._now()
        with self._write() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM runs").fetchone()[0]
            db.execute(
                "INSERT INTO runs (id, spreadsheet_id, trigger, dry_run, worksheet, requested_by, state, created_at, seq)"
                " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
                (run.id, run.spreadsheet_id, run.trigger, int(run.dry_run), run.worksheet, run.requested_by,
                 now.isoformat(), seq),
            )
        return Run(id=run.id, spreadsheet_id=run.spreadsheet_id, trigger=run.trigger, dry_run=run.dry_run,
                   state="queued", created_at=now, worksheet=run.worksheet, requested_by=run.requested_by)

    def get_run(self, run_id: str) -> Run | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def latest_run(self, spreadsheet_id: str, *, include_dry_runs: bool = False) -> Run | None:
        sql = "SELECT * FROM runs WHERE spreadsheet_id = ?" + ("" if include_dry_runs else " AND dry_run = 0")
        with self._connect() as db:
            row = db.execute(sql + " ORDER BY seq DESC LIMIT 1", (spreadsheet_id,)).fetchone()
        return _run(row) if row else None

    def update_run(
        self,
        run_id: str,
        *,
        state: RunState | None = None,
        result: RunResult | None = None,
        error: str | None = None,
        progress: RunProgress | None = None,
    ) -> None:
        sets: dict[str, Any] = {}
        if state is not None:
            sets["state"] = state
            if state == "running":
                sets["started_at"] = self._now().isoformat()
            elif state in FINISHED:
                sets["finished_at"] = self._now().isoformat()
        if result is not None:
            sets["result"] = json.dumps(asdict(result), ensure_ascii=False)
        if error is not None:
            sets["error"] = error
        if progress is not None:
            sets["progress"] = json.dumps(asdict(progress))
        if not sets:
            return
        with self._write() as db:
            db.execute(
                f"UPDATE runs SET {', '.join(k + ' = ?' for k in sets)} WHERE id = ?",
                (*sets.values(), run_id),
            )

    # -- locks ------------------------------------------------------------------------------
    def try_acquire(self, spreadsheet_id: str, run_id: str, lease_s: float) -> str | None:
        now = self._now().timestamp()
        with self._write() as db:
            row = db.execute("SELECT run_id, expires_at FROM locks WHERE spreadsheet_id = ?",
                             (spreadsheet_id,)).fetchone()
            if row is not None and row["run_id"] != run_id:
                if row["expires_at"] > now:
                    return str(row["run_id"])
                self._fail_stale(db, row["run_id"])
            db.execute("INSERT OR REPLACE INTO locks (spreadsheet_id, run_id, expires_at) VALUES (?, ?, ?)",
                       (spreadsheet_id, run_id, now + lease_s))
        return None

    def renew(self, spreadsheet_id: str, run_id: str, lease_s: float) -> bool:
        with self._write() as db:
            cur = db.execute("UPDATE locks SET expires_at = ? WHERE spreadsheet_id = ? AND run_id = ?",
                             (self._now().timestamp() + lease_s, spreadsheet_id, run_id))
            return cur.rowcount == 1

    def release(self, spreadsheet_id: str, run_id: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM locks WHERE spreadsheet_id = ? AND run_id = ?", (spreadsheet_id, run_id))

    def expire_stale(self) -> list[str]:
        now = self._now().timestamp()
        with self._write() as db:
            stale = [r["run_id"] for r in db.execute("SELECT run_id FROM locks WHERE expires_at <= ?", (now,))]
            for run_id in stale:
                self._fail_stale(db, run_id)
            db.execute("DELETE FROM locks WHERE expires_at <= ?", (now,))
            db.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
        return stale

    def _fail_stale(self, db: sqlite3.Connection, run_id: str) -> None:
        db.execute(
            "UPDATE runs SET state = 'failed', error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')",
            (STALE_ERROR, self._now().isoformat(), run_id),
        )

    # -- replay guard -----------------------------------------------------------------------
    def seen(self, key: str, expires_at: float) -> bool:
        now = self._now().timestamp()
        with self._write() as db:
            row = db.execute("SELECT expires_at FROM seen WHERE key = ?", (key,)).fetchone()
            if row is not None and row["expires_at"] > now:
                return True
            db.execute("INSERT OR REPLACE INTO seen (key, expires_at) VALUES (?, ?)", (key, expires_at))
        return False

    def ping(self) -> bool:
        try:
            with self._connect() as db:
                db.execute("SELECT 1 FROM runs LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _run(row: sqlite3.Row) -> Run:
    result = None
    if row["result"]:
        result = RunResult(**json.loads(row["result"]))
    progress = RunProgress(**json.loads(row["progress"])) if row["progress"] else None
    created = _dt(row["created_at"])
    assert created is not None  # NOT NULL column
    return Run(
        id=row["id"],
        spreadsheet_id=row["spreadsheet_id"],
        trigger=row["trigger"],
        dry_run=bool(row["dry_run"]),
        state=row["state"],
        created_at=created,
        worksheet=row["worksheet"],
        requested_by=row["requested_by"],
        started_at=_dt(row["started_at"]),
        finished_at=_dt(row["finished_at"]),
        result=result,
        error=row["error"],
        progress=progress,
    )
