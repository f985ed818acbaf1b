"""The emulator does what staff do in the Sheets UI and what the connector pins its columns with:
developer metadata and data filters, moved / hidden rows and columns, filters, merges, notes,
tab order, frozen columns; and matches Google on appends, formulas and warning-only
protections.  Real HTTP; answers checked against Google's discovery document."""
from __future__ import annotations

from typing import Any

import pytest
from gsheets_util import gspread_client
from test_sheets_emulator import _check, _discovery, _methods, api

from sheets_connector.sheets_emulator import SheetsEmulator

ROWS = [["Email", "Name", "Notes"], ["a@x.com", "Ada", "n1"], ["b@x.com", "Ben", "n2"], ["c@x.com", "Cy", "n3"]]


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def batch(emu: SheetsEmulator, key: str, *requests: dict[str, Any]) -> dict[str, Any]:
    answer = api(emu, "POST", f"/v4/spreadsheets/{key}:batchUpdate", json={"requests": list(requests)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def cols(start: int, end: int, dimension: str = "COLUMNS") -> dict[str, Any]:
    return {"sheetId": 0, "dimension": dimension, "startIndex": start, "endIndex": end}


def tag_column(emu: SheetsEmulator, key: str, col: int, value: str = "results") -> int:
    reply = batch(emu, key, {"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": "pin", "metadataValue": value, "visibility": "DOCUMENT",
        "location": {"dimensionRange": cols(col, col + 1)}}}})
    return int(reply["replies"][0]["createDeveloperMetadata"]["developerMetadata"]["metadataId"])


def write_by_tag(emu: SheetsEmulator, key: str, mid: int, values: list[Any]) -> dict[str, Any]:
    answer = api(emu, "POST", f"/v4/spreadsheets/{key}/values:batchUpdateByDataFilter", json={
        "valueInputOption": "RAW", "data": [{"dataFilter": {"developerMetadataLookup": {"metadataId": mid}},
                                             "majorDimension": "COLUMNS", "values": [values]}]})
    assert answer.status_code == 200, answer.text
    return answer.json()


# ---------------------------------------------------------------------------------------------
# developer metadata and data filters
# ---------------------------------------------------------------------------------------------
def test_column_metadata_moves_with_its_column_and_a_write_through_it_follows(emu):
    key = emu.create_spreadsheet({"Contacts": ROWS})
    mid = tag_column(emu, key, 3)
    batch(emu, key, {"insertDimension": {"range": cols(2, 3)}})  # staff insert a column left of it
    answer = write_by_tag(emu, key, mid, ["Result", None, "ok-b"])  # null leaves a cell as it is
    assert answer["totalUpdatedCells"] == 2
    assert emu.values(key, "Contacts") == [["Email", "Name", "", "Notes", "Result"], ["a@x.com", "Ada", "", "n1"],
                                           ["b@x.com", "Ben", "", "n2", "ok-b"], ["c@x.com", "Cy", "", "n3"]]
    found = api(emu, "POST", f"/v4/spreadsheets/{key}/developerMetadata:search",
                json={"dataFilters": [{"developerMetadataLookup": {"metadataKey": "pin"}}]}).json()
    location = found["matchedDeveloperMetadata"][0]["developerMetadata"]["location"]
    assert location == {"locationType": "COLUMN", "dimensionRange": cols(4, 5)}
    read = api(emu, "POST", f"/v4/spreadsheets/{key}/values:batchGetByDataFilter", json={
        "dataFilters": [{"developerMetadataLookup": {"metadataId": mid}}], "majorDimension": "COLUMNS"}).json()
    assert read["valueRanges"][0]["valueRange"]["values"] == [["Result", "", "ok-b"]]
    assert api(emu, "GET", f"/v4/spreadsheets/{key}/developerMetadata/{mid}").json()["metadataValue"] == "results"


def test_metadata_goes_with_its_deleted_column_and_a_write_through_it_then_writes_nothing(emu):
    key = emu.create_spreadsheet({"Contacts": ROWS})
    mid = tag_column(emu, key, 2)
    batch(emu, key, {"deleteDimension": {"range": cols(2, 3)}})
    assert emu.metadata(key) == []
    assert write_by_tag(emu, key, mid, ["x"])["totalUpdatedCells"] == 0
    assert emu.values(key, "Contacts")[0] == ["Email", "Name"]


