"""What must outlive a process, behind one small interface.

``StateStore`` is everything a run keeps: the once-only new-contacts feed of each inwise account
(raw answers, kept before they are read), which of those contacts each sheet received, per row
the fingerprint and outcome of its last sync, the run history and the run locks.  The pipeline
(``sync/``) only talks to these protocols; ``SqliteStore`` (one SQLite file, WAL: one machine)
and ``PostgresStore`` (a server: several machines, replicas, cron jobs) implement them with the
same statements and pass one contract suite (tests/test_state.py).  ``open_store`` picks one
from a URL (location.py).  The web service needs only ``RunStore`` (history and locks).

Deleting the store loses nothing that cannot be rebuilt: the next run is a full run (every row
sent again) and the new-contacts tab is checked for ids already there.
"""
from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from . import feed
from .journal import PulledStore, import_journal
from .location import ENV_URL, STORE_FILE, account_id, default_dir, is_postgres, sqlite_path, state_url, store_path
from .model import FeedAnswer, Holder, LockHeld, QueuedRun, RowRecord, RunRecord
from .store import PostgresStore, SqliteStore, SqlStore

__all__ = [
    "ENV_URL",
    "STORE_FILE",
    "FeedAnswer",
    "FeedStore",
    "Holder",
    "LockHeld",
    "PostgresStore",
    "PulledStore",
    "QueuedRun",
    "RowRecord",
    "RowStore",
    "RunRecord",
    "RunStore",
    "SqlStore",
    "SqliteStore",
    "StateStore",
    "account_id",
    "default_dir",
    "feed",
    "import_journal",
    "is_postgres",
    "open_store",
    "open_url",
    "sqlite_path",
    "state_url",
    "store_path",
]


class FeedStore(Protocol):
    """An account's once-only feed, and its delivery to each sheet."""

    def ensure_room(self, needed: int, grow: int | None = None) -> None:
        """Raise StateError unless the store can take ``needed`` more bytes."""

    def feed_request_started(self, account: str, run_id: int | None) -> None: ...

    def feed_request_ended(self, account: str) -> None: ...

    def take_interrupted_feed_request(self, account: str) -> tuple[int | None, str] | None:
        """A feed request whose process died before its answer was kept: (run id, started at)."""

    def add_feed_answer(self, account: str, raw: bytes, *, run_id: int | None = None,
                        origin: str = "inwise", received: float | None = None) -> FeedAnswer:
        """Keep the raw bytes durably, then read the contacts in them."""

    def reparse_feed(self, account: str) -> list[FeedAnswer]:
        """Read again answers kept but not (fully) read; returns those that gave more contacts."""

    def newest_feed_contact(self, account: str) -> int | None:
        """The highest numeric contact id this store has read from the account's feed."""

    def kept_contacts(self, account: str, ids: Iterable[str]) -> set[str]:
        """Which of these contact ids this store has read from the account's feed."""

    def register_sheet(self, sheet: str, account: str) -> None:
        """From now on, this sheet receives the account's new contacts."""

    def register_sheet_from(self, sheet: str, account: str, answer_id: int) -> None:
        """The sheet receives the account's answers from ``answer_id`` on (an imported journal)."""

    def iter_pending(self, sheet: str, account: str) -> Iterator[dict[str, Any]]:
        """The account's kept contacts not yet delivered to this sheet, in the order kept."""

    def iter_pending_at(self, sheet: str, account: str, known: Container[int] = (), *, canonical: bool = True
                        ) -> Iterator[tuple[int, int, Any]]:
        """(answer id, position, contact) of each, the contact None for the answers in ``known``
        (``canonical`` False: the item as inwise sent it)."""

    def commit_saved(self, sheet: str, account: str | None, run_id: int | None, keys: Iterable[str],
                     delivered: Iterable[object]) -> None:
        """After a save: these rows show their status, these contacts are in the sheet."""


class RowStore(Protocol):
    """Per sheet and row key: the last payload inwise answered, the answer, what the sheet shows."""

    def row_records(self, sheet: str) -> dict[str, RowRecord]: ...

    def record_answers(self, sheet: str, run_id: int | None,
                       answers: Sequence[tuple[str, str, dict[str, Any]]]) -> None: ...

    def record_statuses(self, sheet: str,
                        statuses: Sequence[tuple[str, str, str | None, dict[str, Any] | None]]) -> None:
        """Before a save: (key, status text, synced at, settled outcome or None) per row."""


class RunStore(Protocol):
    """Run history and run locks (what the web service shares with the CLI)."""

    def try_lock(self, name: str, label: str, run_id: int | None = None) -> str:
        """Take a lock now (returns its token) or raise LockHeld."""

    def prove_locks(self) -> None:
        """Raise LockLost unless this store still holds every lock it took (fencing)."""

    def lock(self, name: str, label: str, *, wait: bool, cancelled: Callable[[], bool] = ...,
             poll_s: float = ..., on_wait: Callable[[Holder], None] | None = None) -> str: ...

    def begin_run(self, name: str, sheet: str, label: str, command: str, trigger: str, started_at: str,
                  *, queued: QueuedRun | None = None) -> tuple[str, int]:
        """Take the lock ``name`` and file a run holding it, atomically: (token, run id) or LockHeld."""

    def attach_run(self, name: str, token: str, run_id: int) -> None: ...

    def unlock(self, name: str, token: str) -> None: ...

    def lock_holder(self, name: str) -> Holder | None: ...

    def start_run(self, sheet: str, label: str, command: str, trigger: str, started_at: str) -> int: ...

    def start_queued(self, run_id: int, at: str) -> None: ...

    def set_run_stage(self, run_id: int, stage: str) -> None: ...

    def finish_run(self, run_id: int, status: str, *, finished_at: str, duration_s: float,
                   counts: dict[str, int] | None = None, error: str | None = None,
                   summary: dict[str, Any] | None = None) -> None: ...

    def list_runs(self, sheet: str | None = None, limit: int = 20) -> list[RunRecord]: ...

    def get_run(self, run_id: int) -> RunRecord | None: ...


class StateStore(FeedStore, RowStore, RunStore, Protocol):
    path: Path
    url: str

    def meta_get(self, key: str) -> str | None: ...

    def meta_set(self, key: str, value: str) -> None: ...

    def feed_answers(self, account: str | None = None, *, problems_only: bool = False) -> list[FeedAnswer]: ...

    def close(self) -> None: ...


def open_url(url: str) -> SqlStore:
    """The store a URL names (location.py): PostgreSQL, else a SQLite file."""
    return PostgresStore(url) if is_postgres(url) else SqliteStore(sqlite_path(url))


def open_store(state_dir: Path | None = None, environ: Mapping[str, str] | None = None, *,
               url: str | None = None, mapping_url: str | None = None) -> SqlStore:
    """The store named by ``url`` (--state-url), the environment, the mapping's ``state_url``,
    else the file in ``state_dir`` (from the mapping), else the per-user one."""
    return open_url(state_url(url, mapping_url, state_dir, environ))
