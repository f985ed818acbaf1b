"""A worksheet of an .xlsx workbook as a ``Table``: read with python-calamine, written back safely.

Reading: python-calamine, about 1.2 s for 100,000 rows x 10 columns where openpyxl needs
20-30 s.  Formulas read as the values they had when the file was last saved.

Writing is buffered.  ``set_columns`` and ``append_rows`` lay each write out at once with the
rules in ``cells``, from what calamine saw of the sheet (its header cells and merged cells), so
``set_columns`` can say right away which results it will not write.  ``save()`` then:

1. checks the file again (still an .xlsx, not open elsewhere, not changed since ``read()``)
   and takes its inventory (``inventory``);
2. writes the new workbook to a temporary file in the same folder: with the fast writer
   (``patch``: the cells patched into the sheet XML, every other part copied byte for byte) or,
   where that does not apply (the log says why), with openpyxl (``openpyxl_writer``);
3. checks the new file (a complete zip, every part typed and every relationship resolvable,
   readable by calamine) and compares its inventory with the original's;
4. swaps it in (``os.replace``, permission bits kept), or, if anything would be lost, leaves
   the original untouched and writes ``<name> (with sync results).xlsx`` next to it, saying
   what could not be kept.

A crash at any point leaves the old file or the new one, never a half-written one, and no
temporary file behind.
"""
from __future__ import annotations

import difflib
import logging
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import python_calamine
from python_calamine import CalamineSheet, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from ...errors import ConfigError, SourceError, WorksheetNotFound
from ...normalize import header_key
from ..base import CellValue, RowIdentifier, RowRef, SaveReport, SourceRow, Table, TableData, Unplaced
from .cells import CellRange, HeaderRow, SheetWrites, TabAppend, column_letter, covered, find_tab, header_text
from .files import COPY_SUFFIX, MACRO_MAIN_TYPES, TEMPLATE_MAIN_TYPES, WorkbookFile
from .inventory import Inventory, find_losses, take_inventory
from .package import PackageError, check_package

__all__ = ["COPY_SUFFIX", "XlsxTable"]

log = logging.getLogger(__name__)

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass
class _Shape:
    """What calamine saw of a sheet, for laying out writes."""

    name: str
    worksheet: bool
    cells: dict[int, object]  # {column: value} of the header row's cells that hold something
    merged: list[CellRange]
    filled: tuple[int, int] | None = None  # first and last row holding a value


