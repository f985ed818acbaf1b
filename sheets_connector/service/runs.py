"""Starting, running and stopping syncs in the background.

``RunManager.start`` takes the spreadsheet's lock and files the run ``queued`` in the run
registry (the state store, ``runstore.py``), at once: a menu click, a schedule, a CLI/cron sync
and another replica never run one sheet together, and whoever is refused learns which run holds
it.  Runs go to a bounded pool of worker threads: runs of different spreadsheets go side by side,
up to ``max_parallel``; the rest wait ``queued``, their lock kept by its store's heartbeat.
The sync goes on with that lock and record (``Claim``); a run whose lock was taken over (this
replica went silent past the lease) is stopped.

``shutdown`` (SIGTERM) sets every run's cancel token and waits until each has written its
results and reached a final state.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .. import metrics
from ..cancel import CancelToken
from ..errors import ConnectorError, LockLost, SheetBusy
from ..messages.catalog import Said, error_words, in_language, said
from . import log
from .sheets import Sheet
from .store import Claim, NewRun, Run, Runner, RunProgress, RunResult, RunStore, Trigger

PROGRESS_PAUSE_S = 30.0  # after a failed progress note (the registry unreachable), the next waits this long
LOST_CHECK_S = 0.5  # how often a run's lock is looked at (its store's heartbeat finds a takeover)

# What the service itself says about a run it queued: filed in the words of the sheet's language
CANCELLED_MESSAGE = {"shutdown": said("service.shutdown"), "lock_lost": said("service.lock_lost")}
BUSY_ELSEWHERE = said("service.busy_elsewhere")


def unexpected_error(run_id: str) -> Said:
    return said("service.unexpected", run=run_id)


def _words(text: str, sheet: Sheet) -> str:
    """A run's error as the sheet menu shows it: in the sheet's mapping's language when it is a message."""
    return in_language(text, sheet.language)


class ServiceClosing(Exception):
    """The manager is shutting down and starts no new run."""


@dataclass(frozen=True)
class Started:
    run: Run


@dataclass(frozen=True)
class Busy:
    holder: str  # id of the run that holds the spreadsheet's lock


@dataclass
class _Active:
    sheet: Sheet
    claim: Claim
    cancel: CancelToken
    reason: str = ""


