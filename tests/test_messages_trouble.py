"""Troubles outside the sheet (inwise not answering, a damaged workbook, the state store, an
existing mapping) are said in the mapping's language: run through the real CLI against the
sandbox with a Hebrew and an English mapping; English words are the ones always printed."""
from __future__ import annotations

from click.testing import CliRunner
from util import write_workbook

from sheets_connector.cli import main
from sheets_connector.messages.catalog import Msg

LRM = "\u200e"
HEADER = ["שם", "אימייל", "נייד"]


def _run(*args: str):
    return CliRunner().invoke(main, list(args), env={"INWISE_API_KEY": "test-key", "COLUMNS": "400"},
                              catch_exceptions=False)


def _mapping(tmp, url: str, language: str | None, name: str = "m.yaml") -> str:
    p = tmp / name
    lang = f"language: {language}\n" if language else ""
    p.write_text("source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: אימייל, mobile: נייד, fields: {1: שם}}\n"
                 f"inwise: {{base_url: {url}, mobile: {{default_country: IL}}, retry: {{backoff_factor: 0.01}}}}\n{lang}state_dir: {tmp / 'state'}\n",
                 encoding="utf-8")
    return str(p)


def _plain(text: str) -> str:
    return " ".join(text.replace(LRM, "").split())


def test_inwise_answering_500_is_said_in_hebrew_and_english_unchanged(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["דנה", "d@example.com", "0541234567"]], header=HEADER)
    sandbox.fail_next(50, status=500)
    r = _run("sync", "--config", _mapping(tmp_path, sandbox.base_url, "he"))
    out = r.stdout + r.stderr
    assert (f"שורה 2: ✗ שגיאה ב-inwise: inwise לא ענתה אחרי 6 ניסיונות ({LRM}HTTP 500 Internal Server Error{LRM}) - "
            "סנכרנו שוב מאוחר יותר כדי לנסות שוב את השורה") in out, out
    assert (f"לא ניתן היה לקרוא מ-inwise את אנשי הקשר החדשים ({LRM}GET /contacts{LRM}): inwise לא ענתה אחרי 6 "
            f"ניסיונות ({LRM}HTTP 500 Internal Server Error{LRM}). אנשי הקשר שנקראו לפני כן נשמרו") in out, out
    assert "did not answer" not in out and "Could not read" not in out
    sandbox.fail_next(50, status=500)
    (tmp_path / "state").rename(tmp_path / "state-he")
    r = _run("sync", "--config", _mapping(tmp_path, sandbox.base_url, "en", "en.yaml"))
    out = _plain(r.stdout + r.stderr)
    assert ("row 2: ✗ inwise error: inwise did not answer after 6 tries (HTTP 500 Internal Server Error) - sync again "
            "later to retry this row") in out, out
    assert ("Could not read the new contacts from inwise (GET /contacts): inwise did not answer after 6 tries (HTTP 500 "
            "Internal Server Error). Contacts read before this were saved; run the pull again later.") in out, out


def test_init_over_an_existing_mapping_says_it_in_that_mappings_language(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["דנה", "d@example.com", "0541234567"]], header=HEADER)
    he = _mapping(tmp_path, sandbox.base_url, "he")
    r = _run("init", str(tmp_path / "contacts.xlsx"), "--output", he)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"שגיאה: {LRM}{he}{LRM} כבר קיים; init אף פעם לא כותב מעל מיפוי קיים. בדקו אותו עם:\n"
                               f"  {LRM}sheets-connector check --config{LRM} {LRM}{he}{LRM}\n"
                               f"או כתבו מיפוי חדש בשם אחר עם {LRM}--output NAME.yaml{LRM}."), r.stderr
    en = _mapping(tmp_path, sandbox.base_url, None, "en.yaml")
    (tmp_path / "en.yaml").write_text("source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: Email}\n")
    r = _run("init", str(tmp_path / "contacts.xlsx"), "--output", en)
    assert r.exit_code == 2 and r.stderr == (f"Error: {en} already exists; init never overwrites a mapping. Check it "
                                             f"with:\n  sheets-connector check --config {en}\nor write a new one under "
                                             "another name with --output NAME.yaml.\n"), r.stderr


