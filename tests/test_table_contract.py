"""Every ``Table`` keeps the contract of ``tables/base.py`` (the checks are in table_contract.py).

A source is added to ``SOURCES`` with a function that makes a sheet from rows and returns
how to open a fresh table on it; the checks then run on it unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import openpyxl
import pytest
from table_contract import CHECKS, HEADER, ROWS, OpenTable, Source, identify, refs, written_or_unplaced

from sheets_connector.tables.base import CellValue, RowRef, Table
from sheets_connector.tables.xlsx import XlsxTable


def xlsx_source(folder: Path) -> Source:
    def make(rows: Sequence[Sequence[CellValue]]) -> OpenTable:
        path = folder / "contacts.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "Contacts"
        for row in rows:
            ws.append(list(row))
        wb.save(path)

        def open_table() -> Table:  # mypy checks here that XlsxTable is a Table
            return XlsxTable(path)
        return open_table
    return make


SOURCES: dict[str, Callable[[Path], Source]] = {"xlsx": xlsx_source}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_contract(tmp_path: Path, source: str, check: Callable[[Source], None]) -> None:
    check(SOURCES[source](tmp_path))


def test_xlsx_results_hidden_in_merged_cells_are_unplaced(tmp_path: Path) -> None:
    open_table = xlsx_source(tmp_path)([HEADER, *ROWS])
    path = tmp_path / "contacts.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["Contacts"].merge_cells("C3:C4")  # Yossi's and Avi's Status: only C3 shows
    wb.save(path)
    table = open_table()
    r = refs(table.read())
    results: dict[str, dict[RowRef, CellValue]] = {"Status": {ref: f"status of {email}" for email, ref in r.items()}}
    unplaced = table.set_columns(results, identify)
    assert [u.ref.number for u in unplaced] == [4]
    table.save()
    written_or_unplaced(open_table, results, unplaced)
