"""inwise's answers committed to the state store as they arrive, per-row answers as group commits.

Batch mode commits each chunk's answers before the next chunk is sent (``grouped=False``).

Per-row upsert hands each answer over as it arrives and a committer thread commits them: all the
answers waiting when it is free go in one transaction, once ``group`` of them (the concurrency)
are waiting or the oldest has waited ``GATHER_S``; the answers arriving meanwhile go in the next
one.  The send loop itself no longer waits for a commit per row, and a 2,000-row run makes a few
hundred commits instead of one per row.

The loss window stays what it was.  ``InwiseClient.upsert_many`` counts the answers handed over
and not yet committed (``unkept``) against its window of ``2 x concurrency``: a request goes out
only while (requests not yet answered) + (answers not yet committed) is below it, so a kill -9
loses at most ``2 x concurrency`` answers, as when each was committed on its own (their rows are
sent again by the next run, which is safe); and no answer waits more than ``GATHER_S`` plus one
commit.  ``close()`` commits what is left and is called when the send stage ends - normally, on
a stop, a SIGTERM, a lost lock or a hard stop (inside ``critical()``) - so pull, settle and save
only ever see committed answers.

Every commit proves the run's lock (fencing, ``SqlStore._write``).  A store that fails stops
the recording, not the run (see ``_failed``).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from ..cancel import CancelToken
from ..errors import LockLost, StateError, StoreUnreachable
from ..messages.catalog import error_words, said
from ..results import RowOutcome
from .changes import outcome_dict
from .session import RunSession
from .summary import RunSummary

log = logging.getLogger(__name__)

#: The longest an answer waits for its group before it is committed anyway (s).
GATHER_S = 0.05


class AnswerRecorder:
    """``recorder(outcomes)`` keeps inwise's answers; ``close()`` once the send stage ends."""

    def __init__(self, session: RunSession, fingerprints: Mapping[int, str], summary: RunSummary,
                 cancel: CancelToken, *, grouped: bool = False, group: int = 8) -> None:
        self.session, self.fingerprints, self.summary, self.cancel = session, fingerprints, summary, cancel
        self.group = max(1, group)
        self.commits = 0
        self._failed = False
        self._cond = threading.Condition()
        self._queue: list[RowOutcome] = []
        self._oldest = 0.0  # monotonic time the oldest queued answer arrived
        self._committing = 0
        self._closing = False
        self._crash: BaseException | None = None
        self._thread: threading.Thread | None = None
        if grouped:
            self._thread = threading.Thread(target=self._commit_loop, name="sheets-connector-answers", daemon=True)
            self._thread.start()

    # -- the send loop's side ---------------------------------------------------------------------

    def __call__(self, outcomes: list[RowOutcome]) -> None:
        if self._thread is None:
            self._commit(outcomes)
            return
        with self._cond:
            if self._failed or self._closing:
                return
            first = not self._queue
            if first:
                self._oldest = time.monotonic()
            self._queue.extend(outcomes)
            if first or len(self._queue) >= self.group:  # the gather's clock starts, or the group is full
                self._cond.notify_all()

    def unkept(self) -> int:
        """Answers handed over and not yet committed (those of the commit running included)."""
        with self._cond:
            return len(self._queue) + self._committing

    def wait_unkept_below(self, n: int) -> None:
        """Block until fewer than ``n`` answers wait for their commit."""
        with self._cond:
            self._cond.notify_all()  # a full window: commit what waits now
            while len(self._queue) + self._committing >= n and self._thread is not None and self._thread.is_alive():
                self._cond.wait(0.5)

    def close(self) -> None:
        """Commit every answer handed over, then stop the committer.  A hard stop (a second
        Ctrl-C) waits for this (``critical``): the answers must be kept before the run ends."""
        if self._thread is None:
            return
        with self.cancel.critical():
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._thread.join()
        if self._crash is not None:
            raise self._crash

    # -- the committer thread ---------------------------------------------------------------------

    def _commit_loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._cond.wait()
                    while (self._queue and len(self._queue) < self.group and not self._closing
                           and (left := self._oldest + GATHER_S - time.monotonic()) > 0):
                        self._cond.wait(left)
                    if not self._queue:
                        return  # closing, everything committed
                    batch, self._queue = self._queue, []
                    self._committing = len(batch)
                try:
                    self._commit(batch)
                finally:
                    with self._cond:
                        self._committing = 0
                        self._cond.notify_all()
        except BaseException as e:  # a bug: said in the run's own thread by close()
            log.exception("the committer of inwise's answers stopped")
            with self._cond:
                self._crash, self._failed, self._queue = e, True, []
                self._cond.notify_all()

    def _commit(self, outcomes: list[RowOutcome]) -> None:
        if self._failed:
            return
        session = self.session
        try:
            session.store.record_answers(session.ident.sheet, session.run_id, [
                (str(o.key), self.fingerprints[o.row], outcome_dict(o)) for o in outcomes if o.key is not None])
            self.commits += 1
        except (StateError, LockLost) as e:
            self._fail(e)

    def _fail(self, e: BaseException) -> None:
        """If the store fails (disk full), the run goes on: every row still gets its result in the
        sheet; the next run only sends those rows again.  A store out of reach (nowhere to keep
        answers, no proof of the lock) or a lost lock: nothing new is sent (the cancel token) and
        the run's next stage stops it."""
        self._failed = True
        if isinstance(e, StoreUnreachable):
            self.summary.error = str(e)
            self.cancel.cancel("the state store cannot be reached")
        elif isinstance(e, LockLost):
            self.cancel.cancel("this run lost its lock")
        else:
            self.summary.error = said("run.store_failed", error=error_words(e))
        with self._cond:  # after the cancel: the window it frees must not let a request out
            self._queue = []
