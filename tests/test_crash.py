"""Crash trials (see crashlab.py): kill a real sync at random and chosen moments, rerun, check."""
from __future__ import annotations

import os
import signal

import crashlab
import pytest
from util import wait_until


@pytest.mark.parametrize("seed", range(21))
def test_a_killed_sync_is_finished_by_the_next_run(tmp_path, sandbox, launcher, seed):
    crashlab.trial(tmp_path, sandbox, launcher, seed, third_run=seed % 3 == 0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(21, 161))
def test_more_crash_trials(tmp_path, sandbox, launcher, seed):
    crashlab.trial(tmp_path, sandbox, launcher, seed)


@pytest.mark.parametrize("signals", [("SIGINT",), ("SIGTERM",), ("SIGINT", "SIGINT")])
def test_a_stop_inside_a_feed_answer_waits_for_it_to_be_kept(tmp_path, sandbox, launcher, signals):
    """Ctrl-C, SIGTERM, even a second Ctrl-C ("stop at once") while inwise is sending a feed
    answer: the answer is received and kept first, so the next run has every contact."""
    lab = crashlab.make_lab(tmp_path, sandbox, launcher, rows=40, web=1100)
    sandbox.set_faults(feed_pause_ms=1500)
    child = crashlab.start(lab)
    assert sandbox.wait_for_paused_feed_answer(60)
    for n, name in enumerate(signals, 1):
        os.kill(child.pid, getattr(signal, name))
        if n < len(signals):  # the next signal only once this one was taken (it says "Stopping:")
            wait_until(lambda: "Stopping:" in child.stderr() or launcher.poll(child) is not None,
                       f"the sync taking {name}", timeout=60)
    stopped = crashlab.finish(lab, child)
    sandbox.set_faults(feed_pause_ms=0)
    assert stopped.code == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr
    if len(signals) == 2:
        assert "Stopped at once" in stopped.stderr and "sync results" in stopped.stderr  # results in a CSV
    rerun = crashlab.run(lab)
    assert not any("may be missing" in w for w in rerun.summary["warnings"])
    crashlab.check(lab, {"killed": False, "moment": "stop", "feed": sandbox.feed_status()}, rerun, None)


@pytest.mark.parametrize("at", [30, 150, 260])
def test_answers_committed_in_groups_survive_a_kill(tmp_path, sandbox, launcher, at):
    """Per-row answers are committed in groups while the sends go on (sync/recorder.py).  Killed
    (SIGKILL) in the middle of the sends, the run has lost at most the 2 x concurrency answers not
    yet committed; the next run sends exactly the rows whose answer was not kept - no kept answer
    is sent again - and finishes every row."""
    sandbox.set_faults(latency_ms=15, jitter_ms=10, seed=at)
    lab = crashlab.make_lab(tmp_path, sandbox, launcher, rows=320, web=0)
    child = crashlab.start(lab)
    assert crashlab.kill_when(lab, child, lambda: crashlab.posts(sandbox) >= at), "the sync ended first"
    kept = crashlab.store_value(lab, "SELECT COUNT(*) FROM rows") or 0
    rerun = crashlab.run(lab)
    calls = rerun.summary["api_calls"].get("POST /contacts", 0)
    assert calls == lab.sendable() - kept  # exactly the rows whose answer was not kept
    first = crashlab.posts(sandbox) - calls - rerun.summary["retries"]  # what the killed run sent
    assert kept <= first <= kept + 2 * crashlab.CONCURRENCY, (first, kept)
    crashlab.check(lab, {"killed": True, "moment": "sends", "feed": sandbox.feed_status()}, rerun,
                   crashlab.run(lab))
