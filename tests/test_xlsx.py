"""The .xlsx table: reading, file problems, buffered writes and the safe save, on real files.

Fixtures in tests/fixtures/ are committed (see its README.md); anything small is made here
with openpyxl.  Nothing here needs LibreOffice.
"""
from __future__ import annotations

import codecs
import datetime
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook
from xlsx_files import FIXTURES, fixture_copy, leftovers, set_cells, sha

from sheets_connector.errors import ConfigError, SourceError
from sheets_connector.tables.base import CellError, Table
from sheets_connector.tables.xlsx import XlsxTable, patch
from sheets_connector.tables.xlsx.inventory import find_losses, take_inventory
from sheets_connector.tables.xlsx.openpyxl_writer import pictures_kept

# A value the fast writer leaves to openpyxl (Excel's dates start in 1900), for the tests of
# what happens when openpyxl writes.
NEEDS_OPENPYXL = datetime.date(1899, 6, 1)


def all_values(path: Path) -> dict[str, dict[str, object]]:
    """Every cell's value (formulas as formulas) of every sheet, via openpyxl."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
            for ws in wb.worksheets}


def contacts_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", "Mobile", "Status "])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FF0000FF")
        cell.fill = PatternFill("solid", fgColor="FFFF00")
    ws.append(["Dana", "dana@example.co.il", "0541111111", "old"])
    ws.append(["Yossi", "yossi@example.co.il", 541111112, None])
    ws.append(["Avi", "avi@example.co.il", None, None])
    ws["F2"] = "=B2"  # a formula outside the header width
    wb.create_sheet("Other")["A1"] = "keep me"
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------------
# Reading


def test_xlsx_table_satisfies_the_table_protocol(tmp_path: Path) -> None:
    table: Table = XlsxTable(contacts_workbook(tmp_path / "c.xlsx"))
    assert table.location == "c.xlsx"


def test_read_libreoffice_workbook_values(tmp_path: Path) -> None:
    table = XlsxTable(fixture_copy(tmp_path, "libreoffice_features.xlsx"), worksheet="Contacts")
    data = table.read()
    assert data.header == ["Name", "Email", "Mobile", "City", "Joined", "Score", "Double"]
    assert data.header_row == 1
    assert data.location == "libreoffice_features.xlsx, sheet 'Contacts'" == table.location
    assert [r.number for r in data.rows] == list(range(2, 12))
    first = data.rows[0].values
    assert first[0] == "דנה כהן"  # Hebrew kept
    assert first[2] == "0541111102"  # text with a leading zero stays text
    assert first[3] == "תל אביב"
    assert first[4] == datetime.date(2024, 1, 2)
    assert first[5] == 20 and type(first[5]) is int  # whole numbers come back as int
    assert first[6] == 40  # the formula's cached value
    assert all(len(r.values) == 7 for r in data.rows)


def test_row_numbers_with_leading_blank_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "Name", 2024, None, "Joined"
    ws["C4"], ws["D4"] = "Dana", 5
    ws["C6"], ws["F6"], ws["H6"] = "Yossi", datetime.datetime(2024, 1, 2, 3, 4), "right of the header"
    ws["C7"], ws["D7"] = "Avi", 2.5
    ws["C12"].font = Font(bold=True)  # formatted but empty: not a row
    wb.save(path)
    data = XlsxTable(path, header_row=3).read()
    assert data.header == ["", "", "Name", "2024", "", "Joined"]
    assert [r.number for r in data.rows] == [4, 5, 6, 7]
    assert data.rows[0].values == (None, None, "Dana", 5, None, None)
    assert data.rows[1].values == (None,) * 6  # a blank row in the middle stays, trailing ones go
    assert data.rows[2].values == (None, None, "Yossi", None, None, datetime.datetime(2024, 1, 2, 3, 4))
    assert data.rows[3].values[3] == 2.5


def test_header_row_below_the_top(tmp_path: Path) -> None:
    path = tmp_path / "title.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Our contacts (updated weekly)"
    ws.append([])
    ws.append(["Email", "Name"])
    ws.append(["a@example.com", "A"])
    wb.save(path)
    data = XlsxTable(path, header_row=3).read()
    assert data.header == ["Email", "Name"]
    assert [(r.number, r.values) for r in data.rows] == [(4, ("a@example.com", "A"))]


def test_first_visible_sheet_is_the_default_and_names_match_loosely(tmp_path: Path) -> None:
    path = tmp_path / "sheets.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Hidden"
    wb.active["A1"] = "x"
    wb.active.sheet_state = "hidden"
    ws = wb.create_sheet("Contacts")
    ws.append(["Email"])
    ws.append(["a@example.com"])
    wb.save(path)
    assert XlsxTable(path).read().location == "sheets.xlsx, sheet 'Contacts'"
    assert XlsxTable(path, worksheet="  contacts ").read().rows[0].values == ("a@example.com",)


def test_unknown_worksheet_lists_sheets_and_suggests(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    with pytest.raises(ConfigError) as e:
        XlsxTable(path, worksheet="Contcts").read()
    msg = str(e.value)
    assert "no sheet named 'Contcts'" in msg and "'Contacts', 'Other'" in msg and "Did you mean 'Contacts'?" in msg


def test_empty_header_row_is_a_config_error(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    with pytest.raises(ConfigError, match=r"Row 9 of sheet 'Contacts' in c.xlsx is empty"):
        XlsxTable(path, header_row=9).read()
    with pytest.raises(ConfigError, match="header row"):
        XlsxTable(path, header_row=0)


# --------------------------------------------------------------------------------------------
# File problems


def test_missing_file_names_the_path_and_the_folder_s_workbooks(tmp_path: Path) -> None:
    contacts_workbook(tmp_path / "contacts 2024.xlsx")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SourceError) as e:
        XlsxTable(tmp_path / "contacts.xlsx").read()
    assert str(tmp_path / "contacts.xlsx") in str(e.value)
    assert "contacts 2024.xlsx" in str(e.value) and "notes.txt" not in str(e.value)
    with pytest.raises(SourceError, match="has no .xlsx files"):
        XlsxTable(tmp_path / "sub" / "x.xlsx").read() if (tmp_path / "sub").mkdir() is None else None
    with pytest.raises(SourceError, match="does not exist either"):
        XlsxTable(tmp_path / "nowhere" / "x.xlsx").read()


@pytest.mark.parametrize(
    ("name", "make", "expected"),
    [
        ("contacts.xlsx", lambda p: p.mkdir(), "is a folder"),
        ("contacts.xlsx", lambda p: p.write_bytes(b""), "is empty"),
        ("contacts.xlsx", lambda p: p.write_text("Name,Email\nDana,dana@example.co.il\n"), "text (CSV) file"),
        ("contacts.csv", lambda p: p.write_text("Name;Email\nDana;dana@example.co.il\n"), "text (CSV) file"),
        ("contacts.xlsx", lambda p: p.write_text("<html><body><table></table></body></html>"), "web page"),
        ("contacts.xlsx", lambda p: shutil.copyfile(FIXTURES / "old_excel.xls", p), "Excel 97-2003 workbook (.xls)"),
        ("contacts.xls", lambda p: shutil.copyfile(FIXTURES / "old_excel.xls", p), "Excel 97-2003 workbook (.xls)"),
        ("contacts.xlsx", lambda p: shutil.copyfile(FIXTURES / "password.xlsx", p), "protected with a password"),
        ("contacts.xlsx", lambda p: p.write_bytes((FIXTURES / "libreoffice_features.xlsx").read_bytes()[:3000]), "is damaged"),
        ("contacts.xlsx", lambda p: zipfile.ZipFile(p, "w").writestr("word/document.xml", "<w/>"), "Word document"),
        ("contacts.xlsx", lambda p: zipfile.ZipFile(p, "w").writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), "OpenDocument spreadsheet"),
    ],
)
def test_file_problems_are_clear_source_errors(tmp_path: Path, name: str, make: Callable[[Path], object], expected: str) -> None:
    path = tmp_path / name
    make(path)
    for action in (lambda t: t.read(), lambda t: t.check_writable()):
        with pytest.raises(SourceError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")) as e:
            action(XlsxTable(path))
        assert "Traceback" not in str(e.value)


def test_a_part_damaged_after_the_read_stops_the_save(tmp_path: Path) -> None:
    """Every part's CRC is checked once per version of the file (a run checks the file before
    reading, writing and saving): a file changed since is checked again."""
    path = contacts_workbook(tmp_path / "contacts.xlsx")
    table = XlsxTable(path)
    rows = table.read().rows
    set_cells(table, {"Sync result": {r.number: "ok" for r in rows}})
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename == "docProps/core.xml")
    data = path.read_bytes()
    crc = struct.pack("<I", info.CRC)
    assert data.count(crc) == 2  # the part's local header and its entry in the zip's directory
    path.write_bytes(data.replace(crc, struct.pack("<I", info.CRC ^ 1)))
    later = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(later, later))  # written later (a file system's clock may not have moved yet)
    damaged = sha(path)
    with pytest.raises(SourceError, match=r"is damaged: .*part docProps/core\.xml is corrupt"):
        table.save()
    assert sha(path) == damaged and leftovers(tmp_path) == []


def test_not_xlsx_messages_say_how_to_save_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    shutil.copyfile(FIXTURES / "old_excel.xls", path)
    with pytest.raises(SourceError, match=r"save it|Save As > Excel Workbook \(\.xlsx\)"):
        XlsxTable(path).read()
    with pytest.raises(SourceError, match="remove the password|Remove the password"):
        XlsxTable(FIXTURES / "password.xlsx").read()


def test_macro_workbook_and_odd_extension_are_read(tmp_path: Path) -> None:
    assert XlsxTable(fixture_copy(tmp_path, "macros.xlsm")).read().header == ["Name", "Email", "Mobile"]
    odd = fixture_copy(tmp_path, "macros.xlsm", "export.dat")
    assert len(XlsxTable(odd).read().rows) == 3


def test_libreoffice_lock_file_names_the_user(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "contacts.xlsx")
    (tmp_path / ".~lock.contacts.xlsx#").write_text("Dana Cohen,dana,dana-pc,28.11.2026 07:26,file:///home/dana/.config/libreoffice/4;")
    with pytest.raises(SourceError) as e:
        XlsxTable(path).check_writable()
    assert "contacts.xlsx is open in LibreOffice (by Dana Cohen); close it and run again" in str(e.value)
    assert ".~lock.contacts.xlsx#" in str(e.value)


def test_excel_owner_file_names_the_user(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "contacts.xlsx")
    user = "Yossi Levi"
    owner = bytes([len(user)]) + user.encode() + b" " * (53 - len(user))
    owner += struct.pack("<H", len(user)) + user.encode("utf-16-le") + b"\x00" * 40
    (tmp_path / "~$contacts.xlsx").write_bytes(owner)
    with pytest.raises(SourceError, match=r"contacts.xlsx is open in Excel \(by Yossi Levi\); close it and run again"):
        XlsxTable(path).check_writable()
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    before = sha(path)
    with pytest.raises(SourceError, match="open in Excel"):
        table.save()
    assert sha(path) == before


def test_excel_owner_file_of_a_long_name(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "newsletter.xlsx")
    (tmp_path / "~$wsletter.xlsx").write_bytes(b"\x00" * 162)
    with pytest.raises(SourceError, match=r"newsletter.xlsx is open in Excel; close it"):
        XlsxTable(path).check_writable()


def _as_unprivileged(fn: Callable[[], None]) -> str:
    """Run ``fn`` as an unprivileged user and return its error message ("" if none).

    Tests run as root in CI, where permission bits do not stop writing; a forked child that
    drops to 'nobody' meets the real PermissionError.
    """
    if os.geteuid() != 0:
        try:
            fn()
        except SourceError as e:
            return str(e)
        return ""
    # zipfile decodes part names with cp437, a codec imported on first use: the child could not
    # import it as 'nobody' where Python lives in root's home (pyenv), so it is loaded here
    codecs.lookup("cp437")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        message = b""
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            try:
                fn()
            except SourceError as e:
                message = str(e).encode()
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                message = f"unexpected {type(e).__name__}: {e}".encode()
            os.write(w, message)
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


@pytest.fixture
def open_folder() -> Path:
    """A folder anyone can enter (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="xlsx-perm-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_read_only_file_is_reported(open_folder: Path) -> None:
    path = contacts_workbook(open_folder / "contacts.xlsx")
    path.chmod(0o444)
    open_folder.chmod(0o777)
    message = _as_unprivileged(lambda: XlsxTable(path).check_writable())
    assert "cannot write to" in message and "read-only" in message


def test_read_only_folder_is_reported(open_folder: Path) -> None:
    path = contacts_workbook(open_folder / "contacts.xlsx")
    path.chmod(0o666)
    open_folder.chmod(0o755)
    message = _as_unprivileged(lambda: XlsxTable(path).check_writable())
    assert f"cannot create files in the folder {open_folder}" in message


def test_writable_file_passes(tmp_path: Path) -> None:
    XlsxTable(contacts_workbook(tmp_path / "c.xlsx")).check_writable()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------
# Writing


def test_set_columns_creates_the_results_column_and_touches_only_its_cells(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    before = all_values(path)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok", 4: "=not a formula"}, " status": {3: 7}})
    set_cells(table, {"SYNC RESULT": {3: datetime.date(2024, 5, 6)}})
    report = table.save()
    assert report.path == str(path) and not report.is_copy and report.lost == []
    after = all_values(path)
    # 'Status ' matched ignoring case/spaces; the new column comes after the last header (D),
    # not after the formula in F2 which has no header.
    assert after["Contacts"].pop("D3") == 7
    assert after["Contacts"].pop("E1") == "Sync result"
    assert after["Contacts"].pop("E2") == "ok"
    assert after["Contacts"].pop("E3") == datetime.datetime(2024, 5, 6)
    assert after["Contacts"].pop("E4") == "=not a formula"
    assert after == before
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    assert ws["E4"].data_type == "s"  # text, not a formula
    assert ws["E1"].font.b and ws["E1"].font.color.rgb == "FF0000FF" and ws["E1"].fill.fgColor.rgb == "00FFFF00"
    data = XlsxTable(path).read()
    assert data.header == ["Name", "Email", "Mobile", "Status", "Sync result"] or data.header[3].strip() == "Status"
    assert data.rows[2].values[4] == "=not a formula"
    assert leftovers(tmp_path) == []


def test_set_columns_rejects_header_and_bad_rows(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    before = sha(path)
    table = XlsxTable(path, header_row=1)
    with pytest.raises(ValueError, match="RowRef.number=1.*not a data row below header row 1"):
        set_cells(table, {"Result": {2: "fine", 1: "x"}})
    with pytest.raises(ValueError):
        set_cells(table, {" ": {2: "x"}})
    with pytest.raises(ValueError, match="2 is not a data row"):
        table.set_columns({"Result": {2: "a row number, not a RowRef"}})  # type: ignore[dict-item]
    table.save()  # nothing was buffered by the calls that failed
    assert sha(path) == before


def test_save_with_nothing_to_write_leaves_the_file_alone(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    mtime = path.stat().st_mtime_ns
    assert XlsxTable(path).save().path == str(path)
    assert path.stat().st_mtime_ns == mtime


def test_append_rows_creates_a_tab_with_a_bold_header(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    assert table.read_tab("New contacts") is None
    assert table.append_rows("New contacts", ["Email", "Mobile", "Added"], [["n@example.com", "0541", datetime.date(2024, 2, 3)], ["=x@example.com"]]) == 2
    # read_tab sees rows appended but not saved yet
    assert table.read_tab("new contacts ") == (["Email", "Mobile", "Added"], [["n@example.com", "0541", datetime.date(2024, 2, 3)], ["=x@example.com", None, None]])
    table.save()
    wb = openpyxl.load_workbook(path)
    ws = wb["New contacts"]
    assert [c.value for c in ws[1]] == ["Email", "Mobile", "Added"] and all(c.font.b for c in ws[1])
    assert ws["A3"].value == "=x@example.com" and ws["A3"].data_type == "s"
    assert XlsxTable(path).read_tab("New contacts") == (
        ["Email", "Mobile", "Added"], [["n@example.com", "0541", datetime.date(2024, 2, 3)], ["=x@example.com", None, None]])


def test_append_rows_extends_an_existing_tab_by_header(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("New contacts")
    ws.append(["Added", "EMAIL "])
    ws.append([datetime.date(2024, 1, 1), "old@example.com"])
    for row in range(3, 50):  # formatted, empty rows below the data
        ws.cell(row=row, column=1).fill = PatternFill("solid", fgColor="EEEEEE")
    ws["B1"].font = Font(italic=True)
    wb.save(path)
    table = XlsxTable(path)
    table.append_rows("new contacts", ["Email", "Mobile"], [["a@example.com", "0541"]])
    table.append_rows("New contacts", ["Mobile", "Email"], [["0542", "b@example.com"]])
    table.save()
    ws = openpyxl.load_workbook(path)["New contacts"]
    assert [c.value for c in ws[1]] == ["Added", "EMAIL ", "Mobile"]
    assert ws["C1"].font.i  # the added header looks like its neighbour
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=4)] == [
        [datetime.datetime(2024, 1, 1), "old@example.com", None],
        [None, "a@example.com", "0541"],
        [None, "b@example.com", "0542"],
    ]


def test_append_rows_rejects_bad_tab_names(tmp_path: Path) -> None:
    table = XlsxTable(contacts_workbook(tmp_path / "c.xlsx"))
    for bad in ("a/b", "x" * 32, "", "What?"):
        with pytest.raises(ConfigError, match="cannot be the name of a tab"):
            table.append_rows(bad, ["Email"], [])


def test_libreoffice_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = fixture_copy(tmp_path, "libreoffice_features.xlsx")
    original = take_inventory(path)
    table = XlsxTable(path, worksheet="Contacts")
    table.check_writable()
    table.read()
    set_cells(table, {"Sync result": {r: f"ok {r}" for r in range(2, 12)}})
    table.append_rows("New contacts", ["Email"], [["new@example.co.il"]])
    report = table.save()
    assert report.path == str(path) and not report.is_copy and report.lost == []
    assert find_losses(original, take_inventory(path)) == []

    with pictures_kept():  # openpyxl itself needs Pillow to see pictures
        wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    assert ws["H1"].value == "Sync result" and ws["H11"].value == "ok 11" and ws["H1"].font.b
    assert take_inventory(path).count("Contacts", "chart") == 1 and take_inventory(path).count("Contacts", "picture") == 1
    assert ws["A2"].comment.text.strip() == "VIP customer"
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["D2:D11"]
    assert [str(r.sqref) for r in ws.conditional_formatting] == ["F2:F11"]
    assert ws["G2"].value == "=F2*2" and wb["Notes"]["B2"].value == "=SUM(Contacts!F2:F11)"
    assert ws.column_dimensions["A"].width == 22 and ws.column_dimensions["B"].width == 30
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G11"
    assert "Scores" in wb.defined_names
    assert {p.name: p.value for p in wb.custom_doc_props} == {"Department": "Sales", "Version": 3}
    assert wb.sheetnames == ["Contacts", "Notes", "New contacts"]
    with zipfile.ZipFile(path) as zf:  # the picture's bytes are the original's
        pngs = [n for n in zf.namelist() if n.endswith(".png")]
        assert len(pngs) == 1
        assert zf.read(pngs[0]) == zipfile.ZipFile(FIXTURES / "libreoffice_features.xlsx").read("xl/media/image1.png")
    again = XlsxTable(path).read()
    assert again.rows[0].values[0] == "דנה כהן"
    # formulas keep their last computed values (openpyxl alone would leave them empty)
    assert [r.values[6] for r in again.rows] == [r * 20 for r in range(2, 12)]
    with CalamineWorkbook.from_path(str(path)) as cal:
        assert cal.get_sheet_by_name("Notes").to_python() == [["Contacts", 10.0], ["Total score", 650.0], ["Via name", 650.0]]
    assert leftovers(tmp_path) == []


def test_macros_survive_byte_for_byte(tmp_path: Path) -> None:
    path = fixture_copy(tmp_path, "macros.xlsm")
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Result": {2: "ok"}})
    assert not table.save().is_copy
    with zipfile.ZipFile(path) as new, zipfile.ZipFile(FIXTURES / "macros.xlsm") as old:
        assert new.read("xl/vbaProject.bin") == old.read("xl/vbaProject.bin")
        assert b"application/vnd.ms-excel.sheet.macroEnabled.main+xml" in new.read("[Content_Types].xml")
        assert b"vbaProject" in new.read("xl/_rels/workbook.xml.rels")
    assert take_inventory(path).digests == take_inventory(FIXTURES / "macros.xlsm").digests


def test_plain_workbook_is_not_turned_into_a_macro_workbook(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    table.save()
    with zipfile.ZipFile(path) as zf:
        assert b"sheet.main+xml" in zf.read("[Content_Types].xml") and b"macroEnabled" not in zf.read("[Content_Types].xml")


def test_what_openpyxl_would_drop_goes_to_a_copy_and_the_original_is_untouched(tmp_path: Path) -> None:
    # The fast writer keeps sparklines (tests/test_xlsx_patch.py writes this file in place);
    # where openpyxl has to write, what it drops sends the results to a copy.
    path = fixture_copy(tmp_path, "sparklines.xlsx")
    before = sha(path)
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok", 3: NEEDS_OPENPYXL}})
    report = table.save()
    copy = tmp_path / "sparklines (with sync results).xlsx"
    assert report.is_copy and report.path == str(copy)
    # what openpyxl drops, and the sheet it had to rewrite (the written one is its own business)
    assert report.lost == ["2 sparkline groups on sheet 'Sales'", "sheet 'Sales' (rewritten: details such as formatting may differ)"]
    assert all(lost in report.message for lost in report.lost)
    assert "the slower way, because a date before March 1900" in report.message
    assert "your original file was not changed" in report.message.lower() and str(copy) in report.message
    assert sha(path) == before
    assert openpyxl.load_workbook(copy)["Contacts"]["D2"].value == "ok"
    assert stat.S_IMODE(copy.stat().st_mode) == stat.S_IMODE(path.stat().st_mode)
    # a second run does not overwrite the first copy
    table.read()
    set_cells(table, {"Sync result": {3: NEEDS_OPENPYXL}})
    assert table.save().path == str(tmp_path / "sparklines (with sync results) 2.xlsx")
    assert sha(path) == before
    assert leftovers(tmp_path) == []


@pytest.mark.filterwarnings("ignore:Unknown type for")
def test_dropped_custom_properties_and_custom_xml_are_grafted_back(tmp_path: Path) -> None:
    path = fixture_copy(tmp_path, "custom_parts.xlsx")
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    report = table.save()
    assert not report.is_copy, report.lost
    inv = take_inventory(path)
    assert sorted(inv.features[("", "custom property")]) == ["Big number", "Department", "Legacy text"]
    assert inv.count("", "rel:customXml") == 1
    with zipfile.ZipFile(path) as zf:
        assert b"9007199254740993" in zf.read("docProps/custom.xml")
        assert zf.read("customXml/item1.xml") == zipfile.ZipFile(FIXTURES / "custom_parts.xlsx").read("customXml/item1.xml")
    assert openpyxl.load_workbook(path)["Contacts"]["D2"].value == "ok"


def test_permission_bits_are_kept(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    path.chmod(0o640)
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    table.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    real = contacts_workbook(tmp_path / "real.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    table = XlsxTable(link)
    set_cells(table, {"Result": {2: "ok"}})
    table.save()
    assert link.is_symlink() and openpyxl.load_workbook(real)["Contacts"]["E2"].value == "ok"


def test_crash_while_openpyxl_writes_leaves_the_original_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (a crash in the fast writer: tests/test_xlsx_patch.py)
    path = fixture_copy(tmp_path, "libreoffice_features.xlsx")
    before = sha(path)

    def crash(self: object, filename: object) -> None:
        filename.write(b"PK\x03\x04 half a workbook")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: NEEDS_OPENPYXL}})
    with pytest.raises(SourceError, match="No space left on device.*not changed"):
        table.save()
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["libreoffice_features.xlsx"]


def test_crash_while_swapping_leaves_the_original_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    before = sha(path)

    def no_replace(src: object, dst: object) -> None:
        raise KeyboardInterrupt  # the process is stopped right before the swap

    monkeypatch.setattr(os, "replace", no_replace)
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    with pytest.raises(KeyboardInterrupt):
        table.save()
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


def test_a_written_file_that_fails_the_check_is_not_swapped_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    before = sha(path)
    real = patch.write_patched

    def broken(src: Path, dst: Path, *args: object, **kwargs: object) -> object:
        done = real(src, dst, *args, **kwargs)  # type: ignore[arg-type]
        with zipfile.ZipFile(dst, "a") as zf:
            zf.writestr("xl/orphan.bin", b"no content type")
        return done

    monkeypatch.setattr(patch, "write_patched", broken)
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    with pytest.raises(SourceError, match="did not pass the safety check.*NOT changed"):
        table.save()
    assert sha(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_a_written_part_whose_bytes_do_not_match_its_crc_is_not_swapped_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str) -> None:
    # the check reads each part once: the sheets while it takes the inventory, the rest after;
    # a part damaged on its way to the disk fails it either way
    path = contacts_workbook(tmp_path / "c.xlsx")
    before = sha(path)
    real = patch.write_patched

    def damaged(src: Path, dst: Path, *args: object, **kwargs: object) -> object:
        done = real(src, dst, *args, **kwargs)  # type: ignore[arg-type]
        with zipfile.ZipFile(dst) as zf:
            parts = [(info, zf.read(info)) for info in zf.infolist()]
        with zipfile.ZipFile(dst, "w") as zf:  # stored, so the changed byte is still well-formed XML
            for info, data in parts:
                info.compress_type = zipfile.ZIP_STORED
                zf.writestr(info, data)
        raw = dst.read_bytes()
        data = dict((i.filename, d) for i, d in parts)[part]
        at = raw.index(data) + data.index(b" ")  # "<?xml version": a tab for the space, still well-formed
        dst.write_bytes(raw[:at] + b"\t" + raw[at + 1:])
        return done

    monkeypatch.setattr(patch, "write_patched", damaged)
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    with pytest.raises(SourceError, match="did not pass the safety check.*NOT changed"):
        table.save()
    assert sha(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.xlsx"]


def test_file_changed_since_read_is_not_written(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    table.read()
    wb = openpyxl.load_workbook(path)
    wb["Contacts"].insert_rows(2)
    wb.save(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    before = sha(path)
    set_cells(table, {"Result": {2: "ok"}})
    with pytest.raises(SourceError, match="changed by someone else"):
        table.save()
    assert sha(path) == before


def test_values_written_keep_their_types(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    table = XlsxTable(path)
    when = datetime.datetime(2024, 3, 4, 5, 6, 7)
    set_cells(table, {"R": {2: 42, 3: when, 4: "bad\x00char" + "x" * 40000}})
    table.save()
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert ws["E2"].value == 42 and ws["E3"].value == when
    assert ws["E4"].value.startswith("badcharx") and len(ws["E4"].value) == 32767


def test_overwriting_a_formula_cell_is_not_a_loss(tmp_path: Path) -> None:
    path = contacts_workbook(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"]["D1"] = "Result"
    wb["Contacts"]["D2"] = "=A2"
    wb.save(path)
    table = XlsxTable(path)
    set_cells(table, {"result": {2: "ok"}})
    report = table.save()
    assert not report.is_copy
    assert openpyxl.load_workbook(path)["Contacts"]["D2"].value == "ok"


def _layout_workbook(path: Path) -> Path:
    """A header with a gap and merged cells, merged result cells, and a tab with a title row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", None, "Status ", "Group"])
    ws.merge_cells("E1:F1")  # the new column goes right of the merged header cells
    for i in range(2, 6):
        ws.append([f"P{i}", f"p{i}@example.com", None, "old" if i % 2 else None, i])
    ws.merge_cells("D3:D4")  # row 4's status is hidden under row 3's
    log = wb.create_sheet("Log")
    log["B2"], log["C2"] = "Email", "Added"  # the header is the first row with a value
    log["B3"], log["C3"] = "old@example.com", datetime.date(2024, 1, 1)
    wb.save(path)
    return path


def test_both_writers_lay_the_same_writes_out_the_same_way(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="sheets_connector.tables.xlsx")
    fast = _layout_workbook(tmp_path / "fast.xlsx")
    slow = _layout_workbook(tmp_path / "slow.xlsx")
    with zipfile.ZipFile(slow) as zf:  # rows out of order (the same cells): the fast writer refuses
        files = {n: zf.read(n) for n in zf.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"]
    row4, row5 = re.search(rb'<row r="4".*?</row>', sheet).group(0), re.search(rb'<row r="5".*?</row>', sheet).group(0)
    files["xl/worksheets/sheet1.xml"] = sheet.replace(row4 + row5, row5 + row4)
    with zipfile.ZipFile(slow, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    unplaced = {}
    for path in (fast, slow):
        caplog.clear()
        table = XlsxTable(path)
        table.read()
        unplaced[path.name] = set_cells(table, {
            "status": {2: "new", 3: "shown", 4: "hidden", 5: None},
            "Sync result": {r: f"ok {r}" for r in range(2, 6)},
            "group": {3: 30},
        })
        table.append_rows("log", ["EMAIL", "Id"], [["a@example.com", 439130001]])
        table.append_rows("New contacts", ["Id", "Email"], [[439130002, "b@example.com"]])
        assert not table.save().is_copy
        assert ("with openpyxl" in caplog.text) == (path is slow)
    assert unplaced["fast.xlsx"] == unplaced["slow.xlsx"] and [u.ref.number for u in unplaced["fast.xlsx"]] == [4]
    with CalamineWorkbook.from_path(str(fast)) as a, CalamineWorkbook.from_path(str(slow)) as b:
        assert a.sheet_names == b.sheet_names == ["Contacts", "Log", "New contacts"]
        for name in a.sheet_names:
            assert a.get_sheet_by_name(name).to_python(skip_empty_area=False) == \
                b.get_sheet_by_name(name).to_python(skip_empty_area=False), name
        contacts = a.get_sheet_by_name("Contacts").to_python(skip_empty_area=False)
    assert contacts[0] == ["Name", "Email", "", "Status ", "Group", "", "Sync result"]
    assert [r[3] for r in contacts[1:]] == ["new", "shown", "", ""]
    ws_fast, ws_slow = openpyxl.load_workbook(fast), openpyxl.load_workbook(slow)
    for name in ("Contacts", "Log", "New contacts"):
        for a_row, b_row in zip(ws_fast[name].iter_rows(), ws_slow[name].iter_rows()):
            for x, y in zip(a_row, b_row):
                assert (x.value, x.number_format, bool(x.font.b)) == (y.value, y.number_format, bool(y.font.b)), x.coordinate
        assert ws_fast[name].freeze_panes == ws_slow[name].freeze_panes


# --------------------------------------------------------------------------------------------
# The inventory itself


def test_inventory_counts_the_libreoffice_fixture() -> None:
    inv = take_inventory(FIXTURES / "libreoffice_features.xlsx")
    assert inv.sheets == ["Contacts", "Notes"]
    assert inv.count("Contacts", "chart") == 1 and inv.count("Contacts", "picture") == 1
    assert inv.count("Contacts", "comment") == 1 and inv.count("Contacts", "formula") == 10
    assert inv.count("Notes", "formula") == 3 and inv.count("Contacts", "frozen panes") == 1
    assert inv.count("Contacts", "data validation") == 1 and inv.count("Contacts", "conditional formatting") == 1
    assert inv.count("Contacts", "column width") == 2 and inv.count("Contacts", "autofilter") == 1
    assert sorted(inv.features[("", "custom property")]) == ["Department", "Version"]
    assert inv.count("", "defined name") == 1


def test_find_losses_speaks_plain_words() -> None:
    before = take_inventory(FIXTURES / "libreoffice_features.xlsx")
    after = take_inventory(FIXTURES / "libreoffice_features.xlsx")
    after.features[("Contacts", "chart")].clear()
    after.features[("Contacts", "formula")].subtract({"": 2})
    after.digests["macros"] = "x"
    assert sorted(find_losses(before, after)) == ["1 chart on sheet 'Contacts'", "2 formulas on sheet 'Contacts'"]
    assert find_losses(before, after, allowed={("Contacts", "formula"): 2}) == ["1 chart on sheet 'Contacts'"]
    before.digests["macros"] = "y"
    assert "the macros (VBA project) would not be kept byte for byte" in find_losses(before, after)


def test_cached_formula_values_of_every_kind_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "kinds.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Greeting", "Flag", "Error", "Number"])
    ws.append(["Dana", '=A2&" <hi> & bye"', "=TRUE()", "=1/0", "=2*21"])
    wb.save(path)
    # give the formulas cached values as Excel writes them (openpyxl writes none)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    values = {"B2": ' t="str"><f>A2&amp;" &lt;hi&gt; &amp; bye"</f><v>Dana &lt;hi&gt; &amp; bye</v>',
              "C2": ' t="b"><f>TRUE()</f><v>1</v>', "D2": ' t="e"><f>1/0</f><v>#DIV/0!</v>', "E2": "><f>2*21</f><v>42</v>"}
    for ref, body in values.items():
        sheet, n = re.subn(rf'<c r="{ref}"[^>]*>.*?</c>', f'<c r="{ref}"{body}</c>', sheet)
        assert n == 1
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    expected = ("Dana", "Dana <hi> & bye", True, CellError("#DIV/0!"), 42)  # an error is not read as a blank
    assert XlsxTable(path).read().rows[0].values == expected
    table = XlsxTable(path)
    set_cells(table, {"Result": {2: "ok"}})
    table.save()
    assert XlsxTable(path).read().rows[0].values == expected + ("ok",)
    with zipfile.ZipFile(path) as zf:
        saved = zf.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<c r="D2"[^>]* t="e"[^>]*><f>1/0</f><v>#DIV/0!</v></c>', saved)
    assert openpyxl.load_workbook(path)["Contacts"]["B2"].value == '=A2&" <hi> & bye"'
