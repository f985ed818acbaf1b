"""What a rewrite of a whole workbook changed that the user did not ask for, in plain words.

The openpyxl writer rebuilds every part of the file, so before its result replaces a user's
workbook the table compares it with the original, beyond the feature inventory:

- ``changed_values``: every cell value of every worksheet, cached formula values included
  (read with python-calamine), but the cells the save was asked to write: a number rounded,
  a text that gained a space, a cached value dropped;
- ``changed_formulas``: every formula (read from the sheets' XML; shared formulas expanded to
  each cell's own formula as Excel and openpyxl see them);
- ``changed_parts``: every part of the original that is gone or not byte for byte the same,
  but those any save rewrites (workbook, styles, strings, content types, docProps, the
  calculation chain Excel rebuilds, and the sheets written to).

Each returns phrases for the run summary ("3 values on sheet 'Rates' (e.g. B4: 0.13079200000000002
became 0.130792)"); anything listed sends the results to a copy.  The fast writer needs none of
this: it copies every part it does not patch byte for byte (the table checks that from the
zip's directory) and touches only the cells it writes.
"""
from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator, Mapping, Set
from pathlib import Path
from typing import Any

import python_calamine
from python_calamine import CalamineWorkbook, SheetTypeEnum

from .cells import column_letter
from .files import open_book
from .package import Package, rels_part_for, workbook_sheets
from .patch_xml import col_number

Cell = tuple[int, int]  # (row, column), 1-based
_MAX_CELLS = 20_000_000  # a sheet spanning more (A1 and XFD1048576 filled) is not compared cell by cell


def changed_values(src: Path, dst: Path, written: Mapping[str, Set[Cell]]) -> list[str]:
    """Sheets whose values differ between ``src`` and ``dst`` outside ``written`` cells."""
    out = []
    with open_book(src) as a, open_book(dst) as b:
        names_b = {m.name for m in b.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet}
        for meta in a.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            name = meta.name
            if name not in names_b:
                out.append(f"sheet '{name}' (it is gone)")
                continue
            try:
                before, after = _grid(a, name), _grid(b, name)
            except (python_calamine.CalamineError, ValueError) as e:
                out.append(f"the values of sheet '{name}' (they could not be compared: {e})")
                continue
            diffs = list(_grid_diffs(before, after, written.get(name, set())))
            if diffs:
                (r, c), old, new = diffs[0]
                out.append(f"{_count(len(diffs), 'value')} on sheet '{name}' "
                           f"(e.g. {column_letter(c)}{r}: {_shown(old)} became {_shown(new)})")
    return out


Grid = tuple[int, int, list[list[Any]]]  # (first row, first column, rows), 1-based


def _grid(wb: CalamineWorkbook, name: str) -> Grid:
    sheet = wb.get_sheet_by_name(name)
    if sheet.height * sheet.width > _MAX_CELLS:
        raise ValueError(f"it spans {sheet.height:,} rows and {sheet.width:,} columns")
    top, left = sheet.start or (0, 0)
    return top + 1, left + 1, sheet.to_python()


def _grid_diffs(a: Grid, b: Grid, skip: Set[Cell]) -> Iterator[tuple[Cell, Any, Any]]:
    (ta, la, ra), (tb, lb, rb) = a, b
    for r in range(min(ta, tb), max(ta + len(ra), tb + len(rb))):
        row_a = ra[r - ta] if 0 <= r - ta < len(ra) else []
        row_b = rb[r - tb] if 0 <= r - tb < len(rb) else []
        if la == lb and row_a == row_b:
            continue
        for c in range(min(la, lb), max(la + len(row_a), lb + len(row_b))):
            va = row_a[c - la] if 0 <= c - la < len(row_a) else ""
            vb = row_b[c - lb] if 0 <= c - lb < len(row_b) else ""
            if va != vb and (r, c) not in skip:
                yield (r, c), va, vb


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _shown(value: Any) -> str:
    if value == "" or value is None:
        return "empty"
    text = repr(value) if isinstance(value, (str, float)) else str(value)
    return text if len(text) <= 40 else text[:39] + "\u2026"


# --------------------------------------------------------------------------------------------
# Formulas


_FORMULA = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)f\b([^>]*?)(?:/>|>([^<]*)</\1f\s*>)")
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"""\sr\s*=\s*["']\$?([A-Z]{1,3})\$?(\d+)["']""")


