"""The command line on a Google Sheet, as a user runs it: check, sync --json, the Sheets demo and
a real Ctrl-C, against the Sheets emulator and the inwise sandbox on 127.0.0.1."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from gsheets_util import SHEET_HEADER, rsa_key_pair, sheet_column, sheet_mapping, write_key_file
from util import wait_until

from sheets_connector.cli import main
from sheets_connector.sheets_emulator import SheetsEmulator

ROWS = [
    ["Dana", "Cohen", "dana@example.co.il", "054-1111111", None],
    ["Rachel", "Green", "rachel@@example.com", None, None],
]
BOT = "sync-bot@test-project.iam.gserviceaccount.com"


def run(*args: str, env: dict | None = None):
    e: dict[str, str | None] = {"INWISE_API_KEY": None, "GOOGLE_APPLICATION_CREDENTIALS": None, "COLUMNS": "200"}
    e.update(env or {})
    return CliRunner().invoke(main, list(args), env=e, catch_exceptions=False)


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def mapping_file(tmp_path: Path, emu: SheetsEmulator, key: str, base_url: str, **kw) -> str:
    p = tmp_path / "mapping.yaml"
    p.write_text(sheet_mapping(emu, key, base_url, **kw), encoding="utf-8")
    return str(p)


def service_account(emu: SheetsEmulator, tmp_path: Path) -> str:
    """A key file for BOT whose sign-in goes to the emulator's token endpoint."""
    private, public = rsa_key_pair()
    emu.add_service_account(BOT, public)
    write_key_file(tmp_path / "bot-key.json", BOT, private, emu.token_uri)
    return "  credentials: bot-key.json\n"


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------
def test_check_says_who_connects_whether_it_may_edit_and_the_tabs(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS], "Notes": [["x"]]}, title="Club members",
                                 shared_with=[BOT])
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url, source_extra=service_account(emu, tmp_path)))
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"Connects as:    the service account {BOT}"
    assert lines[1] == f"Spreadsheet:    'Club members'  {emu.url(key)}#gid=0"
    assert lines[2] == "Shared with it: yes, as an editor (the results can be written)"
    assert lines[3] == "Tabs it sees:   'Contacts' (the contacts), 'Notes'"
    assert "the tab 'New contacts' for new contacts does not exist yet: the first sync creates it" in lines[4]
    assert "Mapping OK for Google Sheet 'Club members', tab 'Contacts' (header on row 1)" in r.stdout
    assert "(personal field 1)" in r.stdout and "Sync result (new column)" in r.stdout  # the column mapping
    assert "row 2: dana@example.co.il · +972541111111 · First name = Dana · Last name = Cohen" in r.stdout
    assert "row 3" in r.stdout and "rachel@@example.com" in r.stdout
    # nothing sent to inwise; the sheet is as it was (the edit check rewrote the title it had)
    assert sandbox.stats()["total"] == 0
    assert emu.values(key, "Contacts") == [SHEET_HEADER, *[[v for v in r if v is not None] for r in ROWS]]
    assert emu.tabs(key) == ["Contacts", "Notes"]
    counts = emu.request_counts()
    assert counts["sheets.spreadsheets.get"] == 2 and counts["sheets.spreadsheets.batchUpdate"] == 1
    assert "PRIVATE" not in r.stdout + r.stderr


def test_check_names_the_new_contacts_tab_when_it_exists(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS], "New contacts": [["inwise ID"]]})
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"Connects as:    the emulator's account {emu.account}"
    assert "Tabs it sees:   'Contacts' (the contacts), 'New contacts' (new contacts are added here)" in r.stdout
    assert "does not exist yet" not in r.stdout


@pytest.mark.parametrize("shared, message", [
    (["someone@example.com"], f"is not shared with the service account {BOT} (or only for viewing), so the connector "
                              f"cannot open it. In Google Sheets click Share, add {BOT} as an Editor, and run again."),
    ({BOT: "reader"}, f"is shared with {BOT} for viewing only, so the results could not be written into it. In Google "
                      f"Sheets click Share, make {BOT} an Editor, and run again."),
])
def test_check_says_which_email_to_share_the_sheet_with(tmp_path, emu, sandbox, shared, message):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS]}, title="Club members", shared_with=shared)
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url, source_extra=service_account(emu, tmp_path)))
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0] == f"Connects as:    the service account {BOT}"
    assert message in r.stderr
    assert "Traceback" not in r.stderr and "Mapping OK" not in r.stdout
    assert emu.values(key, "Contacts")[0] == SHEET_HEADER


