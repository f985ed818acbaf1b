"""The run's garbage-collection policy: one place, for a sync, a pull and a large ``map_rows``.

A run builds structures of ~100,000 rows that live until it ends (the rows read, their mapped
contacts, the outcomes).  With CPython's default thresholds (700, 10, 10) the cycle collector
runs a full collection each time the heap grew by a quarter, and each walks every object the
run holds: measured on a 100,000-row sync, ~5 s of its CPU, 1.8 s of it while mapping.

- ``quiet_gc()`` around a run: inside it ``settle()`` (called where the run has built what it
  keeps: after the read and the mapping, before the pull) moves every object alive then out of
  the collector's sight (``gc.freeze``), so later full collections walk only what is new.
  Objects freed by reference counting are freed as ever; only cycles among them wait.
- ``building()`` around the stages that build those structures (read, map): the youngest
  generation's threshold is raised (``GEN0_THRESHOLD``), so no full collection walks them while
  they grow.  Only there: with the default thresholds afterwards, the cyclic garbage of the
  later stages is collected as soon as ever (a raised threshold for the whole run measured
  ~55 MiB more at the peak).
On exit both are undone exactly: the caller's thresholds come back (unless someone changed them
meanwhile: theirs stand), the frozen objects are handed back to the collector.

Only a speed-up: nothing a run does depends on when cycles are collected.  Safe when nested and
when several runs share the process (the web service runs syncs in threads): the first scope to
enter sets the thresholds, the last to leave restores them.  Each run's end (a thread's
outermost scope) hands every frozen object back, so cyclic garbage never waits longer than one
run even when runs overlap without end (a busy scheduler); a run still working freezes again at
its next ``settle()``.  A caller that froze objects itself before (a server before forking, say)
keeps its freeze: then nothing is frozen or thawed here.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: New container objects between two collections of the youngest generation while a run builds
#: its structures.  At 20,000 a full collection comes at most every ~2 million survivors (10 x 10
#: young ones); cyclic garbage waits for at most 20,000 allocations, against 700 by default.
GEN0_THRESHOLD = 20_000

_lock = threading.Lock()
_depth = 0  # quiet_gc scopes open in this process, all threads
_mine = threading.local()  # .depth: the quiet_gc scopes open in this thread
_freezing = False  # this policy may freeze (nobody else had frozen objects): it thaws them as runs end
_building = 0  # building scopes open in this process, all threads
_restore: tuple[int, int, int] | None = None  # the thresholds found on entering, None: left as found
_raised: tuple[int, int, int] | None = None  # the thresholds set here


@contextmanager
def quiet_gc() -> Iterator[None]:
    """A run's scope: ``settle()`` freezes inside it, its end thaws (re-entrant, thread-safe)."""
    global _depth, _freezing
    with _lock:
        _depth += 1
        _mine.depth = getattr(_mine, "depth", 0) + 1
        if _depth == 1:
            _freezing = gc.get_freeze_count() == 0
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            _mine.depth -= 1
            if _freezing and _mine.depth == 0:  # a run ends: what it (or a concurrent one) froze is collectable again
                gc.unfreeze()
            if _depth == 0:
                _freezing = False


@contextmanager
def building() -> Iterator[None]:
    """The raised gen-0 threshold for the block (re-entrant, thread-safe)."""
    global _building, _restore, _raised
    with _lock:
        _building += 1
        if _building == 1:
            found = gc.get_threshold()
            if 0 < found[0] < GEN0_THRESHOLD:  # 0: the caller switched collection off; keep it so
                _restore, _raised = (found[0], found[1], found[2]), (GEN0_THRESHOLD, found[1], found[2])
                gc.set_threshold(*_raised)
    try:
        yield
    finally:
        with _lock:
            _building -= 1
            if _building == 0:
                if _restore is not None and gc.get_threshold() == _raised:
                    gc.set_threshold(*_restore)
                _restore = _raised = None


def settle() -> None:
    """Inside ``quiet_gc``: what is alive now lives on, keep the collector from walking it again."""
    with _lock:
        if _depth > 0 and _freezing:
            gc.freeze()
