"""The state store's contract, on both engines: a real SQLite file and a real PostgreSQL server
(a throwaway cluster, see pgcluster.py); real processes for the locks."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from sheets_connector import inwise
from sheets_connector.errors import LockLost, StateError
from sheets_connector.state import LockHeld, PulledStore, SqliteStore, import_journal, open_url
from sheets_connector.state.schema import SCHEMA_VERSION, SQLITE_V1

ACCOUNT = "api.example/abc"
SHEET = "xlsx:/contacts.xlsx#Contacts"


def contacts(*ids: int) -> bytes:
    return json.dumps([{"id": i, "email": f"c{i}@example.com"} for i in ids]).encode()


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def store_url(request, tmp_path):
    """Where a store lives: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "state.db")


@pytest.fixture
def store(store_url):
    s = open_url(store_url)
    yield s
    s.close()


def test_feed_answers_are_kept_raw_and_delivered_to_each_sheet_once(store):
    store.register_sheet(SHEET, ACCOUNT)
    store.register_sheet("other", ACCOUNT)
    a = store.add_feed_answer(ACCOUNT, contacts(1, 2), received=0.0)
    assert a.state == "parsed" and a.contacts == 2 and a.commit_ms is not None
    assert store.feed_answer_raw(a.id) == contacts(1, 2)  # exactly the bytes inwise sent
    assert [c["id"] for c in store.iter_pending(SHEET, ACCOUNT)] == [1, 2]
    store.commit_saved(SHEET, ACCOUNT, None, (), ["1", "2"])
    assert list(store.iter_pending(SHEET, ACCOUNT)) == []
    assert [c["id"] for c in store.iter_pending("other", ACCOUNT)] == [1, 2]  # each sheet its own delivery
    assert list(store.iter_pending(SHEET, "another account")) == []


def test_a_sheet_receives_what_was_kept_from_its_first_run_on(store):
    store.register_sheet(SHEET, ACCOUNT)
    store.add_feed_answer(ACCOUNT, contacts(1))
    store.register_sheet("late", ACCOUNT)
    store.add_feed_answer(ACCOUNT, contacts(2))
    assert [c["id"] for c in store.iter_pending("late", ACCOUNT)] == [2]
    assert [c["id"] for c in store.iter_pending(SHEET, ACCOUNT)] == [1, 2]


def test_bad_items_are_reported_and_never_block_the_good_ones(store):
    store.register_sheet(SHEET, ACCOUNT)
    raw = json.dumps([None, 7, "str", {"email": "no-id@example.com"}, {"id": 5, "email": "ok@example.com"},
                      {"id": True}]).encode()
    a = store.add_feed_answer(ACCOUNT, raw)
    assert a.state == "partial" and a.contacts == 1
    assert a.problems == ["item 1 is empty (null)", "item 2 is 7, not a contact", "item 3 is 'str', not a contact",
                          "item 4 has no contact id", "item 6 has no contact id"]
    assert [c["email"] for c in store.iter_pending(SHEET, ACCOUNT)] == ["ok@example.com"]
    store.commit_saved(SHEET, ACCOUNT, None, (), ["5"])
    assert store.reparse_feed(ACCOUNT) == []  # read again, nothing more in it, nothing breaks


@pytest.mark.parametrize("raw", [b"<html>Service Unavailable</html>", b'{"contacts": 7}', b"[{\"id\": 1,", b"null",
                                 "\u05e9\u05dc\u05d5\u05dd".encode("utf-16")])
def test_an_unreadable_answer_is_kept_as_received(store, raw):
    a = store.add_feed_answer(ACCOUNT, raw)
    assert a.state == "unreadable" and a.contacts == 0 and "not a list of contacts" in a.problems[0]
    assert store.feed_answer_raw(a.id) == raw
    assert [x.id for x in store.feed_answers(ACCOUNT, problems_only=True)] == [a.id]


def test_an_answer_understood_later_is_read_again(store, monkeypatch):
    store.register_sheet(SHEET, ACCOUNT)
    a = store.add_feed_answer(ACCOUNT, b'{"records": [{"id": 9, "email": "later@example.com"}]}')
    assert a.state == "unreadable"
    monkeypatch.setattr(inwise.wire, "FEED_LIST_KEYS", (*inwise.wire.FEED_LIST_KEYS, "records"))  # a newer version
    better = store.reparse_feed(ACCOUNT)
    assert [(b.id, b.contacts, b.state) for b in better] == [(a.id, 1, "parsed")]
    assert [c["email"] for c in store.iter_pending(SHEET, ACCOUNT)] == ["later@example.com"]


