"""The fast write-back: results patched into the sheet XML inside the zip, through XlsxTable.

Every test writes a real file and reads it back with openpyxl and python-calamine.  Workbooks
are made with openpyxl, or with their XML edited by hand where a test needs what another
program writes.  Which writer a save used is read from the table's log.  Nothing here needs
LibreOffice.
"""
from __future__ import annotations

import datetime
import logging
import re
import shutil
import struct
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table as ListObject
from python_calamine import CalamineWorkbook
from xlsx_files import FIXTURES, members, parts, rewrite, set_cells, sheet_part, writer_used

from sheets_connector.errors import SourceError
from sheets_connector.tables.base import RowRef, SaveReport
from sheets_connector.tables.xlsx import XlsxTable, patch, patch_scan
from sheets_connector.tables.xlsx.inventory import find_losses, take_inventory
from sheets_connector.tables.xlsx.openpyxl_writer import pictures_kept
from sheets_connector.tables.xlsx.patch import mark_full_calc

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

TEXTS = [
    "דנה כהן ✓ נוצר",
    "a < b & c > d",
    'He said "hi" & \'bye\'',
    "=SUM(A1:A3)",
    "line one\nline two\r\nthree",
    "emoji 🎉👍🏽 ok",
    "  leading and trailing  ",
    "tab\there",
    "",
]


# --------------------------------------------------------------------------------------------
# Helpers


Save = Callable[..., SaveReport]


@pytest.fixture
def save(caplog: pytest.LogCaptureFixture) -> Save:
    """``table.save()``, checking which writer it used (the fast one unless told otherwise)."""
    caplog.set_level(logging.INFO, logger="sheets_connector.tables.xlsx")

    def run(table: XlsxTable, writer: str = "patch") -> SaveReport:
        caplog.clear()
        report = table.save()
        assert writer_used(caplog.records) == writer, caplog.text
        return report
    return run


def raw_cells(path: Path, sheet: str) -> dict[str, bytes]:
    """{reference: the <c> element's XML} of a sheet, to compare cells byte for byte."""
    root = ET.fromstring(parts(path)[sheet_part(path, sheet)])
    return {c.get("r"): ET.tostring(c) for c in root.iter(f"{MAIN}c")}


def dimension(path: Path, sheet: str) -> str:
    root = ET.fromstring(parts(path)[sheet_part(path, sheet)])
    return root.find(f"{MAIN}dimension").get("ref")


