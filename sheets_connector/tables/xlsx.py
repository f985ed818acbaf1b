"""The .xlsx source: read a workbook fast, write results back into it without losing anything.

Reading uses python-calamine (Rust): about 1.2 s for 100,000 rows x 10 columns here, where
openpyxl needs ~20-30 s.  It returns the values formulas had when the file was last saved.

Measured on this machine for 100,000 rows x 10 columns (a results column of 100k cells):
``read()`` 1.2 s, ``check_writable()`` 0.05 s, ``save()`` a few seconds with the in-zip patch
(see ``xlsx_patch``), 26 s when it falls back to openpyxl, of which openpyxl's
``load_workbook`` + ``save`` are ~95%; the checks around the writer (inventory of both files,
zip CRC test) take ~1.5 s.

Writing is buffered (``set_columns``, ``append_rows``) and applied once by ``save()``:

1. The file is checked again (still an .xlsx, not locked, not changed since ``read()``).
2. ``_write_workbook`` writes the new workbook to a temporary file in the same folder, fsynced,
   choosing the writer in one place:
   - ``xlsx_patch.write_patched`` patches the results into the sheet XML inside the zip and
     copies every other part unchanged, so nothing can be lost and a 100k-row sheet takes
     seconds;
   - where the patch does not apply (it says why: a formula or merged cells where a result
     goes, a table around the new column, namespace prefixes, ...), ``_write_with_openpyxl``
     loads the workbook with openpyxl (formulas kept, not values), applies the writes and
     saves (~29 s load + ~26 s save for 100k rows).
3. Whichever writer ran, the temporary file is verified (a complete zip, every part typed,
   every relationship resolvable, openable by calamine) and its inventory (``xlsx_inventory``)
   is compared with the original's.  What openpyxl dropped and can be put back cheaply
   (custom document properties, custom XML parts, the thumbnail) is grafted back from the
   original and checked again.
4. Nothing lost: the original's permission bits are applied and ``os.replace`` swaps the file
   in atomically.  Something still lost: the original is left untouched and the results go to
   ``<stem> (with sync results)<ext>`` next to it, with a plain-words report.

A crash at any point leaves the old file or the new one, never a half-written file; the
temporary file is removed on every error path.
"""
from __future__ import annotations

import copy as _copy
import datetime as _dt
import difflib
import io
import logging
import os
import posixpath
import re
import stat
import struct
import tempfile
import threading
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence
from xml.sax.saxutils import escape as xml_escape

import olefile
import python_calamine
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from ..errors import ConfigError, SourceError, WorksheetNotFound
from ..fsutil import fsync_dir
from ..normalize import header_key
from .base import CellValue, RowIdentifier, RowRef, SaveReport, SourceRow, TableData, Unplaced
from .office_locks import lock_file_message, refused_message
from .xlsx_inventory import (
    Inventory,
    InventoryError,
    Package,
    check_package,
    find_losses,
    rels_part_for,
    sheet_parts,
    take_inventory,
)

__all__ = ["XlsxTable", "COPY_SUFFIX"]

log = logging.getLogger(__name__)

COPY_SUFFIX = " (with sync results)"
SUPPORTED_EXTENSIONS = (".xlsx", ".xlsm", ".xltx", ".xltm")
_MACRO_MAIN_TYPES = {
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
_TEMPLATE_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
}
_EXCEL_MAX_TEXT = 32767
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _header_text(value: object) -> str:
    """A header cell as text: 2024.0 -> "2024", a date -> "2024-01-31", blank -> ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


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


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --------------------------------------------------------------------------------------------
# Pictures without Pillow
#
# openpyxl needs Pillow to read pictures and silently drops them without it (and with it, it
# re-encodes BMP/TIFF as PNG and drops WMF).  While we load a workbook we hand openpyxl this
# class instead: it keeps the picture's bytes exactly and only sniffs the format and size.


_IMAGE_CLASS_LOCK = threading.Lock()
_RAW_IMAGE_CLASS: type | None = None


def _sniff_image(data: bytes) -> tuple[str, int, int]:
    """(format, width px, height px) of a picture; raises OSError for a format we can't keep."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return "png", w, h
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return "gif", w, h
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5: i + 9])
                return "jpeg", w, h
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            i += 2 + struct.unpack(">H", data[i + 2: i + 4])[0]
        return "jpeg", 0, 0
    if data[:2] == b"BM" and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return "bmp", w, abs(h)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff", 0, 0
    if data[:4] == b"\x01\x00\x00\x00" and data[40:44] == b" EMF":
        return "emf", 0, 0
    raise OSError("picture format not supported")


def raw_image_class() -> type:
    """openpyxl ``Image`` subclass that keeps a picture's bytes as they are (no Pillow)."""
    global _RAW_IMAGE_CLASS
    if _RAW_IMAGE_CLASS is None:
        from openpyxl.drawing.image import Image

        class RawImage(Image):
            """A picture kept byte for byte."""

            def __init__(self, img: Any) -> None:  # noqa: D107 - same signature as Image
                data = img.read() if hasattr(img, "read") else bytes(img)
                self.ref = data
                self.format, self.width, self.height = _sniff_image(data)

            def _data(self) -> bytes:
                return self.ref

        _RAW_IMAGE_CLASS = RawImage
    return _RAW_IMAGE_CLASS


@contextmanager
def _pictures_kept() -> Iterator[None]:
    import openpyxl.reader.drawings as drawings

    with _IMAGE_CLASS_LOCK:
        saved = drawings.Image, drawings.PILImage
        drawings.Image, drawings.PILImage = raw_image_class(), True
        try:
            yield
        finally:
            drawings.Image, drawings.PILImage = saved


# --------------------------------------------------------------------------------------------
# The table


