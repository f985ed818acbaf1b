"""The write rules of the .xlsx table, in one place; both writers only carry them out.

- Layout: ``XlsxTable`` lays every buffered write out as a ``SheetWrites`` per sheet (which
  cell gets which value, which header cells are added, which widths are set) with
  ``HeaderRow`` and ``TabAppend``.  A header is matched ignoring case and surrounding spaces
  (``normalize.header_key``); a new one goes in the first column right of the last non-blank
  header that holds nothing (``result_columns``), looking like that header (bold where the row
  has none), and never past column XFD (16,384: ``HeaderRow.place`` says there is no room).  Rows for another tab go
  under its header (its first row with a value), after its last row with a value.  A result
  cell inside merged cells, other than their first cell, is not written (``covered``).
- Values: what a cell receives (``cell_value``) and the number format it needs where its own
  does not fit (``number_format``, ``keeps_format``): dates day-first, contact ids as plain
  digits.  Widths of the columns the connector creates: ``column_width``.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ...normalize import header_key
from ..base import CellValue
from ..result_columns import Blocked, ColumnPlan, Obstacle, choose_columns

# (first row, first column, last row, last column), 1-based and inclusive
CellRange = tuple[int, int, int, int]

EXCEL_MAX_TEXT = 32767
MAX_COLUMN = 16_384  # XFD, the last column Excel (and LibreOffice since 7.4) has
FORMAT_DATETIME = "dd/mm/yyyy hh:mm"
FORMAT_DATE = "dd/mm/yyyy"
FORMAT_TIME = "h:mm:ss"
FORMAT_DURATION = "[hh]:mm:ss"
FORMAT_ID = "0"

# Characters a cell cannot hold: XML 1.0 forbids them (lone surrogates cannot even be encoded).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def header_text(value: object) -> str:
    """A header cell as text: 2024.0 -> "2024", a date -> "2024-01-31", blank -> ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def find_tab(names: Sequence[str], title: str) -> str | None:
    """The tab called ``title``: exactly, else ignoring case and spaces; None if there is none."""
    if title in names:
        return title
    return next((n for n in names if header_key(n) == header_key(title)), None)


def column_letter(col: int) -> str:
    """28 -> "AB"."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def covered(merged: Sequence[CellRange], row: int, col: int) -> CellRange | None:
    """The merged range hiding cell (row, col): one that holds it but does not start at it."""
    for rng in merged:
        r1, c1, r2, c2 = rng
        if r1 <= row <= r2 and c1 <= col <= c2 and (row, col) != (r1, c1):
            return rng
    return None


# --------------------------------------------------------------------------------------------
# Values


def excel_text(text: str) -> str:
    """Text as a cell can hold it: characters XML forbids removed, cut at Excel's 32,767."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if len(text) > EXCEL_MAX_TEXT:
        text = text[: EXCEL_MAX_TEXT - 1] + "\u2026"
    return text


def cell_value(value: CellValue) -> CellValue:
    """What goes into a cell: numbers, booleans, dates and times as themselves (an aware
    datetime as local wall-clock time), anything else as text (see ``excel_text``).  A text
    starting with "=" is written as text, never as a formula."""
    if value is None or isinstance(value, (bool, int, float, dt.date, dt.time, dt.timedelta)):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone().replace(tzinfo=None)
        if isinstance(value, dt.time) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    return excel_text(str(value))


