"""Regenerate the .xlsx test fixtures in tests/fixtures/ (see tests/fixtures/README.md).

    . .venv/bin/activate && python scripts/make_fixtures.py

Needs LibreOffice (``apt-get install -y libreoffice-calc-nogui``; it brings python3-uno for
the system Python, which runs the small UNO helper below).  The tests only use the committed
files and never need LibreOffice.
"""
from __future__ import annotations

import datetime
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
import zipfile
import zlib
from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.packaging.custom import IntProperty, StringProperty
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sheets_connector.tables.xlsx.openpyxl_writer import RawImage  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def uno_python() -> str | None:
    """An interpreter that can import LibreOffice's ``uno`` (the system one, usually; $UNO_PYTHON wins)."""
    for candidate in (os.environ.get("UNO_PYTHON"), shutil.which("python3"), sys.executable):
        if candidate and subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0:
            return candidate
    return None

CONTACTS_HEADER = ["Name", "Email", "Mobile", "City", "Joined", "Score", "Double"]
NAMES = ["דנה כהן", "יוסי לוי", "Avi Bar", "מיכל אברהם", "Noa Levi", "רון שמש", "Tal Paz", "גיל עוז", "Shir Tov", "עומר חן"]


def png_bytes(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (220, 30, 30)) -> bytes:
    """A small solid-colour PNG, made with zlib and struct."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def features_source(path: Path) -> None:
    """The openpyxl workbook that LibreOffice then converts (so the fixture is LO's output)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(CONTACTS_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEEFF")
    for i, name in enumerate(NAMES, start=2):
        ws.append([name, f"user{i}@example.co.il", f"05411111{i:02d}", ["תל אביב", "Haifa"][i % 2],
                   datetime.date(2024, 1, i), i * 10, f"=F{i}*2"])
        ws.cell(row=i, column=5).number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = "A1:G11"
    dv = DataValidation(type="list", formula1='"תל אביב,Haifa"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add("D2:D11")
    ws.conditional_formatting.add("F2:F11", CellIsRule(operator="greaterThan", formula=["50"],
                                                       fill=PatternFill("solid", bgColor="FFC7CE")))
    ws["A2"].comment = Comment("VIP customer", "Dana")
    image = RawImage(png_bytes())
    image.anchor = "J2"
    ws.add_image(image)
    chart = BarChart()
    chart.title = "Scores"
    chart.add_data(Reference(ws, min_col=6, min_row=1, max_row=11), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=11))
    ws.add_chart(chart, "J6")
    notes = wb.create_sheet("Notes")
    notes.append(["Contacts", "=COUNTA(Contacts!A2:A11)"])
    notes.append(["Total score", "=SUM(Contacts!F2:F11)"])
    notes.append(["Via name", "=SUM(Scores)"])
    wb.defined_names["Scores"] = DefinedName("Scores", attr_text="Contacts!$F$2:$F$11")
    wb.custom_doc_props.append(StringProperty(name="Department", value="Sales"))
    wb.custom_doc_props.append(IntProperty(name="Version", value=3))
    wb.save(path)


UNO_HELPER = textwrap.dedent('''
    """Open a file in LibreOffice (hidden) and store it with the given export filter."""
    import os, subprocess, sys, tempfile, time, uno
    from com.sun.star.beans import PropertyValue

    def prop(name, value):
        p = PropertyValue(); p.Name = name; p.Value = value; return p

    src, dst, filter_name = sys.argv[1], sys.argv[2], sys.argv[3]
    profile = tempfile.mkdtemp(prefix="lo-profile-")
    pipe = "sheetsconnectorfixtures%d" % os.getpid()
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore", "--nologo",
                               "-env:UserInstallation=file://" + profile, "--accept=pipe,name=%s;urp;" % pipe],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(200):
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
                break
            except Exception:
                time.sleep(0.2)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),))
        args = [prop("FilterName", filter_name)]
        doc.storeToURL(uno.systemPathToFileUrl(dst), tuple(args))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass
        office.wait(60)
    finally:
        # soffice is a shell script that starts soffice.bin: end the whole process group
        import signal
        try:
            os.killpg(office.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
''')


def libreoffice_store(src: Path, dst: Path, filter_name: str = "Calc MS Excel 2007 XML") -> None:
    """Let LibreOffice open ``src`` and write ``dst`` (.xlsx unless another filter is named)."""
    python = uno_python()
    if not shutil.which("soffice") or python is None:
        sys.exit("LibreOffice is needed to make the fixtures: apt-get install -y libreoffice-calc-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        helper = Path(tmp) / "uno_store.py"
        helper.write_text(UNO_HELPER)
        subprocess.run([python, str(helper), str(src.resolve()), str(dst.resolve()), filter_name], check=True)
    if not dst.exists():
        sys.exit(f"LibreOffice did not write {dst}")


def rewrite_zip(path: Path, changes: dict[str, bytes | None]) -> None:
    """Replace, add (bytes) or delete (None) parts of a zip, keeping the other entries as they are."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in changes:
                continue
            zout.writestr(info, zin.read(info.filename))
        for name, data in changes.items():
            if data is not None:
                zout.writestr(name, data)
    path.write_bytes(buf.getvalue())


def read_part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def add_frozen_header(path: Path) -> None:
    """LibreOffice 7.4 drops view settings (frozen panes) when it saves headless, because it has
    no window; put back the <pane> it writes when a window is open (row 1 frozen)."""
    sheet = read_part(path, "xl/worksheets/sheet1.xml").decode("utf-8")
    pane = ('<pane xSplit="0" ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="topLeft" activeCell="A1" activeCellId="0" sqref="A1"/>'
            '<selection pane="bottomLeft" activeCell="A2" activeCellId="0" sqref="A2"/>')
    sheet, n = re.subn(r'<selection pane="topLeft"[^>]*/>', pane, sheet, count=1)
    assert n == 1, "LibreOffice's sheetView changed; update add_frozen_header()"
    rewrite_zip(path, {"xl/worksheets/sheet1.xml": sheet.encode("utf-8")})


def make_libreoffice_features() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "source.xlsx"
        features_source(src)
        dst = FIXTURES / "libreoffice_features.xlsx"
        libreoffice_store(src, dst)
    add_frozen_header(dst)


def simple_workbook(title: str = "Contacts") -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(["Name", "Email", "Mobile"])
    ws.append(["Dana", "dana@example.co.il", "0541111111"])
    ws.append(["Yossi", "yossi@example.co.il", "0542222222"])
    ws.append(["Total", "=COUNTA(B2:B3)", None])
    return wb


# Stand-in bytes for xl/vbaProject.bin: the OLE/CFB signature followed by a fixed pattern.
# This is not a real VBA project (Excel would say the macros are damaged); the fixture only
# has to prove that the part, its relationship and content type survive byte for byte.
FAKE_VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8


def make_macros() -> None:
    path = FIXTURES / "macros.xlsm"
    simple_workbook().save(path)
    ct = read_part(path, "[Content_Types].xml").decode()
    ct = ct.replace("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    ct = ct.replace("</Types>", '<Override PartName="/xl/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    rels = read_part(path, "xl/_rels/workbook.xml.rels").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    rewrite_zip(path, {"[Content_Types].xml": ct.encode(), "xl/_rels/workbook.xml.rels": rels.encode(), "xl/vbaProject.bin": FAKE_VBA})


SPARKLINES = (
    '<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:sparklineGroups xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:sparklineGroup displayEmptyCellsAs="gap"><x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/>'
    '<x14:sparklines><x14:sparkline><xm:f>Sales!B2:D2</xm:f><xm:sqref>E2</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>'
    '<x14:sparklineGroup type="column" displayEmptyCellsAs="gap"><x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/>'
    '<x14:sparklines><x14:sparkline><xm:f>Sales!B3:D3</xm:f><xm:sqref>E3</xm:sqref></x14:sparkline></x14:sparklines></x14:sparklineGroup>'
    '</x14:sparklineGroups></ext></extLst>'
)


def make_sparklines() -> None:
    """A workbook with two Excel sparkline groups (an x14 extLst openpyxl drops)."""
    path = FIXTURES / "sparklines.xlsx"
    wb = simple_workbook()
    sales = wb.create_sheet("Sales")
    sales.append(["Rep", "Jan", "Feb", "Mar", "Trend"])
    sales.append(["Dana", 10, 12, 9, None])
    sales.append(["Yossi", 7, 11, 15, None])
    wb.save(path)
    sheet = read_part(path, "xl/worksheets/sheet2.xml").decode()
    assert "<extLst" not in sheet
    sheet = sheet.replace("</worksheet>", SPARKLINES + "</worksheet>")
    rewrite_zip(path, {"xl/worksheets/sheet2.xml": sheet.encode()})


CUSTOM_PROPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Department"><vt:lpwstr>Sales</vt:lpwstr></property>'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="Big number"><vt:i8>9007199254740993</vt:i8></property>'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="4" name="Legacy text"><vt:lpstr>kept</vt:lpstr></property>'
    '</Properties>'
)
CUSTOM_XML_ITEM = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><crm xmlns="urn:example:crm"><list id="42">Newsletter</list></crm>'
CUSTOM_XML_PROPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
    '<ds:datastoreItem ds:itemID="{6E0C2A4B-1D1B-4F7E-9C1A-3B3F0E6C7A10}" '
    'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"><ds:schemaRefs/></ds:datastoreItem>'
)


def make_custom_parts() -> None:
    """Custom properties of types openpyxl drops (vt:i8, vt:lpstr) and a custom XML part: both
    are grafted back by the save, so this workbook is written in place."""
    path = FIXTURES / "custom_parts.xlsx"
    wb = simple_workbook()
    wb.custom_doc_props.append(StringProperty(name="Department", value="Sales"))
    wb.save(path)
    ct = read_part(path, "[Content_Types].xml").decode()
    ct = ct.replace("</Types>", '<Override PartName="/customXml/itemProps1.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>')
    rels = read_part(path, "xl/_rels/workbook.xml.rels").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rIdCx1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml" Target="../customXml/item1.xml"/></Relationships>')
    item_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps" Target="itemProps1.xml"/></Relationships>')
    rewrite_zip(path, {
        "[Content_Types].xml": ct.encode(), "xl/_rels/workbook.xml.rels": rels.encode(),
        "docProps/custom.xml": CUSTOM_PROPS.encode(), "customXml/item1.xml": CUSTOM_XML_ITEM.encode(),
        "customXml/itemProps1.xml": CUSTOM_XML_PROPS.encode(), "customXml/_rels/item1.xml.rels": item_rels.encode(),
    })


def make_password() -> None:
    """A workbook encrypted with the password 'secret' the way Excel does it (agile encryption:
    an OLE/CFB file holding EncryptionInfo and EncryptedPackage streams).

    Made with msoffcrypto-tool, a fixture-making dependency only (pip install msoffcrypto-tool);
    LibreOffice 7.4's UNO export would not encrypt headless.
    """
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        sys.exit("pip install msoffcrypto-tool to make password.xlsx (only needed to make fixtures)")
    plain = io.BytesIO()
    simple_workbook().save(plain)
    plain.seek(0)
    with open(FIXTURES / "password.xlsx", "wb") as out:
        OOXMLFile(plain).encrypt("secret", out)


def make_old_excel() -> None:
    """An Excel 97-2003 workbook (.xls, an OLE file with a 'Workbook' stream), by LibreOffice."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "plain.xlsx"
        simple_workbook().save(src)
        libreoffice_store(src, FIXTURES / "old_excel.xls", filter_name="MS Excel 97")


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    make_libreoffice_features()
    make_macros()
    make_sparklines()
    make_custom_parts()
    make_password()
    make_old_excel()
    for p in sorted(FIXTURES.iterdir()):
        print(f"{p.stat().st_size:>8}  {p.relative_to(FIXTURES.parents[1])}")


if __name__ == "__main__":
    main()
