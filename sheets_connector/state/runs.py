"""Run history and run locks, in the store the runs share (a file on one machine, a database for
several).

A lock is a row ``locks(name, token, holder...)``.  Taking it: free, or held by a process that
is gone (same host, see process.py), or whose heartbeat is older than the lease - then it is
taken over, with a new token (and a new, larger grant number).  Writes are optimistic
(``INSERT ... ON CONFLICT DO NOTHING`` / ``UPDATE ... WHERE token=<the one seen>``), so of two
takers on two machines exactly one wins.  Runs found ``running`` when their lock is taken over
did not finish: they are marked ``crashed`` with why.

Fencing: the token is what a takeover invalidates.  Every write the store makes for a run first
proves, in the same transaction, that each lock this store object holds still carries its token
(``_prove``; on PostgreSQL the lock rows are read ``FOR SHARE``, so a takeover waits for that
write).  Writes outside the store (the sheet, the workbook, the new-contacts tab) call
``prove_locks()`` immediately before.  A run whose lock was taken over gets ``LockLost`` there
and writes nothing more; its heartbeat also notices (the renewal is ``WHERE token=...``).

The lease: the holder's heartbeat renews every ``heartbeat_s``; a holder silent for ``lease_s``
is taken for dead.  On one machine (SQLite) a dead holder is seen at once from its process id,
and the lease (``LEASE_S``, long) only covers a holder whose liveness cannot be told.  On a
server (PostgreSQL) the lease is short (``SHARED_LEASE_S``): a killed replica's sheet is free
within that many seconds of its last heartbeat, measured by the database's clock.
``SHEETS_CONNECTOR_LOCK_LEASE_S`` overrides both.
"""
from __future__ import annotations

import getpass
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from ..errors import LockLost, StateError
from ..messages.catalog import Place, msg, said
from .db import process_host
from .model import Holder, LockHeld, QueuedRun, RunRecord
from .process import process_alive, this_process

LEASE_S = 120.0
SHARED_LEASE_S = 12.0
ENV_LEASE = "SHEETS_CONNECTOR_LOCK_LEASE_S"
log = logging.getLogger(__name__)

CRASHED = "the process stopped without finishing (killed, crashed or the computer stopped)"

_RUN_COLUMNS = ("id, sheet, label, command, trigger, status, stage, started_at, finished_at, duration_s, counts, "
                "error, summary, process, host, dry_run, worksheet, requested_by, progress, result, running_at")
_LOCK_COLUMNS = "token, run_id, process, host, heartbeat, label, since, grant_no"


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
                     r[11], json.loads(r[12]) if r[12] else None, r[13], r[14], bool(r[15]), r[16], r[17],
                     json.loads(r[18]) if r[18] else None, json.loads(r[19]) if r[19] else None, r[20])


def _holder(name: str, row: Any) -> Holder:
    return Holder(name, row[1], row[2], row[3], row[5], row[6], float(row[4]), int(row[7] or 0))


