"""The service's run registry (the state store: runs, the per-sheet lock, schedule slots, the replay
guard) on SQLite and PostgreSQL, and the run manager."""
from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from service_helpers import GateRunner, registry_for

from sheets_connector.cancel import CancelToken
from sheets_connector.demo import example_file
from sheets_connector.errors import InwiseError, SheetBusy
from sheets_connector.sandbox import Sandbox
from sheets_connector.service.runner import sync_runner
from sheets_connector.service.runs import Busy, RunManager, ServiceClosing, Started
from sheets_connector.service.runstore import STALE_ERROR, StateRunStore
from sheets_connector.service.sheets import Registry
from sheets_connector.service.store import Claim, NewRun, Run, RunResult
from sheets_connector.state.location import ENV_URL


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, monkeypatch) -> str:
    """The run registry on the per-user SQLite file, or on a PostgreSQL database (the environment's URL)."""
    if request.param == "postgresql":
        monkeypatch.setenv(ENV_URL, request.getfixturevalue("pg_url"))
    return str(request.param)


@pytest.fixture
def registry(tmp_path: Path, engine: str) -> Registry:
    (tmp_path / "configs").mkdir()
    return registry_for(tmp_path / "configs")


def new(sheet: str = "sheet-a", dry_run: bool = False) -> NewRun:
    return NewRun(spreadsheet_id=sheet, trigger="menu", dry_run=dry_run, worksheet="גיליון1")


def claimed(store: StateRunStore, registry: Registry, sheet: str = "sheet-a", dry_run: bool = False) -> Claim:
    claim = store.begin(registry.get(sheet), new(sheet, dry_run))
    assert isinstance(claim, Claim), claim
    return claim


def test_runs_are_recorded_with_the_store_clock(registry: Registry) -> None:
    clock = Clock()
    store = StateRunStore(registry, clock=clock)
    claim = claimed(store, registry)
    run = claim.run
    assert (run.state, run.created_at) == ("queued", clock.now)
    assert store.get_run(run.id).state == "queued"
    clock.now += timedelta(seconds=2)
    store.started(claim)
    clock.now += timedelta(seconds=3)
    store.update_run(run.id, state="done", result=RunResult(counts={"created": 2}, problems_total=0))
    store.end(claim)
    got = store.get_run(run.id)
    assert got is not None
    assert got.started_at == datetime(2026, 3, 1, 9, 0, 2, tzinfo=timezone.utc)
    assert got.finished_at == datetime(2026, 3, 1, 9, 0, 5, tzinfo=timezone.utc)
    assert got.result == RunResult(counts={"created": 2}) and got.worksheet == "גיליון1" and got.finished
    for made_up in ("nope", f"{'9' * 30}.sheet-a", "999.sheet-a", run.id.replace("sheet-a", "sheet-b"), "1.unknown"):
        assert store.get_run(made_up) is None
    store.close()


def test_latest_is_the_last_created_and_skips_previews_unless_asked(registry: Registry) -> None:
    store = StateRunStore(registry, clock=Clock())  # same second: order still kept
    ids = []
    for sheet, dry_run in (("sheet-a", False), ("sheet-a", False), ("sheet-a", True), ("sheet-b", False)):
        claim = claimed(store, registry, sheet, dry_run)
        store.update_run(claim.run.id, state="done")
        store.end(claim)
        ids.append(claim.run.id)
    latest = store.latest_run("sheet-a")
    with_previews = store.latest_run("sheet-a", include_dry_runs=True)
    assert latest is not None and latest.id == ids[1]
    assert with_previews is not None and with_previews.id == ids[2] and with_previews.dry_run
    assert store.latest_run("sheet-c") is None
    store.close()


def test_one_lock_per_sheet_shared_by_two_instances(registry: Registry) -> None:
    one, two = StateRunStore(registry), StateRunStore(registry)
    first = claimed(one, registry)
    assert two.begin(registry.get("sheet-a"), new()) == first.run.id  # refused, naming the holder
    other = claimed(two, registry, "sheet-b")  # another sheet is free
    one.end(first)
    again = claimed(two, registry)
    for c in (other, again):
        two.end(c)
    one.close()
    two.close()


def test_a_run_whose_instance_died_shows_failed_and_its_lock_is_taken_over(registry: Registry) -> None:
    one, two = StateRunStore(registry), StateRunStore(registry)
    dead = claimed(one, registry)
    one.started(dead)
    dead.store.stop_heartbeat()  # the instance is gone: on another machine, silent past the lease
    with dead.store.db.write() as cur:
        cur.execute("UPDATE locks SET host='gone', heartbeat=heartbeat-?", (dead.store.lease_s + 5,))
    shown = two.get_run(dead.run.id)
    assert shown is not None and (shown.state, shown.error) == ("failed", STALE_ERROR)
    taker = claimed(two, registry)
    shown = two.get_run(dead.run.id)
    assert shown is not None and shown.state == "failed" and "no sign of life" in (shown.error or "")
    assert two.get_run(taker.run.id).state == "queued"
    two.end(taker)
    one.close()
    two.close()


