"""The Sheets API emulator, driven by real gspread over HTTP, and checked against Google's own
discovery document (shipped in google-api-python-client)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests
from google.oauth2 import credentials as oauth_credentials
from google.oauth2 import service_account
from gsheets_util import gspread_client, rsa_key_pair, write_key_file

from sheets_connector.gsheets import connect, sheets_retry
from sheets_connector.sheets_emulator import Cell, NumberFormat, SheetsEmulator

SCI = NumberFormat("SCIENTIFIC", "0.00E+00")
ROWS = [
    ["Email", "Mobile", "Birthday", "Note"],
    ["dana@example.co.il", Cell(972541111111.0, fmt=SCI), dt.date(1980, 6, 12), "=not a formula"],
    ["noa@example.co.il", 541111111, dt.datetime(2024, 3, 12, 14, 5), True],
]


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


@pytest.fixture
def book(emu: SheetsEmulator) -> tuple[SheetsEmulator, str, gspread.Worksheet]:
    key = emu.create_spreadsheet({"Contacts": ROWS, "Other": [["x"]]}, title="Staff list", locale="en_GB")
    ws = gspread_client(emu).open_by_key(key).worksheet("Contacts")
    return emu, key, ws


def api(emu: SheetsEmulator, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {emu.token if token is None else token}"}
    return session.request(method, emu.api_url + path, headers=headers, timeout=10, **kwargs)


# ---------------------------------------------------------------------------------------------
# reading: FORMATTED and UNFORMATTED differ as in Google
# ---------------------------------------------------------------------------------------------
def test_formatted_values_show_what_the_user_sees(book):
    _, _, ws = book
    assert ws.get_all_values() == [
        ["Email", "Mobile", "Birthday", "Note"],
        ["dana@example.co.il", "9.73E+11", "12/06/1980", "=not a formula"],
        ["noa@example.co.il", "541111111", "12/03/2024 14:05:00", "TRUE"],
    ]


def test_unformatted_values_keep_every_digit_and_give_date_serials(book):
    _, _, ws = book
    values = ws.get("A2:D3", value_render_option="UNFORMATTED_VALUE")
    assert values[0][1] == 972541111111 and values[1][1] == 541111111
    assert values[0][2] == 29384  # 1980-06-12 as days since 1899-12-30
    assert values[1][2] == pytest.approx(45363 + (14 * 60 + 5) / 1440)
    assert values[1][3] is True
    strings = ws.get("C2", value_render_option="UNFORMATTED_VALUE", date_time_render_option="FORMATTED_STRING")
    assert strings == [["12/06/1980"]]


def test_date_display_follows_the_spreadsheet_locale(emu):
    us = emu.create_spreadsheet({"S": [[dt.date(2024, 3, 12)]]}, locale="en_US")
    gb = emu.create_spreadsheet({"S": [[dt.date(2024, 3, 12)]]}, locale="en_GB")
    client = gspread_client(emu)
    assert client.open_by_key(us).sheet1.acell("A1").value == "3/12/2024"
    assert client.open_by_key(gb).sheet1.acell("A1").value == "12/03/2024"


def test_batch_get_several_ranges_in_one_request(book):
    emu, key, ws = book
    emu.reset_stats()
    got = ws.spreadsheet.values_batch_get(["Contacts!A1:A2", "'Other'!A1"],
                                          params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert [r["values"] for r in got["valueRanges"]] == [[["Email"], ["dana@example.co.il"]], [["x"]]]
    assert got["valueRanges"][0]["range"] == "Contacts!A1:A2"
    assert emu.request_counts() == {"sheets.spreadsheets.values.batchGet": 1}


def test_formula_render_option_returns_formulas(book):
    _, _, ws = book
    ws.update([["=1+2*3"]], "E2", value_input_option="USER_ENTERED")
    assert ws.acell("E2").value == "7"
    assert ws.get("E2", value_render_option="FORMULA") == [["=1+2*3"]]


# ---------------------------------------------------------------------------------------------
# writing: RAW keeps text, USER_ENTERED parses like the UI
# ---------------------------------------------------------------------------------------------
def test_raw_keeps_text_and_user_entered_parses_it(book):
    emu, key, ws = book
    typed = ["=1+1", "0541111111", "+972541111111", "-5", "@home", "12/03/2024"]
    ws.update([typed], "A5", value_input_option="RAW")
    ws.update([typed], "A6", value_input_option="USER_ENTERED")
    raw = ws.get("A5:F5", value_render_option="UNFORMATTED_VALUE")[0]
    parsed = ws.get("A6:F6", value_render_option="UNFORMATTED_VALUE")[0]
    assert raw == typed
    assert emu.cell(key, "Contacts", "A5").formula is None
    assert parsed[:5] == [2, 541111111, 972541111111, -5, "@home"]  # the leading zero is lost
    assert emu.cell(key, "Contacts", "F6").fmt.type == "DATE"
    assert ws.acell("F6").value == "12/03/2024"  # en_GB: day first


def test_writing_past_the_grid_is_refused_until_the_grid_grows(emu):
    key = emu.create_spreadsheet({"S": [["a"]]}, rows=10, cols=3)
    ws = gspread_client(emu).open_by_key(key).sheet1
    with pytest.raises(gspread.exceptions.APIError) as err:
        ws.update([["x"]], "D1")
    assert err.value.response.status_code == 400
    assert err.value.error["status"] == "INVALID_ARGUMENT"
    assert "exceeds grid limits. Max rows: 10, max columns: 3" in err.value.error["message"]
    ws.resize(cols=4)
    ws.update([["x"]], "D1")
    assert ws.acell("D1").value == "x"


def test_batch_update_is_all_or_nothing(book):
    emu, key, ws = book
    before = emu.values(key, "Contacts")
    with pytest.raises(gspread.exceptions.APIError):
        ws.batch_update([{"range": "A2", "values": [["changed"]]}, {"range": "AA1", "values": [["past the grid"]]}],
                        value_input_option="RAW")
    assert emu.values(key, "Contacts") == before


def test_null_leaves_a_cell_untouched(book):
    emu, key, ws = book
    ws.spreadsheet.values_batch_update({"valueInputOption": "RAW",
                                        "data": [{"range": "D2:D3", "values": [[None], ["new"]]}]})
    assert emu.values(key, "Contacts")[1][3] == "=not a formula" and emu.values(key, "Contacts")[2][3] == "new"


def test_raw_write_keeps_number_formats_and_counts_only_rows_and_columns_written(book):
    emu, key, ws = book
    answer = ws.spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": [
        {"range": "B2:D5", "values": [[972542222222, None, ""], [None, None, None], [None, "x", None], [True]]}]})
    done = answer["responses"][0]
    assert (done["updatedRows"], done["updatedColumns"], done["updatedCells"]) == (3, 3, 4)  # row 3 only nulls
    assert emu.cell(key, "Contacts", "B2").fmt == SCI and emu.cell(key, "Contacts", "B2").value == 972542222222
    assert emu.cell(key, "Contacts", "D2") is None  # "" clears: the cell had no format to keep
    assert emu.cell(key, "Contacts", "B5").value is True
    assert emu.values(key, "Contacts")[2][:2] == ["noa@example.co.il", 541111111]  # nulls left it alone


def test_append_goes_after_the_table_and_grows_the_grid(emu):
    key = emu.create_spreadsheet({"S": [["id", "email"], [1, "a@x.com"]]}, rows=2, cols=2)
    ws = gspread_client(emu).open_by_key(key).sheet1
    answer = ws.append_rows([[2, "b@x.com"], [3, "c@x.com"]], value_input_option="RAW")
    assert answer["tableRange"] == "S!A1:B2"
    assert answer["updates"]["updatedRange"] == "S!A3:B4"
    assert emu.values(key, "S") == [["id", "email"], [1, "a@x.com"], [2, "b@x.com"], [3, "c@x.com"]]
    assert emu.grid_size(key, "S") == (4, 2)


def test_add_worksheet_resize_and_sort_through_gspread(book):
    emu, key, ws = book
    sh = ws.spreadsheet
    new = sh.add_worksheet("New contacts", rows=5, cols=3)
    assert [w.title for w in sh.worksheets()] == ["Contacts", "Other", "New contacts"]
    new.resize(rows=7)
    assert emu.grid_size(key, "New contacts") == (7, 3)
    ws.sort((1, "des"), range="A2:D3")
    assert [r[0] for r in emu.values(key, "Contacts")] == ["Email", "noa@example.co.il", "dana@example.co.il"]
    with pytest.raises(gspread.exceptions.APIError, match="already exists"):
        sh.add_worksheet("new CONTACTS", rows=1, cols=1)


def test_cell_and_column_limits_are_google_s(emu):
    key = emu.create_spreadsheet({"S": [["a"]]}, rows=1000, cols=26)
    sh = gspread_client(emu).open_by_key(key)
    with pytest.raises(gspread.exceptions.APIError, match="above the limit of 10000000 cells"):
        sh.add_worksheet("Huge", rows=400_000, cols=26)
    with pytest.raises(gspread.exceptions.APIError, match="limit of 18278"):
        sh.sheet1.resize(cols=18_279)
    sh.sheet1.resize(rows=384_600, cols=26)  # 9,999,600 cells: allowed
    assert emu.grid_size(key, "S") == (384_600, 26)


# ---------------------------------------------------------------------------------------------
# access: tokens, sharing, protection, unknown spreadsheets
# ---------------------------------------------------------------------------------------------
def test_a_missing_or_unknown_token_gets_401_in_google_s_shape(book):
    emu, key, _ = book
    for token in ("wrong-token", ""):
        answer = api(emu, "GET", f"/v4/spreadsheets/{key}", token=token)
        assert answer.status_code == 401
        assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
        assert answer.json()["error"]["code"] == 401


def test_unknown_spreadsheet_is_404_and_unshared_is_403(emu):
    client = gspread_client(emu)
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        client.open_by_key("x" * 44)
    private = emu.create_spreadsheet({"S": [["a"]]}, shared_with=["someone-else@example.com"])
    with pytest.raises(PermissionError):
        client.open_by_key(private)
    answer = api(emu, "GET", f"/v4/spreadsheets/{private}")
    assert answer.status_code == 403 and answer.json()["error"]["status"] == "PERMISSION_DENIED"


def test_a_reader_can_read_but_not_write(emu):
    key = emu.create_spreadsheet({"S": [["a"]]}, shared_with={emu.account: "reader"})
    ws = gspread_client(emu).open_by_key(key).sheet1
    assert ws.acell("A1").value == "a"
    with pytest.raises(gspread.exceptions.APIError) as err:
        ws.update([["b"]], "A1")
    assert err.value.response.status_code == 403


def test_protected_tab_refuses_writes_from_non_editors(book):
    emu, key, ws = book
    emu.protect(key, "Contacts", editors=["owner@example.com"])
    with pytest.raises(gspread.exceptions.APIError, match="protected cell"):
        ws.update([["x"]], "E1")
    meta = ws.spreadsheet.fetch_sheet_metadata()
    assert meta["sheets"][0]["protectedRanges"][0]["requestingUserCanEdit"] is False


# ---------------------------------------------------------------------------------------------
# counting, faults, staff at work
# ---------------------------------------------------------------------------------------------
def test_requests_are_counted_by_google_method_id(book):
    emu, key, ws = book
    emu.reset_stats()
    ws.get_all_values()
    ws.update([["x"]], "E1")
    ws.spreadsheet.fetch_sheet_metadata()
    assert emu.request_counts() == {
        "sheets.spreadsheets.values.get": 1, "sheets.spreadsheets.values.update": 1, "sheets.spreadsheets.get": 1}
    stats = requests.get(emu.control_url + "/stats", timeout=10).json()
    assert stats["total"] == 3


def test_fail_next_answers_429_with_google_s_body(book):
    emu, key, ws = book
    emu.fail_next(2, status=429, method="sheets.spreadsheets.values.get")
    for _ in range(2):
        answer = api(emu, "GET", f"/v4/spreadsheets/{key}/values/Contacts")
        assert answer.status_code == 429
        assert answer.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert api(emu, "GET", f"/v4/spreadsheets/{key}").status_code == 200  # another method: not affected
    assert api(emu, "GET", f"/v4/spreadsheets/{key}/values/Contacts").status_code == 200


def test_fault_rates_apply_to_the_api_only(book):
    emu, key, _ = book
    emu.set_faults(error_rate=1.0, error_status=503)
    answer = api(emu, "GET", f"/v4/spreadsheets/{key}")
    assert answer.status_code == 503 and answer.json()["error"]["status"] == "UNAVAILABLE"
    assert requests.get(emu.control_url + "/stats", timeout=10).status_code == 200
    emu.set_faults(rate_limit_rate=1.0)
    assert api(emu, "GET", f"/v4/spreadsheets/{key}").status_code == 429
    emu.set_faults()
    assert api(emu, "GET", f"/v4/spreadsheets/{key}").status_code == 200


def test_control_endpoint_inserts_deletes_and_sorts_rows(book):
    emu, key, ws = book
    url = f"{emu.control_url}/spreadsheets/{key}/rows"
    requests.post(url, json={"op": "insert", "tab": "Contacts", "before_row": 2, "rows": [["zed@example.com"]]}, timeout=10)
    assert ws.col_values(1) == ["Email", "zed@example.com", "dana@example.co.il", "noa@example.co.il"]
    requests.post(url, json={"op": "sort", "tab": "Contacts", "column": 0}, timeout=10)
    assert ws.col_values(1) == ["Email", "dana@example.co.il", "noa@example.co.il", "zed@example.com"]
    requests.post(url, json={"op": "delete", "tab": "Contacts", "first_row": 2}, timeout=10)
    assert ws.col_values(1) == ["Email", "noa@example.co.il", "zed@example.com"]
    tab = requests.get(f"{emu.control_url}/spreadsheets/{key}/tabs/Contacts", timeout=10).json()
    assert tab["values"][1][0] == "noa@example.co.il"


def test_on_request_runs_just_before_the_nth_request(book):
    emu, key, ws = book
    emu.on_request("sheets.spreadsheets.values.get", lambda: emu.delete_rows(key, "Contacts", 2), nth=2)
    assert len(ws.get_all_values()) == 3
    assert len(ws.get_all_values()) == 2  # the row was deleted just before this read
    assert len(ws.get_all_values()) == 2


# ---------------------------------------------------------------------------------------------
# sign-in: the service-account JWT flow and an OAuth refresh, against POST /token
# ---------------------------------------------------------------------------------------------
def test_service_account_key_file_signs_in_through_the_token_endpoint(emu, tmp_path: Path):
    private, public = rsa_key_pair()
    email = "sync-bot@test-project.iam.gserviceaccount.com"
    emu.add_service_account(email, public)
    key = emu.create_spreadsheet({"S": [["a"]]}, shared_with=[email])
    key_file = write_key_file(tmp_path / "key.json", email, private, emu.token_uri)
    creds = service_account.Credentials.from_service_account_file(str(key_file), scopes=["https://www.googleapis.com/auth/spreadsheets"])
    conn = connect(creds, account=email, account_email=email, api_url=emu.api_url, retry=sheets_retry(0, 0))
    assert conn.client.open_by_key(key).sheet1.acell("A1").value == "a"
    assert emu.request_counts()["oauth2.token"] == 1


def test_a_key_the_emulator_does_not_know_is_refused(emu, tmp_path: Path):
    private, _ = rsa_key_pair()
    _, other_public = rsa_key_pair()
    email = "sync-bot@test-project.iam.gserviceaccount.com"
    emu.add_service_account(email, other_public)  # registered with another key
    key = emu.create_spreadsheet({"S": [["a"]]})
    key_file = write_key_file(tmp_path / "key.json", email, private, emu.token_uri)
    creds = service_account.Credentials.from_service_account_file(str(key_file), scopes=["https://www.googleapis.com/auth/spreadsheets"])
    conn = connect(creds, account=email, account_email=email, api_url=emu.api_url, retry=sheets_retry(0, 0))
    from google.auth.exceptions import RefreshError

    with pytest.raises(RefreshError, match="invalid_grant"):
        conn.client.open_by_key(key)


def test_oauth_refresh_token_grant_against_the_token_endpoint(emu):
    # google-auth always sends a saved login's refresh to Google, so the credentials are built here
    emu.add_oauth_user("staff@example.com", "refresh-123")
    key = emu.create_spreadsheet({"S": [["a"]]}, shared_with=["staff@example.com"])
    creds = oauth_credentials.Credentials(token=None, refresh_token="refresh-123", token_uri=emu.token_uri,
                                          client_id="cid", client_secret="not-a-secret")
    conn = connect(creds, account="you", api_url=emu.api_url, retry=sheets_retry(0, 0))
    assert conn.client.open_by_key(key).sheet1.acell("A1").value == "a"
    revoked = oauth_credentials.Credentials(token=None, refresh_token="revoked", token_uri=emu.token_uri,
                                            client_id="cid", client_secret="not-a-secret")
    from google.auth.exceptions import RefreshError

    with pytest.raises(RefreshError, match="invalid_grant"):
        connect(revoked, account="you", api_url=emu.api_url, retry=sheets_retry(0, 0)).client.open_by_key(key)


# ---------------------------------------------------------------------------------------------
# shapes: every answer fits Google's discovery document
# ---------------------------------------------------------------------------------------------
def _discovery() -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _methods(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(res: dict[str, Any]) -> None:
        for r in res.get("resources", {}).values():
            for m in r.get("methods", {}).values():
                out[m["id"]] = m
            walk(r)

    walk(doc)
    return out


def _check(value: Any, schema: dict[str, Any], schemas: dict[str, Any], where: str) -> None:
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        assert isinstance(value, dict), where
        for name, item in value.items():
            assert name in schema["properties"], f"{where}.{name} is not in Google's schema"
            _check(item, schema["properties"][name], schemas, f"{where}.{name}")
    elif kind == "object":
        assert isinstance(value, dict), where
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), schemas, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
        if "enum" in schema:
            assert value in schema["enum"], f"{where}={value!r} not in {schema['enum']}"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where


def test_answers_match_the_official_discovery_document(book):
    emu, key, ws = book
    doc = _discovery()
    methods, schemas = _methods(doc), doc["schemas"]
    emu.protect(key, "Other", editors=[emu.account])
    base = f"/v4/spreadsheets/{key}"
    calls = [
        ("sheets.spreadsheets.get", "GET", base, {"params": {"includeGridData": "true"}}),
        ("sheets.spreadsheets.get", "GET", base, {"params": {"ranges": "Contacts!A1:B2", "includeGridData": "true",
                                                             "fields": "sheets(properties,data.rowData.values(effectiveValue,effectiveFormat.numberFormat))"}}),
        ("sheets.spreadsheets.values.get", "GET", base + "/values/Contacts", {"params": {"valueRenderOption": "UNFORMATTED_VALUE"}}),
        ("sheets.spreadsheets.values.batchGet", "GET", base + "/values:batchGet", {"params": {"ranges": ["Contacts!A1", "Other"]}}),
        ("sheets.spreadsheets.values.update", "PUT", base + "/values/Contacts!E1", {"params": {"valueInputOption": "RAW"}, "json": {"values": [["x"]]}}),
        ("sheets.spreadsheets.values.batchUpdate", "POST", base + "/values:batchUpdate",
         {"json": {"valueInputOption": "RAW", "data": [{"range": "Contacts!E2", "values": [["y"]]}]}}),
        ("sheets.spreadsheets.values.append", "POST", base + "/values/Contacts!A1:append",
         {"params": {"valueInputOption": "RAW"}, "json": {"values": [["z@example.com"]]}}),
        ("sheets.spreadsheets.values.clear", "POST", base + "/values/Contacts!E1:clear", {"json": {}}),
        ("sheets.spreadsheets.values.batchClear", "POST", base + "/values:batchClear", {"json": {"ranges": ["Contacts!E2"]}}),
        ("sheets.spreadsheets.batchUpdate", "POST", base + ":batchUpdate", {"json": {"requests": [
            {"addSheet": {"properties": {"title": "New", "gridProperties": {"rowCount": 3, "columnCount": 2}}}},
            {"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"columnCount": 30}},
                                       "fields": "gridProperties.columnCount"}},
            {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 5}}]}}),
    ]
    for method_id, verb, path, kwargs in calls:
        answer = api(emu, verb, path, **kwargs)
        assert answer.status_code == 200, (method_id, answer.text)
        response_schema = methods[method_id]["response"]
        _check(answer.json(), response_schema, schemas, method_id)
    assert set(emu.request_counts()) == {c[0] for c in calls}


def test_the_shape_check_catches_a_wrong_field():
    doc = _discovery()
    with pytest.raises(AssertionError, match="not in Google's schema"):
        _check({"range": "A1", "rows": []}, {"$ref": "ValueRange"}, doc["schemas"], "ValueRange")
    with pytest.raises(AssertionError):
        _check({"majorDimension": "DIAGONAL"}, {"$ref": "ValueRange"}, doc["schemas"], "ValueRange")


@pytest.mark.parametrize("fields", [
    "sheets(data(rowData(values(effectiveValue,effectiveFormat/numberFormat/type,userEnteredValue/formulaValue))))",
    "sheets(data(rowData(values(userEnteredValue,effectiveFormat,note))))",
    "sheets(data(rowData(values(effectiveValue/numberValue,userEnteredFormat/numberFormat,formattedValue))))",
    "sheets(data(rowData(values(*))))",
    "sheets(data(rowData,rowMetadata(hiddenByUser)))",
    "sheets(data(startRow,rowData/values/effectiveValue/stringValue))",
    "sheets(properties/title,data(columnMetadata))",
])
def test_grid_data_with_a_fields_mask_is_the_whole_answer_pruned(emu, fields: str):
    """The emulator builds big grid answers already masked (fast); what it sends must be exactly
    the unmasked answer with the mask applied, for every kind of cell."""
    from sheets_connector.sheets_emulator import api

    rows = [["Email", "Born", "Score", "Sum", "Flag"],
            [Cell("a@example.com", note="call back"), dt.date(1990, 3, 4), 7, Cell(9.5, formula="=C2+C3"), True],
            [None, dt.datetime(2024, 1, 2, 13, 30), Cell(972541111111.0, fmt=SCI), Cell(None, formula='=""'), False]]
    key = emu.create_spreadsheet({"Contacts": rows}, cols=6)
    book = emu._books[key]
    query = {"includeGridData": ["true"], "ranges": ["'Contacts'!A1:F4"]}
    whole = api.call("sheets.spreadsheets.get", book, None, query, None, emu.account)
    masked = api.call("sheets.spreadsheets.get", book, None, query | {"fields": [fields]}, None, emu.account)
    assert masked == api.prune(whole, api.parse_fields(fields))
    assert "rowData" not in fields or masked["sheets"][0]["data"][0]["rowData"]
