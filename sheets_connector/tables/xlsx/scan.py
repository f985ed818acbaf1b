"""What python-calamine does not tell about a worksheet, read from its XML.

- ``unread_cells``: cells calamine reads as empty that are not: an Excel error value (``#N/A``,
  ``#VALUE!``...), a formula whose value was never calculated (a file written by a program
  that does not compute, such as Apache POI or openpyxl), and the rare formula whose last value
  is stored in a form calamine skips (LibreOffice 4 wrote text results as ``t="inlineStr"``
  with a ``<v>``).  The table puts a ``base.CellError`` (or the stored text) in those cells,
  so the mapping can refuse the row instead of taking a bad email for no email.
- ``hidden_columns``: the ranges of columns the user has hidden (``<col hidden="1">`` or a
  width of 0), from the part's head only (``<cols>`` comes before the cell data).
- ``formula_columns``: where formulas are, by column (a formula showing "" reads as empty,
  yet a results column placed there would destroy it); ``structures``: the tables, pivot
  tables and array formulas of a sheet, which a results column must not cut through
  (``result_columns``).

Both work on the bytes with regexes (a sheet can be tens of megabytes), after a plain
substring test that skips the regex for the usual sheet with no errors and no formulas.
"""
from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree as ET

from ..base import CellError
from ..result_columns import Obstacle
from .package import Package, PackageError, local_name
from .patch_xml import Unsupported, cell_range, col_number, part_root, tag_re

Cell = tuple[int, int]  # (row, column), 1-based

_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"""\sr\s*=\s*["']\$?([A-Z]{1,3})\$?(\d+)["']""")
_TYPE = re.compile(rb"""\st\s*=\s*["'](\w+)["']""")
_ERROR_CELL = rb"""<{p}c\b([^>]*?\st\s*=\s*["']e["'][^>]*?)(?:/>|>(.*?)</{p}c\s*>)"""
_VALUE = rb"<{p}v\b[^>]*>([^<]*)</{p}v\s*>"
_FORMULA_CELL = (rb"<{p}c\b([^>]*?)>\s*<{p}f\b([^>]*?)(?:/>|>([^<]*)</{p}f\s*>)\s*"
                 rb"(?:<{p}v\b[^>]*?/>|<{p}v\b[^>]*>([^<]*)</{p}v\s*>)?\s*</{p}c\s*>")


def unread_cells(data: bytes) -> dict[Cell, object]:
    """{(row, column): what the cell holds} for the cells calamine reads as empty but are not:
    a ``CellError`` for an error value or a formula never calculated, the text for a formula
    whose value calamine skips.  ``data`` is a worksheet part."""
    try:
        p = part_root(data, "worksheet", "the sheet").prefix
    except Unsupported:
        return {}
    found: dict[Cell, object] = {}
    positions: dict[int, Cell] | None = None  # by offset, only for cells without a reference

    def where(attrs: bytes, offset: int) -> Cell:
        nonlocal positions
        ref = _REF.search(attrs)
        if ref:
            return int(ref.group(2)), col_number(ref.group(1))
        if positions is None:
            positions = dict(_implied_positions(data, p))
        return positions.get(offset, (0, 0))

    if b'"e"' in data or b"'e'" in data:
        for m in tag_re(_ERROR_CELL, p, re.DOTALL).finditer(data):
            v = tag_re(_VALUE, p).search(m.group(2) or b"")
            code = html.unescape(v.group(1).decode("utf-8", "replace")).strip() if v else ""
            found[where(m.group(1), m.start())] = CellError(code or "#N/A")
    if data.find(b"<" + p + b"f") >= 0:
        for m in tag_re(_FORMULA_CELL, p).finditer(data):
            attrs, value = m.group(1), m.group(4)
            kind = _TYPE.search(attrs)
            t = kind.group(1) if kind else b"n"
            if t == b"e":
                continue  # an error value: above
            if value is not None and value.strip():
                if t == b"inlineStr":  # a text result where calamine does not look for it
                    found[where(attrs, m.start())] = html.unescape(value.decode("utf-8", "replace"))
                continue
            if t == b"str" and value is not None:
                continue  # the formula's value is an empty text: the cell is truly empty
            formula = html.unescape((m.group(3) or b"").decode("utf-8", "replace"))
            found[where(attrs, m.start())] = CellError("", formula=f"={formula}" if formula else "")
    found.pop((0, 0), None)
    return found


