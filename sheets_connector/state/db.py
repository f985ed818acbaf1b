"""The SQLite file under the state store: connection, schema, transactions, room to spare.

One file (WAL mode) shared by every process of the user: several syncs of different sheets may
run at once, each writing in short ``BEGIN IMMEDIATE`` transactions (SQLite serialises them;
a writer waits up to ``BUSY_TIMEOUT_S`` for another).  Commits are ``synchronous=NORMAL``: they
survive a killed process (the WAL is written at each commit); a power cut can undo those made
since the last checkpoint's fsync (never damaging the file): rows' answers, which only means
their rows are sent again.  ``durable()`` transactions (feed answers, once-only) are fsynced,
so they survive a power cut, and so does everything committed before them.  An fsync per commit
costs ~7 ms on this kind of disk against ~0.1 ms, so rows keep NORMAL.  WAL needs a local disk:
do not put the store on a network share.

Room to spare: ``ensure_room(n)`` makes sure the file can grow by ``n`` bytes *before* the
caller asks inwise for something it must keep.  It grows the file with a throw-away blob and
frees it again: the freed pages stay in the file and the WAL keeps its size, so the next
commits reuse them instead of needing new disk space.  A full disk, a quota, a file-size limit
or a read-only folder therefore fail here, before anything is lost.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StateError
from ..messages.catalog import Msg, msg, said
from .schema import migrate

BUSY_TIMEOUT_S = 30.0
MIN_FREE_DISK = 32 * 1024 * 1024  # the folder's disk must keep this much free besides the reserve


def _mb(n: int) -> str:
    return f"{-(-max(n, 0) // (1024 * 1024))} MB"


BUSY = said("store.busy")


def describe_error(e: BaseException) -> str:
    """Plain words for what SQLite or the OS said."""
    text = str(e) or type(e).__name__
    low = text.lower()
    if "full" in low or "no space" in low or "file too large" in low:
        return said("store.full")
    if "readonly" in low or "read-only" in low or "permission" in low or "unable to open" in low:
        return said("store.read_only")
    if "disk i/o" in low:
        return said("store.io")
    if "locked" in low or "busy" in low:
        return BUSY
    return text


class Db:
    """One connection (shared by the threads of a process, behind a lock) to the store file."""

    engine = "sqlite"
    row_lock = ""  # BEGIN IMMEDIATE already keeps every other writer out
    arrays = False  # no array parameters: a list is written with executemany, or as JSON (``json_lists``)
    # SQLite's json_each (built in since 3.38, and in most builds before): a long list of ids or
    # keys goes as one JSON text read by one statement, a third of executemany's time per row
    json_lists = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                        check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            raise self.error(msg("store.cannot_open"), e) from None
        try:
            self._enter_wal()
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.json_lists = _has_json_each(self.conn)
            with self.write() as cur:
                migrate(cur, self.engine, str(path))
        except (sqlite3.Error, StateError) as e:
            self.conn.close()
            if isinstance(e, StateError) and "newer version" in str(e):
                raise
            cause = e.__cause__ if isinstance(e, StateError) and e.__cause__ else e
            raise self.error(msg("store.cannot_open"), cause) from None

    def _enter_wal(self) -> None:
        # Switching a new file to WAL needs it alone, and SQLite answers "locked" at once (its busy
        # handler is not called for this) when another process or thread opens it at that moment:
        # wait for it here as any other writer waits.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.002
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as e:
                if describe_error(e) != BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    def error(self, what: Msg, e: BaseException) -> StateError:
        happened = describe_error(e)
        if happened == BUSY:  # not a disk problem: another process holds it
            advice = msg("store.advice_busy")
        else:
            advice = msg("store.advice_room")
        return StateError(said("store.error", path=str(self.path), what=what, said=happened, advice=advice))

    @contextmanager
    def write(self, *, durable: bool = False) -> Iterator[sqlite3.Cursor]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on exit, rolled back on error.
        ``durable`` fsyncs the commit (it survives a power cut, not only a killed process)."""
        with self._lock:
            if durable:
                self.conn.execute("PRAGMA synchronous=FULL")
            cur = self.conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException as e:
                if self.conn.in_transaction:
                    self.conn.rollback()
                if isinstance(e, sqlite3.Error):
                    raise self.error(msg("store.cannot_write"), e) from e
                raise
            finally:
                cur.close()
                if durable:
                    self.conn.execute("PRAGMA synchronous=NORMAL")

    def now(self, cur: Any = None) -> float:
        """The clock leases are measured by (one machine's: SQLite is shared on one disk only)."""
        return time.time()

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            self.one("SELECT 1 FROM meta LIMIT 1")
        except sqlite3.Error:
            return False
        return True

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self.conn.execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            return self.conn.execute(sql, args).fetchone()

    # -- room to spare ----------------------------------------------------------------------

    def free_in_file(self) -> int:
        """Bytes of free pages inside the file (reused by the next commits before it grows)."""
        pages = self.one("PRAGMA freelist_count")[0]
        return int(pages) * int(self.one("PRAGMA page_size")[0])

    def ensure_room(self, needed: int, grow: int) -> None:
        """Make sure the next commits can take ``needed`` bytes; else grow the file by ``grow``
        (at least ``needed``).  Raises StateError when the disk (or a quota, a file-size limit)
        cannot give it."""
        grow = max(grow, needed)
        wanted = _mb(grow + MIN_FREE_DISK)
        try:
            if self.free_in_file() >= needed:
                return
            free_disk = shutil.disk_usage(self.path.parent).free
            if free_disk < grow + MIN_FREE_DISK:
                raise StateError(said("store.no_room", path=str(self.path), wanted=wanted, grow=_mb(grow),
                                      spare=_mb(MIN_FREE_DISK), free=_mb(free_disk),
                                      more=_mb(grow + MIN_FREE_DISK - free_disk)))
            with self.write() as cur:
                cur.execute("INSERT INTO reserve(b) VALUES (zeroblob(?))", (grow,))
            with self.write() as cur:
                cur.execute("DELETE FROM reserve")
            with self._lock:
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.Error, OSError, StateError) as e:
            if isinstance(e, StateError) and e.__cause__ is None:
                raise  # the disk's free space, said above
            cause = e.__cause__ if isinstance(e, StateError) and e.__cause__ else e
            raise StateError(said("store.cannot_grow", path=str(self.path), grow=_mb(grow), said=describe_error(cause),
                                  wanted=wanted)) from None

    def close(self) -> None:
        with self._lock:
            try:
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass
            self.conn.close()


def _has_json_each(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT count(*) FROM json_each(?)", ('["a","b"]',)).fetchone()[0] == 2
    except sqlite3.Error:
        return False


ENV_HOST = "SHEETS_CONNECTOR_HOSTNAME"  # the name locks and runs are filed under (a pod's name, say)


def process_host() -> str:
    if os.environ.get(ENV_HOST):
        return os.environ[ENV_HOST]
    try:
        return os.uname().nodename
    except AttributeError:  # Windows
        return os.environ.get("COMPUTERNAME", "this computer")
