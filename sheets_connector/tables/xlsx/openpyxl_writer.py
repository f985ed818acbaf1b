"""The fallback writer: openpyxl loads the workbook, the laid-out writes are applied, it saves.

Used where the fast writer (``patch``) does not apply.  openpyxl rebuilds every part of the file
(about 29 s to load and 26 s to save a 100,000-row sheet) and cannot keep everything
(sparklines, slicers...): what it drops but can be put back cheaply is put back by
``openpyxl_fixes``, and the table's inventory check sends the results to a copy where anything
is still lost.

Pictures: openpyxl needs Pillow to read them and silently drops them without it (with it, it
re-encodes BMP/TIFF as PNG and drops WMF).  While loading, ``pictures_kept()`` hands openpyxl
an image class that keeps a picture's bytes exactly and only sniffs its format and size.

Numbers: openpyxl writes every number with 16 significant digits ("%.16g"), which rounds
0.13079200000000002 to 0.130792 and 12345678901234567 to 1.234567890123457e+16; while saving,
``exact_numbers()`` has it write the shortest text that reads back as the same number.

Column widths: openpyxl keeps a range of columns (``<col min="1" max="1025">``) as one entry
and would write a new column's width as a second, overlapping one; ``_own_column`` splits the
range first, as the fast writer does.

``check_opens`` tells, before anything is sent, whether openpyxl can open the workbook at all.
"""
from __future__ import annotations

import copy
import io
import logging
import math
import os
import struct
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import openpyxl
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.compat import safe_string as _openpyxl_safe_string
from openpyxl.descriptors.serialisable import Serialisable
from openpyxl.drawing.image import Image
from openpyxl.styles import Font
from openpyxl.styles.numbers import is_date_format
from openpyxl.styles.proxy import StyleProxy
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ...errors import SourceError
from ..base import CellValue
from .cells import SheetWrites, cell_value, column_letter, keeps_format, number_format
from .openpyxl_fixes import restore

__all__ = ["RawImage", "check_opens", "exact_numbers", "pictures_kept", "write_with_openpyxl"]

log = logging.getLogger(__name__)


def _load(src: Path, keep_vba: bool) -> Workbook:
    with open(src, "rb") as fh, pictures_kept(), warnings.catch_warnings():
        # openpyxl warns about what it drops ("Sparkline Group extension is not supported");
        # the table's checks report those losses to the user in plain words instead.
        warnings.simplefilter("ignore")
        # A file object, so openpyxl does not insist on the extension; rich_text=True keeps
        # bold/coloured words inside cells; keep_vba only for macro workbooks (it also makes
        # openpyxl mark the workbook as macro-enabled).
        try:
            return openpyxl.load_workbook(io.BytesIO(fh.read()), keep_vba=keep_vba, rich_text=True, keep_links=True)
        except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on XML it does not understand
            raise SourceError(
                f"{src.name} can be read but not written: the program that made it saved it in a way this tool's "
                f"writer cannot open ({type(e).__name__}: {e}). Your file was not changed and nothing was sent. "
                "Open it in Excel or LibreOffice and save it again as Excel Workbook (.xlsx), then run again."
            ) from None


def check_opens(src: Path, sheets: Sequence[str], *, keep_vba: bool) -> None:
    """Raise SourceError (saying what to do) if openpyxl cannot open ``src`` for writing, or
    does not see all its worksheets ``sheets`` (it reads a Strict Open XML file as having none)."""
    wb = _load(src, keep_vba)
    if wb.vba_archive is not None:
        wb.vba_archive.close()
    missing = [name for name in sheets if name not in wb.sheetnames]
    if missing:
        raise SourceError(
            f"{src.name} can be read but not written: this tool's writer does not see its sheet '{missing[0]}' "
            f"({'it is saved as Strict Open XML, which it cannot write' if _is_strict(src) else 'it cannot read how it is saved'}). "
            "Your file was not changed and nothing was sent. Open it in Excel or LibreOffice and save it again as "
            "Excel Workbook (.xlsx), then run again."
        )