def test_moved_columns_and_rows_carry_their_cells_and_metadata(emu):
    key = emu.create_spreadsheet({"Contacts": ROWS})
    mid = tag_column(emu, key, 2)
    batch(emu, key, {"moveDimension": {"source": cols(2, 3), "destinationIndex": 0}},
          {"moveDimension": {"source": cols(3, 4, "ROWS"), "destinationIndex": 1}})
    assert emu.values(key, "Contacts") == [["Notes", "Email", "Name"], ["n3", "c@x.com", "Cy"],
                                           ["n1", "a@x.com", "Ada"], ["n2", "b@x.com", "Ben"]]
    assert emu.metadata(key)[0]["location"]["dimensionRange"] == cols(0, 1)
    batch(emu, key, {"updateDeveloperMetadata": {
        "dataFilters": [{"developerMetadataLookup": {"metadataId": mid}}],
        "developerMetadata": {"metadataValue": "renamed"}, "fields": "metadataValue"}},
        {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataValue": "nothing"}}}})
    assert emu.metadata(key)[0]["metadataValue"] == "renamed"


def test_grid_data_shows_hidden_rows_and_columns_filters_merges_and_notes(emu):
    key = emu.create_spreadsheet({"Contacts": ROWS})
    batch(emu, key,
          {"updateDimensionProperties": {"range": cols(2, 3), "properties": {"hiddenByUser": True}, "fields": "hiddenByUser"}},
          {"setBasicFilter": {"filter": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 4},
                                         "filterSpecs": [{"columnIndex": 1, "filterCriteria": {"hiddenValues": ["Ben"]}}]}}},
          {"addFilterView": {"filter": {"title": "Mine", "range": {"sheetId": 0}}}},
          {"mergeCells": {"mergeType": "MERGE_ALL", "range": {"sheetId": 0, "startRowIndex": 2, "endRowIndex": 4,
                                                              "startColumnIndex": 2, "endColumnIndex": 3}}},
          {"updateCells": {"start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 0},
                           "rows": [{"values": [{"note": "called twice"}]}], "fields": "note"}})
    api(emu, "PUT", f"/v4/spreadsheets/{key}/values/Contacts!A2", params={"valueInputOption": "RAW"},
        json={"values": [["a2@x.com"]]})  # a value written keeps the cell's note
    sheet = api(emu, "GET", f"/v4/spreadsheets/{key}", params={"includeGridData": "true"}).json()["sheets"][0]
    data = sheet["data"][0]
    assert data["columnMetadata"][2]["hiddenByUser"] is True
    assert [bool(r.get("hiddenByFilter")) for r in data["rowMetadata"][:4]] == [False, False, True, False]
    assert sheet["merges"] == [{"sheetId": 0, "startRowIndex": 2, "endRowIndex": 4, "startColumnIndex": 2, "endColumnIndex": 3}]
    assert sheet["filterViews"][0]["title"] == "Mine" and "basicFilter" in sheet
    assert data["rowData"][1]["values"][0]["note"] == "called twice"
    assert data["rowData"][1]["values"][0]["effectiveValue"] == {"stringValue": "a2@x.com"}
    assert emu.values(key, "Contacts")[3] == ["c@x.com", "Cy"]  # merged away: only the top-left value stays
    batch(emu, key, {"unmergeCells": {"range": {"sheetId": 0}}}, {"clearBasicFilter": {"sheetId": 0}},
          {"deleteFilterView": {"filterId": sheet["filterViews"][0]["filterViewId"]}},
          {"updateDimensionProperties": {"range": cols(2, 3), "properties": {"hiddenByUser": False}, "fields": "hiddenByUser"}})
    sheet = api(emu, "GET", f"/v4/spreadsheets/{key}", params={"includeGridData": "true"}).json()["sheets"][0]
    assert not {"merges", "basicFilter", "filterViews"} & set(sheet)
    assert "hiddenByUser" not in sheet["data"][0]["columnMetadata"][2]


def test_tab_order_and_frozen_columns(emu):
    key = emu.create_spreadsheet({"First": [["a"]], "Second": [["b"]]})
    second = emu.sheet_id(key, "Second")
    batch(emu, key, {"updateSheetProperties": {"properties": {"sheetId": second, "index": 0,
                                                              "gridProperties": {"frozenColumnCount": 2}},
                                               "fields": "index,gridProperties.frozenColumnCount"}})
    tabs = gspread_client(emu).open_by_key(key).worksheets()
    assert [(t.title, t.index) for t in tabs] == [("Second", 0), ("First", 1)]
    assert tabs[0].frozen_col_count == 2