class XlsxTable:
    """A worksheet of an .xlsx/.xlsm workbook as a ``Table`` (see ``base.Table``).

    ``worksheet=None`` means the first visible worksheet.  ``header_row`` is the 1-based row
    number of the header, as the user sees it in Excel.
    """

    def __init__(self, path: str | os.PathLike[str], worksheet: str | None = None, header_row: int = 1,
                 *, written_as: str | None = None) -> None:
        self.path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise ConfigError(f"The header row for {self.path.name} must be a row number (1 or more), not {header_row!r}.")
        self.worksheet = worksheet
        self.header_row = header_row
        self.location = self._location(worksheet)  # for messages: "contacts.xlsx, sheet 'Contacts'"
        self._file = WorkbookFile(self.path, written_as)
        self._sheet: str | None = None  # the real sheet name, once resolved
        self._fingerprint: tuple[int, int] | None = None
        self._shape: _Shape | None = None  # of the contacts sheet, from read()
        self._results: tuple[SheetWrites, HeaderRow, list[CellRange]] | None = None
        self._tabs: dict[str, _Shape | None] = {}  # other tabs by header_key(title); None: no such tab
        self._appends: dict[str, TabAppend] = {}  # by header_key(title)

    def _location(self, sheet: str | None) -> str:
        return f"{self.path.name}, sheet '{sheet}'" if sheet else self.path.name

    def __repr__(self) -> str:
        return f"XlsxTable({str(self.path)!r}, worksheet={self.worksheet!r}, header_row={self.header_row})"

    def check_writable(self) -> None:
        """Raise SourceError now if the results could not be saved later (see ``base.Table``)."""
        self._file.check_writable()

    # ---- reading

    def read(self) -> TableData:
        """Header and all rows below it (see ``base.Table.read``)."""
        self._file.check()
        fingerprint = self._file.fingerprint()
        with self._open_calamine() as wb:
            sheet = self._contacts_sheet(wb)
            data, top, lead, merged = self._load(sheet)
        self._fingerprint = fingerprint
        h = self.header_row - 1 - top
        raw = data[h] if 0 <= h < len(data) else []
        self._shape = _Shape(sheet.name, True, _cells_of(raw, lead), merged)
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
                for i, values in enumerate(_calamine_rows(data[h + 1:], len(cells), lead))]
        while rows and all(v is None for v in rows[-1].values):
            rows.pop()
        return TableData(header=header, header_row=self.header_row, rows=rows, location=self.location)

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
            rows = [list(r) + [None] * (len(header) - len(r)) for r in _calamine_rows(data[1:], len(cells), lead)]
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
            return CalamineWorkbook.from_path(str(self._file.target))
        except python_calamine.PasswordError:
            raise SourceError(f"{self.path.name} is protected with a password, so this tool cannot open it. "
                              "Remove the password or save an unprotected copy.") from None
        except (python_calamine.CalamineError, OSError, ValueError) as e:
            raise SourceError(self._file.damaged(str(e))) from None

    def _contacts_sheet(self, wb: CalamineWorkbook) -> CalamineSheet:
        meta = wb.sheets_metadata
        names = [m.name for m in meta]
        worksheets = [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible] \
            or [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet]
        self._sheet = self._resolve_sheet(self.worksheet, names, worksheets)
        self.location = self._location(self._sheet)
        try:
            return wb.get_sheet_by_name(self._sheet)
        except python_calamine.CalamineError as e:
            raise SourceError(self._file.damaged(f"sheet '{self._sheet}': {e}")) from None

    def _resolve_sheet(self, wanted: str | None, names: Sequence[str], worksheets: Sequence[str]) -> str:
        if wanted is None:
            if not worksheets:
                raise SourceError(f"{self.path.name} has no worksheets with cells (only chart sheets).")
            return worksheets[0]
        if wanted in names:
            return wanted
        loose = [n for n in names if header_key(n) == header_key(wanted)]
        if len(loose) == 1:
            return loose[0]
        listed = ", ".join(f"'{n}'" for n in names)
        close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.4) or \
            difflib.get_close_matches(header_key(wanted), [header_key(n) for n in names], n=1, cutoff=0.4)
        hint = ""
        if close:
            match = next((n for n in names if n == close[0] or header_key(n) == close[0]), close[0])
            hint = f" Did you mean '{match}'?"
        raise WorksheetNotFound(f"{self.path.name} has no sheet named '{wanted}'. Its sheets are: {listed}.{hint}")

    def _load(self, sheet: CalamineSheet) -> tuple[list[list[Any]], int, int, list[CellRange]]:
        """(rows from the first non-empty one, its row index, the first non-empty column's index, merged cells)."""
        try:
            # skip_empty_area (the default): calamine starts at the first non-empty row/column;
            # sheet.start tells where that is, so row numbers stay the ones users see.
            data = sheet.to_python()
            top, lead = sheet.start or (0, 0)
            merged = [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []]
        except python_calamine.CalamineError as e:
            raise SourceError(self._file.damaged(f"sheet '{sheet.name}': {e}")) from None
        return data, top, lead, merged

    def _load_tab(self, wb: CalamineWorkbook, tab: str) -> tuple[_Shape | None, list[list[Any]], int]:
        """Another tab: its shape (kept for ``append_rows``), its rows from its first non-empty
        one and the first non-empty column's index."""
        meta = {m.name: m for m in wb.sheets_metadata}
        name = find_tab(list(meta), tab)
        shape: _Shape | None = None
        data: list[list[Any]] = []
        lead = 0
        if name is not None:
            if meta[name].typ != SheetTypeEnum.WorkSheet:
                shape = _Shape(name, False, {}, [])
            else:
                data, top, lead, merged = self._load(wb.get_sheet_by_name(name))
                last = next((i for i in range(len(data) - 1, -1, -1) if any(v != "" for v in data[i])), None)
                data = data[: last + 1] if last is not None else []
                filled = (top + 1, top + len(data)) if data else None
                shape = _Shape(name, True, _cells_of(data[0], lead) if data else {}, merged, filled)
        self._tabs[header_key(tab)] = shape
        return shape, data, lead

    # ---- buffered writes

    def set_columns(
        self, columns: Mapping[str, Mapping[RowRef, CellValue]], identify: RowIdentifier | None = None
    ) -> list[Unplaced]:
        """Buffer values for named columns: {header: {row ref: value}} (see ``base.Table``).

        Placed by ``ref.number``: nothing can move a file's rows while the connector holds it,
        so ``identify`` is not needed.  A result whose cell is inside merged cells (other than
        their first cell, the one that shows) is not written and comes back as ``Unplaced``.
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
        writes, header, merged = self._result_layout()
        unplaced: list[Unplaced] = []
        for title, by_row, cells in numbered:
            col = header.place(title, writes)
            buffered = writes.columns.setdefault(col, {})
            hiding = [m for m in merged if m[1] <= col <= m[3]]
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

    def _result_layout(self) -> tuple[SheetWrites, HeaderRow, list[CellRange]]:
        if self._results is None:
            shape = self._shape
            if shape is None:  # set_columns before read(): look at the header row now
                self._file.check()
                with self._open_calamine() as wb:
                    sheet = self._contacts_sheet(wb)
                    data, top, lead, merged = self._load(sheet)
                h = self.header_row - 1 - top
                shape = _Shape(sheet.name, True, _cells_of(data[h] if 0 <= h < len(data) else [], lead), merged)
            self._results = (SheetWrites(shape.name), HeaderRow(self.header_row, shape.cells, shape.merged), shape.merged)
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
        batch: list[list[CellValue]] = []
        for r in rows:
            if len(r) > len(head):
                raise ValueError(f"a row has {len(r)} values for {len(head)} headers")
            batch.append(list(r) + [None] * (len(head) - len(r)))
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
            self._appends[key] = pending
        pending.append(head, batch)
        return len(batch)

    def _not_the_contacts_sheet(self, title: str) -> ConfigError:
        return ConfigError(f"The tab for new rows cannot be the contacts sheet '{title}' itself. "
                           "Choose another tab name in your settings.")

    # ---- saving

    def save(self) -> SaveReport:
        """Apply the buffered writes atomically (see the module docstring)."""
        writes = [w for w in (self._results[0] if self._results else None, *(a.writes for a in self._appends.values()))
                  if w is not None and not w.is_empty()]
        if not writes:
            return SaveReport(path=str(self.path))
        content_type = self._file.check()
        message = self._file.lock_message()
        if message:
            raise SourceError(message)
        self._file.check_unchanged(self._fingerprint)
        try:
            before = take_inventory(self._file.target)
        except PackageError as e:
            raise SourceError(self._file.damaged(str(e))) from None
        if self._results:
            self._results[0].fit_new_columns()
        tmp = self._file.temp_path()
        try:
            allowed = self._write(tmp, writes, before, content_type)
            lost = self._verify(tmp, before, allowed)
            self._file.adopt_permissions(tmp)
            if lost:
                copy = self._file.keep_as_copy(tmp)
                report = SaveReport(path=str(copy), is_copy=True, lost=lost, message=(
                    f"Your workbook {self.path.name} has {', '.join(lost)}, which this tool cannot keep when it saves. "
                    f"Your original file was not changed; the results are in {copy}."
                ))
            else:
                self._file.replace_with(tmp)
                report = SaveReport(path=str(self.path))
        except OSError as e:
            _remove_quietly(tmp)
            raise SourceError(
                f"Could not save {self.path.name}: {e.strerror or e}. Your file was not changed; "
                "free some disk space or check the folder, and run again."
            ) from e
        except BaseException:
            _remove_quietly(tmp)
            raise
        # the file is a new one: what was seen of it, and the writes, are done with
        self._fingerprint = self._shape = self._results = None
        self._tabs.clear()
        self._appends.clear()
        return report

    def _write(self, tmp: Path, writes: list[SheetWrites], before: Inventory, content_type: str) -> dict[tuple[str, str], int]:
        """Write the new workbook to ``tmp`` with the fast writer, else with openpyxl.  Returns
        what the writes themselves remove (formula cells overwritten), for ``find_losses``."""
        from . import openpyxl_writer, patch  # openpyxl takes a while to import: only a save needs it

        src = self._file.target
        try:
            recalc = any(what == "formula" and bag for (_where, what), bag in before.features.items())
            patch.write_patched(src, tmp, writes, recalc=recalc)
            return {}
        except patch.Unsupported as e:
            log.info("%s: writing the results with openpyxl (slower) because %s", self.path.name, e)
        except (SourceError, OSError):
            raise  # the file or the disk: openpyxl would meet the same
        except Exception as e:
            log.warning("%s: the fast writer failed (%s: %s); writing the results with openpyxl instead",
                        self.path.name, type(e).__name__, e)
            log.debug("the fast writer's failure", exc_info=True)
        return openpyxl_writer.write_with_openpyxl(src, tmp, writes, keep_vba=content_type in MACRO_MAIN_TYPES,
                                                   template=content_type in TEMPLATE_MAIN_TYPES)

    def _verify(self, tmp: Path, before: Inventory, allowed: Mapping[tuple[str, str], int]) -> list[str]:
        """Check the new file is a sound workbook; return what it lost compared to the original."""
        try:
            with zipfile.ZipFile(tmp) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise PackageError(f"part {bad} is corrupt")
                check_package(zf)
                after = take_inventory(zf)
            with CalamineWorkbook.from_path(str(tmp)) as wb:
                if wb.sheet_names[: len(before.sheets)] != before.sheets:
                    raise PackageError("the sheets do not match the original")
        except (PackageError, zipfile.BadZipFile, python_calamine.CalamineError, OSError) as e:
            raise SourceError(
                f"Saving {self.path.name} produced a file that did not pass the safety check ({e}), so your file was "
                "NOT changed and the results were not written. Please report this with a copy of the workbook if you can."
            ) from None
        return find_losses(before, after, allowed)


def _cells_of(row: Sequence[Any], lead: int) -> dict[int, object]:
    """{column: value} of a calamine row's cells that hold something."""
    return {lead + i + 1: v for i, v in enumerate(row) if v is not None and v != ""}


def _calamine_rows(rows: list[list[Any]], width: int, lead: int) -> Iterator[tuple[CellValue, ...]]:
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
