"""The emulator's spreadsheets: tabs with a grid size, typed cells, sharing and protection.

Everything here is plain data and operations on it, with no HTTP: ``api.py`` turns requests
into these calls, and ``SheetsEmulator`` exposes them to tests (insert, delete or sort rows the
way a member of staff would, between two requests of the connector).

Google's rules that matter to a client are enforced here, with Google's messages: a write past
the grid's last row or column fails ("exceeds grid limits"), a spreadsheet holds at most
10,000,000 cells and a tab at most 18,278 columns, a protected range can only be edited by its
editors.  Operations that touch several places either all apply or none does.
"""
from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .a1 import A1Range, format_range, quote_title
from .cells import Cell, ErrorValue, Locale, locale_of

MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26


class ApiError(Exception):
    """An answer in Google's error shape: ``{"error": {"code", "message", "status"}}``."""

    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or self.STATUS.get(code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.")


def no_permission() -> ApiError:
    return ApiError(403, "The caller does not have permission")


@dataclass
class Protection:
    """A protected range; ``None`` bounds cover the whole tab."""

    protected_range_id: int
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None
    editors: frozenset[str] = frozenset()
    description: str = ""
    warning_only: bool = False  # the UI only warns: everyone may still edit (as Google)

    def covers(self, row: int, col: int) -> bool:
        return ((self.start_row is None or row >= self.start_row) and (self.end_row is None or row < self.end_row)
                and (self.start_col is None or col >= self.start_col) and (self.end_col is None or col < self.end_col))


@dataclass
class DevMeta:
    """Developer metadata: a key/value a program attaches to the spreadsheet, a tab, or a span of
    rows or columns (``dimension`` "ROWS"/"COLUMNS", ``[start, end)``).  On rows and columns it
    moves with them when they are inserted, deleted or moved, and goes when they are deleted."""

    metadata_id: int
    key: str
    value: str | None = None
    visibility: str = "DOCUMENT"
    sheet_id: int | None = None  # None: on the spreadsheet
    dimension: str | None = None  # None: on the whole tab (or the spreadsheet)
    start: int = 0
    end: int = 0

    def location(self) -> dict[str, Any]:
        if self.sheet_id is None:
            return {"locationType": "SPREADSHEET", "spreadsheet": True}
        if self.dimension is None:
            return {"locationType": "SHEET", "sheetId": self.sheet_id}
        return {"locationType": "ROW" if self.dimension == "ROWS" else "COLUMN",
                "dimensionRange": {"sheetId": self.sheet_id, "dimension": self.dimension,
                                   "startIndex": self.start, "endIndex": self.end}}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metadataId": self.metadata_id, "metadataKey": self.key, "location": self.location(),
                               "visibility": self.visibility}
        if self.value is not None:
            out["metadataValue"] = self.value
        return out


IndexMap = Callable[[int], "int | None"]


def _remap_span(start: int, end: int, fn: IndexMap) -> tuple[int, int] | None:
    kept = [n for n in (fn(i) for i in range(start, end)) if n is not None]
    return (min(kept), max(kept) + 1) if kept else None


