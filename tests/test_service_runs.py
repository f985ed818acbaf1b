"""Run history, the per-sheet lock and the replay guard (SQLite), and the run manager."""
from __future__ import annotations

import shutil
import threading
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
from sheets_connector.service.runstore import STALE_ERROR, SQLiteRunStore
from sheets_connector.service.store import NewRun, Run, RunResult


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def new(run_id: str, sheet: str = "s1", dry_run: bool = False) -> NewRun:
    return NewRun(id=run_id, spreadsheet_id=sheet, trigger="menu", dry_run=dry_run, worksheet="גיליון1")


def test_runs_are_recorded_with_the_store_clock(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    run = store.create_run(new("r1"))
    assert (run.state, run.created_at) == ("queued", clock.now)
    clock.now += timedelta(seconds=2)
    store.update_run("r1", state="running")
    clock.now += timedelta(seconds=3)
    store.update_run("r1", state="done", result=RunResult(counts={"created": 2}, problems_total=0))
    got = store.get_run("r1")
    assert got is not None
    assert got.started_at == datetime(2026, 3, 1, 9, 0, 2, tzinfo=timezone.utc)
    assert got.finished_at == datetime(2026, 3, 1, 9, 0, 5, tzinfo=timezone.utc)
    assert got.result == RunResult(counts={"created": 2}) and got.worksheet == "גיליון1" and got.finished
    assert store.get_run("nope") is None


def test_latest_is_the_last_created_and_skips_previews_unless_asked(tmp_path: Path) -> None:
    store = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=Clock())  # same second: order still kept
    store.create_run(new("r1"))
    store.create_run(new("r2"))
    store.create_run(new("p3", dry_run=True))
    store.create_run(new("x", sheet="s2"))
    latest = store.latest_run("s1")
    with_previews = store.latest_run("s1", include_dry_runs=True)
    assert latest is not None and latest.id == "r2"
    assert with_previews is not None and with_previews.id == "p3"
    assert store.latest_run("s3") is None


def test_one_lock_per_sheet_shared_by_two_instances_on_one_file(tmp_path: Path) -> None:
    clock = Clock()
    one = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    two = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    assert one.try_acquire("s1", "r1", lease_s=60) is None
    assert two.try_acquire("s1", "r2", lease_s=60) == "r1"
    assert two.try_acquire("s2", "r3", lease_s=60) is None  # another sheet is free
    two.release("s1", "r2")  # not the holder: nothing happens
    assert two.try_acquire("s1", "r2", lease_s=60) == "r1"
    one.release("s1", "r1")
    assert two.try_acquire("s1", "r2", lease_s=60) is None


def test_a_lock_whose_instance_died_expires_and_its_run_is_marked_failed(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    store.create_run(new("r1"))
    store.update_run("r1", state="running")
    assert store.try_acquire("s1", "r1", lease_s=60) is None
    clock.now += timedelta(seconds=45)
    assert store.renew("s1", "r1", lease_s=60)  # lease now runs to +105 s
    clock.now += timedelta(seconds=59)
    assert store.try_acquire("s1", "r2", lease_s=60) == "r1"
    clock.now += timedelta(seconds=2)  # nobody renewed: the holder is gone
    assert store.try_acquire("s1", "r2", lease_s=60) is None
    dead = store.get_run("r1")
    assert dead is not None and (dead.state, dead.error) == ("failed", STALE_ERROR)
    assert not store.renew("s1", "r1", lease_s=60)


def test_expire_stale_frees_dead_locks_and_fails_their_runs(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    for rid, sheet in (("r1", "s1"), ("r2", "s2")):
        store.create_run(new(rid, sheet))
        store.try_acquire(sheet, rid, lease_s=60 if rid == "r1" else 600)
    clock.now += timedelta(seconds=61)
    assert store.expire_stale() == ["r1"]
    assert [r.state for r in (store.get_run("r1"), store.get_run("r2")) if r] == ["failed", "queued"]


def test_the_replay_guard_admits_a_key_once_even_under_concurrency(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteRunStore(tmp_path / "runs.sqlite3", clock=clock)
    barrier = threading.Barrier(20)
    answers: list[bool] = []

    def check() -> None:
        barrier.wait()
        answers.append(SQLiteRunStore(store.path, clock=clock).seen("k", expires_at=clock.now.timestamp() + 300))

    threads = [threading.Thread(target=check) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [False] + [True] * 19
    clock.now += timedelta(seconds=301)  # past its window the key is forgotten
    assert store.seen("k", expires_at=clock.now.timestamp() + 300) is False


def test_ping_says_whether_the_store_answers(tmp_path: Path) -> None:
    store = SQLiteRunStore(tmp_path / "runs.sqlite3")
    assert store.ping()
    for leftover in tmp_path.glob("runs.sqlite3*"):
        leftover.unlink()
    (tmp_path / "runs.sqlite3").write_bytes(b"this is not a database" * 100)
    assert not store.ping()


# --- the run manager -------------------------------------------------------------------------------


def manager_for(tmp_path: Path, runner: Any, **kw: Any) -> tuple[RunManager, SQLiteRunStore, Any]:
    (tmp_path / "configs").mkdir(exist_ok=True)
    registry = registry_for(tmp_path / "configs")
    store = SQLiteRunStore(tmp_path / "runs.sqlite3")
    return RunManager(store, runner, **kw), store, registry


def wait_finished(store: SQLiteRunStore, run_id: str) -> Run:
    deadline = datetime.now() + timedelta(seconds=30)
    while datetime.now() < deadline:
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
    assert store.try_acquire("sheet-a", "next", lease_s=60) is None  # the lock was released


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
