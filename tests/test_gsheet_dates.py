"""Dates in a Google Sheet follow the spreadsheet's locale: what staff type is parsed by the
emulator the way Google does (USER_ENTERED, the sheet's locale), and ``check`` and the sync say in
words where the locale and the mapping's date_format disagree or a column mixes typed text and real
dates, before anything is sent."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from gsheets_util import SHEET_HEADER, gspread_client, sheet_mapping

from sheets_connector.cli import main
from sheets_connector.sheet_dates import format_order, read_text_date, sheet_locale
from sheets_connector.sheets_emulator import SheetsEmulator

PEOPLE = [["Dana", "Cohen", "dana@example.co.il"], ["Rachel", "Green", "rachel@example.com"],
          ["Noa", "Levi", "noa@example.co.il"], ["Avi", "Katz", "avi@example.co.il"]]


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def run(*args: str):
    env = {"INWISE_API_KEY": "test-key", "GOOGLE_APPLICATION_CREDENTIALS": None, "COLUMNS": "400"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def staff_type(emu: SheetsEmulator, locale: str, birthdays: list[str]) -> str:
    """A sheet in ``locale`` where staff typed the birthdays in the UI (USER_ENTERED)."""
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *[[*p, None, None] for p in PEOPLE]]}, locale=locale)
    ws = gspread_client(emu).open_by_key(key).worksheet("Contacts")
    ws.update([[b] for b in birthdays], f"E2:E{1 + len(birthdays)}", value_input_option="USER_ENTERED")
    return key


def mapping(tmp_path: Path, emu: SheetsEmulator, key: str, base_url: str, date_format: str = "dd/mm/yyyy") -> str:
    p = tmp_path / "mapping.yaml"
    p.write_text(sheet_mapping(emu, key, base_url, extra="", source_extra="") + f"date_format: {date_format}\n",
                 encoding="utf-8")
    return str(p)


def birthdays(sandbox) -> dict[str, str | None]:
    return {c["email"]: next((f["content"] for f in c["fields"] if f["name"] == "field21"), None)
            for c in sandbox.contacts()}


# The case: a US-locale sheet, staff who type day first.
US_TYPED = ["03/04/1985", "15/04/1985", "12/25/1985", "'4/7/1985"]


def test_the_emulator_parses_typed_dates_by_the_sheets_locale(emu):
    key = staff_type(emu, "en_US", US_TYPED)
    values = emu.values(key, "Contacts", render="FORMATTED_VALUE")
    assert [r[4] for r in values[1:]] == ["3/4/1985", "15/04/1985", "12/25/1985", "4/7/1985"]
    cells = [emu.cell(key, "Contacts", f"E{n}") for n in range(2, 6)]
    assert cells[0].fmt.type == "DATE" and cells[2].fmt.type == "DATE"  # real dates (serials)
    assert isinstance(cells[1].value, str) and isinstance(cells[3].value, str)  # text
    gb = staff_type(emu, "en_GB", ["03/04/1985"])
    assert emu.values(gb, "Contacts", render="FORMATTED_VALUE")[1][4] == "03/04/1985"
    assert emu.values(gb, "Contacts")[1][4] == emu.values(key, "Contacts")[1][4] + 30  # 3 April vs 4 March


def test_check_says_which_rows_may_be_swapped_and_what_to_do(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_US", US_TYPED)
    r = run("check", "--config", mapping(tmp_path, emu, key, sandbox.base_url))
    assert r.exit_code == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("Warning:")]
    swapped = next(w for w in warnings if "locale is United States (en_US)" in w)
    assert "'Birthday' (column E)" in swapped and "reads a typed date month first" in swapped
    assert "date_format (dd/mm/yyyy) is day first" in swapped
    assert ("Rows 2, 5 hold dates that read both ways (row 2 shows 3/4/1985, which the sheet holds as 4 March 1985 "
            "and the connector sends as 04/03/1985): check them.") in swapped
    assert "Row 3 ('15/04/1985') is no date read month first, so it is not sent." in swapped
    assert "File > Settings > Locale" in swapped and "date_format to mm/dd/yyyy" in swapped
    mixed = next(w for w in warnings if "mixes real dates" in w)
    assert "mixes real dates (rows 2, 4) with dates typed as text (rows 3, 5, e.g. '15/04/1985' on row 3)" in mixed
    assert "Format > Number > Date" in mixed
    # the row whose text is no date in this sheet's locale: held back, with what to do
    assert ("row 3: ✗ '15/04/1985' in column 'Birthday' is not a date the way this sheet reads dates (month first, "
            "locale United States (en_US)) - type it month first (for 15 April 1985: 4/15/1985), or change the "
            "sheet's locale (File > Settings), and sync again") in r.stdout
    assert "row 2: dana@example.co.il · Birthday = 04/03/1985" in r.stdout.replace("First name = Dana · Last name = Cohen · ", "")
    assert sandbox.stats()["total"] == 0


def test_sync_sends_the_dates_the_sheet_holds_and_records_the_warnings(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_US", US_TYPED)
    r = run("sync", "--config", mapping(tmp_path, emu, key, sandbox.base_url), "--json")
    assert r.exit_code in (0, 1), r.stderr
    d = json.loads(r.stdout)
    assert any("locale is United States" in w for w in d["warnings"])
    assert any("mixes real dates" in w for w in d["warnings"])
    sent = birthdays(sandbox)
    assert sent["dana@example.co.il"] == "04/03/1985"  # the date the sheet holds (4 March), said in the warning
    assert sent["noa@example.co.il"] == "25/12/1985"
    assert sent["avi@example.co.il"] == "07/04/1985"  # text read month first, as this sheet reads dates
    assert "rachel@example.com" not in sent  # '15/04/1985' is no date here: not sent with a wrong birthday
    problem = next(p for p in d["problems"] if p["row"] == 3)
    assert "not a date the way this sheet reads dates" in problem["detail"]


def test_a_sheet_whose_locale_matches_the_mapping_says_nothing(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_GB", ["03/04/1985", "15/04/1985", "25/12/1985", "1/2/1990"])
    r = run("sync", "--config", mapping(tmp_path, emu, key, sandbox.base_url), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["warnings"] == []
    assert birthdays(sandbox) == {"dana@example.co.il": "03/04/1985", "rachel@example.com": "15/04/1985",
                                  "noa@example.co.il": "25/12/1985", "avi@example.co.il": "01/02/1990"}


def test_a_month_first_mapping_on_a_us_sheet_only_warns_about_the_mixed_column(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_US", ["03/04/1985", "'4/7/1985", "12/25/1985", ""])
    r = run("check", "--config", mapping(tmp_path, emu, key, sandbox.base_url, "mm/dd/yyyy"))
    assert r.exit_code == 0, r.stderr
    assert "locale is United States" not in r.stderr
    assert "mixes real dates (rows 2, 4) with dates typed as text (row 3, e.g. '4/7/1985' on row 3)" in r.stderr
    assert "row 2: dana@example.co.il" in r.stdout and "Birthday = 03/04/1985" in r.stdout


def test_text_that_is_not_a_date_column_is_left_alone(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_US", ["'VIP", "'1.2.3 beta", "'call back", "'03/04/1985"])
    r = run("sync", "--config", mapping(tmp_path, emu, key, sandbox.base_url), "--dry-run", "--json")
    d = json.loads(r.stdout)
    assert d["warnings"] == [] and not d["problems"]
    assert [p["fields"] for p in d["preview"]][1] == [{"name": "field1", "content": "Rachel"},
                                                     {"name": "field2", "content": "Green"},
                                                     {"name": "field21", "content": "1.2.3 beta"}]


@pytest.mark.parametrize("text, order, expected", [
    ("03/04/1985", "MDY", dt.date(1985, 3, 4)), ("03/04/1985", "DMY", dt.date(1985, 4, 3)),
    ("3.4.85", "DMY", dt.date(1985, 4, 3)), ("1985-04-03", "MDY", dt.date(1985, 4, 3)),
    ("4/3/1985 14:30", "MDY", dt.datetime(1985, 4, 3, 14, 30)), ("12-31-29", "MDY", dt.date(2029, 12, 31)),
    ("hello", "DMY", None), ("1.2.3", "DMY", None), ("03/04/1985", "YMD", None),
])
def test_read_text_date(text, order, expected):
    assert read_text_date(text, order) == expected


def test_locales_and_formats():
    assert sheet_locale("en_US").order == "MDY" and sheet_locale("iw_IL").order == "DMY"
    assert sheet_locale("ja_JP").order == "YMD" and sheet_locale("") is None
    assert format_order("%d/%m/%Y") == "DMY" and format_order("%m/%d/%y") == "MDY"
    assert format_order("%Y-%m-%d") == "YMD" and format_order("%d %b %Y") is None


def test_the_sync_says_it_before_anything_is_sent_and_once(tmp_path, emu, sandbox):
    from sheets_connector.config import load_config
    from sheets_connector.sync import Collaborators, sync

    key = staff_type(emu, "en_US", US_TYPED)
    config = load_config(mapping(tmp_path, emu, key, sandbox.base_url))
    told: list[tuple[str, int]] = []
    summary = sync(config, Collaborators(environ={"INWISE_API_KEY": "test-key"},
                                         on_warning=lambda w: told.append((w, sandbox.stats()["total"]))))
    assert [sent for _, sent in told] == [0, 0]  # both warnings came before any request to inwise
    assert [w for w, _ in told] == summary.warnings[:2] and sandbox.stats()["total"] > 0

    second = staff_type(emu, "en_US", US_TYPED)
    r = run("sync", "--config", mapping(tmp_path, emu, second, sandbox.base_url), "--full")
    assert r.output.count("this spreadsheet's locale is United States") == 1  # said before sending, not repeated
    assert r.output.index("this spreadsheet's locale is United States") < r.output.index("Synced:")


def test_following_the_advice_makes_the_warning_go(tmp_path, emu, sandbox):
    key = staff_type(emu, "en_US", ["03/04/1985", "25/12/1985", "", ""])
    path = mapping(tmp_path, emu, key, sandbox.base_url)
    assert "locale is United States" in run("check", "--config", path).stderr
    book = gspread_client(emu).open_by_key(key)  # File > Settings > Locale: United Kingdom, then retype the dates
    book.batch_update({"requests": [{"updateSpreadsheetProperties": {"properties": {"locale": "en_GB"},
                                                                     "fields": "locale"}}]})
    book.worksheet("Contacts").update([["03/04/1985"], ["25/12/1985"]], "E2:E3", value_input_option="USER_ENTERED")
    r = run("check", "--config", path)
    assert r.exit_code == 0 and "Warning: 'Birthday'" not in r.stderr
    assert "Birthday = 03/04/1985" in r.stdout and "Birthday = 25/12/1985" in r.stdout