def test_a_damaged_or_mistaken_workbook_is_said_in_hebrew_and_english_unchanged(tmp_path, sandbox):
    he, en = _mapping(tmp_path, sandbox.base_url, "he"), _mapping(tmp_path, sandbox.base_url, "en", "en.yaml")
    book = tmp_path / "contacts.xlsx"
    write_workbook(book, [["דנה", "d@example.com", "0541234567"]], header=HEADER)
    book.write_bytes(book.read_bytes()[:200])  # cut off, as a copy that stopped half-way
    r = _run("sync", "--config", he)
    assert r.exit_code == 1
    assert r.stderr == (f"שגיאה: {LRM}contacts.xlsx{LRM} פגום: זה לא קובץ .xlsx שלם ({LRM}File is not a zip file{LRM}). "
                        "אם הוא הועתק או הורד, העתיקו אותו שוב; אחרת פתחו אותו ב-Excel (שלרוב יודע לתקן אותו) או "
                        "ב-LibreOffice ושמרו אותו שוב כחוברת עבודה של Excel (.xlsx).\n"), r.stderr
    assert _run("sync", "--config", en).stderr == (
        "Error: contacts.xlsx is damaged: it is not a complete .xlsx file (File is not a zip file). If it was copied or "
        "downloaded, copy it again; otherwise open it in Excel (which can often repair it) or LibreOffice and save it "
        "again as Excel Workbook (.xlsx).\n")
    book.write_text("שם,אימייל\nדנה,d@example.com\n", encoding="utf-8")
    assert _run("sync", "--config", he).stderr == (
        f"שגיאה: {LRM}contacts.xlsx{LRM} הוא קובץ טקסט (CSV), לא חוברת עבודה של Excel - אף ששמו מסתיים ב-{LRM}.xlsx"
        f"{LRM}. פתחו אותו ב-Excel או ב-LibreOffice ובחרו קובץ > שמירה בשם > חוברת עבודה של Excel (.xlsx), ואז כוונו "
        "את ההגדרות אל הקובץ החדש.\n")
    assert _run("sync", "--config", en).stderr == (
        "Error: contacts.xlsx is a text (CSV) file, not an Excel workbook - even though its name ends in .xlsx. Open it "
        "in Excel or LibreOffice and use File > Save As > Excel Workbook (.xlsx), then point the settings at the new "
        "file.\n")


def test_the_state_store_s_errors_are_said_in_hebrew_and_english_unchanged(tmp_path, sandbox):
    import sqlite3

    write_workbook(tmp_path / "contacts.xlsx", [["דנה", "d@example.com", "0541234567"]], header=HEADER)
    he, en = _mapping(tmp_path, sandbox.base_url, "he"), _mapping(tmp_path, sandbox.base_url, "en", "en.yaml")
    assert _run("sync", "--config", he).exit_code == 0
    store = tmp_path / "state" / "state.db"
    with sqlite3.connect(store) as db:  # as a newer sheets-connector leaves it
        db.execute("UPDATE meta SET value='999' WHERE key='schema'")
    r = _run("sync", "--config", he)
    assert r.exit_code == 1 and r.stderr == (
        f"שגיאה: מאגר המצב של המחבר {LRM}{store}{LRM} נכתב על ידי גרסה חדשה יותר של sheets-connector (פורמט 999); "
        f"עדכנו את sheets-connector, או כוונו את {LRM}state_dir{LRM} / {LRM}state_url{LRM} של המיפוי למקום אחר.\n"
        "דבר לא נשלח ל-inwise וחוברת העבודה לא השתנתה.\n"), r.stderr
    assert _run("sync", "--config", en).stderr == (
        f"Error: The connector's state store {store} was written by a newer version of sheets-connector (format 999); "
        "update sheets-connector, or point the mapping's state_dir / state_url elsewhere.\nNothing was sent to inwise "
        "and the workbook was not changed.\n")