def _is_strict(src: Path) -> bool:
    import zipfile

    with zipfile.ZipFile(src) as zf:
        return any(b"purl.oclc.org/ooxml" in zf.read(n)[:2048] for n in zf.namelist() if n.endswith(".xml"))


def _pad_fonts(wb: Workbook) -> None:
    """Fill the font list up to every fontId a cell format uses, with copies of the default
    font (the first), before openpyxl appends a font: Excel shows a cell whose fontId is past
    the list in the default font, and without this it would take the appended (bold) font.
    See ``patch_values.Styles._pad_fonts``, which does the same for the fast writer."""
    book: Any = wb  # openpyxl keeps the style lists in private attributes
    used = max((style.fontId for style in book._cell_styles), default=0)
    while book._fonts and len(book._fonts) <= used:
        list.append(book._fonts, copy.copy(book._fonts[0]))  # IndexedList.append would not add an equal font


def write_with_openpyxl(src: Path, dst: Path, writes: Sequence[SheetWrites], *,
                        keep_vba: bool, template: bool, recalc: bool = False) -> dict[tuple[str, str], int]:
    """Load ``src`` with openpyxl, apply ``writes``, save to ``dst`` (fsynced).

    Returns the losses the writes themselves cause and that are not losses of the workbook
    (a formula cell a result overwrote), for ``inventory.find_losses(allowed=...)``.
    """
    allowed: dict[tuple[str, str], int] = {}
    wb = _load(src, keep_vba)
    try:
        _pad_fonts(wb)
        wb.template = template
        for w in writes:
            _apply(wb, w, allowed)
        replaced = any(what == "formula" for _where, what in allowed)
        if wb.calculation is not None and (recalc or replaced):  # stale formulas: recalculated when opened
            wb.calculation.fullCalcOnLoad = True
        with open(dst, "wb") as out, exact_numbers():
            wb.save(out)
            out.flush()
            os.fsync(out.fileno())
    finally:
        if wb.vba_archive is not None:
            wb.vba_archive.close()
    restore(src, dst)
    return allowed


def _apply(wb: Workbook, w: SheetWrites, allowed: dict[tuple[str, str], int]) -> None:
    if not w.created and w.name not in wb.sheetnames:
        raise SourceError(f"This tool's writer does not see the sheet '{w.name}' of the workbook, so nothing can be "
                          "written into it. Open the file in Excel or LibreOffice and save it again as Excel Workbook (.xlsx).")
    ws = wb.create_sheet(w.name) if w.created else wb[w.name]
    if not isinstance(ws, Worksheet):
        raise SourceError(f"'{w.name}' is not a worksheet, so nothing can be written into it.")
    for h in w.headers:
        cell = ws.cell(row=h.row, column=h.col)
        cell.value = h.title
        cell.data_type = "s"  # a title starting with "=" stays text
        if h.style_from:
            look = ws.cell(row=h.row, column=h.style_from)
            cell.font, cell.fill = _copied(look.font), _copied(look.fill)
            cell.border, cell.alignment = _copied(look.border), _copied(look.alignment)
        else:
            cell.font = Font(bold=True)
    skipped = 0
    for col, cells in w.columns.items():
        for row, value in cells.items():
            target = ws.cell(row=row, column=col)
            if isinstance(target, MergedCell):
                skipped += 1
                continue
            if target.data_type == "f":
                allowed[(ws.title, "formula")] = allowed.get((ws.title, "formula"), 0) + 1
            _put(target, value)
    for block in w.blocks:
        for i, values in enumerate(block.rows):
            for col, value in zip(block.columns, values):
                if value is not None:
                    target = ws.cell(row=block.first + i, column=col)
                    if isinstance(target, MergedCell):
                        skipped += 1
                        continue
                    _put(target, value)
    if skipped:  # the table leaves such cells out of the writes: this is a safety net
        log.warning("%s: %d cells inside merged cells were left as they were", ws.title, skipped)
    for col in sorted(set(w.widths) | w.shown):
        if _own_column(ws, col, w.widths.get(col, 10), show=col in w.shown):
            for what in ("hidden column", "column width"):
                allowed[(ws.title, what)] = allowed.get((ws.title, what), 0) + 1
    if w.created:
        ws.freeze_panes = "A2"


