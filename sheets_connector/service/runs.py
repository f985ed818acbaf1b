"""Starting, running and stopping syncs in the background.

``RunManager.start`` takes the spreadsheet's run lock in the store (so a menu click, a
schedule and another service instance never run one sheet at once), records the run and hands
it to a bounded pool of worker threads: runs of different spreadsheets go side by side, up to
``max_parallel``; the rest wait in state ``queued``.  While a run is queued or running, a
heartbeat renews its lock's lease; a lock whose instance died expires and is taken over.

The state store's lock is the authority over a sheet: ``sync`` takes it in the worker thread,
so a CLI or cron run and a service run never write one sheet at once.  ``start`` looks there
too (``SheetHistory.holder``) and answers ``Busy`` with the outside run's name; a CLI run that
takes the sheet while a service run is still queued makes that run fail with ``BUSY_ELSEWHERE``.

``shutdown`` (SIGTERM) sets every run's cancel token and waits until each has written its
results and reached a final state.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..cancel import CancelToken
from ..errors import ConnectorError, SheetBusy
from . import log
from .history import SheetHistory
from .sheets import Sheet
from .store import NewRun, Run, Runner, RunProgress, RunResult, RunStore, Trigger

CANCELLED_MESSAGE = {
    "shutdown": "Stopped because the sync service was shutting down. Rows already sent have their result; "
                "run the sync again for the rest.",
    "lock_lost": "Stopped because this run lost its lock on the spreadsheet (the service was too busy to renew it). "
                 "Rows already sent have their result; run the sync again for the rest.",
}


BUSY_ELSEWHERE = ("Not started: another sync of this spreadsheet was already running outside the sheet menu "
                  "(from the command line, cron or another scheduler). Nothing was sent. Try again when it has "
                  "finished; inwise > Last sync result shows how it went.")


def unexpected_error(run_id: str) -> str:
    return (f"The sync stopped on an unexpected error. Rows already sent keep their result. "
            f"The service's administrator can find the details in its log (run {run_id}).")


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
    cancel: CancelToken
    reason: str = ""


class RunManager:
    def __init__(
        self,
        store: RunStore,
        runner: Runner,
        *,
        max_parallel: int = 2,
        lease_s: float = 60.0,
        progress_every_s: float = 1.0,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        history: SheetHistory | None = None,
    ) -> None:
        self.store = store
        self.history = history  # the state store's lock and run history (None: the run store only)
        self._runner = runner
        self._lease_s = lease_s
        self._progress_every_s = progress_every_s
        self._new_id = new_id
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_parallel), thread_name_prefix="sync")
        self._active: dict[str, _Active] = {}
        self._mutex = threading.Lock()
        self._closing = False
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="run-lock-heartbeat", daemon=True)
        self._heartbeat.start()

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
        run_id = self._new_id()
        holder = self.store.try_acquire(sheet.spreadsheet_id, run_id, self._lease_s)
        if holder is not None:
            return Busy(holder)
        outside = self._held_outside(sheet)
        if outside is not None:
            self.store.release(sheet.spreadsheet_id, run_id)
            return Busy(outside)
        try:
            run = self.store.create_run(NewRun(id=run_id, spreadsheet_id=sheet.spreadsheet_id, trigger=trigger,
                                               dry_run=dry_run, worksheet=worksheet, requested_by=requested_by))
            active = _Active(sheet, CancelToken())
            with self._mutex:
                if self._closing:
                    raise ServiceClosing()
                self._active[run_id] = active
                self._pool.submit(self._execute, run, active)
        except BaseException:
            self.store.release(sheet.spreadsheet_id, run_id)
            raise
        log.event("run_queued", run_id=run_id, spreadsheet=sheet.spreadsheet_id, trigger=trigger, dry_run=dry_run)
        return Started(run)

    def _held_outside(self, sheet: Sheet) -> str | None:
        """Who holds the sheet in the state store.  Holding this service's own lock, that can
        only be a run the service did not start (its runs release the state store's lock first)."""
        if self.history is None:
            return None
        try:
            return self.history.holder(sheet)
        except ConnectorError:  # a broken mapping or store: the run itself reports it in words
            return None

    def active_runs(self) -> list[str]:
        with self._mutex:
            return list(self._active)

    def shutdown(self) -> None:
        """Cancel every run (queued ones never start) and wait until each has finished writing."""
        with self._mutex:
            self._closing = True
            for a in self._active.values():
                a.reason = a.reason or "shutdown"
                a.cancel.cancel("the sync service is shutting down")
            waiting = list(self._active)
        if waiting:
            log.event("shutdown_waiting", runs=waiting)
        self._pool.shutdown(wait=True)
        self._stop.set()
        self._heartbeat.join()
        if self.history is not None:
            self.history.close()

    # -- inside the worker threads ---------------------------------------------------------------
    def _execute(self, run: Run, active: _Active) -> None:
        t0 = time.monotonic()
        try:
            if active.cancel.is_set():
                self.store.update_run(run.id, state="cancelled", error=CANCELLED_MESSAGE[active.reason or "shutdown"])
                return
            self.store.update_run(run.id, state="running")
            summary = self._runner(active.sheet.config_path, run.dry_run, active.cancel, run.trigger,
                                   self._progress(run.id), worksheet=run.worksheet)
            result = RunResult.from_summary(summary)
            if result.interrupted:
                self.store.update_run(run.id, state="cancelled", result=result,
                                      error=CANCELLED_MESSAGE[active.reason or "shutdown"])
            else:
                self.store.update_run(run.id, state="done", result=result)
        except SheetBusy:  # a CLI/cron run took the sheet after this run was queued
            self.store.update_run(run.id, state="failed", error=BUSY_ELSEWHERE)
        except ConnectorError as e:
            self.store.update_run(run.id, state="failed", error=str(e))
        except Exception:  # noqa: BLE001 - any bug becomes a failed run with a plain message
            log.logger.exception('{"event": "run_error", "run_id": "%s"}', run.id)
            self.store.update_run(run.id, state="failed", error=unexpected_error(run.id))
        finally:
            self.store.release(run.spreadsheet_id, run.id)
            with self._mutex:
                self._active.pop(run.id, None)
            final = self.store.get_run(run.id)
            counts = final.result.counts if final and final.result else {}
            log.event("run", run_id=run.id, spreadsheet=run.spreadsheet_id, trigger=run.trigger, dry_run=run.dry_run,
                      state=final.state if final else None, counts=counts, duration_s=round(time.monotonic() - t0, 3))

    def _progress(self, run_id: str) -> Callable[[str, int, int | None], None]:
        last = [0.0]

        def report(stage: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] < self._progress_every_s and done != total:
                return
            last[0] = now
            try:
                self.store.update_run(run_id, progress=RunProgress(stage, done, total))
            except Exception:  # noqa: BLE001 - a missed progress note must not stop a sync
                log.logger.warning('{"event": "progress_not_saved", "run_id": "%s"}', run_id)

        return report

    def _beat(self) -> None:
        while not self._stop.wait(self._lease_s / 4):
            with self._mutex:
                active = list(self._active.items())
            for run_id, a in active:
                try:
                    held = self.store.renew(a.sheet.spreadsheet_id, run_id, self._lease_s)
                except Exception:  # noqa: BLE001 - retried on the next beat
                    log.logger.warning('{"event": "lock_not_renewed", "run_id": "%s"}', run_id, exc_info=True)
                    continue
                if not held and not a.cancel.is_set():
                    a.reason = "lock_lost"
                    a.cancel.cancel("the run lost its lock on the spreadsheet")
            try:
                self.store.expire_stale()
            except Exception:  # noqa: BLE001 - retried on the next beat
                log.logger.warning('{"event": "expire_stale_failed"}', exc_info=True)
