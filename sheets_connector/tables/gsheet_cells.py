"""Google Sheets cells <-> the connector's values.

Reading: the table asks for each cell's ``effectiveValue`` (the unformatted value: what
``valueRenderOption=UNFORMATTED_VALUE`` with ``dateTimeRenderOption=SERIAL_NUMBER`` returns)
together with its ``effectiveFormat.numberFormat.type``, in the same request.  So:

- numbers stay numbers with all their digits, however the cell displays them (a mobile shown
  as ``9.73E+11`` reads 972541111111); whole numbers become ``int``;
- a number whose format is DATE / DATE_TIME / TIME is a serial (days since 1899-12-30) and
  becomes ``datetime.date`` / ``datetime.datetime`` / ``datetime.time``, whatever the display
  pattern and the spreadsheet's locale, so the mapping's own date format applies;
- text stays text (blank text is ``None``), booleans stay booleans, errors become their
  display text (``#N/A``) which the mapping reports as a bad cell.

Writing: values are sent RAW, so text is stored as typed (``=1+1``, ``+972...`` and ``0541...``
stay text); dates and times are written as text in the mapping's formats (a RAW number would
show as a bare serial).
"""
from __future__ import annotations

import codecs
import datetime as _dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..normalize import format_field
from .base import CellValue

EPOCH = _dt.datetime(1899, 12, 30)
MAX_CELL_TEXT = 50_000  # Google refuses longer cell text
_ERRORS = {
    "ERROR": "#ERROR!", "NULL_VALUE": "#NULL!", "DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
    "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "LOADING": "#N/A",
}

# What the table asks for in spreadsheets.get: the tab's size and each cell's value and format type.
GRID_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),"
    "data(startRow,startColumn,rowData(values(effectiveValue,effectiveFormat/numberFormat/type,"
    "userEnteredValue/formulaValue))))"
)


def from_serial(serial: float) -> _dt.datetime:
    moment = EPOCH + _dt.timedelta(days=serial)
    if moment.microsecond >= 500_000:  # 13:29:59.9996 is 13:30
        moment += _dt.timedelta(seconds=1)
    return moment.replace(microsecond=0)


def cell_value(cell: Mapping[str, Any]) -> CellValue:
    """One CellData object -> a Python value (see the module docstring)."""
    ev = cell.get("effectiveValue")
    if not ev:
        return None
    if "stringValue" in ev:
        text = ev["stringValue"]
        return text if text != "" else None
    if "boolValue" in ev:
        return bool(ev["boolValue"])
    if "errorValue" in ev:
        return _ERRORS.get((ev["errorValue"] or {}).get("type", ""), "#ERROR!")
    if "numberValue" not in ev:
        return None
    number = ev["numberValue"]
    kind = ((cell.get("effectiveFormat") or {}).get("numberFormat") or {}).get("type")
    if kind in ("DATE", "DATE_TIME"):
        moment = from_serial(float(number))
        if kind == "DATE" and moment.time() == _dt.time(0, 0):
            return moment.date()
        return moment
    if kind == "TIME":
        if 0 <= number < 1:
            return from_serial(float(number)).time()
        return _dt.timedelta(days=float(number))  # a duration such as [h]:mm
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


class Formula:
    """A cell holding a formula, as ``decode`` leaves it in a row: its value (None if it shows
    nothing) - ``grid_rows`` notes where formulas are and keeps the value."""

    __slots__ = ("value",)

    def __init__(self, value: CellValue) -> None:
        self.value = value


def _compact(d: dict[str, Any]) -> Any:
    # json.loads calls this on every object, innermost first: a CellData becomes its value at
    # once, so a million-cell answer never holds a million dicts (nor their memory) together
    if "effectiveValue" in d or "userEnteredValue" in d or "effectiveFormat" in d:
        value = cell_value(d)
        return Formula(value) if (d.get("userEnteredValue") or {}).get("formulaValue") else value
    return d


def decode(content: bytes | str) -> Any:
    """A spreadsheets.get answer with its cells as values (or ``Formula``) rather than CellData."""
    return json.loads(content, object_hook=_compact)


def _json_escapes(err: UnicodeError) -> tuple[str, int]:
    """A run of non-ASCII characters as JSON escapes (``\\u2713``; a pair of surrogates above U+FFFF)."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = []
    for ch in err.object[err.start:err.end]:
        n = ord(ch)
        if n > 0xFFFF:
            n -= 0x10000
            out.append(f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}")
        else:
            out.append(f"\\u{n:04x}")
    return "".join(out), err.end


codecs.register_error("sheets_connector.json_escapes", _json_escapes)
_PIECE = 1 << 20


def ascii_pieces(content: bytes) -> list[str]:
    """A UTF-8 JSON document as pieces of ASCII text, every non-ASCII character written as its JSON
    escape: ``decode("".join(pieces))`` gives exactly what ``decode(content)`` gives.  Python keeps
    a text with one character above U+00FF at 2 bytes a character (our results column's "✓", a
    Hebrew name), ASCII at 1: a 40 MB answer's text takes 40 MB instead of 80 while it is parsed.
    Pieces, so the caller can let ``content`` go before joining them."""
    if content.isascii():
        return [content.decode("ascii")]
    utf8 = codecs.getincrementaldecoder("utf-8")()  # a character cut between two pieces waits for the next
    view = memoryview(content)
    pieces = [utf8.decode(view[i:i + _PIECE]).encode("ascii", "sheets_connector.json_escapes").decode("ascii")
              for i in range(0, len(content), _PIECE)]
    pieces.append(utf8.decode(b"", final=True))
    return pieces


def grid_rows(sheet: Mapping[str, Any]) -> tuple[list[list[CellValue]], dict[int, int]]:
    """(all rows of a tab, row 0 the sheet's row 1; {column: first row} (1-based) of the cells
    holding a formula - a formula showing "" has no value, yet it is something staff wrote) from
    a spreadsheets.get answer, decoded by ``decode`` or plain."""
    rows: list[list[CellValue]] = []
    formulas: dict[int, int] = {}
    for data in sheet.get("data", []) or []:
        top, left = int(data.get("startRow", 0)), int(data.get("startColumn", 0))
        while len(rows) < top:
            rows.append([])
        for i, row in enumerate(data.get("rowData", []) or []):
            cells = row.get("values", []) or []
            if top + i == len(rows):
                rows.append([])
            values = rows[top + i]  # several ranges (a partial snapshot) fill one row
            if len(values) < left + len(cells):
                values.extend([None] * (left + len(cells) - len(values)))
            for j, c in enumerate(cells):
                if isinstance(c, dict):
                    c = _compact(c) if c else None
                if isinstance(c, Formula):
                    if formulas.get(left + j + 1, top + i + 2) > top + i + 1:
                        formulas[left + j + 1] = top + i + 1
                    c = c.value
                if c is not None:
                    values[left + j] = c
    return rows, formulas


def header_text(value: CellValue) -> str:
    """A header cell as text: 2024 -> "2024", a date -> "2024-01-31", blank -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def to_raw(value: CellValue, date_format: str, datetime_format: str) -> Any:
    """A value for a RAW write: text, a number or a boolean (``""`` clears the cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)  # beyond a double's digits: keep them as text
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format_field(value)
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta)):
        return format_field(value, date_format=date_format, datetime_format=datetime_format)
    text = str(value)
    return text if len(text) <= MAX_CELL_TEXT else text[: MAX_CELL_TEXT - 1] + "…"