def number_format(value: CellValue) -> str | None:
    """The number format ``value`` (as ``cell_value`` returns it) needs, or None for any."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return FORMAT_ID if abs(value) >= 10**7 else None  # General would show 4.39E+08
    if isinstance(value, dt.datetime):
        return FORMAT_DATETIME
    if isinstance(value, dt.date):
        return FORMAT_DATE
    if isinstance(value, dt.time):
        return FORMAT_TIME
    if isinstance(value, dt.timedelta):
        return FORMAT_DURATION
    return None


def keeps_format(needed: str, *, general: bool, date: bool) -> bool:
    """Whether a cell keeps its own number format for a value that needs ``needed``: a long
    id keeps any format but General, a date or time any date/time format."""
    return not general if needed == FORMAT_ID else date


def _display_width(value: CellValue) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    return len(str(value))


def column_width(header: str, values: Iterable[CellValue]) -> int:
    """Width of a column the connector created: its content, 10..60 characters."""
    widest = max((_display_width(v) for v in values), default=0)
    return max(10, min(60, max(widest, len(header)) + 2))


# --------------------------------------------------------------------------------------------
# Layout


class NoRoom(Exception):
    """A new column would go past XFD; the table turns it into a message for the user."""

    def __init__(self, sheet: str, row: int) -> None:
        super().__init__(sheet, row)
        self.sheet, self.row = sheet, row


@dataclass
class NewHeader:
    row: int
    col: int
    title: str
    style_from: int | None  # the column of the header cell it looks like; None: bold


@dataclass
class RowBlock:
    first: int  # row number of its first row
    columns: list[int]  # the column of each value
    rows: Sequence[Sequence[CellValue]]  # None values are left out (the cell is not touched)


@dataclass
class SheetWrites:
    """Everything one save writes into one sheet, by row and column."""

    name: str  # the sheet's name in the workbook
    created: bool = False  # a new tab: its header row (row 1) is bold and frozen
    headers: list[NewHeader] = field(default_factory=list)
    columns: dict[int, dict[int, CellValue]] = field(default_factory=dict)  # column -> {row: value}; None empties
    blocks: list[RowBlock] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)  # column -> width, for the columns created
    shown: set[int] = field(default_factory=set)  # columns created inside a range of hidden columns: show them

    @property
    def new_columns(self) -> set[int]:
        return {h.col for h in self.headers}

    def fit_new_columns(self) -> None:
        """A column created for results is as wide as what it holds."""
        for h in self.headers:
            self.widths[h.col] = column_width(h.title, self.columns.get(h.col, {}).values())

    def is_empty(self) -> bool:
        return not (self.headers or self.columns or self.blocks)


class HeaderRow:
    """A header row: the column of each title, and where a new title goes (the rule of
    ``result_columns``: a column with nothing in it, never past XFD)."""

    def __init__(self, row: int, cells: Mapping[int, object], merged: Sequence[CellRange] = (), *,
                 occupied: Mapping[int, int] | None = None, obstacles: Sequence[Obstacle] = (),
                 last_row: int | None = None) -> None:
        """``cells``: {column: value} of the row's cells that hold something; ``merged``: merged
        cells whose columns count as taken in the header row; ``occupied``: {column: first row
        holding something} below the header; ``obstacles``: what a new column must not cut
        through in rows ``row`` to ``last_row``."""
        self.row = row
        self._occupied = {c: row for c, v in cells.items() if v is not None and v != ""}
        for _r1, c1, _r2, c2 in (m for m in merged if m[0] <= row <= m[2]):
            for c in range(c1, c2 + 1):
                self._occupied.setdefault(c, row)
        for c, r in (occupied or {}).items():
            self._occupied.setdefault(c, r)
        self._obstacles = list(obstacles)
        self._rows = (row, max(row, last_row or row))
        self._headers: dict[int, str] = {}
        self._columns: dict[str, int] = {}
        headers = {c: header_text(v) for c, v in cells.items()}
        headers = {c: t for c, t in headers.items() if t.strip()}
        for c in sorted(headers):
            self._columns.setdefault(header_key(headers[c]), c)  # the leftmost of two equal headers
        self._headers = dict(headers)
        self._last = max(headers, default=0)
        self._style: dict[int, int | None] = {}  # new column -> where its look comes from
        self.skipped: dict[int, int] = {}  # columns passed over (they hold data) -> first row holding it
        self.blocked: dict[str, Blocked] = {}  # titles refused: the free column would cut through something

    @property
    def last(self) -> int:
        """The column of the last non-blank header cell (0 for none)."""
        return self._last

    def find(self, title: str) -> int | None:
        return self._columns.get(header_key(title))

    def plan(self, titles: Sequence[str]) -> ColumnPlan:
        """Where ``titles`` would go (without placing them), see ``result_columns``."""
        return choose_columns(self._headers, titles, occupied=self._occupied, obstacles=self._obstacles,
                              rows=self._rows, max_column=MAX_COLUMN)

    def free_columns(self, n: int) -> list[int]:
        """The columns ``n`` new titles would get (without placing them); fewer where the row
        reaches XFD."""
        plan = self.plan([f"\0new {i}" for i in range(n)])
        return [plan.columns[t] for t in plan.new]

    def place(self, title: str, writes: SheetWrites) -> int | None:
        """The column of ``title``: its own, or a new one added to ``writes``; None when there
        is no column left for it (the header row reaches XFD, the last one Excel has) or the
        free column would cut through a table, pivot table, array formula or merged cells
        (``blocked`` says which)."""
        col = self.find(title)
        if col is not None:
            return col
        plan = self.plan([title])
        col = plan.columns.get(title)
        if col is None:
            return None
        if plan.blocked is not None:
            self.blocked[title] = plan.blocked
            return None
        self.skipped.update(plan.skipped)
        style_from = self._style.get(self._last, self._last) if self._last else None
        writes.headers.append(NewHeader(self.row, col, title, style_from))
        self._style[col] = style_from
        self._occupied[col] = self.row
        self._headers[col] = title
        self._columns[header_key(title)] = self._last = col
        return col


class TabAppend:
    """Rows appended to one tab: under its header, after its last row with a value."""

    def __init__(self, name: str, *, filled: tuple[int, int] | None, header_cells: Mapping[int, object],
                 merged: Sequence[CellRange] = (), created: bool = False) -> None:
        """``filled``: the first and last row holding a value (None for an empty or new tab);
        ``header_cells``: {column: value} of the first of them."""
        self.writes = SheetWrites(name, created=created)
        self.header = HeaderRow(filled[0] if filled else 1, header_cells, merged)
        self.next_row = max((filled[1] if filled else 0) + 1, self.header.row + 1)
        self.batches: list[tuple[list[str], Sequence[Sequence[CellValue]]]] = []  # as given, for read_tab

    def append(self, header: list[str], rows: Sequence[Sequence[CellValue]]) -> None:
        """Raises ``NoRoom`` (before anything is buffered) for a new title past column XFD."""
        if len(self.header.free_columns(len(header))) < sum(1 for h in header if self.header.find(h) is None):
            raise NoRoom(self.writes.name, self.header.row)
        cols = [col for col in (self.header.place(h, self.writes) for h in header) if col is not None]
        self.batches.append((header, rows))
        if rows:
            self.writes.blocks.append(RowBlock(self.next_row, cols, rows))
            self.next_row += len(rows)
        if self.writes.created:
            for i, (h, col) in enumerate(zip(header, cols)):
                self.writes.widths[col] = column_width(h, (r[i] for r in rows[:2000]))