def calamine_rows(path: Path, sheet: str) -> list[list[object]]:
    with CalamineWorkbook.from_path(str(path)) as wb:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def varied_workbook(path: Path) -> Path:
    """Strings, numbers, dates, formulas with cached values, styles, widths, merged cells, gaps."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", "Mobile", "Joined", "Score", "Double", None, "Status"])
    for c in ws[1]:
        c.font = Font(bold=True, italic=True, color="FF112233")
        c.fill = PatternFill("solid", fgColor="FFEEDD")
        c.border = Border(bottom=Side(style="thin"))
        c.alignment = Alignment(horizontal="center")
    for i in range(2, 12):
        ws.append([f"Person {i}", f"p{i}@example.com", f"05{i:08d}", datetime.date(2024, 1, i), i * 10.5, f"=E{i}*2", None, "old" if i % 2 else None])
        ws.cell(row=i, column=4).number_format = "yyyy-mm-dd"
    ws["C5"].fill = PatternFill("solid", fgColor="00FF00")
    ws["I3"] = "right of the header"
    ws.merge_cells("N5:O6")
    ws["A14"].fill = PatternFill("solid", fgColor="CCCCCC")  # a row that is only formatting
    ws.column_dimensions["A"].width = 25
    ws.column_dimensions["I"].width = 14
    ws.freeze_panes = "A2"
    other = wb.create_sheet("Notes")
    other["A1"], other["B1"] = "Total", "=SUM(Contacts!E2:E11)"
    wb.save(path)
    # formulas with their cached values, as Excel writes them
    def cache(p: dict[str, bytes]) -> None:
        s = p["xl/worksheets/sheet1.xml"].decode()
        for i in range(2, 12):
            s = s.replace(f"<f>E{i}*2</f><v></v>", f"<f>E{i}*2</f><v>{i * 21}</v>").replace(f"<f>E{i}*2</f><v />", f"<f>E{i}*2</f><v>{i * 21}</v>")
        p["xl/worksheets/sheet1.xml"] = s.encode()
    return rewrite(path, cache)


def contacts(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", "Status"])
    ws.append(["Dana", "d@example.com", "x"])
    ws.append(["Yossi", "y@example.com", None])
    ws.append(["Avi", "a@example.com", None])
    wb.save(path)
    return path


def edit_sheet(pattern: str, replacement: str, part: str = "xl/worksheets/sheet1.xml") -> Callable[[dict[str, bytes]], None]:
    def edit(p: dict[str, bytes]) -> None:
        s, n = re.subn(pattern, replacement, p[part].decode())
        assert n, pattern
        p[part] = s.encode()
    return edit


# --------------------------------------------------------------------------------------------
# Values


def test_values_round_trip_through_openpyxl_and_calamine(tmp_path: Path, save: Save) -> None:
    path = varied_workbook(tmp_path / "v.xlsx")
    when = datetime.datetime(2026, 11, 28, 9, 15, 42)
    table = XlsxTable(path)
    table.read()
    texts = {2 + i: t for i, t in enumerate(TEXTS)}
    set_cells(table, {
        "Sync result": texts,
        "inwise ID": {2: 439130001, 3: 7, 4: -12, 5: 2**40, 6: 1.25, 7: True, 8: False},
        "Last synced": {2: when, 3: datetime.date(2024, 2, 29), 4: datetime.datetime(2024, 1, 1)},
    })
    save(table)
    ws = openpyxl.load_workbook(path)["Contacts"]
    heads = {c.value: c.column for c in ws[1] if c.value}
    # I has no header but holds a value (I3): the new columns go right of it, I3 is kept
    assert heads == {"Name": 1, "Email": 2, "Mobile": 3, "Joined": 4, "Score": 5, "Double": 6, "Status": 8,
                     "Sync result": 10, "inwise ID": 11, "Last synced": 12}
    assert ws["I3"].value == "right of the header"
    for row, text in texts.items():
        expected = text or None  # "" is written as a blank cell
        assert ws.cell(row=row, column=10).value == expected, row
        assert ws.cell(row=row, column=10).data_type in ("s", "n")  # text, never a formula
    assert [ws.cell(row=r, column=11).value for r in range(2, 9)] == [439130001, 7, -12, 2**40, 1.25, True, False]
    assert ws["K2"].number_format == "0" and ws["K3"].number_format == "General"
    assert ws["L2"].value == when and ws["L2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["L3"].value == datetime.datetime(2024, 2, 29) and ws["L3"].number_format == "dd/mm/yyyy"
    assert ws["L4"].value == datetime.datetime(2024, 1, 1)

    rows = calamine_rows(path, "Contacts")
    for row, text in texts.items():
        assert rows[row - 1][9] == text, row
    assert [rows[r - 1][10] for r in range(2, 9)] == [439130001, 7, -12, 2**40, 1.25, True, False]
    assert rows[1][11] == when and rows[2][11] == datetime.date(2024, 2, 29)
    # the connector's own reader sees the same
    data = XlsxTable(path).read()
    assert data.header[8:] == ["", "Sync result", "inwise ID", "Last synced"]
    assert data.rows[0].values[9:] == ("דנה כהן ✓ נוצר", 439130001, when)


def test_only_the_written_cells_change(tmp_path: Path, save: Save) -> None:
    path = varied_workbook(tmp_path / "v.xlsx")
    original = tmp_path / "original.xlsx"
    shutil.copyfile(path, original)
    assert dimension(original, "Contacts") == "A1:O14"
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"status": {2: "new", 3: None, 4: None, 16: "below the data"}, "Sync result": {r: f"ok {r}" for r in range(2, 12)}})
    save(table)
    before, after = raw_cells(original, "Contacts"), raw_cells(path, "Contacts")
    # 'status' is H (matched ignoring case); 'Sync result' goes right of the last header (H),
    # past I (no header, but I3 holds a value), into J.
    written = {"H2", "H3", "H4", "H16", "J1"} | {f"J{r}" for r in range(2, 12)}
    assert {k for k in before if before[k] != after.get(k)} <= written
    assert {k for k in after if k not in before} <= written
    assert all(after[k] == before[k] for k in before if k not in written)  # value, type, style, formula: byte for byte
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["J1"].value == "Sync result" and ws["J3"].value == "ok 3" and ws["J11"].value == "ok 11"
    assert ws["I3"].value == "right of the header" and ws["I1"].value is None
    assert ws["H2"].value == "new" and ws["H3"].value is None and ws["H4"].value is None and ws["H16"].value == "below the data"
    assert ws["H5"].value == "old"
    assert b"<ns0:v>" not in after.get("H3", b"") and b"<ns0:is>" not in after.get("H3", b"")
    # the new header copies its neighbour's style index
    def s_of(raw):
        return re.search(rb' s="(\d+)"', raw).group(1)
    assert s_of(after["J1"]) == s_of(before["H1"])
    assert ws["J1"].font.b and ws["J1"].font.i and ws["J1"].fill.fgColor.rgb == "00FFEEDD"
    # formulas and their cached values are untouched
    assert [r[5] for r in calamine_rows(path, "Contacts")[1:11]] == [i * 21 for i in range(2, 12)]
    assert ws["F2"].value == "=E2*2" and openpyxl.load_workbook(path)["Notes"]["B1"].value == "=SUM(Contacts!E2:E11)"
    assert dimension(path, "Contacts") == "A1:O16"
    # I already had a width set by the user: kept
    assert ws.column_dimensions["A"].width == 25 and ws.column_dimensions["I"].width == 14
    assert [str(r) for r in ws.merged_cells.ranges] == ["N5:O6"] and ws.freeze_panes == "A2"
    # every other part is byte for byte the original's
    old, new = parts(original), parts(path)
    # workbook.xml too: its formulas (F = E*2, Notes!B1 = SUM(Contacts!E2:E11)) read no written
    # cell, so it is not marked for a recalculation (volatile formulas would change on open)
    assert {n for n in old if old[n] != new[n]} == {"xl/worksheets/sheet1.xml"}
    assert members(original) == members(path)
    assert find_losses(take_inventory(original), take_inventory(path)) == []


def test_new_column_width_and_dimension(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email"])
    ws.append(["Dana", "d@example.com"])
    ws.column_dimensions["A"].width = 30
    wb.save(path)
    table = XlsxTable(path)
    set_cells(table, {"Sync result": {2: "x" * 80, 5: "short"}, "When": {2: datetime.datetime(2024, 1, 1, 8, 0)}})
    save(table)
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws.column_dimensions["A"].width == 30
    assert ws.column_dimensions["C"].width == 60  # capped like _fit_width
    assert ws.column_dimensions["D"].width == 18  # a date-time is 16 characters wide, + 2
    assert dimension(path, "Contacts") == "A1:D5"
    assert ws["C5"].value == "short" and ws["D1"].value == "When"


def test_long_texts_and_control_characters(tmp_path: Path, save: Save) -> None:
    path = varied_workbook(tmp_path / "v.xlsx")
    table = XlsxTable(path)
    set_cells(table, {"R": {2: "bad\x00char\x1f" + "x" * 40000, 3: "lone \ud800 surrogate", 4: "_x0041_ is not A"}})
    save(table)
    ws = openpyxl.load_workbook(path)["Contacts"]  # the new column is J: I holds a value (I3) without a header
    assert ws["J2"].value.startswith("badcharx") and len(ws["J2"].value) == 32767
    assert ws["J3"].value == "lone  surrogate"
    rows = calamine_rows(path, "Contacts")
    assert rows[3][9] == "_x0041_ is not A"  # Excel's _xHHHH_ escape is itself escaped


def test_second_sync_replaces_inline_string_cells(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Sync result", "inwise ID", "Last synced"])
    ws.append(["Dana", "old result", 5, "never"])
    ws.append(["Yossi", None, None, None])
    wb.save(path)
    first = datetime.datetime(2024, 1, 2, 3, 4)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "✓ updated", 3: "✗ error"}, "inwise ID": {2: 439130001, 3: 439130002}, "Last synced": {2: first, 3: first}})
    save(table)
    styles_after_first = parts(path)["xl/styles.xml"]
    second = datetime.datetime(2024, 2, 3, 4, 5)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "✓ unchanged", 3: None}, "inwise ID": {2: 439130001, 3: None}, "Last synced": {2: second, 3: second}})
    save(table)
    rows = calamine_rows(path, "Contacts")
    assert rows[1] == ["Dana", "✓ unchanged", 439130001, second]
    assert rows[2] == ["Yossi", "", "", second]
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["C2"].number_format == "0" and ws["D3"].number_format == "dd/mm/yyyy hh:mm"
    assert ws["C3"].value is None and ws["C3"].number_format == "0"  # emptied, keeps its format
    # the second run reuses the formats the first one added
    assert parts(path)["xl/styles.xml"] == styles_after_first
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert sheet.count('<c r="B2"') == 1 and "old result" not in sheet and "never" not in sheet


def test_shared_string_cells_written_by_another_program_are_replaced(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "lo.xlsx"
    shutil.copyfile(FIXTURES / "libreoffice_features.xlsx", path)
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert re.search(r'<c r="D2" s="2" t="s"><v>\d+</v></c>', sheet)  # LibreOffice shares every string
    table = XlsxTable(path, worksheet="Contacts")
    table.read()
    set_cells(table, {"city": {2: "באר שבע", 3: None, 4: 7}})
    save(table)
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="D2" s="2" t="inlineStr"><is><t>באר שבע</t></is></c>' in sheet
    assert '<c r="D3" s="2"/>' in sheet and '<c r="D4" s="2"><v>7</v></c>' in sheet
    assert parts(path)["xl/sharedStrings.xml"] == parts(FIXTURES / "libreoffice_features.xlsx")["xl/sharedStrings.xml"]
    rows = calamine_rows(path, "Contacts")
    assert [r[3] for r in rows[:6]] == ["City", "באר שבע", "", 7, "Haifa", "תל אביב"]
    assert openpyxl.load_workbook(path)["Contacts"]["D2"].value == "באר שבע"


def test_rows_without_a_row_element_and_self_closing_rows(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Result"])
    ws["A2"] = "Dana"
    ws["A6"] = "Avi"
    wb.save(path)

    def odd_rows(p: dict[str, bytes]) -> None:  # row 4: formatting only, written as <row .../>
        s = p["xl/worksheets/sheet1.xml"].decode()
        s = s.replace('<row r="6"', '<row r="4" spans="1:2" customHeight="1" ht="30"/><row r="6" spans="1:1"')
        p["xl/worksheets/sheet1.xml"] = s.encode()
    rewrite(path, odd_rows)
    table = XlsxTable(path)
    set_cells(table, {"Result": {r: f"r{r}" for r in range(2, 9)}, "More": {6: 1}})
    save(table)
    rows = calamine_rows(path, "Contacts")
    assert [r[1] for r in rows[1:8]] == [f"r{r}" for r in range(2, 9)]
    assert rows[5] == ["Avi", "r6", 1]
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert re.findall(r'<row r="(\d+)"', sheet) == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert '<row r="4" spans="1:2" customHeight="1" ht="30">' in sheet  # the row's own settings kept
    assert '<row r="6" spans="1:3">' in sheet  # spans widened to the new cells
    assert openpyxl.load_workbook(path)["Contacts"].row_dimensions[4].height == 30


def test_existing_date_and_number_formats_are_kept(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "When", "Id"])
    ws.append(["Dana", None, None])
    ws["B2"].number_format = "d mmm yyyy"
    ws["C2"].number_format = "#,##0"
    ws["B2"].font = Font(color="FFFF0000")
    wb.save(path)
    table = XlsxTable(path)
    set_cells(table, {"When": {2: datetime.datetime(2024, 5, 6, 7, 8), 3: datetime.date(2024, 5, 6)}, "Id": {2: 439130001, 3: 439130002}})
    save(table)
    ws = openpyxl.load_workbook(path).active
    assert ws["B2"].number_format == "d mmm yyyy" and ws["B2"].font.color.rgb == "FFFF0000"
    assert ws["C2"].number_format == "#,##0"
    assert ws["B3"].number_format == "dd/mm/yyyy" and ws["C3"].number_format == "0"


def test_1904_date_system(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "mac.xlsx"
    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb.active.append(["Name", "When"])
    wb.active.append(["Dana", None])
    wb.save(path)
    assert b'date1904="1"' in parts(path)["xl/workbook.xml"]
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)
    table = XlsxTable(path)
    set_cells(table, {"When": {2: when}})
    save(table)
    assert openpyxl.load_workbook(path).active["B2"].value == when
    assert calamine_rows(path, "Sheet")[1][1] == when


def test_header_below_a_merged_title_and_column_ranges_split(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws["A1"] = "Our contacts"
    ws.merge_cells("A1:F1")
    ws.append([])
    ws.append(["Name", "Email"])
    ws.append(["Dana", "d@example.com"])
    wb.save(path)
    # LibreOffice writes one <col> for "all the other columns", without a width of the user's
    rewrite(path, edit_sheet(r"<sheetData>", '<cols><col min="1" max="1" width="30" customWidth="1"/>'
                                             '<col min="2" max="1025" width="9.5" style="0"/></cols><sheetData>'))
    original = take_inventory(path)
    table = XlsxTable(path, header_row=3)
    table.read()
    set_cells(table, {"Sync result": {4: "ok, and a longer text"}})
    save(table)
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["C3"].value == "Sync result" and ws["C4"].value == "ok, and a longer text"
    assert ws["A1"].value == "Our contacts" and [str(r) for r in ws.merged_cells.ranges] == ["A1:F1"]
    cols = re.search(r"<cols>.*?</cols>", parts(path)["xl/worksheets/sheet1.xml"].decode()).group(0)
    assert cols == ('<cols><col min="1" max="1" width="30" customWidth="1"/><col min="2" max="2" width="9.5" style="0"/>'
                    '<col min="3" max="3" width="23" style="0" customWidth="1"/><col min="4" max="1025" width="9.5" style="0"/></cols>')
    assert find_losses(original, take_inventory(path)) == []


def test_an_unexpected_fault_in_the_fast_writer_falls_back_to_openpyxl_without_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, save: Save) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(patch, "write_patched", broken)
    path = contacts(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    with caplog.at_level(logging.DEBUG, logger="sheets_connector.tables.xlsx"):
        save(table, "openpyxl")
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "c.xlsx: the fast writer failed (RuntimeError: a bug); writing the results with openpyxl instead"]
    assert all(r.exc_info is None for r in warnings)  # a normal run shows no traceback
    assert any(r.exc_info and r.levelno == logging.DEBUG for r in caplog.records)  # --debug does
    assert calamine_rows(path, "Contacts")[1] == ["Dana", "d@example.com", "x", "ok"]


# --------------------------------------------------------------------------------------------
# Fixtures made by other programs: nothing but the sheet changes


def _local_extra_ids(path: Path, name: str) -> set[int]:
    """The ids of the extra fields in a member's local header (0x0001: zip64)."""
    with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
        f.seek(zf.getinfo(name).header_offset)
        head = f.read(30)
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        extra = f.read(name_len + extra_len)[name_len:]
    ids, at = set(), 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[at: at + 4])
        ids.add(kind)
        at += 4 + size
    return ids


