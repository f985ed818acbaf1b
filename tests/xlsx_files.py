"""Helpers for the .xlsx tests: real workbooks, their parts, and writes through the public API."""
from __future__ import annotations

import hashlib
import logging
import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from sheets_connector.tables.base import CellValue, RowRef, Unplaced
from sheets_connector.tables.xlsx import XlsxTable
from sheets_connector.tables.xlsx.package import Package, sheet_parts

FIXTURES = Path(__file__).parent / "fixtures"


def set_cells(table: XlsxTable, columns: Mapping[str, Mapping[int, CellValue]]) -> list[Unplaced]:
    """``table.set_columns`` with plain row numbers (the rows are where they were read)."""
    return table.set_columns({h: {RowRef(r): v for r, v in cells.items()} for h, cells in columns.items()})


def fixture_copy(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    dst = tmp_path / (as_name or name)
    shutil.copyfile(FIXTURES / name, dst)
    return dst


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def members(path: Path) -> list[tuple[str, int]]:
    """(name, compression) of each zip member, in order."""
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.compress_type) for i in zf.infolist()]


def rewrite(path: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """Edit a workbook's parts in place (for what openpyxl itself would not write)."""
    p = parts(path)
    edit(p)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in p.items():
            zf.writestr(name, data)
    return path


def sheet_part(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(Package(zf))[sheet]


def leftovers(folder: Path) -> list[str]:
    """Temporary files a save may have left behind."""
    return sorted(p.name for p in folder.iterdir() if "sheets-connector" in p.name or p.name.endswith(".repair"))


# The table says in its log when the fast writer does not apply (and why).
OPENPYXL_NOTE = "writing the results with openpyxl"


def writer_used(records: list[logging.LogRecord]) -> str:
    """Which writer a save used, from the log records captured during it."""
    return "openpyxl" if any(OPENPYXL_NOTE in r.getMessage() for r in records) else "patch"
