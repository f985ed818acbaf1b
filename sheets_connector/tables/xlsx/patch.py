"""The fast writer: the laid-out writes patched into the workbook's XML inside the zip.

``write_patched`` writes a new .xlsx by streaming the original's zip: every member is copied
unchanged (same names, order and compression method), except the parts the writes need:

* each sheet that receives cells (``patch_sheet``);
* for a new tab, a new worksheet part (bold, frozen header row) and its entries in
  ``workbook.xml``, ``workbook.xml.rels`` and ``[Content_Types].xml``;
* ``styles.xml``, where a value needs a number format or a header a bold font
  (``patch_values``: formats are appended, never changed);
* ``workbook.xml`` gets ``fullCalcOnLoad`` when a formula may read a written cell (``recalc``,
  see ``recalc.py``) or a result replaced a formula, so Excel and LibreOffice recalculate
  when the file is opened (a COUNTIF over the results column must not show last run's
  figures); other workbooks are left without it (volatile formulas would change on open);
* the calculation chain (``calcChain.xml``) loses the cells whose formula a result replaced
  (Excel calls a file whose chain names a cell without a formula damaged).

So everything the workbook holds (charts, pivots, sparklines, extensions, macros...) is kept
by construction, and 100,000 rows take seconds where openpyxl needs about a minute.  The
original of a sheet being patched is held in memory only when small: a large one is
decompressed into an unnamed file in the temporary folder and mapped (``SPILL_SIZE``), and what
has been gone through is handed back to the kernel; ``probe`` hands such sheets, indexed, to
the save of the same file.  The new part is compressed into the new zip as it is made, a
megabyte at a time (deflate level 1, as Excel writes: see ``COMPRESS_LEVEL``); the parts that
depend on what the sheets needed (styles.xml, workbook.xml,
the calculation chain, relationships, content types) are written after them, and the zip's
directory lists every part in the original's order.  Strict Open XML workbooks and parts
written with namespace prefixes (``<x:worksheet>``) are patched the same way (``patch_xml``).

Anything it does not fully understand raises ``Unsupported(reason)``, as a rule before a byte
of ``dst`` is written (what only a cell's contents tell, while streaming, with ``dst``
removed): rows or cells out of order, a cell to write that holds an array formula, the
formula other cells share or a rich value, or sits where ``check()`` refuses, unreadable
styles, dates before 1900, a sheet that is not a worksheet.  The table then uses the openpyxl
writer.  ``probe`` says before anything is written (and before anything is sent) whether the
workbook's structure is one the fast writer takes.

Left as they are, knowingly: docProps/app.xml (the sheet titles some programs show in the
file's properties) does not list a new tab (Excel and LibreOffice rebuild it on save); the
shared strings part keeps strings no cell uses any more, as Excel's own files often do.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import mmap
import os
import posixpath
import queue
import re
import shutil
import sys
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

from .cells import FORMAT_ID, SheetWrites
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
from .patch_values import CellXml, Styles, default_styles
from .patch_xml import Root, Unsupported, cell_range, main_namespace, part_root, rel_namespace, tag_re, with_prefix

__all__ = ["Patched", "Unsupported", "mark_full_calc", "probe", "write_patched"]

log = logging.getLogger(__name__)

_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_STYLES_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_NEW_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="{main}" xmlns:r="{rel}">'
    '<dimension ref="A1"/>'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
)


@dataclass
class Patched:
    """What a patch changed beyond the cells it was given, for the save's checks."""

    parts: set[str]  # names of the original's parts it rewrote (the rest are copied byte for byte)
    added: set[str]  # names of the parts it added (new tabs)
    allowed: dict[tuple[str, str], int]  # losses the writes themselves make, for inventory.find_losses