@dataclass
class _PendingAppend:
    title: str
    batches: list[tuple[list[str], list[list[CellValue]]]] = field(default_factory=list)


class XlsxTable:
    """A worksheet of an .xlsx/.xlsm workbook as a ``Table`` (see ``base.Table``).

    ``worksheet=None`` means the first visible worksheet.  ``header_row`` is the 1-based row
    number of the header, as the user sees it in Excel.
    """

    def __init__(self, path: str | os.PathLike[str], worksheet: str | None = None, header_row: int = 1,
                 *, written_as: str | None = None) -> None:
        self.path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        self.written_as = written_as  # the path as the user wrote it in the mapping, for messages
        # Writes go to the real file behind a symlink, so the link stays a link.
        self._target = Path(os.path.realpath(self.path))
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise ConfigError(f"The header row for {self.path.name} must be a row number (1 or more), not {header_row!r}.")
        self.worksheet = worksheet
        self.header_row = header_row
        self._sheet: str | None = None  # the real sheet name, once resolved
        self._columns: dict[str, tuple[str, dict[int, CellValue]]] = {}
        self._appends: dict[str, _PendingAppend] = {}
        self._fingerprint: tuple[int, int] | None = None
        self._writer: str | None = None  # which writer the last save() used: "patch" or "openpyxl"

    # ---- names and messages

    @property
    def location(self) -> str:
        sheet = self._sheet or self.worksheet
        return f"{self.path.name}, sheet '{sheet}'" if sheet else self.path.name

    def __repr__(self) -> str:
        return f"XlsxTable({str(self.path)!r}, worksheet={self.worksheet!r}, header_row={self.header_row})"

    # ---- the file itself

    def _check_file(self) -> str:
        """Check up front that the path is a readable .xlsx; return its main content type."""
        path, name = self.path, self.path.name
        try:
            st = os.stat(self._target)
        except FileNotFoundError:
            raise SourceError(self._not_found_message()) from None
        except PermissionError:
            raise SourceError(f"This tool is not allowed to read {path}. Check the file's permissions (or ask whoever manages the computer).") from None
        if stat.S_ISDIR(st.st_mode):
            raise SourceError(f"{path} is a folder, not a spreadsheet file. Point the settings at the .xlsx file inside it.")
        if st.st_size == 0:
            raise SourceError(f"{path} is empty (0 bytes), so it is not a usable workbook. Save the spreadsheet again from Excel or LibreOffice as Excel Workbook (.xlsx).")
        try:
            with open(self._target, "rb") as fh:
                head = fh.read(512)
        except PermissionError:
            raise SourceError(f"This tool is not allowed to read {path}. If the file is open in another program, close it; otherwise check the file's permissions.") from None
        except OSError as e:
            raise SourceError(f"Cannot read {path}: {e.strerror or e}.") from None

        save_as = "Open it in Excel or LibreOffice and use File > Save As > Excel Workbook (.xlsx), then point the settings at the new file."
        if head.startswith(olefile.MAGIC):
            self._check_ole(save_as)
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            ext = path.suffix.lower()
            sniff = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
            if sniff.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in sniff[:300]:
                what = "a web page (HTML) with a spreadsheet's name"
            elif sniff.startswith(b"<?xml"):
                what = "an XML file (perhaps 'XML Spreadsheet 2003'), not an .xlsx workbook"
            elif ext == ".csv" or (b"\x00" not in head and (b"," in head or b";" in head or b"\t" in head)):
                what = "a text (CSV) file, not an Excel workbook" + (" - even though its name ends in " + ext if ext in SUPPORTED_EXTENSIONS else "")
            else:
                what = "not an Excel workbook"
            raise SourceError(f"{name} is {what}. {save_as}")
        try:
            zf = zipfile.ZipFile(self._target)
        except zipfile.BadZipFile as e:
            raise SourceError(self._damaged_message(str(e))) from None
        with zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mime = zf.read("mimetype").decode("ascii", "replace").strip()
                if "opendocument.spreadsheet" in mime:
                    raise SourceError(f"{name} is an OpenDocument spreadsheet (.ods), not an .xlsx workbook. {save_as}")
                raise SourceError(f"{name} is an OpenDocument file ({mime}), not an Excel workbook. {save_as}")
            if "xl/workbook.bin" in names:
                raise SourceError(f"{name} is an Excel Binary Workbook (.xlsb), which this tool cannot read. {save_as}")
            if "word/document.xml" in names or "ppt/presentation.xml" in names:
                kind = "a Word document" if "word/document.xml" in names else "a PowerPoint presentation"
                raise SourceError(f"{name} is {kind}, not an Excel workbook. Point the settings at your contacts spreadsheet (.xlsx).")
            try:
                pkg = Package(zf)
                main = next((t for _i, k, t in pkg.rels("") if k == "officeDocument"), None)
                if not main or not pkg.has(main):
                    raise InventoryError("no workbook part")
                content_type = pkg.content_type(main) or ""
                bad = zf.testzip() if st.st_size < 50_000_000 else None  # CRC check; skipped for huge files (read() will notice)
            except (InventoryError, zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise SourceError(self._damaged_message(str(e))) from None
            if bad is not None:
                raise SourceError(self._damaged_message(f"part {bad} is corrupt"))
            if "spreadsheetml" not in content_type and "ms-excel" not in content_type:
                raise SourceError(f"{name} is an Office file but not an Excel workbook. Point the settings at your contacts spreadsheet (.xlsx).")
        return content_type

    def _check_ole(self, save_as: str) -> None:
        name = self.path.name
        try:
            with olefile.OleFileIO(str(self._target)) as ole:
                streams = {"/".join(s).lower() for s in ole.listdir(streams=True, storages=True)}
        except OSError:
            raise SourceError(f"{name} is not an .xlsx workbook (it is an old-style Office file that cannot be read). {save_as}") from None
        if "encryptedpackage" in streams:
            raise SourceError(
                f"{name} is protected with a password, so this tool cannot open it. "
                "Remove the password: in Excel, open the file, choose File > Info > Protect Workbook > "
                "Encrypt with Password, clear the password and save; in LibreOffice, choose File > Save As "
                "and untick 'Save with password'. Or save an unprotected copy and point the settings at it."
            )
        if "workbook" in streams or "book" in streams:
            raise SourceError(f"{name} is an old-style Excel 97-2003 workbook (.xls), which this tool cannot read. {save_as}")
        raise SourceError(f"{name} is an old-style Office file, not an .xlsx workbook. {save_as}")

    def _damaged_message(self, detail: str) -> str:
        return (f"{self.path.name} is damaged: it is not a complete .xlsx file ({detail}). "
                "If it was copied or downloaded, copy it again; otherwise open it in Excel (which can often "
                "repair it) or LibreOffice and save it again as Excel Workbook (.xlsx).")

    def _not_found_message(self) -> str:
        folder = self.path.parent
        written = f"{self.written_as} (looked for {self.path})" if self.written_as and self.written_as != str(self.path) else ""
        msg = f"Cannot find the spreadsheet {written or self.path}."
        if not folder.is_dir():
            return msg + f" The folder {folder} does not exist either. Check the path in your settings."
        try:
            found = sorted(p.name for p in folder.iterdir()
                           if p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith(("~$", ".~lock.")))
        except OSError:
            found = []
        if found:
            shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
            return msg + f" The folder {folder} has these Excel files: {shown}. Check the file name in your settings."
        return msg + f" The folder {folder} has no .xlsx files. Check the path in your settings."

    def _lock_message(self) -> str | None:
        """The message for a lock file left by LibreOffice or Excel next to the file, if any."""
        return lock_file_message(self.path)

    def check_writable(self) -> None:
        """Raise SourceError now if the results could not be saved later (see ``base.Table``)."""
        self._check_file()
        message = self._lock_message()
        if message:
            raise SourceError(f"{message} Nothing was sent to inwise.")
        try:
            os.close(os.open(self._target, os.O_RDWR | getattr(os, "O_BINARY", 0)))  # opened for writing, nothing written
        except PermissionError:  # read-only, or (Windows) held open by Excel even without a ~$ file
            raise SourceError(f"{refused_message(self.path, saving=False)} Nothing was sent to inwise.") from None
        folder = self._target.parent
        try:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".sheets-connector-", suffix=".probe")
            os.close(fd)
            os.unlink(probe)
        except PermissionError:
            raise SourceError(
                f"This tool cannot create files in the folder {folder}, which it needs to save {self.path.name} safely "
                "(it writes a new copy next to it, then swaps it in). Make the folder writable, or move the file to a folder you can write to, and run again."
            ) from None
        except OSError as e:
            raise SourceError(f"Cannot write in the folder {folder}: {e.strerror or e}.") from None

    # ---- reading

    def _open_calamine(self) -> CalamineWorkbook:
        try:
            return CalamineWorkbook.from_path(str(self._target))
        except python_calamine.PasswordError:
            raise SourceError(f"{self.path.name} is protected with a password, so this tool cannot open it. Remove the password or save an unprotected copy.") from None
        except (python_calamine.CalamineError, OSError, ValueError) as e:
            raise SourceError(self._damaged_message(str(e))) from None

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

    def read(self) -> TableData:
        """Header and all rows below it (see ``base.Table.read``)."""
        self._check_file()
        st = os.stat(self._target)
        with self._open_calamine() as wb:
            meta = wb.sheets_metadata
            names = [m.name for m in meta]
            worksheets = [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible] \
                or [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet]
            self._sheet = self._resolve_sheet(self.worksheet, names, worksheets)
            try:
                sheet = wb.get_sheet_by_name(self._sheet)
                # skip_empty_area=True: calamine starts at the first non-empty row/column;
                # sheet.start tells where that is, so row numbers stay the ones users see.
                data = sheet.to_python()
                start = sheet.start
            except python_calamine.CalamineError as e:
                raise SourceError(self._damaged_message(f"sheet '{self._sheet}': {e}")) from None
        self._fingerprint = (st.st_size, st.st_mtime_ns)

        top, lead = start if start else (0, 0)
        h = self.header_row - 1 - top
        cells = [_header_text(v) for v in data[h]] if 0 <= h < len(data) else []
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
        self._check_file()
        header: list[str] = []
        rows: list[list[CellValue]] = []
        found = False
        with self._open_calamine() as wb:
            names = wb.sheet_names
            name = tab if tab in names else next((n for n in names if header_key(n) == header_key(tab)), None)
            if name is not None:
                found = True
                sheet = wb.get_sheet_by_name(name)
                data, start = sheet.to_python(), sheet.start
                if data and start:
                    top, lead = start
                    cells = [_header_text(v) for v in data[0]]
                    while cells and not cells[-1].strip():
                        cells.pop()
                    header = [""] * lead + cells  # as in read(): cells right of the header are ignored
                    rows = [list(r) + [None] * (len(header) - len(r)) for r in _calamine_rows(data[1:], len(cells), lead)]
                    while rows and all(v is None for v in rows[-1]):
                        rows.pop()
        pending = self._appends.get(header_key(tab))
        if pending:
            found = True
            for batch_header, batch_rows in pending.batches:
                index = {header_key(hd): i for i, hd in enumerate(header) if header_key(hd)}
                for hd in batch_header:
                    if header_key(hd) not in index:
                        index[header_key(hd)] = len(header)
                        header.append(str(hd))
                for r in rows:
                    r.extend([None] * (len(header) - len(r)))
                for values in batch_rows:
                    row: list[CellValue] = [None] * len(header)
                    for hd, v in zip(batch_header, values):
                        row[index[header_key(hd)]] = v
                    rows.append(row)
        return (header, rows) if found else None

    # ---- buffered writes

    def set_columns(self, columns: Mapping[str, Mapping[RowRef, CellValue]],
                    identify: RowIdentifier | None = None) -> list[Unplaced]:
        """Buffer values for named columns: {header: {row ref: value}}, placed by row number
        (nothing can move a file's rows during a run; see ``base.Table``)."""
        for header, by_ref in columns.items():
            cells = {getattr(ref, "number", ref): v for ref, v in by_ref.items()}
            if not str(header).strip():
                raise ValueError("set_columns needs a non-blank header")
            for row in cells:
                if isinstance(row, bool) or not isinstance(row, int) or row <= self.header_row:
                    raise ValueError(f"row {row!r} is not a data row below header row {self.header_row}")
            key = header_key(header)
            title, buffered = self._columns.setdefault(key, (str(header).strip(), {}))
            buffered.update(cells)
        return []

    def append_rows(self, tab: str, header: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> int:
        """Buffer rows for another tab (see ``base.Table.append_rows``).  Returns rows appended."""
        title = str(tab).strip()
        if not title or len(title) > 31 or _INVALID_SHEET_CHARS.search(title) or title.startswith("'") or title.endswith("'"):
            raise ConfigError(
                f"'{tab}' cannot be the name of a tab in an Excel workbook: it must be 1 to 31 characters, "
                "without [ ] : * ? / \\ and not starting or ending with an apostrophe. Change the tab name in your settings."
            )
        if header_key(title) == header_key(self._sheet or self.worksheet or "\0"):
            raise ConfigError(f"The tab for new rows cannot be the contacts sheet '{title}' itself. Choose another tab name in your settings.")
        head = [str(h) for h in header]
        if len({header_key(h) for h in head}) != len(head) or any(not h.strip() for h in head):
            raise ValueError(f"append_rows needs distinct, non-blank headers, got {head!r}")
        batch: list[list[CellValue]] = []
        for r in rows:
            if len(r) > len(head):
                raise ValueError(f"a row has {len(r)} values for {len(head)} headers")
            batch.append(list(r) + [None] * (len(head) - len(r)))
        pending = self._appends.setdefault(header_key(title), _PendingAppend(title))
        pending.batches.append((head, batch))
        return len(batch)

    # ---- saving

    def save(self) -> SaveReport:
        """Apply the buffered writes atomically (see the module docstring)."""
        if not self._columns and not self._appends:
            return SaveReport(path=str(self.path))
        content_type = self._check_file()
        message = self._lock_message()
        if message:
            raise SourceError(message)
        st = os.stat(self._target)
        if self._fingerprint and self._fingerprint != (st.st_size, st.st_mtime_ns):
            raise SourceError(
                f"{self.path.name} was changed by someone else while the sync ran, so the results were NOT written "
                "(they could land on the wrong rows). The contacts were sent to inwise; run the sync again to write the results."
            )
        try:
            before = take_inventory(self._target)
        except InventoryError as e:
            raise SourceError(self._damaged_message(str(e))) from None

        tmp = self._temp_path()
        try:
            allowed, self._writer = _write_workbook(
                self._target, tmp, sheet=self._sheet, worksheet=self.worksheet, header_row=self.header_row,
                columns=list(self._columns.values()), appends=list(self._appends.values()),
                keep_vba=content_type in _MACRO_MAIN_TYPES, template=content_type in _TEMPLATE_MAIN_TYPES,
                resolve_sheet=self._resolve_sheet,
                recalc=any(what == "formula" and bag for (_w, what), bag in before.features.items()),
            )
            lost = self._verify(tmp, before, allowed)
            if lost:
                if _repair(tmp, self._target, before):
                    lost = self._verify(tmp, before, allowed)
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except (OSError, AttributeError):
                pass  # only possible as root/owner; the mode bits are what matters
            if lost:
                copy = self._move_to_copy(tmp)
                report = SaveReport(path=str(copy), is_copy=True, lost=lost, message=(
                    f"Your workbook {self.path.name} has {', '.join(lost)}, which this tool cannot keep when it saves. "
                    f"Your original file was not changed; the results are in {copy}."
                ))
            else:
                try:
                    os.replace(tmp, self._target)
                except PermissionError:  # Windows: Excel opened the workbook while the sync ran
                    raise SourceError(f"{refused_message(self.path, saving=True)} Your file was not changed.") from None
                fsync_dir(self._target.parent)
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
        self._columns.clear()
        self._appends.clear()
        self._fingerprint = None
        return report

    def _temp_path(self) -> Path:
        try:
            fd, name = tempfile.mkstemp(dir=self._target.parent, prefix=f".{self._target.stem}.", suffix=".sheets-connector.tmp")
        except PermissionError:
            raise SourceError(f"This tool cannot create files in the folder {self._target.parent}, which it needs to save {self.path.name} safely. Make the folder writable and run again.") from None
        os.close(fd)
        return Path(name)

    def _verify(self, tmp: Path, before: Inventory, allowed: Mapping[tuple[str, str], int]) -> list[str]:
        """Check the new file is a sound workbook; return what it lost compared to the original."""
        try:
            with zipfile.ZipFile(tmp) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise InventoryError(f"part {bad} is corrupt")
                check_package(zf)
                after = take_inventory(zf)
            with CalamineWorkbook.from_path(str(tmp)) as wb:
                if wb.sheet_names[: len(before.sheets)] != before.sheets:
                    raise InventoryError("the sheets do not match the original")
        except (InventoryError, zipfile.BadZipFile, python_calamine.CalamineError, OSError) as e:
            raise SourceError(
                f"Saving {self.path.name} produced a file that did not pass the safety check ({e}), so your file was "
                "NOT changed and the results were not written. Please report this with a copy of the workbook if you can."
            ) from None
        return find_losses(before, after, allowed)

    def _move_to_copy(self, tmp: Path) -> Path:
        folder, stem, ext = self.path.parent, self.path.stem, self.path.suffix
        for n in range(1, 1000):
            candidate = folder / f"{stem}{COPY_SUFFIX}{'' if n == 1 else f' {n}'}{ext}"
            try:
                os.link(tmp, candidate)  # never overwrites: fails if the name is taken
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system
                if candidate.exists():
                    continue
                os.replace(tmp, candidate)
                fsync_dir(folder)
                return candidate
            os.unlink(tmp)
            fsync_dir(folder)
            return candidate
        raise SourceError(f"Could not find a free name for the results copy next to {self.path}; tidy up the old copies and run again.")


# --------------------------------------------------------------------------------------------
# Choosing the writer


def _write_workbook(
    src: Path, dst: Path, *, sheet: str | None, worksheet: str | None, header_row: int,
    columns: list[tuple[str, dict[int, CellValue]]], appends: list[_PendingAppend],
    keep_vba: bool, template: bool, resolve_sheet: Callable[[str | None, Sequence[str], Sequence[str]], str],
    recalc: bool = False,
) -> tuple[dict[tuple[str, str], int], str]:
    """Write ``src`` with the buffered writes to ``dst``: by patching the sheet XML inside the
    zip (``xlsx_patch``, seconds, keeps every other part byte for byte) where it applies, else
    with openpyxl (``_write_with_openpyxl``).  Returns (``allowed`` losses, the writer used)."""
    from .xlsx_patch import _Unsupported, write_patched

    try:
        write_patched(src, dst, sheet=sheet, worksheet=worksheet, header_row=header_row,
                      columns=columns, appends=appends, resolve_sheet=resolve_sheet, recalc=recalc)
        return {}, "patch"
    except _Unsupported as e:
        log.info("%s: writing the results with openpyxl (slower) because %s", src.name, e.reason)
    except (SourceError, ConfigError, OSError):
        raise  # the file, the settings or the disk: openpyxl would meet the same
    except Exception:  # noqa: BLE001 - a fault in the fast writer must not cost the user the results
        log.warning("%s: the fast writer failed; writing the results with openpyxl instead", src.name, exc_info=True)
    allowed = _write_with_openpyxl(
        src, dst, sheet=sheet, worksheet=worksheet, header_row=header_row, columns=columns, appends=appends,
        keep_vba=keep_vba, template=template, resolve_sheet=resolve_sheet,
    )
    return allowed, "openpyxl"


# --------------------------------------------------------------------------------------------
# Writing with openpyxl (the fallback when the in-zip patch does not apply)


def _cell_value(value: CellValue) -> CellValue:
    """What we put in a cell: text stays text (length-capped, control characters removed),
    numbers/dates as themselves (timezone-aware datetimes as local wall-clock time)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or isinstance(value, (bool, int, float, _dt.date, _dt.time, _dt.timedelta)):
        if isinstance(value, _dt.datetime) and value.tzinfo is not None:
            return value.astimezone().replace(tzinfo=None)
        if isinstance(value, _dt.time) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if len(text) > _EXCEL_MAX_TEXT:
        text = text[: _EXCEL_MAX_TEXT - 1] + "\u2026"
    return text


def _put(cell: Any, value: CellValue) -> None:
    """Write one value; a text starting with "=" stays text, never becomes a formula.

    Where the cell has no number format of its own, dates get a day-first one and long whole
    numbers (contact ids) a plain one, so they never show as ### or 4.39E+08.
    """
    value = _cell_value(value)
    own_format = cell.number_format != "General"  # before openpyxl sets its own for dates
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"  # openpyxl writes data_type "s" as an inline string
    if not own_format:
        if isinstance(value, _dt.datetime):
            cell.number_format = FORMAT_DATETIME
        elif isinstance(value, _dt.date):
            cell.number_format = FORMAT_DATE
        elif is_long_id(value):
            cell.number_format = FORMAT_ID


# How the connector formats and sizes what it writes, for both writers (openpyxl and the
# in-zip patch): dates day-first, contact ids (long whole numbers) as plain digits.
FORMAT_DATETIME = "dd/mm/yyyy hh:mm"
FORMAT_DATE = "dd/mm/yyyy"
FORMAT_ID = "0"


def is_long_id(value: CellValue) -> bool:
    """A whole number General format would show as 4.39E+08."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**7


def _display_width(value: CellValue) -> int:
    if value is None:
        return 0
    if isinstance(value, _dt.datetime):
        return 16
    if isinstance(value, _dt.date):
        return 10
    return len(str(value))


def column_width(header: str, values: Iterable[CellValue]) -> int:
    """Width of a column the connector created: its content, 10..60 characters."""
    widest = max((_display_width(v) for v in values), default=0)
    return max(10, min(60, max(widest, len(header)) + 2))


def _fit_width(ws: Any, col: int, header: str, values: Iterable[CellValue]) -> None:
    from openpyxl.utils import get_column_letter

    ws.column_dimensions[get_column_letter(col)].width = column_width(header, values)


def _header_cells(ws: Any, row: int) -> dict[int, str]:
    """{column: header text} of the non-blank cells in ``row``."""
    out = {}
    for (r, c), cell in ws._cells.items():  # sparse: only cells that exist
        if r == row and cell.value is not None and _header_text(cell.value).strip():
            out[c] = _header_text(cell.value)
    return out


def _new_header(ws: Any, row: int, after: int, title: str, style_from: int | None) -> int:
    """Add header ``title`` in the first free column after ``after``; returns its column."""
    from openpyxl.cell.cell import MergedCell

    col = after + 1
    while isinstance(ws.cell(row=row, column=col), MergedCell) or ws.cell(row=row, column=col).value not in (None, ""):
        col += 1
    cell = ws.cell(row=row, column=col)
    cell.value = title
    cell.data_type = "s"
    if style_from:
        src = ws.cell(row=row, column=style_from)
        cell.font, cell.fill, cell.border, cell.alignment = (
            _copy.copy(src.font), _copy.copy(src.fill), _copy.copy(src.border), _copy.copy(src.alignment))
    else:
        from openpyxl.styles import Font

        cell.font = Font(bold=True)
    return col


def _write_with_openpyxl(
    src: Path, dst: Path, *, sheet: str | None, worksheet: str | None, header_row: int,
    columns: list[tuple[str, dict[int, CellValue]]], appends: list[_PendingAppend],
    keep_vba: bool, template: bool, resolve_sheet: Callable[[str | None, Sequence[str], Sequence[str]], str],
) -> dict[tuple[str, str], int]:
    """Load ``src`` with openpyxl, apply the writes, save to ``dst`` (fsynced).

    Returns the losses the writes themselves cause and that are not losses of the workbook
    (a formula cell the caller asked to overwrite), for ``find_losses(allowed=...)``.
    """
    import openpyxl
    from openpyxl.cell.cell import MergedCell

    allowed: dict[tuple[str, str], int] = {}
    with open(src, "rb") as fh, _pictures_kept(), warnings.catch_warnings():
        # openpyxl warns about what it drops ("Sparkline Group extension is not supported");
        # the inventory check reports those losses to the user in plain words instead.
        warnings.simplefilter("ignore")
        # A file object, so openpyxl does not insist on the extension; rich_text=True keeps
        # bold/coloured words inside cells; keep_vba only for macro workbooks (it also makes
        # openpyxl mark the workbook as macro-enabled).
        try:
            wb = openpyxl.load_workbook(io.BytesIO(fh.read()), keep_vba=keep_vba, rich_text=True, keep_links=True)
        except Exception as e:  # openpyxl raises many kinds on XML it does not understand
            raise SourceError(
                f"{src.name} could be read but not opened for writing ({type(e).__name__}: {e}). "
                "Your file was not changed. Saving it once from Excel or LibreOffice usually fixes this."
            ) from None
    try:
        wb.template = template
        if columns:
            worksheets = [ws.title for ws in wb.worksheets]
            name = sheet or resolve_sheet(worksheet, wb.sheetnames, worksheets)
            ws = wb[name]
            headers = _header_cells(ws, header_row)
            by_name = {}
            for c in sorted(headers):
                by_name.setdefault(header_key(headers[c]), c)
            last = max(headers, default=0)
            skipped = 0
            for title, cells in columns:
                col = by_name.get(header_key(title))
                if col is None:
                    col = _new_header(ws, header_row, last, title, last or None)
                    by_name[header_key(title)] = col
                    last = col
                    _fit_width(ws, col, title, cells.values())
                for row, value in cells.items():
                    cell = ws.cell(row=row, column=col)
                    if isinstance(cell, MergedCell):
                        skipped += 1
                        continue
                    if cell.data_type == "f":
                        allowed[(ws.title, "formula")] = allowed.get((ws.title, "formula"), 0) + 1
                    _put(cell, value)
            if skipped:
                log.warning("%s: %d result cells are inside merged cells and were left as they were", name, skipped)
        for pending in appends:
            _append(wb, pending)
        # openpyxl writes formulas without their last computed values: ask Excel/LibreOffice
        # to recalculate when the file is next opened.
        if wb.calculation is not None:
            wb.calculation.fullCalcOnLoad = True
        with open(dst, "wb") as out:
            wb.save(out)
            out.flush()
            os.fsync(out.fileno())
    finally:
        if getattr(wb, "vba_archive", None) is not None:
            wb.vba_archive.close()
    _restore_formula_values(src, dst)
    return allowed


_FORMULA_TAG = re.compile(rb"<f[\s/>]")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_CELL_TYPE = re.compile(rb'\st="([a-zA-Z]+)"')
_CACHED = re.compile(rb"<v>(.*?)</v>", re.S)
_EMPTY_V = re.compile(rb"<v\s*/>|<v></v>")


def _formula_cells(xml: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(cell reference, start, end) of each <c> element holding a formula.

    Byte search, not XML parsing: a sheet can be tens of megabytes and only its formula cells
    matter here.  Cells written with a namespace prefix (<x:c>) are not found, and so keep
    no cached value, exactly as openpyxl would leave them.
    """
    pos = 0
    while True:
        m = _FORMULA_TAG.search(xml, pos)
        if not m:
            return
        start = xml.rfind(b"<c ", 0, m.start())
        end = xml.find(b"</c>", m.end())
        if start < 0 or end < 0:
            return
        end += 4
        head_end = xml.find(b">", start)
        ref = _CELL_REF.search(xml, start, head_end)
        if ref:
            yield ref.group(1), start, end
        pos = end


def _restore_formula_values(src: Path, dst: Path) -> None:
    """Put back the last computed value of every formula openpyxl kept.

    openpyxl writes formulas without their cached results, so until someone opens and saves
    the file in Excel/LibreOffice every formula cell would read as empty - including in this
    tool's next run.  The writes never change a formula (a formula cell we overwrite is no
    longer a formula), so the original's cached values are still right; the workbook is also
    marked fullCalcOnLoad so Excel recomputes formulas that refer to the results column.
    """
    with zipfile.ZipFile(src) as zo, zipfile.ZipFile(dst) as zn:
        old, new = Package(zo), Package(zn)
        old_parts, new_parts = sheet_parts(old), sheet_parts(new)
        replace: dict[str, bytes] = {}
        for name, old_part in old_parts.items():
            new_part = new_parts.get(name)
            if not new_part or not old.has(old_part) or not new.has(new_part):
                continue
            old_xml = old.read(old_part)
            cached = {}
            for ref, start, end in _formula_cells(old_xml):
                cell = old_xml[start:end]
                value = _CACHED.search(cell)
                if value:
                    typ = _CELL_TYPE.search(cell, 0, cell.find(b">"))
                    cached[ref] = (typ.group(1) if typ else None, value.group(1))
            if not cached:
                continue
            new_xml = new.read(new_part)
            pieces, last = [], 0
            for ref, start, end in _formula_cells(new_xml):
                if ref not in cached:
                    continue
                typ, value = cached[ref]
                cell = new_xml[start:end]
                if _EMPTY_V.search(cell):
                    cell = _EMPTY_V.sub(lambda _m: b"<v>" + value + b"</v>", cell, count=1)
                elif b"<v>" not in cell:
                    cell = cell[:-4] + b"<v>" + value + b"</v></c>"
                else:
                    continue
                if typ and typ != b"n" and not _CELL_TYPE.search(cell, 0, cell.find(b">")):
                    head = cell.find(b">")
                    head -= 1 if cell[head - 1: head] == b"/" else 0
                    cell = cell[:head] + b' t="' + typ + b'"' + cell[head:]
                pieces += [new_xml[last:start], cell]
                last = end
            if pieces:
                replace[new_part] = b"".join(pieces) + new_xml[last:]
    if replace:
        _rewrite_zip(dst, replace, {}, {})


def _append(wb: Any, pending: _PendingAppend) -> None:
    from openpyxl.styles import Font

    ws = next((w for w in wb.worksheets if w.title == pending.title), None) or \
        next((w for w in wb.worksheets if header_key(w.title) == header_key(pending.title)), None)
    created = ws is None
    if ws is None:
        ws = wb.create_sheet(pending.title)
    # The header is the first non-empty row; rows go after the last non-empty row, not after
    # openpyxl's max_row, which also counts rows that are only formatted.
    filled = [r for (r, _c), cell in ws._cells.items() if cell.value is not None and cell.value != ""]
    header_row = min(filled, default=1)
    next_row = max(filled, default=0) + 1
    headers = _header_cells(ws, header_row)
    index = {}
    for c in sorted(headers):
        index.setdefault(header_key(headers[c]), c)
    last = max(headers, default=0)
    for batch_header, rows in pending.batches:
        for h in batch_header:
            if header_key(h) not in index:
                if last:
                    col = _new_header(ws, header_row, last, h, last)
                else:
                    col = 1 if not index else max(index.values()) + 1
                    cell = ws.cell(row=header_row, column=col, value=h)
                    cell.data_type = "s"
                    cell.font = Font(bold=True)
                index[header_key(h)] = last = col
        next_row = max(next_row, header_row + 1)
        cols = [index[header_key(h)] for h in batch_header]
        for values in rows:
            for col, value in zip(cols, values):
                if value is not None:
                    _put(ws.cell(row=next_row, column=col), value)
            next_row += 1
        if created:
            ws.freeze_panes = ws.cell(row=header_row + 1, column=1).coordinate
            for i, (h, col) in enumerate(zip(batch_header, cols)):
                _fit_width(ws, col, h, (r[i] for r in rows[:2000] if i < len(r)))


# --------------------------------------------------------------------------------------------
# Repairs: put back, from the original, parts openpyxl drops that nothing else depends on


_REPAIRABLE = (
    # (source part of the relationship, relationship kind) - "" is the package root
    ("", "custom-properties"),
    ("", "thumbnail"),
    ("", "extensibility"),  # custom ribbon (customUI) of macro workbooks
    ("workbook", "customXml"),
)


def _repair(tmp: Path, original: Path, before: Inventory) -> bool:
    """Graft back into ``tmp`` the self-contained parts openpyxl dropped or rewrote lossily.

    Returns True if anything was changed (the caller verifies again).
    """
    with zipfile.ZipFile(original) as zo, zipfile.ZipFile(tmp) as zn:
        old, new = Package(zo), Package(zn)
        old_main = next(t for _i, k, t in old.rels("") if k == "officeDocument")
        new_main = next(t for _i, k, t in new.rels("") if k == "officeDocument")
        replace: dict[str, bytes] = {}
        add_rels: dict[str, list[tuple[str, str]]] = {}  # rels part -> [(type, target)]
        overrides: dict[str, str] = {}
        for source_key, kind in _REPAIRABLE:
            old_src = "" if source_key == "" else old_main
            new_src = "" if source_key == "" else new_main
            old_rels = [(t, _rel_type(old, old_src, i)) for i, k, t in old.rels(old_src) if k == kind and t]
            if not old_rels:
                continue
            new_targets = [t for _i, k, t in new.rels(new_src) if k == kind and t]
            if kind == "custom-properties":
                # openpyxl rewrites custom properties and drops the types it does not know
                # (vt:i8, vt:lpstr, vt:decimal...): the original part is the right one.
                old_names = before.features.get(("", "custom property"))
                new_inv = take_inventory(zn)
                if new_inv.features.get(("", "custom property")) == old_names and new_targets:
                    continue
                target = new_targets[0] if new_targets else old_rels[0][0]
                replace[target] = old.read(old_rels[0][0])
                overrides[target] = old.content_type(old_rels[0][0]) or ""
                if not new_targets:
                    add_rels.setdefault(_rels_name(new_src), []).append((old_rels[0][1], _relative(new_src, target)))
                continue
            if len(new_targets) >= len(old_rels):
                continue
            for target, rel_type in old_rels:
                if new.has(target) and target in new_targets:
                    continue
                for part in _closure(old, target):
                    if not new.has(part) or part == target:
                        replace[part] = old.read(part)
                        ct = old.content_type(part)
                        if ct and new.content_type(part) != ct:
                            overrides[part] = ct
                add_rels.setdefault(_rels_name(new_src), []).append((rel_type, _relative(new_src, target)))
    if not replace and not add_rels:
        return False
    _rewrite_zip(tmp, replace, add_rels, overrides)
    return True


def _rel_type(pkg: Package, source: str, rid: str) -> str:
    rels_name = "_rels/.rels" if source == "" else rels_part_for(source)
    for el in pkg.xml(rels_name):
        if el.get("Id") == rid:
            return el.get("Type", "")
    return ""


def _rels_name(source: str) -> str:
    return "_rels/.rels" if source == "" else rels_part_for(source)


def _relative(source: str, target: str) -> str:
    if source == "":
        return target
    return posixpath.relpath(target, posixpath.dirname(source))


def _closure(pkg: Package, part: str) -> list[str]:
    """``part``, its .rels and every part it links to, recursively."""
    seen, todo = [], [part]
    while todo:
        p = todo.pop()
        if p in seen or not pkg.has(p):
            continue
        seen.append(p)
        if pkg.has(rels_part_for(p)):
            seen.append(rels_part_for(p))
            todo.extend(t for _i, _k, t in pkg.rels(p) if t)
    return seen


def _rewrite_zip(tmp: Path, replace: dict[str, bytes],
                 add_rels: dict[str, list[tuple[str, str]]], overrides: dict[str, str]) -> None:
    """Rewrite the zip ``tmp`` with parts replaced/added, relationships and content types
    added; written next to it, fsynced, then swapped in (so ``tmp`` is never half-written)."""
    out_path = tmp.with_name(tmp.name + ".repair")
    try:
        with zipfile.ZipFile(tmp) as zn, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as out:
            written = set()
            for info in zn.infolist():
                name = info.filename
                data = replace[name] if name in replace else zn.read(name)
                if name in add_rels:
                    data = _add_relationships(data, add_rels[name])
                if name == "[Content_Types].xml" and overrides:
                    data = _add_overrides(data, overrides)
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                written.add(name.lower())
            for name, data in replace.items():
                if name.lower() not in written:
                    out.writestr(name, data)
                    written.add(name.lower())
            for rels_name, rels in add_rels.items():
                if rels_name.lower() not in written:
                    empty = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                             b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
                    out.writestr(rels_name, _add_relationships(empty, rels))
        with open(out_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(out_path, tmp)
    except BaseException:
        _remove_quietly(out_path)
        raise


def _insert_before_end(data: bytes, root: str, elements: list[str]) -> bytes:
    """Insert XML ``elements`` as the last children of the root element named ``root``.

    Done on the text (not re-serialised) so the rest of the part stays byte for byte."""
    text = data.decode("utf-8")
    added = "".join(elements)
    closing = re.search(rf"</(?:[\w.-]+:)?{root}\s*>\s*$", text)
    if closing:
        return (text[: closing.start()] + added + text[closing.start():]).encode("utf-8")
    empty = re.search(rf"<((?:[\w.-]+:)?{root})\b([^>]*?)/>\s*$", text)
    if not empty:
        raise InventoryError(f"cannot find the end of <{root}>")
    return (text[: empty.start()] + f"<{empty.group(1)}{empty.group(2)}>{added}</{empty.group(1)}>").encode("utf-8")


def _add_relationships(data: bytes, rels: list[tuple[str, str]]) -> bytes:
    ids = set(re.findall(r'\bId="([^"]*)"', data.decode("utf-8")))
    elements, n = [], 1
    for rel_type, target in rels:
        while f"rIdSc{n}" in ids:
            n += 1
        ids.add(f"rIdSc{n}")
        elements.append(f'<Relationship Id="rIdSc{n}" Type="{xml_escape(rel_type, {chr(34): "&quot;"})}" '
                        f'Target="{xml_escape(target, {chr(34): "&quot;"})}"/>')
    return _insert_before_end(data, "Relationships", elements)


def _add_overrides(data: bytes, overrides: dict[str, str]) -> bytes:
    text = data.decode("utf-8")
    elements = []
    for part, ct in overrides.items():
        if not ct:
            continue
        pattern = re.compile(rf'(<Override\b[^>]*\bPartName="/{re.escape(part)}"[^>]*\bContentType=")[^"]*(")', re.IGNORECASE)
        pattern2 = re.compile(rf'(<Override\b[^>]*\bContentType=")[^"]*("[^>]*\bPartName="/{re.escape(part)}")', re.IGNORECASE)
        text, n = pattern.subn(lambda m: m.group(1) + ct + m.group(2), text)
        if not n:
            text, n = pattern2.subn(lambda m: m.group(1) + ct + m.group(2), text)
        if not n:
            elements.append(f'<Override PartName="/{xml_escape(part, {chr(34): "&quot;"})}" ContentType="{ct}"/>')
    return _insert_before_end(text.encode("utf-8"), "Types", elements) if elements else text.encode("utf-8")


# --------------------------------------------------------------------------------------------
# Small file helpers


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:  # pragma: no cover - reported, not raised, on an error path
        log.warning("could not remove temporary file %s: %s", path, e)
