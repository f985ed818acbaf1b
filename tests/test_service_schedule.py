"""Cron schedules per spreadsheet, with a fixed clock: DST, a missed slot, no overlap."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from service_helpers import GateRunner, registry_for

from sheets_connector.service.runs import RunManager, Started
from sheets_connector.service.runstore import StateRunStore
from sheets_connector.service.schedule import (
    Scheduler,
    next_time,
    next_times,
    previous_time,
)

JLM = ZoneInfo("Asia/Jerusalem")
LON = ZoneInfo("Europe/London")
UTC = timezone.utc


def test_seven_o_clock_stays_seven_o_clock_local_across_the_spring_change() -> None:
    # Israel moved its clocks forward on Friday 27 March 2026 at 02:00
    times = next_times("0 7 * * *", "Asia/Jerusalem", datetime(2026, 3, 25, 12, tzinfo=UTC), 3)
    assert [t.astimezone(UTC).strftime("%d %H:%M") for t in times] == ["26 05:00", "27 04:00", "28 04:00"]
    assert all(t.astimezone(JLM).hour == 7 for t in times)


def test_a_time_that_does_not_exist_runs_once_right_after_the_jump() -> None:
    # London: 01:00 -> 02:00 on 29 March 2026; 01:30 does not exist that day
    times = next_times("30 1 * * *", "Europe/London", datetime(2026, 3, 28, 12, tzinfo=UTC), 3)
    assert [t.astimezone(UTC).isoformat() for t in times] == [
        "2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00", "2026-03-31T00:30:00+00:00"]


def test_a_time_that_happens_twice_runs_once_when_clocks_go_back() -> None:
    # London: 02:00 BST -> 01:00 GMT on 25 October 2026; 01:30 happens twice
    times = next_times("30 1 * * *", "Europe/London", datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    assert [t.astimezone(UTC).isoformat() for t in times] == ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
    # an every-20-minutes schedule keeps every real slot of the repeated hour
    slots = next_times("*/20 * * * *", "Europe/London", datetime(2026, 10, 24, 23, 50, tzinfo=UTC), 7)
    assert [t.astimezone(UTC).strftime("%H:%M") for t in slots] == ["00:00", "00:20", "00:40", "01:00", "01:20", "01:40", "02:00"]


def test_a_frozen_clock_cannot_hang_the_schedule_on_a_repeated_hour() -> None:
    # freezegun's datetime loses `fold`, so croniter kept returning the second 01:30 of the day
    # clocks go back; the slot search must move past it (and is bounded in any case)
    with freeze_time("2031-06-15 10:00:00"):
        times = next_times("30 1 * * *", "Europe/London", datetime(2026, 10, 24, 12, tzinfo=UTC), 2)
    assert [t.astimezone(UTC).isoformat() for t in times] == ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]


def test_previous_time_is_the_last_slot_at_or_before() -> None:
    at = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 07:00 in Jerusalem (summer time)
    assert previous_time("0 7 * * *", "Asia/Jerusalem", at) == at
    assert previous_time("0 7 * * *", "Asia/Jerusalem", at - timedelta(seconds=1)) == at - timedelta(days=1)
    assert next_time("0 7 * * *", "Asia/Jerusalem", at) == at + timedelta(days=1)


# --- the scheduler ----------------------------------------------------------------------------------

SCHEDULE = "schedule: '0 7 * * *'\ntimezone: Asia/Jerusalem\n"


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "configs").mkdir()
    registry = registry_for(tmp_path / "configs", extra=SCHEDULE)
    clock = {"now": datetime(2026, 6, 1, 3, 0, tzinfo=UTC)}  # 06:00 in Jerusalem
    store = StateRunStore(registry, clock=lambda: clock["now"])
    runner = GateRunner()
    runner.gate.set()
    manager = RunManager(store, runner)
    yield registry, store, manager, runner, clock
    manager.shutdown()
    store.close()


def wait_all_finished(store: StateRunStore, sheets: tuple[str, ...] = ("sheet-a", "sheet-b")) -> None:
    for _ in range(3000):
        runs = [store.latest_run(s) for s in sheets]
        if all(r is None or r.finished for r in runs):
            return
        threading_wait(0.01)
    raise AssertionError("runs did not finish")


def threading_wait(seconds: float) -> None:
    import threading

    threading.Event().wait(seconds)


def test_each_sheet_runs_at_its_slot_once(setup) -> None:  # type: ignore[no-untyped-def]
    registry, store, manager, runner, clock = setup
    scheduler = Scheduler(registry, manager, store, clock=lambda: clock["now"])
    assert scheduler.catch_up(clock["now"]) == []  # no history: nothing was missed
    assert set(scheduler.next_slots().values()) == {datetime(2026, 6, 1, 7, tzinfo=JLM)}
    assert scheduler.tick(datetime(2026, 6, 1, 3, 59, 59, tzinfo=UTC)) == []
    fired = scheduler.tick(datetime(2026, 6, 1, 4, 0, 1, tzinfo=UTC))
    assert sorted(f.spreadsheet_id for f in fired) == ["sheet-a", "sheet-b"] and all(f.run_id for f in fired)
    wait_all_finished(store)
    assert scheduler.tick(datetime(2026, 6, 1, 4, 0, 2, tzinfo=UTC)) == []  # not twice for one slot
    assert sorted(runner.calls) == [("sheet-a", False, "schedule"), ("sheet-b", False, "schedule")]
    assert set(scheduler.next_slots().values()) == {datetime(2026, 6, 2, 7, tzinfo=JLM)}


def test_a_slot_missed_while_the_service_was_down_runs_once_on_start(setup) -> None:  # type: ignore[no-untyped-def]
    registry, store, manager, runner, clock = setup
    # the last sync of sheet-a was 3 days ago; sheet-b synced by hand after today's slot
    clock["now"] = datetime(2026, 5, 29, 4, 0, tzinfo=UTC)
    assert isinstance(manager.start(registry.get("sheet-a"), dry_run=False, trigger="schedule"), Started)
    wait_all_finished(store)
    clock["now"] = datetime(2026, 6, 1, 4, 30, tzinfo=UTC)
    assert isinstance(manager.start(registry.get("sheet-b"), dry_run=False, trigger="menu"), Started)
    wait_all_finished(store)
    runner.calls.clear()
    # the service comes back at 09:00 Jerusalem time: three 07:00 slots were missed for sheet-a
    clock["now"] = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    scheduler = Scheduler(registry, manager, store, clock=lambda: clock["now"])
    fired = scheduler.catch_up(clock["now"])
    assert [(f.spreadsheet_id, f.slot) for f in fired] == [("sheet-a", datetime(2026, 6, 1, 7, tzinfo=JLM))]
    wait_all_finished(store)
    assert runner.calls == [("sheet-a", False, "schedule")]
    # ...and a later tick the same day does not run it again
    assert scheduler.tick(datetime(2026, 6, 1, 10, tzinfo=UTC)) == []


def test_a_long_pause_between_ticks_runs_each_sheet_once(setup) -> None:  # type: ignore[no-untyped-def]
    registry, store, manager, _runner, clock = setup
    scheduler = Scheduler(registry, manager, store, clock=lambda: clock["now"])
    scheduler.catch_up(clock["now"])
    fired = scheduler.tick(datetime(2026, 6, 5, 12, tzinfo=UTC))  # the process was suspended for days
    assert len(fired) == 2
    wait_all_finished(store)
    assert scheduler.next_slots()["sheet-a"] == datetime(2026, 6, 6, 7, tzinfo=JLM)


def test_a_slot_never_overlaps_a_running_sync(setup) -> None:  # type: ignore[no-untyped-def]
    registry, store, manager, runner, clock = setup
    runner.gate.clear()  # the menu's sync of sheet-a keeps running
    menu = manager.start(registry.get("sheet-a"), dry_run=False, trigger="menu")
    assert isinstance(menu, Started)
    scheduler = Scheduler(registry, manager, store, clock=lambda: clock["now"])
    scheduler.catch_up(clock["now"])
    fired = {f.spreadsheet_id: f for f in scheduler.tick(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))}
    assert fired["sheet-a"].run_id is None and fired["sheet-a"].busy_with == menu.run.id
    assert fired["sheet-b"].run_id is not None
    runner.gate.set()
    wait_all_finished(store)
    assert sorted(runner.calls) == [("sheet-a", False, "menu"), ("sheet-b", False, "schedule")]


def test_the_loop_fires_on_its_own_and_stops(setup) -> None:  # type: ignore[no-untyped-def]
    registry, store, manager, runner, clock = setup
    clock["now"] = datetime(2026, 6, 1, 3, 59, 59, 990000, tzinfo=UTC)  # 10 ms before the slot
    ticks = iter([clock["now"]] + [datetime(2026, 6, 1, 4, 0, 0, tzinfo=UTC)] * 1000)
    scheduler = Scheduler(registry, manager, store, clock=lambda: next(ticks))
    scheduler.start()
    for _ in range(3000):
        if len(runner.calls) == 2:
            break
        threading_wait(0.01)
    scheduler.stop()
    assert sorted(c[0] for c in runner.calls) == ["sheet-a", "sheet-b"]
