"""What office staff read: the commands' messages, checked by running the real commands."""
from __future__ import annotations

import json
from datetime import datetime

from click.testing import CliRunner
from freezegun import freeze_time
from util import column, write_workbook

from sheets_connector.cli import main

HEADER = ["First name", "email", "address", "Mobile"]


def _mapping(tmp, base_url: str, columns: str = "{email: email, mobile: Mobile, fields: {1: First name}}",
             extra: str = "") -> str:
    p = tmp / "mapping.yaml"
    p.write_text(f"source: {{type: xlsx, path: contacts.xlsx}}\ncolumns: {columns}\n"
                 f"inwise: {{base_url: {base_url}}}\n{extra}", encoding="utf-8")
    return str(p)


def _run(*args: str, key: str | None = "test-key"):
    return CliRunner().invoke(main, list(args), env={"INWISE_API_KEY": key, "COLUMNS": "200"},
                              catch_exceptions=False)


def test_a_missing_header_is_suggested_by_its_words(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "Haifa", None]], header=HEADER)
    r = _run("check", "--config", _mapping(tmp_path, sandbox.base_url, "{email: Email address, mobile: Mobile}"))
    assert r.exit_code == 2 and "Did you mean 'email'?" in r.stderr


def test_a_wrong_worksheet_names_the_mapping_file_and_line(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", None]], header=HEADER)
    p = tmp_path / "mapping.yaml"
    p.write_text("source:\n  type: xlsx\n  path: contacts.xlsx\n  worksheet: Contcts\n"
                 "columns: {email: email}\n", encoding="utf-8")
    r = _run("check", "--config", str(p))
    assert r.exit_code == 2
    assert "no sheet named 'Contcts'" in r.stderr and "Did you mean 'Contacts'?" in r.stderr
    assert "mapping.yaml, line 4 (source.worksheet)" in r.stderr


def test_rows_with_no_email_or_mobile_have_their_own_line(tmp_path, sandbox):
    rows = [["Dana", "d@example.com", "", None], ["Ronit", None, "Haifa", None], ["Avi", "bad@", "", None]]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url)
    r = _run("sync", "--config", m)
    assert r.exit_code == 0, r.stderr
    assert "✗ no email or mobile │    1" in r.stdout.replace("┃", "│") or "no email or mobile" in r.stdout
    d = json.loads(_run("sync", "--config", m, "--dry-run", "--json").stdout)
    assert d["counts"]["missing"] == 1 and d["counts"]["invalid"] == 1


def test_a_dry_run_says_how_to_see_every_problem_and_json_lists_them_all(tmp_path, sandbox):
    rows = [[f"P{i}", f"p{i}@", "", None] for i in range(1200)]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url)
    r = _run("sync", "--config", m, "--dry-run")
    assert "… and 1185 more: run `sync --dry-run --csv FILE.csv` to list them all in a file" in r.stdout
    csv_file = tmp_path / "problems.csv"
    r = _run("sync", "--config", m, "--dry-run", "--csv", str(csv_file))
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Row,Outcome,What to do" and len(lines) == 1201 and "nothing after the @" in lines[1]
    d = json.loads(_run("sync", "--config", m, "--dry-run", "--json").stdout)
    assert len(d["problems"]) == 1200 and d["problems_truncated"] == 0
    c = _run("check", "--config", m)
    assert "… and 1190 more: `sync --dry-run --csv FILE.csv` writes them all to a file Excel opens." in c.stdout


def test_result_dates_name_the_month_and_an_explicit_format_wins(tmp_path, sandbox):
    for n, (fmt, expected) in enumerate(((None, "28 Nov 2026 14:47"), ("dd.mm.yyyy HH:MM", "28.11.2026 14:47"))):
        tmp_path = tmp_path / str(n)  # a sheet of its own: an unchanged row would keep its first status
        tmp_path.mkdir()
        wb = write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", "(201) 555-0123"]], header=HEADER)
        p = tmp_path / "mapping.yaml"
        p.write_text("source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: email, mobile: Mobile}\n"
                     f"inwise: {{base_url: {sandbox.base_url}, mobile: {{default_country: US}}}}\n"
                     + (f"results: {{time_format: '{fmt}'}}\n" if fmt else ""), encoding="utf-8")
        with freeze_time(datetime(2026, 11, 28, 14, 47)):
            r = _run("sync", "--config", str(p))
        assert r.exit_code == 0, r.stderr
        assert column(wb, "Sync result")[2].endswith(expected)