class RunManager:
    def __init__(
        self,
        store: RunStore,
        runner: Runner,
        *,
        max_parallel: int = 2,
        progress_every_s: float = 1.0,
    ) -> None:
        self.store = store
        self._runner = runner
        self._progress_every_s = progress_every_s
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_parallel), thread_name_prefix="sync")
        self._active: dict[str, _Active] = {}
        self._mutex = threading.Lock()
        self._closing = False
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._watch_locks, name="run-lock-watch", daemon=True)
        self._watch.start()

    # -- public -----------------------------------------------------------------------------
    def start(
        self,
        sheet: Sheet,
        *,
        dry_run: bool,
        trigger: Trigger,
        worksheet: str | None = None,
        requested_by: str | None = None,
    ) -> Started | Busy:
        """Queue a run of ``sheet`` unless one is already queued or running (anywhere)."""
        if self._closing:
            raise ServiceClosing()
        claim = self.store.begin(sheet, NewRun(spreadsheet_id=sheet.spreadsheet_id, trigger=trigger, dry_run=dry_run,
                                               worksheet=worksheet, requested_by=requested_by))
        if isinstance(claim, str):
            metrics.LOCK_WAITS.inc()
            return Busy(claim)
        run = claim.run
        try:
            active = _Active(sheet, claim, CancelToken())
            with self._mutex:
                if self._closing:
                    raise ServiceClosing()
                self._active[run.id] = active
                self._pool.submit(self._execute, run, active)
        except BaseException:
            self._record(run.id, state="cancelled", error=_words(CANCELLED_MESSAGE["shutdown"], sheet))
            self.store.end(claim)
            raise
        metrics.QUEUED.inc()
        log.event("run_queued", run_id=run.id, spreadsheet=sheet.spreadsheet_id, trigger=trigger, dry_run=dry_run)
        return Started(run)

    def alive(self) -> bool:
        """For readiness: new runs are taken and the lock watch runs."""
        return not self._closing and self._watch.is_alive()

    def active_runs(self) -> list[str]:
        with self._mutex:
            return list(self._active)

    def shutdown(self) -> None:
        """Cancel every run (queued ones never start) and wait until each has finished writing."""
        with self._mutex:
            self._closing = True
            for a in self._active.values():
                a.reason = a.reason or "shutdown"
                a.cancel.cancel("the sync service is shutting down", by_user=False)
            waiting = list(self._active)
        if waiting:
            log.event("shutdown_waiting", runs=waiting)
        self._pool.shutdown(wait=True)
        self._stop.set()
        self._watch.join()

    # -- inside the worker threads ---------------------------------------------------------------
    def _execute(self, run: Run, active: _Active) -> None:
        t0 = time.monotonic()
        metrics.QUEUED.dec()
        metrics.RUNNING.inc()
        try:
            if active.cancel.is_set():
                self._record(run.id, state="cancelled",
                             error=_words(CANCELLED_MESSAGE[active.reason or "shutdown"], active.sheet))
                return
            self.store.started(active.claim)  # LockLost: taken over while it waited
            with log.run_context(run.id):
                summary = self._runner(active.sheet.config_path, run.dry_run, active.cancel, run.trigger,
                                       self._progress(run.id), worksheet=run.worksheet, claim=active.claim)
            result = RunResult.from_summary(summary)
            if result.interrupted:
                self._record(run.id, state="cancelled", result=result,
                             error=_words(CANCELLED_MESSAGE[active.reason or "shutdown"], active.sheet))
            else:
                self._record(run.id, state="done", result=result)
        except SheetBusy:  # a runner that takes the sheet's lock itself found a CLI/cron run holding it
            metrics.LOCK_WAITS.inc()
            self._record(run.id, state="failed", error=_words(BUSY_ELSEWHERE, active.sheet))
        except LockLost as e:
            self._record(run.id, state="failed", error=_words(error_words(e), active.sheet))
        except ConnectorError as e:
            self._record(run.id, state="failed", error=_words(error_words(e), active.sheet))
        except Exception:  # noqa: BLE001 - any bug becomes a failed run with a plain message
            log.logger.exception('{"event": "run_error", "run_id": "%s"}', run.id)
            self._record(run.id, state="failed", error=_words(unexpected_error(run.id), active.sheet))
        finally:
            self.store.end(active.claim)
            with self._mutex:
                self._active.pop(run.id, None)
            try:
                final = self.store.get_run(run.id)
            except ConnectorError:
                final = None
            counts = final.result.counts if final and final.result else {}
            metrics.RUNNING.dec()
            metrics.record_run(final.state if final else "unknown", run.trigger, counts, time.monotonic() - t0)
            log.event("run", run_id=run.id, spreadsheet=run.spreadsheet_id, trigger=run.trigger, dry_run=run.dry_run,
                      state=final.state if final else None, counts=counts, duration_s=round(time.monotonic() - t0, 3))

    def _record(self, run_id: str, **changes: Any) -> None:
        """File how a run ended; a registry that cannot be reached is logged, never a traceback
        in a worker (the run shows as failed once its lock's lease has run out)."""
        try:
            self.store.update_run(run_id, **changes)
        except ConnectorError:
            log.logger.warning('{"event": "run_not_recorded", "run_id": "%s"}', run_id)

    def _progress(self, run_id: str) -> Callable[[str, int, int | None], None]:
        last = [0.0]

        def report(stage: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now < last[0] or (now - last[0] < self._progress_every_s and done != total):
                return
            last[0] = now
            try:
                self.store.update_run(run_id, progress=RunProgress(stage, done, total))
            except Exception:  # noqa: BLE001 - a missed progress note must not stop (or slow) a sync
                last[0] = time.monotonic() + PROGRESS_PAUSE_S
                log.logger.warning('{"event": "progress_not_saved", "run_id": "%s"}', run_id)

        return report

    def _watch_locks(self) -> None:
        """Stop a run whose lock was taken over (its store's heartbeat or a write found out)."""
        while not self._stop.wait(LOST_CHECK_S):
            with self._mutex:
                active = list(self._active.values())
            for a in active:
                if a.claim.store.lost_lock() and not a.cancel.is_set():
                    a.reason = "lock_lost"
                    a.cancel.cancel("the run lost its lock on the spreadsheet")
