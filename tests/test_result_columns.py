"""Issue 22: the results columns never land on what staff typed, in a workbook or a Sheet, and
``check`` says where they will go (and refuses what ``sync`` would refuse, with its words)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from gsheets_util import sheet_column
from xlsx_kinds import array_beside, headerless_column, macro_sheet, pivot_beside, style_past_list

from sheets_connector.cli import main
from sheets_connector.config import parse_config
from sheets_connector.errors import SourceError
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.sync import Collaborators, sync
from sheets_connector.tables.result_columns import Obstacle, choose_columns

ENV = {"INWISE_API_KEY": "test-key"}
RESULTS = "results:\n  column: Sync result\n  contact_id_column: inwise ID\n  synced_at_column: Last synced\n"


def mapping(tmp: Path, base_url: str, source: str) -> Path:
    p = tmp / "mapping.yaml"
    p.write_text(f"source: {source}\ncolumns:\n  email: Email\n  mobile: Mobile\ninwise:\n  base_url: {base_url}\n"
                 f"  retries: 1\n  retry: {{backoff_factor: 0.01, backoff_max: 0.05}}\n{RESULTS}", encoding="utf-8")
    return p


def xlsx_mapping(tmp: Path, base_url: str, name: str = "contacts.xlsx") -> Path:
    return mapping(tmp, base_url, f"{{type: xlsx, path: {name}, worksheet: Contacts}}")


def check(path: Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["check", "--config", str(path)], env={"INWISE_API_KEY": None, "COLUMNS": "250"},
                           catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def smallest(path: Path) -> Path:
    """The issue's smallest case: A1 Email, B1 Mobile, C1 empty, notes in C2 and C3."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    for ref, value in {"A1": "Email", "B1": "Mobile", "A2": "dana@example.com", "B2": "0541111111",
                       "C2": "VIP - call before 10", "A3": "noa@example.com", "C3": "keep this note"}.items():
        ws[ref] = value
    wb.save(path)
    return path


# ---------------------------------------------------------------------------------------------
# The rule


def test_the_rule_passes_over_columns_holding_data_and_uses_existing_headers() -> None:
    plan = choose_columns({1: "Email", 2: "Mobile", 5: "sync RESULT "}, ["Sync result", "inwise ID", "Last synced"],
                          occupied={1: 1, 2: 1, 3: 7, 5: 1, 6: 2}, rows=(1, 10), max_column=100)
    assert plan.columns == {"Sync result": 5, "inwise ID": 7, "Last synced": 8}  # E is its own; F holds data
    assert plan.new == ["inwise ID", "Last synced"] and plan.skipped == {6: 2} and plan.blocked is None
    assert "column F (F2) has no header but holds data" in (plan.skipped_note("c.xlsx") or "")


def test_the_rule_refuses_a_free_column_that_cuts_through_something() -> None:
    pivot = Obstacle("pivot table", 3, 3, 20, 5, name="Summary")
    plan = choose_columns({1: "Email", 2: "Mobile"}, ["Sync result"], occupied={}, obstacles=[pivot], rows=(1, 10),
                          max_column=100)
    assert plan.blocked is not None and plan.blocked.col == 3
    words = plan.blocked.message("c.xlsx", 1)
    assert "column C" in words and "pivot table 'Summary' (C3:E20)" in words and "refreshed" in words
    assert "Nothing was sent" in words
    # below the rows the results span, it is in nobody's way
    assert choose_columns({1: "Email"}, ["Sync result"], occupied={}, obstacles=[pivot], rows=(1, 2),
                          max_column=100).blocked is None
    # and never past the last column
    assert choose_columns({1: "Email"}, ["A", "B"], occupied={2: 5}, rows=(1, 9), max_column=3).no_room == ["B"]


# ---------------------------------------------------------------------------------------------
# .xlsx, as a user runs it


def test_the_smallest_case_keeps_both_notes_and_check_says_where_the_results_go(tmp_path: Path, sandbox) -> None:
    book = smallest(tmp_path / "contacts.xlsx")
    cfg_path = xlsx_mapping(tmp_path, sandbox.base_url)
    code, out, err = check(cfg_path)
    assert code == 0, err
    assert "→ results" in out and "│ D " in out and "Sync result (new column)" in out
    assert "│ E " in out and "inwise ID (new column)" in out and "│ F " in out
    assert "column C (C2) has no header but holds data" in out
    summary = sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    ws = openpyxl.load_workbook(book)["Contacts"]
    assert [ws[f"C{r}"].value for r in (1, 2, 3)] == [None, "VIP - call before 10", "keep this note"]
    assert [ws[f"{c}1"].value for c in "DEF"] == ["Sync result", "inwise ID", "Last synced"]
    assert ws["D2"].value.startswith("✓ created") and ws["D3"].value.startswith("✓ created")
    assert any("column C (C2) has no header but holds data" in w for w in summary.warnings), summary.warnings