@dataclass
class Sheet:
    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLUMNS
    hidden: bool = False
    frozen_rows: int = 0
    rows: list[list[Cell | None]] = field(default_factory=list)  # only up to the last used row
    protections: list[Protection] = field(default_factory=list)
    frozen_cols: int = 0
    meta: list[DevMeta] = field(default_factory=list)  # on rows and columns of this tab, and on the tab
    hidden_rows: set[int] = field(default_factory=set)  # hidden by the user (not by a filter)
    hidden_cols: set[int] = field(default_factory=set)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # (row0, row1, col0, col1), ends excluded
    basic_filter: dict[str, Any] | None = None
    filter_views: list[dict[str, Any]] = field(default_factory=list)

    # -- cells
    def cell(self, row: int, col: int) -> Cell | None:
        if row < len(self.rows):
            r = self.rows[row]
            if col < len(r):
                return r[col]
        return None

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        while len(self.rows) <= row:
            self.rows.append([])
        r = self.rows[row]
        if col >= len(r):
            if cell is None:
                return
            r.extend([None] * (col + 1 - len(r)))
        r[col] = cell

    def used(self) -> tuple[int, int]:
        """(rows, columns) up to the last non-empty cell."""
        n_rows = 0
        n_cols = 0
        for i, r in enumerate(self.rows):
            last = max((j + 1 for j, c in enumerate(r) if c is not None and not c.empty), default=0)
            if last:
                n_rows = i + 1
                n_cols = max(n_cols, last)
        return n_rows, n_cols

    def row_empty(self, row: int, start_col: int = 0, end_col: int | None = None) -> bool:
        if row >= len(self.rows):
            return True
        return all(c is None or c.empty for c in self.rows[row][start_col:end_col])

    # -- rows (each operation rebinds self.rows so a copied Sheet is unaffected)
    def insert_rows(self, at: int, count: int, values: Sequence[Sequence[Cell | None]] = ()) -> None:
        new = [list(v) for v in values] + [[] for _ in range(count - len(values))]
        if at > len(self.rows):
            self.rows = self.rows + [[] for _ in range(at - len(self.rows))]
        self.rows = self.rows[:at] + new + self.rows[at:]
        self.row_count += count
        self.remap("ROWS", lambda i: i + count if i >= at else i)

    def delete_rows(self, start: int, end: int) -> None:
        self.rows = self.rows[:start] + self.rows[end:]
        self.row_count -= end - start
        self.remap("ROWS", lambda i: None if start <= i < end else i - (end - start) if i >= end else i)

    def delete_columns(self, start: int, end: int) -> None:
        self.rows = [r[:start] + r[end:] for r in self.rows]
        self.col_count -= end - start
        self.remap("COLUMNS", lambda i: None if start <= i < end else i - (end - start) if i >= end else i)

    def insert_columns(self, at: int, count: int) -> None:
        self.rows = [r[:at] + [None] * count + r[at:] if len(r) > at else r for r in self.rows]
        self.col_count += count
        self.remap("COLUMNS", lambda i: i + count if i >= at else i)

    def move(self, dimension: str, start: int, end: int, destination: int) -> None:
        """Move rows or columns [start, end) so they sit before ``destination`` (an index counted
        before the move), as Google's moveDimension; everything anchored to them moves along."""
        size = self.row_count if dimension == "ROWS" else self.col_count
        order = list(range(size))
        block = order[start:end]
        rest = order[:start] + order[end:]
        at = destination if destination <= start else destination - (end - start)
        order = rest[:at] + block + rest[at:]
        new_of = {old: new for new, old in enumerate(order)}
        if dimension == "ROWS":
            padded = self.rows + [[] for _ in range(max(0, size - len(self.rows)))]
            self.rows = [padded[old] for old in order]
            while self.rows and not self.rows[-1]:
                self.rows.pop()
        else:
            self.rows = [_trimmed([r[old] if old < len(r) else None for old in order]) for r in self.rows]
        self.remap(dimension, lambda i: new_of.get(i, i))

    def remap(self, dimension: str, fn: IndexMap) -> None:
        """Carry what is anchored to rows or columns along with an insert, delete or move."""
        kept = []
        for m in self.meta:
            if m.dimension == dimension:
                span = _remap_span(m.start, m.end, fn)
                if span is None:
                    continue  # its rows or columns were deleted: so is the metadata
                m.start, m.end = span
            kept.append(m)
        self.meta = kept
        hidden = self.hidden_rows if dimension == "ROWS" else self.hidden_cols
        moved = {n for n in (fn(i) for i in hidden) if n is not None}
        if dimension == "ROWS":
            self.hidden_rows = moved
        else:
            self.hidden_cols = moved
        merges = []
        for r0, r1, c0, c1 in self.merges:
            span = _remap_span(r0, r1, fn) if dimension == "ROWS" else _remap_span(c0, c1, fn)
            if span is None:
                continue
            merges.append((*span, c0, c1) if dimension == "ROWS" else (r0, r1, *span))
        self.merges = [m for m in merges if (m[1] - m[0]) * (m[3] - m[2]) > 1]

    def merged_away(self, row: int, col: int) -> bool:
        """True for a cell hidden under a merge (every merged cell but the top-left one)."""
        return any(r0 <= row < r1 and c0 <= col < c1 and (row, col) != (r0, c0) for r0, r1, c0, c1 in self.merges)

    def sort_rows(self, start: int, end: int, specs: Sequence[tuple[int, bool]]) -> None:
        """Sort rows [start, end) by (column, descending) specs; blank cells go last (as Google)."""
        end = min(end, len(self.rows))
        if start >= end:
            return
        block = self.rows[start:end]
        for col, descending in reversed(specs):
            filled = [r for r in block if not _blank(r, col)]
            blank = [r for r in block if _blank(r, col)]
            filled.sort(key=lambda r, c=col: _sort_key(r[c]), reverse=descending)  # type: ignore[misc]
            block = filled + blank
        self.rows = self.rows[:start] + block + self.rows[end:]

    def properties(self, index: int) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        props: dict[str, Any] = {"sheetId": self.sheet_id, "title": self.title, "index": index,
                                 "sheetType": "GRID", "gridProperties": grid}
        if self.hidden:
            props["hidden"] = True
        return props


def _trimmed(row: list[Cell | None]) -> list[Cell | None]:
    while row and row[-1] is None:
        row.pop()
    return row


def _blank(row: list[Cell | None], col: int) -> bool:
    return col >= len(row) or row[col] is None or row[col].empty  # type: ignore[union-attr]


def _sort_key(cell: Cell | None) -> tuple[int, Any]:
    v = cell.value if cell is not None else None
    if isinstance(v, bool):
        return (2, v)
    if isinstance(v, float):
        return (0, v)
    if isinstance(v, ErrorValue):
        return (3, v.type)
    return (1, str(v).casefold())


