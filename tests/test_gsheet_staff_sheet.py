"""A sync on a sheet the way staff shape it: a hidden results column, a filter hiding rows,
merged result cells, a title row above the header, columns moved between syncs.  Real
gspread over HTTP to the emulator, real HTTP to the inwise sandbox."""
from __future__ import annotations

from pathlib import Path

import pytest
from gsheets_util import SHEET_HEADER, sheet_column, sheet_mapping

from sheets_connector.config import parse_config
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.sync import Collaborators, sync

ENV = {"INWISE_API_KEY": "test-key"}
PEOPLE = [["Ada", "A", "ada@example.com", None, None], ["Ben", "B", "ben@example.com", None, None],
          ["Cy", "C", "cy@example.com", None, None], ["Dee", "B", "dee@example.com", None, None]]


@pytest.fixture(autouse=True)
def _no_google_key(monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def _config(tmp_path: Path, emu: SheetsEmulator, key: str, sandbox) -> object:
    return parse_config(sheet_mapping(emu, key, sandbox.base_url), base_dir=tmp_path)


def _ids(sandbox) -> dict[str, int]:
    return {c["email"]: c["id"] for c in sandbox.contacts() if c.get("email")}


def _own_results(emu: SheetsEmulator, key: str, sandbox) -> None:
    """Every row with an email shows its own contact's id in both result columns."""
    ids = _ids(sandbox)
    rows = emu.values(key, "Contacts")
    h = next(i for i, r in enumerate(rows) if "Email" in r)
    head = [h.strip().casefold() for h in rows[h]]
    for row in rows[h + 1:]:
        cells = dict(zip(head, row))
        if cells.get("email"):
            assert cells["inwise id"] == ids[cells["email"]], row
            assert f"#{ids[cells['email']]} " in cells["sync result"], row


def _columns(emu: SheetsEmulator, key: str, kind: str, start: int, end: int, **extra) -> dict:
    return {"range": {"sheetId": emu.sheet_id(key, "Contacts"), "dimension": kind, "startIndex": start,
                      "endIndex": end}} | extra


def test_a_hidden_results_column_gets_the_results_and_the_run_says_it_is_hidden(tmp_path, emu, sandbox):
    header = SHEET_HEADER + ["Sync result", "inwise ID"]
    key = emu.create_spreadsheet({"Contacts": [header, *PEOPLE]})
    emu.staff_update(key, [{"updateDimensionProperties": _columns(emu, key, "COLUMNS", 5, 6, properties={
        "hiddenByUser": True}, fields="hiddenByUser")}])
    s = sync(_config(tmp_path, emu, key, sandbox), Collaborators(environ=ENV))
    assert emu.values(key, "Contacts")[0][:7] == header  # no second results column
    _own_results(emu, key, sandbox)
    assert any("'Sync result' is hidden" in w and "Unhide" in w for w in s.warnings)


def test_rows_hidden_by_a_filter_get_their_results_too(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *PEOPLE]})
    sid = emu.sheet_id(key, "Contacts")
    emu.staff_update(key, [{"setBasicFilter": {"filter": {
        "range": {"sheetId": sid, "startRowIndex": 0, "endRowIndex": 5, "startColumnIndex": 0, "endColumnIndex": 5},
        "filterSpecs": [{"columnIndex": 1, "filterCriteria": {"hiddenValues": ["B"]}}]}}}])
    s = sync(_config(tmp_path, emu, key, sandbox), Collaborators(environ=ENV))
    _own_results(emu, key, sandbox)
    assert any("Rows 3, 5 are hidden or filtered out" in w for w in s.warnings)


def test_merged_result_cells_are_written_and_the_hidden_results_are_named(tmp_path, emu, sandbox):
    header = SHEET_HEADER + ["Sync result", "inwise ID", "Last synced"]
    key = emu.create_spreadsheet({"Contacts": [header, *PEOPLE]})
    sid = emu.sheet_id(key, "Contacts")
    emu.staff_update(key, [{"mergeCells": {"mergeType": "MERGE_ALL", "range": {
        "sheetId": sid, "startRowIndex": 2, "endRowIndex": 4, "startColumnIndex": 5, "endColumnIndex": 6}}}])
    s = sync(_config(tmp_path, emu, key, sandbox), Collaborators(environ=ENV))
    _own_results(emu, key, sandbox)  # the values are in the cells (Google keeps them under a merge)
    assert any("'Sync result' are merged" in w and "rows 4 are hidden under the merge" in w for w in s.warnings)