def test_a_formula_showing_nothing_in_a_headerless_column_is_kept(tmp_path: Path, sandbox) -> None:
    book = headerless_column(tmp_path / "contacts.xlsx")
    sync(parse_config(xlsx_mapping(tmp_path, sandbox.base_url).read_text(), base_dir=tmp_path),
         Collaborators(environ=ENV))
    ws = openpyxl.load_workbook(book)["Contacts"]
    assert [ws[f"D{r}"].value for r in (2, 3, 4)] == ['=IF(C2="","","note")', '=IF(C3="","","note")',
                                                     '=IF(C4="","","note")']
    assert ws["C2"].value == "VIP - call before 10" and ws["E1"].value == "Sync result"


@pytest.mark.parametrize(("make", "words"), [
    (array_beside, "part of the array formula in C2:D4: Excel does not let one cell of an array formula be changed"),
    (lambda p: array_beside(p, header="Sync result"),
     "The 'Sync result' column of contacts.xlsx, sheet 'Contacts' (column C) runs into the array formula in C2:D4"),
])
def test_check_refuses_first_what_sync_refuses_with_the_same_words(tmp_path: Path, sandbox, make, words) -> None:
    book = make(tmp_path / "contacts.xlsx")
    before = sha(book)
    cfg_path = xlsx_mapping(tmp_path, sandbox.base_url)
    code, out, err = check(cfg_path)
    assert code != 0 and "Mapping OK" not in out and words in err, (out, err)
    assert "save it again" not in err and "damaged" not in err
    with pytest.raises(SourceError) as e:
        sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    assert words in str(e.value) and " ".join(str(e.value).split()) in " ".join(err.split())  # the same message
    assert sandbox.contacts() == [] and sha(book) == before


def test_results_go_past_a_pivot_table_beside_the_contacts_and_leave_it_alone(tmp_path: Path, sandbox) -> None:
    book = pivot_beside(tmp_path / "contacts.xlsx")
    cfg_path = xlsx_mapping(tmp_path, sandbox.base_url)
    code, out, _err = check(cfg_path)
    assert code == 0 and "Sync result (new column)" in out and "│ C " in out  # C is clear of the pivot (D3:E7)
    assert "columns D (D3), E (E3) have no header but hold data" in out  # inwise ID and Last synced go past it
    before = openpyxl.load_workbook(book)["Contacts"]
    pivot = [[c.value for c in row] for row in before["D3:E7"]]
    sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    ws = openpyxl.load_workbook(book)["Contacts"]
    assert [[c.value for c in row] for row in ws["D3:E7"]] == pivot
    assert [ws[f"{c}1"].value for c in "CFG"] == ["Sync result", "inwise ID", "Last synced"]
    import zipfile
    with zipfile.ZipFile(book) as zf:
        assert "xl/pivotTables/pivotTable1.xml" in zf.namelist()


def test_a_workbook_with_a_macro_sheet_is_read_and_written_not_called_damaged(tmp_path: Path, sandbox) -> None:
    book = macro_sheet(tmp_path / "contacts.xlsm")
    cfg_path = xlsx_mapping(tmp_path, sandbox.base_url, "contacts.xlsm")
    code, out, err = check(cfg_path)
    assert code == 0 and "damaged" not in err, err
    summary = sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    assert summary.counts["created"] == 3 and not summary.written_to.endswith("(with sync results).xlsm")
    import zipfile
    with zipfile.ZipFile(book) as zf:
        assert "xl/macrosheets/sheet2.xml" in zf.namelist() and b'name="Macro1"' in zf.read("xl/workbook.xml")
    assert openpyxl.load_workbook(book, keep_vba=True)["Contacts"]["C2"].value.startswith("✓ created")


def test_cells_whose_font_is_past_the_list_do_not_turn_bold(tmp_path: Path, sandbox) -> None:
    book = style_past_list(tmp_path / "contacts.xlsx")
    cfg = (xlsx_mapping(tmp_path, sandbox.base_url).read_text()
           + "new_contacts:\n  enabled: true\n  tab: New contacts\n")
    sandbox.add_contacts([{"email": "web@example.com"}])  # a contact created elsewhere: a new tab with a bold header
    sync(parse_config(cfg, base_dir=tmp_path), Collaborators(environ=ENV))
    wb = openpyxl.load_workbook(book)
    assert "New contacts" in wb.sheetnames and wb["New contacts"]["A1"].font.b
    ws = wb["Contacts"]
    assert not any(ws[f"{c}{r}"].font.b for c in "AB" for r in range(1, 5))
    import zipfile
    with zipfile.ZipFile(book) as zf:
        styles = zf.read("xl/styles.xml").decode()
    fonts = styles[styles.index("<fonts"): styles.index("</fonts>")]
    assert fonts.count("<font>") + fonts.count("<font ") >= 3  # the default, its copy at index 1, the bold one


