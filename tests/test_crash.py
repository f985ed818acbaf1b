"""Crash trials (see crashlab.py): kill a real sync at random and chosen moments, rerun, check."""
from __future__ import annotations

import crashlab
import pytest


@pytest.mark.parametrize("seed", range(21))
def test_a_killed_sync_is_finished_by_the_next_run(tmp_path, sandbox, launcher, seed):
    crashlab.trial(tmp_path, sandbox, launcher, seed, third_run=seed % 3 == 0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(21, 161))
def test_more_crash_trials(tmp_path, sandbox, launcher, seed):
    crashlab.trial(tmp_path, sandbox, launcher, seed)