def probe(src: Path, planned: Sequence[SheetWrites] = ()) -> dict[str, SheetPatch]:
    """Raise Unsupported if the fast writer would decline the workbook: its workbook, styles
    and package parts and every worksheet (results and new rows may go to any), and the
    ``planned`` writes' cells (their values do not matter: merged cells, array formulas,
    tables and pivot tables in the way).  Nothing is written.  What only the cells' contents
    tell (a formula other cells share, a picture in a cell) is found when saving.

    Returns the large sheets' patches, mapped from files (they hold no memory to speak of),
    for ``write_patched`` to reuse while the file stays the same: its row index is made once."""
    with zipfile.ZipFile(src) as zf:
        book = _Book.open(zf)
        book.spill = True
        book.styles.bold()  # what a new tab's header and a long number need
        book.styles.with_format(0, FORMAT_ID)
        patches = {entry.name: book.sheet(entry) for entry in book.sheets if entry.kind == "worksheet"}
        for w in planned:
            sheet = patches.get(w.name)
            if sheet is not None:
                sheet.apply(w, book.styles)
                sheet.check()
        if not book.pkg.has(rels_part_for(book.main)):
            raise Unsupported("the workbook has no relationships part")
        return {name: sheet for name, sheet in patches.items() if sheet.mapped}


def write_patched(src: Path, dst: Path, writes: Sequence[SheetWrites], *, recalc: bool,
                  probed: Mapping[str, SheetPatch] | None = None) -> Patched:
    """Write ``src`` with ``writes`` applied to ``dst`` (fsynced), patching the XML in the zip.

    ``recalc``: a formula may read a written cell; mark the workbook for a full recalculation
    when next opened (also done where a result replaces a formula).  ``probed``: what
    ``probe`` returned for this very file (the caller knows it has not changed since).
    Raises ``Unsupported`` where the openpyxl writer must be used: as a rule before ``dst`` is
    written, else (what only a cell's contents tell, found while streaming) with ``dst`` removed.
    """
    with zipfile.ZipFile(src) as zf:
        book = _Book.open(zf)
        book.spill = True
        book.probed = dict(probed or {})
        sheets, new_tabs = _patch_sheets(book, writes)
        for sheet in sheets.values():
            sheet.check()
        book.add_tabs(new_tabs)
        names_in_zip = {n.lower(): n for n in zf.namelist()}
        created = {part for _t, part in new_tabs}
        missing = [part for part in (*book.replace, *sheets) if part.lower() not in names_in_zip and part not in created]
        if missing:
            raise Unsupported(f"the part {missing[0]} is not in the zip under that name")
        try:
            try:
                return _write_zip(zf, dst, book, sheets, new_tabs, recalc=recalc, zip64=False)
            except _NeedZip64:  # a part past 2 GiB: written again with the zip64 extension
                return _write_zip(zf, dst, book, sheets, new_tabs, recalc=recalc, zip64=True)
        except BaseException:
            with contextlib.suppress(OSError):
                dst.unlink()
            raise


def _patch_sheets(book: _Book, writes: Sequence[SheetWrites]) -> tuple[dict[str, SheetPatch], list[tuple[str, str]]]:
    """{part: its patch} of every sheet written, and the (title, part) of each new tab."""
    sheets: dict[str, SheetPatch] = {}
    new_tabs: list[tuple[str, str]] = []
    for w in writes:
        if w.created:
            part = book.free_part({p.lower() for _t, p in new_tabs})
            sheet = SheetPatch(book.new_sheet_xml(), w.name, book.values)
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


_CALC_PR = rb"<{p}calcPr\b([^>]*?)(/?)>"
_FULL_CALC = re.compile(rb"""\sfullCalcOnLoad\s*=\s*["'][^"']*["']""")
# CT_Workbook's children before calcPr, last first: calcPr goes right after the last one present
_BEFORE_CALC = (rb"</{p}definedNames\s*>|<{p}definedNames\b[^>]*/>", rb"</{p}externalReferences\s*>",
                rb"</{p}functionGroups\s*>|<{p}functionGroups\b[^>]*/>", rb"</{p}sheets\s*>")


def mark_full_calc(workbook_xml: bytes) -> bytes:
    """workbook.xml with ``<calcPr fullCalcOnLoad="1">`` (Excel and LibreOffice recalculate on open)."""
    p = part_root(workbook_xml, "workbook", "workbook.xml").prefix
    m = tag_re(_CALC_PR, p).search(workbook_xml)
    if m:
        attrs = _FULL_CALC.sub(b"", m.group(1))
        return (workbook_xml[: m.start()] + b"<" + p + b"calcPr" + attrs + b' fullCalcOnLoad="1"' + m.group(2) + b">"
                + workbook_xml[m.end():])
    for pattern in _BEFORE_CALC:
        found = list(tag_re(pattern, p).finditer(workbook_xml))
        if found:
            at = found[-1].end()
            return workbook_xml[:at] + with_prefix(b'<calcPr fullCalcOnLoad="1"/>', p) + workbook_xml[at:]
    raise Unsupported("workbook.xml has no list of sheets")