def test_a_long_number_is_quoted_as_the_cell_shows_it(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", 77327770904244100.0]], header=HEADER)
    r = _run("sync", "--config", _mapping(tmp_path, sandbox.base_url), "--dry-run")
    assert '"77327770904244100"' in r.stdout and "096" not in r.stdout


def test_every_wrong_header_at_once_and_suggestions_by_what_the_cells_hold(tmp_path, sandbox):
    header = ["Name", "phone1", "phone2", "Contact", "Town"]
    rows = [["Dana", "0547654321", "02-6251111", "d@example.com", "Haifa"],
            ["Avi", "0531234567", "03-5555555", "a@example.com", "Lod"],
            ["Noa", "0586218927", "04-8123456", "n@example.com", "Acre"]]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=header)
    r = _run("check", "--config", _mapping(tmp_path, sandbox.base_url,
                                           "{email: Email, mobile: phone, fields: {1: First name, 6: City}}"))
    assert r.exit_code == 2
    err = " ".join(r.stderr.split())
    assert "4 columns of the mapping are not in the sheet" in err
    # by what the cells hold, not by letters: phone1 has the mobiles, Contact the emails
    assert "no column 'phone' for mobile. Did you mean 'phone1' (its cells hold them)?" in err
    assert "no column 'Email' for email. Did you mean 'Contact' (its cells hold them)?" in err
    assert "for personal field 1 (first name)" in err
    # a 'Mobile' header missing gets a suggestion too
    r = _run("check", "--config", _mapping(tmp_path, sandbox.base_url, "{email: Contact, mobile: Mobile}"))
    assert "no column 'Mobile' for mobile. Did you mean 'phone1' (its cells hold them)?" in " ".join(r.stderr.split())


def test_check_names_personal_fields_by_what_they_are(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "Haifa", None]], header=HEADER)
    r = _run("check", "--config", _mapping(tmp_path, sandbox.base_url,
                                           "{email: email, fields: {1: First name, 6: address}}"))
    assert r.exit_code == 0, r.stderr
    assert "first name (personal field 1)" in r.stdout and "address (personal field 6)" in r.stdout
    assert "field1 " not in r.stdout


def test_a_dry_run_after_a_sync_counts_the_unchanged_rows_as_unchanged(tmp_path, sandbox):
    rows = [[f"P{i}", f"p{i}@example.com", "", None] for i in range(7)]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url, extra=f"state_dir: {tmp_path / 'state'}\n")
    d = json.loads(_run("sync", "--config", m, "--dry-run", "--json").stdout)
    assert d["would_send"] == 7  # nothing sent yet
    assert _run("sync", "--config", m).exit_code == 0
    d = json.loads(_run("sync", "--config", m, "--dry-run", "--json").stdout)
    assert d["would_send"] == 0 and d["counts"]["unchanged"] == 7
    r = _run("sync", "--config", m, "--dry-run")
    assert "= unchanged (not sent) │    7" in r.stdout.replace("┃", "│") and "→ would send           │    0" in r.stdout
    # one row changed: the dry run and the sync agree on 1
    rows[2][0] = "Changed"
    write_workbook(wb, rows, header=HEADER)
    d = json.loads(_run("sync", "--config", m, "--dry-run", "--json").stdout)
    assert d["would_send"] == 1 and d["counts"]["unchanged"] == 6
    d = json.loads(_run("sync", "--config", m, "--json").stdout)
    assert d["counts"]["unchanged"] == 6


