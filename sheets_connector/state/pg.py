"""The state store's database on a PostgreSQL server: what several machines share.

Same tables and statements as the SQLite file (the store's SQL is written once, with ``?``
placeholders, in the subset both engines speak: ``ON CONFLICT``, ``RETURNING``); this module
adapts them for psycopg 3 and keeps a small psycopg_pool of connections, checked before use,
so a restarted server costs one failed statement, not a dead process.

What changes with a server:
- Writes are transactions on whichever pooled connection is free; the lock rows a run holds
  are read ``FOR SHARE`` in each of its writes (fencing, see runs.py), so a takeover waits for
  a write that proved its lock, and a write after a takeover is refused.
- Leases are measured by the server's clock (``clock_timestamp()``), so machines with skewed
  clocks agree on who is dead.
- No room check: the server manages its disk.  Commits are durable (the server's
  ``synchronous_commit``).
- A lost connection (server restarted, network cut) is a StateError in plain words; nothing
  waits longer than ``CONNECT_TIMEOUT_S`` for the server.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import StateError, StoreUnreachable
from ..messages.catalog import Msg, msg, said
from .schema import migrate

CONNECT_TIMEOUT_S = 5
# A process paused (SIGSTOP, a laptop lid) in the middle of a transaction keeps its row locks
# while its connection lives: the server ends such a session after a few seconds, so a takeover
# is never blocked by it; and no statement waits on a lock for long.
SESSION_OPTIONS = "-c idle_in_transaction_session_timeout=4000 -c lock_timeout=15000"
POOL_TIMEOUT_S = 10.0
POOL_MAX = 6
DOWN_TIMEOUT_S = 1.0


def redacted(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


@functools.lru_cache(maxsize=512)
def _sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def describe(e: BaseException) -> str:
    text = (str(e) or type(e).__name__).strip().splitlines()[0]
    low = text.lower()
    if "timeout" in low or "connection" in low or "terminat" in low or "server closed" in low or "shutdown" in low:
        return said("store.pg_unreachable", text=text)
    if "password" in low or "authentication" in low or "role" in low:
        return said("store.pg_refused", text=text)
    if "does not exist" in low and "database" in low:
        return said("store.pg_missing", text=text)
    return text


class PgCursor:
    """A psycopg cursor that takes the store's ``?`` placeholders."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, args: Sequence[Any] = ()) -> PgCursor:
        self._cur.execute(_sql(sql), tuple(args))
        return self

    def executemany(self, sql: str, rows: Any) -> PgCursor:
        rows = [tuple(r) for r in rows]
        if len(rows) == 1:
            self._cur.execute(_sql(sql), rows[0])
        elif rows:
            self._cur.executemany(_sql(sql), rows)
            # psycopg pipelines executemany, and after a pipeline the server does not start
            # idle_in_transaction_session_timeout until the next plain statement: without this
            # one, a process paused here (SIGSTOP, a laptop lid) would keep its row locks and
            # block every takeover.
            self._cur.execute("SELECT 1")
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


class PgDb:
    """A pool of connections to the store's PostgreSQL database (same interface as db.Db)."""

    engine = "postgresql"
    row_lock = " FOR SHARE"
    arrays = True  # a list goes as one array parameter (``= ANY(?)``, ``unnest(?)``): one statement

    def __init__(self, url: str) -> None:
        import psycopg
        import psycopg.errors
        from psycopg_pool import ConnectionPool, PoolTimeout

        self._errors: tuple[type[BaseException], ...] = (psycopg.Error, PoolTimeout)
        # the server ending a session idle in a transaction (this process was paused) is a lost
        # connection too: the run must stop sending, not carry on without its answers kept
        self._lost_server: tuple[type[BaseException], ...] = (
            psycopg.OperationalError, PoolTimeout, psycopg.errors.IdleInTransactionSessionTimeout)
        self._make_pool = ConnectionPool
        self._pool_lock = threading.Lock()
        self._reset = False
        self._down = False
        self.url = url
        self.where = redacted(url)
        pool_log = logging.getLogger("psycopg.pool")
        if pool_log.level == logging.NOTSET:  # its retries are ours to word (StateError), not a stream of warnings
            pool_log.setLevel(logging.ERROR)
        try:  # one plain connection first: a wrong URL is said at once, in the server's words
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except psycopg.Error as e:
            raise self.error(msg("store.cannot_open"), e) from None
        self.pool = self._new_pool()
        try:
            self.pool.open(wait=True, timeout=POOL_TIMEOUT_S)
            with self.write() as cur:
                migrate(cur, self.engine, self.where)
        except self._errors as e:
            self.pool.close()
            raise self.error(msg("store.cannot_open"), e) from None
        except StateError:
            self.pool.close()
            raise

    def _new_pool(self) -> Any:
        return self._make_pool(
            self.url, min_size=1, max_size=POOL_MAX, timeout=POOL_TIMEOUT_S, open=False, name="sheets-connector-state",
            check=self._make_pool.check_connection, reconnect_timeout=POOL_TIMEOUT_S,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "sheets-connector",
                    "options": SESSION_OPTIONS})

    def _connection(self, timeout: float | None = None) -> Any:
        """A pooled connection.  After the server was lost (restarted, network cut) the pool is
        made anew, so the next statement connects at once instead of after the old pool's backoff;
        while it stays lost, each statement gives up after ``DOWN_TIMEOUT_S`` (no run crawls)."""
        if timeout is None and self._down:
            timeout = DOWN_TIMEOUT_S
        with self._pool_lock:
            if self._reset:
                old, self.pool = self.pool, self._new_pool()
                self._reset = False
                self.pool.open(wait=False)
                old.close(timeout=0)
            pool = self.pool
        return pool.connection(timeout=timeout)

    def _failed(self, e: BaseException) -> None:
        if isinstance(e, self._lost_server):
            with self._pool_lock:
                self._reset = True
                self._down = True

    def _ok(self) -> None:
        self._down = False

    def error(self, what: Msg, e: BaseException) -> StateError:
        kind = StoreUnreachable if isinstance(e, self._lost_server) else StateError
        return kind(said("store.shared_error", path=self.where, what=what, said=describe(e)))

    @contextmanager
    def write(self, *, durable: bool = False) -> Iterator[PgCursor]:
        """One transaction: committed on exit, rolled back on error (every commit is durable)."""
        try:
            with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield PgCursor(cur)
            self._ok()
        except self._errors as e:
            self._failed(e)
            raise self.error(msg("store.cannot_write"), e) from e

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        try:
            with self._connection() as conn:
                rows = list(conn.execute(_sql(sql), args).fetchall())
            self._ok()
            return rows
        except self._errors as e:
            self._failed(e)
            raise self.error(msg("store.cannot_read"), e) from e

    def one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        rows = self.query(sql, args)
        return rows[0] if rows else None

    def ping(self, timeout: float = 2.0) -> bool:
        """Readiness: the server answers within ``timeout`` seconds."""
        try:
            with self._connection(timeout) as conn:
                conn.execute("SELECT 1")
        except self._errors as e:
            self._failed(e)
            return False
        self._ok()
        return True

    def now(self, cur: PgCursor | None = None) -> float:
        sql = "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8"
        row = cur.execute(sql).fetchone() if cur is not None else self.one(sql)
        return float(row[0])

    def ensure_room(self, needed: int, grow: int) -> None:
        """The server manages its disk (a full one fails the next commit, which says so)."""

    def close(self) -> None:
        with self._pool_lock:
            self.pool.close()
