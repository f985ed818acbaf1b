"""``sheets-connector init <Google Sheet address>`` as a user runs it, against the Sheets emulator:
the mapping is written from the sheet's header row, loads, and ``check`` passes with it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from gsheets_util import rsa_key_pair, write_key_file

from sheets_connector.cli import main
from sheets_connector.config import load_config
from sheets_connector.sheets_emulator import SheetsEmulator

BOT = "init-bot@office-project.iam.gserviceaccount.com"
HEADER = ["שם פרטי", "Last name", "E-mail", "נייד", "Birthday", "Notes"]
ROWS = [["דנה", "Cohen", "dana@example.co.il", "054-1111111", dt.date(1980, 6, 12), "VIP"],
        ["Yossi", "Levi", "yossi@example.co.il", "052-1234567", None, None]]


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def run(*args: str, env: dict | None = None):
    e: dict[str, str | None] = {"INWISE_API_KEY": None, "GOOGLE_APPLICATION_CREDENTIALS": None, "COLUMNS": "200"}
    e.update(env or {})
    return CliRunner().invoke(main, list(args), env=e, catch_exceptions=False)


def key_file(emu: SheetsEmulator, folder: Path) -> Path:
    private, public = rsa_key_pair()
    emu.add_service_account(BOT, public)
    folder.mkdir(parents=True, exist_ok=True)
    return write_key_file(folder / "office-key.json", BOT, private, emu.token_uri)


def test_init_writes_a_mapping_from_the_sheets_header_row_below_a_title(emu, tmp_path, monkeypatch):
    key = emu.create_spreadsheet({"Members": [["Club members 2024"], [], HEADER, *ROWS], "Archive": [["x"]]},
                                 title="Club / members", shared_with=[BOT])
    keys = key_file(emu, tmp_path / "secrets")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = run("init", emu.url(key) + "#gid=0", "--credentials", str(keys), "--api-url", emu.api_url)
    assert r.exit_code == 0, r.output
    mapping = work / "Club - members.mapping.yaml"  # the title, made a file name
    assert "Wrote Club - members.mapping.yaml for the Google Sheet 'Club / members', sheet 'Members' (headers in row 3)." in r.stdout
    assert "email" in r.stdout and "column C 'E-mail'" in r.stdout and "column D 'נייד'" in r.stdout
    assert "Connects as:    the service account " + BOT in r.stdout  # init runs check with the new mapping
    assert "Mapping OK for Google Sheet 'Club / members', tab 'Members' (header on row 3)" in r.stdout
    text = mapping.read_text(encoding="utf-8")
    assert "type: google_sheet" in text and f"https://docs.google.com/spreadsheets/d/{key}/edit" in text
    assert "credentials: '../secrets/office-key.json'" in text  # relative to the mapping, as for a workbook
    cfg = load_config(mapping)
    assert cfg.source.type == "google_sheet" and cfg.source.worksheet == "Members" and cfg.source.header_row == 3
    assert cfg.columns.email == "E-mail" and cfg.columns.mobile == "נייד"
    assert cfg.columns.field_columns()[1].column == "שם פרטי" and cfg.columns.field_columns()[21].column == "Birthday"
    assert emu.values(key, "Members")[2] == HEADER  # init wrote nothing into the sheet


def test_init_by_key_with_the_environment_variable_and_an_output_name(emu, tmp_path, monkeypatch):
    key = emu.create_spreadsheet({"Contacts": [HEADER, *ROWS]}, shared_with=[BOT])
    keys = key_file(emu, tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("init", key, "--output", "club.yaml", "--api-url", emu.api_url,
            env={"GOOGLE_APPLICATION_CREDENTIALS": str(keys)})
    assert r.exit_code == 0, r.output
    text = (tmp_path / "club.yaml").read_text(encoding="utf-8")
    assert "# credentials: the key file is read from GOOGLE_APPLICATION_CREDENTIALS" in text
    assert load_config(tmp_path / "club.yaml").columns.email == "E-mail"


def test_init_on_a_sheet_not_shared_says_whom_to_share_it_with_and_writes_nothing(emu, tmp_path, monkeypatch):
    key = emu.create_spreadsheet({"Contacts": [HEADER, *ROWS]}, title="Members", shared_with=["boss@example.com"])
    keys = key_file(emu, tmp_path)
    monkeypatch.chdir(tmp_path)
    r = run("init", emu.url(key), "--credentials", str(keys), "--api-url", emu.api_url)
    assert r.exit_code == 1
    assert f"click Share, add {BOT} as an Editor" in r.stderr and "Traceback" not in r.stderr
    assert not list(tmp_path.glob("*.yaml"))


def test_init_without_credentials_says_which_to_give(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("init", "https://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit")
    assert r.exit_code == 2
    assert "--credentials key.json" in r.stderr and "--oauth" in r.stderr
    assert "does not exist" not in r.stderr  # not looking for a local file named like the address
    assert not list(tmp_path.glob("*.yaml"))