def test_a_full_or_busy_store_says_why_and_what_to_do_in_hebrew(tmp_path):
    import sqlite3

    from sheets_connector.messages.catalog import error_words, render
    from sheets_connector.state.db import Db

    db = Db(tmp_path / "state.db")
    try:
        full = db.error(Msg("store.cannot_write"), sqlite3.OperationalError("database or disk is full"))
        busy = db.error(Msg("store.cannot_write"), sqlite3.OperationalError("database is locked"))
    finally:
        db.close()
    where = tmp_path / "state.db"
    assert str(full) == (f"The connector's state store {where} could not be written: the disk is full. Free some disk "
                         "space or make the folder writable (or choose another folder with state_dir in the mapping), "
                         "then run again.")
    assert render(error_words(full).message, "he") == (
        f"מאגר המצב של המחבר {LRM}{where}{LRM} לא נכתב: הדיסק מלא. פנו מקום בדיסק או אפשרו כתיבה בתיקייה (או בחרו "
        f"תיקייה אחרת עם {LRM}state_dir{LRM} במיפוי), והריצו שוב.")
    assert render(error_words(busy).message, "he").startswith(
        f"מאגר המצב של המחבר {LRM}{where}{LRM} לא נכתב: תוכנה אחרת החזיקה אותו תפוס זמן רב מדי. סנכרון אחר")


def test_mistakes_in_the_mapping_file_are_said_in_the_language_it_asks_for(tmp_path, sandbox):
    """Raised before the mapping is loaded: its ``language:`` line (found even in YAML that does
    not parse), else Hebrew column names, tell the language; otherwise English as always."""
    write_workbook(tmp_path / "contacts.xlsx", [["דנה", "d@example.com", "0541234567"]], header=HEADER)

    def stderr(text: str) -> str:
        p = tmp_path / "m.yaml"
        p.write_text(text, encoding="utf-8")
        r = _run("check", "--config", str(p))
        assert r.exit_code == 2, r.stderr
        return r.stderr.replace(str(p), "m.yaml")

    good = "source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: אימייל}\n"
    assert stderr(good + "colums: {mobile: נייד}\nlanguage: he\n") == (
        f"שגיאה: יש בעיה במיפוי:\n  {LRM}m.yaml{LRM}, שורה 3: {LRM}colums{LRM}: מפתח לא מוכר {LRM}'colums'{LRM}; "
        f"האם התכוונתם ל-{LRM}'columns'{LRM}? (מותר כאן: {LRM}source, columns, inwise, results, new_contacts, groups, "
        f"date_format, language, state_dir, state_url, state_retention_days, service, schedule, timezone, alerts{LRM})\n")
    broken = "language: he\nsource: {type: xlsx, path: contacts.xlsx\ncolumns: {email: אימייל}\n"
    assert stderr(broken).startswith(f"שגיאה: {LRM}m.yaml{LRM}, שורה 3: זה לא YAML תקין ("), stderr(broken)
    # no language line, Hebrew column names: the file was written for a Hebrew sheet
    assert stderr(good + "inwise: {mode: upsrt}\n") == (f"שגיאה: יש בעיה במיפוי:\n  {LRM}m.yaml{LRM}, שורה 3: {LRM}"
                                                        f"inwise.mode{LRM}: צריך להיות {LRM}'upsert'{LRM} או {LRM}'batch'{LRM} "
                                                        f"(כתוב {LRM}'upsrt'{LRM})\n")
    # an English mapping (or one that says nothing): the words it always printed
    english = "source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: Email}\ncolums: {mobile: Mobile}\n"
    assert stderr(english).startswith("Error: The mapping has a problem:\n  m.yaml, line 3: colums: unknown key "
                                      "'colums'; did you mean 'columns'? (allowed here: source, columns, inwise")
    assert stderr(good + "colums: {}\nlanguage: en\n").startswith("Error: The mapping has a problem:\n  m.yaml, line 3")