def test_a_schedule_slot_is_claimed_once_in_the_fleet(registry: Registry) -> None:
    stores = [StateRunStore(registry) for _ in range(3)]
    slot = datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc)
    assert [s.claim_slot("sheet-a", slot) for s in stores] == [True, False, False]
    assert stores[1].claim_slot("sheet-b", slot) and stores[2].claim_slot("sheet-a", slot + timedelta(days=1))
    for s in stores:
        s.close()


def test_the_replay_guard_admits_a_key_once_even_under_concurrency(registry: Registry) -> None:
    clock = Clock()
    stores = [StateRunStore(registry, clock=clock) for _ in range(4)]
    barrier = threading.Barrier(20)
    answers: list[bool] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        seen = stores[i % 4].seen("k", expires_at=clock.now.timestamp() + 300)
        with lock:
            answers.append(seen)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [False] + [True] * 19
    clock.now += timedelta(seconds=301)  # past its window the key is forgotten
    assert stores[0].seen("k", expires_at=clock.now.timestamp() + 300) is False
    for s in stores:
        s.close()


def test_ping_says_whether_the_registry_answers(registry: Registry, monkeypatch, pg_cluster) -> None:
    store = StateRunStore(registry)
    assert store.ping()
    store.close()
    monkeypatch.setenv(ENV_URL, pg_cluster.url("no_such_database"))
    assert not StateRunStore(registry).ping()


# --- the run manager -------------------------------------------------------------------------------


def manager_for(tmp_path: Path, runner: Any, **kw: Any) -> tuple[RunManager, StateRunStore, Any]:
    (tmp_path / "configs").mkdir(exist_ok=True)
    registry = registry_for(tmp_path / "configs")
    store = StateRunStore(registry)
    return RunManager(store, runner, **kw), store, registry


def wait_finished(store: StateRunStore, run_id: str) -> Run:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run is not None and run.finished:
            return run
        threading.Event().wait(0.01)
    raise AssertionError(f"run {run_id} did not finish")


@pytest.mark.parametrize(("error", "expected"), [
    (InwiseError("inwise refused the API key in INWISE_API_KEY: check it"), "inwise refused the API key in INWISE_API_KEY: check it"),
    (RuntimeError("boom with token=abc123"), "unexpected error"),
    # a CLI/cron run took the sheet's lock in the state store while this run was queued
    (SheetBusy("Another sync of contacts.xlsx is running (run #4 ...), or run again with --wait"),
     "another sync of this spreadsheet was already running outside the sheet menu"),
])
def test_a_failing_run_is_failed_with_a_user_readable_error(tmp_path: Path, error: Exception, expected: str) -> None:
    def runner(*args: Any, **kw: Any) -> dict[str, Any]:
        raise error

    manager, store, registry = manager_for(tmp_path, runner)
    started = manager.start(registry.get("sheet-a"), dry_run=False, trigger="menu")
    assert isinstance(started, Started)
    run = wait_finished(store, started.run.id)
    manager.shutdown()
    assert run.state == "failed" and run.error is not None and expected in run.error
    assert "abc123" not in run.error
    store.end(claimed(store, registry))  # the lock was released


def test_shutdown_cancels_running_and_queued_runs_and_waits_for_them(tmp_path: Path) -> None:
    runner = GateRunner(results_dir=tmp_path)
    manager, store, registry = manager_for(tmp_path, runner, max_parallel=1)
    a = manager.start(registry.get("sheet-a"), dry_run=False, trigger="menu")
    b = manager.start(registry.get("sheet-b"), dry_run=False, trigger="schedule")
    assert isinstance(a, Started) and isinstance(b, Started)
    assert isinstance(manager.start(registry.get("sheet-a"), dry_run=True, trigger="menu"), Busy)
    while not runner.calls:
        threading.Event().wait(0.01)
    manager.shutdown()  # returns only when both runs are final
    ra, rb = store.get_run(a.run.id), store.get_run(b.run.id)
    assert ra is not None and rb is not None
    assert (ra.state, rb.state) == ("cancelled", "cancelled")
    assert ra.error and "shutting down" in ra.error
    assert ra.result is not None and ra.result.interrupted
    assert (tmp_path / "sheet-a.log").read_text(encoding="utf-8") == "results written for 0 rows\n"
    assert runner.calls == [("sheet-a", False, "menu")]  # the queued run never started
    with pytest.raises(ServiceClosing):
        manager.start(registry.get("sheet-a"), dry_run=False, trigger="menu")


