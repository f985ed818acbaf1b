"""The state store's schema, as numbered migrations applied when a store is opened (both engines).

``MIGRATIONS`` lists (version, SQLite DDL, PostgreSQL DDL); ``meta.schema`` holds the version a
store has reached.  Opening a store applies the missing ones in one transaction (SQLite's
``BEGIN IMMEDIATE``; on PostgreSQL under an advisory lock, so replicas starting together apply
each once).  A store written by a newer version is refused rather than guessed at.

Version 1 is the first SQLite store's schema, unchanged (every ``CREATE`` is ``IF NOT EXISTS``:
files made before migrations existed carry version 1 and need nothing).  Add a version at the
end for every change; never edit one that has shipped.
"""
from __future__ import annotations

from typing import Any, Protocol

from ..errors import StateError
from ..messages.catalog import said

MIGRATION_LOCK = 0x5C_0E_57A7E  # PostgreSQL advisory lock key held while migrating


class Cursor(Protocol):
    def execute(self, sql: str, args: Any = ...) -> Any: ...


SQLITE_V1 = """
CREATE TABLE IF NOT EXISTS feed_answers(
  id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, run_id INTEGER,
  received_at TEXT NOT NULL, origin TEXT NOT NULL, raw BLOB NOT NULL,
  state TEXT NOT NULL, contacts INTEGER NOT NULL DEFAULT 0, problems TEXT NOT NULL DEFAULT '[]',
  commit_ms REAL);
CREATE INDEX IF NOT EXISTS feed_answers_state ON feed_answers(account, state);
CREATE TABLE IF NOT EXISTS feed_contacts(
  account TEXT NOT NULL, contact_id TEXT NOT NULL, answer_id INTEGER NOT NULL, pos INTEGER NOT NULL,
  PRIMARY KEY(account, contact_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS feed_contacts_answer ON feed_contacts(account, answer_id);
CREATE TABLE IF NOT EXISTS feed_inflight(
  account TEXT PRIMARY KEY, run_id INTEGER, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sheets(
  sheet TEXT NOT NULL, account TEXT NOT NULL, from_answer INTEGER NOT NULL, registered_at TEXT NOT NULL,
  PRIMARY KEY(sheet, account)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries(
  sheet TEXT NOT NULL, account TEXT NOT NULL, contact_id TEXT NOT NULL, run_id INTEGER,
  PRIMARY KEY(sheet, account, contact_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rows(
  sheet TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
  outcome TEXT NOT NULL, data TEXT NOT NULL, status TEXT, synced_at TEXT, run_id INTEGER,
  PRIMARY KEY(sheet, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_pending ON rows(sheet, state);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, sheet TEXT NOT NULL, label TEXT NOT NULL,
  command TEXT NOT NULL, trigger TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL, finished_at TEXT, duration_s REAL, process TEXT, host TEXT,
  counts TEXT NOT NULL DEFAULT '{}', error TEXT, summary TEXT);
CREATE INDEX IF NOT EXISTS runs_sheet ON runs(sheet, id);
CREATE TABLE IF NOT EXISTS locks(
  name TEXT PRIMARY KEY, token TEXT NOT NULL, run_id INTEGER, process TEXT NOT NULL,
  host TEXT NOT NULL, label TEXT NOT NULL, since TEXT NOT NULL, heartbeat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reserve(b BLOB);
"""

POSTGRES_V1 = """
CREATE TABLE IF NOT EXISTS feed_answers(
  id BIGSERIAL PRIMARY KEY, account TEXT NOT NULL, run_id BIGINT,
  received_at TEXT NOT NULL, origin TEXT NOT NULL, raw BYTEA NOT NULL,
  state TEXT NOT NULL, contacts INTEGER NOT NULL DEFAULT 0, problems TEXT NOT NULL DEFAULT '[]',
  commit_ms DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS feed_answers_state ON feed_answers(account, state);
CREATE TABLE IF NOT EXISTS feed_contacts(
  account TEXT NOT NULL, contact_id TEXT NOT NULL, answer_id BIGINT NOT NULL, pos INTEGER NOT NULL,
  PRIMARY KEY(account, contact_id));
CREATE INDEX IF NOT EXISTS feed_contacts_answer ON feed_contacts(account, answer_id);
CREATE TABLE IF NOT EXISTS feed_inflight(
  account TEXT PRIMARY KEY, run_id BIGINT, started_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sheets(
  sheet TEXT NOT NULL, account TEXT NOT NULL, from_answer BIGINT NOT NULL, registered_at TEXT NOT NULL,
  PRIMARY KEY(sheet, account));
CREATE TABLE IF NOT EXISTS deliveries(
  sheet TEXT NOT NULL, account TEXT NOT NULL, contact_id TEXT NOT NULL, run_id BIGINT,
  PRIMARY KEY(sheet, account, contact_id));
CREATE TABLE IF NOT EXISTS rows(
  sheet TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
  outcome TEXT NOT NULL, data TEXT NOT NULL, status TEXT, synced_at TEXT, run_id BIGINT,
  PRIMARY KEY(sheet, key));
CREATE INDEX IF NOT EXISTS rows_pending ON rows(sheet, state);
CREATE TABLE IF NOT EXISTS runs(
  id BIGSERIAL PRIMARY KEY, sheet TEXT NOT NULL, label TEXT NOT NULL,
  command TEXT NOT NULL, trigger TEXT NOT NULL, status TEXT NOT NULL, stage TEXT NOT NULL DEFAULT '',
  started_at TEXT NOT NULL, finished_at TEXT, duration_s DOUBLE PRECISION, process TEXT, host TEXT,
  counts TEXT NOT NULL DEFAULT '{}', error TEXT, summary TEXT);
CREATE INDEX IF NOT EXISTS runs_sheet ON runs(sheet, id);
CREATE TABLE IF NOT EXISTS locks(
  name TEXT PRIMARY KEY, token TEXT NOT NULL, run_id BIGINT, process TEXT NOT NULL,
  host TEXT NOT NULL, label TEXT NOT NULL, since TEXT NOT NULL, heartbeat DOUBLE PRECISION NOT NULL);
"""

