"""The fast writer: the laid-out writes patched into the workbook's XML inside the zip.

``write_patched`` writes a new .xlsx by streaming the original's zip: every member is copied
unchanged (same names, order and compression method), except the parts the writes need:

* each sheet that receives cells (``patch_sheet``);
* for a new tab, a new worksheet part (bold, frozen header row) and its entries in
  ``workbook.xml``, ``workbook.xml.rels`` and ``[Content_Types].xml``;
* ``styles.xml``, where a value needs a number format or a header a bold font
  (``patch_values``: formats are appended, never changed);
* ``workbook.xml`` gets ``fullCalcOnLoad`` when the workbook has formulas, so Excel and
  LibreOffice recalculate them when the file is opened (a COUNTIF over the results column
  must not show last run's figures); until then they keep their last computed values.

So everything the workbook holds (charts, pivots, sparklines, extensions, macros...) is kept
by construction, and 100,000 rows take seconds where openpyxl needs about a minute.  Each
patched sheet is held about once in memory (spooled to a temporary file in the destination's
folder beyond 16 MB).

Anything it does not fully understand raises ``Unsupported(reason)`` before a byte of ``dst``
is written: prefixed namespaces, Strict OOXML, rows or cells without references or out of
order, a cell to write that holds a formula or a rich value or sits where ``check()`` refuses,
unreadable styles, dates before 1900, a sheet that is not a worksheet.  The table then uses
the openpyxl writer.

Left as they are, knowingly: docProps/app.xml (the sheet titles some programs show in the
file's properties) does not list a new tab (Excel and LibreOffice rebuild it on save); the
shared strings part keeps strings no cell uses any more, as Excel's own files often do.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

from .cells import SheetWrites
from .package import (
    Package,
    PackageError,
    SheetEntry,
    add_relationships,
    local_name,
    rels_part_for,
    set_content_types,
    workbook_sheets,
    xml_attr,
)
from .patch_sheet import SheetPatch
from .patch_values import CellXml, Styles
from .patch_xml import MAIN_NS, REL_NS, Unsupported, cell_range, part_root

__all__ = ["Unsupported", "mark_full_calc", "write_patched"]

_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_WORKSHEET_REL = REL_NS + "/worksheet"
_NEW_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="' + MAIN_NS.encode() + b'" xmlns:r="' + REL_NS.encode() + b'">'
    b'<dimension ref="A1"/>'
    b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    b'<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    b'<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
)


def write_patched(src: Path, dst: Path, writes: Sequence[SheetWrites], *, recalc: bool) -> None:
    """Write ``src`` with ``writes`` applied to ``dst`` (fsynced), patching the XML in the zip.

    ``recalc``: the workbook has formulas; mark it for a full recalculation when next opened.
    Raises ``Unsupported`` (before writing anything) where the openpyxl writer must be used.
    """
    with zipfile.ZipFile(src) as zf:
        book = _Book.open(zf)
        sheets, new_tabs = _patch_sheets(book, writes)
        with contextlib.ExitStack() as stack:
            # The patched sheets are written out first (they decide the formats styles.xml
            # needs), to files that stay in memory up to 16 MB and go to disk beyond.
            # Unsupported can still be raised here: dst is untouched.
            spooled: dict[str, IO[bytes]] = {}
            while sheets:
                part, patched = sheets.popitem()
                spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=1 << 24, dir=str(dst.parent)))
                patched.write_to(spool)
                del patched
                spooled[part] = spool
            book.add_tabs(new_tabs)
            if recalc:
                book.replace[book.main] = mark_full_calc(book.replace.get(book.main, book.workbook_xml))
            if book.styles.changed and book.styles_part:
                book.replace[book.styles_part] = book.styles.render()
            replace: dict[str, bytes | IO[bytes]] = {**book.replace}
            created = {part for _t, part in new_tabs}
            replace.update({part: spool for part, spool in spooled.items() if part not in created})
            added = {part: spooled[part] for _t, part in new_tabs}  # in the order the tabs were added
            names = {n.lower() for n in zf.namelist()}
            missing = [part for part in replace if part.lower() not in names]
            if missing:
                raise Unsupported(f"the part {missing[0]} is not in the zip under that name")
            _write_zip(zf, dst, replace, added)


def _patch_sheets(book: _Book, writes: Sequence[SheetWrites]) -> tuple[dict[str, SheetPatch], list[tuple[str, str]]]:
    """{part: its patch} of every sheet written, and the (title, part) of each new tab."""
    sheets: dict[str, SheetPatch] = {}
    new_tabs: list[tuple[str, str]] = []
    for w in writes:
        if w.created:
            part = book.free_part({p.lower() for _t, p in new_tabs})
            sheet = SheetPatch(_NEW_SHEET, w.name, book.values)
            new_tabs.append((w.name, part))
        else:
            entry = next((s for s in book.sheets if s.name == w.name), None)
            if entry is None:
                raise Unsupported(f"there is no sheet '{w.name}'")
            part = entry.part
            sheet = sheets.get(part) or book.sheet(entry)
        sheet.apply(w, book.styles)
        sheets[part] = sheet
    return sheets, new_tabs


_CALC_PR = re.compile(rb"<calcPr\b([^>]*?)(/?)>")
_FULL_CALC = re.compile(rb"""\sfullCalcOnLoad\s*=\s*["'][^"']*["']""")
# CT_Workbook's children before calcPr, last first: calcPr goes right after the last one present
_BEFORE_CALC = (rb"</definedNames\s*>|<definedNames\b[^>]*/>", rb"</externalReferences\s*>",
                rb"</functionGroups\s*>|<functionGroups\b[^>]*/>", rb"</sheets\s*>")


def mark_full_calc(workbook_xml: bytes) -> bytes:
    """workbook.xml with ``<calcPr fullCalcOnLoad="1">`` (Excel and LibreOffice recalculate on open)."""
    m = _CALC_PR.search(workbook_xml)
    if m:
        attrs = _FULL_CALC.sub(b"", m.group(1))
        return workbook_xml[: m.start()] + b"<calcPr" + attrs + b' fullCalcOnLoad="1"' + m.group(2) + b">" + workbook_xml[m.end():]
    for pattern in _BEFORE_CALC:
        found = list(re.finditer(pattern, workbook_xml))
        if found:
            at = found[-1].end()
            return workbook_xml[:at] + b'<calcPr fullCalcOnLoad="1"/>' + workbook_xml[at:]
    raise Unsupported("workbook.xml has no list of sheets")


@dataclass
class _Book:
    zf: zipfile.ZipFile
    pkg: Package
    main: str
    workbook_xml: bytes
    sheets: list[SheetEntry]
    styles_part: str | None
    styles: Styles
    values: CellXml
    replace: dict[str, bytes] = field(default_factory=dict)  # small parts rewritten: workbook.xml, styles.xml...

    @classmethod
    def open(cls, zf: zipfile.ZipFile) -> _Book:
        try:
            pkg = Package(zf)
            main = pkg.main
            workbook_xml = pkg.read(main)
            part_root(workbook_xml, "workbook", "workbook.xml")
            pr = next((el for el in ET.fromstring(workbook_xml) if local_name(el.tag) == "workbookPr"), None)
            date1904 = pr is not None and pr.get("date1904", "0").strip().lower() in ("1", "true")
            styles_part = next((t for _i, k, t in pkg.rels(main) if k == "styles" and t), None)
            styles = Styles(pkg.read(styles_part) if styles_part and pkg.has(styles_part) else None)
            sheets = workbook_sheets(pkg)
        except (PackageError, ET.ParseError) as e:
            raise Unsupported(f"the workbook's structure is unusual ({e})") from None
        return cls(zf, pkg, main, workbook_xml, sheets, styles_part, styles, CellXml(styles, date1904))

    def sheet(self, entry: SheetEntry) -> SheetPatch:
        """An existing worksheet, with the tables and pivot tables no write may cut into."""
        if entry.kind != "worksheet":
            raise Unsupported(f"'{entry.name}' is not a worksheet")
        if not entry.part or not self.pkg.has(entry.part):
            raise Unsupported(f"the part of sheet '{entry.name}' cannot be found")
        if (self.pkg.content_type(entry.part) or "") != _WORKSHEET_CT:
            raise Unsupported(f"sheet '{entry.name}' has an unusual content type")
        sheet = SheetPatch(self.pkg.read(entry.part), entry.name, self.values)
        for _rid, kind, target in self.pkg.rels(entry.part):
            if kind not in ("table", "pivotTable") or not target:
                continue
            if not self.pkg.has(target):
                raise Unsupported(f"a table of sheet '{entry.name}' cannot be found")
            xml = self.pkg.read(target)
            part_root(xml, "table" if kind == "table" else "pivotTableDefinition", f"a {kind} part")
            try:
                root = ET.fromstring(xml)
                if kind == "table":
                    head = int(root.get("headerRowCount", "1") or 1)
                    totals = int(root.get("totalsRowCount", "0") or 0)
                    sheet.tables.append((cell_range(root.get("ref", "")), head, totals))
                else:
                    loc = next((el for el in root if local_name(el.tag) == "location"), None)
                    if loc is None or not loc.get("ref"):
                        raise ValueError("no location")
                    sheet.blocked.append((cell_range(loc.get("ref", "")), "a pivot table"))
            except (ET.ParseError, ValueError) as e:
                raise Unsupported(f"a {kind} of sheet '{entry.name}' cannot be read ({e})") from None
        return sheet

    def free_part(self, taken: set[str]) -> str:
        """A part name for a new worksheet, next to the existing ones."""
        folder = posixpath.dirname(next((s.part for s in self.sheets if s.kind == "worksheet" and s.part), "")) \
            or posixpath.join(posixpath.dirname(self.main), "worksheets")
        names = {n.lower() for n in self.zf.namelist()} | taken
        n = 1
        while f"{folder}/sheet{n}.xml".lower() in names:
            n += 1
        return f"{folder}/sheet{n}.xml"

    def add_tabs(self, tabs: list[tuple[str, str]]) -> None:
        """Register new worksheet parts: workbook.xml, its relationships, content types."""
        if not tabs:
            return
        rels_name = rels_part_for(self.main)
        if not self.pkg.has(rels_name):
            raise Unsupported("the workbook has no relationships part")
        rels_xml = self.pkg.read(rels_name)
        part_root(rels_xml, "Relationships", "workbook.xml.rels")
        wb_dir = posixpath.dirname(self.main)
        try:
            rels_xml, ids = add_relationships(rels_xml, [(_WORKSHEET_REL, posixpath.relpath(p, wb_dir)) for _t, p in tabs])
            ct_xml = self.pkg.read("[Content_Types].xml")
            part_root(ct_xml, "Types", "[Content_Types].xml")
            self.replace["[Content_Types].xml"] = set_content_types(ct_xml, {p: _WORKSHEET_CT for _t, p in tabs})
        except PackageError as e:
            raise Unsupported(str(e)) from None
        self.replace[rels_name] = rels_xml
        # <sheet> elements at the end of <sheets>, with the prefix workbook.xml gives the r namespace
        text = self.workbook_xml
        head = part_root(text, "workbook", "workbook.xml").group(3)
        prefix = re.search(rb"""\sxmlns:([A-Za-z_][\w.-]*)\s*=\s*["']""" + re.escape(REL_NS.encode()) + rb"""["']""", head)
        next_id = max((s.sheet_id for s in self.sheets), default=0) + 1
        elements = []
        for (title, _part), rid in zip(tabs, ids):
            if prefix:
                p = prefix.group(1).decode()
                elements.append(f'<sheet name="{xml_attr(title)}" sheetId="{next_id}" {p}:id="{rid}"/>')
            else:
                elements.append(f'<sheet xmlns:r="{REL_NS}" name="{xml_attr(title)}" sheetId="{next_id}" r:id="{rid}"/>')
            next_id += 1
        close = re.compile(rb"</sheets\s*>").search(text)
        if not close:
            raise Unsupported("workbook.xml has no list of sheets")
        self.replace[self.main] = text[: close.start()] + "".join(elements).encode() + text[close.start():]


