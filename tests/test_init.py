"""``sheets-connector init`` as a user runs it: real workbooks made here with openpyxl, the real
command in a subprocess, the mapping it writes loaded back with ``load_config``."""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from sheets_connector.config import load_config
from sheets_connector.init_country import guess_country
from sheets_connector.init_mapping import recognise


def workbook(path: Path, header: list[Any], rows: list[list[Any]], sheet: str = "Sheet1",
             before: list[list[Any]] = (), extra_sheets: dict[str, list[list[Any]]] | None = None) -> Path:
    wb = Workbook()
    for name, content in (extra_sheets or {}).items():
        ws = wb.create_sheet(name)
        for r in content:
            ws.append(r)
    ws = wb.active
    ws.title = sheet
    for r in [*before, header, *rows]:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def run(*args: str, cwd: Path, encoding: str = "utf-8") -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}
    env.update({"PYTHONIOENCODING": encoding, "COLUMNS": "200"})
    p = subprocess.run([sys.executable, "-m", "sheets_connector", *args], capture_output=True, env=env, cwd=cwd,
                       timeout=120, check=False)
    out, err = p.stdout.decode(encoding), p.stderr.decode(encoding)
    assert "Traceback" not in err, err
    return p.returncode, out, err


HEBREW_HEADER = ["שם פרטי", "שם משפחה", 'דוא"ל', "נייד", "טלפון", "תאריך לידה", "עיר", "הערות", "מספר חבר"]
HEBREW_ROWS = [
    ["דנה", "כהן", "dana@example.co.il", "054-1111111", "02-6251111", datetime.date(1980, 6, 12), "תל אביב", "", "M1"],
    ["יוסי", "לוי", "yossi@example.co.il", 521234567, None, None, "חיפה", "VIP", "M2"],  # Excel dropped the 0
    ["נועה", "לוי", "noa@example.com", "+44 7911 123456", None, None, "London", None, "M3"],
    ["תמר", "פרץ", "tamar@example.co.il", "050-6666666", None, None, "באר שבע", None, "M4"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_hebrew_headers(tmp_path: Path, encoding: str) -> None:
    folder = tmp_path / "אנשי קשר 2024"  # a Hebrew folder name with spaces
    workbook(folder / "רשימת לקוחות.xlsx", HEBREW_HEADER, HEBREW_ROWS, sheet="לקוחות")
    code, out, err = run("init", "רשימת לקוחות.xlsx", cwd=folder, encoding=encoding)
    assert code == 0, err
    mapping = folder / "רשימת לקוחות.mapping.yaml"
    cfg = load_config(mapping)
    assert cfg.source.path == "רשימת לקוחות.xlsx" and cfg.source.worksheet == "לקוחות"
    c = cfg.columns
    assert (c.email, c.mobile, c.external_id) == ('דוא"ל', "נייד", "מספר חבר")
    assert c.fields == {1: "שם פרטי", 2: "שם משפחה", 21: "תאריך לידה"}
    assert cfg.inwise.mobile.default_country == "IL"
    # a Hebrew header row: the staff read Hebrew, so results, headers and dates are in Hebrew
    assert cfg.language == "he" and cfg.results.column == "תוצאת סנכרון" and cfg.new_contacts.tab == "אנשי קשר חדשים"
    text = mapping.read_text(encoding="utf-8")
    assert "# N: 'עיר'" in text and "# N: 'טלפון'" in text and "in the list of personal fields" in text
    assert "'הערות' (H)" in text
    assert "guessed: 3 of the 4 numbers in 'נייד' are Israeli mobile numbers written without the country code (like 054-1111111)" in text
    # it said what it guessed and why, ran check, and printed the next command: in Hebrew, as the mapping
    if encoding == "utf-8":  # check speaks the mapping's language
        said = out.replace("\u200e", "")
        assert "נכתב רשימת לקוחות.mapping.yaml עבור רשימת לקוחות.xlsx, לשונית 'לקוחות' (הכותרות בשורה 1)." in said
        assert ("מדינת ברירת מחדל: IL, כי 3 מתוך 4 המספרים ב-'נייד' הם מספרי נייד של ישראל שנכתבו בלי קידומת "
                "המדינה (למשל 054-1111111).") in said
        assert "(ראו את ההערות בקובץ): 'טלפון' (טלפון קווי), 'עיר' (עיר)" in said
        assert "המיפוי תקין עבור" in out and "4 שורות עם נתונים: 4 מוכנות לשליחה" in out
        assert "  email                    מתוך עמודה C 'דוא\"ל'" in said
        assert "  field1 (שם פרטי)         מתוך עמודה A 'שם פרטי'" in said
        assert "הצעד הבא: הגדירו את מפתח ה-API (ב-inwise: הגדרות > API)" in said
        assert "Wrote " not in out and "Next: " not in out
        assert "sheets-connector sync --config 'רשימת לקוחות.mapping.yaml' --dry-run" in out
    else:  # the console cannot show Hebrew: a plain stand-in, never a crash
        assert "email                    ???? ????? C '???\"?'" in out
        assert "4 ????? ?? ??????: 4 ?????? ??????" in out
        assert "sheets-connector sync --config '????? ??????.mapping.yaml' --dry-run" in out
    # and the mapping works: a dry run reads and maps every row, sending nothing
    code, out, err = run("sync", "--config", str(mapping), "--dry-run", cwd=folder, encoding=encoding)
    assert code == 0, err
    assert "+972521234567" in out and "= 12/06/1980" in out


def test_english_headers_and_a_us_list(tmp_path: Path) -> None:
    workbook(tmp_path / "Members.xlsx",
             ["First Name", "Last Name", "E-mail", "Mobile phone", "Date of Birth", "City", "Company", "Notes"],
             [["Ann", "Lee", "ann@example.com", "(415) 555-2671", datetime.date(1990, 1, 3), "Boston", "Acme", None],
              ["Bob", "Ray", "bob@example.com", "646-555-0143", None, "NYC", None, "call back"],
              ["Cy", "Dunn", "cy@example.com", "202.456.1111", None, None, None, None]])
    code, out, err = run("init", "Members.xlsx", cwd=tmp_path)
    assert code == 0, err
    cfg = load_config(tmp_path / "Members.mapping.yaml")
    assert (cfg.columns.email, cfg.columns.mobile) == ("E-mail", "Mobile phone")
    assert cfg.columns.fields == {1: "First Name", 2: "Last Name", 21: "Date of Birth"}
    assert cfg.inwise.mobile.default_country == "US" and cfg.language == "en"
    assert "Default country: US, because 3 of the 3 numbers in 'Mobile phone' are North American (US/Canada) mobile numbers" in out
    text = (tmp_path / "Members.mapping.yaml").read_text(encoding="utf-8")
    assert "# N: 'City'" in text and "# N: 'Company'" in text and "'Notes' (H)" in text
    assert "row 2: ann@example.com · +14155552671" in out  # check's preview


def test_variants_cell_and_a_title_row_above_the_headers(tmp_path: Path) -> None:
    workbook(tmp_path / "list.xlsx", ["Name", "EMAIL ", "Cell", "Phone"],
             [["Dana Cohen", "dana@example.co.il", "0541111111", "03-5555555"]],
             before=[["Newsletter list - updated weekly"], []])
    code, out, err = run("init", "list.xlsx", cwd=tmp_path)
    assert code == 0, err
    cfg = load_config(tmp_path / "list.mapping.yaml")
    assert cfg.source.header_row == 3 and cfg.columns.email == "EMAIL" and cfg.columns.mobile == "Cell"
    assert cfg.columns.fields == {1: "Name"}  # the whole name, said in a comment
    text = (tmp_path / "list.mapping.yaml").read_text(encoding="utf-8")
    assert "the whole name; inwise's field 1 is the first name" in text
    assert "# N: 'Phone'" in text  # the second phone column is a suggestion, not the mobile


def test_unrecognised_headers_with_emails_and_mobiles_in_the_cells(tmp_path: Path) -> None:
    workbook(tmp_path / "export.xlsx", ["Col1", "Col2", "Col3"],
             [["a@example.com", "054-1111111", "x"], ["b@example.com", "052-2222222", "y"],
              ["c@example", "053-3333333", "z"]])
    code, out, err = run("init", "export.xlsx", cwd=tmp_path)
    assert code == 0, err
    cfg = load_config(tmp_path / "export.mapping.yaml")
    assert (cfg.columns.email, cfg.columns.mobile) == ("Col1", "Col2") and cfg.columns.fields == {}
    assert "email                    <- column A 'Col1': 2 of its first 3 filled cells are email addresses" in out
    assert "'Col3' (C)" in (tmp_path / "export.mapping.yaml").read_text(encoding="utf-8")


def test_headers_it_cannot_recognise_write_nothing(tmp_path: Path) -> None:
    workbook(tmp_path / "stock.xlsx", ["Item", "Qty", "Colour"], [["Pen", 3, "blue"], ["Cup", 1, "red"]],
             extra_sheets={"Members": [["Email"], ["a@example.com"]]})
    code, out, err = run("init", "stock.xlsx", cwd=tmp_path)
    assert code == 2
    assert "Could not find an email or a mobile column in stock.xlsx, sheet 'Sheet1'" in err
    assert "headers in row 1: A 'Item', B 'Qty', C 'Colour'" in err
    assert "'Members' (choose one with --sheet)" in err and "Nothing was written." in err
    assert not (tmp_path / "stock.mapping.yaml").exists()
    code, out, err = run("init", "stock.xlsx", "--sheet", "Members", cwd=tmp_path)
    assert code == 0, err
    # a Hebrew header row: said in Hebrew (the tab names as typed)
    workbook(tmp_path / "מלאי.xlsx", ["פריט", "כמות"], [["עט", 3]], sheet="מלאי", extra_sheets={"חברים": [["Email"]]})
    code, out, err = run("init", "מלאי.xlsx", cwd=tmp_path)
    assert code == 2 and not (tmp_path / "מלאי.mapping.yaml").exists()
    assert " ".join(err.replace("\u200e", "").split()) == (
        "שגיאה: לא נמצאה עמודת אימייל או נייד ב-מלאי.xlsx, לשונית 'מלאי' (הכותרות בשורה 1: A 'פריט', B 'כמות'). inwise "
        "מזהה כל איש קשר לפי האימייל או הנייד שלו, ולכן צריך אחד מהם. שנו את הכותרת של העמודה הזו ל'אימייל' או "
        "ל'נייד' (או Email / Mobile) והריצו את init שוב. הלשוניות האחרות בחוברת: 'חברים' (בחרו אחת עם --sheet). "
        "דבר לא נכתב.")
    assert load_config(tmp_path / "stock.mapping.yaml").source.worksheet == "Members"


def test_never_overwrites_an_existing_mapping(tmp_path: Path) -> None:
    workbook(tmp_path / "c.xlsx", ["Email"], [["a@example.com"]])
    existing = tmp_path / "c.mapping.yaml"
    existing.write_text("# mine, hand-edited\n", encoding="utf-8")
    code, out, err = run("init", "c.xlsx", cwd=tmp_path)
    assert code == 2 and "already exists; init never overwrites a mapping" in err and "--output" in err
    assert existing.read_text(encoding="utf-8") == "# mine, hand-edited\n"
    code, out, err = run("init", "c.xlsx", "--output", "second.yaml", cwd=tmp_path)
    assert code == 0, err
    assert load_config(tmp_path / "second.yaml").columns.email == "Email"
    assert load_config(tmp_path / "second.yaml").inwise.mobile.default_country == "IL"


def test_a_workbook_in_another_folder_written_the_windows_way(tmp_path: Path) -> None:
    workbook(tmp_path / "data" / "Contacts.xlsx", ["Email", "Mobile"], [["a@example.com", "0541111111"]])
    code, out, err = run("init", "data\\Contacts.xlsx", cwd=tmp_path)
    assert code == 0, err
    m = tmp_path / "data" / "Contacts.mapping.yaml"
    assert load_config(m).source.path == "Contacts.xlsx"  # next to the workbook, relative to it
    assert "sheets-connector sync --config data/Contacts.mapping.yaml --dry-run" in out


def test_init_errors_are_plain(tmp_path: Path) -> None:
    code, out, err = run("init", "nope.xlsx", cwd=tmp_path)
    assert code == 2 and "Cannot find the spreadsheet" in err
    workbook(tmp_path / "c.xlsx", ["Email"], [["a@example.com"]])
    code, out, err = run("init", "c.xlsx", "--sheet", "Contacts", cwd=tmp_path)
    assert code == 2 and "Sheet1" in err


def test_demo_ends_with_init(tmp_path: Path) -> None:
    code, out, err = run("demo", "--workdir", str(tmp_path / "demo"), cwd=tmp_path)
    assert code == 0, err
    assert "sheets-connector init YOUR-WORKBOOK.xlsx" in out and "mapping.example.yaml" not in out


# --- the guesses themselves -------------------------------------------------------------------------


def test_guess_country() -> None:
    assert guess_country(["054-1111111", "0521234567", 541111112], "Mobile").region == "IL"
    us = guess_country(["(415) 555-2671", "646-555-0143", "2025550143"], "Cell")
    assert us.region == "US" and us.guessed and "North American" in us.reason
    uk = guess_country(["+44 7911 123456", "+44 7812 345678"], "Mobile")
    assert uk.region == "GB" and "+44" in uk.reason
    none = guess_country(["n/a", "ask"], "Mobile")
    assert none.region is None and not none.guessed and "none of the 2 numbers" in none.reason
    assert not guess_country([], "Mobile").guessed


def test_no_country_is_proposed_without_a_clear_majority_of_valid_mobiles() -> None:
    import random
    rnd = random.Random(7)
    # a scraped US list: 7-digit local numbers, no area code; some fit Austrian patterns
    local = [f"{rnd.randint(200, 999)}-{rnd.randint(0, 9999):04d}" for _ in range(200)]
    g = guess_country(local, "Phone")
    assert g.region is None and not g.guessed and "not a clear majority" in g.reason
    # half Israeli, half British: neither is a clear majority
    mixed = ["0547654321", "0531234567", "07911 123456", "07700 900123"]
    assert guess_country(mixed, "Mobile").region is None
    # Israeli numbers with a few British ones: Israel, and British numbers with + are no obstacle
    assert guess_country(["0547654321", "0531234567", "0586218927", "+44 7911 123456"], "Mobile").region == "IL"


def test_init_writes_no_country_for_a_list_of_local_numbers_and_the_sync_sends_none(tmp_path: Path) -> None:
    import random
    rnd = random.Random(3)
    rows = [[f"p{i}@example.com", f"{rnd.randint(200, 999)}-{rnd.randint(0, 9999):04d}"] for i in range(60)]
    workbook(tmp_path / "scraped.xlsx", ["Email", "Phone"], rows)
    code, out, err = run("init", "scraped.xlsx", cwd=tmp_path)
    assert code == 0, err
    assert "Default country: none chosen, because only" in out and "not a clear majority" in out
    text = (tmp_path / "scraped.mapping.yaml").read_text(encoding="utf-8")
    assert "    default_country: none" in text and "replace none" in text
    assert load_config(tmp_path / "scraped.mapping.yaml").inwise.mobile.default_country is None
    code, out, err = run("sync", "--config", "scraped.mapping.yaml", "--dry-run", "--json", cwd=tmp_path)
    assert code == 0, err
    import json
    d = json.loads(out)
    assert d["counts"]["invalid"] == 60, d["counts"]


def test_a_header_the_cells_contradict_is_not_used_and_emails_are_found_under_any_header(tmp_path: Path) -> None:
    rows = [[datetime.date(2026, 1, 1 + i % 27), f"p{i}@example.com", "0547654321"] for i in range(10)]
    workbook(tmp_path / "odd.xlsx", ["Email Address", "Contact", "Mobile"], rows)
    code, out, err = run("init", "odd.xlsx", cwd=tmp_path)
    assert code == 0, err
    cfg = load_config(tmp_path / "odd.mapping.yaml")
    assert cfg.columns.email == "Contact"
    assert "column A 'Email Address' is headed like the email column, but only 0 of its first 10 filled cells" in out


def test_recognise_prefers_a_mobile_header_over_a_phone_header() -> None:
    p = recognise(["טלפון", "פלאפון", "אימייל", "Sync result"])
    assert p.columns["mobile"].header == "פלאפון" and p.columns["email"].header == "אימייל"
    assert [s.header for s in p.suggestions] == ["טלפון"] and p.results_headers == ["Sync result"]


@pytest.mark.parametrize("header", [["Email", "Mobile", "Groups", "Consent", "Do not sync"],
                                    ['דוא"ל', "נייד", "קבוצות", "אישור דיוור", "לא לסנכרן"],
                                    ["Email", "Mobile", "Groups", "הסכמה", "Do not sync"]])
def test_groups_consent_and_do_not_sync_columns(tmp_path: Path, header: list[str]) -> None:
    workbook(tmp_path / "c.xlsx", header,
             [["dana@example.co.il", "054-1111111", "VIP, Newsletter", "yes", None],
              ["noa@example.co.il", "052-1234567", "לקוחות\nvip", "כן", "x"],
              ["avi@example.co.il", "050-1234567", "715983", True, None]])
    code, out, err = run("init", "c.xlsx", cwd=tmp_path)
    assert code == 0, err
    cfg = load_config(tmp_path / "c.mapping.yaml")
    assert (cfg.columns.groups, cfg.columns.consent, cfg.columns.do_not_sync) == tuple(header[2:])
    text = (tmp_path / "c.mapping.yaml").read_text(encoding="utf-8")
    # the names found in the column, for the user to give their inwise IDs (an ID typed as it is needs none)
    assert "groups:\n  # 'VIP': ID\n  # 'Newsletter': ID\n  # 'לקוחות': ID\n" in text and "715983" not in text
    # once the IDs are written in, the mapping loads with them
    filled = text.replace("  # 'VIP': ID", "  'VIP': 715001").replace("  # 'Newsletter': ID", "  'Newsletter': 721129")
    (tmp_path / "c.mapping.yaml").write_text(filled.replace("  # 'לקוחות': ID", "  'לקוחות': 730002"), encoding="utf-8")
    assert load_config(tmp_path / "c.mapping.yaml").groups == {"VIP": 715001, "Newsletter": 721129, "לקוחות": 730002}
    # check runs on the new mapping: the held row and the unknown names are told, before anything is sent
    if cfg.language == "he":  # a Hebrew header row: check speaks Hebrew
        plain = out.replace("\u200e", "")  # the marks that keep Latin names in order inside Hebrew
        assert "אחת מעוכבת" in plain and "קבוצות לא מוכרות 'VIP', 'Newsletter' בעמודה" in plain
    else:
        assert "1 held back" in out and "unknown groups 'VIP', 'Newsletter' in column" in out