def test_the_summary_speaks_plainly_and_names_the_real_mapping_file(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", None]], header=HEADER)
    r = _run("sync", "--config", _mapping(tmp_path, sandbox.base_url))
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "one contact at a time" in out and "mode upsert" not in out
    assert "sent to inwise: 1 contacts sent one by one, new contacts read once" in out
    assert "GET /contacts" not in out and "POST" not in out
    assert f"sheets-connector runs show 1 --config {tmp_path / 'mapping.yaml'}" in out and "<the mapping>" not in out


def test_a_hebrew_mapping_writes_hebrew_results_dates_and_headers(tmp_path, sandbox):
    from openpyxl import load_workbook
    rows = [["דנה", "d@example.com", "", "058-6218927"], ["אבי", "bad@", "", None]]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url, extra="language: he\n")
    with freeze_time(datetime(2026, 12, 7, 2, 31)):
        r = _run("sync", "--config", m)
    assert r.exit_code == 0, r.stderr
    assert "סונכרן" in r.stdout and "✓ נוצר" in r.stdout
    results = column(wb, "תוצאת סנכרון")
    assert results[2].startswith("\u200f✓ נוצר") and results[2].endswith("7 בדצמ׳ 2026 02:31")
    assert "\u200f · \u200f#" in results[2]  # the id keeps its place in right-to-left text
    assert results[3] == ('\u200f✗ כתובת האימייל "\u200ebad@\u200e" לא תקינה: אין כלום אחרי ה-@ '
                          '(עמודה "\u200eemail\u200e") - תקנו את התא וסנכרנו שוב')
    tab = load_workbook(wb)["אנשי קשר חדשים"]
    heads = [c.value for c in tab[1]]
    assert heads[:3] == ["מזהה inwise", "אימייל", "נייד"]
    assert tab.cell(row=2, column=3).value == "058-621-8927"  # as staff write it, not 972586218927


def test_runs_show_counts_every_row_needing_attention(tmp_path, sandbox):
    rows = [["Dana", "d@example.com", "", None], ["Ronit", None, "Haifa", None], ["Avi", "bad@", "", None]]
    rows += [[f"P{i}", f"p{i}@", "", None] for i in range(60)]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url, extra=f"state_dir: {tmp_path / 'state'}\n")
    assert _run("sync", "--config", m).exit_code == 0
    r = _run("runs", "show", "1", "--config", m)
    out = " ".join(r.stdout.split())
    assert "invalid 61, no email or mobile 1" in out
    assert "rows that need attention (62):" in out
    assert "… and 12 more: each one's reason is in the sheet's results column (`runs show 1 --json` lists all 62)" in out
    assert len(json.loads(_run("runs", "show", "1", "--config", m, "--json").stdout)["summary"]["problems"]) == 62