# Version 2: one run registry for the CLI and the web service.  A lock grant's number (the
# fencing token's order); what the service keeps of a run it queued (preview or not, the tab
# clicked, who asked, progress, the result the sheet shows, when it left the queue); the
# schedule's claimed slots (a slot runs once in the whole fleet); the webhook replay guard.
SQLITE_V2 = """
ALTER TABLE locks ADD COLUMN grant_no INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN worksheet TEXT;
ALTER TABLE runs ADD COLUMN requested_by TEXT;
ALTER TABLE runs ADD COLUMN progress TEXT;
ALTER TABLE runs ADD COLUMN result TEXT;
ALTER TABLE runs ADD COLUMN running_at TEXT;
CREATE TABLE IF NOT EXISTS slots(
  sheet TEXT NOT NULL, slot TEXT NOT NULL, claimed_at TEXT NOT NULL, host TEXT NOT NULL,
  PRIMARY KEY(sheet, slot)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen(key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
"""

POSTGRES_V2 = """
ALTER TABLE locks ADD COLUMN IF NOT EXISTS grant_no BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS worksheet TEXT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS requested_by TEXT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS progress TEXT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS result TEXT;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS running_at TEXT;
CREATE TABLE IF NOT EXISTS slots(
  sheet TEXT NOT NULL, slot TEXT NOT NULL, claimed_at TEXT NOT NULL, host TEXT NOT NULL,
  PRIMARY KEY(sheet, slot));
CREATE TABLE IF NOT EXISTS seen(key TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL);
"""

# Version 3: no index on rows(sheet, state).  No statement reads rows by state (a sheet's rows
# are read by sheet, written by key), and keeping it cost every answer and every save a second
# B-tree write (a third of commit_saved's time on 100,000 rows, and a quarter of the file).
SQLITE_V3 = POSTGRES_V3 = """
DROP INDEX IF EXISTS rows_pending;
"""

# Version 4: a feed answer's raw bytes in their own table, feed_raw, written once.  In
# feed_answers they were written twice: the row is committed (fsynced) before it is read, then
# its state, contact count and commit time are set - a row whose size changes, which SQLite
# writes again whole, blob included (and zeroes the freed pages where built with secure_delete):
# 1.4 MB of WAL per 417 KB answer, 0.56 MB now.  PostgreSQL keeps such a blob
# out of line (TOAST) anyway; both engines keep one schema.  SQLite cannot drop a column before
# 3.35, so feed_answers is rebuilt without it, its AUTOINCREMENT counter carried over (an answer
# id is never given twice: sheets.from_answer counts on it even after the newest were pruned).
SQLITE_V4 = """
CREATE TABLE feed_raw(answer_id INTEGER PRIMARY KEY, raw BLOB NOT NULL);
INSERT INTO feed_raw(answer_id, raw) SELECT id, raw FROM feed_answers;
CREATE TABLE feed_answers_v4(
  id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, run_id INTEGER,
  received_at TEXT NOT NULL, origin TEXT NOT NULL,
  state TEXT NOT NULL, contacts INTEGER NOT NULL DEFAULT 0, problems TEXT NOT NULL DEFAULT '[]',
  commit_ms REAL);
INSERT INTO sqlite_sequence(name, seq) SELECT 'feed_answers_v4', seq FROM sqlite_sequence WHERE name='feed_answers';
INSERT INTO feed_answers_v4(id, account, run_id, received_at, origin, state, contacts, problems, commit_ms)
  SELECT id, account, run_id, received_at, origin, state, contacts, problems, commit_ms FROM feed_answers;
DROP TABLE feed_answers;
ALTER TABLE feed_answers_v4 RENAME TO feed_answers;
CREATE INDEX feed_answers_state ON feed_answers(account, state);
"""

POSTGRES_V4 = """
CREATE TABLE IF NOT EXISTS feed_raw(answer_id BIGINT PRIMARY KEY, raw BYTEA NOT NULL);
INSERT INTO feed_raw(answer_id, raw) SELECT id, raw FROM feed_answers;
ALTER TABLE feed_answers DROP COLUMN raw;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, SQLITE_V1, POSTGRES_V1),
    (2, SQLITE_V2, POSTGRES_V2),
    (3, SQLITE_V3, POSTGRES_V3),
    (4, SQLITE_V4, POSTGRES_V4),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def statements(ddl: str) -> list[str]:
    return [s.strip() for s in ddl.split(";") if s.strip()]


def migrate(cur: Cursor, engine: str, where: str) -> int:
    """Bring the store to ``SCHEMA_VERSION`` inside the caller's write transaction; returns the
    version it had (0: new).  Raises StateError for a store of a newer version."""
    if engine == "postgresql":
        cur.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
    cur.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    row = cur.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    before = int(row[0]) if row is not None else 0
    if before > SCHEMA_VERSION:
        raise StateError(said("store.newer", path=where, format=before))
    for version, sqlite_ddl, postgres_ddl in MIGRATIONS:
        if version <= before:
            continue
        for statement in statements(postgres_ddl if engine == "postgresql" else sqlite_ddl):
            cur.execute(statement)
    if before != SCHEMA_VERSION:
        cur.execute("INSERT INTO meta(key, value) VALUES('schema', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(SCHEMA_VERSION),))
    return before
