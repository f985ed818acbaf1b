"""What a run is given (``Collaborators``: table, state store, inwise client factory, environment,
clock, progress, cancel token, callbacks) and ``Run``, one run's view of them with its options
(trigger, wait) and what it has learnt so far (the store it opened, its start time).

The CLI, the web service, the scheduler, the demo and the tests each build their own
``Collaborators``; everything left out has a default that opens the real thing from the config.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from ..cancel import CancelToken
from ..config import Config
from ..errors import ConfigError, StateError
from ..inwise import InwiseClient
from ..messages.catalog import error_words, said
from ..state import StateStore, account_id, open_store
from ..tables.base import Table
from .session import RunSession, run_session
from .summary import Progress

Clock = Callable[[], datetime]


def now() -> datetime:
    """The default clock (looked up at call time, so a test can freeze it)."""
    return datetime.now()

ClientFactory = Callable[[Config], InwiseClient]


def make_client(config: Config, environ: Mapping[str, str] | None = None) -> InwiseClient:
    iw = config.inwise
    return InwiseClient(
        iw.base_url,
        config.api_key(dict(environ) if environ is not None else None),
        policy=iw.retry_policy(),
        pool_size=max(iw.concurrency, 2),
        api_key_source=iw.api_key_env,
    )


@dataclass(frozen=True)
class Collaborators:
    """What ``sync`` and ``pull_new`` work with instead of their defaults.  Leave a field out and the
    run opens the real thing from the config; a test or a host injects what it wants to control.

    - ``table``: the sheet or workbook (default ``config.open_table()``).
    - ``store``: an open state store, left open for the caller (default: the config's store,
      opened and closed by the run).  ``claim``: (lock token, run id) of a run the web service
      queued in that ``store``; it already holds the sheet's lock, so the run takes no second
      lock and files no second record.
    - ``client_factory``: makes the inwise client from the config (default ``make_client``).
    - ``environ``: where the API key is read (default ``os.environ``).
    - ``clock``: the time written into results and the run's record (default ``datetime.now``).
    - ``progress``: told each stage's progress.  ``cancel``: stops the run gracefully (rows on
      their way finish, every result is written); default: a token of the run's own.
    - ``on_wait(message)``: told once when the run waits for another that holds the sheet.
    - ``on_warning(message)``: told each warning known before anything is sent (they are in
      the summary's warnings too).
    """

    table: Table | None = None
    store: StateStore | None = None
    claim: tuple[str, int] | None = None
    client_factory: ClientFactory | None = None
    environ: Mapping[str, str] | None = None
    clock: Clock = now
    progress: Progress | None = None
    cancel: CancelToken | None = None
    on_wait: Callable[[str], None] | None = None
    on_warning: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.claim is not None and self.store is None:
            raise ValueError("Collaborators: a claim is a lock held in a store; pass that store too")


@dataclass
class Run:
    """One run: its config, what it was given, its options (``trigger``: who started it - cli,
    menu, schedule; ``wait``: wait for another run holding the sheet instead of raising
    ``SheetBusy``), and what it has learnt so far (the store it opened, its start)."""

    config: Config
    given: Collaborators = field(default_factory=Collaborators)
    trigger: str = "cli"
    wait: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)
    store: StateStore | None = None
    t0: float = field(default_factory=time.monotonic)
    _own_store: bool = False

    @classmethod
    def of(cls, config: Config, given: Collaborators | None, *, trigger: str, wait: bool) -> Run:
        given = given or Collaborators()
        return cls(config, given, trigger, wait, given.cancel or CancelToken(), given.store)

    @property
    def clock(self) -> Clock:
        return self.given.clock

    @property
    def progress(self) -> Progress | None:
        return self.given.progress

    @property
    def environ(self) -> Mapping[str, str] | None:
        return self.given.environ

    def open_store(self) -> StateStore:
        if self.store is None:
            try:
                self.store = open_store(self.config.state_dir_path(), mapping_url=self.config.state_url_resolved())
            except StateError as e:
                raise StateError(said("store.nothing_done", error=error_words(e))) from None
            self._own_store = True
        return self.store

    def close_store(self) -> None:
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None

    def account(self) -> str:
        """The inwise account the feed belongs to (base URL + key; the key itself is never kept)."""
        try:
            key = self.config.api_key(dict(self.environ) if self.environ is not None else None)
        except ConfigError:
            if self.given.client_factory is None:
                raise
            key = ""  # a client factory brings its own key: the base URL names the account
        return account_id(self.config.inwise.base_url, key)

    def open_client(self) -> InwiseClient:
        if self.given.client_factory is not None:
            return self.given.client_factory(self.config)
        return make_client(self.config, self.environ)

    def frame(self, command: str, table: Table) -> AbstractContextManager[RunSession]:
        """The run's lock and history record (see session.py)."""
        account = self.account()  # a missing API key is said before anything else
        return run_session(self.config, self.open_store(), account, command=command, trigger=self.trigger,
                           wait=self.wait, cancel=self.cancel, clock=self.clock,
                           workbook_path=getattr(table, "path", None), on_wait=self.given.on_wait,
                           claim=self.given.claim)