@dataclass
class _Book:
    zf: zipfile.ZipFile
    pkg: Package
    main: str
    root: Root  # workbook.xml's root: its namespace (Transitional or Strict) and prefix
    workbook_xml: bytes
    sheets: list[SheetEntry]
    styles_part: str | None
    styles: Styles
    values: CellXml
    replace: dict[str, bytes] = field(default_factory=dict)  # small parts rewritten: workbook.xml, styles.xml...
    spill: bool = False  # large sheets may be mapped from a temporary file (see ``_sheet_data``)
    probed: dict[str, SheetPatch] = field(default_factory=dict)  # sheets a probe of the same file made
    drop: set[str] = field(default_factory=set)  # parts left out (an emptied calculation chain)

    @classmethod
    def open(cls, zf: zipfile.ZipFile) -> _Book:
        try:
            pkg = Package(zf)
            main = pkg.main
            workbook_xml = pkg.read(main)
            root = part_root(workbook_xml, "workbook", "workbook.xml")
            pr = next((el for el in ET.fromstring(workbook_xml) if local_name(el.tag) == "workbookPr"), None)
            date1904 = pr is not None and pr.get("date1904", "0").strip().lower() in ("1", "true")
            styles_part = next((t for _i, k, t in pkg.rels(main) if k == "styles" and t), None)
            if styles_part and pkg.has(styles_part):
                styles = Styles(pkg.read(styles_part))
            else:  # no styles part (some generators write none): one is added if a format is needed
                styles_part = None
                styles = Styles(default_styles(main_namespace(root)))
            sheets = workbook_sheets(pkg)
        except (PackageError, ET.ParseError) as e:
            raise Unsupported(f"the workbook's structure is unusual ({e})") from None
        return cls(zf, pkg, main, root, workbook_xml, sheets, styles_part, styles, CellXml(styles, date1904))

    def sheet(self, entry: SheetEntry) -> SheetPatch:
        """An existing worksheet, with the tables and pivot tables no write may cut into."""
        if entry.kind != "worksheet":
            raise Unsupported(f"'{entry.name}' is not a worksheet")
        if not entry.part or not self.pkg.has(entry.part):
            raise Unsupported(f"the part of sheet '{entry.name}' cannot be found")
        if (self.pkg.content_type(entry.part) or "") != _WORKSHEET_CT:
            raise Unsupported(f"sheet '{entry.name}' has an unusual content type")
        probed = self.probed.pop(entry.name, None)
        if probed is not None:  # the same part of the same file, its tables included
            probed.reuse(self.values)
            return probed
        sheet = SheetPatch(self._sheet_data(entry.part), entry.name, self.values)
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

    def _sheet_data(self, part: str) -> bytes | mmap.mmap:
        """A worksheet part's XML: in memory, or for a large one (``SPILL_SIZE``) decompressed
        into a file of its own in the temporary folder and mapped read-only, so that what
        ``SheetPatch`` has gone through goes back to the kernel (a 100,000-row sheet is ~55 MB
        of XML, which a save would otherwise hold while it writes).  The file has no name (or
        loses it at once), so nothing is left behind whatever happens; a temporary folder that
        cannot take it easily means the part is held in memory."""
        size = self.pkg.size(part)
        if not self.spill or size < SPILL_SIZE or not _CAN_RELEASE:
            return self.pkg.read_large(part)
        try:
            if shutil.disk_usage(tempfile.gettempdir()).free < 2 * size + (64 << 20):
                return self.pkg.read_large(part)  # a folder nearly full: left to others
            with tempfile.TemporaryFile(prefix="sheets-connector-sheet-") as fh:
                with self.pkg.open(part) as f:
                    shutil.copyfileobj(f, fh, 1 << 20)
                fh.flush()
                return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)  # the map keeps the file
        except OSError as e:  # a full disk, a folder that takes no such file: held in memory
            log.debug("the sheet %s is read into memory (%s)", part, e)
            return self.pkg.read_large(part)

    def new_sheet_xml(self) -> bytes:
        """A new tab's worksheet part, in the workbook's own namespace (Transitional or Strict)."""
        return _NEW_SHEET.format(main=main_namespace(self.root), rel=rel_namespace(self.root)).encode()

    def free_part(self, taken: set[str]) -> str:
        """A part name for a new worksheet, next to the existing ones."""
        folder = posixpath.dirname(next((s.part for s in self.sheets if s.kind == "worksheet" and s.part), "")) \
            or posixpath.join(posixpath.dirname(self.main), "worksheets")
        names = {n.lower() for n in self.zf.namelist()} | taken
        n = 1
        while f"{folder}/sheet{n}.xml".lower() in names:
            n += 1
        return f"{folder}/sheet{n}.xml"

    def _worksheet_rel_type(self) -> str:
        """The worksheet relationship type this workbook uses (Strict files have their own)."""
        for rid, kind, _target in self.pkg.rels(self.main):
            if kind == "worksheet":
                return self.pkg.rel_type(self.main, rid)
        return rel_namespace(self.root) + "/worksheet"

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
        rel_type = self._worksheet_rel_type()
        try:
            rels_xml, ids = add_relationships(rels_xml, [(rel_type, posixpath.relpath(p, wb_dir)) for _t, p in tabs])
            ct_xml = self.pkg.read("[Content_Types].xml")
            part_root(ct_xml, "Types", "[Content_Types].xml")
            self.replace["[Content_Types].xml"] = set_content_types(ct_xml, {p: _WORKSHEET_CT for _t, p in tabs})
        except PackageError as e:
            raise Unsupported(str(e)) from None
        self.replace[rels_name] = rels_xml
        # <sheet> elements at the end of <sheets>, with the prefix workbook.xml gives the r namespace
        text = self.workbook_xml
        rel_ns = rel_namespace(self.root).encode()
        r_prefix = next((pfx for pfx, uri in self.root.namespaces.items() if uri == rel_ns and pfx), None)
        p = self.root.prefix
        next_id = max((s.sheet_id for s in self.sheets), default=0) + 1
        elements = []
        for (title, _part), rid in zip(tabs, ids):
            if r_prefix:
                elements.append(f'<sheet name="{xml_attr(title)}" sheetId="{next_id}" {r_prefix.decode()}:id="{rid}"/>')
            else:
                elements.append(f'<sheet xmlns:r="{rel_ns.decode()}" name="{xml_attr(title)}" sheetId="{next_id}" r:id="{rid}"/>')
            next_id += 1
        close = tag_re(rb"</{p}sheets\s*>", p).search(text)
        if not close:
            raise Unsupported("workbook.xml has no list of sheets")
        self.replace[self.main] = text[: close.start()] + with_prefix("".join(elements).encode(), p) + text[close.start():]

    def add_styles_part(self) -> str:
        """Register a styles part for a workbook that had none; return its name."""
        folder = posixpath.dirname(self.main)
        n, part = 0, posixpath.join(folder, "styles.xml")
        while self.pkg.has(part):
            n += 1
            part = posixpath.join(folder, f"styles{n}.xml")
        rels_name = rels_part_for(self.main)
        rels_xml = self.replace.get(rels_name) or self.pkg.read(rels_name)
        ct_xml = self.replace.get("[Content_Types].xml") or self.pkg.read("[Content_Types].xml")
        try:
            self.replace[rels_name] = add_relationships(rels_xml, [(rel_namespace(self.root) + "/styles",
                                                                    posixpath.relpath(part, folder))])[0]
            self.replace["[Content_Types].xml"] = set_content_types(ct_xml, {part: _STYLES_CT})
        except PackageError as e:
            raise Unsupported(str(e)) from None
        self.styles_part = part
        return part

    def drop_from_calc_chain(self, replaced: Mapping[str, set[str]]) -> None:
        """Take the formula cells the writes overwrote out of the calculation chain."""
        if not replaced:
            return
        chain = next((t for _i, k, t in self.pkg.rels(self.main) if k == "calcChain" and t), None)
        if not chain or not self.pkg.has(chain):
            return
        ids = {s.part: str(s.sheet_id).encode() for s in self.sheets}
        gone = {(ids[part], ref.encode()) for part, refs in replaced.items() if part in ids for ref in refs}
        xml = self.pkg.read(chain)
        p = part_root(xml, "calcChain", "calcChain.xml").prefix
        pieces: list[bytes] = []
        pos = 0
        sheet_id = b""
        carry: bytes | None = None  # the sheet id a dropped entry gave the entries after it
        for m in tag_re(rb"<{p}c\b[^>]*?/?>(?:\s*</{p}c\s*>)?", p).finditer(xml):
            tag = m.group(0)
            i = re.search(rb"""\si\s*=\s*["'](\d+)["']""", tag)
            if i:
                sheet_id, carry = i.group(1), None
            ref = re.search(rb"""\sr\s*=\s*["']\$?([A-Z]+)\$?(\d+)["']""", tag)
            if ref and (sheet_id, ref.group(1) + ref.group(2)) in gone:
                pieces.append(xml[pos: m.start()])
                pos = m.end()
                if i:
                    carry = sheet_id
                continue
            if carry is not None and not i:  # the entry relied on the dropped one for its sheet
                tag = tag.replace(b"<" + p + b"c", b"<" + p + b'c i="' + carry + b'"', 1)
                pieces += [xml[pos: m.start()], tag]
                pos = m.end()
            carry = None
        pieces.append(xml[pos:])
        kept = b"".join(pieces)
        if tag_re(rb"<{p}c\b", p).search(kept):
            self.replace[chain] = kept
            return
        # no formula left in the chain: the part goes (an empty chain is not valid), with its
        # relationship and content type
        rels_name = rels_part_for(self.main)
        rels_xml = self.replace.get(rels_name) or self.pkg.read(rels_name)
        target = posixpath.relpath(chain, posixpath.dirname(self.main))
        rels_xml, n = re.subn(rb"<Relationship\b[^>]*?\sTarget\s*=\s*[\"'](?:/" + re.escape(chain.encode()) + rb"|"
                              + re.escape(target.encode()) + rb")[\"'][^>]*?/>", b"", rels_xml)
        if n != 1:
            raise Unsupported("the calculation chain's relationship cannot be found")
        ct_xml = self.replace.get("[Content_Types].xml") or self.pkg.read("[Content_Types].xml")
        ct_xml = re.sub(rb"<Override\b[^>]*?\sPartName\s*=\s*[\"']/" + re.escape(chain.encode()) + rb"[\"'][^>]*?/>",
                        b"", ct_xml, flags=re.IGNORECASE)
        self.replace[rels_name] = rels_xml
        self.replace["[Content_Types].xml"] = ct_xml
        self.drop.add(chain)