def test_a_sheet_too_large_for_a_plain_zip_entry_is_written_again_with_zip64(
        tmp_path: Path, save: Save, monkeypatch: pytest.MonkeyPatch) -> None:
    """The patched sheet is streamed without knowing its size: one that grows past what a zip
    entry without the zip64 extension holds (2 GiB; here the limit is lowered) is written again
    with it, and the workbook is sound."""
    path = contacts(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    table.read()
    status = "✓ created · #439130001 · 7 Dec 2026 02:31"
    set_cells(table, {"Sync result": {r: status for r in range(2, 5)}})
    size = len(parts(path)["xl/worksheets/sheet1.xml"])
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", size + 100)  # the results take the sheet past it
    report = save(table)
    assert not report.is_copy and report.lost == []
    assert 0x0001 in _local_extra_ids(path, "xl/worksheets/sheet1.xml")
    monkeypatch.undo()
    data = XlsxTable(path).read()
    col = data.header.index("Sync result")
    assert [r.values[col] for r in data.rows] == [status] * 3
    openpyxl.load_workbook(path)


@pytest.mark.parametrize("name", ["libreoffice_features.xlsx", "macros.xlsm", "sparklines.xlsx", "custom_parts.xlsx"])
def test_fixtures_keep_every_other_part_byte_for_byte(tmp_path: Path, name: str, save: Save) -> None:
    path = tmp_path / name
    shutil.copyfile(FIXTURES / name, path)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok", 3: "✗ error"}})
    report = save(table)
    assert not report.is_copy and report.path == str(path) and report.lost == []
    old, new = parts(FIXTURES / name), parts(path)
    target = sheet_part(path, "Contacts")
    assert set(old) == set(new)
    changed = {n for n in old if old[n] != new[n]}
    # the sheet, and workbook.xml only by the recalculation mark where the workbook has formulas
    assert changed - {"xl/workbook.xml"} == {target}
    if "xl/workbook.xml" in changed:
        assert any(k[1] == "formula" for k in take_inventory(FIXTURES / name).features)
        assert new["xl/workbook.xml"] == mark_full_calc(old["xl/workbook.xml"])
    assert members(FIXTURES / name) == members(path)  # same names, order and compression
    assert find_losses(take_inventory(FIXTURES / name), take_inventory(path)) == []
    data = XlsxTable(path).read()
    col = data.header.index("Sync result")
    assert data.rows[0].values[col] == "ok" and data.rows[1].values[col] == "✗ error"


def test_sparklines_are_written_in_place(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "sparklines.xlsx"
    shutil.copyfile(FIXTURES / "sparklines.xlsx", path)
    table = XlsxTable(path, worksheet="Contacts")
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    table.append_rows("New contacts", ["Email"], [["n@example.com"]])
    report = save(table)
    assert not report.is_copy and report.lost == []
    inv = take_inventory(path)
    assert inv.count("Sales", "ext:sparklineGroup") == 2
    assert parts(path)["xl/worksheets/sheet2.xml"] == parts(FIXTURES / "sparklines.xlsx")["xl/worksheets/sheet2.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sparklines.xlsx"]


def test_libreoffice_fixture_with_a_new_tab_and_dates(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "lo.xlsx"
    shutil.copyfile(FIXTURES / "libreoffice_features.xlsx", path)
    table = XlsxTable(path, worksheet="Contacts")
    table.read()
    when = datetime.datetime(2026, 11, 28, 9, 15)
    set_cells(table, {"Sync result": {r: f"ok {r}" for r in range(2, 12)}, "Last synced": {r: when for r in range(2, 12)}})
    table.append_rows("New contacts", ["inwise ID", "Email", "Created"], [[439130001, "n@example.co.il", when]])
    report = save(table)
    assert not report.is_copy and report.lost == []
    old, new = parts(FIXTURES / "libreoffice_features.xlsx"), parts(path)
    changed = {n for n in old if old[n] != new.get(n)}
    assert changed == {"xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert [n for n in new if n not in old] == ["xl/worksheets/sheet3.xml"]
    # styles.xml: only appended (LibreOffice's own numFmt 164 is "General")
    old_styles, new_styles = old["xl/styles.xml"].decode(), new["xl/styles.xml"].decode()
    assert new_styles.count("<xf ") > old_styles.count("<xf ")
    assert re.search(r'<cellXfs count="(\d+)"', new_styles).group(1) == str(new_styles.split("<cellXfs")[1].split("</cellXfs>")[0].count("<xf "))
    with pictures_kept():
        wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Contacts", "Notes", "New contacts"]
    ws = wb["Contacts"]
    assert ws["H1"].value == "Sync result" and ws["H1"].font.b and ws["I2"].value == when
    assert ws["I2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws.freeze_panes == "A2"
    assert take_inventory(path).count("Contacts", "chart") == 1 and take_inventory(path).count("Contacts", "picture") == 1
    tab = wb["New contacts"]
    assert [[c.value for c in r] for r in tab.iter_rows()] == [["inwise ID", "Email", "Created"], [439130001, "n@example.co.il", when]]
    assert all(c.font.b for c in tab[1]) and tab.freeze_panes == "A2" and tab["A2"].number_format == "0"
    with CalamineWorkbook.from_path(str(path)) as cal:
        assert cal.sheet_names == ["Contacts", "Notes", "New contacts"]
        assert cal.get_sheet_by_name("New contacts").to_python() == [["inwise ID", "Email", "Created"], [439130001.0, "n@example.co.il", when]]
        assert cal.get_sheet_by_name("Notes").to_python() == [["Contacts", 10.0], ["Total score", 650.0], ["Via name", 650.0]]


# --------------------------------------------------------------------------------------------
# Other tabs


def test_append_to_an_existing_tab_and_create_a_new_one(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Email"])
    ws.append(["a@example.com"])
    log = wb.create_sheet("Log")
    log.append(["Added", "EMAIL "])
    log.append([datetime.date(2024, 1, 1), "old@example.com"])
    for row in range(3, 30):  # formatted, empty rows below the data
        log.cell(row=row, column=1).fill = PatternFill("solid", fgColor="EEEEEE")
    log["B1"].font = Font(italic=True)
    wb.create_sheet("Last")["A1"] = "keep"
    wb.save(path)
    table = XlsxTable(path)
    table.read()
    table.append_rows("log", ["Email", "Mobile"], [["a@example.com", "0541"]])
    table.append_rows("Log", ["Mobile", "Email", "Id"], [["0542", "b@example.com", 439130001]])
    table.append_rows("New contacts", ["Email", "Created"], [["n1@example.com", datetime.date(2024, 2, 3)], ["=n2@example.com", None]])
    table.append_rows("New contacts", ["Created", "Note"], [[datetime.date(2024, 2, 4), "second batch"]])
    save(table)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Contacts", "Log", "Last", "New contacts"]
    ws = wb["Log"]
    assert [c.value for c in ws[1]] == ["Added", "EMAIL ", "Mobile", "Id"]
    assert ws["C1"].font.i and ws["D1"].font.i  # added headers look like their neighbour
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=4)] == [
        [datetime.datetime(2024, 1, 1), "old@example.com", None, None],
        [None, "a@example.com", "0541", None],
        [None, "b@example.com", "0542", 439130001],
    ]
    assert ws["A3"].fill.fgColor.rgb == "00EEEEEE"  # the formatted empty cell kept its fill
    new = wb["New contacts"]
    assert [[c.value for c in r] for r in new.iter_rows()] == [
        ["Email", "Created", "Note"],
        ["n1@example.com", datetime.datetime(2024, 2, 3), None],
        ["=n2@example.com", None, None],
        [None, datetime.datetime(2024, 2, 4), "second batch"],
    ]
    assert new["A3"].data_type == "s" and all(c.font.b for c in new[1]) and new.freeze_panes == "A2"
    assert new.column_dimensions["C"].width == 14
    with CalamineWorkbook.from_path(str(path)) as cal:
        assert cal.sheet_names == ["Contacts", "Log", "Last", "New contacts"]
    assert XlsxTable(path).read_tab("New contacts") == (
        ["Email", "Created", "Note"],
        [["n1@example.com", datetime.date(2024, 2, 3), None], ["=n2@example.com", None, None], [None, datetime.date(2024, 2, 4), "second batch"]])
    # a second run appends below
    table = XlsxTable(path)
    table.append_rows("New contacts", ["Email"], [["n3@example.com"]])
    save(table)
    assert XlsxTable(path).read_tab("New contacts")[1][-1] == ["n3@example.com", None, None]
    assert openpyxl.load_workbook(path).sheetnames == ["Contacts", "Log", "Last", "New contacts"]


def test_new_tab_name_is_escaped_and_gets_a_free_part(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "c.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Email"])
    wb.save(path)

    def taken(p: dict[str, bytes]) -> None:  # a leftover part called sheet2.xml that is not a sheet
        p["xl/worksheets/sheet2.xml"] = b"<x/>"
        ct = p["[Content_Types].xml"].decode().replace("</Types>", '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/xml"/></Types>')
        p["[Content_Types].xml"] = ct.encode()
    rewrite(path, taken)
    table = XlsxTable(path)
    table.append_rows("Tom & Jerry's <new>", ["Email"], [["a@example.com"]])
    save(table)
    assert "xl/worksheets/sheet3.xml" in parts(path)
    assert openpyxl.load_workbook(path).sheetnames == ["Sheet", "Tom & Jerry's <new>"]
    assert calamine_rows(path, "Tom & Jerry's <new>") == [["Email"], ["a@example.com"]]


# --------------------------------------------------------------------------------------------
# When the fast path does not apply: openpyxl writes, and the result is still right


def _prefixed(p: dict[str, bytes]) -> None:
    s = p["xl/worksheets/sheet1.xml"].decode()
    s = re.sub(r"<(/?)(\w+)", lambda m: f"<{m.group(1)}x:{m.group(2)}", s)
    s = s.replace('xmlns="http', 'xmlns:x="http', 1)
    p["xl/worksheets/sheet1.xml"] = s.encode()


def _table_over_new_column(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    ws["E6"], ws["F6"] = "Code", "Label"
    ws["E7"], ws["F7"] = 1, "one"
    ws.add_table(ListObject(displayName="Codes", ref="D6:F7"))
    ws["D6"] = "Key"
    wb.save(path)


def test_a_new_results_column_goes_past_a_table_beside_the_data(tmp_path: Path, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    _table_over_new_column(path)  # a table in D6:F7, right of the header's last column
    table = XlsxTable(path, result_columns=["Result"])
    table.read()
    table.check_writable()
    assert set_cells(table, {"Result": {2: "ok", 4: "x"}}) == []
    report = save(table)
    assert any("D (D6), E (E6), F (F6) have no header but hold data, so they are left as they are" in n for n in report.notes), report.notes
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["G1"].value == "Result" and ws["G2"].value == "ok" and ws["G4"].value == "x"
    assert [[c.value for c in r] for r in ws["D6:F7"]] == [["Key", "Code", "Label"], [None, 1, "one"]]


def _table_below(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    ws["A6"], ws["B6"], ws["C6"] = "Code", "Label", "Status"
    ws["A7"], ws["B7"] = 1, "one"
    ws.add_table(ListObject(displayName="Codes", ref="A6:C7"))
    wb.save(path)


FALLBACKS = {
    "shared formula's first cell": (lambda p: rewrite(p, _shared_name_formula), {"Name": {2: "ok"}},
                                    "holds the formula other cells share"),
    "array formula": (lambda p: rewrite(p, edit_sheet(r'<c r="A2"[^>]*>.*?</c>', '<c r="A2"><f t="array" ref="A2:C2">B2</f><v>1</v></c>')),
                      {"Status": {2: "ok"}}, "array formula"),
    "a table's header": (_table_below, {"Status": {3: "ok", 6: "Status"}}, "a table's header"),
    "rich value cell": (lambda p: rewrite(p, edit_sheet(r'<c r="C2"', '<c vm="1" r="C2"')), {"Status": {2: "ok"}}, "rich value"),
    "date before 1900": (lambda p: None, {"Result": {2: datetime.date(1899, 6, 1)}}, "a date before"),
    "row out of order": (lambda p: rewrite(p, edit_sheet(r'<row r="4"', '<row r="1"')), {"Result": {2: "ok"}}, "out of order"),
}


def _shared_name_formula(p: dict[str, bytes]) -> None:
    """A2:A3 share one formula, written in A2 (as Excel writes a filled-down formula)."""
    edit_sheet(r'<c r="A2".*?</c>', '<c r="A2" t="str"><f t="shared" ref="A2:A3" si="0">B2</f><v>d@example.com</v></c>')(p)
    edit_sheet(r'<c r="A3".*?</c>', '<c r="A3" t="str"><f t="shared" si="0"/><v>y@example.com</v></c>')(p)


# What other programs write that the fast writer takes as well (issue 10: Strict files, .NET's
# and Hancom's prefixed parts, LibreOffice's rows without numbers, results over formulas).
FAST_TOO = {
    "prefixed namespace": (lambda p: rewrite(p, _prefixed), {"Result": {2: "ok"}}),
    "rows without r": (lambda p: rewrite(p, edit_sheet(r'<row r="\d+"', "<row")), {"Result": {2: "ok", 6: "new row"}}),
    "cells without r": (lambda p: rewrite(p, edit_sheet(r'<c r="[A-Z]+2"', "<c")), {"Status": {2: "ok"}, "Result": {2: "r"}}),
    "formula in a result cell": (lambda p: rewrite(p, edit_sheet(r'<c r="C2".*?</c>', '<c r="C2"><f>A2</f><v>Dana</v></c>')),
                                 {"Status": {2: "ok"}}),
    "a shared formula's other cell": (lambda p: rewrite(p, _shared_name_formula), {"Name": {3: "ok"}}),
}


@pytest.mark.parametrize("case", sorted(FAST_TOO))
def test_what_other_programs_write_is_patched_too(tmp_path: Path, case: str, save: Save) -> None:
    make, columns = FAST_TOO[case]
    path = contacts(tmp_path / "c.xlsx")
    make(path)
    before = calamine_rows(path, "Contacts")
    table = XlsxTable(path)
    table.check_writable()
    assert set_cells(table, columns) == []
    report = save(table)
    assert not report.is_copy and report.lost == []
    after = calamine_rows(path, "Contacts")
    assert after[0][: len(before[0])] == before[0] and set(after[0]) >= set(columns)
    heads = {v: i for i, v in enumerate(after[0]) if v}
    width = len(after[0])
    expected = [list(r) + [""] * (width - len(r)) for r in before] + [[""] * width for _ in range(len(after) - len(before))]
    expected[0] = after[0]
    for header, cells in columns.items():
        for row, value in cells.items():
            expected[row - 1][heads[header]] = value
    assert after == expected
    if case == "prefixed namespace":
        assert b"<x:c " in parts(path)["xl/worksheets/sheet1.xml"] and b"<c " not in parts(path)["xl/worksheets/sheet1.xml"]
    openpyxl.load_workbook(path)  # and openpyxl reads it


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_fallback_to_openpyxl(tmp_path: Path, case: str, caplog: pytest.LogCaptureFixture, save: Save) -> None:
    make, columns, reason = FALLBACKS[case]
    path = contacts(tmp_path / "c.xlsx")
    make(path)
    table = XlsxTable(path)
    assert set_cells(table, columns) == []
    report = save(table, "openpyxl")
    assert any(reason in r.getMessage() for r in caplog.records), caplog.text
    assert not report.is_copy
    ws = openpyxl.load_workbook(path)["Contacts"]
    heads = {c.value: c.column for c in ws[1] if c.value}
    for header, cells in columns.items():
        for row, value in cells.items():
            if case != "date before 1900":
                assert ws.cell(row=row, column=heads[header]).value == value, (header, row)


def test_results_inside_merged_cells_come_back_unplaced(tmp_path: Path, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"]["D1"] = "Result"  # an existing results column, with merged cells in its data rows
    wb.save(path)
    merges = '<mergeCells count="2"><mergeCell ref="C3:C4"/><mergeCell ref="D3:E4"/></mergeCells>'
    rewrite(path, edit_sheet(r"</sheetData>", "</sheetData>" + merges))
    table = XlsxTable(path)
    table.read()
    unplaced = set_cells(table, {"Result": {2: "ok", 3: "first cell", 4: "hidden"}, "status": {2: "new", 3: "shown", 4: "hidden"}})
    assert [(u.ref, u.reason) for u in unplaced] == [
        (RowRef(4), ("its 'Result' cell D4 is inside the merged cells D3:E4, which show only D3; "
                     "unmerge them so the next sync can write it")),
        (RowRef(4), ("its 'status' cell C4 is inside the merged cells C3:C4, which show only C3; "
                     "unmerge them so the next sync can write it")),
    ]
    save(table)  # the first cell of merged cells is an ordinary cell: the fast writer writes it
    rows = calamine_rows(path, "Contacts")
    assert [r[2:4] for r in rows[1:4]] == [["new", "ok"], ["shown", "first cell"], ["", ""]]


def test_a_new_results_column_never_cuts_through_empty_merged_cells(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, edit_sheet(r"</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="D3:E4"/></mergeCells>'))
    table = XlsxTable(path, result_columns=["Result"])
    table.read()
    with pytest.raises(SourceError) as e:
        table.check_writable()
    assert "column D" in str(e.value) and "merged cells (D3:E4)" in str(e.value) and "Nothing was sent" in str(e.value)
    unplaced = set_cells(table, {"Result": {2: "ok", 3: "x"}})
    assert [u.ref for u in unplaced] == [RowRef(2), RowRef(3)] and "merged cells (D3:E4)" in unplaced[0].reason


def test_shared_strings_with_namespace_prefixes_are_left_as_they_are(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "lo.xlsx"
    shutil.copyfile(FIXTURES / "libreoffice_features.xlsx", path)

    def prefixed(p: dict[str, bytes]) -> None:
        sst = p["xl/sharedStrings.xml"].decode()
        sst = re.sub(r"<(/?)(sst|si|t)\b", r"<\1x:\2", sst).replace('<x:sst xmlns="', '<x:sst xmlns:x="')
        p["xl/sharedStrings.xml"] = sst.encode()
    rewrite(path, prefixed)
    original = parts(path)["xl/sharedStrings.xml"]
    table = XlsxTable(path, worksheet="Contacts")
    assert table.read().rows[0].values[0] == "דנה כהן"
    set_cells(table, {"Sync result": {2: "ok"}})
    save(table)
    assert parts(path)["xl/sharedStrings.xml"] == original
    data = XlsxTable(path, worksheet="Contacts").read()
    assert data.rows[0].values[0] == "דנה כהן" and data.rows[0].values[data.header.index("Sync result")] == "ok"


def _strict(p: dict[str, bytes]) -> None:
    """Turn a workbook into Strict Open XML: the namespaces and relationship types Excel's
    "Strict Open XML Spreadsheet" writes."""
    for name, data in p.items():
        if name.endswith((".xml", ".rels")):
            p[name] = (data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
                       .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships", b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    p["xl/workbook.xml"] = p["xl/workbook.xml"].replace(b"<workbook ", b'<workbook conformance="strict" ', 1)


def test_strict_ooxml_is_patched(tmp_path: Path, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, _strict)
    table = XlsxTable(path)
    table.check_writable()
    table.read()
    set_cells(table, {"Result": {2: "ok", 3: 439130001}})
    table.append_rows("New contacts", ["Email"], [["new@example.com"]])
    assert not save(table).is_copy
    assert calamine_rows(path, "Contacts")[1:3] == [["Dana", "d@example.com", "x", "ok"], ["Yossi", "y@example.com", "", 439130001]]
    assert calamine_rows(path, "New contacts") == [["Email"], ["new@example.com"]]
    new = parts(path)
    new_sheet = sheet_part(path, "New contacts")
    assert b'xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"' in new[new_sheet]
    assert b'Type="http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet" Target="worksheets/sheet2.xml"' \
        in new["xl/_rels/workbook.xml.rels"]
    assert b"schemas.openxmlformats.org/spreadsheetml" not in new["xl/styles.xml"] + new["xl/workbook.xml"]


def test_a_table_is_fine_where_its_columns_do_not_change(tmp_path: Path, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"].add_table(ListObject(displayName="People", ref="A1:C4"))
    wb.save(path)
    table = XlsxTable(path)
    set_cells(table, {"Status": {2: "ok", 4: "fine"}})
    save(table)  # data cells of an existing table column: the table's definition is unchanged
    assert [r[2] for r in calamine_rows(path, "Contacts")] == ["Status", "ok", "", "fine"]
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    save(table)  # a column right of the table: the table is not extended
    assert calamine_rows(path, "Contacts")[1] == ["Dana", "d@example.com", "ok", "ok"]
    assert take_inventory(path).count("Contacts", "rel:table") == 1


def test_a_crash_in_the_fast_writer_leaves_the_original_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    before = parts(path)

    def crash(src: Path, dst: Path, *args: object, **kwargs: object) -> None:
        dst.write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(patch, "write_patched", crash)
        table = XlsxTable(path)
        set_cells(table, {"Result": {2: "ok"}})
        with pytest.raises(SourceError, match="No space left on device.*not changed"):
            table.save()
    assert parts(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]
    save(table)  # the writes are still buffered: a second save writes them
    assert calamine_rows(path, "Contacts")[1][-1] == "ok"


def test_a_full_disk_while_a_sheet_is_compressed_leaves_the_original_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, save: Save) -> None:
    # a patched sheet is compressed and written by a second thread: its error still stops the save
    path = contacts(tmp_path / "c.xlsx")
    before = parts(path)
    real = zipfile._ZipWriteFile.write  # type: ignore[attr-defined]
    failed: list[str] = []

    def full(self: object, data: bytes) -> int:
        if threading.current_thread() is not threading.main_thread():
            failed.append(threading.current_thread().name)
            raise OSError(28, "No space left on device")
        return real(self, data)  # type: ignore[no-any-return]

    with monkeypatch.context() as m:
        m.setattr(zipfile._ZipWriteFile, "write", full)  # type: ignore[attr-defined]
        table = XlsxTable(path)
        set_cells(table, {"Result": {2: "ok"}})
        with pytest.raises(SourceError, match="No space left on device.*not changed"):
            table.save()
    assert failed and parts(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]
    save(table)  # the writes are still buffered: a second save writes them
    assert calamine_rows(path, "Contacts")[1][-1] == "ok"


# --------------------------------------------------------------------------------------------
# Size


def test_thousands_of_rows_round_trip(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "big.xlsx"
    n = 5_000
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Contacts")
    ws.append(["Id", "Name", "Email", "Mobile", "Joined", "City", "Company", "Score", "Notes", "Status"])
    for i in range(n):
        ws.append([f"M-{i}", f"Name {i}", f"user{i}@example.com", f"05{i:08d}", datetime.date(2000, 1, 1) + datetime.timedelta(days=i % 5000),
                   "תל אביב", "Acme", i % 100, "" if i % 5 else "call back", "old" if i % 3 == 0 else None])
    wb.save(path)
    table = XlsxTable(path)
    data = table.read()
    assert len(data.rows) == n
    when = datetime.datetime(2026, 11, 28, 9, 15)
    rows = [r.number for r in data.rows]
    set_cells(table, {
        "Sync result": {r: f"✓ created · #{439130000 + r}" for r in rows},
        "inwise ID": {r: 439130000 + r for r in rows if r % 7},
        "Status": {r: "new" for r in rows if r % 2},
        "Last synced": {r: when for r in rows},
    })
    report = save(table)
    assert not report.is_copy and report.lost == []
    cal = calamine_rows(path, "Contacts")
    assert cal[0] == ["Id", "Name", "Email", "Mobile", "Joined", "City", "Company", "Score", "Notes", "Status", "Sync result", "inwise ID", "Last synced"]
    for i, row in enumerate(cal[1:]):
        r = i + 2
        assert row[0] == f"M-{i}" and row[10] == f"✓ created · #{439130000 + r}"
        assert row[11] == (439130000 + r if r % 7 else "")
        assert row[9] == ("new" if r % 2 else ("old" if i % 3 == 0 else ""))
        assert row[12] == when
    assert b"<dimension" not in parts(path)["xl/worksheets/sheet1.xml"][:2000]  # openpyxl's streaming writer wrote none


def _every_shape(path: Path) -> Path:
    """Rows as other programs write them: spans, whitespace, a self-closing row, a cell without
    a reference, a results cell already there, a cell right of the results, formulas."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", "Result", "ID"])
    for r in range(2, 41):
        ws.append([f"N{r}", f"n{r}@example.com"])
    ws["C10"] = "old result"  # a results cell already there
    ws["E20"] = "right of the results"
    ws["F25"] = "=LEN(A25)"
    ws["G3"] = ArrayFormula("G3", "=SUM(B2:B3)")
    wb.save(path)

    def shapes(p: dict[str, bytes]) -> None:
        s = p["xl/worksheets/sheet1.xml"].decode()
        s = re.sub(r'<row r="(\d+)">', r'<row r="\1" spans="1:2">', s)
        s = s.replace('<c r="B12"', '\n  <c r="B12"').replace('</row><row r="13"', '\n</row><row r="13"')
        s = re.sub(r'<row r="15" spans="1:2">.*?</row>', '<row r="15" spans="1:2" ht="30" customHeight="1"/>', s)
        s = s.replace('<c r="B17"', '<c')  # the next column, without a reference
        p["xl/worksheets/sheet1.xml"] = s.encode()
    return rewrite(path, shapes)


_SHAPE_RESULTS = {r: f"ok {r} & <done>" if r % 9 == 0 else f"✓ created #{r}" for r in range(2, 41)}
_SHAPE_IDS = {r: 439130000 + r for r in range(2, 41) if r % 4}


def test_rows_of_every_shape_in_one_results_column(tmp_path: Path, save: Save) -> None:
    """Most rows get their results after their last cell (spliced in as a stretch); rows shaped
    otherwise in between them are patched cell by cell."""
    path = _every_shape(tmp_path / "shapes.xlsx")
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Result": _SHAPE_RESULTS, "ID": {**_SHAPE_IDS, 30: None}})
    save(table)
    ws = openpyxl.load_workbook(path)["Contacts"]
    for r in range(2, 41):
        assert ws.cell(r, 3).value == _SHAPE_RESULTS[r], r
        assert ws.cell(r, 4).value == (_SHAPE_IDS.get(r) if r != 30 else None), r
        if r != 15:
            assert (ws.cell(r, 1).value, ws.cell(r, 2).value) == (f"N{r}", f"n{r}@example.com"), r
    assert ws["E20"].value == "right of the results" and ws.row_dimensions[15].height == 30
    assert ws["F25"].value == "=LEN(A25)"
    assert ws["D5"].number_format == "0"  # a long number keeps its digits
    sheet = parts(path)["xl/worksheets/sheet1.xml"].decode()
    assert '<row r="2" spans="1:4">' in sheet and '<row r="20" spans="1:3">' in sheet  # widened from what it said
    assert [int(n) for n in re.findall(r'<row r="(\d+)"', sheet)] == list(range(1, 41))


@pytest.mark.parametrize("implied", [False, True])
def test_a_large_sheet_is_patched_from_a_file_the_same_way(
        tmp_path: Path, save: Save, monkeypatch: pytest.MonkeyPatch, implied: bool) -> None:
    """A large sheet (here: any, the limit lowered) is decompressed into an unnamed temporary
    file and gone through a window at a time (here a tiny one: tags cut at every place): the
    new workbook is byte for byte the one made in memory, and no file is left anywhere."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    original = _every_shape(tmp_path / "shapes.xlsx")
    if implied:  # rows without numbers: the next row
        rewrite(original, edit_sheet(r'<row r="(2[0-9])" spans', '<row spans'))
    results = []
    for spill in (False, True):
        folder = tmp_path / ("file" if spill else "memory")
        folder.mkdir()
        path = folder / "shapes.xlsx"
        shutil.copyfile(original, path)
        with monkeypatch.context() as m:
            if spill:
                m.setattr(patch, "SPILL_SIZE", 0)
                m.setattr(patch_scan, "WINDOW", 97)
            table = XlsxTable(path)
            table.read()
            table.check_writable()
            set_cells(table, {"Result": _SHAPE_RESULTS, "ID": _SHAPE_IDS})
            table.append_rows("New", ["a", "b"], [[i, f"x{i}"] for i in range(30)])
            save(table)
        assert sorted(p.name for p in folder.iterdir()) == ["shapes.xlsx"] and list(temp.iterdir()) == []
        results.append(parts(path))
    assert results[0] == results[1]
    assert openpyxl.load_workbook(path)["Contacts"]["C29"].value == _SHAPE_RESULTS[29]


@pytest.mark.parametrize(("formula", "marked"), [
    ('COUNTIF(Contacts!D:D,"✓*")', True),  # reads the results column (D, the first free one)
    ('COUNTIF(D:D,"✓*")', False),  # column D of its own sheet (Figures), where nothing is written
    ("SUM(Contacts!$D$2:$D$4)", True),
    ('INDIRECT("D"&ROW())', True),  # which cells it reads is not in its text
    ("RAND()*NOW()", False),  # volatile, reads nothing written: no recalculation on open
    ("LEN(A2)", False),
])
def test_a_recalculation_on_open_is_asked_for_only_where_a_formula_reads_a_written_cell(
        tmp_path: Path, save: Save, formula: str, marked: bool) -> None:
    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Figures")["A1"] = "=" + formula
    wb.save(path)
    rewrite(path, edit_sheet(r"<calcPr[^>]*/>", "", part="xl/workbook.xml"))  # openpyxl marks every file it saves
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "✓ created", 3: "✓ updated"}})
    save(table)
    assert openpyxl.load_workbook(path)["Contacts"]["D1"].value == "Sync result"
    assert (b'fullCalcOnLoad="1"' in parts(path)["xl/workbook.xml"]) == marked


def test_a_result_replacing_a_formula_asks_for_a_recalculation(tmp_path: Path, save: Save) -> None:
    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"]["C2"] = '="x"'  # the Status column held a formula on row 2
    wb.save(path)
    rewrite(path, edit_sheet(r"<calcPr[^>]*/>", "", part="xl/workbook.xml"))
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Status": {2: "✓ created"}})
    save(table)
    assert b'fullCalcOnLoad="1"' in parts(path)["xl/workbook.xml"]


def test_mark_full_calc_places_calcpr_by_the_schema() -> None:
    ns = b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    plain = ns + b'<sheets><sheet name="A" sheetId="1"/></sheets></workbook>'
    assert mark_full_calc(plain) == ns + b'<sheets><sheet name="A" sheetId="1"/></sheets><calcPr fullCalcOnLoad="1"/></workbook>'
    named = ns + b'<sheets/><definedNames><definedName name="x">A!$A$1</definedName></definedNames><oleSize ref="A1"/></workbook>'
    assert b'</definedNames><calcPr fullCalcOnLoad="1"/><oleSize' in mark_full_calc(named)
    existing = ns + b'<sheets/><calcPr calcId="191029" fullCalcOnLoad="0"/></workbook>'
    assert mark_full_calc(existing) == ns + b'<sheets/><calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'


def test_workbook_without_formulas_keeps_workbook_xml(tmp_path: Path, save: Save) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Email"])
    wb.active.append(["a@example.com"])
    wb.save(path)
    old = parts(path)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    save(table)
    assert parts(path)["xl/workbook.xml"] == old["xl/workbook.xml"]
