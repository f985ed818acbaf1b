"""A worksheet of a Google Sheets spreadsheet as a ``Table`` (see ``base.py``), through gspread.

Requests per sync are constant, whatever the number of rows:

==================  ============================================================  ==============
step                request                                                       when
==================  ============================================================  ==============
open                spreadsheets.get (tabs, sizes, protections)                   once
``read``            spreadsheets.get: the tab's cells and pins (``gsheet_pins``)  once
``set_columns``     spreadsheets.get (re-read) + values.batchUpdateByDataFilter    once each
                    + spreadsheets.get (read back)                                when it wrote
                    spreadsheets.batchUpdate (pin the columns and header row,     first time only
                    widen the grid) + spreadsheets.get (see the pins landed)
                    one more write + read back per round of repairs               rows moved meanwhile
                    one more re-read when rows/columns a check needs moved out    rows moved meanwhile
                    of what the re-read asked for (``gsheet_focus``)
``read_tab``        spreadsheets.get with grid data of the new-contacts tab       if the tab exists
``append_rows``     values:append RAW, INSERT_ROWS                                once
                    (+ spreadsheets.batchUpdate addSheet, header in the append)   first time only
==================  ============================================================  ==============

Values and number formats come in the same request (``effectiveValue`` +
``effectiveFormat.numberFormat``, see ``gsheet_cells.py``): the values API cannot tell a date
from a number, and a second request for formats could see the rows in another order.

The read brings the whole tab; the write's re-reads bring only what their checks use - the
key columns and the result columns whole, the rows around the header, rows without a key -
in one spreadsheets.get with several ranges (``gsheet_focus.py``).  Answers are decoded
straight to values, never kept as one dict per cell (``gsheet_cells.decode``).

Writes are immediate, not buffered until ``save()``: ``set_columns`` re-reads the rows and
writes right after, then reads back and repairs (``gsheet_write.py``); the result columns are
written through developer metadata pinned on them, so a column inserted, deleted or moved by
staff cannot redirect a write (``gsheet_pins.py``).  Each write is one request, which Google
applies entirely or not at all.  ``save()`` only reports where the results are, and what staff
may not see (a hidden results column, filtered rows, merged result cells, a moved header).
See ``placement.py`` for how results find their rows after inserts, deletes and sorts.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_URL, SPREADSHEETS_API_V4_BASE_URL
from gspread.utils import absolute_range_name, rowcol_to_a1
from urllib3.util.retry import Retry

from ..errors import ConfigError, SourceError
from ..gsheets.client import SheetsConnection, spreadsheet_key
from ..gsheets.errors import tab_disappeared, view_only
from ..messages.catalog import Msg, Place, msg, said
from ..normalize import date_pattern, header_key
from . import gsheet_write
from .base import CellValue, RowIdentifier, RowKey, RowRef, SaveReport, SourceRow, TableData, Unplaced
from .gsheet_cells import GRID_FIELDS, ascii_pieces, decode, grid_rows, header_text, to_raw
from .gsheet_focus import Focus
from .gsheet_pins import SNAPSHOT_FIELDS, Snapshot, parse_snapshot
from .result_columns import ColumnPlan, choose_columns

__all__ = ["GoogleSheetTable", "SheetSummary", "MAX_CELLS", "MAX_COLUMNS"]

MAX_CELLS = 10_000_000  # Google's limit for a whole spreadsheet
MAX_COLUMNS = 18_278  # Google's limit for one tab (column ZZZ)
MAX_TAB_TITLE = 100
META_FIELDS = (
    "spreadsheetId,properties(title,locale,timeZone),"
    "sheets(properties(sheetId,title,index,sheetType,hidden,gridProperties(rowCount,columnCount)),"
    "protectedRanges(range,requestingUserCanEdit))"
)


@dataclass
class SheetSummary:
    """What ``check`` shows before anything is sent."""

    account: str
    spreadsheet_title: str
    tabs: list[str]
    worksheet: str
    url: str


@dataclass
class _Tab:
    title: str
    header: list[str]
    header_row: int  # 1-based
    last_row: int  # 1-based number of the last non-empty row (header_row if none)


class GoogleSheetTable:
    """One worksheet; connects on first use (so opening it reads no credentials)."""

    def __init__(self, connect: Callable[[], SheetsConnection], spreadsheet: str, worksheet: str | None = None,
                 header_row: int = 1, *, date_format: str = "%d/%m/%Y", datetime_format: str = "%d/%m/%Y %H:%M",
                 expect_headers: Sequence[str] = (), key_headers: Sequence[str] = ()) -> None:
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise ConfigError(f"The header row must be a row number (1 or more), not {header_row!r}.")
        self.key = spreadsheet_key(spreadsheet)
        self.worksheet = worksheet
        self.header_row = header_row
        self._connect = connect
        self._expect = [h for h in expect_headers if h]  # the mapping's columns: how the header row is recognised
        # the columns a row's key (RowKey: email, else mobile) comes from: the write's read-backs
        # read those whole and the other columns only where a check needs them (gsheet_focus)
        self._key_headers = [h for h in key_headers if h]
        self._date_format = date_format
        self._datetime_format = datetime_format
        self._conn: SheetsConnection | None = None
        self._meta: dict[str, Any] | None = None
        self._sheet: dict[str, Any] | None = None  # properties of the contacts tab
        self._read_header: list[str] | None = None
        self._read_header_index = header_row - 1
        self._read_values: dict[int, tuple[CellValue, ...]] = {}
        self._tabs: dict[str, _Tab] = {}
        self._read_occupied: tuple[dict[int, int], int] | None = None  # for plan_result_columns
        self._read_tagged: list[int] = []  # columns pinned as result columns when read
        self._read_grid = (0, 0)  # the tab's rows and columns when read
        self._formulas: dict[int, int] = {}  # column -> first row with a formula, of the last grid read
        self._notes: list[str] = []  # for the run summary (SaveReport.notes)

    @classmethod
    def from_source(cls, source: Any, config: Any, environ: Mapping[str, str] | None = None,
                    retry: Retry | None = None) -> GoogleSheetTable:
        """The table a ``GoogleSheetSource`` of a loaded mapping describes (see config.py).
        ``environ`` replaces ``os.environ`` when looking for GOOGLE_APPLICATION_CREDENTIALS;
        ``retry`` replaces the default bounded retry (see ``gsheets.client.sheets_retry``)."""
        from ..gsheets.client import connect_source

        return cls(lambda: connect_source(source, config, environ, retry), source.spreadsheet, source.worksheet,
                   source.header_row,
                   date_format=date_pattern(config.date_format),
                   datetime_format=date_pattern(config.time_format()),
                   expect_headers=_mapped_headers(config),
                   key_headers=[h for h in (config.columns.email, config.columns.mobile) if h])

    # ---- where and who
    @property
    def location(self) -> str:
        title = (self._meta or {}).get("properties", {}).get("title")
        sheet = self._sheet["title"] if self._sheet else self.worksheet
        name = f"Google Sheet '{title}'" if title else f"Google Sheet {self.key}"
        return name + (f", tab '{sheet}'" if sheet else "")

    @property
    def url(self) -> str:
        gid = f"#gid={self._sheet['sheetId']}" if self._sheet else ""
        return f"https://docs.google.com/spreadsheets/d/{self.key}/edit{gid}"

    @property
    def locale(self) -> str:
        """The spreadsheet's locale (File > Settings), e.g. ``en_US``: how the sheet reads what staff
        type, dates above all; "" if Google gave none."""
        return str(self._metadata().get("properties", {}).get("locale") or "")

    def top_rows(self, n: int) -> list[list[CellValue]]:
        """The first ``n`` rows of the contacts tab as they are, whatever the header row (for
        ``init``, which looks for the header below a title).  One request."""
        sheet = self._contacts_sheet()
        return self._grid(sheet["title"], msg("gs.doing_first_rows"))[1][:n]

    def summary(self) -> SheetSummary:
        """Account, spreadsheet title and tabs (one request); raises the clear errors if the
        sheet cannot be opened (not shared, wrong key, no such tab)."""
        sheet = self._contacts_sheet()
        meta = self._metadata()
        return SheetSummary(self._connection().account, meta.get("properties", {}).get("title", ""),
                            [s["properties"]["title"] for s in meta.get("sheets", [])], sheet["title"], self.url)

    @property
    def account(self) -> str:
        """Who the connector acts as ("the service account x@y"); reads the credentials, sends nothing."""
        return self._connection().account

    def check_can_edit(self) -> None:
        """Raise the clear SourceError (share it with ... as an Editor) unless the account may edit.

        The Sheets API cannot be asked "may I edit?" (Drive can, but the connector asks for no Drive
        access), so this sets the spreadsheet's title to the title it has: a write that changes
        nothing, which Google refuses to an account the sheet is shared with for viewing only.
        One write request; ``check`` uses it so a view-only share is found before anything is sent.
        """
        title = self._metadata().get("properties", {}).get("title")
        if not title:
            return
        conn = self._connection()
        with conn.guard(msg("gs.doing_check_edit"), self.location):
            try:
                conn.http.batch_update(self.key, {"requests": [{
                    "updateSpreadsheetProperties": {"properties": {"title": title}, "fields": "title"}}]})
            except APIError as e:
                if e.response.status_code != 403:
                    raise
                raise SourceError(view_only(self.location, conn.account_email)) from None

    def _connection(self) -> SheetsConnection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _call(self, doing: Msg, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        conn = self._connection()
        with conn.guard(doing, self.location):
            return fn(*args, **kwargs)

    # ---- metadata
    def _metadata(self) -> dict[str, Any]:
        if self._meta is None:
            http = self._connection().http
            self._meta = self._call(msg("gs.doing_open"), http.fetch_sheet_metadata, self.key,
                                    params={"fields": META_FIELDS})
        return self._meta

    def _sheets(self) -> list[dict[str, Any]]:
        """The tabs' properties in tab order (as staff see them left to right)."""
        tabs = [s["properties"] for s in self._metadata().get("sheets", [])]
        return sorted(tabs, key=lambda p: int(p.get("index", 0)))

    def _find_tab(self, title: str) -> dict[str, Any] | None:
        sheets = self._sheets()
        exact = [p for p in sheets if p["title"] == title]
        loose = [p for p in sheets if header_key(p["title"]) == header_key(title)]
        found = exact or loose
        return found[0] if found else None

    def _contacts_sheet(self) -> dict[str, Any]:
        if self._sheet is not None:
            return self._sheet
        grids = [p for p in self._sheets() if p.get("sheetType", "GRID") == "GRID"]
        if self.worksheet is None:
            visible = [p for p in grids if not p.get("hidden")]
            if not (visible or grids):
                raise SourceError(f"{self.location} has no tab with cells.")
            self._sheet = (visible or grids)[0]
            return self._sheet
        found = self._find_tab(self.worksheet)
        if found is None:
            names = [p["title"] for p in self._sheets()]
            close = difflib.get_close_matches(self.worksheet, names, n=1, cutoff=0.4)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            listed = ", ".join(f"'{n}'" for n in names)
            raise ConfigError(f"{self.location.split(', tab')[0]} has no tab named '{self.worksheet}'. Its tabs are: "
                              f"{listed}.{hint} Fix source.worksheet in the mapping.")
        self._sheet = found
        return found

    def _grid(self, title: str, doing: Msg) -> tuple[dict[str, Any], list[list[CellValue]]]:
        """(tab properties, typed rows) in one spreadsheets.get."""
        answer = self._get_cells(doing, {"includeGridData": "true", "ranges": absolute_range_name(title),
                                          "fields": GRID_FIELDS})
        for sheet in answer.get("sheets", []):
            if sheet.get("properties", {}).get("title") == title:
                rows, self._formulas = grid_rows(sheet)  # formulas: for where the results columns go
                return sheet["properties"], rows
        raise SourceError(tab_disappeared(title, self.location))

    # ---- checks
    def check_writable(self) -> None:
        """The spreadsheet opens, the tab exists, and no protection forbids writing to it."""
        sheet = self._contacts_sheet()
        for entry in self._metadata().get("sheets", []):
            if entry["properties"]["sheetId"] != sheet["sheetId"]:
                continue
            for pr in entry.get("protectedRanges", []) or []:
                rng = pr.get("range", {}) or {}
                whole = not any(k in rng for k in ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex"))
                if whole and not pr.get("requestingUserCanEdit", False):
                    raise SourceError(
                        f"The tab '{sheet['title']}' of {self.location} is protected, so "
                        f"{self._connection().account} cannot write the results into it. Ask the owner to add that "
                        "account as an editor of the protection (Data > Protect sheets and ranges) or remove it."
                    )

    # ---- reading
    def read(self) -> TableData:
        """Header and all rows below it (see ``base.Table.read``).  The header is the row pinned
        as the header by an earlier sync if there is one (a title row inserted above it moved
        it down), else the mapping's ``header_row``, else - when that row lacks the mapped
        columns - the nearest row that has them."""
        sheet = self._contacts_sheet()
        snap = self._snapshot(sheet["title"], msg("gs.doing_contacts"))
        rows = snap.rows
        h = snap.header_row(self.header_row - 1, self._expect or None, set())
        header = [header_text(v) for v in rows[h]] if h < len(rows) else []
        while header and not header[-1].strip():
            header.pop()
        if not header:
            raise ConfigError(
                f"Row {h + 1} of {self.location} is empty, so there is no header to read. Set "
                "source.header_row in the mapping to the row that holds the column names (e.g. Email, Mobile)."
            )
        if h != self.header_row - 1:
            self._notes.append(said("cols.gsheet_header_moved", location=Place(self.location), row=h + 1, was=self.header_row))
        width = len(header)
        out = [SourceRow(i + 1, _fit(values, width)) for i, values in enumerate(rows[h + 1:], start=h + 1)]
        while out and all(v is None for v in out[-1].values):
            out.pop()
        self._read_header = header
        self._read_header_index = h
        self._read_values = {r.number: r.values for r in out}
        self._read_occupied = (_occupied(rows[h:], h + 1, snap.formulas), out[-1].number if out else h + 1)
        self._read_tagged = sorted({c for tags in snap.column_tags.values() for c, _ in tags})
        self._read_grid = (snap.row_count, snap.column_count)
        return TableData(header=header, header_row=h + 1, rows=out, location=self.location,
                         locale=self.locale or None)

    def read_tab(self, tab: str) -> tuple[list[str], list[list[CellValue]]] | None:
        """Header (its first non-empty row) and rows of another tab; None if there is none."""
        props = self._find_tab(tab)
        if props is None:
            return None
        _, rows = self._grid(props["title"], msg("gs.doing_read_tab", tab=props["title"]))
        top = next((i for i, r in enumerate(rows) if any(v is not None for v in r)), None)
        if top is None:
            self._tabs[header_key(tab)] = _Tab(props["title"], [], 1, 0)
            return [], []
        header = [header_text(v) for v in rows[top]]
        while header and not header[-1].strip():
            header.pop()
        body = [list(_fit(r, len(header))) for r in rows[top + 1:]]
        while body and all(v is None for v in body[-1]):
            body.pop()
        self._tabs[header_key(tab)] = _Tab(props["title"], header, top + 1, top + 1 + len(body))
        return header, body

    # ---- writing
    def set_columns(self, columns: Mapping[str, Mapping[RowRef, CellValue]],
                    identify: RowIdentifier | None = None, *,
                    keys: Mapping[int, RowKey | None] | None = None) -> list[Unplaced]:
        """Write results on the rows that hold their contacts now, in the pinned result columns,
        then read back and repair what rows moved meanwhile (see ``gsheet_write.py``).

        ``identify`` gets rows whose values are aligned with the header ``read()`` returned,
        even if columns were moved since.  Without it every row is found by its content.
        ``keys`` (row number of the last ``read()`` -> its key, as ``identify`` gives it): a row
        read again with the key cells it was read with is not identified again.
        """
        for title in columns:
            if not str(title).strip():
                raise ValueError("set_columns needs a non-blank header")
        if not any(columns.values()):
            return []
        title = self._contacts_sheet()["title"]
        read_header = self._read_header or []
        skip = {header_key(t) for t in columns}
        expected = self._read_header_index if self._read_header is not None else self.header_row - 1
        raw = {t: {ref: to_raw(v, self._date_format, self._datetime_format) for ref, v in cells.items()}
               for t, cells in columns.items()}
        key_headers = {header_key(h) for h in self._key_headers}
        titles = {header_key(t) for t in columns}
        sheet = gsheet_write.Sheet(
            snapshot=lambda doing, focus: self._snapshot(title, doing, focus),
            tag=self._tag,
            write=self._write_by_filter,
            header_row=lambda snap, trusted: snap.header_row(expected, read_header or None, skip, trusted),
            align=lambda now: _aligner(read_header or now, now),
            choose=self._choose_columns,
            read_values=self._read_values,
            read_header=read_header,
            expected=expected,
            grid=self._read_grid,
            key_columns=_key_columns(read_header, key_headers),
            predicted=self._read_tagged + [i for i, h in enumerate(read_header) if header_key(h) in titles],
            locate=lambda now: _positions(read_header or now, now),
        )
        outcome = gsheet_write.write_results(sheet, raw, identify, keys)
        self._notes.extend(n for n in outcome.notes if n not in self._notes)
        if outcome.repaired:
            self._notes.append(said("cols.gsheet_rows_moved", n=outcome.repaired))
        return outcome.unplaced

    def _choose_columns(self, snap: Snapshot, header_row: int, header: list[str], titles: list[str]) -> dict[str, int]:
        """Columns for result titles not pinned yet: ``result_columns``' rule on what the
        snapshot holds (a skipped column is noted for the summary)."""
        targets, plan = _target_columns(header, titles, snap.rows[header_row:], header_row + 1, snap.formulas)
        note = plan.skipped_note(self.location)
        if note and note not in self._notes:
            self._notes.append(note)
        return targets

    def _get_cells(self, doing: Msg, params: dict[str, Any], may_refuse: bool = False) -> Any:
        """One spreadsheets.get with grid data, its cells decoded straight to values
        (``gsheet_cells.decode``); None if Google refused the ranges (400) and ``may_refuse``."""
        conn = self._connection()
        with conn.guard(doing, self.location):
            try:
                answer = conn.http.request("get", SPREADSHEET_URL % self.key, params=params)
            except APIError as e:
                if e.response.status_code != 400 or not may_refuse:
                    raise
                return None
        pieces = ascii_pieces(answer.content)  # ASCII: half the memory of a text holding a "✓" or Hebrew
        del answer  # a 100,000-row answer is tens of MB: its bytes go before its text is joined and parsed
        text = "".join(pieces)
        del pieces
        return decode(text)

    def _snapshot(self, title: str, doing: Msg, focus: Focus | None = None) -> Snapshot:
        """The tab's cells and pins at one moment: the ranges of ``focus`` (see ``gsheet_focus``),
        else the whole tab.  Ranges the grid no longer holds (rows or columns deleted since the
        focus was made) are refused by Google: then the whole tab is read."""
        ranges = focus.ranges(title) if focus is not None else None
        answer = None
        if ranges:
            answer = self._get_cells(doing, {"includeGridData": "true", "ranges": ranges, "fields": SNAPSHOT_FIELDS},
                                     may_refuse=True)
        if answer is None:
            focus = None
            answer = self._get_cells(doing, {"includeGridData": "true", "ranges": absolute_range_name(title),
                                             "fields": SNAPSHOT_FIELDS})
        snap = parse_snapshot(answer, title, focus)
        if snap is None:
            raise SourceError(tab_disappeared(title, self.location))
        return snap

    def _tag(self, requests: list[dict[str, Any]]) -> None:
        """Pin the result columns and the header row (one spreadsheets.batchUpdate)."""
        sheet = self._contacts_sheet()
        for r in requests:
            if "updateSheetProperties" in r:
                columns = r["updateSheetProperties"]["properties"]["gridProperties"]["columnCount"]
                self._check_limits(sheet["title"], columns=columns)
        http = self._connection().http
        self._call(msg("gs.doing_marking"), http.batch_update, self.key, {"requests": requests})

    def _write_by_filter(self, data: list[dict[str, Any]], may_refuse: bool) -> bool:
        """One values.batchUpdateByDataFilter: each column's cells land in its pinned column.

        False (nothing written) if Google refused it as not fitting the sheet and ``may_refuse``:
        rows deleted since the re-read can leave the last row written outside the grid; the
        next round re-reads and writes what fits now."""
        conn = self._connection()
        with conn.guard(msg("gs.doing_writing"), self.location):
            try:
                conn.http.request("post", f"{SPREADSHEETS_API_V4_BASE_URL}/{self.key}/values:batchUpdateByDataFilter",
                                  json={"valueInputOption": "RAW", "data": data})
            except APIError as e:
                if e.response.status_code != 400 or not may_refuse:
                    raise
                return False
        return True

    def append_rows(self, tab: str, header: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> int:
        """Append rows to a tab, creating it with ``header`` if missing (see ``base.Table``)."""
        title = str(tab).strip()
        if not title or len(title) > MAX_TAB_TITLE:
            raise ConfigError(f"'{tab}' cannot be the name of a tab: it must be 1 to {MAX_TAB_TITLE} characters. "
                              "Change new_contacts.tab in the mapping.")
        contacts = self._contacts_sheet()["title"]
        if header_key(title) == header_key(contacts):
            raise ConfigError(f"The tab for new rows cannot be the contacts tab '{title}' itself. Choose another "
                              "new_contacts.tab in the mapping.")
        head = [str(h) for h in header]
        if len({header_key(h) for h in head}) != len(head) or any(not h.strip() for h in head):
            raise ValueError(f"append_rows needs distinct, non-blank headers, got {head!r}")
        for r in rows:
            if len(r) > len(head):
                raise ValueError(f"a row has {len(r)} values for {len(head)} headers")
        if not rows:
            return 0
        props = self._find_tab(title)
        if props is None:
            props = self._add_tab(title, len(rows) + 1, len(head))
            body = [head] + [self._raw_row(r, len(head)) for r in rows]
            self._append(props["title"], 1, body)
            self._tabs[header_key(title)] = _Tab(props["title"], head, 1, 1 + len(rows))
            return len(rows)
        known = self._tabs.get(header_key(title))
        if known is None:
            self.read_tab(title)
            known = self._tabs[header_key(title)]
        index = {header_key(h): i for i, h in enumerate(known.header) if h.strip()}
        missing = [h for h in head if header_key(h) not in index]
        if missing:
            start = max((i for i, h in enumerate(known.header) if h.strip()), default=-1) + 1
            self._add_tab_columns(props, known, start, missing)
            for i, h in enumerate(missing):
                index[header_key(h)] = start + i
        width = max(index.values()) + 1
        body = []
        for r in rows:
            out: list[Any] = [None] * width
            for h, v in zip(head, r):
                out[index[header_key(h)]] = to_raw(v, self._date_format, self._datetime_format) if v is not None else None
            body.append(out)
        self._append(props["title"], known.last_row + 1, body)
        known.last_row += len(rows)
        return len(rows)

    def save(self) -> SaveReport:
        """Nothing left to do: every write was sent when it was made (see the module docstring);
        the notes say where results are that staff may not see (hidden, merged, filtered)."""
        notes, self._notes = self._notes, []
        return SaveReport(path=self.url, notes=notes)

    def plan_result_columns(self, titles: Sequence[str]) -> ColumnPlan:
        """Where ``titles`` would go, from what ``read()`` saw (see ``result_columns``); for
        ``check``.  The write re-reads the rows and applies the same rule to what it finds (a
        column pinned by an earlier sync is used wherever it is)."""
        if self._read_header is None or self._read_occupied is None:
            self.read()
        occupied, last = self._read_occupied or ({}, self.header_row)
        return _column_plan(self._read_header or [], titles, occupied, last, self._read_header_index + 1)

    # ---- write helpers
    def _raw_row(self, row: Sequence[CellValue], width: int) -> list[Any]:
        return [to_raw(v, self._date_format, self._datetime_format) if v is not None else None
                for v in list(row) + [None] * (width - len(row))]

    def _append(self, title: str, at_row: int, body: list[list[Any]]) -> None:
        # Anchored on the first free row.  Google writes at an empty anchor row and after the block
        # of rows found at a filled one; INSERT_ROWS inserts rows for the data, so rows staff typed
        # just below the anchor meanwhile are pushed down, never overwritten.
        self._check_limits(title, extra_cells=len(body) * max((len(r) for r in body), default=0))
        http = self._connection().http
        self._call(msg("gs.doing_add_rows", tab=title), http.values_append, self.key, _a1(title, at_row, 0),
                   {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}, {"values": body})

    def _add_tab(self, title: str, rows: int, cols: int) -> dict[str, Any]:
        self._check_limits(title, extra_cells=rows * cols, columns=cols)
        http = self._connection().http
        answer = self._call(msg("gs.doing_create_tab", tab=title), http.batch_update, self.key, {"requests": [{"addSheet": {
            "properties": {"title": title, "gridProperties": {"rowCount": rows, "columnCount": cols, "frozenRowCount": 1}}}}]})
        props: dict[str, Any] = answer["replies"][0]["addSheet"]["properties"]
        self._metadata().setdefault("sheets", []).append({"properties": props})
        return props

    def _add_tab_columns(self, props: dict[str, Any], known: _Tab, start: int, missing: list[str]) -> None:
        needed = start + len(missing)
        if needed > int(props.get("gridProperties", {}).get("columnCount", 0)):
            self._resize(props, columns=needed)
        http = self._connection().http
        self._call(msg("gs.doing_add_columns", tab=props["title"]), http.values_batch_update, self.key, {
            "valueInputOption": "RAW",
            "data": [{"range": _a1(props["title"], known.header_row, start), "values": [missing]}]})
        known.header = known.header[:start] + [""] * (start - len(known.header)) + missing

    def _resize(self, props: dict[str, Any], *, columns: int) -> None:
        self._check_limits(props["title"], columns=columns)
        http = self._connection().http
        self._call(msg("gs.doing_widen", tab=props["title"]), http.batch_update, self.key, {"requests": [{
            "updateSheetProperties": {"properties": {"sheetId": props["sheetId"], "gridProperties": {"columnCount": columns}},
                                      "fields": "gridProperties.columnCount"}}]})
        props.setdefault("gridProperties", {})["columnCount"] = columns
        for p in self._sheets():  # keep the cached metadata's size in step
            if p["sheetId"] == props["sheetId"]:
                p.setdefault("gridProperties", {})["columnCount"] = columns

    def _check_limits(self, title: str, *, extra_cells: int = 0, columns: int | None = None) -> None:
        """A clear error before Google's 400 when a write would break the spreadsheet's limits."""
        if columns is not None and columns > MAX_COLUMNS:
            raise SourceError(f"The tab '{title}' would need {columns:,} columns; Google Sheets allows at most "
                              f"{MAX_COLUMNS:,}. Remove unused columns from it, or choose fewer result columns.")
        total = 0
        for p in self._sheets():
            grid = p.get("gridProperties", {})
            rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
            if p["title"] == title and columns is not None:
                cols = columns
            total += rows * cols
        if columns is not None and self._find_tab(title) is not None:
            extra_cells = 0  # a resize: its cells are counted above
        if total + extra_cells > MAX_CELLS:
            raise SourceError(
                f"{self.location} would need {total + extra_cells:,} cells; a Google spreadsheet holds at most "
                f"{MAX_CELLS:,}. Delete empty rows and columns (or old tabs) in the spreadsheet, then run again."
            )


def _mapped_headers(config: Any) -> list[str]:
    cols = config.columns
    return [h for h in [cols.email, cols.mobile, cols.external_id] + [c.column for c in cols.field_columns().values()] if h]


def _key_columns(read_header: Sequence[str], keys: set[str]) -> list[int]:
    """The columns of the header as read that a row's key comes from (every column under a key
    header, as the mapping finds them: by name); none unless every key header is there - then
    the write's re-reads read every column, as the key may come from anywhere."""
    found = [i for i, h in enumerate(read_header) if header_key(h) in keys]
    return found if keys and {header_key(read_header[i]) for i in found} == keys else []


def _fit(values: Sequence[CellValue], width: int) -> tuple[CellValue, ...]:
    return tuple(values[:width]) + (None,) * (width - len(values))


def _a1(title: str, row: int, col: int) -> str:
    """``'Tab'!C5`` from a 1-based row and a 0-based column."""
    return absolute_range_name(title, rowcol_to_a1(row, col + 1))


def _aligner(read_header: list[str], now_header: list[str]) -> Callable[[Sequence[CellValue]], tuple[CellValue, ...]]:
    """Rows as they are now -> values in the column order of the header as read (a column
    moved by staff is followed by its header; one that is gone reads as blank)."""
    source = _positions(read_header, now_header)
    if source == list(range(len(read_header))):
        return lambda values: _fit(values, len(read_header))
    return lambda values: tuple(values[i] if i is not None and i < len(values) else None for i in source)


def _positions(read_header: list[str], now_header: list[str]) -> list[int | None]:
    """Where each column of the header as read is now (None: gone)."""
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(now_header):
        positions.setdefault(header_key(h), []).append(i)
    taken: dict[str, int] = {}
    source: list[int | None] = []
    for h in read_header:
        k = header_key(h)
        n = taken.get(k, 0)
        taken[k] = n + 1
        options = positions.get(k, [])
        source.append(options[n] if n < len(options) else None)
    return source


def _occupied(from_header: Sequence[Sequence[CellValue]], header_row: int,
              formulas: Mapping[int, int] | None = None) -> dict[int, int]:
    """{column (1-based): first row holding something} of the header row and the rows below:
    a value, or a formula (``formulas``: {column: first row}, from the grid read)."""
    occupied = {c: r for c, r in (formulas or {}).items() if r >= header_row}
    known = 0  # columns 1..known all hold something: a row need only be looked at right of them
    for i, values in enumerate(from_header):
        for j in range(known, len(values)):
            v = values[j]
            if v is not None and v != "" and occupied.get(j + 1, header_row + i + 1) > header_row + i:
                occupied[j + 1] = header_row + i
        while known + 1 in occupied:
            known += 1
    return occupied


def _column_plan(now_header: list[str], titles: Sequence[str], occupied: dict[int, int], last_row: int,
                 header_row: int) -> ColumnPlan:
    """Where each title goes (``result_columns``: never on a column holding anything)."""
    header = {i + 1: h for i, h in enumerate(now_header) if h.strip()}
    return choose_columns(header, titles, occupied=occupied, rows=(header_row, max(last_row, header_row)),
                          max_column=MAX_COLUMNS)


def _target_columns(now_header: list[str], titles: list[str], from_header: Sequence[Sequence[CellValue]] = (),
                    header_row: int = 1, formulas: Mapping[int, int] | None = None) -> tuple[dict[str, int], ColumnPlan]:
    """(0-based column of each header, the plan): a missing header goes to the first column
    right of the last header with nothing in it (one past the last column Google allows where
    there is none, so the size check refuses it with its clear message)."""
    plan = _column_plan(now_header, titles, _occupied(from_header, header_row, formulas),
                        header_row + len(from_header) - 1, header_row)
    return {title: plan.columns[title] - 1 if title in plan.columns else MAX_COLUMNS for title in titles}, plan
