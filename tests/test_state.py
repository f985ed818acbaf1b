"""The state store on its own: real SQLite files, real processes for the locks."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sheets_connector import inwise
from sheets_connector.errors import StateError
from sheets_connector.state import LockHeld, PulledStore, SqliteStore, import_journal

ACCOUNT = "api.example/abc"
SHEET = "xlsx:/contacts.xlsx#Contacts"


def contacts(*ids: int) -> bytes:
    return json.dumps([{"id": i, "email": f"c{i}@example.com"} for i in ids]).encode()


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "state.db")
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


def _hold_and_die(path, *, run: bool) -> None:
    """Another process takes the lock (and starts a run), then dies without letting go."""
    code = textwrap.dedent(f"""
        import os
        from sheets_connector.state import SqliteStore
        s = SqliteStore({str(path)!r})
        t = s.try_lock("book", "contacts.xlsx")
        if {run}:
            s.attach_run("book", t, s.start_run("sheet", "contacts.xlsx", "sync", "cli", "2026-11-28T09:00:00"))
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_lock_of_a_dead_process_is_taken_over_and_its_run_marked_crashed(tmp_path):
    path = tmp_path / "state.db"
    _hold_and_die(path, run=True)
    store = SqliteStore(path)
    try:
        assert store.list_runs()[0].status == "crashed"  # shown as such at once
        store.try_lock("book", "contacts.xlsx")
        dead = store.list_runs()[0]
        assert dead.status == "crashed" and "stopped without finishing" in (dead.error or "")
    finally:
        store.close()


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
