"""The frame of a run: its sheet's lock, its record in the run history, the store's room.

``run_session`` takes the sheet's lock (one run at a time writes a workbook: a second one is
refused at once with who holds it, or waits with ``wait``), files the run in the history,
removes what a killed save left next to the workbook, checks that the store has room to spare
before anything is asked of inwise, imports an old journal once, and on the way out records
how the run ended and releases the lock.  A run killed outright leaves its lock and its
``running`` record behind: the next run sees the process is gone and takes over.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..cancel import CancelToken
from ..config import Config, SheetIdentity
from ..errors import ConnectorError, LockLost, RunStopped, SheetBusy, StateError
from ..messages.catalog import Place, Said, error_words, msg, said, said_json
from ..state import Holder, LockHeld, StateStore, import_journal
from ..state.runs import waiting
from .summary import RunSummary

log = logging.getLogger(__name__)

PREFLIGHT_ROOM = 8 * 1024 * 1024  # free room the store must have before a run asks inwise for anything
TEMP_PATTERNS = (".{stem}.*.sheets-connector.tmp", ".{stem}.*.sheets-connector.tmp.repair", ".sheets-connector-*.probe")
NOTHING_DONE = "Nothing was sent to inwise and the workbook was not changed."


@dataclass
class RunSession:
    store: StateStore
    ident: SheetIdentity
    account: str
    run_id: int
    clock: Callable[[], datetime]
    claimed: bool = False  # a run the web service queued: it files the final state and lets go of the lock

    def stage(self, name: str) -> None:
        """The stage the run is in, visible in ``runs`` while it runs (and to crash tests).
        Best effort: a store that filled up during the run does not stop the results being written."""
        try:
            self.store.set_run_stage(self.run_id, name)
        except StateError:
            log.debug("could not record the stage", exc_info=True)

    def finish(self, summary: RunSummary) -> None:
        status = "stopped" if summary.interrupted else ("failed" if summary.error or summary.outage else "ok")
        if self.claimed:
            status = "running"  # until the service has filed the result the sheet shows
        try:
            self.store.finish_run(self.run_id, status, finished_at=self.clock().isoformat(timespec="seconds"),
                                  duration_s=summary.duration_s, counts=dict(summary.counts),
                                  error=summary.error or summary.outage,
                                  summary=summary.to_dict())
        except StateError as e:  # the run is shown as stopped unexpectedly; the user reads the summary
            summary.error = summary.error or str(e)
        # LockLost goes on: the session says why this run stopped and records nothing more


def busy_message(label: str, holder: Holder, what: str = "run", started_at: str | None = None) -> str:
    """``started_at``: when the holding run started (its history record); the lock's own time
    stands in for a lock taken without a run."""
    who = msg("run.run_n", id=holder.run_id) if holder.run_id is not None else msg("run.another_run")
    since = (started_at or holder.since).replace("T", " ")[:19]
    busy = msg("run.busy_who", what=what, label=Place(label), who=who, since=since,
               process=holder.process.split(':')[0], host=holder.host)
    return said("run.busy", busy=busy)


def _busy(store: StateStore, label: str, holder: Holder) -> str:
    other = store.get_run(holder.run_id) if holder.run_id is not None else None
    if other is None:
        return busy_message(label, holder)
    return busy_message(label, holder, other.command, other.started_at)


def remove_stale_temp_files(path: Path | None) -> list[Path]:
    """What a killed save left next to the workbook (only ever called holding the sheet's lock,
    so no other run of this workbook can be saving right now)."""
    if path is None:
        return []
    removed = []
    for pattern in TEMP_PATTERNS:
        for leftover in path.parent.glob(pattern.format(stem=path.stem)):
            try:
                leftover.unlink()
                removed.append(leftover)
            except OSError:
                log.debug("could not remove %s", leftover, exc_info=True)
    return removed


@contextmanager
def run_session(config: Config, store: StateStore, account: str, *, command: str, trigger: str, wait: bool,
                cancel: CancelToken, clock: Callable[[], datetime], workbook_path: Path | None,
                on_wait: Callable[[str], None] | None = None, claim: tuple[str, int] | None = None
                ) -> Iterator[RunSession]:
    """``claim``: (lock token, run id) of a run the web service queued holding the sheet's lock
    in ``store`` (that run goes on; no second lock, no second record)."""
    ident = config.identity()
    try:
        token, run_id = claim or waiting(
            lambda: store.begin_run(ident.workbook, ident.sheet, ident.label, command, trigger,
                                    clock().isoformat(timespec="seconds")),
            wait=wait, cancelled=cancel.is_set,
            on_wait=(lambda h: on_wait(_busy(store, ident.label, h))) if on_wait else None)
    except LockHeld as held:
        if cancel.is_set():
            raise RunStopped("Stopped by you while waiting for the other run; nothing was sent or written.") from None
        raise SheetBusy(_busy(store, ident.label, held.holder)) from None
    t0 = time.monotonic()
    try:
        remove_stale_temp_files(workbook_path)
        try:
            store.ensure_room(PREFLIGHT_ROOM)
        except StateError as e:
            raise StateError(said("store.nothing_done", error=error_words(e))) from None
        import_journal(store, config.state_path(), ident.sheet, account)
        store.register_sheet(ident.sheet, account)
        yield RunSession(store, ident, account, run_id, clock, claimed=claim is not None)
    except BaseException as e:
        if claim is not None:
            raise  # the service files how it ended
        status = "stopped" if isinstance(e, (RunStopped, KeyboardInterrupt)) else "failed"
        error = error_words(e) if isinstance(e, ConnectorError) else f"{type(e).__name__}: {e}"
        # an error with a message: runs show says it in the mapping's language
        stored = {"language": config.language, "said": said_json([error])} if isinstance(error, Said) else None
        try:  # a run that lost its lock records nothing: the run that took over marked it
            store.finish_run(run_id, status, finished_at=clock().isoformat(timespec="seconds"),
                             duration_s=time.monotonic() - t0, error=error, summary=stored)
        except (StateError, LockLost):
            log.debug("could not record the run's end", exc_info=True)
        raise
    finally:
        try:
            if claim is None:  # a claimed run's lock is the service's to give back, after its final record
                store.unlock(ident.workbook, token)
        except StateError:
            log.debug("could not release the lock (the next run takes it over)", exc_info=True)