def sheet_formulas(xml: bytes) -> dict[Cell, tuple[str, ...]]:
    """{cell: (kind, formula text[, its range])} of a worksheet part, shared formulas expanded."""
    from openpyxl.formula.translate import Translator

    out: dict[Cell, tuple[str, ...]] = {}
    masters: dict[str, tuple[str, str]] = {}  # si -> (formula, cell it is written for)
    children: list[tuple[Cell, str]] = []
    for m in _FORMULA.finditer(xml):
        cell = _cell_of(xml, m.start(), m.group(1))
        if cell is None:
            continue
        attrs = {k.decode(): (a or b).decode() for k, a, b in _ATTR.findall(m.group(2))}
        text = html.unescape((m.group(3) or b"").decode("utf-8", "replace"))
        kind = attrs.get("t", "normal")
        if kind == "shared":
            si = attrs.get("si", "")
            if "ref" in attrs and text:
                masters[si] = ("=" + text, f"{column_letter(cell[1])}{cell[0]}")
                out[cell] = ("normal", "=" + text)
            else:
                children.append((cell, si))
        elif kind in ("array", "dataTable"):
            extra = tuple(attrs.get(k, "") for k in ("ref", "r1", "r2", "dt2D", "dtr"))
            out[cell] = (kind, text, *extra)
        else:
            out[cell] = ("normal", "=" + text)
    for cell, si in children:
        master = masters.get(si)
        if master is None:
            out[cell] = ("shared", si)  # a formula whose master is missing: compared as it is
            continue
        here = f"{column_letter(cell[1])}{cell[0]}"
        out[cell] = ("normal", Translator(master[0], origin=master[1]).translate_formula(here))
    return out


def _cell_of(xml: bytes, at: int, prefix: bytes) -> Cell | None:
    """The (row, column) of the cell whose formula starts at ``at`` (None without a reference)."""
    start = xml.rfind(b"<" + prefix + b"c", 0, at)
    while start >= 0 and xml[start + len(prefix) + 2: start + len(prefix) + 3] not in (b" ", b"\t", b"\n", b"\r", b">"):
        start = xml.rfind(b"<" + prefix + b"c", 0, start)
    if start < 0:
        return None
    ref = _REF.search(xml, start, xml.find(b">", start))
    return (int(ref.group(2)), col_number(ref.group(1))) if ref else None


def changed_formulas(src: zipfile.ZipFile, dst: zipfile.ZipFile, written: Mapping[str, Set[Cell]]) -> list[str]:
    """Sheets whose formulas differ between ``src`` and ``dst`` outside ``written`` cells."""
    old, new = Package(src), Package(dst)
    new_parts = {s.name: s.part for s in workbook_sheets(new) if s.part}
    out = []
    for sheet in workbook_sheets(old):
        if sheet.kind != "worksheet" or not sheet.part or not old.has(sheet.part):
            continue
        part = new_parts.get(sheet.name)
        if not part or not new.has(part):
            continue  # a sheet that is gone is named by the value and inventory checks
        a, b = sheet_formulas(old.read(sheet.part)), sheet_formulas(new.read(part))
        skip = written.get(sheet.name, set())
        diffs = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in skip)
        if diffs:
            r, c = diffs[0]
            before, after = a.get((r, c)), b.get((r, c))
            out.append(f"{_count(len(diffs), 'formula')} on sheet '{sheet.name}' (e.g. {column_letter(c)}{r}: "
                       f"{before[1] if before else 'none'} became {after[1] if after else 'none'})")
    return out


# --------------------------------------------------------------------------------------------
# Parts