# --------------------------------------------------------------------------------------------
# The zip


#: zlib level of the parts the writer makes.  Excel itself writes "super fast" deflate (the
#: zip's flag, in 31 of the 34 Excel-made files of the test corpus), which is level 1; measured
#: on the 100,000-row benchmark's results sheet (66 MB of XML): level 1 0.23 s -> 9.7 MB,
#: level 3 0.34 s -> 8.6 MB, level 6 (zlib's default) 0.70 s -> 7.6 MB.
COMPRESS_LEVEL = 1


#: worksheet parts larger than this are mapped from a file while they are patched, not held
#: in memory (``_Book._sheet_data``); 16 MB of XML is about 30,000 rows of 10 columns
SPILL_SIZE = 16 << 20
_CAN_RELEASE = hasattr(mmap.mmap, "madvise") and hasattr(mmap, "MADV_DONTNEED")


class _NeedZip64(Exception):
    """A part grew past what a zip entry without the zip64 extension can hold."""


def _write_zip(zf: zipfile.ZipFile, dst: Path, book: _Book, sheets: dict[str, SheetPatch],
               new_tabs: list[tuple[str, str]], *, recalc: bool, zip64: bool) -> Patched:
    """Copy ``zf`` to ``dst`` (fsynced) member by member, with the same compression, each
    patched sheet streamed into its member as it is made (never held whole).  The parts that
    depend on what the sheets needed (styles.xml, workbook.xml, the calculation chain, the
    workbook's relationships, the content types) are written after the sheets; the zip's
    directory still lists every part in the original's order, new tabs at the end."""
    names = {part: name for name, part in ((s.name, s.part) for s in book.sheets)}
    names.update({part: title for title, part in new_tabs})
    created = {part for _t, part in new_tabs}
    patched = {part.lower(): (part, sheet) for part, sheet in sheets.items() if part not in created}
    chain = next((t for _i, k, t in book.pkg.rels(book.main) if k == "calcChain" and t), None)
    later = {p.lower() for p in (book.main, rels_part_for(book.main), "[Content_Types].xml", book.styles_part, chain) if p}
    allowed: dict[tuple[str, str], int] = {}
    replaced: dict[str, set[str]] = {}  # sheet part -> references of the formulas overwritten
    written: set[str] = set()  # names of the original's members rewritten
    order = [info.filename for info in zf.infolist()]

    def stream(zi: zipfile.ZipInfo, part: str, sheet: SheetPatch) -> None:
        _set_level(zi)
        with out.open(zi, "w", force_zip64=zip64) as w, _Behind(w) as behind:
            sheet.write_to(_Limited(behind, None if zip64 else zipfile.ZIP64_LIMIT))
        title = names[part]
        for what, n in (("formula", len(sheet.formulas)), ("hidden column", sheet.unhidden),
                        ("column width", sheet.unhidden)):
            if n:
                allowed[(title, what)] = allowed.get((title, what), 0) + n
        if sheet.formulas:
            replaced[part] = set(sheet.formulas)

    with open(dst, "wb") as fh:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as out:
            held: list[zipfile.ZipInfo] = []
            for info in zf.infolist():
                key = info.filename.lower()
                if key in later:
                    held.append(info)
                elif key in patched:
                    stream(_clone_info(info), *patched.pop(key))
                    written.add(info.filename)
                else:
                    _copy_member(zf, info, out)
            for _title, part in new_tabs:
                zi = zipfile.ZipInfo(part, date_time=dt.datetime.now().timetuple()[:6])
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o600 << 16
                stream(zi, part, sheets[part])
            book.drop_from_calc_chain(replaced)
            if recalc or replaced:  # a replaced formula: the cells that read it are stale
                book.replace[book.main] = mark_full_calc(book.replace.get(book.main, book.workbook_xml))
            added: dict[str, bytes] = {}
            if book.styles.changed:
                if book.styles_part:
                    book.replace[book.styles_part] = book.styles.render()
                else:
                    added[book.add_styles_part()] = book.styles.render()
            todo = {name.lower(): data for name, data in book.replace.items()}  # part names are case-insensitive
            gone = {name.lower() for name in book.drop}
            for info in held:
                key = info.filename.lower()
                if key in gone:
                    written.add(info.filename)
                    continue
                new = todo.pop(key, None)
                if new is None:
                    _copy_member(zf, info, out)
                else:
                    zi = _clone_info(info)
                    _set_level(zi)
                    out.writestr(zi, new)
                    written.add(info.filename)
            if todo or patched:
                raise Unsupported(f"the part {next(iter(todo), None) or next(iter(patched))} is not in the zip under that name")
            for name, data in added.items():
                zi = zipfile.ZipInfo(name, date_time=dt.datetime.now().timetuple()[:6])
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o600 << 16
                _set_level(zi)
                out.writestr(zi, data)
            rank = {name: i for i, name in enumerate(order)}
            out.filelist.sort(key=lambda zi: rank.get(zi.filename, len(rank)))
        fh.flush()
        os.fsync(fh.fileno())
    return Patched(written, created | set(added), allowed)


