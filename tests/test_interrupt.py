"""Ctrl-C at any moment of a real sync process: exit 130, and every row sent has its result.

Each trial starts `sheets-connector sync` on a workbook against the sandbox (with latency, so a
run lasts a few seconds), presses Ctrl-C (SIGINT) at a chosen moment, and checks the invariants
against the sandbox's inspection endpoints and the saved workbook.  The default suite runs a few
moments; `-m slow` runs ten at seeded random moments of a 2,000-row sync.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from util import HEADER, column, wait_until, write_workbook


def _mapping(tmp: Path, base_url: str) -> Path:
    p = tmp / "mapping.yaml"
    p.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx}}
columns: {{email: Email, mobile: Mobile, fields: {{1: First name}}}}
inwise: {{base_url: {base_url}, concurrency: 8}}
""", encoding="utf-8")
    return p


def _requests(sandbox, key: str | None = None) -> int:
    st = sandbox.stats()
    if key is None:
        return st["total"]
    return sum(st["requests"].get(key, {}).values())


def interrupt_trial(tmp: Path, sandbox, rows: int, when: tuple[str, int], presses: int = 1) -> dict:
    """Run a sync, press Ctrl-C when ``when`` = (request kind, count) is reached, check invariants."""
    wb = write_workbook(tmp / "contacts.xlsx", [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(rows)])
    env = {k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}
    env["INWISE_API_KEY"] = "test-key"
    proc = subprocess.Popen([sys.executable, "-m", "sheets_connector", "sync", "--config",
                             str(_mapping(tmp, sandbox.base_url))], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kind, count = when
    key = {"send": "POST /contacts", "pull": "GET /contacts"}[kind]
    deadline = time.monotonic() + 60
    while _requests(sandbox, key) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    lines: list[str] = []
    stopping = threading.Event()

    def read_stderr() -> None:  # stderr is drained here, so stdout can be read to its end below
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("Stopping:"):
                stopping.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    for press in range(1, presses + 1):
        proc.send_signal(signal.SIGINT)
        if press < presses:  # the next press only once this one was taken
            wait_until(lambda: stopping.is_set() or proc.poll() is not None, "the sync taking Ctrl-C", timeout=60)
    assert proc.stdout is not None
    proc.stdout.read()  # to its end: the sync closed it
    proc.wait(timeout=120)
    reader.join(30)
    err = "".join(lines)
    assert "Traceback" not in err, err
    assert proc.returncode == 130, (proc.returncode, err)
    created = {c["email"] for c in sandbox.contacts()}
    if presses > 1 and "NOT written" in err:
        csv_path = next(Path(tmp).glob("contacts sync results *.csv"))
        text = csv_path.read_text(encoding="utf-8-sig")
        assert all(email in text for email in created)  # every sent row's result is in the CSV
        return {"exit": proc.returncode, "sent": len(created), "where": "csv"}
    res = column(wb, "Sync result")
    emails = column(wb, "Email")
    assert len(res) == rows and all(v for v in res.values())  # every row has a status
    for r, v in res.items():
        if v.startswith("✓"):
            assert emails[r] in created, (r, v)
        else:
            assert "not sent" in v and emails[r] not in created, (r, v)
    # a contact inwise created says so, unless the stop came before its page of the feed was read
    # ("✓ synced": created or updated, not known yet); never "updated"
    marks = [v for v in res.values() if v.startswith(("✓ created", "✓ synced"))]
    assert len(marks) == len(created) and not any(v.startswith("✓ updated") for v in res.values())
    return {"exit": proc.returncode, "sent": len(created), "where": "workbook"}


@pytest.mark.parametrize("when", [("send", 1), ("send", 150), ("pull", 1)], ids=["first-send", "mid-send", "pull"])
def test_ctrl_c_at_a_moment_exits_130_with_every_sent_row_written(tmp_path, sandbox, when):
    sandbox.set_faults(latency_ms=15)
    interrupt_trial(tmp_path, sandbox, 300, when)


def test_a_second_ctrl_c_stops_at_once_and_says_where_the_results_are(tmp_path, sandbox):
    sandbox.set_faults(latency_ms=15)
    interrupt_trial(tmp_path, sandbox, 300, ("send", 60), presses=2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_ctrl_c_at_random_moments_of_a_2000_row_sync(tmp_path, sandbox, seed):
    rng = random.Random(seed)
    sandbox.set_faults(latency_ms=10)
    when = ("pull", 1) if seed % 5 == 4 else ("send", rng.randint(1, 1900))
    interrupt_trial(tmp_path, sandbox, 2000, when)


def test_sigterm_of_a_deploy_leaves_unsent_rows_with_their_previous_result(tmp_path, sandbox):
    """A deploy (SIGTERM, as Kubernetes stops a CronJob's sync) is not a person's stop: rows not
    sent keep what they said (not a red 'not sent'), and the next sync sends exactly them."""
    rows = 200
    wb = write_workbook(tmp_path / "contacts.xlsx", [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(rows)])
    mapping = str(_mapping(tmp_path, sandbox.base_url))
    env = {**{k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}, "INWISE_API_KEY": "test-key"}
    first = subprocess.run([sys.executable, "-m", "sheets_connector", "sync", "--config", mapping], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    before = column(wb, "Sync result")
    assert all(v.startswith("✓ created") for v in before.values())
    # staff edit every name; the results column says what the first sync did
    write_workbook(wb, [[f"Edited{i}", "T", f"p{i}@example.com", None, None, before[i + 2]] for i in range(rows)],
                   header=[*HEADER, "Sync result"])
    sandbox.reset_stats()
    sandbox.set_faults(latency_ms=15)
    proc = subprocess.Popen([sys.executable, "-m", "sheets_connector", "sync", "--config", mapping], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _requests(sandbox, "POST /contacts") < 40 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    sent = _requests(sandbox, "POST /contacts")
    after = column(wb, "Sync result")
    updated = [r for r, v in after.items() if v.startswith("✓ updated")]
    kept = [r for r, v in after.items() if v == before[r]]
    assert 40 <= sent < rows and len(updated) == sent and len(kept) == rows - sent, (sent, set(after.values()))
    assert not any("not sent" in v for v in after.values())
    said = " ".join((out + err).split())
    assert f"the other {rows - sent} keep their previous result and are sent by the next sync" in said, said
    sandbox.reset_stats()
    sandbox.set_faults(latency_ms=0)
    third = subprocess.run([sys.executable, "-m", "sheets_connector", "sync", "--config", mapping], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert third.returncode == 0, third.stderr
    assert _requests(sandbox, "POST /contacts") == rows - sent  # exactly the rows the deploy left
    assert all(v.startswith("✓ updated") for v in column(wb, "Sync result").values())