# --------------------------------------------------------------------------------------------
# The zip


def _write_zip(zf: zipfile.ZipFile, dst: Path, replace: Mapping[str, bytes | IO[bytes]],
               added: Mapping[str, bytes | IO[bytes]]) -> None:
    """Copy ``zf`` to ``dst`` (fsynced) member by member, in the same order and with the same
    compression, with ``replace``d parts and the ``added`` ones at the end."""
    todo = {name.lower(): data for name, data in replace.items()}  # part names are case-insensitive
    with open(dst, "wb") as fh:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zf.infolist():
                new = todo.pop(info.filename.lower(), None)
                if new is None:
                    _copy_member(zf, info, out)
                else:
                    _write_member(out, _clone_info(info), new)
            for name, data in added.items():
                zi = zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6])
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o600 << 16
                _write_member(out, zi, data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_member(out: zipfile.ZipFile, zi: zipfile.ZipInfo, data: bytes | IO[bytes]) -> None:
    if isinstance(data, bytes):
        out.writestr(zi, data)
        return
    size = data.seek(0, os.SEEK_END)
    data.seek(0)
    with out.open(zi, "w", force_zip64=size > 2**31 - 2**24) as w:
        while chunk := data.read(1 << 22):
            w.write(chunk)


def _clone_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    zi.compress_type = info.compress_type
    zi.external_attr = info.external_attr
    zi.create_system = info.create_system
    zi.comment = info.comment
    return zi


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    zi = _clone_info(info)
    if info.is_dir():
        out.writestr(zi, b"")
        return
    out.writestr(zi, zf.read(info), compress_type=info.compress_type)
