"""The ``Table`` contract (``sheets_connector/tables/base.py``), written once for every source.

Each check takes a ``Source``: a function that makes a sheet holding the given rows (the
header first) and returns a function that opens a fresh ``Table`` on it.  Everything goes
through the public interface and is read back by a new table, as the next run would see it.
``test_table_contract.py`` runs the checks on .xlsx; another source (Google Sheets on its
emulator) adds its own ``Source`` there and runs the same checks.

Values are text: every source reads text back as text.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sheets_connector.tables.base import CellValue, RowKey, RowRef, SourceRow, Table, TableData, Unplaced

OpenTable = Callable[[], Table]
Source = Callable[[Sequence[Sequence[CellValue]]], OpenTable]

HEADER = ["Name", "Email", "Status"]
ROWS: list[list[CellValue]] = [
    ["Dana", "dana@example.com", "old"],
    ["Yossi", "yossi@example.com", None],
    ["Avi", "avi@example.com", None],
]
DANA, YOSSI, AVI = "dana@example.com", "yossi@example.com", "avi@example.com"


def identify(row: SourceRow) -> RowKey | None:
    """A row's key, as the mapping computes it: here, the first value that is an email."""
    email = next((str(v) for v in row.values if "@" in str(v or "")), None)
    return RowKey("email", email.strip().lower()) if email else None


def refs(data: TableData) -> dict[str, RowRef]:
    """{email: where that row's results go}."""
    out = {}
    for row in data.rows:
        key = identify(row)
        if key is not None:
            out[key.value] = RowRef(row.number, key)
    return out


def by_email(data: TableData) -> dict[str, dict[str, CellValue]]:
    """{email: {header: value}} of a sheet read back."""
    col = data.header.index("Email")
    return {str(row.values[col]): dict(zip(data.header, row.values)) for row in data.rows if row.values[col]}


def written_or_unplaced(open_table: OpenTable, results: Mapping[str, Mapping[RowRef, CellValue]],
                        unplaced: Sequence[Unplaced]) -> None:
    """After a save: every result is in its cell or was reported as not written, and nothing
    is reported that was written."""
    data = open_table().read()
    rows = {row.number: dict(zip(data.header, row.values)) for row in data.rows}
    missed = {u.ref for u in unplaced}
    assert all(u.reason.strip() for u in unplaced)
    not_written = set()
    for title, cells in results.items():
        for ref, value in cells.items():
            if rows.get(ref.number, {}).get(title) != value:
                not_written.add(ref)
    assert not_written == missed, (not_written, missed)


# --------------------------------------------------------------------------------------------
# The checks


def check_read(source: Source) -> None:
    data = source([HEADER, *ROWS])().read()
    assert data.header == HEADER and data.header_row == 1
    assert [r.number for r in data.rows] == [2, 3, 4]
    assert [list(r.values) for r in data.rows] == ROWS
    assert data.location


def check_results_land_on_their_rows(source: Source) -> None:
    open_table = source([HEADER, *ROWS])
    table = open_table()
    r = refs(table.read())
    results: dict[str, dict[RowRef, CellValue]] = {
        "Sync result": {r[DANA]: "✓ updated", r[AVI]: "✗ error"},
        " STATUS ": {r[YOSSI]: "new"},  # an existing column, matched ignoring case and spaces
    }
    unplaced = table.set_columns(results, identify)
    assert unplaced == []
    table.save()
    again = open_table().read()
    assert again.header == [*HEADER, "Sync result"]
    assert by_email(again) == {
        DANA: {"Name": "Dana", "Email": DANA, "Status": "old", "Sync result": "✓ updated"},
        YOSSI: {"Name": "Yossi", "Email": YOSSI, "Status": "new", "Sync result": None},
        AVI: {"Name": "Avi", "Email": AVI, "Status": None, "Sync result": "✗ error"},
    }
    written_or_unplaced(open_table, {"Sync result": results["Sync result"], "Status": results[" STATUS "]}, unplaced)


def check_set_columns_adds_up_until_saved(source: Source) -> None:
    open_table = source([HEADER, *ROWS])
    table = open_table()
    r = refs(table.read())
    assert table.set_columns({"Sync result": {r[DANA]: "first"}}, identify) == []
    assert table.set_columns({"sync RESULT": {r[YOSSI]: "second"}, "Sync result": {r[DANA]: "replaced"}}, identify) == []
    table.save()
    again = open_table().read()
    assert again.header == [*HEADER, "Sync result"]
    assert [row["Sync result"] for row in by_email(again).values()] == ["replaced", "second", None]


def check_new_column_goes_after_the_last_header(source: Source) -> None:
    open_table = source([["Name", "", "Email"], ["Dana", "note", DANA]])
    table = open_table()
    r = refs(table.read())
    table.set_columns({"Sync result": {r[DANA]: "ok"}}, identify)
    table.save()
    again = open_table().read()
    assert again.header == ["Name", "", "Email", "Sync result"]
    assert list(again.rows[0].values) == ["Dana", "note", DANA, "ok"]


def check_nothing_to_save_changes_nothing(source: Source) -> None:
    open_table = source([HEADER, *ROWS])
    table = open_table()
    before = table.read()
    table.save()
    assert open_table().read() == before


def check_rows_are_appended_to_another_tab(source: Source) -> None:
    open_table = source([HEADER, *ROWS])
    table = open_table()
    table.read()
    assert table.read_tab("New contacts") is None
    assert table.append_rows("New contacts", ["Id", "Email"], [["101", "new1@example.com"], ["102"]]) == 2
    # read_tab sees rows appended but not saved yet
    assert table.read_tab("new contacts ") == (["Id", "Email"], [["101", "new1@example.com"], ["102", None]])
    table.save()
    table = open_table()
    assert table.read_tab("New contacts") == (["Id", "Email"], [["101", "new1@example.com"], ["102", None]])
    # an existing tab: values go under the matching headers, missing headers are added
    assert table.append_rows("New contacts", ["email", "Created", "ID"], [["new3@example.com", "today", "103"]]) == 1
    table.save()
    assert open_table().read_tab("New contacts") == (
        ["Id", "Email", "Created"],
        [["101", "new1@example.com", None], ["102", None, None], ["103", "new3@example.com", "today"]],
    )
    assert open_table().read().header == HEADER  # the contacts sheet is untouched


CHECKS: list[Callable[[Source], None]] = [
    check_read,
    check_results_land_on_their_rows,
    check_set_columns_adds_up_until_saved,
    check_new_column_goes_after_the_last_header,
    check_nothing_to_save_changes_nothing,
    check_rows_are_appended_to_another_tab,
]
