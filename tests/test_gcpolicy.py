"""The run's garbage-collection policy (gcpolicy): in force for a run, restored exactly after it,
whoever else shares the process (nested scopes, concurrent runs, a caller that tuned GC)."""
from __future__ import annotations

import gc
import threading
import weakref

import pytest
from util import make_config, write_workbook

from sheets_connector.errors import InwiseAuthError
from sheets_connector.gcpolicy import GEN0_THRESHOLD, building, quiet_gc, settle
from sheets_connector.sync import Collaborators, sync


@pytest.fixture(autouse=True)
def gc_as_found():
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(700, 10, 10)
    yield
    if not frozen:
        gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_in_force_inside_and_restored_exactly_after():
    with quiet_gc():
        with building():
            assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)  # raised only while building
        node = Node()
        gone = weakref.ref(node)
        settle()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert gone() is not None  # frozen: out of the collector's sight while the run lasts
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # handed back to the collector: no cycle outlives the run


def test_restored_when_the_work_fails():
    with pytest.raises(RuntimeError), quiet_gc(), building():
        settle()
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_settle_outside_a_run_does_nothing():
    settle()
    assert gc.get_freeze_count() == 0


def test_nested_scopes_restore_on_the_last_exit():
    with quiet_gc(), building():
        with quiet_gc(), building():
            settle()
        assert gc.get_threshold()[0] == GEN0_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_concurrent_runs_do_not_undo_each_other():
    """Run A ends while run B still works: B keeps the thresholds, A's end hands what was frozen
    back to the collector (B freezes again at its next settle); B's end restores the caller's."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def run_a() -> None:
        with quiet_gc(), building():
            settle()
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def run_b() -> None:
        a_in.wait(10)
        with quiet_gc(), building():
            b_in.set()
            a_out.wait(10)
            seen["b after a"] = (gc.get_threshold()[0], gc.get_freeze_count() > 0)
            settle()
            seen["b settled"] = gc.get_freeze_count() > 0

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen["b after a"] == (GEN0_THRESHOLD, False) and seen["b settled"]
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def _in_sight(obj: object) -> bool:
    """Whether the collector walks ``obj`` (frozen objects are in no generation)."""
    return any(o is obj for o in gc.get_objects())


def test_a_caller_that_froze_or_tuned_gc_keeps_it():
    theirs = Node()
    gc.freeze()  # a server freezing its start-up objects before forking, say
    gc.set_threshold(100_000, 20, 20)  # already above ours: left alone
    with quiet_gc(), building():
        assert gc.get_threshold() == (100_000, 20, 20)
        ours = Node()
        settle()
        assert _in_sight(ours)  # nothing frozen here: the freeze is theirs to thaw
    assert gc.get_threshold() == (100_000, 20, 20)
    assert not _in_sight(theirs) and gc.get_freeze_count() > 0  # their freeze stands
    gc.set_threshold(0)  # collection switched off by the caller: stays off
    with building():
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold()[0] == 0


def test_thresholds_changed_during_the_run_stand():
    with building():
        gc.set_threshold(5_000, 10, 10)
    assert gc.get_threshold() == (5_000, 10, 10)


def test_a_sync_leaves_gc_as_it_found_it(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "054-1111111", None]])
    cfg = make_config(tmp_path, sandbox.base_url)
    during: set[bool] = set()

    def progress(stage: str, done: int, total: int | None) -> None:
        during.add(gc.get_freeze_count() > 0)

    s = sync(cfg, Collaborators(environ={"INWISE_API_KEY": "test-key"}, progress=progress))
    assert s.counts["created"] == 1
    assert during == {True}  # what was read and mapped is frozen at every stage told
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
    with pytest.raises(InwiseAuthError):
        sync(cfg, Collaborators(environ={"INWISE_API_KEY": "wrong-key-123"}))
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