# Parts any save rewrites: the workbook's own, and the file's properties (openpyxl writes the
# same ones back, with a new "modified" time); by name, since another core-properties part
# (.NET writes one as package/services/metadata/core-properties/*.psmdcp) is not rewritten but lost.
_ALWAYS_REWRITTEN_TYPES = ("sheet.main", "template.main", "macroEnabled.main", "styles+xml", "sharedStrings+xml", "calcChain+xml")
_ALWAYS_REWRITTEN_PARTS = ("[Content_Types].xml", "docProps/app.xml", "docProps/core.xml")
_PART_WORDS = (  # content type word -> (one, many)
    ("chartsheet", ("chart sheet", "chart sheets")),
    ("chartstyle", ("chart style preset", "chart style presets")),
    ("chartcolorstyle", ("chart colour preset", "chart colour presets")),
    ("drawingml.chart", ("chart", "charts")),
    ("drawing+xml", ("drawing (pictures, shapes and where charts sit)", "drawings (pictures, shapes and where charts sit)")),
    ("image/", ("picture", "pictures")),
    ("vmlDrawing", ("drawing of comments or form controls", "drawings of comments or form controls")),
    ("threadedcomments", ("list of threaded comments", "lists of threaded comments")),
    ("comments", ("list of comments", "lists of comments")),
    ("person", ("list of comment authors", "lists of comment authors")),
    ("table+xml", ("table (Format as Table)", "tables (Format as Table)")),
    ("pivotTable", ("pivot table", "pivot tables")),
    ("pivotCache", ("pivot table cache", "pivot table caches")),
    ("externalLink", ("link to another workbook", "links to other workbooks")),
    ("printerSettings", ("printer settings part", "printer settings parts")),
    ("custom-properties", ("set of custom document properties", "sets of custom document properties")),
    ("theme", ("colour theme", "colour themes")),
    ("vbaProject", ("VBA macro project", "VBA macro projects")),
    ("ctrlProps", ("form control", "form controls")),
    ("slicer", ("slicer", "slicers")),
    ("customXml", ("custom XML part", "custom XML parts")),
    ("oleObject", ("embedded object (OLE)", "embedded objects (OLE)")),
    ("core-properties", ("set of document properties (title, author, dates)", "sets of document properties (title, author, dates)")),
    ("relationships", ("list of links between the file's parts", "lists of links between the file's parts")),
    ("worksheet", ("sheet", "sheets")),
    ("macrosheet", ("macro sheet", "macro sheets")),
    ("dialogsheet", ("dialog sheet", "dialog sheets")),
)


def changed_parts(src: zipfile.ZipFile, dst: zipfile.ZipFile, written_sheets: Set[str]) -> list[str]:
    """Parts of ``src`` that ``dst`` lost or rewrote, grouped by kind, but those any save
    rewrites and the parts (and relationships) of the sheets in ``written_sheets``."""
    old = Package(src)
    sheets = {s.part: s.name for s in workbook_sheets(old) if s.part}
    mine = {p for p, name in sheets.items() if name in written_sheets} | {old.main}
    mine |= {rels_part_for(p) for p in mine} | set(_ALWAYS_REWRITTEN_PARTS)
    new_members = {i.filename: i for i in dst.infolist()}
    gone: dict[str, list[str]] = {}
    rewritten: dict[str, list[str]] = {}
    for info in src.infolist():
        name = info.filename
        if info.is_dir() or name in mine:
            continue
        ct = old.content_type(name) or ""
        if any(w in ct for w in _ALWAYS_REWRITTEN_TYPES):
            continue
        other = new_members.get(name)
        if other is None:
            gone.setdefault(_kind(ct, name), []).append(sheets.get(name, name))
        elif (other.CRC, other.file_size) != (info.CRC, info.file_size) or dst.read(other) != src.read(info):
            rewritten.setdefault(_kind(ct, name), []).append(sheets.get(name, name))
    out = []
    for what, bag in (("dropped", gone), ("rewritten", rewritten)):
        for kind, names in bag.items():
            out.append(_parts_phrase(kind, names, what))
    return out


def _kind(ct: str, name: str) -> str:
    for word, _words in _PART_WORDS:
        if word.casefold() in ct.casefold():
            return word
    return "internal"  # a kind with no words: never its part name (staff do not know them)


def _parts_phrase(kind: str, names: list[str], what: str) -> str:
    if kind == "worksheet":
        listed = ", ".join(f"'{n}'" for n in names)
        return f"sheet{'s' if len(names) > 1 else ''} {listed} ({what}: details such as formatting may differ)"
    if kind in ("macrosheet", "dialogsheet"):
        listed = ", ".join(f"'{n}'" for n in names)
        sheet_words = dict(_PART_WORDS)[kind]
        return f"{sheet_words[len(names) > 1]} {listed} ({what})"
    words = dict(_PART_WORDS).get(kind)
    if words is None:
        n = len(names)
        return (f"{n} piece{'s' if n > 1 else ''} of the workbook's internal data (not sheets, cells or pictures "
                f"you see) ({what})")
    return f"{len(names)} {words[0] if len(names) == 1 else words[1]} ({what})"
