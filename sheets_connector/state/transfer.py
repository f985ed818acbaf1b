"""``sheets-connector state migrate``: copy a whole state store into another (SQLite -> PostgreSQL
when one machine becomes several; the other way works too), losing nothing.

Everything is copied with its ids: the feed answers (raw bytes, the undelivered ones too), the
contacts read from them, which sheet received which, every row's fingerprint and last answer,
the run history, the claimed schedule slots and the lock-grant counter.  Locks are not copied
(no run may be in progress: the copy refuses while one holds a lock).  The target must be empty
(a fresh database); it is filled in one transaction, so a failure leaves it empty.  Id sequences
continue after the copied ids.  The source is left as it was.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import StateError
from .runs import CRASHED
from .store import SqlStore

BATCH = 500
RAW_BATCH = 8  # feed answers' bytes (~0.4 MB each) a few at a time: memory stays flat
TABLES: list[tuple[str, str, str]] = [  # (table, columns, order)
    ("feed_answers", "id, account, run_id, received_at, origin, state, contacts, problems, commit_ms", "id"),
    ("feed_raw", "answer_id, raw", "answer_id"),
    ("feed_contacts", "account, contact_id, answer_id, pos", "account, contact_id"),
    ("feed_inflight", "account, run_id, started_at", "account"),
    ("sheets", "sheet, account, from_answer, registered_at", "sheet, account"),
    ("deliveries", "sheet, account, contact_id, run_id", "sheet, account, contact_id"),
    ("rows", "sheet, key, fingerprint, state, outcome, data, status, synced_at, run_id", "sheet, key"),
    ("runs", "id, sheet, label, command, trigger, status, stage, started_at, finished_at, duration_s, process, host, "
             "counts, error, summary, dry_run, worksheet, requested_by, progress, result, running_at", "id"),
    ("slots", "sheet, slot, claimed_at, host", "sheet, slot"),
    ("seen", "key, expires_at", "key"),
]
SEQUENCES = ("feed_answers", "runs")
COPIED_META_SKIP = ("schema",)


def _chunks(store: SqlStore, table: str, columns: str, order: str) -> Iterator[list[Any]]:
    offset, batch = 0, RAW_BATCH if table == "feed_raw" else BATCH
    while True:
        rows = store.db.query(f"SELECT {columns} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (batch, offset))
        if not rows:
            return
        yield rows
        offset += len(rows)


def counts(store: SqlStore) -> dict[str, int]:
    return {table: int(store.db.one(f"SELECT COUNT(*) FROM {table}")[0]) for table, _, _ in TABLES}


def copy_store(source: SqlStore, target: SqlStore) -> dict[str, int]:
    """Copy ``source`` into the empty ``target``; returns the rows copied per table."""
    busy = [h for h in (source.lock_holder(str(r[0])) for r in source.db.query("SELECT name FROM locks")) if h]
    if busy:
        h = busy[0]
        raise StateError(f"A run is in progress in {source.url} ({h.label}, process {h.process.split(':')[0]} on "
                         f"{h.host}). Nothing was copied. Stop the syncs (and the service), then migrate.")
    already = {t: n for t, n in counts(target).items() if n}
    if already:
        raise StateError(f"The target store {target.url} already holds a state ({', '.join(already)}). Nothing was "
                         "copied. Migrate into a new, empty database.")
    with target.db.write() as cur:
        for table, columns, order in TABLES:
            marks = ", ".join("?" * len(columns.split(",")))
            for rows in _chunks(source, table, columns, order):
                if table == "runs":  # a run left running by a process that is gone did not finish
                    rows = [(*r[:5], "crashed", *r[6:13], r[13] or CRASHED, *r[14:])
                            if r[5] in ("queued", "running") else r for r in rows]
                cur.executemany(f"INSERT INTO {table}({columns}) VALUES({marks})", [tuple(r) for r in rows])
        for key, value in source.db.query("SELECT key, value FROM meta"):
            if key not in COPIED_META_SKIP:
                cur.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                            (key, value))
        if target.db.engine == "postgresql":  # ids go on after the copied ones
            for table in SEQUENCES:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
    copied, now = counts(source), counts(target)
    if copied != now:
        raise StateError(f"The copy into {target.url} does not match its source ({copied} vs {now}).")
    return copied