def test_a_refused_api_key_says_where_to_copy_it_again(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", None]], header=HEADER)
    r = _run("sync", "--config", _mapping(tmp_path, sandbox.base_url), key="wrong-key")
    assert r.exit_code != 0
    err = " ".join(r.stderr.split())
    assert "inwise refused the API key (HTTP 401" in err
    assert "Copy it again in inwise (Settings > API, the REST API key), put it in the environment variable INWISE_API_KEY" in err
    assert "wrong-key" not in r.stderr + r.stdout


def test_a_wrong_inwise_address_names_its_mapping_line_and_the_right_one(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", [["Dana", "d@example.com", "", None]], header=HEADER)
    p = tmp_path / "mapping.yaml"
    wrong = sandbox.base_url.replace("/rest/v1", "/rest/v9")
    p.write_text("source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: email}\ninwise:\n"
                 f"  base_url: {wrong}\n", encoding="utf-8")
    r = _run("sync", "--config", str(p))
    err = " ".join(r.stderr.split())
    assert r.exit_code != 0 and "no row can cause" not in err
    assert f"The inwise address in the mapping is wrong: {wrong} is not inwise's API" in err
    assert "The address should be https://api.inwise.com/rest/v1: correct mapping.yaml, line 4 (inwise.base_url)" in err


def test_a_number_where_a_name_is_needed_says_to_quote_it(tmp_path):
    p = tmp_path / "mapping.yaml"
    p.write_text("source: {type: xlsx, path: contacts.xlsx, worksheet: 2}\ncolumns: {email: email}\n", encoding="utf-8")
    r = _run("check", "--config", str(p))
    err = " ".join(r.stderr.split())
    assert r.exit_code == 2 and "must be text (got 2)" not in err
    assert "2 is read as a number, but a name is needed here: write it in quotes, like '2'" in err


def test_init_says_plainly_how_to_send_a_field_it_has_no_number_for(tmp_path):
    from sheets_connector.init_mapping import FIELD_NUMBER_HINT
    assert "remove the #" not in FIELD_NUMBER_HINT and "instead of N" not in FIELD_NUMBER_HINT
    assert "delete the '# '" in FIELD_NUMBER_HINT and "replace N by that number" in FIELD_NUMBER_HINT


def test_check_says_when_the_email_column_holds_no_emails_and_where_they_are(tmp_path, sandbox):
    from datetime import date
    rows = [[date(2026, 1, 1 + i), f"p{i}@example.com", "", None] for i in range(5)]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=["Email Address", "Contact", "address", "Mobile"])
    r = _run("check", "--config", _mapping(tmp_path, sandbox.base_url, "{email: Email Address}"))
    out = " ".join(r.stdout.split())
    assert ("Note: column A 'Email Address' is mapped as the email, but only 0 of its first 5 filled cells are "
            "email addresses; they seem to be in the column 'Contact'.") in out


def test_a_hebrew_sheet_gets_hebrew_reasons_everywhere_they_are_shown(tmp_path, sandbox):
    """End to end on a real .xlsx with the sandbox: the results column, the summary's rows that need
    attention, the CSV, the dry run, `runs show` and `check` all give the reasons in Hebrew."""
    lrm, rlm = "\u200e", "\u200f"
    rows = [["דנה", "d@example.com", "", "058-6218927"],
            ["אבי", "bad@", "", None],
            ["רון", None, "", "054 111 אחד"],
            ["נועה", None, "חיפה", None],
            ["דנה שוב", "D@example.com", "", None]]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url, extra=f"language: he\nstate_dir: {tmp_path / 'state'}\n")
    dry = _run("sync", "--config", m, "--dry-run", "--csv", str(tmp_path / "p.csv"))
    assert dry.exit_code == 0, dry.stderr
    dry_out = dry.stdout
    assert "שורה 3: ✗ כתובת האימייל" in dry_out and "invalid" not in dry_out
    assert "שורה 2: d@example.com · +972586218927" in dry_out  # the preview: the row's values, Hebrew words
    csv_lines = (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_lines[:2] == ["שורה,תוצאה,מה לעשות",
                             f'3,לא תקין,"{rlm}כתובת האימייל ""{lrm}bad@{lrm}"" לא תקינה: אין כלום אחרי ה-@ '
                             f'(עמודה ""{lrm}email{lrm}"") - תקנו את התא וסנכרנו שוב"']
    r = _run("sync", "--config", m)
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "שורות שדורשות טיפול (4):" in out
    assert "שורה 6: ✗ כפול של שורה 2 (אותו אימייל) - לא נשלח" in out
    results = column(wb, "תוצאת סנכרון")
    assert results[3] == (f'{rlm}✗ כתובת האימייל "{lrm}bad@{lrm}" לא תקינה: אין כלום אחרי ה-@ '
                          f'(עמודה "{lrm}email{lrm}") - תקנו את התא וסנכרנו שוב')
    assert results[4] == (f'{rlm}✗ מספר הנייד "054 111 אחד" לא תקין: זה לא מספר טלפון (יש בו אותיות) '
                          f'(עמודה "{lrm}Mobile{lrm}") - תקנו את התא וסנכרנו שוב')
    assert results[5] == (f'{rlm}✗ אין אימייל או נייד - מלאו את "{lrm}email{lrm}" או את "{lrm}Mobile{lrm}" '
                          "כדי לשלוח את איש הקשר")
    assert results[6] == f"{rlm}✗ כפול של שורה 2 (אותו אימייל) - לא נשלח"
    assert not any("invalid" in str(v) or "duplicate" in str(v) for v in results.values())
    # a rerun leaves the Hebrew reasons as they are (the sheet's words and the run's agree)
    assert _run("sync", "--config", m).exit_code == 0
    assert column(wb, "תוצאת סנכרון") == results
    shown = _run("runs", "show", "1", "--config", m)
    assert "שורות שדורשות טיפול (4):" in shown.stdout and "שורה 4: ✗ מספר הנייד" in shown.stdout
    frame = shown.stdout.replace("\u200e", "")
    assert "הרצה #1: sync של contacts.xlsx" in frame and "משורת הפקודה, הסתיימה אחרי" in frame
    assert "שורות: נוצרו 1, לא תקינות 2, אין אימייל או נייד 1, כפולות 1" in frame, frame
    check = _run("check", "--config", m)
    assert check.exit_code == 0, check.stderr
    said = " ".join(check.stdout.split())
    assert "המיפוי תקין עבור" in said and "שם פרטי (שדה אישי 1)" in said and "אימייל" in said
    assert "5 שורות עם נתונים: אחת מוכנה לשליחה, 4 דורשות טיפול." in said
    assert "Mapping OK" not in said and "ready to send" not in said


def test_a_hebrew_batch_sync_says_its_row_answers_in_hebrew(tmp_path, sandbox):
    rows = [["דנה", "d@example.com", "", None], ["אבי", "a@example.com", "", None]]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    p = tmp_path / "mapping.yaml"
    p.write_text("source: {type: xlsx, path: contacts.xlsx}\ncolumns: {email: email, fields: {1: First name}}\n"
                 f"inwise: {{base_url: {sandbox.base_url}, mode: batch}}\nlanguage: he\n", encoding="utf-8")
    with freeze_time(datetime(2026, 12, 7, 2, 31)):
        r = _run("sync", "--config", str(p))
    assert r.exit_code == 0, r.stderr
    results = column(wb, "תוצאת סנכרון")
    assert all(str(v).startswith("\u200f✓ ") and "7 בדצמ׳ 2026 02:31" in str(v) for v in results.values()), results


def test_a_hebrew_sheets_run_warning_is_in_hebrew_in_the_summary_and_runs_show(tmp_path, sandbox):
    """A batch whose row inwise refuses (a conflict): the run's warning, in the CLI summary and in
    `runs show`, is Hebrew for a Hebrew mapping; --json keeps the English words."""
    sandbox.add_contacts([{"email": "yossi.b@example.com", "mobile_number": "972531111111"},
                          {"email": "miri@example.com", "mobile_number": "972547654321"}])
    rows = [["דנה", "dana@example.co.il", "", "054-1111111"], ["איתן", "yossi.b@example.com", "", "054-7654321"]]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    m = _mapping(tmp_path, sandbox.base_url, extra=f"language: he\nstate_dir: {tmp_path / 'state'}\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("inwise: {", "inwise: {mode: batch, "),
                       encoding="utf-8")
    r = _run("sync", "--config", m)
    assert r.exit_code == 0, r.stderr
    said = " ".join(r.stderr.replace("\u200e", "").split())
    assert ("אזהרה: inwise דיווחה על שורות שנכשלו (שורות: 1, בקבוצות שליחה: 1) בלי לומר אילו, ולכן בשורות של "
            "הקבוצות האלה כתוב 'עודכן?'.") in said, r.stderr
    assert "Warning" not in said and "failed row(s)" not in said
    shown = " ".join(_run("runs", "show", "1", "--config", m).stdout.replace("\u200e", "").split())
    assert "אזהרה: inwise דיווחה על שורות שנכשלו (שורות: 1, בקבוצות שליחה: 1)" in shown, shown
    again = json.loads(_run("runs", "show", "1", "--config", m, "--json").stdout)
    assert any("1 failed row(s) in 1 batch(es)" in w for w in again["summary"]["warnings"]), again


def test_a_hebrew_run_ended_by_an_error_says_it_in_hebrew_on_the_command_line_and_in_runs_show(
        tmp_path, sandbox, monkeypatch):
    """The results could not be saved (the disk went away while saving): the error that ends the
    run is Hebrew for a Hebrew mapping, in the CLI and in `runs show`; English as it always was."""
    from sheets_connector.tables.xlsx import XlsxTable

    def gone(self):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(XlsxTable, "save", gone)
    monkeypatch.chdir(tmp_path)
    lrm = "\u200e"
    for language in ("he", "en"):
        folder = tmp_path / language
        folder.mkdir()
        write_workbook(folder / "contacts.xlsx", [["דנה", f"d.{language}@example.com", "", None]], header=HEADER)
        m = _mapping(folder, sandbox.base_url, extra=f"language: {language}\nstate_dir: {folder / 'state'}\n")
        r = _run("sync", "--config", m)
        assert r.exit_code == 1
        [kept] = folder.glob("contacts sync results *.csv")
        said = r.stderr.replace(lrm, "")
        if language == "en":
            assert said == (f"Error: The results could not be saved into contacts.xlsx, sheet 'Contacts' "
                             f"(RuntimeError: the disk went away).\nThe contacts WERE sent to inwise. Each row's "
                             f"result is in {kept}. Newly created contacts are kept and will be added to the sheet "
                             "on the next run.\n"), r.stderr
            continue
        assert r.stderr.startswith(f"שגיאה: לא ניתן היה לשמור את התוצאות ב-{lrm}contacts.xlsx{lrm}, לשונית "
                                   f"'{lrm}Contacts{lrm}' ({lrm}RuntimeError: the disk went away{lrm}).\n"), r.stderr
        assert said.endswith(f"\nאנשי הקשר כן נשלחו ל-inwise. התוצאה של כל שורה נמצאת בקובץ {kept}. אנשי הקשר "
                             "החדשים שנוצרו שמורים ויתווספו לגיליון בהרצה הבאה.\n"), r.stderr
        shown = _run("runs", "show", "1", "--config", m).stdout.replace(lrm, "")
        assert shown.startswith("הרצה #1: sync של contacts.xlsx\n"), shown
        assert "  שגיאה: לא ניתן היה לשמור את התוצאות ב-contacts.xlsx, לשונית 'Contacts'" in shown, shown
        assert "נכשלה" in shown and "WERE sent" not in shown and "אנשי קשר חדשים:" not in shown
        listed = " ".join(_run("runs", "--config", m).stdout.replace(lrm, "").split())
        for words in ("הרצה", "התחילה", "גיליון", "שורת", "הפקודה", "נכשלה", "שניות", "לשמור"):  # a narrow table wraps
            assert words in listed, (words, listed)
        assert not any(w in listed for w in ("started", "command", "failed", "sheet '")), listed


def test_errors_that_stop_a_hebrew_mapping_are_hebrew_and_english_ones_unchanged(tmp_path, sandbox):
    """The errors a new user meets first (the API key, the address, the workbook, the tab, a header):
    in the mapping's language, with the names, paths and mapping lines as typed."""
    lrm = "\u200e"
    write_workbook(tmp_path / "contacts.xlsx", [["דנה", "d@example.com", "", None]], header=HEADER)

    def stderr(language: str, *, key: str | None = "test-key", **change: str) -> tuple[int, str]:
        p = tmp_path / f"{language}.yaml"
        source = {"path": "contacts.xlsx", "worksheet": "Contacts", **change}
        p.write_text(f"source:\n  type: xlsx\n  path: {source['path']}\n  worksheet: {source['worksheet']}\n"
                     f"columns:\n  email: {change.get('email', 'email')}\n"
                     f"inwise:\n  base_url: {change.get('url', sandbox.base_url)}\nlanguage: {language}\n"
                     f"state_dir: {tmp_path / 'state'}\n", encoding="utf-8")
        r = _run("sync", "--config", str(p), key=key)
        return r.exit_code, " ".join(r.stderr.replace(lrm, "").split())

    code, he = stderr("he", key="wrong-key")
    assert code == 1 and he.startswith("שגיאה: inwise סירבה למפתח ה-API (HTTP 401"), he
    assert ("המפתח במשתנה הסביבה INWISE_API_KEY אינו מפתח ה-REST API של חשבון ה-inwise שאליו מסנכרנים, או שהוחלף. "
            "העתיקו אותו שוב ב-inwise (הגדרות > API, מפתח ה-REST API), שימו אותו במשתנה הסביבה INWISE_API_KEY, "
            "והריצו שוב. דבר לא נשלח.") in he
    code, he = stderr("he", key="")
    assert code == 2 and he.startswith("שגיאה: אין מפתח API של inwise: משתנה הסביבה INWISE_API_KEY לא מוגדר."), he
    code, he = stderr("he", path="nope.xlsx")
    assert code == 2 and he.startswith("שגיאה: הקובץ nope.xlsx (חיפשנו את "), he
    assert he.endswith("יש את קובצי ה-Excel האלה: contacts.xlsx. תקנו את הנתיב ב-he.yaml, שורה 3 (source.path).")
    code, he = stderr("he", worksheet="Contcts")
    assert code == 2 and he == ("שגיאה: ב-contacts.xlsx אין לשונית בשם 'Contcts'. הלשוניות בו הן: 'Contacts'. האם "
                                "התכוונתם ל-'Contacts'? תקנו את שם הלשונית ב-he.yaml, שורה 4 (source.worksheet)."), he
    code, he = stderr("he", email="Email address")
    assert code == 2 and he.startswith("שגיאה: contacts.xlsx, לשונית 'Contacts': אין עמודה 'Email address' עבור "
                                       "אימייל. האם התכוונתם ל-'email'"), he
    assert "תקנו את הכותרת בגיליון או את השם ב-he.yaml, שורה 6 (columns.email). בשורת הכותרות יש: 'First name'" in he
    wrong = sandbox.base_url.replace("/rest/v1", "/rest/v9")
    code, he = stderr("he", url=wrong)
    assert code == 1 and he.startswith(f"שגיאה: כתובת ה-inwise במיפוי שגויה: {wrong} אינה ה-API של inwise ("), he
    assert he.endswith("הכתובת צריכה להיות https://api.inwise.com/rest/v1: תקנו את he.yaml, שורה 8 "
                       "(inwise.base_url) (או מחקו את השורה: הכתובת הזו היא ברירת המחדל), והריצו שוב.")
    # the same mistakes in an English mapping: the words it always printed
    assert stderr("en", worksheet="Contcts")[1] == (
        "Error: contacts.xlsx has no sheet named 'Contcts'. Its sheets are: 'Contacts'. Did you mean 'Contacts'? Fix "
        "the worksheet name in en.yaml, line 4 (source.worksheet).")
    assert stderr("en", key="")[1] == ("Error: No inwise API key: the environment variable INWISE_API_KEY is not set. "
                                       "Set it before running, e.g. export INWISE_API_KEY=<your key> (inwise: "
                                       "Settings > API). The key is never stored in the mapping file.")
    en = stderr("en", path="nope.xlsx")[1]
    assert en.startswith("Error: Cannot find the spreadsheet nope.xlsx (looked for ") and en.endswith(
        "The folder has these Excel files: contacts.xlsx. Fix the path in en.yaml, line 3 (source.path).".replace(
            "The folder has", f"The folder {tmp_path} has")), en
    assert stderr("en", email="Email address")[1].startswith(
        "Error: contacts.xlsx, sheet 'Contacts': there is no column 'Email address' for email. Did you mean 'email'")
