"""Fencing, with real processes: a sync paused (SIGSTOP) past its lease loses its lock to another
run; woken up (SIGCONT) it writes nothing (sheet, tab, store) and says why; on SQLite (one
machine) and on PostgreSQL (several)."""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import time

import crashlab
import pytest

from sheets_connector.state import open_url


def _pause_between_writes(pid: int, lab: crashlab.Lab) -> None:
    """SIGSTOP the run at a moment it holds no SQLite write lock.  A process paused INSIDE a write
    transaction keeps the file locked for everyone until it wakes (SQLite has no server to end
    it); that is not the fencing case, so such a moment is let go and another one taken."""
    end = time.monotonic() + 30
    while True:
        os.kill(pid, signal.SIGSTOP)
        if lab.state_url:
            return  # PostgreSQL ends an idle paused transaction itself (idle_in_transaction_session_timeout)
        con = sqlite3.connect(lab.store, timeout=0.2, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            assert time.monotonic() < end, "the run never paused outside a write transaction"
            os.kill(pid, signal.SIGCONT)
            time.sleep(0.003)
        finally:
            con.close()


def _digest(lab: crashlab.Lab) -> tuple[str, ...]:
    """What the store holds for the lab's sheet: rows, deliveries, runs, feed answers."""
    return tuple(str(crashlab.store_value(lab, sql)) for sql in (
        "SELECT COUNT(*) || ':' || COALESCE(SUM(LENGTH(status)), 0) FROM rows WHERE state = 'written'",
        "SELECT COUNT(*) FROM rows",
        "SELECT COUNT(*) FROM deliveries",
        "SELECT COUNT(*) FROM feed_answers",
        "SELECT COUNT(*) || ':' || MAX(id) FROM runs",
        "SELECT status || ':' || COALESCE(error, '') FROM runs ORDER BY id LIMIT 1",
    ))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_paused_run_that_lost_its_lock_writes_nothing_when_it_wakes(tmp_path, sandbox, launcher, request, engine):
    sandbox.set_faults(latency_ms=20)
    lab = crashlab.make_lab(tmp_path, sandbox, launcher, rows=120, web=30)
    if engine == "postgresql":
        lab.state_url = request.getfixturevalue("pg_url")
    url = lab.state_url or str(lab.store)
    first = crashlab.start(lab)
    end = time.monotonic() + 60
    while crashlab.posts(sandbox) < 20:  # mid-send
        assert launcher.poll(first) is None and time.monotonic() < end, first.stderr()
        time.sleep(0.005)
    _pause_between_writes(first.pid, lab)
    try:
        store = open_url(url)
        try:  # its last heartbeat a lease ago: what the lease sees of a process paused that long
            with store.db.write() as cur:
                cur.execute("UPDATE locks SET heartbeat = heartbeat - ?", (store.lease_s + 5,))
        finally:
            store.close()
        second = crashlab.run(lab)
        assert second.code == 0, second.stderr
        workbook = hashlib.sha256(lab.workbook.read_bytes()).hexdigest()
        kept = _digest(lab)
        sent = crashlab.posts(sandbox)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    woke = crashlab.finish(lab, first)
    assert woke.code == 75, woke.stderr
    assert "lost its lock on contacts.xlsx" in woke.stderr and "writing anything more" in woke.stderr
    assert "Traceback" not in woke.stderr
    assert hashlib.sha256(lab.workbook.read_bytes()).hexdigest() == workbook  # sheet and tab untouched
    assert _digest(lab) == kept  # the store too
    assert "no sign of life" in kept[-1] and kept[-1].startswith("crashed")
    # at most the requests it had on the wire, plus those the group commit's window (in flight + answers
    # waiting for their commit < 2 x concurrency) lets out before its next commit finds the lock gone
    assert crashlab.posts(sandbox) - sent <= 2 * crashlab.CONCURRENCY
    again = crashlab.run(lab)
    crashlab.check(lab, {"killed": True, "moment": "sends", "feed": sandbox.feed_status()}, second, again)
