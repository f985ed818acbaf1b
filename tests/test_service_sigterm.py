"""SIGTERM to a real ``serve`` process during a run: the run is cancelled, its results written."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from service_helpers import (
    SECRETS,
    body_of,
    post_sync,
    stored_run,
    wait_for_state,
    write_sheet_config,
)
from util import column

HERE = Path(__file__).resolve().parent


def test_sigterm_during_a_run_cancels_it_after_its_results_are_written(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    write_sheet_config(configs, "sheet-a", "SHEET_A_SECRET")
    env = {**os.environ, "SHEET_A_SECRET": SECRETS["sheet-a"], "PYTHONPATH": str(HERE.parent)}
    db = str(tmp_path / "state.db")
    proc = subprocess.Popen([sys.executable, str(HERE / "service_proc.py"), str(configs), db, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        base = proc.stdout.readline().strip() if proc.stdout else ""
        assert base.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        r = post_sync(base, body_of("sheet-a"), SECRETS["sheet-a"])
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        wait_for_state(base, run_id, SECRETS["sheet-a"], {"running"},
                       until=lambda s: s["progress"] is not None and s["progress"]["done"] >= 3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    run = stored_run(db, run_id)
    assert run is not None and run.state == "cancelled" and run.finished_at is not None
    assert run.error is not None and "shutting down" in run.error
    lines = (tmp_path / "sheet-a.log").read_text(encoding="utf-8").splitlines()
    sent = len(lines) - 1
    assert sent >= 3 and lines[-1] == f"results written for {sent} rows"
    assert run.result is not None and run.result.counts == {"created": sent} and run.result.interrupted
    events = [json.loads(line) for line in err.splitlines()]
    names = [e["event"] for e in events]
    assert names.index("stopping") < names.index("run") < names.index("stopped")
    assert next(e for e in events if e["event"] == "run")["state"] == "cancelled"
    assert SECRETS["sheet-a"] not in err


def test_the_serve_command_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    write_sheet_config(tmp_path, "sheet-a", "UNSET_SECRET_VARIABLE")
    env = {k: v for k, v in os.environ.items() if k != "UNSET_SECRET_VARIABLE"}
    done = subprocess.run([sys.executable, "-m", "sheets_connector", "serve", "--configs", str(tmp_path), "--port", "0"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2
    assert "environment variable UNSET_SECRET_VARIABLE is empty or not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_sigterm_during_a_real_sync_writes_the_sent_rows_results_and_cancels_the_run(tmp_path: Path) -> None:
    """The real runner: the demo workbook synced to a slow inwise sandbox, SIGTERM while sending."""
    helper = HERE.parent / "apps_script" / "test" / "service_for_tests.py"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    proc = subprocess.Popen([sys.executable, str(helper), "--latency-ms", "300", "--concurrency", "1",
                             "--workdir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        info = json.loads(proc.stdout.readline()) if proc.stdout else {}
        assert info, proc.stderr.read() if proc.stderr else ""
        r = post_sync(info["url"], body_of(info["spreadsheet_id"]), info["secret"])
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        wait_for_state(info["url"], run_id, info["secret"], {"running"},
                       until=lambda s: (s["progress"] or {}).get("stage") == "send" and s["progress"]["done"] >= 2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    run = stored_run(str(tmp_path / "sheets" / ".sheets-connector" / "state.db"), run_id)  # the mapping's state_dir
    assert run is not None and run.state == "cancelled", err
    assert run.result is not None and run.result.interrupted
    sent = run.result.counts["created"] + run.result.counts["updated"] + run.result.counts["conflict"]
    results = column(tmp_path / "sheets" / "contacts.xlsx", "Sync result")
    done = [v for v in results.values() if isinstance(v, str) and v.startswith(("✓", "✗ conflict"))]
    untouched = [v for v in results.values() if v in (None, "")]
    assert 2 <= sent == len(done) < 24
    # a deploy: the rows not sent keep their previous result (none yet), not a red "not sent"
    assert len(untouched) >= 24 - sent and not any(isinstance(v, str) and v.startswith("✗ not sent") for v in results.values())
    assert info["secret"] not in err
