"""Retention: delivered feed answers and old run details are forgotten after the mapping's days;
nothing undelivered ever is (the store on its own on both engines, then through real syncs)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sheets_connector.state import SqliteStore, open_url
from sheets_connector.state.retention import prune, prune_if_due

ACCOUNT = "api.example/abc"
SHEET, OTHER = "xlsx:/contacts.xlsx#Contacts", "xlsx:/other.xlsx#Contacts"


def contacts(*ids: int) -> bytes:
    return json.dumps([{"id": i, "email": f"c{i}@example.com"} for i in ids]).encode()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The store on both engines: a SQLite file, a fresh database on the session's PostgreSQL server."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else str(tmp_path / "state.db")
    s = open_url(url)
    yield s
    s.close()


def _answers(store) -> list[int]:
    return [a.id for a in store.feed_answers(ACCOUNT)]


def test_only_answers_delivered_to_every_sheet_and_older_than_the_days_are_forgotten(store):
    store.register_sheet(SHEET, ACCOUNT)
    store.register_sheet(OTHER, ACCOUNT)
    both = store.add_feed_answer(ACCOUNT, contacts(1, 2))
    one = store.add_feed_answer(ACCOUNT, contacts(3))
    bad = store.add_feed_answer(ACCOUNT, b"[{\"id\": 4}, null]")  # partial: kept for a newer version
    unread = store.add_feed_answer(ACCOUNT, b"<html>")  # unreadable: kept
    empty = store.add_feed_answer(ACCOUNT, b"[]")  # the feed's last page: nothing to deliver
    store.commit_saved(SHEET, ACCOUNT, None, (), ["1", "2", "3", "4"])
    store.commit_saved(OTHER, ACCOUNT, None, (), ["1", "2", "4"])  # 3 not yet in the other sheet
    now = datetime.now()

    assert not prune(store, now + timedelta(days=29), days=30)  # too recent: nothing goes
    assert _answers(store) == [both.id, one.id, bad.id, unread.id, empty.id]

    done = prune(store, now + timedelta(days=31), days=30)
    assert (done.feed_answers, done.feed_contacts, done.deliveries) == (2, 2, 4)
    assert _answers(store) == [one.id, bad.id, unread.id]
    assert [c["id"] for c in store.iter_pending(OTHER, ACCOUNT)] == [3]  # undelivered: still there
    assert list(store.iter_pending(SHEET, ACCOUNT)) == []

    store.commit_saved(OTHER, ACCOUNT, None, (), ["3"])
    prune(store, now + timedelta(days=31), days=30)
    assert _answers(store) == [bad.id, unread.id]


def test_answers_kept_before_any_sheet_took_them_stay(store):
    kept = store.add_feed_answer(ACCOUNT, contacts(9))  # no sheet registered for the account yet
    prune(store, datetime.now() + timedelta(days=400), days=30)
    assert _answers(store) == [kept.id]


def test_old_run_details_go_the_runs_lines_and_each_sheets_latest_run_stay(store):
    start = datetime(2026, 1, 1, 9, 0)
    ids = []
    for day in range(5):
        token, run = store.begin_run("book", SHEET, "contacts.xlsx", "sync", "cli",
                                     (start + timedelta(days=day)).isoformat(timespec="seconds"))
        store.finish_run(run, "ok", finished_at=(start + timedelta(days=day)).isoformat(), duration_s=1.0,
                         counts={"created": day}, summary={"warnings": ["x" * 1000]})
        store.unlock("book", token)
        ids.append(run)
    done = prune(store, start + timedelta(days=33), days=30)  # the runs of days 0-2 are older than 30 days
    assert done.run_details == 3
    details = {r: store.get_run(r).summary is not None for r in ids}
    assert details == {ids[0]: False, ids[1]: False, ids[2]: False, ids[3]: True, ids[4]: True}
    assert [r.counts["created"] for r in store.list_runs(SHEET)] == [4, 3, 2, 1, 0]  # every line stays

    done = prune(store, start + timedelta(days=400), days=30)
    assert done.run_details == 1 and store.get_run(ids[4]).summary is not None  # the latest keeps its details


def test_pruning_runs_at_most_hourly(store):
    now = datetime(2026, 3, 1, 12, 0)
    assert prune_if_due(store, now) is not None
    assert prune_if_due(store, now + timedelta(minutes=59)) is None
    assert prune_if_due(store, now + timedelta(minutes=61)) is not None


# --- through real syncs --------------------------------------------------------------------------

def test_syncs_forget_what_the_sheet_received_after_the_mappings_days_and_keep_everything_else(
        tmp_path, sandbox, state_dir, monkeypatch):
    import requests
    from util import make_config, tab_rows, write_workbook

    from sheets_connector.state.location import STORE_FILE
    from sheets_connector.sync import Collaborators, sync

    def sign_ups(prefix: str, n: int) -> None:
        text = "Email\n" + "".join(f"{prefix}{j}@example.com\n" for j in range(n))
        requests.post(sandbox.base_url + "/contacts/batchInsert", headers={"X-API-Key": "test-key"}, timeout=60,
                      json={"csv_file": text, "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"}]}
                      ).raise_for_status()

    wb = write_workbook(tmp_path / "contacts.xlsx", [[f"N{i}", "T", f"p{i}@example.com", None, None] for i in range(3)])
    cfg = make_config(tmp_path, sandbox.base_url).model_copy(update={"state_retention_days": 7})
    day0 = datetime(2030, 5, 1, 10, 0)
    kept = []
    for day in range(12):
        sign_ups(f"d{day}-", 2)
        when = day0 + timedelta(days=day)  # the store dates what it receives by the same clock
        monkeypatch.setattr("sheets_connector.state.store.utc_now",
                            lambda when=when: when.astimezone(timezone.utc).isoformat(timespec="milliseconds"))
        s = sync(cfg, Collaborators(environ={"INWISE_API_KEY": "test-key"}, clock=lambda when=when: when))
        assert s.error is None
        db = SqliteStore(state_dir / STORE_FILE)
        try:
            kept.append(len(db.feed_answers()))
            details = sum(r.summary is not None for r in db.list_runs(limit=100))
        finally:
            db.close()
    # every contact reached the tab exactly once, however much the store forgot
    emails = [r[1] for r in tab_rows(wb, "New contacts")[1:]]
    assert len(emails) == len(set(emails)) == 3 + 12 * 2
    assert kept[:7] == list(range(1, 8))  # one answer a day, all kept for a week
    assert kept[-4:] == [8, 8, 8, 8]  # then bounded: a week's answers (and today's), not all twelve days'
    assert details == 8


def test_the_store_size_script_shows_the_answers_kept_bounded_by_the_days(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, str(root / "scripts" / "store_size.py"), "--runs", "6", "--rows", "20",
                          "--signups", "5", "--days", "2"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "6 daily runs of a 20-row sheet, 5 sign-ups a run, state_retention_days: 2" in lines[0]
    last = lines[-1].split()
    assert last[0] == "6" and last[3] == "3" and last[4] == "3"  # answers and run details of the last 3 days