# ---------------------------------------------------------------------------------------------
# Google Sheets, on the emulator


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def test_the_smallest_case_on_a_google_sheet(tmp_path: Path, emu, sandbox, monkeypatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    key = emu.create_spreadsheet({"Contacts": [["Email", "Mobile"], ["dana@example.com", "0541111111",
                                                                     "VIP - call before 10"],
                                               ["noa@example.com", None, "keep this note"]]})
    cfg_path = mapping(tmp_path, sandbox.base_url, f'{{type: google_sheet, spreadsheet: "{emu.url(key)}", '
                                                   f'worksheet: Contacts, api_url: "{emu.api_url}"}}')
    code, out, err = check(cfg_path)
    assert code == 0, err
    assert "Sync result (new column)" in out and "│ D " in out and "column C (C2) has no header but holds data" in out
    summary = sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    rows = emu.values(key, "Contacts")
    assert [r[2] for r in rows[1:3]] == ["VIP - call before 10", "keep this note"] and rows[0][2] == ""
    assert rows[0][3:6] == ["Sync result", "inwise ID", "Last synced"]
    assert sheet_column(emu, key, "Sync result")[2].startswith("✓ created")
    assert any("column C (C2) has no header but holds data" in w for w in summary.warnings), summary.warnings


# ---------------------------------------------------------------------------------------------
# A copy names what it changes in words, never by internal part names


def test_a_copy_names_a_macro_sheet_and_internal_parts_in_words(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    from sheets_connector.tables.base import RowRef
    from sheets_connector.tables.xlsx import XlsxTable, patch

    book = macro_sheet(tmp_path / "contacts.xlsm")
    with zipfile.ZipFile(book, "a") as zf:  # a part kind nothing here has words for, as Excel 365 writes some
        zf.writestr("xl/richData/rdrichvaluestructure.xml", "<rvStructures/>")
    ct = "application/vnd.ms-excel.rdrichvaluestructure+xml"
    data = {i.filename: zipfile.ZipFile(book).read(i) for i in zipfile.ZipFile(book).infolist()}
    data["[Content_Types].xml"] = data["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/xl/richData/rdrichvaluestructure.xml" ContentType="{ct}"/></Types>'.encode())
    with zipfile.ZipFile(book, "w") as zf:
        for name, content in data.items():
            zf.writestr(name, content)

    def declined(*args: object, **kwargs: object) -> None:
        raise patch.Unsupported("the fast writer is switched off for this test")

    monkeypatch.setattr(patch, "probe", declined)
    monkeypatch.setattr(patch, "write_patched", declined)
    table = XlsxTable(book, "Contacts", result_columns=["Sync result"])
    table.read()
    table.check_writable()
    table.set_columns({"Sync result": {RowRef(2): "ok"}})
    report = table.save()
    assert report.is_copy
    words = "; ".join(report.lost)
    assert "the macro sheet 'Macro1' (it would become an ordinary worksheet)" in words, words
    assert "internal data" in words and "rdrichvaluestructure" not in words.lower() and ".xml" not in words, words


def test_a_google_sheet_column_of_formulas_showing_nothing_is_kept(tmp_path: Path, emu, sandbox, monkeypatch) -> None:
    from sheets_connector.sheets_emulator.cells import Cell

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    blank = '=IF(A2="x","flag","")'
    key = emu.create_spreadsheet({"Contacts": [["Email", "Mobile"], ["dana@example.com", None, Cell(None, formula=blank)],
                                               ["noa@example.com", None, Cell(None, formula=blank)]]})
    cfg_path = mapping(tmp_path, sandbox.base_url, f'{{type: google_sheet, spreadsheet: "{emu.url(key)}", '
                                                   f'worksheet: Contacts, api_url: "{emu.api_url}"}}')
    sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    assert emu.cell(key, "Contacts", "C2").formula == blank and emu.cell(key, "Contacts", "C3").formula == blank
    assert emu.values(key, "Contacts")[0][3] == "Sync result"


def test_a_hebrew_mapping_says_where_the_results_go_in_hebrew(tmp_path: Path, sandbox) -> None:
    """`check` and the sync's summary on a Hebrew mapping: the headerless-column note is Hebrew
    (the results go to the columns after it: in a right-to-left sheet "further right" is wrong)."""
    book = smallest(tmp_path / "contacts.xlsx")
    cfg_path = xlsx_mapping(tmp_path, sandbox.base_url)
    cfg_path.write_text(cfg_path.read_text() + "language: he\n", encoding="utf-8")
    code, out, err = check(cfg_path)
    assert code == 0, err
    said = " ".join(out.replace("\u200e", "").split())
    assert ("אזהרה: ב-contacts.xlsx, sheet 'Contacts', לעמודה C (C2) אין כותרת אבל יש בה נתונים, ולכן היא נשארת "
            "כמו שהיא והתוצאות נכתבות בעמודות שאחריה: 'Sync result' בעמודה D, 'inwise ID' בעמודה E, 'Last synced' בעמודה F.") in said, out
    assert "no header" not in said
    summary = sync(parse_config(cfg_path.read_text(), base_dir=tmp_path), Collaborators(environ=ENV))
    assert openpyxl.load_workbook(book)["Contacts"]["C2"].value == "VIP - call before 10"
    assert any("column C (C2) has no header but holds data" in w for w in summary.warnings)  # --json: English
