"""A feed answer's raw bytes live in their own table (schema version 4), written once: a store
of version 3 keeps every answer through the migration (read or not), and reading again,
retention and copying to another store work on it; on both engines (a real SQLite file, a
fresh database on the session's PostgreSQL server)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sheets_connector.state import SqliteStore, open_url, schema
from sheets_connector.state.retention import prune
from sheets_connector.state.transfer import copy_store

ACCOUNT = "api.example/abc"
SHEET = "xlsx:/contacts.xlsx#Contacts"
LONG_AGO = "2020-01-01T00:00:00.000+00:00"


def contacts(*ids: int) -> bytes:
    return json.dumps([{"id": i, "email": f"c{i}@example.com"} for i in ids]).encode()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    return request.getfixturevalue("pg_url") if request.param == "postgresql" else str(tmp_path / "state.db")


def _old_answer(cur, raw: bytes, state: str, ids: tuple[int, ...] = (), received_at: str = LONG_AGO) -> int:
    """An answer as version 3 kept it: its bytes in feed_answers.raw, its contacts indexed once read."""
    answer_id = int(cur.execute(
        "INSERT INTO feed_answers(account, run_id, received_at, origin, raw, state, contacts, problems, commit_ms) "
        "VALUES(?, NULL, ?, 'inwise', ?, ?, ?, '[]', 3.5) RETURNING id",
        (ACCOUNT, received_at, raw, state, len(ids) if state == "parsed" else 0)).fetchone()[0])
    if state == "parsed":
        for pos, i in enumerate(ids):
            cur.execute("INSERT INTO feed_contacts(account, contact_id, answer_id, pos) VALUES(?, ?, ?, ?)",
                        (ACCOUNT, str(i), answer_id, pos))
    return answer_id


def _version_3_store(url: str, monkeypatch) -> dict[int, bytes]:
    """A store made by the code of schema version 3, holding answers read, delivered, not read
    (a crash between the commit and the reading), unreadable; the newest one pruned."""
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:3])
        m.setattr(schema, "SCHEMA_VERSION", 3)
        old = open_url(url)
    raws = {}
    try:
        assert old.meta_get("schema") == "3"
        with old.db.write() as cur:
            cur.execute("INSERT INTO sheets(sheet, account, from_answer, registered_at) VALUES(?, ?, 1, ?)",
                        (SHEET, ACCOUNT, LONG_AGO))
            delivered = _old_answer(cur, contacts(1, 2), "parsed", (1, 2))
            for i in ("1", "2"):
                cur.execute("INSERT INTO deliveries(sheet, account, contact_id, run_id) VALUES(?, ?, ?, NULL)",
                            (SHEET, ACCOUNT, i))
            waiting = _old_answer(cur, contacts(3), "parsed", (3,))
            unread = _old_answer(cur, contacts(4, 5), "received")
            unreadable = _old_answer(cur, b"<html>busy</html>", "unreadable")
            pruned = _old_answer(cur, contacts(), "parsed")
            cur.execute("DELETE FROM feed_answers WHERE id=?", (pruned,))  # its id is never given again
        for answer_id in (delivered, waiting, unread, unreadable):
            raws[answer_id] = bytes(old.db.one("SELECT raw FROM feed_answers WHERE id=?", (answer_id,))[0])
        raws[pruned] = b""
    finally:
        old.close()
    return raws


def _columns(store, table: str) -> set[str]:
    if store.db.engine == "postgresql":
        return {r[0] for r in store.db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name=?", (table,))}
    return {r[1] for r in store.db.query(f"PRAGMA table_info({table})")}


def test_a_version_3_store_keeps_every_answer_and_its_bytes(store_url, monkeypatch, tmp_path):
    raws = _version_3_store(store_url, monkeypatch)
    delivered, waiting, unread, unreadable, pruned = sorted(raws)
    store = open_url(store_url)
    try:
        assert store.meta_get("schema") == str(schema.SCHEMA_VERSION) == "4"
        assert "raw" not in _columns(store, "feed_answers") and _columns(store, "feed_raw") == {"answer_id", "raw"}
        answers = store.feed_answers(ACCOUNT)
        assert [(a.id, a.state, a.contacts, a.received_at, a.commit_ms) for a in answers] == [
            (delivered, "parsed", 2, LONG_AGO, 3.5), (waiting, "parsed", 1, LONG_AGO, 3.5),
            (unread, "received", 0, LONG_AGO, 3.5), (unreadable, "unreadable", 0, LONG_AGO, 3.5)]
        for answer_id in (delivered, waiting, unread, unreadable):
            assert store.feed_answer_raw(answer_id) == raws[answer_id]

        # the answer a crash left unread is read now, the unreadable one stays for a newer version
        assert [(a.id, a.contacts) for a in store.reparse_feed(ACCOUNT)] == [(unread, 2)]
        assert store.feed_answers(ACCOUNT, problems_only=True)[0].id == unreadable
        assert [c["id"] for c in store.iter_pending(SHEET, ACCOUNT)] == [3, 4, 5]
        assert store.add_feed_answer(ACCOUNT, contacts(6)).id > pruned  # no id given twice

        # retention forgets the delivered answer, bytes included; everything waiting stays
        done = prune(store, datetime.now(timezone.utc) + timedelta(days=400), days=30)
        assert done.feed_answers == 1
        assert delivered not in [a.id for a in store.feed_answers(ACCOUNT)]
        assert store.feed_answer_raw(delivered) is None
        assert store.feed_answer_raw(unreadable) == raws[unreadable]

        # and the whole state moves to another store, bytes and all
        copy = SqliteStore(tmp_path / "copy.db")
        try:
            copied = copy_store(store, copy)
            assert copied["feed_answers"] == copied["feed_raw"] == 4
            assert [(a.id, a.state, a.contacts) for a in copy.feed_answers()] == [
                (a.id, a.state, a.contacts) for a in store.feed_answers()]
            assert all(copy.feed_answer_raw(a.id) == store.feed_answer_raw(a.id) for a in store.feed_answers())
            assert [c["id"] for c in copy.iter_pending(SHEET, ACCOUNT)] == [3, 4, 5, 6]
        finally:
            copy.close()
    finally:
        store.close()


def test_reading_an_answer_does_not_write_its_bytes_again(tmp_path):
    """SQLite rewrites a whole row, overflow pages and all, when an update changes its size: the
    answer's state, count and commit time are set after it was committed, so its bytes must not
    be in that row.  The write-ahead log shows what was written (no checkpoint empties it here)."""
    store = SqliteStore(tmp_path / "state.db")
    try:
        store.db.conn.execute("PRAGMA wal_autocheckpoint=0")
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty and only grows
        wal = tmp_path / "state.db-wal"
        raw = json.dumps([{"id": i, "email": f"c{i}@example.com", "notes": "x" * 2000} for i in range(1, 201)]).encode()
        before = wal.stat().st_size
        answer = store.add_feed_answer(ACCOUNT, raw, received=0.0)
        written = wal.stat().st_size - before
        assert answer.state == "parsed" and answer.contacts == 200 and answer.commit_ms is not None
        assert store.feed_answer_raw(answer.id) == raw
        assert len(raw) < written < 1.2 * len(raw), written  # once, plus pages' headers and the small rows
    finally:
        store.close()