def lease_from_env(default: float) -> float:
    try:
        value = float(os.environ.get(ENV_LEASE, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def lost_message(label: str, holder: Holder | None) -> str:
    who = (msg("store.lost_to_run", run=holder.run_id, process=holder.process.split(":")[0], host=holder.host)
           if holder is not None and holder.run_id is not None else msg("store.lost_to_other"))
    return said("store.lost_lock", label=Place(label), who=who)


class RunTables:
    """Run history and locks over ``self.db`` (db.Db or pg.PgDb)."""

    db: Any

    def __init__(self, lease_s: float = LEASE_S) -> None:
        self.lease_s = lease_from_env(lease_s)
        self.heartbeat_s = min(10.0, self.lease_s / 4)
        self._held: dict[str, tuple[str, str]] = {}  # lock name -> (token, label), refreshed by the heartbeat
        self._lost: dict[str, str] = {}  # lock name -> the message a write is refused with
        self._held_lock = threading.Lock()
        self._beat_stop = threading.Event()
        self._beat: threading.Thread | None = None
        self.host = process_host()
        self.process = this_process()

    # -- fencing --------------------------------------------------------------------------------

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[Any]:
        """A write transaction that first proves this store still holds its locks (see above)."""
        with self.db.write(durable=durable) as cur:
            self._prove(cur)
            yield cur

    def _prove(self, cur: Any) -> None:
        with self._held_lock:
            if self._lost:
                raise LockLost(next(iter(self._lost.values())))
            held = dict(self._held)
        if not held:
            return
        names = sorted(held)
        rows = {r[0]: r for r in cur.execute(
            f"SELECT name, {_LOCK_COLUMNS} FROM locks WHERE name IN ({', '.join('?' * len(names))}) ORDER BY name"
            + self.db.row_lock, tuple(names)).fetchall()}
        for name in names:
            token, label = held[name]
            row = rows.get(name)
            if row is None or row[1] != token:
                message = lost_message(label, _holder(name, row[1:]) if row is not None else None)
                with self._held_lock:
                    self._held.pop(name, None)
                    self._lost[name] = message
                raise LockLost(message)

    def lost_lock(self) -> str | None:
        """Why this store's run lost its lock (its heartbeat or a write found it taken over), or None."""
        with self._held_lock:
            return next(iter(self._lost.values()), None)

    def prove_locks(self) -> None:
        """Raise LockLost unless every lock this store holds is still its own (call it right
        before writing anywhere the database cannot check: a sheet, a workbook)."""
        with self.db.write() as cur:
            self._prove(cur)

    # -- locks --------------------------------------------------------------------------------

    def _stale(self, row: Any, now: float) -> bool:
        process, host, heartbeat = row[2], row[3], float(row[4])
        if host == self.host and not process_alive(process):
            return True
        return now - heartbeat > self.lease_s

    def try_lock(self, name: str, label: str, run_id: int | None = None) -> str:
        """Take the lock ``name`` now and return its token, or raise LockHeld with its holder."""
        return self._take(name, label, run_id, None)[0]

    def begin_run(self, name: str, sheet: str, label: str, command: str, trigger: str, started_at: str,
                  *, queued: QueuedRun | None = None) -> tuple[str, int]:
        """Take the lock ``name`` and file a new run holding it, in one transaction (so whoever
        is refused always learns which run holds it).  Returns (token, run id) or raises LockHeld.
        ``queued``: the web service files its run as ``queued`` (``start_queued`` when it starts)."""
        token, run_id = self._take(name, label, None, (sheet, label, command, trigger, started_at), queued)
        assert run_id is not None
        return token, run_id

    def _take(self, name: str, label: str, run_id: int | None, run: tuple[str, str, str, str, str] | None,
              queued: QueuedRun | None = None) -> tuple[str, int | None]:
        token = uuid.uuid4().hex
        since = datetime.now().astimezone().isoformat(timespec="seconds")
        with self.db.write() as cur:
            now = self.db.now(cur)
            row = cur.execute(f"SELECT {_LOCK_COLUMNS} FROM locks WHERE name=?", (name,)).fetchone()
            if row is not None and not self._stale(row, now):
                raise LockHeld(_holder(name, row))
            grant = int(cur.execute(
                "INSERT INTO meta(key, value) VALUES('lock_grants', '1') ON CONFLICT(key) DO UPDATE "
                "SET value=CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) RETURNING value").fetchone()[0])
            values = (token, run_id, self.process, self.host, label, since, now, grant)
            if row is None:
                taken = cur.execute(
                    "INSERT INTO locks(token, run_id, process, host, label, since, heartbeat, grant_no, name) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING", (*values, name)).rowcount
            else:
                taken = cur.execute(
                    "UPDATE locks SET token=?, run_id=?, process=?, host=?, label=?, since=?, heartbeat=?, grant_no=? "
                    "WHERE name=? AND token=?", (*values, name, row[0])).rowcount
            if taken != 1:  # another machine took it between our read and our write
                other = cur.execute(f"SELECT {_LOCK_COLUMNS} FROM locks WHERE name=?", (name,)).fetchone()
                raise LockHeld(_holder(name, other) if other is not None else Holder(
                    name, None, "", "", label, since, now, 0))
            if row is not None:  # taken over: the runs of the process that held it did not finish
                silent = now - float(row[4])
                why = CRASHED if silent <= self.lease_s else (
                    f"the run gave no sign of life for {silent:.0f} s (killed, paused, or cut off from the state "
                    f"store), so another run took its lock over")
                cur.execute("UPDATE runs SET status='crashed', error=? WHERE status IN ('queued', 'running') AND "
                            "(id=? OR (process=? AND host=?))", (why, row[1], row[2], row[3]))
            if run is not None:
                q = queued or QueuedRun()
                run_id = int(cur.execute(
                    "INSERT INTO runs(sheet, label, command, trigger, status, stage, started_at, process, host, "
                    "dry_run, worksheet, requested_by) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (*run[:4], "queued" if queued else "running", "queued" if queued else "start", run[4],
                     self.process, self.host, int(q.dry_run), q.worksheet,
                     q.requested_by if queued else started_by(self.host))).fetchone()[0])
                cur.execute("UPDATE locks SET run_id=? WHERE name=? AND token=?", (run_id, name, token))
        with self._held_lock:
            self._held[name] = (token, label)
            self._lost.pop(name, None)
        self._start_heartbeat()
        return token, run_id

    def lock(self, name: str, label: str, *, wait: bool, cancelled: Callable[[], bool] = lambda: False,
             poll_s: float = 0.2, on_wait: Callable[[Holder], None] | None = None) -> str:
        """``try_lock``, or with ``wait`` try again every ``poll_s`` until free (or ``cancelled()``)."""
        return waiting(lambda: self.try_lock(name, label), wait=wait, cancelled=cancelled, poll_s=poll_s,
                       on_wait=on_wait)

    def attach_run(self, name: str, token: str, run_id: int) -> None:
        with self._write() as cur:
            cur.execute("UPDATE locks SET run_id=? WHERE name=? AND token=?", (run_id, name, token))

    def unlock(self, name: str, token: str) -> None:
        """Give the lock back (a lock already taken over is left to its new holder)."""
        with self._held_lock:
            if self._held.get(name, ("",))[0] == token:
                del self._held[name]
            self._lost.pop(name, None)
        with self.db.write() as cur:
            cur.execute("DELETE FROM locks WHERE name=? AND token=?", (name, token))

    def lock_holder(self, name: str) -> Holder | None:
        row = self.db.one(f"SELECT {_LOCK_COLUMNS} FROM locks WHERE name=?", (name,))
        if row is None or self._stale(row, self.db.now()):
            return None
        return _holder(name, row)

    def _start_heartbeat(self) -> None:
        if self._beat is not None and self._beat.is_alive():
            return
        self._beat_stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="sheets-connector-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._beat_stop.wait(self.heartbeat_s):
            self.renew_locks()

    def renew_locks(self) -> None:
        """Renew the lease of every lock held (only where the token is still ours: a lock taken
        over is not taken back, it is marked lost and the run's next write is refused)."""
        with self._held_lock:
            held = list(self._held.items())
        if not held:
            return
        try:
            with self.db.write() as cur:
                now = self.db.now(cur)
                for name, (token, label) in held:
                    if cur.execute("UPDATE locks SET heartbeat=? WHERE name=? AND token=?",
                                   (now, name, token)).rowcount != 1:
                        row = cur.execute(f"SELECT {_LOCK_COLUMNS} FROM locks WHERE name=?", (name,)).fetchone()
                        with self._held_lock:
                            if self._held.get(name, ("",))[0] == token:
                                del self._held[name]
                                self._lost[name] = lost_message(label, _holder(name, row) if row else None)
                        log.warning("the lock %s was taken over by another run", name)
        except StateError:
            log.debug("missed a heartbeat (retried; the lease is longer)", exc_info=True)

    def stop_heartbeat(self) -> None:
        self._beat_stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
            self._beat = None

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, sheet: str, label: str, command: str, trigger: str, started_at: str) -> int:
        with self._write() as cur:
            return int(cur.execute(
                "INSERT INTO runs(sheet, label, command, trigger, status, stage, started_at, process, host) "
                "VALUES(?, ?, ?, ?, 'running', 'start', ?, ?, ?) RETURNING id",
                (sheet, label, command, trigger, started_at, self.process, self.host)).fetchone()[0])

    def start_queued(self, run_id: int, at: str) -> None:
        """A queued run leaves the queue (proving it still holds its lock)."""
        with self._write() as cur:
            cur.execute("UPDATE runs SET status='running', stage='start', running_at=? WHERE id=? AND status='queued'",
                        (at, run_id))

    def update_service_run(self, run_id: int, *, status: str | None = None, finished_at: str | None = None,
                           result: dict[str, Any] | None = None, error: str | None = None,
                           progress: dict[str, Any] | None = None) -> None:
        """What the web service adds to its run: its final state, the result the sheet shows, progress."""
        sets: dict[str, Any] = {}
        if status is not None:
            sets["status"] = status
            sets["stage"] = "done"
        if finished_at is not None:
            sets["finished_at"] = finished_at
        if result is not None:
            sets["result"] = json.dumps(result, ensure_ascii=False, default=str)
        if error is not None:
            sets["error"] = error
        if progress is not None:
            sets["progress"] = json.dumps(progress)
        if not sets:
            return
        with self._write() as cur:
            cur.execute(f"UPDATE runs SET {', '.join(k + '=?' for k in sets)} WHERE id=?", (*sets.values(), run_id))

    def claim_slot(self, sheet: str, slot: str) -> bool:
        """True for the one caller in the fleet that claims this schedule slot of this sheet."""
        with self._write() as cur:
            return bool(cur.execute(
                "INSERT INTO slots(sheet, slot, claimed_at, host) VALUES(?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sheet, slot, datetime.now().astimezone().isoformat(timespec="seconds"), self.host)).rowcount == 1)

    def seen(self, key: str, expires_at: float, now: float) -> bool:
        """The webhook replay guard: record ``key`` until ``expires_at``; True if it was already
        recorded (of two concurrent callers with one key, on any machine, exactly one gets False)."""
        with self._write() as cur:
            cur.execute("DELETE FROM seen WHERE key=? AND expires_at <= ?", (key, now))
            return cur.execute("INSERT INTO seen(key, expires_at) VALUES(?, ?) ON CONFLICT DO NOTHING",
                               (key, expires_at)).rowcount != 1

    def forget_seen(self, now: float) -> None:
        with self._write() as cur:
            cur.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))

    def ping(self) -> bool:
        """Readiness: the database answers (quickly)."""
        return bool(self.db.ping())

    def set_run_stage(self, run_id: int, stage: str) -> None:
        with self._write() as cur:
            cur.execute("UPDATE runs SET stage=? WHERE id=?", (stage, run_id))

    def finish_run(self, run_id: int, status: str, *, finished_at: str, duration_s: float,
                   counts: dict[str, int] | None = None, error: str | None = None,
                   summary: dict[str, Any] | None = None) -> None:
        with self._write() as cur:
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
        if run.status in ("queued", "running") and run.host == self.host and run.process and not process_alive(run.process):
            run.status = "crashed"
            run.error = CRASHED
        return run


def started_by(host: str) -> str | None:
    """Who started a run from a shell, cron or Task Scheduler: the account and the machine, as the
    sheet menu shows it ("from the command line by dana on office-pc").  None if the account is unknown."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no account name (a container without a passwd entry): say nothing
        return None
    return f"{user} on {host}" if host else user
