"""A worksheet of an .xlsx workbook as a ``Table``: read with python-calamine, written back safely.

Reading: python-calamine, about 1.2 s for 100,000 rows x 10 columns where openpyxl needs
20-30 s.  Formulas read as the values they had when the file was last saved.  A cell calamine
reads as empty but that shows an Excel error (``#N/A``) or holds a formula never calculated is
read as a ``base.CellError`` (``scan``), so the mapping refuses its row instead of sending it
without that email or mobile.

``check_writable()``, called before anything is sent to inwise, checks all that a save needs
and can be known then: the file (a usable .xlsx, not locked, writable, in a writable folder),
room right of the header row for the results columns (never past XFD), a workbook the fast
writer takes (``patch.probe``) or else one openpyxl can open, and that its inventory can be
taken.  What it learns is kept for ``save()`` while the file stays the same.

What a read learns of a sheet (its shape, what only its XML tells) is made in ``reading``.

Writing is buffered.  ``set_columns`` and ``append_rows`` lay each write out at once with the
rules in ``cells``, from what calamine saw of the sheet (its header cells and merged cells)
and which columns the user hid, so ``set_columns`` can say right away which results it will
not write.  A new results column inside hidden columns is shown; results written into a
column the user hid are written and the run summary says so (``SaveReport.notes``).
``save()`` then:

1. checks the file again (still an .xlsx, not open elsewhere, not changed since ``read()``);
2. writes the new workbook to a temporary file in the same folder (``saving``): with the fast writer
   (``patch``: the cells patched into the sheet XML, every other part copied byte for byte) or,
   where that does not apply (the log says why), with openpyxl (``openpyxl_writer``);
3. checks the new file: a complete zip with no package problem the original did not have
   (a part without a content type, a relationship to a missing part), readable by calamine,
   nothing counted in the original's inventory lost (``inventory``); after the fast writer,
   every part it did not patch byte for byte the same; after openpyxl, every cell value,
   cached value and formula of every sheet and every part (``compare``);
4. swaps it in (``os.replace``, permission bits kept), or, if anything the user did not ask
   for would change, leaves the original untouched and writes ``<name> (with sync
   results).xlsx`` next to it, naming each change.

A crash at any point leaves the old file or the new one, never a half-written one, and no
temporary file behind.
"""
from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import python_calamine
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from ...errors import ConfigError, SourceError, WorksheetNotFound
from ...messages.catalog import msg, said
from ...normalize import header_key
from ..base import CellValue, RowIdentifier, RowKey, RowRef, SaveReport, SourceRow, Table, TableData, Unplaced
from ..result_columns import ColumnPlan, Obstacle
from .cells import (
    MAX_COLUMN,
    CellRange,
    HeaderRow,
    NoRoom,
    SheetWrites,
    TabAppend,
    column_letter,
    covered,
    find_tab,
    header_text,
)
from .files import COPY_SUFFIX, MACRO_MAIN_TYPES, WorkbookFile, open_book
from .inventory import take_inventory
from .package import PackageError, package_problems
from .reading import Facts, Shape, calamine_rows, cells_of, occupied_columns, put_unread, sheet_facts
from .saving import Before, verify, write_workbook

if TYPE_CHECKING:
    from .patch_sheet import SheetPatch  # (its values module imports openpyxl, slow: only a check or a save needs it)

__all__ = ["COPY_SUFFIX", "XlsxTable"]

log = logging.getLogger(__name__)

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


