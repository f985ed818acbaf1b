"""GoogleSheetTable against the emulator: typed reads, results on the right rows while staff
edit, RAW writes, the new-contacts tab, a constant number of requests, and plain errors."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from gsheets_util import emulator_connection, rsa_key_pair, write_key_file

from sheets_connector.config import parse_config
from sheets_connector.errors import ConfigError, SourceError
from sheets_connector.sheets_emulator import Cell, NumberFormat, SheetsEmulator, parse_typed
from sheets_connector.sheets_emulator.cells import locale_of
from sheets_connector.tables.base import RowKey, RowRef, SourceRow
from sheets_connector.tables.gsheet import GoogleSheetTable

HEADER = ["Email", "Mobile", "Name"]


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


KEY_HEADERS: list[str] = []


@pytest.fixture(autouse=True, params=["whole tab", "focused"])
def _read_backs(request, monkeypatch):
    """Every test twice: the write's read-backs read the whole tab (a table that does not know
    the key's columns), or only what their checks use (``gsheet_focus``, as the sync's table)."""
    monkeypatch.setattr(__import__(__name__), "KEY_HEADERS", [] if request.param == "whole tab" else HEADER[:2])


def identify(row: SourceRow) -> RowKey | None:
    """The test's stand-in for the mapping's rule: email, else mobile digits (header as read)."""
    email, mobile = row.values[0], row.values[1]
    if isinstance(email, str) and "@" in email:
        return RowKey("email", email.strip().lower())
    if mobile not in (None, ""):
        return RowKey("mobile", str(mobile))
    return None


def table(emu: SheetsEmulator, key: str, worksheet: str | None = "Contacts", retries: int = 2, **kw) -> GoogleSheetTable:
    kw.setdefault("key_headers", KEY_HEADERS)
    return GoogleSheetTable(lambda: emulator_connection(emu, retries), key, worksheet, **kw)


def contacts(n: int) -> list[list[object]]:
    return [HEADER] + [[f"c{i}@example.com", 541000000 + i, f"Name {i}"] for i in range(n)]


def refs_of(data) -> dict[RowRef, str]:
    return {RowRef(r.number, identify(r)): f"result for {r.values[0] or r.values[2]}" for r in data.rows}


def results(emu: SheetsEmulator, key: str, column: str = "Sync result") -> dict[str, object]:
    """{email or name on the row: its result cell}, read back from the emulator."""
    rows = emu.values(key, "Contacts")
    idx = rows[0].index(column)
    return {(r[0] or r[2]): (r[idx] if idx < len(r) else "") for r in rows[1:] if r}


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def test_read_gives_digits_of_numeric_mobiles_and_real_dates(emu):
    key = emu.create_spreadsheet({"Contacts": [
        ["Email", "Mobile", "Birthday", "Joined", "VIP", "Check"],
        ["dana@example.co.il", Cell(972541111111.0, fmt=NumberFormat("SCIENTIFIC", "0.00E+00")), dt.date(1980, 6, 12),
         dt.datetime(2024, 3, 12, 14, 5), True, Cell(1.5)],
        ["noa@example.co.il", "0521234567", Cell(45363.0, fmt=NumberFormat("DATE", "yyyy-mm-dd")), None, False, "#N/A"],
    ]}, locale="en_US")
    data = table(emu, key).read()
    assert data.header == ["Email", "Mobile", "Birthday", "Joined", "VIP", "Check"]
    assert data.rows[0].values == ("dana@example.co.il", 972541111111, dt.date(1980, 6, 12),
                                   dt.datetime(2024, 3, 12, 14, 5), True, 1.5)
    assert data.rows[1].values == ("noa@example.co.il", "0521234567", dt.date(2024, 3, 12), None, False, "#N/A")
    assert [r.number for r in data.rows] == [2, 3]


def test_dates_read_the_same_whatever_the_locale(emu):
    for locale in ("en_US", "en_GB", "de_DE"):
        key = emu.create_spreadsheet({"Contacts": [["Email", "Birthday"]]}, locale=locale)
        typed = "12/03/2024" if locale != "de_DE" else "12.03.2024"
        emu.set_cells(key, "Contacts", 2, [["a@x.com", parse_typed(typed, locale_of(locale))]])
        expected = dt.date(2024, 12, 3) if locale == "en_US" else dt.date(2024, 3, 12)  # as the user typed it
        assert table(emu, key).read().rows[0].values[1] == expected


def test_a_mobile_typed_as_a_number_loses_its_zero_but_no_other_digit(emu):
    key = emu.create_spreadsheet({"Contacts": [HEADER, ["a@x.com", parse_typed("0541111111", locale_of("en_US")), "A"]]})
    assert table(emu, key).read().rows[0].values[1] == 541111111  # an int: the mapping adds the country's zero back


def test_header_row_below_a_title_and_blank_or_duplicate_header_cells(emu):
    key = emu.create_spreadsheet({"Contacts": [
        ["Staff contacts (do not edit)"],
        ["Email", "", "Email", 2024, None],
        ["a@x.com", "x", "b@x.com", 5],
        [None, None, None, None],
        [],
    ]})
    data = table(emu, key, header_row=2).read()
    assert data.header == ["Email", "", "Email", "2024"]
    assert [(r.number, r.values) for r in data.rows] == [(3, ("a@x.com", "x", "b@x.com", 5))]


def test_an_empty_header_row_is_a_config_error(emu):
    key = emu.create_spreadsheet({"Contacts": [["Email"], ["a@x.com"]]})
    with pytest.raises(ConfigError, match="Row 5 of Google Sheet 'Contacts', tab 'Contacts' is empty"):
        table(emu, key, header_row=5).read()


def test_default_worksheet_is_the_first_visible_tab(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1), "Other": [["x"]]})
    assert table(emu, key, worksheet=None).read().header == HEADER


# ---------------------------------------------------------------------------------------------
# results on the right rows while staff edit
# ---------------------------------------------------------------------------------------------
def test_results_follow_rows_when_rows_are_inserted_above(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(3)})
    t = table(emu, key)
    data = t.read()
    emu.insert_rows(key, "Contacts", 2, [["new1@example.com", 1, "New"], ["new2@example.com", 2, "New"]])
    assert t.set_columns({"Sync result": refs_of(data)}, identify) == []
    got = results(emu, key)
    assert got == {"new1@example.com": "", "new2@example.com": "",
                   "c0@example.com": "result for c0@example.com", "c1@example.com": "result for c1@example.com",
                   "c2@example.com": "result for c2@example.com"}


def test_a_deleted_row_gets_nothing_and_is_reported(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(3)})
    t = table(emu, key)
    data = t.read()
    emu.delete_rows(key, "Contacts", 3)  # c1
    unplaced = t.set_columns({"Sync result": refs_of(data)}, identify)
    assert [(u.ref.number, u.ref.key) for u in unplaced] == [(3, RowKey("email", "c1@example.com"))]
    assert "no longer in the sheet" in unplaced[0].reason
    assert results(emu, key) == {"c0@example.com": "result for c0@example.com", "c2@example.com": "result for c2@example.com"}


def test_results_follow_rows_after_a_sort(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(5)})
    t = table(emu, key)
    data = t.read()
    emu.sort_rows(key, "Contacts", 0, descending=True)
    assert t.set_columns({"Sync result": refs_of(data)}, identify) == []
    rows = emu.values(key, "Contacts")
    assert [r[0] for r in rows[1:]] == [f"c{i}@example.com" for i in (4, 3, 2, 1, 0)]
    assert all(r[3] == f"result for {r[0]}" for r in rows[1:])


def test_a_sort_just_before_the_re_read_is_seen(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(4)})
    t = table(emu, key)
    data = t.read()
    # the table's next spreadsheets.get is the re-read inside set_columns: sort just before it
    emu.on_request("sheets.spreadsheets.get", lambda: emu.sort_rows(key, "Contacts", 0, descending=True))
    t.set_columns({"Sync result": refs_of(data)}, identify)
    assert all(v == f"result for {k}" for k, v in results(emu, key).items())


def test_a_contact_copied_to_a_second_row_gets_its_result_on_neither(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(2)})
    t = table(emu, key)
    data = t.read()
    emu.insert_rows(key, "Contacts", 4, [["C0@example.com ", 999, "Copy"]])
    unplaced = t.set_columns({"Sync result": refs_of(data)}, identify)
    assert len(unplaced) == 1 and unplaced[0].ref.number == 2
    assert "is now on rows 2, 4" in unplaced[0].reason and "none of them" in unplaced[0].reason
    rows = emu.values(key, "Contacts")
    assert rows[1][3:] == [] and rows[3][3:] == []
    assert rows[2][3] == "result for c1@example.com"


def test_duplicate_rows_read_as_duplicates_keep_their_own_results(emu):
    key = emu.create_spreadsheet({"Contacts": [HEADER, ["a@x.com", 1, "First"], ["b@x.com", 2, "B"], ["A@x.com", 3, "Again"]]})
    t = table(emu, key)
    data = t.read()
    values = {RowRef(2, identify(data.rows[0])): "✓ synced", RowRef(3, identify(data.rows[1])): "✓ synced",
              RowRef(4, identify(data.rows[2])): "✗ duplicate of row 2"}
    emu.insert_rows(key, "Contacts", 2, [["z@x.com", 9, "Z"]])
    assert t.set_columns({"Sync result": values}, identify) == []
    assert [r[3] if len(r) > 3 else "" for r in emu.values(key, "Contacts")[1:]] == [
        "", "✓ synced", "✓ synced", "✗ duplicate of row 2"]


def test_rows_without_a_key_are_found_by_their_content(emu):
    key = emu.create_spreadsheet({"Contacts": [HEADER, ["a@x.com", 1, "A"], [None, None, "No contact"], ["bad email", None, "Bad"]]})
    t = table(emu, key)
    data = t.read()
    values = {RowRef(r.number, identify(r)): f"result {r.values[2]}" for r in data.rows}
    emu.insert_rows(key, "Contacts", 2, [[None, None, "Inserted, no key"]])
    emu.set_cells(key, "Contacts", 5, [["bad email", None, "Bad (edited)"]])  # the keyless row 4 was edited
    unplaced = t.set_columns({"Sync result": values}, identify)
    assert [u.ref.number for u in unplaced] == [4]
    rows = emu.values(key, "Contacts")
    assert rows[1][3:] == [] and rows[2][3] == "result A" and rows[3][3] == "result No contact" and rows[4][3:] == []


def test_without_identify_rows_are_found_by_content(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(3)})
    t = table(emu, key)
    data = t.read()
    emu.insert_rows(key, "Contacts", 2, [["x@example.com", 0, "X"]])
    assert t.set_columns({"Sync result": {RowRef(r.number): r.values[0] for r in data.rows}}) == []
    assert all(v in ("", k) for k, v in results(emu, key).items())
    assert results(emu, key)["c2@example.com"] == "c2@example.com"


def test_identify_sees_the_columns_as_read_even_if_staff_moved_them(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(2)})
    t = table(emu, key)
    data = t.read()
    # staff swap the Email and Mobile columns and add a column in front
    rows = emu.values(key, "Contacts")
    emu.set_cells(key, "Contacts", 1, [["Notes", r[1], r[0], r[2]] for r in rows])
    assert t.set_columns({"Sync result": refs_of(data)}, identify) == []
    after = emu.values(key, "Contacts")
    assert after[0] == ["Notes", "Mobile", "Email", "Name", "Sync result"]
    assert [r[4] for r in after[1:]] == ["result for c0@example.com", "result for c1@example.com"]


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def test_results_are_written_raw(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(4)})
    t = table(emu, key)
    data = t.read()
    texts = ["=HYPERLINK(\"x\")", "+972541111111", "-5", "@mention"]
    t.set_columns({"Sync result": {RowRef(r.number, identify(r)): v for r, v in zip(data.rows, texts)}}, identify)
    for row, text in zip(range(2, 6), texts):
        cell = emu.cell(key, "Contacts", f"D{row}")
        assert cell.value == text and cell.formula is None


def test_existing_results_column_is_reused_and_only_given_cells_change(emu):
    key = emu.create_spreadsheet({"Contacts": [HEADER + [" sync RESULT "], ["a@x.com", 1, "A", "old"], ["b@x.com", 2, "B", "old"]]})
    t = table(emu, key)
    data = t.read()
    t.set_columns({"Sync result": {RowRef(2, identify(data.rows[0])): "new"}}, identify)
    assert emu.values(key, "Contacts") == [HEADER + [" sync RESULT "], ["a@x.com", 1, "A", "new"], ["b@x.com", 2, "B", "old"]]


def test_a_results_column_past_the_grid_grows_the_grid_first(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(2)}, cols=3)
    t = table(emu, key)
    data = t.read()
    when = dt.datetime(2024, 3, 12, 14, 5)
    t.set_columns({"Sync result": {RowRef(r.number, identify(r)): "ok" for r in data.rows},
                   "inwise ID": {RowRef(2, identify(data.rows[0])): 439130001},
                   "Last synced": {RowRef(2, identify(data.rows[0])): when}}, identify)
    assert emu.grid_size(key, "Contacts") == (1000, 6)
    rows = emu.values(key, "Contacts")
    assert rows[0] == HEADER + ["Sync result", "inwise ID", "Last synced"]
    assert rows[1][3:] == ["ok", 439130001, "12/03/2024 14:05"]  # times in the mapping's format, as text


def test_too_many_columns_is_a_clear_error_before_google_s(emu):
    key = emu.create_spreadsheet({"Contacts": [["x"] * 18_278, ["a@x.com"]]}, rows=2, cols=18_278)
    t = GoogleSheetTable(lambda: emulator_connection(emu), key, "Contacts")
    data = t.read()
    emu.reset_stats()
    with pytest.raises(SourceError, match="would need 18,279 columns; Google Sheets allows at most 18,278"):
        t.set_columns({"Sync result": {RowRef(2): "x"}}, None)
    assert "sheets.spreadsheets.batchUpdate" not in emu.request_counts()
    assert data.rows


def test_too_many_cells_is_a_clear_error(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1)}, rows=384_500, cols=26)  # 9,997,000 cells
    t = table(emu, key)
    t.read()
    emu.reset_stats()
    with pytest.raises(SourceError, match="would need 10,007,002 cells; a Google spreadsheet holds at most 10,000,000"):
        t.append_rows("New contacts", ["id", "email"], [[1, "a"]] * 5000)
    assert emu.total_requests() == 0


# ---------------------------------------------------------------------------------------------
# the new-contacts tab
# ---------------------------------------------------------------------------------------------
def test_append_creates_the_tab_with_its_header(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    t = table(emu, key)
    assert t.read_tab("New contacts") is None
    assert t.append_rows("New contacts", ["id", "email", "created"], [[1, "=a@x.com", dt.date(2024, 1, 2)], [2, "b@x.com"]]) == 2
    assert emu.values(key, "New contacts") == [["id", "email", "created"], [1, "=a@x.com", "02/01/2024"], [2, "b@x.com"]]
    assert t.read_tab("new CONTACTS") == (["id", "email", "created"], [[1, "=a@x.com", "02/01/2024"], [2, "b@x.com", None]])


def test_append_places_values_by_header_and_adds_missing_columns(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1), "New contacts": [["Email", "ID"], ["old@x.com", 7]]}, cols=2)
    t = table(emu, key)
    t.append_rows("New contacts", ["id", "email", "mobile"], [[8, "new@x.com", "972541111111"]])
    assert emu.values(key, "New contacts") == [["Email", "ID", "mobile"], ["old@x.com", 7], ["new@x.com", 8, "972541111111"]]


def test_rows_added_to_the_tab_meanwhile_are_not_overwritten(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1), "New contacts": [["id"], [1]]})
    t = table(emu, key)
    t.read_tab("New contacts")
    emu.set_cells(key, "New contacts", 3, [["typed by staff"]])
    t.append_rows("New contacts", ["id"], [[2], [3]])
    assert emu.values(key, "New contacts") == [["id"], [1], ["typed by staff"], [2], [3]]


def test_rows_typed_just_below_the_first_free_row_meanwhile_are_pushed_down_not_overwritten(emu):
    # Google writes at an empty anchor row: the appended rows are inserted there, so a row staff
    # typed one further down stays whole
    key = emu.create_spreadsheet({"Contacts": contacts(1), "New contacts": [["id"], [1]]})
    t = table(emu, key)
    t.read_tab("New contacts")
    emu.set_cells(key, "New contacts", 4, [["typed by staff"]])
    t.append_rows("New contacts", ["id"], [[2], [3]])
    assert emu.values(key, "New contacts") == [["id"], [1], [2], [3], [], ["typed by staff"]]


# ---------------------------------------------------------------------------------------------
# requests per sync: constant
# ---------------------------------------------------------------------------------------------
def _one_sync(emu: SheetsEmulator, key: str) -> dict[str, int]:
    """What a sync asks of the table, in its order; returns the requests it cost."""
    t = table(emu, key)
    emu.reset_stats()
    t.check_writable()
    data = t.read()
    t.set_columns({"Sync result": refs_of(data),
                   "inwise ID": {RowRef(r.number, identify(r)): 1000 + r.number for r in data.rows}}, identify)
    t.read_tab("New contacts")
    t.append_rows("New contacts", ["id", "email"], [[i, f"n{i}@x.com"] for i in range(len(data.rows) // 10 + 1)])
    t.save()
    return emu.request_counts()


def test_requests_per_sync_are_the_same_for_10_and_5000_rows(emu):
    counts = {}
    for n in (10, 5000):
        key = emu.create_spreadsheet({"Contacts": contacts(n)}, cols=3)  # no room for the result columns yet
        first, second = _one_sync(emu, key), _one_sync(emu, key)
        counts[n] = (first, second)
    assert counts[10] == counts[5000]
    first, second = counts[10]
    assert first == {
        # metadata, read, re-read, re-read once the columns are pinned, read back after the write
        "sheets.spreadsheets.get": 5,
        # one-off: widen the grid and pin the 2 result columns and the header row; create the new-contacts tab
        "sheets.spreadsheets.batchUpdate": 2,
        "sheets.spreadsheets.values.batchUpdateByDataFilter": 1,  # every result cell, RAW, through the pins
        "sheets.spreadsheets.values.append": 1,  # every new contact, with the tab's header
    }
    assert second == {  # the same results again: the re-read shows them in place, so nothing is written
        "sheets.spreadsheets.get": 4,  # metadata, read, re-read, the new-contacts tab's ids
        "sheets.spreadsheets.values.append": 1,
    }


# ---------------------------------------------------------------------------------------------
# errors a person can act on
# ---------------------------------------------------------------------------------------------
def test_sheet_not_shared_names_the_service_account_to_share_with(emu, tmp_path: Path):
    private, public = rsa_key_pair()
    email = "sync-bot@test-project.iam.gserviceaccount.com"
    emu.add_service_account(email, public)
    key = emu.create_spreadsheet({"Contacts": contacts(1)}, shared_with=["someone@example.com"])
    write_key_file(tmp_path / "key.json", email, private, emu.token_uri)
    config = parse_config(f"""
