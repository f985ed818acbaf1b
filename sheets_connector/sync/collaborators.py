"""The collaborators of a run (table, state store, inwise client, clock, progress, cancel token)
and what the CLI, the web service and the scheduler each pass in."""
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
from ..state import StateStore, account_id, open_store
from ..tables.base import Table
from .session import NOTHING_DONE, RunSession, run_session
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


@dataclass
class Run:
    """The collaborators of one run, and what it has learnt so far."""

    config: Config
    table: Table | None = None
    store: StateStore | None = None
    client_factory: ClientFactory | None = None
    environ: Mapping[str, str] | None = None
    clock: Clock = now
    progress: Progress | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    trigger: str = "cli"
    wait: bool = False
    on_wait: Callable[[str], None] | None = None
    on_warning: Callable[[str], None] | None = None  # told each warning known before anything is sent
    claim: tuple[str, int] | None = None  # (token, run id) of a queued service run holding the lock in ``store``
    t0: float = field(default_factory=time.monotonic)
    _own_store: bool = False

    def open_store(self) -> StateStore:
        if self.store is None:
            try:
                self.store = open_store(self.config.state_dir_path(), mapping_url=self.config.state_url_resolved())
            except StateError as e:
                raise StateError(f"{e}\n{NOTHING_DONE}") from None
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
            if self.client_factory is None:
                raise
            key = ""  # a client factory brings its own key: the base URL names the account
        return account_id(self.config.inwise.base_url, key)

    def open_client(self) -> InwiseClient:
        if self.client_factory is not None:
            return self.client_factory(self.config)
        return make_client(self.config, self.environ)

    def frame(self, command: str, table: Table) -> AbstractContextManager[RunSession]:
        """The run's lock and history record (see session.py)."""
        account = self.account()  # a missing API key is said before anything else
        return run_session(self.config, self.open_store(), account, command=command, trigger=self.trigger,
                           wait=self.wait, cancel=self.cancel, clock=self.clock,
                           workbook_path=getattr(table, "path", None), on_wait=self.on_wait, claim=self.claim)