def test_an_interrupted_feed_request_is_told_once(store):
    store.feed_request_started(ACCOUNT, 4)
    got = store.take_interrupted_feed_request(ACCOUNT)
    assert got is not None and got[0] == 4
    assert store.take_interrupted_feed_request(ACCOUNT) is None
    store.feed_request_started(ACCOUNT, 5)
    store.add_feed_answer(ACCOUNT, contacts(1))  # its answer was kept: nothing to tell
    assert store.take_interrupted_feed_request(ACCOUNT) is None


def test_runs_are_kept_in_order_with_their_counts(store):
    first = store.start_run(SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00")
    store.set_run_stage(first, "send")
    assert store.get_run(first).stage == "send" and store.get_run(first).status == "running"
    store.finish_run(first, "ok", finished_at="2026-11-28T09:00:05", duration_s=5.0, counts={"created": 2},
                     summary={"problems": []})
    second = store.start_run(SHEET, "contacts.xlsx", "pull-new", "schedule", "2026-11-28T09:15:00")
    store.finish_run(second, "failed", finished_at="2026-11-28T09:15:01", duration_s=1.0, error="boom")
    runs = store.list_runs(SHEET)
    assert [(r.id, r.trigger, r.status) for r in runs] == [(second, "schedule", "failed"), (first, "cli", "ok")]
    assert runs[1].counts == {"created": 2} and runs[0].error == "boom"
    assert store.list_runs("another sheet") == [] and store.get_run(999) is None


def test_a_lock_is_refused_while_held_and_free_after(store):
    token = store.try_lock("book", "contacts.xlsx", run_id=None)
    with pytest.raises(LockHeld) as held:
        store.try_lock("book", "contacts.xlsx")
    assert held.value.holder.name == "book" and held.value.holder.label == "contacts.xlsx"
    store.unlock("book", token)
    store.unlock("book", store.try_lock("book", "contacts.xlsx"))


def _hold_and_die(url, *, run: bool) -> None:
    """Another process takes the lock (and starts a run), then dies without letting go."""
    code = textwrap.dedent(f"""
        import os
        from sheets_connector.state import open_url
        s = open_url({str(url)!r})
        t = s.try_lock("book", "contacts.xlsx")
        if {run}:
            s.attach_run("book", t, s.start_run("sheet", "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00"))
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_lock_of_a_dead_process_is_taken_over_and_its_run_marked_crashed(store_url):
    _hold_and_die(store_url, run=True)
    store = open_url(store_url)
    try:
        assert store.list_runs()[0].status == "crashed"  # shown as such at once
        store.try_lock("book", "contacts.xlsx")
        dead = store.list_runs()[0]
        assert dead.status == "crashed" and "stopped without finishing" in (dead.error or "")
    finally:
        store.close()


def _age(store, name: str, seconds: float) -> None:
    """The holder's last heartbeat ``seconds`` ago (as if its process had been paused that long)."""
    with store.db.write() as cur:
        cur.execute("UPDATE locks SET heartbeat=heartbeat-? WHERE name=?", (seconds, name))


def test_a_lock_taken_over_fences_off_its_old_holder(store_url):
    """The old holder (paused past its lease) writes nothing more once another run took over:
    not a row, not a stage, not a feed request; its heartbeat does not take the lock back."""
    first, second = open_url(store_url), open_url(store_url)
    try:
        token, run = first.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00")
        first.record_answers(SHEET, run, [("k1", "fp1", {"outcome": "created"})])
        first.stop_heartbeat()
        with pytest.raises(LockHeld):
            second.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:01:00")
        _age(first, "book", first.lease_s + 5)
        token2, run2 = second.begin_run("book", SHEET, "contacts.xlsx", "sync", "menu", "2026-11-28T09:03:00")
        assert second.lock_holder("book").grant > 1 and token2 != token
        for write in (lambda: first.record_answers(SHEET, run, [("k2", "fp2", {"outcome": "created"})]),
                      lambda: first.set_run_stage(run, "write"), first.prove_locks,
                      lambda: first.feed_request_started(ACCOUNT, run),
                      lambda: first.commit_saved(SHEET, ACCOUNT, run, ["k1"], ["1"]),
                      lambda: first.finish_run(run, "ok", finished_at="2026-11-28T09:04:00", duration_s=1.0)):
            with pytest.raises(LockLost) as lost:
                write()
            assert "lost its lock on contacts.xlsx" in str(lost.value) and f"run #{run2}" in str(lost.value)
        first.renew_locks()
        assert second.lock_holder("book").run_id == run2
        assert set(second.row_records(SHEET)) == {"k1"} and second.row_records(SHEET)["k1"].state == "answered"
        assert second.take_interrupted_feed_request(ACCOUNT) is None
        old = second.get_run(run)
        assert old.status == "crashed" and "no sign of life" in old.error
        first.unlock("book", token)  # letting go of a lock taken over leaves it to its new holder
        assert second.lock_holder("book").run_id == run2
        second.record_answers(SHEET, run2, [("k2", "fp2", {"outcome": "created"})])
    finally:
        first.close()
        second.close()


def test_a_live_holder_keeps_its_lock_by_its_heartbeat(store_url):
    first, second = open_url(store_url), open_url(store_url)
    try:
        first.try_lock("book", "contacts.xlsx")
        _age(first, "book", first.lease_s + 5)
        first.renew_locks()  # the renewal checks the token and moves the heartbeat on
        with pytest.raises(LockHeld):
            second.try_lock("book", "contacts.xlsx")
        first.prove_locks()
    finally:
        first.close()
        second.close()


def test_of_many_takers_at_once_exactly_one_wins(store_url):
    stores = [open_url(store_url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    won: list[str] = []

    def take(s) -> None:
        start.wait()
        try:
            won.append(s.try_lock("book", "contacts.xlsx"))
        except LockHeld:
            pass

    try:
        threads = [threading.Thread(target=take, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
    finally:
        for s in stores:
            s.close()


def test_the_schema_is_migrated_on_open_and_a_newer_one_refused(store_url):
    if "://" not in store_url:  # a file made by the first version (before migrations), with a run in it
        import sqlite3

        with sqlite3.connect(store_url) as db:
            db.executescript("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);" + SQLITE_V1
                             + "INSERT INTO meta VALUES('schema', '1');"
                             "INSERT INTO runs(sheet, label, command, trigger, status, started_at) "
                             "VALUES('s', 'l', 'sync', 'cli', 'ok', '2026-01-01T00:00:00');")
        db.close()
    store = open_url(store_url)
    try:
        assert store.meta_get("schema") == str(SCHEMA_VERSION)
        store.try_lock("book", "contacts.xlsx")
        if "://" not in store_url:
            assert [r.sheet for r in store.list_runs()] == ["s"]
        store.meta_set("schema", str(SCHEMA_VERSION + 1))
    finally:
        store.close()
    again = None
    with pytest.raises(StateError) as e:
        again = open_url(store_url)
    assert again is None and "newer version of sheets-connector" in str(e.value)


def test_an_old_journal_is_imported_once(tmp_path, store):
    journal = PulledStore(tmp_path / "old")
    journal.append_page([{"id": 1, "email": "a@example.com"}, {"id": 2, "email": "b@example.com"}])
    journal.mark_delivered([1])
    assert import_journal(store, tmp_path / "old", SHEET, ACCOUNT) == 2
    assert import_journal(store, tmp_path / "old", SHEET, ACCOUNT) == 0
    assert [c["id"] for c in store.iter_pending(SHEET, ACCOUNT)] == [2]
    assert import_journal(store, tmp_path / "nothing here", SHEET, ACCOUNT) == 0


def _limited(code: str, limit: int) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with a file-size limit (how a full disk looks to a process)."""
    pre = (f"import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n")
    return subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.skipif(sys.platform == "win32", reason="file-size limits are POSIX")
def test_no_room_is_said_before_anything_is_kept(tmp_path):
    path = tmp_path / "state.db"
    done = _limited(f"""
        from sheets_connector.errors import StateError
        from sheets_connector.state import SqliteStore
        try:
            SqliteStore({str(path)!r}).ensure_room(2 * 1024 * 1024)
        except StateError as e:
            print(e)
        else:
            print("room")
    """, 1024 * 1024)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() != "room"
    assert "state store" in done.stdout and ("disk is full" in done.stdout or "write failed" in done.stdout)


def test_a_store_in_a_folder_that_cannot_exist_says_so(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StateError) as e:
        SqliteStore(tmp_path / "file" / "state.db")
    assert "cannot be opened" in str(e.value) and "state_dir" in str(e.value)


def test_the_newest_contact_read_and_which_ids_were_read(store):
    account = "acct-1"
    assert store.newest_feed_contact(account) is None
    store.add_feed_answer(account, json.dumps([{"id": 99}, {"id": 439130785}, {"id": "x-7"}, {"id": 1000}]).encode())
    store.add_feed_answer("acct-2", json.dumps([{"id": 999999999999}]).encode())
    assert store.newest_feed_contact(account) == 439130785  # numbers, not text order; this account only
    assert store.kept_contacts(account, ["99", "100", "439130785", "999999999999"]) == {"99", "439130785"}
    assert store.kept_contacts(account, [str(i) for i in range(1200)]) == {"99", "1000"}  # in parts


def test_a_transaction_left_open_after_a_many_row_write_is_ended_by_the_server(pg_url):
    """A process paused inside a write (SIGSTOP, a laptop lid) must not keep its row locks: the
    server ends its idle transaction, also after a many-row write (which psycopg pipelines)."""
    import psycopg

    store = open_url(pg_url)
    try:
        with store.db.write() as cur:
            cur.execute("CREATE TABLE paused(k INTEGER PRIMARY KEY)")
        waited = 0.0
        with pytest.raises(StateError):
            with store.db.write() as cur:
                cur.executemany("INSERT INTO paused(k) VALUES(?)", [(1,), (2,), (3,)])
                with psycopg.connect(pg_url, autocommit=True) as other:
                    # waits for the paused transaction's row locks, which the server ends after 4 s
                    other.execute("SET lock_timeout = '12s'")
                    began = time.monotonic()
                    other.execute("INSERT INTO paused(k) VALUES(1) ON CONFLICT (k) DO NOTHING")
                    waited = time.monotonic() - began
                cur.execute("SELECT 1")  # the paused writer wakes: its session is gone
        assert waited > 1  # it did wait for the paused transaction (then got the row)
    finally:
        store.close()


def test_answers_are_kept_in_one_write_the_last_answer_of_a_row_winning(store):
    """A group of answers is one write on both engines (one array statement on PostgreSQL): every
    row kept, an answer given again for the same row in the group replacing the earlier one."""
    token, run = store.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00")
    store.record_answers(SHEET, run, [("k1", "fp1", {"outcome": "created", "contact_id": 7}),
                                      ("k2", "fp2", {"outcome": "invalid"}),
                                      ("k1", "fp1b", {"outcome": "updated", "contact_id": 7})])
    records = store.row_records(SHEET)
    assert set(records) == {"k1", "k2"} and {r.state for r in records.values()} == {"answered"}
    assert records["k1"].fingerprint == "fp1b" and records["k1"].outcome["outcome"] == "updated"
    assert records["k2"].fingerprint == "fp2" and records["k2"].outcome["outcome"] == "invalid"


def test_a_store_held_by_another_process_says_so_not_disk_space(tmp_path, monkeypatch):
    """A file another process keeps locked is not a disk problem: the message says who to wait for."""
    import sqlite3

    from sheets_connector.state import db as sqlite_db

    path = tmp_path / "state.db"
    open_url(str(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_S", 0.1)
    try:
        with pytest.raises(StateError) as e:
            open_url(str(path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "busy" in str(e.value) and "wait for it to finish" in str(e.value)
    assert "disk space" not in str(e.value)


def test_a_new_store_opened_by_many_at_once_opens_for_each(tmp_path) -> None:
    # Several syncs (or the service's threads) starting together on a store that does not exist yet:
    # every one of them opens it; none is told another program kept it busy.
    failures: list[str] = []
    for attempt in range(25):
        path = tmp_path / str(attempt) / "state.db"
        start = threading.Barrier(6)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                SqliteStore(path).close()
            except StateError as e:
                failures.append(str(e))

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []


def test_statuses_are_kept_in_one_write_the_last_of_a_row_winning(store):
    """The words for the sheet are one write on both engines (one array statement on PostgreSQL):
    a row without a settled outcome keeps the one it has, a row given twice takes the last."""
    token, run = store.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00")
    store.record_answers(SHEET, run, [("k1", "fp1", {"outcome": "updated"}), ("k2", "fp2", {"outcome": "invalid"}),
                                      ("k3", "fp3", {"outcome": "updated"})])
    store.record_statuses(SHEET, [("k1", "✓ created · #7", "2026-11-28T09:00:01", {"outcome": "created", "contact_id": 7}),
                                  ("k2", "✗ first", None, None),
                                  ("k2", "✗ invalid email", None, None),
                                  ("missing", "never answered", None, None)])
    records = store.row_records(SHEET)
    assert set(records) == {"k1", "k2", "k3"}
    assert (records["k1"].status, records["k1"].synced_at) == ("✓ created · #7", "2026-11-28T09:00:01")
    assert records["k1"].outcome == {"outcome": "created", "contact_id": 7}
    assert (records["k2"].status, records["k2"].synced_at) == ("✗ invalid email", None)
    assert records["k2"].outcome == {"outcome": "invalid"}  # no settled outcome given: the answer's stays
    assert records["k3"].status is None and records["k3"].outcome == {"outcome": "updated"}
    store.unlock("book", token)


def test_feed_answer_contacts_indexed_in_one_write_a_repeated_id_once(store):
    """An answer's contact ids are indexed in one write on both engines; an id given twice in one
    answer is kept once, at its first position."""
    items = [{"id": 5, "email": "a@example.com"}, {"id": 6}, {"id": 5, "email": "again@example.com"}]
    answer = store.add_feed_answer("acct", json.dumps(items).encode())
    assert answer.contacts == 3 and answer.state == "parsed"
    store.register_sheet_from(SHEET, "acct", answer.id)
    assert [(pos, c["id"]) for _, pos, c in store.iter_pending_at(SHEET, "acct")] == [(0, 5), (1, 6)]


@pytest.fixture(params=["postgresql", "sqlite-json", "sqlite-rows"])
def any_store(request, tmp_path):
    """Every way the store writes a list: PostgreSQL arrays, SQLite JSON lists, SQLite row by row
    (an SQLite built without json_each)."""
    if request.param == "postgresql":
        store = open_url(request.getfixturevalue("pg_url"))
    else:
        store = open_url(str(tmp_path / "state.db"))
        assert store.db.json_lists
        store.db.json_lists = request.param == "sqlite-json"
    yield store
    store.close()


def test_lists_of_odd_texts_are_written_as_given(any_store):
    """Keys and contact ids with quotes, backslashes, Hebrew, emoji, commas: every row marked written
    and every contact delivered, an answer's non-contacts skipped, each id at its own position."""
    store = any_store
    odd = ['email:a"b@example.com', "email:c\\d@example.com", "email:שלום@example.co.il", "mobile:972541234567",
           "email:😀@example.com", "external:1,2 [3]", "external:null"]
    token, run = store.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00")
    store.record_answers(SHEET, run, [(k, "fp", {"outcome": "updated"}) for k in [*odd, "email:other@example.com"]])
    items = [{"id": 11}, None, {"id": "ab\"c"}, "not a contact", {"id": "שלום"}, {"id": 12}]
    answer = store.add_feed_answer("acct", json.dumps(items).encode())
    assert (answer.state, answer.contacts) == ("partial", 4)
    store.register_sheet_from(SHEET, "acct", answer.id)
    pending = [(pos, cid) for _, pos, cid in store.iter_pending_at(SHEET, "acct", canonical=False)]
    assert [(pos, c["id"]) for pos, c in pending] == [(0, 11), (2, 'ab"c'), (4, "שלום"), (5, 12)]
    store.commit_saved(SHEET, "acct", run, odd, ["11", 'ab"c', "שלום"])
    records = store.row_records(SHEET)
    assert {k for k, r in records.items() if r.state == "written"} == set(odd)
    assert records["email:other@example.com"].state == "answered"
    assert [(pos, c) for _, pos, c in store.iter_pending_at(SHEET, "acct", canonical=False)] == [(5, {"id": 12})]
    store.unlock("book", token)