source: {{type: google_sheet, spreadsheet: "https://docs.google.com/spreadsheets/d/{key}/edit#gid=0",
          worksheet: Contacts, credentials: key.json, api_url: "{emu.api_url}"}}
columns: {{email: Email}}
""", base_dir=tmp_path)
    with pytest.raises(SourceError) as err:
        config.open_table().read()
    assert f"add {email} as an Editor" in str(err.value)
    assert "BEGIN" not in str(err.value)
    emu.share(key, email)
    t = config.open_table()
    assert t.read().header == HEADER
    assert t.summary().account == f"the service account {email}"


def test_wrong_key_or_address(emu):
    with pytest.raises(SourceError, match="Google has no spreadsheet"):
        table(emu, "k" * 44).read()
    with pytest.raises(ConfigError, match="neither the address of a Google spreadsheet nor its key"):
        table(emu, "my contacts")
    with pytest.raises(ConfigError, match="neither the address"):
        table(emu, "https://example.com/not-a-sheet")


def test_worksheet_not_found_lists_the_tabs(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1), "New contacts": []})
    with pytest.raises(ConfigError) as err:
        table(emu, key, worksheet="Contact list").read()
    assert "has no tab named 'Contact list'. Its tabs are: 'Contacts', 'New contacts'. Did you mean 'Contacts'?" in str(err.value)
    assert table(emu, key, worksheet=" contacts ").read().header == HEADER  # case and spaces do not matter


def _mapping(tmp_path: Path, emu: SheetsEmulator, key: str, credentials: str | None = None, auth: str = "service_account"):
    cred = f", credentials: {credentials}" if credentials else ""
    return parse_config(f"""
