"""The command line as a user runs it: a real subprocess, real files, a real sandbox."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from util import column, wait_until, write_workbook

from sheets_connector.cli import main, setup_logging

ROWS = [
    ["Dana", "Cohen", "dana@example.co.il", "054-1111111", None],
    ["Rachel", "Green", "rachel@@example.com", None, None],
]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict | None = None) -> Ran:
    """The command as a user types it, in-process (click's CliRunner): exit code, stdout, stderr."""
    e: dict[str, str | None] = {"INWISE_API_KEY": None, "COLUMNS": "200"}
    e.update(env or {})
    r = CliRunner().invoke(main, list(args), env=e, catch_exceptions=False)
    return Ran(r.exit_code, r.stdout, r.stderr)


def write_mapping(tmp: Path, base_url: str, extra: str = "") -> Path:
    p = tmp / "mapping.yaml"
    p.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx}}
columns:
  email: Email
  mobile: Mobile
  fields: {{1: First name, 2: Last name}}
inwise:
  base_url: {base_url}
{extra}""", encoding="utf-8")
    return p


def test_config_error_exits_2_without_traceback(tmp_path):
    p = tmp_path / "mapping.yaml"
    p.write_text("source: {type: xlsx, path: c.xlsx}\ncolumns:\n  email: Email\ninwise:\n  mode: bulk\n")
    r = run("sync", "--config", str(p))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "line 5" in r.stderr and "inwise.mode" in r.stderr


def test_missing_header_in_sheet_exits_2_and_suggests(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", ROWS, header=["First name", "Last name", "E-mail", "Mobile", "B"])
    r = run("check", "--config", str(write_mapping(tmp_path, sandbox.base_url)))
    assert r.returncode == 2 and "Did you mean 'E-mail'" in r.stderr and "Traceback" not in r.stderr
    assert "mapping.yaml, line 3 (columns.email)" in r.stderr


def test_check_prints_mapping_and_preview(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    r = run("check", "--config", str(write_mapping(tmp_path, sandbox.base_url)))
    assert r.returncode == 0, r.stderr
    assert "Mapping OK" in r.stdout and "(personal field 1)" in r.stdout and "Sync result (new column)" in r.stdout
    assert "row 2: dana@example.co.il · +972541111111 · First name = Dana · Last name = Cohen" in r.stdout
    assert "add_default_country" not in r.stdout  # raw API JSON only with sync --dry-run --json
    assert "row 3" in r.stdout and "rachel@@example.com" in r.stdout
    assert sandbox.stats()["total"] == 0


def test_sync_json(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    r = run("sync", "--config", str(write_mapping(tmp_path, sandbox.base_url)), "--json",
            env={"INWISE_API_KEY": "test-key"})
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["counts"]["created"] == 1 and d["counts"]["invalid"] == 1
    assert d["api_calls"] == {"POST /contacts": 1, "GET /contacts": 1}
    assert d["written_to"] == str(wb)
    assert column(wb, "Sync result")[2].startswith("✓ created")


def test_sync_dry_run_prints_preview(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    before = wb.read_bytes()
    r = run("sync", "--config", str(write_mapping(tmp_path, sandbox.base_url)), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "dry run" in r.stdout and "would send" in r.stdout and "972541111111" in r.stdout
    assert wb.read_bytes() == before and sandbox.stats()["total"] == 0


def test_missing_api_key_is_a_clear_error(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    r = run("sync", "--config", str(write_mapping(tmp_path, sandbox.base_url)))
    assert r.returncode == 2 and "INWISE_API_KEY is not set" in r.stderr and "Traceback" not in r.stderr


def test_wrong_api_key_never_printed(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    r = run("sync", "--config", str(write_mapping(tmp_path, sandbox.base_url)),
            env={"INWISE_API_KEY": "s3cr3t-wrong"})
    assert r.returncode == 1 and "401" in r.stderr
    assert "s3cr3t-wrong" not in r.stderr + r.stdout


def test_demo_command(tmp_path):
    r = run("demo", "--workdir", str(tmp_path / "demo"), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    c = d["counts"]
    assert c["created"] >= 15 and c["updated"] == 2 and c["conflict"] == 1
    assert c["invalid"] == 3 and c["missing"] == 1 and c["duplicate"] == 2 and c["error"] == 0
    wb = Path(d["demo"]["workbook"])
    assert wb == tmp_path / "demo" / "contacts.xlsx"
    ws = load_workbook(wb)
    assert {"Contacts", "About", "New contacts"} <= set(ws.sheetnames)
    assert ws["About"]["B3"].value.startswith("=COUNTA")  # formula kept
    new_tab = list(ws["New contacts"].iter_rows(values_only=True))
    assert d["new_contacts_appended"] == c["created"] == len(new_tab) - 1
    heads = [x.value for x in ws["Contacts"][1]]
    status = {i + 2: r[heads.index("Sync result")] for i, r in enumerate(ws["Contacts"].iter_rows(min_row=2, values_only=True))}
    assert status[14] is None and status[13].startswith("✗ conflict: email → #")
    assert status[3].startswith("✓ updated") and status[2].startswith("✓ created")


def test_demo_human_output_and_rerun(tmp_path):
    for _ in range(2):  # running it twice works (fresh copy, fresh sandbox)
        r = run("demo", "--workdir", str(tmp_path / "demo"))
        assert r.returncode == 0, r.stderr
    assert "✓ created" in r.stdout and "conflict" in r.stdout and "Open the updated workbook" in r.stdout
    assert "row 15: ✗ no email or mobile" in r.stdout


def test_sandbox_command_serves(tmp_path):
    import re

    import requests

    e = {k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}
    # --port 0: the sandbox binds a free port itself and says which one when it is listening
    proc = subprocess.Popen([sys.executable, "-m", "sheets_connector", "sandbox", "--port", "0",
                             "--api-key", "k1", "--demo-contacts"], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        found = re.fullmatch(r"inwise sandbox listening on http://127\.0\.0\.1:(\d+)/rest/v1 \(API key: set\)\n", ready)
        assert found, ready
        port = int(found[1])
        url = f"http://127.0.0.1:{port}/rest/v1/contacts"
        r = requests.get(url, headers={"X-API-Key": "k1"}, timeout=10)
        assert r.status_code == 200 and r.json() == []  # seeded contacts are not "new"
        assert requests.get(url, headers={"X-API-Key": "nope"}, timeout=1).status_code == 401
        all_ = requests.get(f"http://127.0.0.1:{port}/_sandbox/contacts", timeout=1).json()
        assert len(all_) == 4
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert "k1" not in out + err


def test_demo_batch_mode(tmp_path):
    r = run("demo", "--workdir", str(tmp_path / "demo"), "--mode", "batch", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    c = d["counts"]
    # batchInsert gives no per-row answer: the conflict row cannot be told apart from an update
    assert c["created"] == 21 and c["invalid"] == 3 and c["missing"] == 1 and c["duplicate"] == 2 and c["error"] == 0
    assert c["updated"] == 3 and c["conflict"] == 0
    assert d["api_calls"]["POST /contacts/batchInsert"] == 2  # Israeli numbers, then the foreign ones


def test_real_ctrl_c_writes_what_was_sent_and_exits_130(tmp_path, sandbox):
    import signal

    rows = [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(400)]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows)
    sandbox.set_faults(latency_ms=30)
    e = {k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}
    e["INWISE_API_KEY"] = "test-key"
    proc = subprocess.Popen([sys.executable, "-m", "sheets_connector", "sync", "--config",
                             str(write_mapping(tmp_path, sandbox.base_url, "  concurrency: 4\n"))],
                            env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: sandbox.stats()["total"] >= 40 or proc.poll() is not None, "40 requests sent")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Stopped by you" in err and "Traceback" not in err
    res = column(wb, "Sync result")
    created = sum(1 for v in res.values() if v and v.startswith("✓ created"))
    not_sent = sum(1 for v in res.values() if v and "not sent" in v)
    assert created == len(sandbox.contacts()) and created >= 40 and created + not_sent == 400


def test_library_warnings_are_one_line_and_tracebacks_only_with_debug(capsys):
    log = logging.getLogger("sheets_connector.tables.xlsx")
    try:
        raise OSError("disk says no")
    except OSError:
        setup_logging(debug=False)
        log.warning("could not keep a backup", exc_info=True)
        setup_logging(debug=True)
        log.warning("could not keep a backup", exc_info=True)
    setup_logging(debug=False)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Warning: could not keep a backup"
    assert err[1] == "Warning: could not keep a backup" and err[2].startswith("Traceback")
    assert any("OSError: disk says no" in line for line in err[2:])
