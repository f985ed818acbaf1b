"""What workbooks made by other programs bring to the write-back (issue 10), item by item.

Each workbook is made with openpyxl and its XML edited to what Excel, LibreOffice, Apache POI,
.NET or Hancom Office write; the corpus of real files (tests/test_corpus.py) runs the same
checks on their own files.  Syncs run against the local inwise sandbox.  Where a test needs
the openpyxl writer, the contacts sheet's rows are put out of order (``needs_openpyxl``): the
fast writer declines that, openpyxl does not mind, and no cell changes.
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from util import column, make_config, write_workbook
from xlsx_files import parts, rewrite, set_cells, sha, sheet_part

from sheets_connector.errors import SourceError
from sheets_connector.sync import Collaborators, sync
from sheets_connector.tables.base import CellError, RowRef
from sheets_connector.tables.xlsx import XlsxTable

ENV = {"INWISE_API_KEY": "test-key"}
SHEET = "xl/worksheets/sheet1.xml"
STRICT_MAIN = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def contacts(path: Path, rows: int = 3, *, other: bool = False) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Name", "Email", "Mobile"])
    for i in range(rows):
        ws.append([f"P{i}", f"p{i}@example.com", f"05{i + 1}1234567"])
    if other:
        wb.create_sheet("Rates")["A1"] = "rates"
    wb.save(path)
    return path


def edit(part: str, pattern: str, replacement: str) -> object:
    def run(p: dict[str, bytes]) -> None:
        text, n = re.subn(pattern, replacement, p[part].decode(), count=1, flags=re.DOTALL)
        assert n, pattern
        p[part] = text.encode()
    return run


def needs_openpyxl(p: dict[str, bytes]) -> None:
    """Rows 3 and 4 of the contacts sheet swapped in the XML (same cells, out of order)."""
    sheet = p[SHEET]
    row3, row4 = re.search(rb'<row r="3".*?</row>', sheet).group(0), re.search(rb'<row r="4".*?</row>', sheet).group(0)
    p[SHEET] = sheet.replace(row3 + row4, row4 + row3)


def calamine(path: Path, sheet: str = "Contacts") -> list[list[object]]:
    with CalamineWorkbook.from_path(str(path)) as wb:
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


# --------------------------------------------------------------------------------------------
# Item 1: Strict Open XML; any error while saving keeps the results


def _strict(p: dict[str, bytes]) -> None:
    for name, data in p.items():
        if name.endswith((".xml", ".rels")):
            p[name] = (data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", STRICT_MAIN)
                       .replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                                b"http://purl.oclc.org/ooxml/officeDocument/relationships"))


def test_a_strict_workbook_gets_its_results_in_place(tmp_path: Path, sandbox: object) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None]])
    rewrite(wb, _strict)
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert s.counts["created"] == 1 and not s.is_copy and s.written_to == str(wb)
    assert calamine(wb)[1][5].startswith("✓ created")  # (openpyxl cannot read a Strict workbook's sheets)
    new = parts(wb)
    assert STRICT_MAIN in new[sheet_part(wb, "Contacts")] and STRICT_MAIN in new[sheet_part(wb, "New contacts")]


class PanicException(BaseException):
    """What a Rust library (python-calamine) raises when it panics: not an Exception."""


@pytest.mark.parametrize("crash", [KeyError("Worksheet Contacts does not exist."), PanicException("index out of bounds")],
                         ids=["KeyError", "panic"])
def test_an_unexpected_error_while_saving_keeps_every_result_in_a_csv(tmp_path: Path, sandbox: object, crash: BaseException,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None],
                                                     ["Noa", "Levi", "noa@@example.co.il", None, None]])
    before = sha(wb)
    cfg = make_config(tmp_path, sandbox.base_url)  # type: ignore[attr-defined]
    table = cfg.open_table()

    def save() -> None:
        raise crash  # the Strict crash of issue 10 raised this KeyError

    monkeypatch.setattr(table, "save", save)
    with pytest.raises(SourceError) as e:
        sync(cfg, Collaborators(table=table, environ=ENV))
    csvs = list(tmp_path.glob("contacts sync results *.csv"))
    assert len(csvs) == 1 and str(csvs[0]) in str(e.value) and "WERE sent" in str(e.value)
    assert type(crash).__name__ in str(e.value)
    text = csvs[0].read_text(encoding="utf-8-sig")
    assert "✓ created" in text and "noa@@example.co.il" in text
    assert sha(wb) == before


# --------------------------------------------------------------------------------------------
# Item 2: never past column XFD


def _header_to(path: Path, last: str) -> Path:
    """A contacts sheet whose header row reaches column ``last``."""
    write_workbook(path, [["Dana", "Cohen", "dana@example.co.il", "0541111111", None]])
    wb = openpyxl.load_workbook(path)
    wb["Contacts"][f"{last}1"] = "Notes"
    wb.save(path)
    return path


def test_a_header_reaching_xfd_is_refused_before_anything_is_sent(tmp_path: Path, sandbox: object) -> None:
    wb = _header_to(tmp_path / "contacts.xlsx", "XFD")
    before = sha(wb)
    cfg = make_config(tmp_path, sandbox.base_url)  # type: ignore[attr-defined]
    with pytest.raises(SourceError) as e:
        sync(cfg, Collaborators(environ=ENV))
    message = str(e.value)
    assert "contacts.xlsx" in message and "XFD" in message and "Nothing was sent" in message
    assert "'Sync result', 'inwise ID', 'Last synced'" in message and "XFB1:XFD1" in message
    assert sandbox.contacts() == [] and sha(wb) == before  # type: ignore[attr-defined]


def test_room_is_needed_only_for_the_columns_the_header_lacks(tmp_path: Path) -> None:
    path = _header_to(tmp_path / "c.xlsx", "XFD")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"]["G1"] = "Sync result"
    wb.save(path)
    XlsxTable(path, result_columns=["Sync result"]).check_writable()
    with pytest.raises(SourceError, match="'inwise ID'"):
        XlsxTable(path, result_columns=["Sync result", "inwise ID"]).check_writable()
    with pytest.raises(SourceError, match="Free column XFD"):  # not told which: one new column is needed
        XlsxTable(path).check_writable()


def test_results_never_go_past_xfd(tmp_path: Path) -> None:
    path = _header_to(tmp_path / "c.xlsx", "XFC")
    table = XlsxTable(path)
    table.read()
    unplaced = set_cells(table, {"Sync result": {2: "ok"}, "inwise ID": {2: 1}})
    assert [(u.ref, u.reason[:60]) for u in unplaced] == [
        (RowRef(2), "there is no room for a 'inwise ID' column: row 1 is filled u")]
    assert not table.save().is_copy
    sheet = parts(path)[SHEET]
    assert b'r="XFD2"' in sheet and b"XFE" not in sheet
    assert calamine(path)[1][-1] == "ok"


# --------------------------------------------------------------------------------------------
# Item 3: the safety check compares before and after; what could fail is checked before sending


def _quirks(p: dict[str, bytes]) -> None:
    """What real files carry: a Mac's junk part without a content type, a relationship to a
    part that is not there, and a drawing hyperlink to a place in the workbook."""
    p["__MACOSX/xl/._sharedStrings.xml"] = b"\x00\x05\x16\x07junk"
    p["xl/worksheets/_rels/sheet1.xml.rels"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing" '
        b'Target="../drawings/drawing9.xml"/>'
        b'<Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
        b'Target="#Rates!A1"/></Relationships>')


def test_what_the_original_already_had_does_not_stop_the_save(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx", other=True)
    rewrite(path, _quirks)
    table = XlsxTable(path)
    table.check_writable()
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    report = table.save()
    assert not report.is_copy and report.lost == []
    assert calamine(path)[1][-1] == "ok"
    assert parts(path)["__MACOSX/xl/._sharedStrings.xml"] == b"\x00\x05\x16\x07junk"


def test_a_workbook_no_writer_can_save_is_refused_before_anything_is_sent(tmp_path: Path, sandbox: object) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None],
                                                     ["Noa", "Levi", "noa@example.co.il", None, None],
                                                     ["Avi", "Bar", "avi@example.co.il", None, None]])
    rewrite(wb, needs_openpyxl)  # the fast writer declines it...
    rewrite(wb, edit("xl/styles.xml", r'<cellStyle name="Normal"', "<cellStyle"))  # ...and openpyxl cannot open it
    before = sha(wb)
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert "contacts.xlsx can be read but not written" in str(e.value) and "nothing was sent" in str(e.value)
    assert "save it again as Excel Workbook" in str(e.value)
    assert sandbox.contacts() == [] and sha(wb) == before  # type: ignore[attr-defined]


def test_results_the_fast_writer_cannot_place_are_checked_against_openpyxl_before_sending(tmp_path: Path) -> None:
    from openpyxl.worksheet.table import Table as ListObject

    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Contacts"]
    ws["A6"], ws["B6"], ws["C6"], ws["A7"], ws["B7"] = "Code", "Label", "Mobile", 1, "one"
    ws.add_table(ListObject(displayName="Codes", ref="A6:C7"))  # its header C6 is in the Mobile column's rows
    wb.save(path)
    table = XlsxTable(path, result_columns=["Mobile"])
    table.read()
    table.check_writable()  # the fast writer would not write a table's header, openpyxl can: fine
    rewrite(path, edit("xl/styles.xml", r'<cellStyle name="Normal"', "<cellStyle"))  # now openpyxl cannot open it
    table = XlsxTable(path, result_columns=["Mobile"])
    table.read()
    with pytest.raises(SourceError, match="c.xlsx can be read but not written"):
        table.check_writable()
    table = XlsxTable(path, result_columns=["Sync result"])  # a new column clear of the table: the fast writer takes it
    table.read()
    table.check_writable()


# --------------------------------------------------------------------------------------------
# Item 4: the openpyxl writer changes nothing unnoticed


def test_the_openpyxl_writer_keeps_numbers_exact_and_names_what_changed(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx", other=True)
    rewrite(path, needs_openpyxl)
    rates = "xl/worksheets/sheet2.xml"
    # an exact float, and a text whose trailing space readers drop (no xml:space) but openpyxl keeps
    rewrite(path, edit(rates, r'<c r="A1" t="inlineStr"><is><t>rates</t></is></c>',
                       '<c r="A1"><v>0.13079200000000002</v></c><c r="B1" t="inlineStr"><is><t>Advances </t></is></c>'
                       '<c r="C1"><v>12345678901234567</v></c>'))
    before = sha(path)
    table = XlsxTable(path)
    table.check_writable()
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    report = table.save()
    assert report.is_copy and sha(path) == before
    assert report.lost == [
        "1 value on sheet 'Rates' (e.g. B1: 'Advances' became 'Advances ')",
        "sheet 'Rates' (rewritten: details such as formatting may differ)",
    ]
    assert "rows out of order" in (report.message or "")
    # what the summary says: English as always; Hebrew for a Hebrew mapping, the file's details as they are
    from sheets_connector.messages.catalog import in_language

    lrm = "\u200e"
    assert report.message is not None and report.message.startswith(
        "Saving the results into c.xlsx would also change other things in it: 1 value on sheet 'Rates' (e.g. B1: "
        "'Advances' became 'Advances '); sheet 'Rates' (rewritten: details such as formatting may differ). Your "
        f"original file was not changed; the results are in {report.path}. (It had to be saved the slower way, because ")
    he = in_language(report.message, "he")
    assert he.startswith(f"שמירת התוצאות בקובץ {lrm}c.xlsx{lrm} הייתה משנה בו גם דברים אחרים: {lrm}1 value on sheet "
                         f"'Rates' (e.g. B1: 'Advances' became 'Advances '){lrm}; {lrm}sheet 'Rates' (rewritten: details "
                         f"such as formatting may differ){lrm}. הקובץ המקורי שלכם לא השתנה; התוצאות נמצאות בקובץ "
                         f"{lrm}{report.path}{lrm}. (היה צריך לשמור אותו בדרך האיטית יותר, כי "), he
    rates_xml = zipfile.ZipFile(report.path).read(rates)
    assert b"<v>0.13079200000000002</v>" in rates_xml and b"<v>12345678901234567</v>" in rates_xml


def test_shared_formulas_the_openpyxl_writer_expands_are_not_a_change(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, needs_openpyxl)
    rewrite(path, edit(SHEET, r'<c r="A2" t="inlineStr">.*?</c>', '<c r="A2" t="str"><f t="shared" ref="A2:A3" si="0">B2</f><v>p0@example.com</v></c>'))
    rewrite(path, edit(SHEET, r'<c r="A3" t="inlineStr">.*?</c>', '<c r="A3" t="str"><f t="shared" si="0"/><v>p1@example.com</v></c>'))
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    report = table.save()
    assert not report.is_copy, report.lost  # the same formulas, the same values: written in place
    ws = openpyxl.load_workbook(path)["Contacts"]
    assert (ws["A2"].value, ws["A3"].value, ws["D2"].value) == ("=B2", "=B3", "ok")
    assert calamine(path)[2][0] == "p1@example.com"


def test_a_formula_the_openpyxl_writer_would_change_is_named(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, needs_openpyxl)
    # a shared formula whose first cell is missing: openpyxl drops the others
    rewrite(path, edit(SHEET, r'<c r="A3" t="inlineStr">.*?</c>', '<c r="A3" t="str"><f t="shared" si="5"/><v>p1@example.com</v></c>'))
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    report = table.save()
    assert report.is_copy
    assert any(lost.startswith("1 formula on sheet 'Contacts' (e.g. A3:") for lost in report.lost), report.lost


# --------------------------------------------------------------------------------------------
# Item 5: results never silently skipped or hidden


def test_results_in_merged_cells_reach_the_run_summary(tmp_path: Path, sandbox: object) -> None:
    rows = [["Dana", "Cohen", "dana@example.co.il", "0541111111", None], ["Noa", "Levi", "noa@example.co.il", None, None]]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows, header=["First name", "Last name", "Email", "Mobile", "Birthday", "Sync result"])
    book = openpyxl.load_workbook(wb)
    book["Contacts"].merge_cells("F2:F3")
    book.save(wb)
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert s.counts["created"] == 2
    unplaced = [w for w in s.warnings if "could not be written into the sheet" in w]
    assert unplaced == ["1 result(s) could not be written into the sheet: row 3: its 'Sync result' cell F3 is inside "
                        "the merged cells F2:F3, which show only F2; unmerge them so the next sync can write it."]
    assert column(wb, "Sync result")[2].startswith("✓ created")


def test_a_new_results_column_among_hidden_columns_is_shown(tmp_path: Path, sandbox: object) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None]])
    rewrite(wb, edit(SHEET, r"<sheetData>", '<cols><col min="6" max="16384" width="0" hidden="1" customWidth="1"/></cols><sheetData>'))
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert not s.is_copy and s.lost == []
    assert ("The new 'Sync result' column went to column F of sheet 'Contacts' of contacts.xlsx, which was hidden with "
            "the columns around it; it is shown now so you can see the results.") in s.warnings
    dims = openpyxl.load_workbook(wb)["Contacts"].column_dimensions
    assert not dims["F"].hidden and dims["F"].width > 10 and dims["I"].hidden  # the others stay hidden
    assert column(wb, "Sync result")[2].startswith("✓ created")


def test_a_results_column_the_user_hid_is_written_and_the_summary_says_so(tmp_path: Path, sandbox: object) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None]],
                        header=["First name", "Last name", "Email", "Mobile", "Birthday", "Sync result"])
    book = openpyxl.load_workbook(wb)
    book["Contacts"].column_dimensions["F"].hidden = True
    book.save(wb)
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert ("The 'Sync result' column (column F of sheet 'Contacts' of contacts.xlsx) is hidden, so the results written "
            "there do not show: unhide the column to see them.") in s.warnings
    assert openpyxl.load_workbook(wb)["Contacts"].column_dimensions["F"].hidden  # the user's choice is kept
    assert column(wb, "Sync result")[2].startswith("✓ created")


# --------------------------------------------------------------------------------------------
# Item 6: what the openpyxl writer writes, Excel reads without "repairs"


def test_the_openpyxl_writer_leaves_no_quirks(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsm")
    rewrite(path, needs_openpyxl)
    rewrite(path, edit("[Content_Types].xml", r"application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml",
                       "application/vnd.ms-excel.sheet.macroEnabled.main+xml"))
    rewrite(path, edit(SHEET, r"<sheetData>", '<cols><col min="1" max="3" width="12" customWidth="1"/>'
                                              '<col min="4" max="1025" width="9.5" hidden="1" customWidth="1"/></cols><sheetData>'))
    rewrite(path, edit(SHEET, r'<c r="C4" t="inlineStr"><is><t>[^<]*</t></is></c>', '<c r="C4" t="inlineStr"><is><t></t></is></c>'))
    table = XlsxTable(path)
    table.read()
    set_cells(table, {"Sync result": {2: "ok"}})
    report = table.save()
    written = zipfile.ZipFile(report.path)
    sheet = written.read(SHEET)
    cols = [dict(re.findall(rb'(\w+)="([^"]*)"', tag)) for tag in re.findall(rb"<col\b[^>]*>", sheet)]
    assert sorted((int(c[b"min"]), int(c[b"max"]), c.get(b"hidden")) for c in cols) == [
        (1, 3, None), (4, 4, None), (5, 1025, b"1")]  # the new column split out of the hidden range, no overlap
    assert report.notes and "column D" in report.notes[0] and "shown now" in report.notes[0]
    assert not re.search(rb't="inlineStr"\s*/>|t="inlineStr">\s*</c>', sheet)
    assert b'<c r="C4" t="inlineStr"><is><t></t></is></c>' in sheet  # the empty text is kept as it was
    assert b"vbaProject" not in written.read("xl/_rels/workbook.xml.rels")
    assert openpyxl.load_workbook(report.path)["Contacts"]["C4"].value == ""


# --------------------------------------------------------------------------------------------
# Item 7: Excel errors and formulas never calculated are not empty cells


def _errors(p: dict[str, bytes]) -> None:
    edit(SHEET, r'<c r="B2" t="inlineStr">.*?</c>', '<c r="B2" t="e"><f>VLOOKUP(A2,Rates!A:B,2,0)</f><v>#N/A</v></c>')(p)
    edit(SHEET, r'<c r="C3" t="inlineStr">.*?</c>', '<c r="C3" t="e"><v>#VALUE!</v></c>')(p)
    edit(SHEET, r'<c r="B4" t="inlineStr">.*?</c>', '<c r="B4"><f>LOWER(A4)&amp;"@example.com"</f></c>')(p)
    edit(SHEET, r'<c r="C4" t="inlineStr">.*?</c>', '<c r="C4" t="str"><f>""</f><v></v></c>')(p)


def test_error_values_and_formulas_never_calculated_are_read_as_such(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, _errors)
    rows = XlsxTable(path).read().rows
    assert [r.values for r in rows] == [
        ("P0", CellError("#N/A"), "0511234567"),
        ("P1", "p1@example.com", CellError("#VALUE!")),
        ("P2", CellError("", formula='=LOWER(A4)&"@example.com"'), None),  # C4 computed to an empty text: empty
    ]


def test_a_row_with_an_error_in_its_email_or_mobile_is_held_back(tmp_path: Path, sandbox: object) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "Cohen", "dana@example.co.il", "0541111111", None],
                                                     ["Noa", "Levi", "noa@example.co.il", "0521234567", None],
                                                     ["Avi", "Bar", "avi@example.co.il", "0531234567", None]])
    rewrite(wb, edit(SHEET, r'<c r="C2" t="inlineStr">.*?</c>', '<c r="C2" t="e"><f>VLOOKUP(A2,X!A:B,2,0)</f><v>#N/A</v></c>'))
    rewrite(wb, edit(SHEET, r'<c r="D3" t="inlineStr">.*?</c>', '<c r="D3" t="e"><v>#VALUE!</v></c>'))
    rewrite(wb, edit(SHEET, r'<c r="C4" t="inlineStr">.*?</c>', '<c r="C4"><f>LOWER(A4)&amp;"@example.co.il"</f></c>'))
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))  # type: ignore[attr-defined]
    assert s.counts["invalid"] == 3 and s.counts["created"] == 0
    assert sandbox.contacts() == []  # type: ignore[attr-defined]
    res = column(wb, "Sync result")
    assert res[2] == ('✗ invalid email "#N/A": the cell shows a spreadsheet error, not a value (fix the formula or type '
                      "the value) (column 'Email') - fix the cell and sync again")
    assert res[3].startswith('✗ invalid mobile "#VALUE!": the cell shows a spreadsheet error') and "(column 'Mobile')" in res[3]
    assert res[4].startswith('✗ invalid email "=LOWER(A4)&"@example.co.il"": the cell holds a formula whose value was '
                             "never calculated") and "(column 'Email')" in res[4]


def test_a_cached_value_stored_as_text_is_read(tmp_path: Path) -> None:
    # LibreOffice 4 wrote a formula's text result as t="inlineStr" with a <v>, which calamine skips
    path = contacts(tmp_path / "c.xlsx")
    rewrite(path, edit(SHEET, r'<c r="B2" t="inlineStr">.*?</c>',
                       "<c r=\"B2\" t=\"inlineStr\"><f>[&apos;file:///x.xlsx&apos;]S!A2</f><v>p0@example.com</v></c>"))
    assert XlsxTable(path).read().rows[0].values == ("P0", "p0@example.com", "0511234567")


def test_dates_and_numbers_next_to_errors_are_untouched(tmp_path: Path) -> None:
    path = contacts(tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Contacts"]["D1"], wb["Contacts"]["D2"] = "Joined", dt.date(2024, 1, 31)
    wb.save(path)
    rewrite(path, _errors)
    assert XlsxTable(path).read().rows[0].values[3] == dt.date(2024, 1, 31)