source: {{type: google_sheet, spreadsheet: {key}, auth: {auth}, api_url: "{emu.api_url}"{cred}}}
columns: {{email: Email}}
""", base_dir=tmp_path)


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("not json at all", "not valid JSON"),
    (json.dumps({"installed": {"client_id": "x"}}), "is an OAuth client file, not a service-account key"),
    (json.dumps({"type": "service_account", "client_email": "a@b.c"}), "has no private_key, token_uri"),
    (json.dumps({"type": "service_account", "client_email": "a@b.c", "private_key": "PLACEHOLDER, NOT A KEY",
                 "token_uri": "http://127.0.0.1:9/token"}), "cannot be read"),
])
def test_credentials_file_missing_or_malformed(emu, tmp_path: Path, content, message):
    if content is not None:
        (tmp_path / "key.json").write_text(content)
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    with pytest.raises(ConfigError, match=message) as err:
        _mapping(tmp_path, emu, key, "key.json").open_table().read()
    assert "line" in str(err.value)  # names where in the mapping the path came from


def test_credentials_from_the_environment_variable(emu, tmp_path: Path, monkeypatch):
    private, public = rsa_key_pair()
    email = "env-bot@test-project.iam.gserviceaccount.com"
    emu.add_service_account(email, public)
    key = emu.create_spreadsheet({"Contacts": contacts(1)}, shared_with=[email])
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_key_file(tmp_path / "env-key.json", email, private, emu.token_uri)))
    assert _mapping(tmp_path, emu, key).open_table().read().header == HEADER


def test_no_credentials_for_google_itself_is_a_config_error(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    config = parse_config("source: {type: google_sheet, spreadsheet: " + "k" * 44 + "}\ncolumns: {email: Email}\n", base_dir=tmp_path)
    with pytest.raises(ConfigError, match="No Google credentials: set source.credentials"):
        config.open_table().read()


def test_oauth_without_a_client_file_or_saved_login_says_what_to_download(emu, tmp_path: Path):
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    with pytest.raises(ConfigError, match="auth: oauth needs the OAuth client file"):
        _mapping(tmp_path, emu, key, auth="oauth").open_table().read()


def test_quota_exhausted_after_bounded_retries(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    t = table(emu, key, retries=2)
    emu.fail_next(3, status=429)
    with pytest.raises(SourceError) as err:
        t.read()
    assert "quota is used up" in str(err.value) and "tried 3 times" in str(err.value) and "Try again in about a minute" in str(err.value)
    assert emu.total_requests() == 3


def test_transient_5xx_and_429_are_retried(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(2)})
    t = table(emu, key, retries=3)
    emu.fail_next(1, status=503)
    emu.fail_next(1, status=429)
    assert len(t.read().rows) == 2
    assert emu.total_requests() == 4  # two refused, then metadata and the read


def test_a_failed_append_is_not_repeated(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1), "New contacts": [["id"]]})
    t = table(emu, key, retries=3)
    t.read_tab("New contacts")
    emu.fail_next(1, status=500, method="sheets.spreadsheets.values.append")
    with pytest.raises(SourceError, match="error 500"):
        t.append_rows("New contacts", ["id"], [[1]])
    assert emu.request_counts()["sheets.spreadsheets.values.append"] == 1  # may have been applied: not sent twice


def test_a_protected_tab_is_refused_before_anything_is_sent(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    emu.protect(key, "Contacts", editors=["owner@example.com"])
    with pytest.raises(SourceError, match="is protected"):
        table(emu, key).check_writable()


def test_a_reader_only_share_fails_at_write_time_with_a_clear_message(emu):
    key = emu.create_spreadsheet({"Contacts": contacts(1)}, shared_with={emu.account: "reader"})
    t = table(emu, key)
    data = t.read()
    with pytest.raises(SourceError, match=f"shared with {emu.account} for viewing only.*make {emu.account} an Editor"):
        t.set_columns({"Sync result": refs_of(data)}, identify)


def test_emulator_mapping_works_without_a_key_file(emu, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    key = emu.create_spreadsheet({"Contacts": contacts(2)})
    t = _mapping(tmp_path, emu, key).open_table()
    summary = t.summary()
    assert summary.tabs == ["Contacts"] and summary.worksheet == "Contacts" and emu.account in summary.account
    assert t.save().path.endswith(f"{key}/edit#gid=0")


def test_the_example_credentials_file_is_fake_and_refused_clearly(emu, tmp_path: Path):
    example = Path(__file__).resolve().parents[1] / "credentials.example.json"
    text = example.read_text(encoding="utf-8")
    assert "BEGIN" not in text and "PRIVATE KEY-----" not in text
    key = emu.create_spreadsheet({"Contacts": contacts(1)})
    with pytest.raises(ConfigError, match="private key in .*credentials.example.json .* cannot be read"):
        _mapping(tmp_path, emu, key, str(example)).open_table().read()


# ---------------------------------------------------------------------------------------------
# focused read-backs (gsheet_focus): what a check needs is always read, wherever it moved
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["in the middle", "at the bottom"])
def test_a_keyless_row_typed_again_anywhere_is_seen_and_neither_twin_gets_the_result(emu, where):
    # 60 rows: far more than the rows around the header that a read-back reads whole
    rows = [HEADER] + [[f"c{i}@example.com", 541000000 + i, f"Name {i}"] for i in range(60)]
    rows.insert(30, [None, None, "Only a name"])
    key = emu.create_spreadsheet({"Contacts": rows})
    t = table(emu, key)
    data = t.read()
    at = 50 if where == "in the middle" else len(rows) + 1
    emu.insert_rows(key, "Contacts", at, [[None, None, "Only a name"]])  # no email, no mobile: placed by content
    emu.reset_stats()
    unplaced = t.set_columns({"Sync result": refs_of(data)}, identify)
    assert [u.ref.number for u in unplaced] == [31]
    # seen before the write (not written, then repaired): one write
    assert emu.request_counts()["sheets.spreadsheets.values.batchUpdateByDataFilter"] == 1
    assert "identical rows" in unplaced[0].reason
    after = emu.values(key, "Contacts")
    assert [r[3] if len(r) > 3 else "" for r in after[1:] if r[2] == "Only a name"] == ["", ""]
    assert all(r[3] == f"result for {r[0]}" for r in after[1:] if r[0])


def test_a_keyless_row_moved_by_a_sort_keeps_its_result(emu):
    rows = [HEADER] + [[f"c{i}@example.com", 541000000 + i, f"Name {i}"] for i in range(60)]
    rows.insert(40, [None, None, "Only a name"])
    key = emu.create_spreadsheet({"Contacts": rows})
    t = table(emu, key)
    data = t.read()
    emu.sort_rows(key, "Contacts", 2, descending=True)  # by name: the keyless row goes to the top
    assert t.set_columns({"Sync result": refs_of(data)}, identify) == []
    after = emu.values(key, "Contacts")
    assert after[1][2] == "Only a name" and after[1][3] == "result for Only a name"
    assert all(r[3] == f"result for {r[0]}" for r in after[2:])


def test_focus_ranges_read_the_header_key_and_result_columns_and_the_rows_without_a_key():
    from sheets_connector.tables.gsheet_focus import Focus

    # 100,000 rows read (rows 2 to 100,001), 9 blank rows below them in the grid
    f = Focus.around(0, 100_010, 12, columns=[3, 4, 10, 11], rows=[57, 58, 59, 4000], tail=100_001, right=10)
    assert f.ranges("Contacts") == ["'Contacts'!1:21", "'Contacts'!58:60", "'Contacts'!4001:4001",
                                    "'Contacts'!A100002:L", "'Contacts'!D:E", "'Contacts'!K:L"]
    assert f.covers_row(10) and f.covers_row(58) and not f.covers_row(100) and f.covers_row(100_001)
    assert f.covers_row(200_000)  # the tail is open-ended: rows added meanwhile are read
    assert f.covers_col(3) and f.covers_col(11) and not f.covers_col(0)
    full = Focus.around(0, 100_001, 12, columns=[3, 4], tail=100_001, right=10)  # no row below the last read
    assert "'Contacts'!A100002:L" not in (full.ranges("Contacts") or []) and not full.covers_row(100_001)
    scattered = Focus.around(0, 100_001, 12, rows=range(100, 1000, 2), tail=100_001)
    assert scattered.ranges("Contacts") is None  # too many ranges: the whole tab


def test_rows_deleted_from_a_grid_sized_to_its_data_are_handled(emu):
    """The grid holds just the rows: staff delete some, so a range asked for as the focus of a
    re-read is outside the grid now - Google refuses it, the whole tab is read instead."""
    rows = contacts(25)
    key = emu.create_spreadsheet({"Contacts": rows}, rows=len(rows), cols=len(HEADER))
    t = table(emu, key)
    data = t.read()
    emu.delete_rows(key, "Contacts", 3, 12)  # c1 .. c12
    unplaced = t.set_columns({"Sync result": refs_of(data)}, identify)
    assert sorted(u.ref.number for u in unplaced) == list(range(3, 15))
    got = results(emu, key)
    assert got == {f"c{i}@example.com": f"result for c{i}@example.com" for i in [0, *range(13, 25)]}


def test_a_key_column_missing_from_the_header_makes_the_re_reads_read_every_column(emu):
    """The key may come from a column the table cannot name: rows are then known by all their
    cells, never by the one key column it found (two rows without an email are two contacts)."""
    rows = [HEADER] + [[None, 541000000 + i, f"Name {i}"] for i in range(30)]
    key = emu.create_spreadsheet({"Contacts": rows})
    t = table(emu, key, key_headers=["Email", "Telephone"])
    data = t.read()
    emu.sort_rows(key, "Contacts", 2, descending=True)
    assert t.set_columns({"Sync result": refs_of(data)}, identify) == []
    after = emu.values(key, "Contacts")
    assert all(r[3] == f"result for {r[2]}" for r in after[1:])


def test_keys_known_from_the_read_are_not_worked_out_again_but_rows_changed_since_are(emu):
    """``keys`` (the mapping's key of each row as read): identify runs only on rows whose key
    cells differ from what was read - a row inserted, an email staff retyped - and the results
    land as they do without ``keys``."""
    key = emu.create_spreadsheet({"Contacts": contacts(6)})
    t = table(emu, key)
    data = t.read()
    known = {r.number: identify(r) for r in data.rows}
    known[99] = RowKey("email", "not-a-row-of-this-read@example.com")  # a row number the read never had: ignored
    emu.insert_rows(key, "Contacts", 3, [["new@example.com", 7, "New"]])  # c1.. move down one
    emu.set_cells(key, "Contacts", 6, [["retyped@example.com"]])  # was c3's email (row 5, now 6)
    asked: list[tuple[object, ...]] = []

    def counting(row: SourceRow) -> RowKey | None:
        asked.append(row.values[:2])
        return identify(row)

    refs = refs_of(data)
    unplaced = t.set_columns({"Sync result": refs}, counting, keys=known)
    assert [u.ref.key for u in unplaced] == [RowKey("email", "c3@example.com")]  # its row holds another contact now
    assert {v[0] for v in asked if any(x is not None for x in v)} == {"new@example.com", "retyped@example.com"}
    got = results(emu, key)
    assert got == {**{f"c{i}@example.com": f"result for c{i}@example.com" for i in (0, 1, 2, 4, 5)},
                   "new@example.com": "", "retyped@example.com": ""}


@pytest.mark.parametrize("piece", [3, 1 << 20])
def test_text_of_every_script_reads_exactly_whatever_piece_the_answer_is_cut_in(emu, monkeypatch, piece):
    """The answer is parsed as ASCII with JSON escapes (half the memory of its text): Hebrew, an
    emoji, "✓", a line separator, backslashes and quotes read exactly, also when a character's
    bytes are split between two pieces."""
    from sheets_connector.tables import gsheet_cells

    monkeypatch.setattr(gsheet_cells, "_PIECE", piece)
    texts = ["ישראל ישראלי", "😀 smile 𝄞", "✓ created · #12", "a\u2028b é", "back\\x41 \\u00e9 \\\\ \"quoted\"", "plain"]
    key = emu.create_spreadsheet({"Contacts": [HEADER] + [[f"r{i}@example.com", 541000000 + i, t] for i, t in enumerate(texts)]})
    data = table(emu, key).read()
    assert [r.values[2] for r in data.rows] == texts
    assert gsheet_cells.decode("".join(gsheet_cells.ascii_pieces(b'["plain", 1]'))) == ["plain", 1]