@dataclass
class Spreadsheet:
    key: str
    title: str
    locale_name: str = "en_US"
    time_zone: str = "Asia/Jerusalem"
    sheets: list[Sheet] = field(default_factory=list)
    shared_with: dict[str, str] | None = None  # account -> "writer" | "reader"; None: everyone may write
    meta: list[DevMeta] = field(default_factory=list)  # developer metadata on the spreadsheet itself
    _ids: Any = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def locale(self) -> Locale:
        return locale_of(self.locale_name)

    # -- access
    def role_of(self, account: str) -> str | None:
        if self.shared_with is None:
            return "writer"
        return self.shared_with.get(account)

    def sheet(self, title: str | None) -> Sheet:
        """The tab with that title (exact, then ignoring case as Google does); None: the first."""
        if title is None:
            return self.sheets[0]
        for s in self.sheets:
            if s.title == title:
                return s
        for s in self.sheets:
            if s.title.casefold() == title.casefold():
                return s
        raise ApiError(400, f"Unable to parse range: {quote_title(title)}")

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def new_sheet_id(self) -> int:
        used = {s.sheet_id for s in self.sheets}
        while True:
            candidate = next(self._ids) * 7919 % 2_000_000_000  # gid-like, never 0 after the first tab
            if candidate not in used:
                return candidate

    def add_sheet(self, title: str, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLUMNS,
                  sheet_id: int | None = None, index: int | None = None, frozen_rows: int = 0) -> Sheet:
        if any(s.title.casefold() == title.casefold() for s in self.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        if not title.strip():
            raise ApiError(400, "The sheet name cannot be empty.")
        sheet = Sheet(sheet_id if sheet_id is not None else (0 if not self.sheets else self.new_sheet_id()),
                      title, rows, cols, frozen_rows=frozen_rows)
        self.check_grid(sheet, rows, cols)
        self.sheets.insert(len(self.sheets) if index is None else index, sheet)
        return sheet

    def total_cells(self) -> int:
        return sum(s.row_count * s.col_count for s in self.sheets)

    def check_grid(self, sheet: Sheet, rows: int, cols: int) -> None:
        """Raise Google's 400 if giving ``sheet`` this size breaks a limit."""
        if rows < 1 or cols < 1:
            raise ApiError(400, "Invalid grid size: a sheet needs at least one row and one column.")
        if cols > MAX_COLUMNS:
            raise ApiError(400, f"This action would increase the number of columns in the sheet above the limit of {MAX_COLUMNS}.")
        others = sum(s.row_count * s.col_count for s in self.sheets if s is not sheet)
        if others + rows * cols > MAX_CELLS:
            raise ApiError(400, f"This action would increase the number of cells in the workbook above the limit of {MAX_CELLS} cells.")

    def resolve(self, rng: A1Range, for_write: bool = False) -> tuple[Sheet, int, int, int, int]:
        """(sheet, start_row, start_col, end_row, end_col) with open ends closed at the grid;
        400 "exceeds grid limits" when the range leaves the grid."""
        sheet = self.sheet(rng.sheet)
        end_row = sheet.row_count if rng.end_row is None else rng.end_row
        end_col = sheet.col_count if rng.end_col is None else rng.end_col
        if rng.start_row >= sheet.row_count or rng.start_col >= sheet.col_count or end_row > sheet.row_count \
                or end_col > sheet.col_count:
            raise exceeds(sheet, rng.start_row, rng.start_col, max(end_row, rng.start_row + 1), max(end_col, rng.start_col + 1))
        return sheet, rng.start_row, rng.start_col, end_row, end_col

    def snapshot(self) -> Spreadsheet:
        """A copy whose tabs can be changed without touching this one (cells are shared)."""
        clone = copy.copy(self)
        clone.sheets = [copy.copy(s) for s in self.sheets]
        for s in clone.sheets:
            s.protections = list(s.protections)
            s.meta = copy.deepcopy(s.meta)
            s.hidden_rows, s.hidden_cols, s.merges = set(s.hidden_rows), set(s.hidden_cols), list(s.merges)
            s.basic_filter, s.filter_views = copy.deepcopy(s.basic_filter), copy.deepcopy(s.filter_views)
        clone.meta = copy.deepcopy(self.meta)
        return clone

    def restore(self, other: Spreadsheet) -> None:
        self.title, self.locale_name, self.time_zone = other.title, other.locale_name, other.time_zone
        self.sheets = other.sheets
        self.meta = other.meta

    def all_metadata(self) -> list[DevMeta]:
        return self.meta + [m for s in self.sheets for m in s.meta]

    def new_metadata_id(self) -> int:
        return 1 + max((m.metadata_id for m in self.all_metadata()), default=0)

    def check_editable(self, account: str, sheet: Sheet, cells: Iterable[tuple[int, int]]) -> None:
        """403 if a cell lies in a range protected against this account."""
        guards = [p for p in sheet.protections if account not in p.editors and not p.warning_only]
        if not guards:
            return
        for row, col in cells:
            if any(p.covers(row, col) for p in guards):
                raise ApiError(403, "You are trying to edit a protected cell or object. Please contact the "
                               "spreadsheet owner to remove protection if you need to edit it.")


def exceeds(sheet: Sheet, start_row: int, start_col: int, end_row: int, end_col: int) -> ApiError:
    rng = format_range(sheet.title, start_row, start_col, end_row, end_col)
    return ApiError(400, f"Range ({rng}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}")