class XlsxTable:
    """A worksheet of an .xlsx/.xlsm workbook as a ``Table`` (see ``base.Table``).

    ``worksheet=None`` means the first visible worksheet.  ``header_row`` is the 1-based row
    number of the header, as the user sees it in Excel.  ``result_columns``: the headers of the
    columns the sync will write results into, so ``check_writable`` can make sure there is room
    for those the header row lacks (None: not known, room for one new column is required).
    """

    def __init__(self, path: str | os.PathLike[str], worksheet: str | None = None, header_row: int = 1, *,
                 written_as: str | None = None, result_columns: Sequence[str] | None = None) -> None:
        self.path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise ConfigError(f"The header row for {self.path.name} must be a row number (1 or more), not {header_row!r}.")
        self.worksheet = worksheet
        self.header_row = header_row
        self.result_columns = None if result_columns is None else tuple(str(c) for c in result_columns if str(c).strip())
        self.location = self._location(worksheet)  # for messages: "contacts.xlsx, sheet 'Contacts'"
        self._file = WorkbookFile(self.path, written_as)
        self._sheet: str | None = None  # the real sheet name, once resolved
        self._fingerprint: tuple[int, int] | None = None
        self._shape: Shape | None = None  # of the contacts sheet, from read()
        self._results: tuple[SheetWrites, HeaderRow, Shape] | None = None
        self._tabs: dict[str, Shape | None] = {}  # other tabs by header_key(title); None: no such tab
        self._appends: dict[str, TabAppend] = {}  # by header_key(title)
        self._before: Before | None = None  # from check_writable(), for save()
        # the large sheets check_writable's probe went through (mapped from files), for save()
        self._probed: tuple[tuple[int, int], dict[str, SheetPatch]] | None = None
        self._data_rows: tuple[int, int] | None = None  # first and last data row read()
        self._notes: list[str] = []  # for the run summary (SaveReport.notes)

    def _location(self, sheet: str | None) -> str:
        return f"{self.path.name}, sheet '{sheet}'" if sheet else self.path.name

    def __repr__(self) -> str:
        return f"XlsxTable({str(self.path)!r}, worksheet={self.worksheet!r}, header_row={self.header_row})"

    # ---- before anything is sent

    def check_writable(self) -> None:
        """Raise SourceError now if the results could not be saved later (see the module docstring)."""
        content_type = self._file.check_writable()
        self._check_room()
        # the original's inventory is taken on the other core while the writers are checked
        # (both decompress the sheets, and zlib releases the GIL); the writers' verdict comes first
        with ThreadPoolExecutor(1, thread_name_prefix="xlsx-inventory") as pool:
            before = pool.submit(self._take_before)
            self._check_writers(content_type)
            self._before = before.result()

    def plan_result_columns(self, titles: Sequence[str] | None = None) -> ColumnPlan:
        """Where the results columns (``titles``, by default those the table was given) will
        go (see ``result_columns``), for ``check`` and ``check_writable``; reads the sheet's
        header row if ``read()`` has not."""
        _writes, header, _shape = self._result_layout()
        if titles is None:
            titles = ["results"] if self.result_columns is None else list(dict.fromkeys(self.result_columns))
        return header.plan(titles)

    def _check_room(self) -> None:
        """Refuse results columns that have no free column left of XFD, or whose only free
        column cuts through a table, pivot table, array formula or merged cells."""
        _writes, header, _shape = self._result_layout()
        plan = self.plan_result_columns()
        if plan.blocked is not None:
            blocked = plan.blocked if self.result_columns is not None else \
                dataclasses.replace(plan.blocked, title="Sync result")  # not told its name: the usual one
            raise SourceError(blocked.message(self.location, self.header_row))
        needed = ["results"] if self.result_columns is None else \
            list(dict.fromkeys(t for t in self.result_columns if header.find(t) is None))
        if not plan.no_room:
            return
        row = self.header_row
        first = column_letter(MAX_COLUMN - len(needed) + 1)
        cells = f"{first}{row}:XFD{row}" if first != "XFD" else f"XFD{row}"
        titles = "" if self.result_columns is None else " (" + ", ".join(f"'{t}'" for t in needed) + ")"
        raise SourceError(
            f"There is no room in {self.location} for the results column{'s' if len(needed) > 1 else ''}{titles}: "
            f"they go in a column with nothing in it right of the last header of row {row}, which is in column "
            f"{column_letter(header.last)}, and Excel has no column after XFD. Nothing was sent. Free column{'s' if len(needed) > 1 else ''} "
            f"{first if first == 'XFD' else first + ' to XFD'} (clear or move the header cells {cells} and the "
            "cells below them), then run again."
        )

    def _check_writers(self, content_type: str) -> None:
        """Refuse a workbook neither writer can save: the fast one declines it and openpyxl
        cannot open it (checked only then: openpyxl needs about 30 s per 100,000 rows)."""
        from . import openpyxl_writer, patch

        try:
            fingerprint = self._file.fingerprint()
            self._probed = (fingerprint, patch.probe(self._file.target, [self._planned_results()]))
            return
        except patch.Unsupported as e:
            reason = str(e)
        except (SourceError, OSError):
            raise
        except Exception as e:  # noqa: BLE001 - a fault in the probe: the save would fall back to openpyxl
            reason = f"{type(e).__name__}: {e}"
        log.info("%s: the results will be written with openpyxl (slower) because %s", self.path.name, reason)
        with self._open_calamine() as wb:
            sheets = [m.name for m in wb.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        openpyxl_writer.check_opens(self._file.target, sheets, keep_vba=content_type in MACRO_MAIN_TYPES)

    def _planned_results(self) -> SheetWrites:
        """The results columns over every data row read, as ``set_columns`` will lay them out
        (what is inside merged cells left out), for the fast writer's probe."""
        _writes, header, shape = self._result_layout()
        planned = SheetWrites(shape.name)
        dry = self._header(shape)
        titles = self.result_columns if self.result_columns is not None else ("\0results",)
        first, last = self._data_rows or (self.header_row + 1, self.header_row)
        for title in titles:
            col = dry.place(title, planned)
            if col is None:
                continue
            hiding = [m for m in shape.merged if m[1] <= col <= m[3]]
            planned.columns[col] = dict.fromkeys(r for r in range(first, last + 1) if covered(hiding, r, col) is None)
        return planned

    def _take_before(self) -> Before:
        """The original's inventory and package problems (kept while the file is unchanged)."""
        fingerprint = self._file.fingerprint()
        if self._before is not None and self._before.fingerprint == fingerprint:
            return self._before
        try:
            with zipfile.ZipFile(self._file.target) as zf:
                return Before(fingerprint, take_inventory(zf), package_problems(zf))
        except zipfile.BadZipFile as e:
            raise SourceError(self._file.damaged(str(e))) from None
        except (PackageError, OSError, ValueError) as e:  # the zip is whole (check() read it): a part is unusual
            raise SourceError(self._file.unreadable(str(e))) from None

    # ---- reading

    def read(self) -> TableData:
        """Header and all rows below it (see ``base.Table.read``)."""
        self._file.check()
        fingerprint = self._file.fingerprint()
        with self._open_calamine() as wb:
            name = self._contacts_sheet_name(wb)
            # what only the sheet's XML tells is read on the other core while calamine parses
            # the sheet (calamine and zlib release the GIL): ~0.3 s of a 100,000-row read
            with ThreadPoolExecutor(1, thread_name_prefix="xlsx-sheet-facts") as pool:
                pending = pool.submit(sheet_facts, self._file.target, name, self.header_row, cells=True,
                                      name=self.path.name)
                sheet = self._get_sheet(wb, name)
                data, top, lead, merged = self._load(sheet)
                facts = pending.result()
        self._fingerprint = fingerprint
        unread = facts.unread
        h = self.header_row - 1 - top
        raw = data[h] if 0 <= h < len(data) else []
        cells = [header_text(v) for v in raw]
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            raise ConfigError(
                f"Row {self.header_row} of sheet '{self._sheet}' in {self.path.name} is empty, so there is no header to read. "
                "Set the header row in your settings to the row that holds the column names (e.g. Email, Mobile)."
            )
        header = [""] * lead + cells
        rows = [SourceRow(number=top + h + 2 + i, values=values)
                for i, values in enumerate(calamine_rows(data[h + 1:], len(cells), lead))]
        if unread:
            put_unread(rows, unread, len(header), self.header_row)
        while rows and all(v is None for v in rows[-1].values):
            rows.pop()
        self._data_rows = (rows[0].number, rows[-1].number) if rows else None
        self._shape = self._contacts_shape(sheet.name, data, top, lead, merged, facts,
                                           rows[-1].number if rows else self.header_row)
        if self._results is not None and self._results[0].is_empty():
            self._results = None  # laid out again from what was just read (writes already buffered keep theirs)
        return TableData(header=header, header_row=self.header_row, rows=rows, location=self.location)

    def _contacts_shape(self, name: str, data: list[list[Any]], top: int, lead: int, merged: list[CellRange],
                        facts: Facts, last_row: int) -> Shape:
        """The contacts sheet's shape: its header cells, and what the results columns must
        keep clear of (see ``result_columns``): columns holding anything from the header row
        down (values, formulas, errors), merged cells, tables, pivot tables, array formulas."""
        h = self.header_row - 1 - top
        cells = cells_of(data[h] if 0 <= h < len(data) else [], lead)
        occupied = occupied_columns(data, max(h, 0), top, lead)
        for (r, c), _v in facts.unread.items():
            if r >= self.header_row and occupied.get(c, r + 1) > r:
                occupied[c] = r
        for c, r in facts.formulas.items():
            if occupied.get(c, r + 1) > r:
                occupied[c] = r
        obstacles = list(facts.obstacles)
        for r1, c1, r2, c2 in merged:
            if r2 < self.header_row:
                continue
            i, j = r1 - 1 - top, c1 - 1 - lead
            shown = 0 <= i < len(data) and 0 <= j < len(data[i]) and data[i][j] not in ("", None)
            if shown:  # what the merged cells show belongs to every column they span
                for c in range(c1, c2 + 1):
                    if occupied.get(c, r1 + 1) > max(r1, self.header_row):
                        occupied[c] = max(r1, self.header_row)
            else:
                obstacles.append(Obstacle("merged cells", r1, c1, r2, c2))
        return Shape(name, True, cells, merged, hidden=facts.hidden, occupied=occupied, obstacles=obstacles,
                      last_row=max(last_row, self.header_row))

    def _header(self, shape: Shape) -> HeaderRow:
        return HeaderRow(self.header_row, shape.cells, occupied=shape.occupied, obstacles=shape.obstacles,
                         last_row=shape.last_row)

    def read_tab(self, tab: str) -> tuple[list[str], list[list[CellValue]]] | None:
        """Header (its first non-empty row) and rows of another tab, including rows appended
        with ``append_rows`` and not saved yet; None if there is no such tab."""
        self._file.check()
        header: list[str] = []
        rows: list[list[CellValue]] = []
        with self._open_calamine() as wb:
            shape, data, lead = self._load_tab(wb, tab)
        if data:
            cells = [header_text(v) for v in data[0]]
            while cells and not cells[-1].strip():
                cells.pop()
            header = [""] * lead + cells  # as in read(): cells right of the header are ignored
            rows = [list(r) + [None] * (len(header) - len(r)) for r in calamine_rows(data[1:], len(cells), lead)]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
        pending = self._appends.get(header_key(tab))
        if pending is None:
            return (header, rows) if shape is not None else None
        for batch_header, batch_rows in pending.batches:
            index = {header_key(hd): i for i, hd in enumerate(header) if header_key(hd)}
            for hd in batch_header:
                if header_key(hd) not in index:
                    index[header_key(hd)] = len(header)
                    header.append(hd)
            for r in rows:
                r.extend([None] * (len(header) - len(r)))
            for values in batch_rows:
                row: list[CellValue] = [None] * len(header)
                for hd, v in zip(batch_header, values):
                    row[index[header_key(hd)]] = v
                rows.append(row)
        return header, rows

    def _open_calamine(self) -> CalamineWorkbook:
        try:
            return open_book(self._file.target)
        except python_calamine.PasswordError:
            raise SourceError(said("xlsx.password_short", name=self.path.name)) from None
        except (python_calamine.CalamineError, OSError, ValueError) as e:
            # check() found a complete zip with a workbook in it: not damaged, just not readable here
            raise SourceError(self._file.unreadable(str(e))) from None

    def _contacts_sheet(self, wb: CalamineWorkbook) -> CalamineSheet:
        return self._get_sheet(wb, self._contacts_sheet_name(wb))

    def _contacts_sheet_name(self, wb: CalamineWorkbook) -> str:
        meta = wb.sheets_metadata
        names = [m.name for m in meta]
        worksheets = [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible] \
            or [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet]
        self._sheet = self._resolve_sheet(self.worksheet, names, worksheets)
        self.location = self._location(self._sheet)
        return self._sheet

    def _get_sheet(self, wb: CalamineWorkbook, name: str) -> CalamineSheet:
        """The sheet parsed (the bulk of a read)."""
        try:
            return wb.get_sheet_by_name(name)
        except python_calamine.CalamineError as e:
            raise SourceError(self._file.unreadable(msg("xlsx.in_sheet", sheet=name, detail=str(e)))) from None

    def _resolve_sheet(self, wanted: str | None, names: Sequence[str], worksheets: Sequence[str]) -> str:
        if wanted is None:
            if not worksheets:
                raise SourceError(said("xlsx.chart_only", name=self.path.name))
            return worksheets[0]
        if wanted in names:
            return wanted
        loose = [n for n in names if header_key(n) == header_key(wanted)]
        if len(loose) == 1:
            return loose[0]
        listed = ", ".join(f"'{n}'" for n in names)
        close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.4) or \
            difflib.get_close_matches(header_key(wanted), [header_key(n) for n in names], n=1, cutoff=0.4)
        hint: object = ""
        if close:
            match = next((n for n in names if n == close[0] or header_key(n) == close[0]), close[0])
            hint = msg("err.did_you_mean_sheet", name=match)
        raise WorksheetNotFound(said("err.no_worksheet", file=self.path.name, wanted=wanted, listed=listed, hint=hint))

    def _load(self, sheet: CalamineSheet) -> tuple[list[list[Any]], int, int, list[CellRange]]:
        """(rows from the first non-empty one, its row index, the first non-empty column's index, merged cells)."""
        try:
            # skip_empty_area (the default): calamine starts at the first non-empty row/column;
            # sheet.start tells where that is, so row numbers stay the ones users see.
            data = sheet.to_python()
            top, lead = sheet.start or (0, 0)
            merged = [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
        except python_calamine.CalamineError as e:
            raise SourceError(self._file.unreadable(msg("xlsx.in_sheet", sheet=sheet.name, detail=str(e)))) from None
        return data, top, lead, merged

    def _load_tab(self, wb: CalamineWorkbook, tab: str) -> tuple[Shape | None, list[list[Any]], int]:
        """Another tab: its shape (kept for ``append_rows``), its rows from its first non-empty
        one and the first non-empty column's index."""
        meta = {m.name: m for m in wb.sheets_metadata}
        name = find_tab(list(meta), tab)
        shape: Shape | None = None
        data: list[list[Any]] = []
        lead = 0
        if name is not None:
            if meta[name].typ != SheetTypeEnum.WorkSheet:
                shape = Shape(name, False, {}, [])
            else:
                data, top, lead, merged = self._load(wb.get_sheet_by_name(name))
                last = next((i for i in range(len(data) - 1, -1, -1) if any(v != "" for v in data[i])), None)
                data = data[: last + 1] if last is not None else []
                filled = (top + 1, top + len(data)) if data else None
                shape = Shape(name, True, cells_of(data[0], lead) if data else {}, merged, filled)
        self._tabs[header_key(tab)] = shape
        return shape, data, lead

    # ---- buffered writes

    def set_columns(
        self, columns: Mapping[str, Mapping[RowRef, CellValue]], identify: RowIdentifier | None = None,
        *, keys: Mapping[int, RowKey | None] | None = None,
    ) -> list[Unplaced]:
        """Buffer values for named columns: {header: {row ref: value}} (see ``base.Table``).

        Placed by ``ref.number``: nothing can move a file's rows while the connector holds it,
        so ``identify`` and ``keys`` are not needed.  A result whose cell is inside merged cells (other than
        their first cell, the one that shows) is not written and comes back as ``Unplaced``;
        so do the results of a column that would go past XFD.  A new column inside hidden
        columns is shown; results in a column the user hid are written, with a note.
        """
        numbered = []  # (title, {row number: value}, {ref: value}); all checked before anything is buffered
        for title, cells in columns.items():
            if not str(title).strip():
                raise ValueError("set_columns needs a non-blank header")
            try:
                by_row = {ref.number: v for ref, v in cells.items()}
                ok = not by_row or (set(map(type, by_row)) == {int} and min(by_row) > self.header_row)
            except AttributeError:  # not a RowRef
                ok = False
            if not ok:
                bad = next(ref for ref in cells if type(getattr(ref, "number", None)) is not int
                           or ref.number <= self.header_row)
                raise ValueError(f"{bad!r} is not a data row below header row {self.header_row}")
            numbered.append((str(title).strip(), by_row, cells))
        writes, header, shape = self._result_layout()
        unplaced: list[Unplaced] = []
        for title, by_row, cells in numbered:
            col = header.place(title, writes)
            blocked = header.blocked.get(title)
            if blocked is not None:
                unplaced.extend(Unplaced(ref, blocked.message(self.location, self.header_row)) for ref in cells)
                continue
            if col is None:
                unplaced.extend(Unplaced(ref, (
                    f"there is no room for a '{title}' column: row {self.header_row} is filled up to column XFD, "
                    "the last one Excel has; free a column at the end of the header row so the next sync can write it"))
                    for ref in cells)
                continue
            if shape.is_hidden(col):
                self._hidden_column_note(title, col, new=col in writes.new_columns, writes=writes)
            self._skipped_note(header)
            hiding = [m for m in shape.merged if m[1] <= col <= m[3]]
            if not hiding and col not in writes.columns:
                writes.columns[col] = by_row  # made above for this call: kept, not copied (100k rows)
                continue
            buffered = writes.columns.setdefault(col, {})
            if not hiding:
                buffered.update(by_row)
                continue
            for ref, value in cells.items():
                rng = covered(hiding, ref.number, col)
                if rng is None:
                    buffered[ref.number] = value
                    continue
                first, last = f"{column_letter(rng[1])}{rng[0]}", f"{column_letter(rng[3])}{rng[2]}"
                unplaced.append(Unplaced(ref, (
                    f"its '{title}' cell {column_letter(col)}{ref.number} is inside the merged cells "
                    f"{first}:{last}, which show only {first}; unmerge them so the next sync can write it")))
        return unplaced

    def _skipped_note(self, header: HeaderRow) -> None:
        """Tell the run summary which columns holding data without a header were passed over."""
        if not header.skipped:
            return
        plan = ColumnPlan(columns={h.title: h.col for h in self._result_layout()[0].headers},
                          new=[h.title for h in self._result_layout()[0].headers], skipped=dict(header.skipped))
        note = plan.skipped_note(self.location)
        self._notes = [n for n in self._notes if not n.startswith(f"In {self.location}, column")]
        if note:
            self._notes.append(note)

    def _hidden_column_note(self, title: str, col: int, *, new: bool, writes: SheetWrites) -> None:
        where = {"title": title, "letter": column_letter(col), "sheet": writes.name, "file": self.path.name}
        if new:
            writes.shown.add(col)
            note = said("cols.xlsx_shown", **where)
        else:
            note = said("cols.xlsx_hidden", **where)
        if note not in self._notes:
            self._notes.append(note)

    def _result_layout(self) -> tuple[SheetWrites, HeaderRow, Shape]:
        if self._results is None:
            shape = self._shape
            if shape is None:  # set_columns or check_writable before read(): look at the header row now
                self._file.check()
                with self._open_calamine() as wb:
                    sheet = self._contacts_sheet(wb)
                    data, top, lead, merged = self._load(sheet)
                facts = sheet_facts(self._file.target, sheet.name, self.header_row, cells=False, name=self.path.name)
                last = next((top + 1 + i for i in range(len(data) - 1, -1, -1) if any(v != "" for v in data[i])), 0)
                shape = self._contacts_shape(sheet.name, data, top, lead, merged, facts, last)
            self._results = (SheetWrites(shape.name), self._header(shape), shape)
        return self._results

    def append_rows(self, tab: str, header: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> int:
        """Buffer rows for another tab (see ``base.Table.append_rows``).  Returns rows appended."""
        title = str(tab).strip()
        if not title or len(title) > 31 or _INVALID_SHEET_CHARS.search(title) or title.startswith("'") or title.endswith("'"):
            raise ConfigError(
                f"'{tab}' cannot be the name of a tab in an Excel workbook: it must be 1 to 31 characters, "
                "without [ ] : * ? / \\ and not starting or ending with an apostrophe. Change the tab name in your settings."
            )
        if header_key(title) == header_key(self._sheet or self.worksheet or "\0"):
            raise self._not_the_contacts_sheet(title)
        head = [str(h) for h in header]
        if len({header_key(h) for h in head}) != len(head) or any(not h.strip() for h in head):
            raise ValueError(f"append_rows needs distinct, non-blank headers, got {head!r}")
        # the caller's rows are kept as they are (100,000 new contacts: no copy), short ones padded
        width = len(head)
        if any(len(r) > width for r in rows):
            n = next(len(r) for r in rows if len(r) > width)
            raise ValueError(f"a row has {n} values for {width} headers")
        batch = [r if len(r) == width else [*r, *[None] * (width - len(r))] for r in rows]
        key = header_key(title)
        pending = self._appends.get(key)
        if pending is None:
            if key not in self._tabs:
                self._file.check()
                with self._open_calamine() as wb:
                    if self._sheet is None:
                        self._contacts_sheet(wb)
                    self._load_tab(wb, title)
            shape = self._tabs[key]
            if shape is None:
                pending = TabAppend(title, filled=None, header_cells={}, created=True)
            elif shape.name == self._sheet:
                raise self._not_the_contacts_sheet(title)
            elif not shape.worksheet:
                raise ConfigError(f"'{shape.name}' in {self.path.name} is a chart sheet, so new rows cannot go there. "
                                  "Choose another tab name in your settings.")
            else:
                pending = TabAppend(shape.name, filled=shape.filled, header_cells=shape.cells, merged=shape.merged)
        try:
            pending.append(head, batch)
        except NoRoom as e:
            raise SourceError(
                f"There is no room for new columns in the tab '{e.sheet}' of {self.path.name}: its header row "
                f"(row {e.row}) is filled up to column XFD, the last one Excel has. Free some columns at the end of "
                "that row, or choose another tab in your settings, and run again."
            ) from None
        self._appends[key] = pending
        return len(batch)

    def _not_the_contacts_sheet(self, title: str) -> ConfigError:
        return ConfigError(f"The tab for new rows cannot be the contacts sheet '{title}' itself. "
                           "Choose another tab name in your settings.")

    # ---- saving

    def save(self) -> SaveReport:
        """Apply the buffered writes atomically (see the module docstring)."""
        writes = [w for w in (self._results[0] if self._results else None, *(a.writes for a in self._appends.values()))
                  if w is not None and not w.is_empty()]
        notes = list(self._notes)
        if not writes:
            self._notes.clear()
            return SaveReport(path=str(self.path), notes=notes)
        content_type = self._file.check()
        message = self._file.lock_message()
        if message:
            raise SourceError(message)
        self._file.check_unchanged(self._fingerprint)
        before = self._take_before()
        if self._results:
            self._results[0].fit_new_columns()
        tmp = self._file.temp_path()
        try:
            probed, self._probed = self._probed, None  # (gone through once: a save changes the file)
            reuse = probed[1] if probed is not None and probed[0] == before.fingerprint else None
            written = write_workbook(self._file, tmp, writes, before.inventory, content_type, reuse)
            lost = verify(self._file, tmp, before, written, writes)
            self._file.adopt_permissions(tmp)
            if lost:
                copy = self._file.keep_as_copy(tmp)
                why = msg("cols.xlsx_copy_why", reason=written.reason) if written.reason else ""
                report = SaveReport(path=str(copy), is_copy=True, lost=lost, notes=notes, message=said(
                    "cols.xlsx_copy", file=self.path.name, lost=tuple(lost), copy=str(copy), why=why))
            else:
                self._file.replace_with(tmp)
                report = SaveReport(path=str(self.path), notes=notes)
        except OSError as e:
            _remove_quietly(tmp)
            raise SourceError(said("xlsx.save_failed", name=self.path.name, why=e.strerror or str(e))) from e
        except BaseException:
            _remove_quietly(tmp)
            raise
        # the file is a new one: what was seen of it, and the writes, are done with
        self._fingerprint = self._shape = self._results = self._before = None
        self._tabs.clear()
        self._appends.clear()
        self._notes.clear()
        return report

def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:  # pragma: no cover - reported, not raised, on an error path
        log.warning("could not remove temporary file %s: %s", path, e)


if TYPE_CHECKING:  # mypy fails here if XlsxTable drifts from the Table protocol
    def _is_a_table(table: XlsxTable) -> Table:
        return table
