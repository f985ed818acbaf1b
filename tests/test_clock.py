"""The whole suite, run again with the clock years ahead or back and in a far time zone (slow).

``python -m pytest -m slow tests/test_clock.py`` (see the README's testing notes).  Each case runs
the default suite (``-n 2``) in a child pytest whose every process - its xdist workers, the
sandbox, the Sheets emulator, the service and sync processes the tests start, Node - sees the
shifted clock: libfaketime (shipped by the ``libfaketime`` wheel) is preloaded through the
environment, which every child inherits.  The offset is relative, so all the processes agree on
the time and it moves as usual; only the date (and ``TZ``) differ.  The monotonic clock is left
alone: deadlines and timeouts keep their real length.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent

SHIFTS = [  # (days, TZ): years ahead in the first time zone of the day, years back in one of the last
    pytest.param(1650, "Pacific/Kiritimati", id="4.5-years-ahead-Kiritimati"),
    pytest.param(-700, "America/Los_Angeles", id="2-years-back-Los_Angeles"),
]


def shifted_env(days: int, tz: str) -> dict[str, str]:
    import libfaketime

    _, additions = libfaketime.get_reload_information()
    env = {**os.environ, **additions, "TZ": tz, "FAKETIME": f"{days:+d}d", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
           "FAKETIME_NO_CACHE": "0",  # FAKETIME is fixed for the run: re-reading it on every call only slows things
           "PYTHON": sys.executable}
    env.pop("PYTEST_XDIST_WORKER", None)  # the child pytest is a session of its own
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def test_the_shift_reaches_child_processes() -> None:
    """The check below proves nothing unless the shift really applies: Python, and Node under it."""
    env = shifted_env(-700, "America/Los_Angeles")
    expected = (datetime.now(ZoneInfo("America/Los_Angeles")) - timedelta(days=700)).date()
    py = subprocess.run([sys.executable, "-c", "import datetime, time; print(datetime.date.today(), time.strftime('%Z'))"],
                        env=env, capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert abs((datetime.fromisoformat(py[0]).date() - expected).days) <= 1 and py[1] in ("PST", "PDT"), py
    node = subprocess.run(["node", "-e", "console.log(new Date().toISOString().slice(0, 10))"],
                          env=env, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert abs((datetime.fromisoformat(node).date() - expected).days) <= 1, node


@pytest.mark.slow
@pytest.mark.parametrize(("days", "tz"), SHIFTS)
def test_the_suite_passes_with_the_clock_shifted(days: int, tz: str) -> None:
    env = shifted_env(days, tz)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "-m", "not slow",
                           "--ignore", "tests/test_clock.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
    assert done.returncode == 0, tail
    closing = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", closing) and "failed" not in closing and "error" not in closing, tail
    print(f"FAKETIME={env['FAKETIME']} TZ={tz}: {closing}")  # shown with -rA