def test_a_title_row_inserted_before_the_first_sync_is_recognised(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [["Members, autumn 2026"], SHEET_HEADER, *PEOPLE]})
    s = sync(_config(tmp_path, emu, key, sandbox), Collaborators(environ=ENV))  # the mapping says header_row 1
    rows = emu.values(key, "Contacts")
    assert rows[0] == ["Members, autumn 2026"]  # nothing written into the title row
    _own_results(emu, key, sandbox)
    [moved] = [w for w in s.warnings if "on row 2 now, not on row 1" in w and "header_row: 2" in w]
    # the note in a Hebrew mapping's summary and sheet menu (the sheet's own name kept as it is)
    from sheets_connector.messages.catalog import in_language

    where = moved.removeprefix("The header of ").split(" is on row")[0]
    assert where.startswith("Google Sheet '") and where.endswith(", tab 'Contacts'")
    where = where.replace(", tab '", ", לשונית '")
    assert in_language(moved, "he").replace("\u200e", "") == (
        f"הכותרות של {where} נמצאות עכשיו בשורה 2, לא בשורה 1 כמו שכתוב במיפוי (נוספו או נמחקו שורות מעליהן); "
        "המחבר מצא אותן שם. אם הן נשארות שם, כתבו במיפוי source.header_row: 2.")


def test_the_next_sync_follows_the_header_and_result_columns_staff_moved(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *PEOPLE]})
    cfg = _config(tmp_path, emu, key, sandbox)
    sync(cfg, Collaborators(environ=ENV))
    first = emu.values(key, "Contacts")
    # between syncs: a title row, the results column moved to the front and renamed in case only,
    # a column inserted left of the contact id, and a contact added
    sid = emu.sheet_id(key, "Contacts")
    emu.staff_update(key, [{"moveDimension": {"source": {"sheetId": sid, "dimension": "COLUMNS", "startIndex": 5,
                                                         "endIndex": 6}, "destinationIndex": 0}},
                           {"insertDimension": _columns(emu, key, "COLUMNS", 6, 7)}])
    emu.insert_rows(key, "Contacts", 1, [["Members"]])
    emu.set_cells(key, "Contacts", 2, [["SYNC RESULT"]])
    emu.set_cells(key, "Contacts", 7, [[None, "Eve", "E", "eve@example.com"]])
    s = sync(cfg, Collaborators(environ=ENV))
    rows = emu.values(key, "Contacts")
    assert rows[0] == ["Members"]
    assert rows[1] == ["SYNC RESULT", *SHEET_HEADER, "", "inwise ID", "Last synced"]  # no new columns
    assert [r[0] for r in rows[2:6]] == [r[5] for r in first[1:5]]  # the old results moved with their column
    assert rows[6][0].startswith("✓ created")
    _own_results(emu, key, sandbox)
    assert any("on row 2 now" in w for w in s.warnings)


def test_a_staff_column_typed_where_a_new_results_column_would_go_is_never_written(tmp_path, emu, sandbox):
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER + ["Notes"], *[p + [f"n{i}"] for i, p in enumerate(PEOPLE)]]})
    cfg = _config(tmp_path, emu, key, sandbox)
    # a column inserted left of Notes just before the connector pins its new columns
    emu.on_request("sheets.spreadsheets.batchUpdate", lambda: emu.staff_update(key, [
        {"insertDimension": _columns(emu, key, "COLUMNS", 5, 6)}]))
    sync(cfg, Collaborators(environ=ENV))
    rows = emu.values(key, "Contacts")
    assert rows[0][:7] == SHEET_HEADER + ["", "Notes"]
    assert [r[6] for r in rows[1:]] == ["n0", "n1", "n2", "n3"]
    assert sheet_column(emu, key, "Sync result")[2].startswith("✓ created")
    _own_results(emu, key, sandbox)


def test_without_a_tab_name_the_first_visible_tab_in_tab_order_is_read(emu):
    from gsheets_util import emulator_connection

    from sheets_connector.tables.gsheet import GoogleSheetTable

    key = emu.create_spreadsheet({"Archive": [["Email"], ["old@example.com"]], "Hidden": [["Email"], ["h@example.com"]],
                                  "Contacts": [["Email"], ["a@example.com"]]})
    emu.staff_update(key, [
        {"updateSheetProperties": {"properties": {"sheetId": emu.sheet_id(key, "Contacts"), "index": 0},
                                   "fields": "index"}},
        {"updateSheetProperties": {"properties": {"sheetId": emu.sheet_id(key, "Hidden"), "index": 0, "hidden": True},
                                   "fields": "index,hidden"}}])
    assert emu.tabs(key) == ["Hidden", "Contacts", "Archive"]
    t = GoogleSheetTable(lambda: emulator_connection(emu), key)
    assert [r.values for r in t.read().rows] == [("a@example.com",)]