def _implied_positions(data: bytes, p: bytes) -> Iterator[tuple[int, Cell]]:
    """(offset of its ``<c``, (row, column)) of every cell, references or not (rows and
    cells without ``r`` are the next row and column).  Slow; only for such sheets."""
    row_re = tag_re(rb"<{p}row\b([^>]*?)(/?)>", p)
    cell_re = tag_re(rb"<{p}c\b([^>]*?)(/?)>", p)
    close_row = b"</" + p + b"row>"
    close_cell = b"</" + p + b"c>"
    r = 0
    for row in row_re.finditer(data):
        ref = re.search(rb"""\sr\s*=\s*["'](\d+)["']""", row.group(1))
        r = int(ref.group(1)) if ref else r + 1
        if row.group(2):
            continue
        end = data.find(close_row, row.end())
        pos, c = row.end(), 0
        while True:
            cell = cell_re.search(data, pos, end)
            if not cell:
                break
            cref = _REF.search(cell.group(1))
            c = col_number(cref.group(1)) if cref else c + 1
            yield cell.start(), (r, c)
            pos = cell.end() if cell.group(2) else max(cell.end(), data.find(close_cell, cell.end(), end))


_HEAD_LIMIT = 1 << 20  # <cols> is near the start of a sheet part: read at most this much of it


def hidden_columns(zf: zipfile.ZipFile, part: str) -> list[tuple[int, int]]:
    """(first, last) column of each range the user has hidden in worksheet ``part``."""
    with zf.open(part) as fh:
        head = fh.read(_HEAD_LIMIT)
    end = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData\b", head)
    if end:
        head = head[: end.start()]
    out = []
    for col in re.finditer(rb"<(?:[A-Za-z_][\w.-]*:)?col\b([^>]*)>", head):
        attrs = {k: (a or b) for k, a, b in _ATTR.findall(col.group(1))}
        try:
            lo, hi = int(attrs.get(b"min", b"0")), int(attrs.get(b"max", b"0"))
            zero = b"width" in attrs and float(attrs[b"width"]) == 0
        except ValueError:
            continue
        if attrs.get(b"hidden") in (b"1", b"true") or zero:
            out.append((lo, hi))
    return out


_FORMULA_START = rb"<{p}c\b([^>]*?)>\s*<{p}f\b([^>]*?)(/?)>"
_ARRAY = re.compile(rb"""\st\s*=\s*["'](?:array|dataTable)["']""")
_F_REF = re.compile(rb"""\sref\s*=\s*["']([^"']+)["']""")


def formula_columns(data: bytes, from_row: int, from_col: int) -> tuple[dict[int, int], list[Obstacle]]:
    """({column: first row holding a formula} for the columns from ``from_col`` on, rows from
    ``from_row`` on; the array formulas of the sheet) of worksheet part ``data``."""
    try:
        p = part_root(data, "worksheet", "the sheet").prefix
    except Unsupported:
        return {}, []
    if data.find(b"<" + p + b"f") < 0:
        return {}, []
    found: dict[int, int] = {}
    arrays: list[Obstacle] = []
    for m in tag_re(_FORMULA_START, p).finditer(data):
        ref = _REF.search(m.group(1))
        if not ref:
            continue  # a cell without a reference: rare, and calamine saw its value
        row, col = int(ref.group(2)), col_number(ref.group(1))
        if row >= from_row and col >= from_col and col not in found:
            found[col] = row
        if _ARRAY.search(m.group(2)):
            span = _F_REF.search(m.group(2))
            try:
                r1, c1, r2, c2 = cell_range(span.group(1).decode()) if span else (row, col, row, col)
            except Unsupported:
                continue
            arrays.append(Obstacle("array formula", r1, c1, r2, c2))
    return found, arrays


def structures(pkg: Package, part: str) -> list[Obstacle]:
    """The tables (Format as Table) and pivot tables of worksheet ``part``, by where they are."""
    out: list[Obstacle] = []
    for _rid, kind, target in pkg.rels(part):
        if kind not in ("table", "pivotTable") or not target or not pkg.has(target):
            continue
        try:
            root = pkg.xml(target)
            if kind == "table":
                out.append(Obstacle("table", *cell_range(root.get("ref", "")),
                                    name=root.get("displayName") or root.get("name") or ""))
            else:
                loc = next((el for el in root if local_name(el.tag) == "location"), None)
                if loc is not None and loc.get("ref"):
                    out.append(Obstacle("pivot table", *cell_range(loc.get("ref", "")), name=root.get("name") or ""))
        except (PackageError, ET.ParseError, Unsupported, ValueError):
            continue  # what cannot be read here is refused by the writer's own checks
    return out