def test_the_real_sync_runner_syncs_a_mapping_that_has_service_keys(tmp_path: Path) -> None:
    shutil.copyfile(example_file("contacts.xlsx"), tmp_path / "contacts.xlsx")
    mapping = example_file("mapping.yaml").read_text(encoding="utf-8")
    mapping = "service:\n  spreadsheet_id: demo\n  secret_env: X\nschedule: '0 7 * * *'\ntimezone: UTC\n" + mapping
    (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    progress: list[tuple[str, int, int | None]] = []
    with Sandbox(api_keys=("k",)) as sandbox:
        (tmp_path / "mapping.yaml").write_text(
            mapping.replace("http://127.0.0.1:8765/rest/v1", sandbox.base_url), encoding="utf-8")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("INWISE_API_KEY", "k")
            preview = sync_runner(tmp_path / "mapping.yaml", True, CancelToken(), "menu",
                                  lambda *a: progress.append(a))
            summary = sync_runner(tmp_path / "mapping.yaml", False, CancelToken(), "menu",
                                  lambda *a: progress.append(a))
    assert preview["dry_run"] and preview["would_send"] == 24 and preview["preview"][0]["row"] == 2
    assert preview["preview_lines"][0].startswith("row 2: dana.cohen@example.co.il · +972541111111 · First name = דנה")
    assert summary["counts"]["created"] == 24 and summary["counts"]["invalid"] == 3 and summary["counts"]["missing"] == 1
    assert progress and progress[-1][0] == "pull"
    cancelled = CancelToken()
    cancelled.cancel()
    assert sync_runner(tmp_path / "mapping.yaml", False, cancelled, "menu", lambda *a: None) == {"interrupted": True}


def test_what_the_service_says_itself_is_in_a_hebrew_sheets_language(tmp_path: Path) -> None:
    """The errors the service writes for the sheet menu (and a connector error with a message) are
    said in the sheet's mapping's language; an English sheet gets the words it always got."""
    from sheets_connector.errors import SourceError
    from sheets_connector.messages.catalog import said
    from sheets_connector.service.app import _public_text

    lrm = "\u200e"
    kept = SourceError(said("run.kept", problem=said("run.not_saved", location="c.xlsx", error="OSError: gone"),
                            where=said("run.kept_no_csv")))
    cases = [
        (SheetBusy("Another sync of contacts.xlsx is running"),
         "לא התחיל: סנכרון אחר של הגיליון הזה כבר רץ מחוץ לתפריט הגיליון (משורת הפקודה, מ-cron או מתזמן אחר). "
         "דבר לא נשלח. נסו שוב כשהוא יסתיים; inwise > תוצאת הסנכרון האחרון מראה איך הוא הסתיים."),
        (RuntimeError("boom"), "הסנכרון נעצר בגלל שגיאה לא צפויה. לשורות שכבר נשלחו נשארת התוצאה שלהן. מנהל השירות "
                               "יכול למצוא את הפרטים ביומן שלו (הרצה "),
        (kept, f"לא ניתן היה לשמור את התוצאות ב-{lrm}c.xlsx{lrm} ({lrm}OSError: gone{lrm}).\nאנשי הקשר כן נשלחו "
               "ל-inwise. גם קובץ CSV עם התוצאות של השורות לא נכתב"),
    ]
    for language in ("he", "en"):
        folder = tmp_path / language / "configs"
        folder.mkdir(parents=True)
        registry = registry_for(folder, extra=f"language: {language}\n")
        store = StateRunStore(registry)
        for error, hebrew in cases:
            def runner(*args: Any, _error: Exception = error, **kw: Any) -> dict[str, Any]:
                raise _error

            manager = RunManager(store, runner)
            started = manager.start(registry.get("sheet-a"), dry_run=False, trigger="menu")
            assert isinstance(started, Started)
            run = wait_finished(store, started.run.id)
            manager.shutdown()
            assert run.state == "failed" and run.error is not None
            if language == "he":
                assert run.error.startswith(hebrew), run.error
            elif isinstance(error, RuntimeError):
                assert run.error.startswith("The sync stopped on an unexpected error. Rows already sent keep their "
                                            "result."), run.error
            elif isinstance(error, SheetBusy):
                assert run.error.startswith("Not started: another sync of this spreadsheet was already running"), run.error
            else:
                assert run.error == str(error)
        store.close()
        # refusals for a sheet the signer owns (the menu shows the answer's error when it has no text of its own)
        assert _public_text(409, language) == ("סנכרון של הגיליון הזה כבר רץ" if language == "he"
                                               else "a sync of this spreadsheet is already running")
    assert _public_text(404, None) == "not found" and _public_text(401, "he") == "unauthorized"
