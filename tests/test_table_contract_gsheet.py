"""The Table contract (tables/base.py), written against a factory so the same tests can run for
every source.  Here the factory makes Google Sheets tables on the emulator; an .xlsx factory
with the same signature plugs into ``make_table`` (the lead unifies them in one parametrised
suite).

A factory is ``make(header, rows, tabs=None) -> Handle``: it creates a spreadsheet whose first
tab "Contacts" holds ``header`` then ``rows`` (and other tabs from ``tabs``), and returns the
table plus ``read_back(tab)``, which reads a tab's values from outside the table (after
``save()``), blank cells as None and trailing blanks trimmed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from gsheets_util import emulator_connection

from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.tables.base import RowKey, RowRef, SaveReport, SourceRow, Table
from sheets_connector.tables.gsheet import GoogleSheetTable


@dataclass
class Handle:
    table: Table
    read_back: Callable[[str], list[list[Any]]]


class Factory(Protocol):
    def __call__(self, header: list[Any], rows: list[list[Any]], tabs: dict[str, list[list[Any]]] | None = None) -> Handle: ...


@pytest.fixture
def gsheet_factory() -> Iterator[Factory]:
    with SheetsEmulator() as emu:
        def make(header: list[Any], rows: list[list[Any]], tabs: dict[str, list[list[Any]]] | None = None) -> Handle:
            key = emu.create_spreadsheet({"Contacts": [header, *rows], **(tabs or {})}, cols=max(len(header), 1))

            def read_back(tab: str) -> list[list[Any]]:
                return [[None if v == "" else v for v in r] for r in emu.values(key, tab)]

            return Handle(GoogleSheetTable(lambda: emulator_connection(emu), key, "Contacts"), read_back)

        yield make


@pytest.fixture(params=["gsheet"])
def make_table(request: pytest.FixtureRequest) -> Factory:
    factory: Factory = request.getfixturevalue(f"{request.param}_factory")
    return factory


def key_of(row: SourceRow) -> RowKey | None:
    email = row.values[0]
    return RowKey("email", str(email).lower()) if email else None


HEADER = ["Email", "Mobile", "Name"]
ROWS = [["a@x.com", 541111111, "Ann"], ["b@x.com", None, "Ben"], [None, None, None], ["c@x.com", 3, None]]


def test_read_gives_header_and_rows_with_sheet_row_numbers(make_table: Factory):
    h = make_table(HEADER, ROWS + [[None, None, None]])
    data = h.table.read()
    assert data.header == HEADER and data.header_row == 1
    assert [(r.number, r.values) for r in data.rows] == [
        (2, ("a@x.com", 541111111, "Ann")), (3, ("b@x.com", None, "Ben")), (4, (None, None, None)), (5, ("c@x.com", 3, None))]
    assert isinstance(h.table.location, str) and h.table.location


def test_set_columns_writes_only_the_given_cells_under_a_new_header(make_table: Factory):
    h = make_table(HEADER, ROWS)
    data = h.table.read()
    h.table.check_writable()
    refs = {r.number: RowRef(r.number, key_of(r)) for r in data.rows}
    unplaced = h.table.set_columns({"Sync result": {refs[2]: "ok", refs[5]: "=not a formula"}}, key_of)
    assert unplaced == []
    assert isinstance(h.table.save(), SaveReport)
    assert h.read_back("Contacts") == [
        HEADER + ["Sync result"], ["a@x.com", 541111111, "Ann", "ok"], ["b@x.com", None, "Ben"], [], ["c@x.com", 3, None, "=not a formula"]]


def test_set_columns_matches_an_existing_header_ignoring_case_and_spaces(make_table: Factory):
    h = make_table(HEADER + ["  SYNC result "], [["a@x.com", 1, "Ann", "old"], ["b@x.com", 2, "Ben", "old"]])
    data = h.table.read()
    h.table.set_columns({"Sync result": {RowRef(3, key_of(data.rows[1])): "new"}}, key_of)
    h.table.save()
    assert h.read_back("Contacts")[1:] == [["a@x.com", 1, "Ann", "old"], ["b@x.com", 2, "Ben", "new"]]


def test_a_new_header_goes_after_the_last_non_blank_header_cell(make_table: Factory):
    h = make_table(["Email", "", "Name", ""], [["a@x.com", None, "Ann"]])
    data = h.table.read()
    h.table.set_columns({"Result": {RowRef(2, key_of(data.rows[0])): "ok"}}, key_of)
    h.table.save()
    assert h.read_back("Contacts") == [["Email", None, "Name", "Result"], ["a@x.com", None, "Ann", "ok"]]


def test_read_tab_and_append_rows(make_table: Factory):
    h = make_table(HEADER, ROWS, tabs={"Log": [["ID", "Email"], [1, "old@x.com"]]})
    h.table.read()
    assert h.table.read_tab("New contacts") is None
    assert h.table.read_tab("log") == (["ID", "Email"], [[1, "old@x.com"]])
    assert h.table.append_rows("New contacts", ["id", "email"], [[7, "n@x.com"]]) == 1
    assert h.table.append_rows("Log", ["email", "id", "mobile"], [["p@x.com", 2, "972541111111"]]) == 1
    h.table.save()
    assert h.read_back("New contacts") == [["id", "email"], [7, "n@x.com"]]
    assert h.read_back("Log") == [["ID", "Email", "mobile"], [1, "old@x.com"], [2, "p@x.com", "972541111111"]]


def test_append_rows_refuses_bad_headers(make_table: Factory):
    h = make_table(HEADER, ROWS)
    h.table.read()
    with pytest.raises(ValueError):
        h.table.append_rows("New contacts", ["id", "ID"], [[1, 2]])
    with pytest.raises(ValueError):
        h.table.append_rows("New contacts", ["id"], [[1, 2]])
