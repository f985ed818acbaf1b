"""Whether a save must ask Excel and LibreOffice to recalculate the workbook when it is opened.

A formula keeps the value it had when the file was last saved until it is recalculated.  When
the connector writes results that a formula reads (a COUNTIF over the results column, a total
of the new-contacts tab), that value is stale, so the save marks the workbook
``fullCalcOnLoad``.  The mark has a cost: volatile formulas (RAND, NOW, TODAY) get new values
on open and Excel asks to save on close.  So it is set only where a formula may read a cell
the save writes:

- a reference (cell, range, whole column or row, on the formula's own sheet or another one)
  that overlaps the written cells' area on their sheet;
- a formula whose references cannot be known from its text: INDIRECT, OFFSET, structured
  references to tables (``Table1[Status]``), a reference to another sheet through a range of
  sheets (``Jan:Dec!B2``), a name (defined names are checked like formulas);
- a formula cell a result replaces: its dependents are stale.

Formulas are read from the worksheet parts' ``<f>`` elements and workbook.xml's
``<definedName>`` elements, with string literals left out.  Anything unreadable counts as
"may read": a missing mark costs wrong figures, an extra one only a prompt.
"""
from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Sequence

from .cells import MAX_COLUMN, SheetWrites
from .package import Package, PackageError, local_name, workbook_sheets
from .patch_xml import Unsupported, cell_range, col_number

MAX_ROW = 1_048_576
Area = tuple[int, int, int, int]  # first row, first column, last row, last column

_F_TEXT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f\b([^>]*)>([^<]*)</(?:[A-Za-z_][\w.-]*:)?f\s*>")
_SHARED_REF = re.compile(rb"""\st\s*=\s*["']shared["'][^>]*?\sref\s*=\s*["']([^"']+)["']|"""
                         rb"""\sref\s*=\s*["']([^"']+)["'][^>]*?\st\s*=\s*["']shared["']""")
_STRING = re.compile(r'"(?:[^"]|"")*"')
_OPAQUE = re.compile(r"\b(?:INDIRECT|OFFSET)\s*\(|\[|'[^']*:[^']*'!|\b[A-Za-z_][\w.]*:[A-Za-z_][\w.]*!", re.IGNORECASE)
_SHEET = r"(?:'((?:[^']|'')+)'|([A-Za-z_][\w.]*))!"
_REF = re.compile(
    rf"(?<![\w.$])(?:{_SHEET})?"
    r"(?:\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?"  # A1, A1:B5
    r"|\$?([A-Z]{1,3}):\$?([A-Z]{1,3})"  # D:D
    r"|\$?(\d{1,7}):\$?(\d{1,7}))"  # 3:5
    r"(?![\w(!])",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![\w.$'])([A-Za-z_\\][\w.]*)(?![\w(!'])")
_WORDS = {"TRUE", "FALSE"}


def written_areas(writes: Sequence[SheetWrites]) -> dict[str, list[Area]]:
    """{sheet name (lower case): areas holding every cell the writes touch}."""
    out: dict[str, list[Area]] = {}
    for w in writes:
        areas = out.setdefault(w.name.lower(), [])
        areas += [(h.row, h.col, h.row, h.col) for h in w.headers]
        areas += [(min(rows), col, max(rows), col) for col, rows in w.columns.items() if rows]
        areas += [(b.first, min(b.columns), b.first + len(b.rows) - 1, max(b.columns))
                  for b in w.blocks if b.rows and b.columns]
    return out


def _overlaps(a: Area, areas: Sequence[Area]) -> bool:
    return any(a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3] for b in areas)


def reads_written(formula: str, own_sheet: str, written: dict[str, list[Area]], names: set[str],
                  spread: tuple[int, int] = (0, 0)) -> bool:
    """Whether ``formula`` (on sheet ``own_sheet``) may read a cell of ``written``.  ``spread``:
    (rows, columns) a shared formula's references move by over the cells that share it."""
    text = _STRING.sub('""', html.unescape(formula))
    if _OPAQUE.search(text):
        return True
    for m in _REF.finditer(text):
        sheet = (m.group(1).replace("''", "'") if m.group(1) else m.group(2) or own_sheet).lower()
        areas = written.get(sheet)
        if not areas:
            continue
        if m.group(3):
            r1, c1 = int(m.group(4)), col_number(m.group(3).upper().encode())
            r2, c2 = (int(m.group(6)), col_number(m.group(5).upper().encode())) if m.group(5) else (r1, c1)
        elif m.group(7):
            r1, r2 = 1, MAX_ROW
            c1, c2 = col_number(m.group(7).upper().encode()), col_number(m.group(8).upper().encode())
        else:
            r1, r2, c1, c2 = int(m.group(9)), int(m.group(10)), 1, MAX_COLUMN
        if _overlaps((min(r1, r2), min(c1, c2), max(r1, r2) + spread[0], max(c1, c2) + spread[1]), areas):
            return True
    rest = _REF.sub("", text)
    return any(m.group(1).upper() not in _WORDS and m.group(1).lower() in names for m in _NAME.finditer(rest))


def needs_full_calc(zf: zipfile.ZipFile, writes: Sequence[SheetWrites]) -> bool:
    """Whether a formula of the workbook may read a cell ``writes`` write (module docstring;
    a formula a result replaces is the writer's to count)."""
    written = written_areas(writes)
    try:
        pkg = Package(zf)
        book = pkg.xml(pkg.main)
        names: set[str] = set()
        for el in book.iter():
            if local_name(el.tag) != "definedName" or (el.get("name") or "").startswith("_xlnm."):
                continue
            names.add((el.get("name") or "").lower())
        for el in book.iter():
            if local_name(el.tag) == "definedName" and (el.get("name") or "").lower() in names:
                scope = el.get("localSheetId")
                if reads_written(el.text or "", "" if scope is None else "\0", written, set()):
                    return True
        for sheet in workbook_sheets(pkg):
            if not sheet.part or not pkg.has(sheet.part):
                continue
            data = pkg.read(sheet.part)
            if b"<f" not in data and b":f" not in data:
                continue
            for m in _F_TEXT.finditer(data):
                spread = (0, 0)
                shared = _SHARED_REF.search(m.group(1))
                if shared:
                    r1, c1, r2, c2 = cell_range((shared.group(1) or shared.group(2)).decode())
                    spread = (r2 - r1, c2 - c1)
                if reads_written(m.group(2).decode("utf-8", "replace"), sheet.name, written, names, spread):
                    return True
    except (PackageError, Unsupported, KeyError, ValueError, zipfile.BadZipFile):
        return True
    return False
