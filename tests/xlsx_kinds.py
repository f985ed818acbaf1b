"""Workbooks of the kinds issue 22 found in the wild, each from the smallest XML that has it.

Written part by part (no library in between), so each file holds exactly what the kind is
about and nothing a library would add or tidy away:

- ``headerless_column``: data and a formula showing "" in columns with no header;
- ``style_past_list``: cell formats pointing at a font index styles.xml does not have (as
  LibreOffice's bug file tdf100709 does; Excel shows those cells in its default font);
- ``array_beside``: an array formula right of the data whose last column shows "";
- ``pivot_beside``: a pivot table over the contacts, on their sheet, right of them;
- ``macro_sheet``: an Excel 4 macro sheet next to the contacts (a valid .xlsm part kind).

``tests/corpus/generate_kinds.py`` writes them into the corpus; the tests also build them.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTACTS = [("Email", "Mobile"), ("dana@example.com", "0541111111"), ("noa@example.com", "0522222222"),
            ("avi@example.com", "0533333333")]

STYLES = (f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def letter(col: int) -> str:
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


def cell(ref: str, value: object, style: int = 0, formula: str | None = None, array: str | None = None) -> str:
    s = f' s="{style}"' if style else ""
    f = ""
    if formula is not None:
        f = f'<f t="array" ref="{array}">{escape(formula)}</f>' if array else f"<f>{escape(formula)}</f>"
    if isinstance(value, str):
        if formula is not None:
            return f'<c r="{ref}"{s} t="str">{f}<v>{escape(value)}</v></c>'
        return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b">{f}<v>{int(value)}</v></c>'
    if value is None:
        return f'<c r="{ref}"{s}>{f}</c>' if f or s else ""
    return f'<c r="{ref}"{s}>{f}<v>{value}</v></c>'


def sheet_xml(rows: dict[int, list[str]], tail: str = "", root: str = "worksheet") -> str:
    body = "".join(f'<row r="{r}">{"".join(cells)}</row>' for r, cells in sorted(rows.items()) if cells)
    return f'<{root} xmlns="{MAIN}" xmlns:r="{REL}"><sheetData>{body}</sheetData>{tail}</{root}>'


def contact_rows(style: int = 0) -> dict[int, list[str]]:
    return {r: [cell(f"{letter(c)}{r}", v, style) for c, v in enumerate(values, start=1)]
            for r, values in enumerate(CONTACTS, start=1)}


def write(path: Path, sheets: list[tuple[str, str, str]], *, styles: str = STYLES,
          extra: dict[str, tuple[str, str]] | None = None, sheet_rels: dict[int, list[tuple[str, str]]] | None = None,
          book_rels: list[tuple[str, str]] | None = None, book_tail: str = "", macro: bool = False) -> Path:
    """``sheets``: (name, xml, kind) with kind "worksheet" or "macrosheet"; ``extra``: {part:
    (content type, xml)}; ``sheet_rels``: {sheet index: [(type, target)]}; ``book_rels``:
    more workbook relationships [(type, target)]."""
    types = {"xl/workbook.xml": f"{OFFICE}.sheet.main+xml" if not macro else "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
             "xl/styles.xml": f"{OFFICE}.styles+xml"}
    rels = []
    entries = []
    parts: dict[str, str] = {}
    for i, (name, xml, kind) in enumerate(sheets, start=1):
        if kind == "macrosheet":
            part, ctype = f"xl/macrosheets/sheet{i}.xml", "application/vnd.ms-excel.macrosheet+xml"
            rtype = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
        else:
            part, ctype, rtype = f"xl/worksheets/sheet{i}.xml", f"{OFFICE}.worksheet+xml", f"{REL}/worksheet"
        parts[part] = xml
        types[part] = ctype
        rels.append((f"rId{i}", rtype, part[3:]))
        entries.append(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>')
        for j, (t, target) in enumerate((sheet_rels or {}).get(i - 1, []), start=1):
            folder = part.rsplit("/", 1)
            parts.setdefault(f"{folder[0]}/_rels/{folder[1]}.rels", f'<Relationships xmlns="{PKG_REL}">')
            parts[f"{folder[0]}/_rels/{folder[1]}.rels"] += f'<Relationship Id="rId{j}" Type="{t}" Target="{target}"/>'
    n = len(sheets)
    rels.append((f"rId{n + 1}", f"{REL}/styles", "styles.xml"))
    for j, (t, target) in enumerate(book_rels or [], start=n + 2):
        rels.append((f"rId{j}", t, target))
    for name in [p for p in parts if p.endswith(".rels")]:
        parts[name] += "</Relationships>"
    book = (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{"".join(entries)}</sheets>{book_tail}</workbook>')
    for part, (ctype, xml) in (extra or {}).items():
        parts[part] = xml
        types[part] = ctype
    overrides = "".join(f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in types.items())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", f'<Types xmlns="{CT}"><Default Extension="rels" '
                    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>')
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                    f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", book)
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PKG_REL}">' + "".join(
            f'<Relationship Id="{i}" Type="{t}" Target="{target}"/>' for i, t, target in rels) + "</Relationships>")
        zf.writestr("xl/styles.xml", styles)
        for part, xml in parts.items():
            zf.writestr(part, xml)
    return path


def headerless_column(path: Path) -> Path:
    """A1 Email, B1 Mobile, C1 empty with notes below it, D a formula showing "" (no header)."""
    rows = contact_rows()
    rows[2].append(cell("C2", "VIP - call before 10"))
    rows[3].append(cell("C3", "keep this note"))
    for r in range(2, 5):
        rows[r].append(cell(f"D{r}", "", formula=f'IF(C{r}="","","note")'))
    return write(path, [("Contacts", sheet_xml(rows), "worksheet")])


def style_past_list(path: Path) -> Path:
    """Every cell uses format 1, whose fontId 1 is past styles.xml's single font (like tdf100709)."""
    styles = STYLES.replace('<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>',
                            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>')
    return write(path, [("Contacts", sheet_xml(contact_rows(style=1)), "worksheet")], styles=styles)


def array_beside(path: Path, *, header: str | None = None) -> Path:
    """An array formula in C2:D4 right of the data; its D column shows "" (no value), C the
    lengths of the emails.  ``header``: a header for column C (e.g. the results column's)."""
    rows = contact_rows()
    if header:
        rows[1].append(cell("C1", header))
    rows[2].append(cell("C2", 16, formula='IF(LEN(A2:A4)>0,LEN(A2:A4),"")', array="C2:D4"))
    rows[2].append(cell("D2", ""))
    for r in (3, 4):
        rows[r] += [cell(f"C{r}", 15), cell(f"D{r}", "")]
    return write(path, [("Contacts", sheet_xml(rows), "worksheet")])


def pivot_beside(path: Path) -> Path:
    """A pivot table counting the contacts by mobile, at D3:E7 of the contacts' own sheet."""
    rows = contact_rows()
    pivot = [("D3", "Row Labels"), ("E3", "Count of Email")] + \
        [(f"D{4 + i}", m) for i, (_e, m) in enumerate(CONTACTS[1:])] + [("D7", "Grand Total")]
    counts = [("E4", 1), ("E5", 1), ("E6", 1), ("E7", 3)]
    for ref, v in pivot + counts:
        r = int(ref[1:])
        rows.setdefault(r, []).append(cell(ref, v))
    for r in rows:
        rows[r].sort(key=lambda c: c.split('"')[1][0])
    mobiles = "".join(f'<s v="{m}"/>' for _e, m in CONTACTS[1:])
    cache = (f'<pivotCacheDefinition xmlns="{MAIN}" xmlns:r="{REL}" r:id="rId1" refreshOnLoad="0" recordCount="3">'
             '<cacheSource type="worksheet"><worksheetSource ref="A1:B4" sheet="Contacts"/></cacheSource>'
             '<cacheFields count="2"><cacheField name="Email" numFmtId="0"><sharedItems/></cacheField>'
             f'<cacheField name="Mobile" numFmtId="0"><sharedItems count="3">{mobiles}</sharedItems></cacheField>'
             '</cacheFields></pivotCacheDefinition>')
    records = (f'<pivotCacheRecords xmlns="{MAIN}" xmlns:r="{REL}" count="3">' + "".join(
        f'<r><s v="{e}"/><x v="{i}"/></r>' for i, (e, _m) in enumerate(CONTACTS[1:])) + "</pivotCacheRecords>")
    table = (f'<pivotTableDefinition xmlns="{MAIN}" name="ContactsByMobile" cacheId="1" dataCaption="Values" '
             'applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" applyPatternFormats="0" '
             'applyAlignmentFormats="0" applyWidthHeightFormats="1" updatedVersion="3" minRefreshableVersion="3" '
             'createdVersion="3" useAutoFormatting="1" itemPrintTitles="1" indent="0" outline="1" outlineData="1">'
             '<location ref="D3:E7" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/>'
             '<pivotFields count="2"><pivotField dataField="1" showAll="0"/>'
             '<pivotField axis="axisRow" showAll="0"><items count="4"><item x="0"/><item x="1"/><item x="2"/>'
             '<item t="default"/></items></pivotField></pivotFields>'
             '<rowFields count="1"><field x="1"/></rowFields>'
             '<rowItems count="4"><i><x/></i><i><x v="1"/></i><i><x v="2"/></i><i t="grand"><x/></i></rowItems>'
             '<colItems count="1"><i/></colItems>'
             '<dataFields count="1"><dataField name="Count of Email" fld="0" subtotal="count" baseField="0" baseItem="0"/>'
             '</dataFields></pivotTableDefinition>')
    pt_type = f"{REL}/pivotTable"
    extra = {
        "xl/pivotCache/pivotCacheDefinition1.xml": (f"{OFFICE}.pivotCacheDefinition+xml", cache),
        "xl/pivotCache/pivotCacheRecords1.xml": (f"{OFFICE}.pivotCacheRecords+xml", records),
        "xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels": (
            "application/vnd.openxmlformats-package.relationships+xml",
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/pivotCacheRecords" '
            'Target="pivotCacheRecords1.xml"/></Relationships>'),
        "xl/pivotTables/pivotTable1.xml": (f"{OFFICE}.pivotTable+xml", table),
        "xl/pivotTables/_rels/pivotTable1.xml.rels": (
            "application/vnd.openxmlformats-package.relationships+xml",
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/pivotCacheDefinition" '
            'Target="../pivotCache/pivotCacheDefinition1.xml"/></Relationships>'),
    }
    book_rels = [(f"{REL}/pivotCacheDefinition", "pivotCache/pivotCacheDefinition1.xml")]
    return write(path, [("Contacts", sheet_xml(rows), "worksheet")], extra=extra,
                 sheet_rels={0: [(pt_type, "../pivotTables/pivotTable1.xml")]}, book_rels=book_rels,
                 book_tail='<pivotCaches><pivotCache cacheId="1" r:id="rId3"/></pivotCaches>')


def macro_sheet(path: Path) -> Path:
    """The contacts, and an Excel 4 macro sheet (kept in .xlsm files) with one macro."""
    macro = sheet_xml({1: [cell("A1", "Hello")], 2: [cell("A2", True, formula='ALERT("Hello")')],
                       3: [cell("A3", True, formula="RETURN()")]}, root="xm:macrosheet").replace(
        "<xm:macrosheet ", '<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" ', 1)
    macro = macro.replace(f'xmlns="{MAIN}" ', f'xmlns="{MAIN}" ', 1)
    return write(path, [("Contacts", sheet_xml(contact_rows()), "worksheet"), ("Macro1", macro, "macrosheet")],
                 macro=True)
