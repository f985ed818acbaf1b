"""Cron-style syncs: a mapping with ``schedule: "<cron>"`` and ``timezone`` also syncs on its own.

Times come from croniter, read in the mapping's time zone, so "0 7 * * *" is 07:00 local time
on both sides of a daylight-saving change.  On the day clocks go back, a time that happens
twice (01:30 in Europe/London) fires once, at its first occurrence (for a fixed hour; an
hourly or "*/20" schedule keeps every slot); on the day clocks go forward, a time that does not
exist fires at the first minute after the jump.

- A scheduled run goes through the same ``RunManager.start`` as a menu click, so it takes the
  spreadsheet's run lock: if a sync is running, the slot is skipped (logged), never overlapped.
- Several replicas each run this scheduler: a slot is first claimed in the run registry
  (``claim_slot``, one row per sheet and slot), so each slot runs once in the whole fleet.
- Slots missed while the service was down: when it starts, a spreadsheet whose last sync
  started before the most recent slot runs once (not once per missed slot).  A spreadsheet
  with no sync in its history waits for its next slot.  Likewise, if the process was suspended
  past several slots, the next check runs the sheet once.

The clock is injected; ``catch_up(now)`` and ``tick(now)`` are what the loop calls, so tests
drive them with fixed times.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from ..errors import ConnectorError
from . import log
from .runs import Busy, ServiceClosing, Started
from .sheets import Registry, Sheet
from .store import Run, Trigger

MAX_SLEEP_S = 60.0  # look at the clock at least this often (it may jump: NTP, suspend)
_MAX_SLOTS_SCANNED = 10_000  # a repeated hour holds at most 3,600 slots (a seconds field)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _repeated(expr: str, t: datetime) -> bool:
    """True for the second occurrence of a wall time that happens twice, in a fixed-hour schedule."""
    hour_field = expr.split()[1]
    if hour_field.startswith("*"):
        return False
    first, second = t.replace(fold=0).utcoffset(), t.replace(fold=1).utcoffset()
    return first != second and t.utcoffset() == second


def _slot(expr: str, tz: str, start: datetime, forward: bool, wanted: Callable[[datetime], bool]) -> datetime:
    """The first slot from ``start`` (excluded) going ``forward`` or back that ``wanted`` accepts.

    Bounded: where datetime loses ``fold`` (freezegun's does), croniter returns the second
    occurrence of a repeated wall time over and over.  A slot that does not move restarts the
    search from an unambiguous time (going back: just after its first occurrence; going forward:
    one clock change later, the nearest such time croniter can be given), and the search gives up
    after more slots than a repeated hour can hold.  With the real datetime neither happens.
    """
    zone = ZoneInfo(tz)
    it = croniter(expr, start.astimezone(zone))
    seen: datetime | None = None
    for _ in range(_MAX_SLOTS_SCANNED):
        t: datetime = it.get_next(datetime) if forward else it.get_prev(datetime)
        if wanted(t):
            return t
        instant = t.astimezone(timezone.utc)
        if instant == seen:
            change = abs(_offset(t, 0) - _offset(t, 1))
            resume = instant + change if forward else instant - change + timedelta(seconds=1)
            it = croniter(expr, resume.astimezone(zone))
        seen = instant
    raise RuntimeError(f"schedule {expr!r} ({tz}): no slot found after {_MAX_SLOTS_SCANNED} tries from {start.isoformat()}")


def _offset(t: datetime, fold: int) -> timedelta:
    return t.replace(fold=fold).utcoffset() or timedelta(0)


def next_time(expr: str, tz: str, after: datetime) -> datetime:
    """The first slot of ``expr`` strictly after ``after`` (aware), as an aware time in ``tz``."""
    return _slot(expr, tz, after, True, lambda t: not _repeated(expr, t))


def previous_time(expr: str, tz: str, at: datetime) -> datetime:
    """The last slot of ``expr`` at or before ``at``."""
    return _slot(expr, tz, at + timedelta(seconds=1), False, lambda t: t <= at and not _repeated(expr, t))


def next_times(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    for _ in range(count):
        after = next_time(expr, tz, after)
        out.append(after)
    return out


class Starter(Protocol):
    def start(self, sheet: Sheet, *, dry_run: bool, trigger: Trigger, worksheet: str | None = None,
              requested_by: str | None = None) -> Started | Busy: ...


class History(Protocol):
    def latest_run(self, spreadsheet_id: str, *, include_dry_runs: bool = False) -> Run | None: ...

    def claim_slot(self, spreadsheet_id: str, slot: datetime) -> bool: ...


@dataclass(frozen=True)
class Fired:
    spreadsheet_id: str
    slot: datetime
    run_id: str | None = None  # the run started, or None when skipped
    busy_with: str | None = None  # skipped: the run that held the lock
    elsewhere: bool = False  # skipped: another replica claimed the slot


class Scheduler:
    def __init__(self, registry: Registry, manager: Starter, history: History,
                 *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._sheets = [s for s in registry if s.schedule and s.timezone]
        self._manager = manager
        self._history = history
        self._clock = clock
        self._next: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the loop calls -------------------------------------------------------------------
    def catch_up(self, now: datetime) -> list[Fired]:
        """At start: plan each sheet's next slot, and run once the sheets that missed one."""
        fired = []
        for sheet in self._sheets:
            expr, tz = str(sheet.schedule), str(sheet.timezone)
            self._next[sheet.spreadsheet_id] = next_time(expr, tz, now)
            slot = previous_time(expr, tz, now)
            last = self._history.latest_run(sheet.spreadsheet_id)
            if last is not None and last.created_at < slot:
                fired.append(self._fire(sheet, slot, missed=True))
        return fired

    def tick(self, now: datetime) -> list[Fired]:
        """Run every sheet whose slot has come; each sheet once, however many slots passed."""
        fired = []
        for sheet in self._sheets:
            slot = self._next.get(sheet.spreadsheet_id)
            if slot is None or slot > now:
                continue
            fired.append(self._fire(sheet, slot, missed=False))
            self._next[sheet.spreadsheet_id] = next_time(str(sheet.schedule), str(sheet.timezone), now)
        return fired

    def next_slots(self) -> dict[str, datetime]:
        return dict(self._next)

    # -- the loop ----------------------------------------------------------------------------------
    def start(self) -> None:
        if not self._sheets or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """For readiness: the loop runs (or there is nothing to schedule)."""
        return not self._sheets or (self._thread is not None and self._thread.is_alive())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        self.catch_up(self._clock())
        while not self._stop.is_set():
            now = self._clock()
            soonest = min(self._next.values(), default=now + timedelta(seconds=MAX_SLEEP_S))
            if self._stop.wait(min(MAX_SLEEP_S, max(0.0, (soonest - now).total_seconds()))):
                return
            try:
                self.tick(self._clock())
            except Exception:  # noqa: BLE001 - one bad slot must not end every schedule (readiness watches this loop)
                log.logger.error(log.line("schedule_error"), exc_info=True)

    def _fire(self, sheet: Sheet, slot: datetime, *, missed: bool) -> Fired:
        try:
            if not self._history.claim_slot(sheet.spreadsheet_id, slot):
                log.event("schedule_taken", spreadsheet=sheet.spreadsheet_id, slot=slot.isoformat())
                return Fired(sheet.spreadsheet_id, slot, elsewhere=True)
            outcome = self._manager.start(sheet, dry_run=False, trigger="schedule")
        except ServiceClosing:
            return Fired(sheet.spreadsheet_id, slot)
        except ConnectorError:  # the registry cannot be reached: logged, the next slot tries again
            log.logger.warning('{"event": "schedule_failed", "spreadsheet": "%s"}', sheet.spreadsheet_id, exc_info=True)
            return Fired(sheet.spreadsheet_id, slot)
        if isinstance(outcome, Busy):
            log.event("schedule_skipped", spreadsheet=sheet.spreadsheet_id, slot=slot.isoformat(),
                      running_run=outcome.holder)
            return Fired(sheet.spreadsheet_id, slot, busy_with=outcome.holder)
        log.event("schedule_started", spreadsheet=sheet.spreadsheet_id, slot=slot.isoformat(),
                  run_id=outcome.run.id, missed=missed)
        return Fired(sheet.spreadsheet_id, slot, run_id=outcome.run.id)