def test_check_refuses_a_protected_contacts_tab(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS]})
    emu.protect(key, "Contacts", editors=["owner@example.com"])
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url))
    assert r.exit_code == 1 and "is protected" in r.stderr and "Data > Protect sheets and ranges" in r.stderr


def test_check_lists_the_tabs_when_the_worksheet_is_wrong(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contact list": [SHEET_HEADER, *ROWS]})
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url))
    assert r.exit_code == 2 and "Its tabs are: 'Contact list'. Did you mean 'Contact list'?" in r.stderr


def test_check_with_a_missing_key_file_or_a_wrong_address(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS]})
    r = run("check", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url, source_extra="  credentials: nowhere.json\n"))
    assert r.exit_code == 2 and "nowhere.json (mapping.yaml, line 6 (source.credentials)) does not exist" in r.stderr
    assert "Connects as" not in r.stdout and "Traceback" not in r.stderr
    r = run("check", "--config", mapping_file(tmp_path, emu, "x" * 44, sandbox.base_url))
    assert r.exit_code == 1 and "Google has no spreadsheet" in r.stderr and "copy the whole address" in r.stderr


# ---------------------------------------------------------------------------------------------
# sync --json, Ctrl-C
# ---------------------------------------------------------------------------------------------
def test_sync_json_on_a_google_sheet(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS]})
    r = run("sync", "--config", mapping_file(tmp_path, emu, key, sandbox.base_url), "--json",
            env={"INWISE_API_KEY": "test-key"})
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["counts"]["created"] == 1 and d["counts"]["invalid"] == 1 and d["rows_sent"] == 1
    assert d["written_to"] == emu.url(key) + "#gid=0" and d["problems"][0]["row"] == 3
    assert sheet_column(emu, key, "Sync result")[2].startswith("✓ created")


def test_real_ctrl_c_on_a_google_sheet_writes_what_was_sent_and_exits_130(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *[[f"P{i}", "T", f"p{i}@example.com", None, None]
                                                              for i in range(400)]]})
    sandbox.set_faults(latency_ms=30)
    env = {k: v for k, v in os.environ.items() if k not in ("INWISE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")}
    env["INWISE_API_KEY"] = "test-key"
    proc = subprocess.Popen([sys.executable, "-m", "sheets_connector", "sync", "--config",
                             mapping_file(tmp_path, emu, key, sandbox.base_url)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: sandbox.stats()["total"] >= 40 or proc.poll() is not None, "40 requests sent")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Stopped by you" in err and "Traceback" not in err
    res = sheet_column(emu, key, "Sync result")
    created = sum(1 for v in res.values() if v and v.startswith("✓ created"))
    not_sent = sum(1 for v in res.values() if v and "not sent" in v)
    assert created == len(sandbox.contacts()) and created >= 40 and created + not_sent == 400


# ---------------------------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------------------------
def test_demo_on_a_google_sheet(tmp_path):
    r = run("demo", "--source", "google-sheet", "--workdir", str(tmp_path / "demo"), "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    c = d["counts"]  # the same outcomes as the .xlsx demo
    assert c["created"] >= 15 and c["updated"] == 2 and c["conflict"] == 1
    assert c["invalid"] == 3 and c["missing"] == 1 and c["duplicate"] == 2 and c["error"] == 0
    assert d["source"] == "Google Sheet 'Contacts (demo)', tab 'Contacts'"
    mapping = Path(d["demo"]["mapping"])
    assert "type: google_sheet" in mapping.read_text(encoding="utf-8")
    with open(d["demo"]["tab Contacts"], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    status = {n: dict(zip(rows[0], r)).get("Sync result", "") for n, r in enumerate(rows[1:], start=2)}
    assert status[2].startswith("✓ created") and status[3].startswith("✓ updated")
    assert status[13].startswith("✗ conflict: email → #") and status[14] == ""
    assert dict(zip(rows[0], rows[1]))["Birthday"] == "12/06/1980"  # a date cell, shown in its format
    with open(d["demo"]["tab New contacts"], encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == c["created"] + 1


def test_demo_on_a_google_sheet_shows_the_sheet_in_the_terminal(tmp_path):
    r = run("demo", "--source", "sheets", "--workdir", str(tmp_path / "demo"))
    assert r.exit_code == 0, r.stderr
    assert "The Google Sheet after the sync, tab 'Contacts'" in r.stdout
    assert "dana.cohen@example.co.il" in r.stdout and "✓ created · #" in r.stdout
    assert "google-sheet Contacts.csv" in r.stdout and "google-sheet-mapping.yaml" in r.stdout
    assert "docs.google.com" not in r.stdout  # the emulator's sheet has no address in Google