# ---------------------------------------------------------------------------------------------
# as Google: appends, formulas, warning-only protections
# ---------------------------------------------------------------------------------------------
def test_append_at_an_empty_anchor_row_writes_there(emu):
    key = emu.create_spreadsheet({"Contacts": [["id"], [1], [], ["typed below"]]})
    answer = api(emu, "POST", f"/v4/spreadsheets/{key}/values/Contacts!A3:append",
                 params={"valueInputOption": "RAW"}, json={"values": [[2]]})
    assert answer.status_code == 200 and answer.json()["updates"]["updatedRange"] == "Contacts!A3"
    assert emu.values(key, "Contacts") == [["id"], [1], [2], ["typed below"]]
    api(emu, "POST", f"/v4/spreadsheets/{key}/values/Contacts!A3:append", params={
        "valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}, json={"values": [[3]]})
    assert emu.values(key, "Contacts") == [["id"], [1], [2], ["typed below"], [3]]


def test_formulas_with_spaces_and_cell_references_are_computed(emu):
    key = emu.create_spreadsheet({"Contacts": [[2, 3, "text"]]})
    api(emu, "PUT", f"/v4/spreadsheets/{key}/values/Contacts!A2:E2", params={"valueInputOption": "USER_ENTERED"},
        json={"values": [["= 1 + 2", "=A1 * B1", "=$A$1+10", "=C1+1", "=VLOOKUP(A1, B1, 1)"]]})
    assert emu.values(key, "Contacts")[1] == [3, 6, 12, "#VALUE!", "#NAME?"]


def test_a_warning_only_protection_lets_everyone_write(emu):
    key = emu.create_spreadsheet({"Contacts": ROWS}, shared_with=[emu.account, "other@example.com"])
    emu.add_token("other-token", "other@example.com")
    batch(emu, key, {"addProtectedRange": {"protectedRange": {"range": {"sheetId": 0}, "warningOnly": True}}})
    answer = api(emu, "PUT", f"/v4/spreadsheets/{key}/values/Contacts!D1", token="other-token",
                 params={"valueInputOption": "RAW"}, json={"values": [["Result"]]})
    assert answer.status_code == 200, answer.text
    got = api(emu, "GET", f"/v4/spreadsheets/{key}", token="other-token").json()
    assert got["sheets"][0]["protectedRanges"][0]["requestingUserCanEdit"] is True


def test_the_new_methods_answer_in_googles_shapes(emu):
    doc = _discovery()
    methods, schemas = _methods(doc), doc["schemas"]
    key = emu.create_spreadsheet({"Contacts": ROWS})
    mid = tag_column(emu, key, 1)
    base = f"/v4/spreadsheets/{key}"
    lookup = {"developerMetadataLookup": {"metadataId": mid}}
    calls = [
        ("sheets.spreadsheets.values.batchUpdateByDataFilter", "POST", base + "/values:batchUpdateByDataFilter",
         {"json": {"valueInputOption": "RAW", "data": [{"dataFilter": lookup, "values": [["Name"], ["x"]]}]}}),
        ("sheets.spreadsheets.values.batchGetByDataFilter", "POST", base + "/values:batchGetByDataFilter",
         {"json": {"dataFilters": [lookup]}}),
        ("sheets.spreadsheets.values.batchClearByDataFilter", "POST", base + "/values:batchClearByDataFilter",
         {"json": {"dataFilters": [{"a1Range": "Contacts!C4"}]}}),
        ("sheets.spreadsheets.developerMetadata.search", "POST", base + "/developerMetadata:search",
         {"json": {"dataFilters": [lookup]}}),
        ("sheets.spreadsheets.developerMetadata.get", "GET", base + f"/developerMetadata/{mid}", {}),
        ("sheets.spreadsheets.get", "GET", base, {"params": {"includeGridData": "true"}}),
        ("sheets.spreadsheets.batchUpdate", "POST", base + ":batchUpdate", {"json": {"requests": [
            {"createDeveloperMetadata": {"developerMetadata": {"metadataKey": "k", "visibility": "DOCUMENT",
                                                               "location": {"sheetId": 0}}}},
            {"addFilterView": {"filter": {"range": {"sheetId": 0}}}}]}}),
    ]
    for method_id, verb, path, kwargs in calls:
        answer = api(emu, verb, path, **kwargs)
        assert answer.status_code == 200, (method_id, answer.text)
        _check(answer.json(), methods[method_id]["response"], schemas, method_id)
