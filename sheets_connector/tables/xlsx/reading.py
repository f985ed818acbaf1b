"""What the .xlsx table learns of a worksheet when it reads it: python-calamine's cells turned
into the table's values (``calamine_rows``, ``put_unread``), the shape of a sheet that writes
are laid out by (``Shape``: header cells, merged and hidden columns, where the results
columns may go) and what only the sheet's XML tells (``sheet_facts``, see ``scan``).
"""
from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base import CellValue, SourceRow
from ..result_columns import Obstacle
from . import scan
from .cells import CellRange
from .package import Package, PackageError, sheet_parts

__all__ = ["Facts", "Shape", "calamine_rows", "cells_of", "occupied_columns", "put_unread", "sheet_facts"]

log = logging.getLogger(__name__)


@dataclass
class Shape:
    """What calamine (and the sheet's own XML) saw of a sheet, for laying out writes."""

    name: str
    worksheet: bool
    cells: dict[int, object]  # {column: value} of the header row's cells that hold something
    merged: list[CellRange]
    filled: tuple[int, int] | None = None  # first and last row holding a value
    hidden: list[tuple[int, int]] = field(default_factory=list)  # ranges of columns the user hid
    # For placing the results columns (contacts sheet only, see ``result_columns``):
    occupied: dict[int, int] = field(default_factory=dict)  # column right of the header -> first row with something
    obstacles: list[Obstacle] = field(default_factory=list)  # tables, pivot tables, array formulas, merged cells
    last_row: int = 0  # the last row the results may be written in

    def is_hidden(self, col: int) -> bool:
        return any(lo <= col <= hi for lo, hi in self.hidden)


@dataclass
class Facts:
    """What a worksheet's XML tells that calamine does not (see ``scan``)."""

    hidden: list[tuple[int, int]] = field(default_factory=list)
    unread: dict[tuple[int, int], object] = field(default_factory=dict)
    formulas: dict[int, int] = field(default_factory=dict)  # column -> first row (from the header) with a formula
    obstacles: list[Obstacle] = field(default_factory=list)  # tables, pivot tables, array formulas


def sheet_facts(target: Path, sheet: str, header_row: int, *, cells: bool, name: str) -> Facts:
    """What calamine does not tell about worksheet ``sheet`` of the workbook at ``target``,
    from its XML (see ``scan``): formulas and array formulas from ``header_row`` down, hidden
    columns, tables and pivot tables, and (``cells``) the cells calamine reads as empty but are
    not.  ``name``: the file's, for the log.  A part that cannot be read gives nothing: calamine read the sheet, and the save's
    checks speak for the rest."""
    try:
        with zipfile.ZipFile(target) as zf:
            pkg = Package(zf)
            part = sheet_parts(pkg).get(sheet)
            if not part:
                return Facts()
            data = pkg.read_large(part)  # one buffer of the sheet's size (see read_large)
            formulas, arrays = scan.formula_columns(data, header_row, 1)
            return Facts(scan.hidden_columns(zf, part), scan.unread_cells(data) if cells else {},
                         formulas, arrays + scan.structures(pkg, part))
    except (PackageError, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        log.debug("%s: could not look into sheet '%s' (%s)", name, sheet, e)
        return Facts()


def put_unread(rows: list[SourceRow], unread: Mapping[tuple[int, int], object], width: int, header_row: int) -> None:
    """Put what ``scan.unread_cells`` found into the rows' empty cells (adding rows calamine
    did not return, where such a cell is all a row holds)."""
    index = {row.number: i for i, row in enumerate(rows)}
    for (r, c), value in sorted(unread.items()):
        if r <= header_row or not 1 <= c <= width:
            continue
        i = index.get(r)
        if i is None:
            if rows and r < rows[-1].number:
                continue
            last = rows[-1].number if rows else header_row
            for n in range(last + 1, r + 1):
                index[n] = len(rows)
                rows.append(SourceRow(number=n, values=(None,) * width))
            i = index[r]
        values = rows[i].values
        if values[c - 1] is None:
            rows[i].values = values[: c - 1] + (value,) + values[c:]


def cells_of(row: Sequence[Any], lead: int) -> dict[int, object]:
    """{column: value} of a calamine row's cells that hold something."""
    return {lead + i + 1: v for i, v in enumerate(row) if v is not None and v != ""}


def occupied_columns(data: list[list[Any]], h: int, top: int, lead: int) -> dict[int, int]:
    """{column: first row holding something} from calamine row index ``h`` down.  Calamine
    pads every row to the sheet's width, so the usual sheet costs one pass with no inner loop
    per row beyond its own cells."""
    out: dict[int, int] = {}
    missing = set(range(max((len(r) for r in data[h:]), default=0)))
    for i in range(h, len(data)):
        row = data[i]
        for j in [j for j in missing if j < len(row) and row[j] != "" and row[j] is not None]:
            out[lead + j + 1] = top + i + 1
            missing.discard(j)
        if not missing:
            break  # every column holds something: the rest of the rows cannot change that
    return out


def calamine_rows(rows: list[list[Any]], width: int, lead: int) -> Iterator[tuple[CellValue, ...]]:
    """calamine's cells -> ours: "" -> None, 5.0 -> 5 (Excel stores every number as a float,
    so an integral float is what the user typed as a whole number: a phone, a zip code).

    This comprehension is the only per-cell Python work of a read (~0.3 s per million cells).
    """
    pad = (None,) * lead
    for raw in rows:
        yield pad + tuple([
            None if v == "" else (int(v) if type(v) is float and v.is_integer() else v)
            for v in raw[:width]
        ])
