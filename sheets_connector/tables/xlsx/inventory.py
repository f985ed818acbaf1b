"""What an .xlsx/.xlsm package holds, counted, so a save can prove it lost nothing.

``take_inventory(path)`` reads the zip directly (zipfile + ElementTree, never openpyxl) and
counts the features a user could miss after the connector rewrites their workbook: sheets,
charts, pictures, shapes, comments, macros, pivot tables, slicers, tables, data validation,
conditional formatting, merged cells, frozen panes, column widths, print settings, formulas...

``find_losses(before, after)`` compares two inventories and says, in plain words, what the
second one has less of ("2 sparkline groups on sheet 'Sales'").  Part names are never
compared (openpyxl renames ``chart1.xml`` and friends); kinds and counts are.

Cost: every part except the worksheets' cell data is small and parsed fully.  The cell data
(``<sheetData>``, megabytes for a large sheet) is never parsed: formulas and hidden/grouped
rows are counted with byte regexes, which is safe because a literal ``<`` can only start a
tag in XML (text and attribute values must escape it).
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET

from .package import CONTENT_TYPES, Package, PackageError, local_name, workbook_sheets

__all__ = ["Inventory", "find_losses", "take_inventory"]

# Relationship types are compared by their last path segment ("chart", "pivotTable", ...).
_MAIN_KINDS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "workbook",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "macro-enabled workbook",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "template",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "macro-enabled template",
}
_SHEET_KINDS = {
    "worksheet": "worksheet",
    "chartsheet": "chart sheet",
    "dialogsheet": "dialog sheet",
    "xlMacrosheet": "macro sheet",
    "xlIntlMacrosheet": "macro sheet",
}

# Content types that a rewrite may legitimately drop or rebuild: the application rebuilds them
# (calculation chain, app.xml statistics), they are re-created from the object model (styles,
# strings, theme), or they are counted in detail elsewhere (everything in _COVERED).
_IGNORED_CONTENT_TYPES = {
    "application/vnd.openxmlformats-package.relationships+xml",
    "application/vnd.openxmlformats-package.core-properties+xml",
    "application/vnd.openxmlformats-officedocument.extended-properties+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
    "application/vnd.openxmlformats-officedocument.theme+xml",
    # Excel 2013+ chart style presets: the chart's actual formatting lives in the chart part.
    "application/vnd.ms-office.chartstyle+xml",
    "application/vnd.ms-office.chartcolorstyle+xml",
    # The printer driver's private settings blob (DEVMODE).  Paper size, orientation, margins
    # and scaling are kept in <pageSetup> and compared below; Excel rebuilds the blob.
    "application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings",
    "application/xml",  # generic XML; customXml items are counted by their relationship
}
_COVERED_CONTENT_TYPE_WORDS = (
    "worksheet", "chartsheet", "dialogsheet", "macrosheet", "drawing+xml", "drawingml.chart",
    "chartex", "vmlDrawing", "comments", "threadedcomments", "person", "table+xml",
    "pivotTable", "pivotCache", "slicer", "timeline", "externalLink", "ctrlProps",
    "activeX", "vbaProject", "vbaProjectSignature", "custom-properties", "customXmlProperties",
    "oleObject", "package", "queryTable", "connections", "sheet.main", "template.main",
    "macroEnabled.main", "metadata", "image/", "thumbnail",
)

# Workbook/package relationships that are not features by themselves.
_IGNORED_REL_TYPES = {
    "officeDocument", "core-properties", "extended-properties", "metadata/core-properties",
    "worksheet", "chartsheet", "dialogsheet", "xlMacrosheet", "xlIntlMacrosheet",
    "styles", "sharedStrings", "theme", "calcChain", "printerSettings",
    # Counted in detail from their parts instead of as a relationship:
    "drawing", "vmlDrawing", "comments", "threadedComment", "custom-properties", "hyperlink",
}

# Sheet-level elements a rewrite may add, drop or rebuild without losing anything the user set.
_IGNORED_SHEET_ELEMENTS = {
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "phoneticPr", "extLst", "AlternateContent", "drawing", "legacyDrawing",
    # Compared in detail below:
    "mergeCells", "conditionalFormatting", "dataValidations", "hyperlinks", "autoFilter",
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "sheetProtection", "protectedRanges", "tableParts", "oleObjects", "controls", "picture",
}

# extLst <ext uri="..."> blocks (Excel 2010+ and LibreOffice extensions).
_EXT_URIS = {
    "{05C60535-1F16-4fd2-B633-F4F36F0B64E0}": ("sparklineGroup", "sparkline group", "sparkline groups"),
    "{78C0D931-6437-407d-A8EE-F0AAD7539E65}": ("conditionalFormatting", "Excel 2010 conditional formatting rule (data bars, icon sets)", "Excel 2010 conditional formatting rules (data bars, icon sets)"),
    "{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}": ("dataValidation", "Excel 2010 data validation rule", "Excel 2010 data validation rules"),
    "{3A4CF648-6AED-40f4-86FF-DC5316D8AED3}": ("slicer", "slicer", "slicers"),
    "{A8765BA9-456A-4dab-B4F3-ACF838C121DE}": ("slicer", "slicer", "slicers"),
    "{7E03D99C-DC04-49d9-9315-930204A7B6E9}": ("timelineRef", "timeline", "timelines"),
    "{BBE1A952-AA13-448e-AADC-164F8A28A991}": ("slicerCache", "slicer connection", "slicer connections"),
    "{46BE6895-7355-4a93-B00E-2C351335B9C9}": ("slicerCache", "slicer connection", "slicer connections"),
    "{D0CA8CA8-9F24-4464-BF8E-62219DCF47F9}": ("timelineCacheRef", "timeline connection", "timeline connections"),
    "{FCE2AD5D-F65C-4FA6-A056-5C36A1767C68}": ("dataModel", "Power Pivot data model", "Power Pivot data models"),
    "{876F7934-8845-4945-9796-88D515C7AA90}": ("pivotCaches", "pivot cache extension", "pivot cache extensions"),
}
# Extensions that only hold settings the application recomputes or its own bookkeeping.
_HARMLESS_EXT_URIS = {
    "{B58B0392-4F1F-4190-BB64-5DF3571DCE5F}",  # Excel 365 calcFeatures
    "{140A7094-0E35-4892-8432-C4D2E57EDEB5}",  # x15 workbookPr chartTrackingRefBase
    "{7626C862-2A13-11E5-B345-FEFF819CDC9F}",  # LibreOffice extCalcPr (string reference syntax)
    "{79F54976-1DA5-4618-B147-4CDE4B953A38}",  # x14 workbookPr defaultImageDpi
    "{C3380CC4-5D6E-409C-BE32-E72D297353CC}",  # Excel revision uid (xr)
}

_WORDS: dict[str, tuple[str, str]] = {
    # workbook
    "sheet": ("sheet", "sheets"),
    "defined name": ("named range (defined name)", "named ranges (defined names)"),
    "workbook protection": ("workbook structure protection", "workbook structure protection"),
    "workbook type": ("workbook type (macro-enabled/template)", "workbook type (macro-enabled/template)"),
    "custom property": ("custom document property", "custom document properties"),
    "macros": ("VBA macro project", "VBA macro projects"),
    # sheet
    "formula": ("formula", "formulas"),
    "chart": ("chart", "charts"),
    "picture": ("picture", "pictures"),
    "shape": ("shape or text box", "shapes or text boxes"),
    "group shape": ("group of shapes", "groups of shapes"),
    "connector": ("connector line", "connector lines"),
    "other drawing object": ("other drawing object (e.g. SmartArt)", "other drawing objects (e.g. SmartArt)"),
    "comment": ("comment/note", "comments/notes"),
    "threaded comment": ("threaded comment", "threaded comments"),
    "merged cells": ("merged cell range", "merged cell ranges"),
    "hyperlink": ("hyperlink", "hyperlinks"),
    "data validation": ("data validation (drop-down/check) range", "data validation (drop-down/check) ranges"),
    "conditional formatting": ("conditional formatting rule", "conditional formatting rules"),
    "autofilter": ("filter (autofilter) setting", "filter (autofilter) settings"),
    "frozen panes": ("frozen rows/columns setting", "frozen rows/columns settings"),
    "column width": ("column width", "column widths"),
    "hidden column": ("hidden column", "hidden columns"),
    "hidden row": ("hidden row", "hidden rows"),
    "grouped row": ("grouped (outline) row", "grouped (outline) rows"),
    "grouped column": ("grouped (outline) column", "grouped (outline) columns"),
    "print setting": ("print setting (page setup, margins, header/footer)", "print settings (page setup, margins, header/footer)"),
    "page break": ("page break", "page breaks"),
    "sheet protection": ("sheet protection", "sheet protection"),
    "protected range": ("protected range", "protected ranges"),
    "tab colour": ("tab colour", "tab colours"),
    "form control": ("form control (button, check box...)", "form controls (buttons, check boxes...)"),
    "activex control": ("ActiveX control", "ActiveX controls"),
    "embedded object": ("embedded object (OLE)", "embedded objects (OLE)"),
    "table": ("table (Format as Table)", "tables (Format as Table)"),
    "pivot table": ("pivot table", "pivot tables"),
    "background picture": ("sheet background picture", "sheet background pictures"),
}


@dataclass
class Inventory:
    """Features of one workbook package.

    ``features[(where, what)]`` is a multiset of items: ``where`` is "" for the workbook or a
    sheet name, ``what`` a key of ``_WORDS`` (or a free-form key with its own words in
    ``words``).  Plain counts are stored as ``Counter({"": n})``; settings that must survive
    with their values (column widths, print settings) are stored as their items.
    """

    features: dict[tuple[str, str], Counter] = field(default_factory=dict)
    words: dict[str, tuple[str, str]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)  # what -> sha256 of bytes that must not change
    sheets: list[str] = field(default_factory=list)
    other_sheets: int = 0  # macro and dialog sheets among ``sheets`` (python-calamine does not list them)

    def add(self, where: str, what: str, items: Iterable[object] | int) -> None:
        bag = self.features.setdefault((where, what), Counter())
        if isinstance(items, int):
            if items:
                bag[""] += items
        else:
            bag.update(items)

    def count(self, where: str, what: str) -> int:
        return sum(self.features.get((where, what), Counter()).values())


# --------------------------------------------------------------------------------------------
# Inventory


def take_inventory(source: str | Path | IO[bytes] | zipfile.ZipFile) -> Inventory:
    """Count what a workbook package holds.  Raises PackageError if it cannot be read."""
    if isinstance(source, zipfile.ZipFile):
        return _inventory(Package(source))
    try:
        with zipfile.ZipFile(source) as zf:
            return _inventory(Package(zf))
    except zipfile.BadZipFile as e:
        raise PackageError(f"not a valid zip file ({e})") from None


def _inventory(pkg: Package) -> Inventory:
    inv = Inventory()
    main = pkg.main
    inv.add("", "workbook type", [_MAIN_KINDS.get(pkg.content_type(main) or "", pkg.content_type(main) or "?")])
    inv.words["workbook type"] = _WORDS["workbook type"]

    for _id, kind, target in pkg.rels(""):
        if kind == "custom-properties" and target and pkg.has(target):
            names = [el.get("name", "") for el in pkg.xml(target) if local_name(el.tag) == "property"]
            inv.add("", "custom property", names)
        if kind not in _IGNORED_REL_TYPES:
            _add_rel_feature(inv, "", kind)

    # ---- workbook.xml
    sheets = workbook_sheets(pkg)
    inv.sheets = [s.name for s in sheets]
    inv.other_sheets = sum(1 for s in sheets if s.kind not in ("worksheet", "chartsheet"))
    for s in sheets:
        inv.add("", "sheet", [(s.name, _SHEET_KINDS.get(s.kind, s.kind), s.state)])
    for child in pkg.xml(main):
        name = local_name(child.tag)
        if name == "definedNames":
            for dn in child:
                if dn.get("name", "") == "_xlnm._FilterDatabase":
                    continue  # rebuilt from the sheet's autofilter
                scope = dn.get("localSheetId")
                scope_name = inv.sheets[int(scope)] if scope and scope.isdigit() and int(scope) < len(inv.sheets) else ""
                inv.add("", "defined name", [(dn.get("name", ""), scope_name)])
        elif name == "workbookProtection":
            if any(v not in ("0", "false") for v in child.attrib.values()):
                inv.add("", "workbook protection", 1)
        elif name == "extLst":
            _add_ext(inv, "", child)
    for _id, kind, target in pkg.rels(main):
        if kind not in _IGNORED_REL_TYPES and kind != "vbaProject":
            _add_rel_feature(inv, "", kind)
        if kind == "vbaProject" and target and pkg.has(target):
            inv.digests["macros"] = hashlib.sha256(pkg.read(target)).hexdigest()
            inv.add("", "macros", 1)
        elif kind == "vbaProjectSignature" and target and pkg.has(target):
            inv.digests["macro signature"] = hashlib.sha256(pkg.read(target)).hexdigest()

    # ---- sheets
    for s in sheets:
        if not s.part or not pkg.has(s.part):
            raise PackageError(f"the part of sheet '{s.name}' is missing")
        _sheet_inventory(inv, pkg, s.name, s.part)

    # ---- catch-all: every other kind of part, by content type
    for part in pkg.parts():
        ct = pkg.content_type(part)
        if part == CONTENT_TYPES or ct is None or ct in _IGNORED_CONTENT_TYPES:
            continue
        if any(w in ct for w in _COVERED_CONTENT_TYPE_WORDS):
            continue
        key = f"part:{ct}"
        inv.words[key] = _internal_words(ct.split("/")[-1].split("+")[0].rsplit(".", 1)[-1])
        inv.add("", key, 1)
    return inv


def _add_rel_feature(inv: Inventory, where: str, kind: str) -> None:
    """A relationship kind from the package, the workbook or a sheet, counted with its words."""
    words = _REL_WORDS.get(kind) or _internal_words(kind)
    key = f"rel:{kind}"
    inv.words[key] = words
    inv.add(where, key, 1)


_REL_WORDS: dict[str, tuple[str, str]] = {
    "vbaProject": ("VBA macro project", "VBA macro projects"),
    "vbaProjectSignature": ("macro digital signature", "macro digital signatures"),
    "pivotCacheDefinition": ("pivot table data cache", "pivot table data caches"),
    "externalLink": ("link to another workbook", "links to other workbooks"),
    "customXml": ("custom XML part", "custom XML parts"),
    "connections": ("data connection", "data connections"),
    "slicerCache": ("slicer connection", "slicer connections"),
    "timelineCache": ("timeline connection", "timeline connections"),
    "sheetMetadata": ("dynamic-array formula information", "dynamic-array formula information"),
    "person": ("list of comment authors", "lists of comment authors"),
    "thumbnail": ("preview picture (thumbnail)", "preview pictures (thumbnails)"),
    "extensibility": ("custom ribbon (menu) definition", "custom ribbon (menu) definitions"),
    "ui/extensibility": ("custom ribbon (menu) definition", "custom ribbon (menu) definitions"),
    "table": ("table (Format as Table)", "tables (Format as Table)"),
    "pivotTable": ("pivot table", "pivot tables"),
    "slicer": ("slicer", "slicers"),
    "timeline": ("timeline", "timelines"),
    "ctrlProp": ("form control (button, check box...)", "form controls (buttons, check boxes...)"),
    "control": ("ActiveX control", "ActiveX controls"),
    "oleObject": ("embedded object (OLE)", "embedded objects (OLE)"),
    "package": ("embedded document", "embedded documents"),
    "image": ("sheet background picture", "sheet background pictures"),
    "queryTable": ("query table (external data)", "query tables (external data)"),
    "webextension": ("Office add-in", "Office add-ins"),
    "webextensiontaskpanes": ("Office add-in task pane", "Office add-in task panes"),
}


_IN_CELL = ("set of data Excel keeps for pictures and data types placed in cells",
            "sets of data Excel keeps for pictures and data types placed in cells")
_INTERNAL_WORDS: dict[str, tuple[str, str]] = {
    **{k.lower(): _IN_CELL for k in ("rdRichValue", "rdRichValueStructure", "rdRichValueTypes", "rdRichValueWebImage",
                                     "richValueRel", "rdSupportingPropertyBag", "rdSupportingPropertyBagStructure",
                                     "rdArray", "richStyles", "richData", "richValue", "richValueTypes",
                                     "richValueStructure")},
    "featurepropertybag": ("set of Excel feature settings (such as check boxes in cells)",
                           "sets of Excel feature settings (such as check boxes in cells)"),
    "namedsheetview": ("saved sheet view (View > Sheet View)", "saved sheet views (View > Sheet View)"),
    "threadedcomment": ("threaded comment", "threaded comments"),
    "calcchain": ("list of the order Excel calculates formulas in", "lists of the order Excel calculates formulas in"),
    "customproperty": ("custom sheet property", "custom sheet properties"),
    "customxmlprops": ("custom XML part", "custom XML parts"),
    # content types of embedded files and controls, by their last word
    "msword": ("embedded Word document", "embedded Word documents"),
    "document": ("embedded Word document", "embedded Word documents"),
    "presentation": ("embedded PowerPoint presentation", "embedded PowerPoint presentations"),
    "controlproperties": ("form control (button, check box...)", "form controls (buttons, check boxes...)"),
}


def _internal_words(kind: str) -> tuple[str, str]:
    """Words for a kind of part the user never sees by name ("rdRichValueStructure"):
    what it is for where it is known, else "a piece of Excel's internal data"."""
    known = _INTERNAL_WORDS.get(kind.lower())
    if known:
        return known
    return ("piece of the workbook's internal data (not a sheet, cell or picture you see)",
            "pieces of the workbook's internal data (not sheets, cells or pictures you see)")


_ROW_TAG = rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*"
_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_HIDDEN_ROW_RE = re.compile(_ROW_TAG + rb'\shidden="(?:1|true)"')
_OUTLINE_ROW_RE = re.compile(_ROW_TAG + rb'\soutlineLevel="[1-9]')
_SHEETDATA_OPEN_RE = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)sheetData\b[^>]*?(/?)>")


_CHUNK = 1 << 20


def _scan_sheet(pkg: Package, part: str) -> tuple[bytes, list[int | None]]:
    """(the sheet XML without the cell data, [formulas, hidden rows, grouped rows] - None where
    the cell data has no such tag at all), reading the
    part a megabyte at a time: the cell data of a large sheet (tens of megabytes) is counted
    as it streams by, never held whole.  A piece of cell data is cut before its last ``<``, so
    no tag (what the patterns match) is split between two pieces."""
    head = b""
    counts: list[int | None] = [None, None, None]
    with pkg.open(part) as f:
        while True:  # the part up to the end of <sheetData ...>
            chunk = f.read(_CHUNK)
            head += chunk
            m = _SHEETDATA_OPEN_RE.search(head)
            if m or not chunk:
                break
        if not m or m.group(2) == b"/":
            return head + f.read(), counts
        close_tag = b"</" + m.group(1) + b"sheetData>"
        frame_head, rest = head[: m.end()], head[m.end():]
        del head
        while True:
            close = rest.find(close_tag)
            if close >= 0:
                _count_cell_tags(rest[:close], counts)
                return frame_head + rest[close:] + f.read(), counts
            chunk = f.read(_CHUNK)
            if not chunk:
                raise PackageError("a worksheet's cell data is not closed")
            cut = rest.rfind(b"<")
            if cut > 0:
                _count_cell_tags(rest[:cut], counts)
                rest = rest[cut:]
            rest += chunk


def _count_cell_tags(cells: bytes, counts: list[int | None]) -> None:
    # (a plain substring test first: most sheets have none, and it is ten times faster than the regex)
    if b"<f" in cells or b":f" in cells:
        counts[0] = (counts[0] or 0) + len(_FORMULA_RE.findall(cells))
    if b"hidden" in cells:
        counts[1] = (counts[1] or 0) + len(_HIDDEN_ROW_RE.findall(cells))
    if b"outlineLevel" in cells:
        counts[2] = (counts[2] or 0) + len(_OUTLINE_ROW_RE.findall(cells))


def _num(value: str | None) -> str:
    """Normalise an attribute value so "true"/"1"/"1.0" compare equal."""
    if value is None:
        return ""
    value = {"true": "1", "false": "0"}.get(value, value)
    try:
        return repr(round(float(value), 4))
    except ValueError:
        return value


# Print settings whose value is the OOXML default may be written or left out by either side.
_PRINT_DEFAULTS = {
    ("printOptions", "horizontalCentered"): "0.0", ("printOptions", "verticalCentered"): "0.0",
    ("printOptions", "headings"): "0.0", ("printOptions", "gridLines"): "0.0",
    ("printOptions", "gridLinesSet"): "1.0",
    ("pageSetup", "paperSize"): "1.0", ("pageSetup", "scale"): "100.0",
    ("pageSetup", "firstPageNumber"): "1.0", ("pageSetup", "fitToWidth"): "1.0",
    ("pageSetup", "fitToHeight"): "1.0", ("pageSetup", "pageOrder"): "downThenOver",
    ("pageSetup", "orientation"): "default", ("pageSetup", "usePrinterDefaults"): "1.0",
    ("pageSetup", "blackAndWhite"): "0.0", ("pageSetup", "draft"): "0.0",
    ("pageSetup", "cellComments"): "none", ("pageSetup", "useFirstPageNumber"): "0.0",
    ("pageSetup", "errors"): "displayed", ("pageSetup", "horizontalDpi"): "600.0",
    ("pageSetup", "verticalDpi"): "600.0", ("pageSetup", "copies"): "1.0",
}


def _sheet_inventory(inv: Inventory, pkg: Package, sheet: str, part: str) -> None:
    frame, counts = _scan_sheet(pkg, part)
    for what, n in zip(("formula", "hidden row", "grouped row"), counts):
        if n is not None:
            inv.add(sheet, what, n)
    try:
        root = ET.fromstring(frame)
    except ET.ParseError as e:
        raise PackageError(f"sheet '{sheet}' is not well-formed XML ({e})") from None

    for child in root:
        name = local_name(child.tag)
        if name not in _IGNORED_SHEET_ELEMENTS:
            key = f"element:{name}"
            inv.words[key] = (f"sheet setting '{name}'", f"sheet settings '{name}'")
            inv.add(sheet, key, 1)
        if name == "sheetPr":
            for sub in child:
                if local_name(sub.tag) == "tabColor":
                    inv.add(sheet, "tab colour", [tuple(sorted(sub.attrib.items()))])
        elif name == "sheetViews":
            for pane in child.iter():
                if local_name(pane.tag) == "pane" and pane.get("state") in ("frozen", "frozenSplit"):
                    inv.add(sheet, "frozen panes", [(_num(pane.get("xSplit")), _num(pane.get("ySplit")))])
        elif name == "cols":
            for col in child:
                lo, hi = int(col.get("min", "0")), int(col.get("max", "0"))
                if hi - lo > 1024:  # "all the remaining columns": one item, not 16k
                    hi = lo
                for c in range(lo, hi + 1):
                    if col.get("customWidth") in ("1", "true") and col.get("width"):
                        inv.add(sheet, "column width", [(c, _num(col.get("width")))])
                    if col.get("hidden") in ("1", "true"):
                        inv.add(sheet, "hidden column", [c])
                    if col.get("outlineLevel", "0") not in ("0", ""):
                        inv.add(sheet, "grouped column", [c])
        elif name == "mergeCells":
            inv.add(sheet, "merged cells", [m.get("ref", "") for m in child])
        elif name == "hyperlinks":
            inv.add(sheet, "hyperlink", [h.get("ref", "") for h in child])
        elif name == "dataValidations":
            for dv in child:
                for ref in (dv.get("sqref") or "").split():
                    inv.add(sheet, "data validation", [(dv.get("type", ""), ref)])
        elif name == "conditionalFormatting":
            refs = (child.get("sqref") or "").split()
            for rule in child:
                if local_name(rule.tag) == "cfRule":
                    inv.add(sheet, "conditional formatting", [(ref, rule.get("type", "")) for ref in refs])
        elif name == "autoFilter":
            inv.add(sheet, "autofilter", [child.get("ref", "")])
            for fc in child.iter():
                if local_name(fc.tag) == "filterColumn":
                    inv.add(sheet, "autofilter", [("column", fc.get("colId"))])
        elif name in ("printOptions", "pageMargins", "pageSetup"):
            items = ((name, local_name(k), _num(v)) for k, v in child.attrib.items() if local_name(k) != "id")
            inv.add(sheet, "print setting", [i for i in items if _PRINT_DEFAULTS.get(i[:2]) != i[2]])
        elif name == "headerFooter":
            inv.add(sheet, "print setting", [
                (local_name(s.tag), s.text or "") for s in child if (s.text or "").strip()
            ])
        elif name in ("rowBreaks", "colBreaks"):
            inv.add(sheet, "page break", [(name, b.get("id")) for b in child])
        elif name == "sheetProtection":
            if child.get("sheet") in ("1", "true"):
                inv.add(sheet, "sheet protection", 1)
        elif name == "protectedRanges":
            inv.add(sheet, "protected range", [p.get("sqref", "") for p in child])
        elif name == "extLst":
            _add_ext(inv, sheet, child)

    for _rid, kind, target in pkg.rels(part):
        if kind not in _IGNORED_REL_TYPES:
            _add_rel_feature(inv, sheet, kind)
        if not target or not pkg.has(target):
            continue
        if kind == "drawing":
            _drawing_inventory(inv, pkg, sheet, target)
        elif kind == "comments":
            inv.add(sheet, "comment", sum(1 for el in pkg.xml(target).iter() if local_name(el.tag) == "comment"))
        elif kind == "threadedComment":
            inv.add(sheet, "threaded comment", sum(1 for el in pkg.xml(target).iter() if local_name(el.tag) == "threadedComment"))


def _drawing_inventory(inv: Inventory, pkg: Package, sheet: str, part: str) -> None:
    root = pkg.xml(part)
    rels = {i: k for i, k, _t in pkg.rels(part)}
    for anchor in root:
        for obj in anchor:
            name = local_name(obj.tag)
            if name == "pic":
                inv.add(sheet, "picture", 1)
            elif name == "sp":
                inv.add(sheet, "shape", 1)
            elif name == "grpSp":
                inv.add(sheet, "group shape", 1)
            elif name == "cxnSp":
                inv.add(sheet, "connector", 1)
            elif name == "graphicFrame":
                rids = [v for el in obj.iter() for k, v in el.attrib.items() if local_name(k) == "id" and v in rels]
                if any(rels[r] in ("chart", "chartEx") for r in rids):
                    inv.add(sheet, "chart", 1)
                else:
                    inv.add(sheet, "other drawing object", 1)
            elif name == "AlternateContent":
                inv.add(sheet, "other drawing object", 1)


def _add_ext(inv: Inventory, where: str, ext_lst: ET.Element) -> None:
    for ext in ext_lst:
        uri = ext.get("uri", "")
        if uri in _HARMLESS_EXT_URIS:
            continue
        known = _EXT_URIS.get(uri)
        if known:
            tag, one, many = known
            key = f"ext:{tag}"
            inv.words[key] = (one, many)
            n = sum(1 for el in ext.iter() if local_name(el.tag) == tag)
            inv.add(where, key, max(n, 1))
        else:
            key = f"ext:{uri}"
            inv.words[key] = (f"Excel extension block {uri}", f"Excel extension blocks {uri}")
            inv.add(where, key, 1)


# --------------------------------------------------------------------------------------------
# Comparison


def find_losses(before: Inventory, after: Inventory, allowed: Mapping[tuple[str, str], int] | None = None) -> list[str]:
    """What ``after`` has less of than ``before``, in plain words, e.g. "2 charts on sheet 'Sales'".

    ``allowed`` excuses expected drops, e.g. ``{("Contacts", "formula"): 1}`` when the caller
    itself overwrote one formula cell.
    """
    allowed = allowed or {}
    lost: list[str] = []
    for (where, what), items in before.features.items():
        missing = items - after.features.get((where, what), Counter())
        n = sum(missing.values()) - allowed.get((where, what), 0)
        if n <= 0:
            continue
        if what == "sheet":  # say which, and what it was: "the macro sheet 'Macro1'"
            for name, kind, _state in sorted(missing):
                now = next((k for nm, k, _s in after.features.get((where, what), Counter()) if nm == name), None)
                change = f" (it would become an ordinary {now})" if now and now != kind else ""
                lost.append(f"the {kind} '{name}'{change}")
            continue
        one, many = before.words.get(what) or _WORDS.get(what) or (what, what)
        place = f" on sheet '{where}'" if where else ""
        lost.append(f"{n} {one if n == 1 else many}{place}")
    for what, digest in before.digests.items():
        if after.digests.get(what) != digest and not any(what in s for s in lost):
            lost.append(f"the {what} (VBA project) would not be kept byte for byte" if what == "macros"
                        else f"the {what} would not be kept byte for byte")
    return lost
