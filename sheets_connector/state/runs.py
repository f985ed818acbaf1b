"""Run history and run locks, in the same store file so several processes (and later several
service instances) share them.

A lock is a row ``locks(name, token, holder...)`` taken in one ``BEGIN IMMEDIATE`` transaction:
free, or held by a process that is gone (same host, see process.py), or whose heartbeat is older
than ``LEASE_S`` - then it is taken over.  The holder's process refreshes its heartbeat every
``HEARTBEAT_S`` from a daemon thread.  Runs found ``running`` when their lock is taken over were
killed: they are marked ``crashed``.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from ..errors import StateError
from .db import Db, process_host
from .model import Holder, LockHeld, RunRecord
from .process import process_alive, this_process

LEASE_S = 120.0
HEARTBEAT_S = 10.0
log = logging.getLogger(__name__)

CRASHED = "the process stopped without finishing (killed, crashed or the computer stopped)"

_RUN_COLUMNS = ("id, sheet, label, command, trigger, status, stage, started_at, finished_at, duration_s, counts, "
                "error, summary, process, host")


T = TypeVar("T")


def waiting(attempt: Callable[[], T], *, wait: bool, cancelled: Callable[[], bool] = lambda: False,
            poll_s: float = 0.2, on_wait: Callable[[Holder], None] | None = None) -> T:
    """``attempt()``; while it raises LockHeld and ``wait``, try again every ``poll_s`` (until
    ``cancelled()``); ``on_wait(holder)`` is told once."""
    told = False
    while True:
        try:
            return attempt()
        except LockHeld as held:
            if not wait or cancelled():
                raise
            if on_wait is not None and not told:
                on_wait(held.holder)
                told = True
        time.sleep(poll_s)


def _run(r: Any) -> RunRecord:
    return RunRecord(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], json.loads(r[10] or "{}"),
                     r[11], json.loads(r[12]) if r[12] else None, r[13], r[14])


class RunTables:
    db: Db

    def __init__(self) -> None:
        self._held: dict[str, str] = {}  # lock name -> token, refreshed by the heartbeat
        self._held_lock = threading.Lock()
        self._beat_stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.host = process_host()
        self.process = this_process()

    # -- locks --------------------------------------------------------------------------------

    def _stale(self, row: Any) -> bool:
        process, host, heartbeat = row[2], row[3], float(row[4])
        if host == self.host and not process_alive(process):
            return True
        return time.time() - heartbeat > LEASE_S

    def try_lock(self, name: str, label: str, run_id: int | None = None) -> str:
        """Take the lock ``name`` now and return its token, or raise LockHeld with its holder."""
        return self._take(name, label, run_id, None)[0]

    def begin_run(self, name: str, sheet: str, label: str, command: str, trigger: str, started_at: str
                  ) -> tuple[str, int]:
        """Take the lock ``name`` and file a new run holding it, in one transaction (so whoever
        is refused always learns which run holds it).  Returns (token, run id) or raises LockHeld."""
        token, run_id = self._take(name, label, None, (sheet, label, command, trigger, started_at))
        assert run_id is not None
        return token, run_id

    def _take(self, name: str, label: str, run_id: int | None, run: tuple[str, str, str, str, str] | None
              ) -> tuple[str, int | None]:
        token = uuid.uuid4().hex
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        with self.db.write() as cur:
            row = cur.execute("SELECT token, run_id, process, host, heartbeat, label, since FROM locks WHERE name=?",
                              (name,)).fetchone()
            if row is not None and not self._stale(row):
                raise LockHeld(Holder(name, row[1], row[2], row[3], row[5], row[6], float(row[4])))
            if row is not None:  # taken over: the runs of the process that held it did not finish
                cur.execute("UPDATE runs SET status='crashed', error=? WHERE status='running' AND "
                            "(id=? OR (process=? AND host=?))", (CRASHED, row[1], row[2], row[3]))
            if run is not None:
                cur.execute(
                    "INSERT INTO runs(sheet, label, command, trigger, status, stage, started_at, process, host) "
                    "VALUES(?, ?, ?, ?, 'running', 'start', ?, ?, ?)", (*run, self.process, self.host))
                run_id = int(cur.lastrowid or 0)
            cur.execute(
                "INSERT OR REPLACE INTO locks(name, token, run_id, process, host, label, since, heartbeat) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?)", (name, token, run_id, self.process, self.host, label, since, time.time()))
        with self._held_lock:
            self._held[name] = token
        self._start_heartbeat()
        return token, run_id

    def lock(self, name: str, label: str, *, wait: bool, cancelled: Callable[[], bool] = lambda: False,
             poll_s: float = 0.2, on_wait: Callable[[Holder], None] | None = None) -> str:
        """``try_lock``, or with ``wait`` try again every ``poll_s`` until free (or ``cancelled()``)."""
        return waiting(lambda: self.try_lock(name, label), wait=wait, cancelled=cancelled, poll_s=poll_s,
                       on_wait=on_wait)

    def attach_run(self, name: str, token: str, run_id: int) -> None:
        with self.db.write() as cur:
            cur.execute("UPDATE locks SET run_id=? WHERE name=? AND token=?", (run_id, name, token))

    def unlock(self, name: str, token: str) -> None:
        with self._held_lock:
            if self._held.get(name) == token:
                del self._held[name]
        with self.db.write() as cur:
            cur.execute("DELETE FROM locks WHERE name=? AND token=?", (name, token))

    def lock_holder(self, name: str) -> Holder | None:
        row = self.db.one("SELECT token, run_id, process, host, heartbeat, label, since FROM locks WHERE name=?", (name,))
        if row is None or self._stale(row):
            return None
        return Holder(name, row[1], row[2], row[3], row[5], row[6], float(row[4]))

    def _start_heartbeat(self) -> None:
        if self._beat is not None and self._beat.is_alive():
            return
        self._beat_stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="sheets-connector-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._beat_stop.wait(HEARTBEAT_S):
            with self._held_lock:
                held = list(self._held.items())
            if not held:
                continue
            try:
                with self.db.write() as cur:
                    cur.executemany("UPDATE locks SET heartbeat=? WHERE name=? AND token=?",
                                    [(time.time(), n, t) for n, t in held])
            except StateError:
                log.debug("missed a heartbeat (retried; the lease is long)", exc_info=True)

    def stop_heartbeat(self) -> None:
        self._beat_stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
            self._beat = None

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, sheet: str, label: str, command: str, trigger: str, started_at: str) -> int:
        with self.db.write() as cur:
            cur.execute(
                "INSERT INTO runs(sheet, label, command, trigger, status, stage, started_at, process, host) "
                "VALUES(?, ?, ?, ?, 'running', 'start', ?, ?, ?)",
                (sheet, label, command, trigger, started_at, self.process, self.host))
            return int(cur.lastrowid or 0)

    def set_run_stage(self, run_id: int, stage: str) -> None:
        with self.db.write() as cur:
            cur.execute("UPDATE runs SET stage=? WHERE id=?", (stage, run_id))

    def finish_run(self, run_id: int, status: str, *, finished_at: str, duration_s: float,
                   counts: dict[str, int] | None = None, error: str | None = None,
                   summary: dict[str, Any] | None = None) -> None:
        with self.db.write() as cur:
            cur.execute(
                "UPDATE runs SET status=?, stage='done', finished_at=?, duration_s=?, counts=?, error=?, summary=? "
                "WHERE id=?",
                (status, finished_at, round(duration_s, 3), json.dumps(counts or {}), error,
                 json.dumps(summary, ensure_ascii=False, default=str) if summary is not None else None, run_id))

    def list_runs(self, sheet: str | None = None, limit: int = 20) -> list[RunRecord]:
        if sheet is None:
            rows = self.db.query(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self.db.query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE sheet=? ORDER BY id DESC LIMIT ?",
                                 (sheet, limit))
        return [self._alive(_run(r)) for r in rows]

    def get_run(self, run_id: int) -> RunRecord | None:
        row = self.db.one(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id=?", (run_id,))
        return None if row is None else self._alive(_run(row))

    def _alive(self, run: RunRecord) -> RunRecord:
        """A run still marked running whose process is gone is shown as crashed (it is marked so
        for good when the next run of its sheet takes the lock)."""
        if run.status == "running" and run.host == self.host and run.process and not process_alive(run.process):
            run.status = "crashed"
            run.error = CRASHED
        return run