class _Behind:
    """A member written by a second thread, a megabyte behind: the CRC, the compression and
    the disk write (zlib and the file release the GIL) run on the other core while the sheet
    makes its next megabyte.  At most two pieces wait (memory stays flat); the thread's
    error is raised in the caller, at its next write or at the end."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="xlsx-member-writer", daemon=True)

    def __enter__(self) -> _Behind:
        self.thread.start()
        return self

    def _run(self) -> None:
        while (data := self.pieces.get()) is not None:
            if self.error is None:  # after an error the rest is only drained
                try:
                    self.out.write(data)
                except BaseException as e:  # noqa: BLE001 - raised in the caller's thread
                    self.error = e

    def write(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        self.pieces.put(data)
        return len(data)

    def __exit__(self, *exc: object) -> None:
        self.pieces.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


class _Limited:
    """A member being written that refuses to grow past ``limit`` bytes (None: no limit)."""

    def __init__(self, out: _Behind, limit: int | None) -> None:
        self.out, self.limit, self.size = out, limit, 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise _NeedZip64
        return self.out.write(data)


def _set_level(zi: zipfile.ZipInfo) -> None:
    """Compress ``zi`` at ``COMPRESS_LEVEL`` (the attribute is public from Python 3.13)."""
    setattr(zi, "compress_level" if sys.version_info >= (3, 13) else "_compresslevel", COMPRESS_LEVEL)


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