def _own_column(ws: Worksheet, col: int, width: float, *, show: bool) -> bool:
    """Give column ``col`` its own width (and show it), splitting a range of columns it is in,
    unless the user set the range's width (then it is kept).  True when it was hidden."""
    dims = ws.column_dimensions
    cover = next((d for d in dims.values() if d.min and d.max and d.min <= col <= d.max), None)
    if cover is None:
        dims[column_letter(col)].width = width
        return False
    hidden = bool(cover.hidden) or not cover.width
    if not (show and hidden) and cover.customWidth:
        return False  # the user set this column's width: keep it
    lo, hi = cover.min or col, cover.max or col
    del dims[cover.index]
    for a, b in ((lo, col - 1), (col, col), (col + 1, hi)):
        if a <= b:
            part = copy.copy(cover)
            part.index, part.min, part.max = column_letter(a), a, b
            dims[part.index] = part
    own = dims[column_letter(col)]
    own.width = width
    if show:
        own.hidden = False
    return show and hidden


def _copied(style: StyleProxy) -> Serialisable:
    return cast(Serialisable, copy.copy(style))  # a copy of the style the proxy stands for


def _put(cell: Cell, value: CellValue) -> None:
    """Write one value (see ``cells.cell_value``) with the number format it needs."""
    value = cell_value(value)
    own = cell.number_format  # before openpyxl sets its own for dates
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"  # openpyxl writes data_type "s" as an inline string
    needed = number_format(value)
    if needed is not None:
        general = own.strip().casefold() == "general"
        cell.number_format = own if keeps_format(needed, general=general, date=is_date_format(own)) else needed


# --------------------------------------------------------------------------------------------
# Numbers written exactly


_WRITER_LOCK = threading.Lock()


def _exact_string(value: object) -> str:
    """openpyxl's ``safe_string``, but a number's text reads back as the very same number."""
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _openpyxl_safe_string(value)


@contextmanager
def exact_numbers() -> Iterator[None]:
    """While open, openpyxl writes numbers exactly (see the module docstring)."""
    from openpyxl.cell import _writer

    with _WRITER_LOCK:
        saved = getattr(_writer, "safe_string")  # noqa: B009 - the stubs do not list this module's imports
        setattr(_writer, "safe_string", _exact_string)  # noqa: B010
        try:
            yield
        finally:
            setattr(_writer, "safe_string", saved)  # noqa: B010


# --------------------------------------------------------------------------------------------
# Pictures without Pillow


_IMAGE_CLASS_LOCK = threading.Lock()


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


class RawImage(Image):
    """A picture kept byte for byte (openpyxl's ``Image`` without Pillow)."""

    def __init__(self, img: Any) -> None:
        data = img.read() if hasattr(img, "read") else bytes(img)
        self.ref = self._raw = data
        self.format, self.width, self.height = _sniff_image(data)

    def _data(self) -> bytes:
        return self._raw


@contextmanager
def pictures_kept() -> Iterator[None]:
    """While open, openpyxl loads pictures as ``RawImage`` (see the module docstring)."""
    from openpyxl.reader import drawings

    with _IMAGE_CLASS_LOCK:
        saved = {name: getattr(drawings, name) for name in ("Image", "PILImage")}
        for name, value in (("Image", RawImage), ("PILImage", True)):
            setattr(drawings, name, value)
        try:
            yield
        finally:
            for name, value in saved.items():
                setattr(drawings, name, value)
