"""Every message in both languages: the catalogs agree, each text renders, and what a Hebrew sheet
shows for representative rows is pinned (with the direction marks that keep it readable)."""
from __future__ import annotations

import json
import pickle
import re
from datetime import date
from pathlib import Path

import pytest

from sheets_connector.config import parse_config
from sheets_connector.contacts import ContactMapper
from sheets_connector.messages import Country, Msg, from_json, msg, plain, render, to_json
from sheets_connector.messages.catalog import catalog, placeholders
from sheets_connector.model import UpsertResult
from sheets_connector.results import RowOutcome, from_upsert
from sheets_connector.sync.changes import outcome_dict, outcome_from
from sheets_connector.tables.base import RowRef, SourceRow

EN, HE = catalog("en"), catalog("he")
LRM, RLM = "\u200e", "\u200f"
# texts that are the same in both languages (only values, or a name that is not translated)
NEUTRAL = {"plain", "cols.pair", "init.how", "init.suggestion", "err.located", "err.bullet", "err.field_label", "email.library", "check.col_inwise", "check.tab", "runs.count", "runs.running_stage",
           "alert.kind", "alert.subject", "gs.reason", "map.problem"}
SOURCE = Path(__file__).resolve().parents[1] / "sheets_connector"


def test_every_message_has_both_languages_with_the_same_placeholders():
    assert set(EN) == set(HE)
    for key in EN:
        assert placeholders(EN[key]) == placeholders(HE[key]), key


def test_every_message_the_code_builds_is_in_the_catalog():
    """A message id typed in the code and missing here would fail on the user's row: every literal
    id (msg("..."), Msg("...")) and every id family built from a value must exist."""
    used: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'\b(?:msg|Msg|said)\(\s*"([a-z_.0-9]+)"', text))
        used.update(re.findall(r'\("[^"]+", "(email\.[a-z_]+)"\)', text))  # normalize's rule table
    assert len(used) > 60
    assert not used - set(EN)
    families = {"cell.": ("email", "mobile", "field"), "reads.": ("MDY", "DMY", "YMD"),
                "check.what_": ("email", "mobile"), "check.plural_": ("email", "mobile"),
                "check.field_": ("1", "2", "21"), "check.to_": ("results", "contact_id", "synced_at"),
                "check.role_": ("email", "mobile", "external_id", "groups", "consent", "do_not_sync"),
                "runs.trigger_": ("cli", "menu", "schedule"), "run.unit_": ("rows", "batches"),
                "dates.": ("both_many", "bad_many", "mixed_bad_many", "row_start", "rows_start", "rows"),
                "cols.": ("skipped_many",),
                "init.": ("wrote", "column", "how", "recognised", "not_recognised", "no_country", "country",
                          "country_kept", "note", "next", "then"),
                "init.t_": ("email", "mobile"),
                "init.role_": ("city", "address", "zip", "country", "gender", "company", "job_title", "id_number",
                               "landline"),
                "runs.status_": ("ok", "failed", "stopped", "crashed", "running"),
                "alert.trigger_": ("schedule", "menu", "cli"), "alert.label_": ("conflict", "invalid", "missing", "error"),
                "alert.title_": ("failed", "unavailable", "stopped", "attention"),
                "alert.todo_": ("failed", "unavailable", "stopped", "attention"),
                "runs.": ("created", "updated", "unchanged", "conflict", "invalid", "missing", "duplicate",
                          "error_rows", "held", "no_consent")}
    for prefix, members in families.items():
        assert {prefix + m for m in members} <= set(EN), prefix


def _sample(name: str) -> object:
    return {"row": 7, "n": 3, "email": 439130002, "mobile": 439130003, "good": 1, "cells": 5, "group": 12,
            "country": Country("AT"), "meant": date(1985, 4, 3), "reason": msg("mobile.too_long"),
            "problem": msg("cell.email", value="dana@", reason=msg("email.nothing_after")),
            "problems": (msg("in_column", problem=msg("cell.email", value="dana@", reason=msg("email.no_at")),
                             column="Email"),),
            "reads": Msg("reads.DMY"), "what": Msg("check.what_email"), "plural": Msg("check.plural_email"),
            "name": Msg("check.field_1"), "s": 2.5}.get(name, f"<{name}>")


@pytest.mark.parametrize("key", sorted(EN))
def test_each_message_renders_in_both_languages(key: str):
    m = msg(key, **{name: _sample(name) for name in placeholders(EN[key])})
    en, he = render(m, "en"), render(m, "he")
    assert en and he and "{" not in en + he and "}" not in en + he
    for name in placeholders(EN[key]):  # every value shows, in both
        value = _sample(name)
        if isinstance(value, (str, int)):
            assert str(value) in en and str(value) in he, name
    if key in NEUTRAL:
        return
    assert re.search("[\u05d0-\u05ea]", HE[key]), f"{key}: the Hebrew text has no Hebrew in it"
    assert not re.search("[\u05d0-\u05ea]", EN[key].replace("כן / לא", "")), f"{key}: Hebrew in the English text"


def _mapper(language: str, extra: str = "") -> ContactMapper:
    cfg = parse_config("source: {type: xlsx, path: x.xlsx}\ncolumns: {email: Email, mobile: Mobile, fields: {1: שם}}\n"
                       f"inwise: {{mobile: {{default_country: US}}}}\nlanguage: {language}\n{extra}")
    return ContactMapper(cfg, ["שם", "Email", "Mobile"], "x.xlsx")


def _cell(rows: list[tuple], language: str = "he") -> list[str]:
    m = _mapper(language)
    mapped = [m.map_row(SourceRow(i + 2, r)) for i, r in enumerate(rows)]
    return [RowOutcome(x.number, x.problem.kind, reason=x.problem.message).status("", language)
            for x in mapped if x is not None and x.problem is not None]


def test_a_hebrew_sheet_shows_these_reasons():
    shown = _cell([("דנה", "dana@", None), ("אבי", None, "504-621-8927 ext 12"), ("רון", "ron@example.com", "972541234567"),
                   ("נועה", None, None), ("שרה", "sara@example", "(201) 555-0123"), ("רות", "SARA@example", None)])
    assert shown == [
        f'{RLM}✗ כתובת האימייל "{LRM}dana@{LRM}" לא תקינה: אין כלום אחרי ה-@ (עמודה "{LRM}Email{LRM}") - '
        "תקנו את התא וסנכרנו שוב",
        f'{RLM}✗ מספר הנייד "{LRM}504-621-8927 ext 12{LRM}" לא תקין: יש בו שלוחה ("{LRM}12{LRM}" אחרי המספר): '
        f'מחקו את השלוחה, למספר נייד אין שלוחה (עמודה "{LRM}Mobile{LRM}") - תקנו את התא וסנכרנו שוב',
        f'{RLM}✗ מספר הנייד "{LRM}972541234567{LRM}" לא תקין: ארוך מדי למספר נייד; אם זה מספר מישראל, כתבו + לפניו '
        f'({LRM}+972541234567{LRM}) כדי שקידומת המדינה תיקרא נכון (עמודה "{LRM}Mobile{LRM}") - תקנו את התא וסנכרנו שוב',
        f'{RLM}✗ אין אימייל או נייד - מלאו את "{LRM}Email{LRM}" או את "{LRM}Mobile{LRM}" כדי לשלוח את איש הקשר',
        f'{RLM}✗ כתובת האימייל "{LRM}sara@example{LRM}" לא תקינה: בחלק שאחרי ה-@ חסרה נקודה, כמו "example.com" '
        f'(עמודה "{LRM}Email{LRM}") - תקנו את התא וסנכרנו שוב',
        f'{RLM}✗ כתובת האימייל "{LRM}SARA@example{LRM}" לא תקינה: בחלק שאחרי ה-@ חסרה נקודה, כמו "example.com" '
        f'(עמודה "{LRM}Email{LRM}") - תקנו את התא וסנכרנו שוב',
    ]


def test_the_same_rows_in_english_are_what_they_always_were():
    shown = _cell([("Dana", "dana@", None), ("Avi", None, "504-621-8927 ext 12"), ("Ron", None, "972541234567"),
                   ("Noa", None, None)], "en")
    assert shown == [
        "✗ invalid email \"dana@\": nothing after the @ (column 'Email') - fix the cell and sync again",
        "✗ invalid mobile \"504-621-8927 ext 12\": has an extension (\"12\" after the number): remove the extension, "
        "a mobile number has none (column 'Mobile') - fix the cell and sync again",
        "✗ invalid mobile \"972541234567\": too long for a mobile number; if it is a number from Israel, write + in "
        "front (+972541234567) so the country code is read as one (column 'Mobile') - fix the cell and sync again",
        "✗ no email or mobile - fill in 'Email' or 'Mobile' to send this contact",
    ]


def test_duplicates_and_inwise_answers_in_hebrew():
    m = _mapper("he")
    first = m.map_row(SourceRow(2, ("דנה", "d@example.com", None)))
    again = m.map_row(SourceRow(5, ("דנה", "D@example.com", None)))
    assert first is not None and first.problem is None and again is not None and again.problem is not None
    assert again.problem.text("he") == "כפול של שורה 2 (אותו אימייל) - לא נשלח"
    conflict = from_upsert(RowRef(3), UpsertResult("conflict", conflict={"email": 11, "mobile": 12}))
    assert conflict.status("", "he") == (f"{RLM}✗ התנגשות: האימייל שייך לאיש קשר #11 והנייד לאיש קשר #12 (שני אנשי "
                                         "קשר שונים ב-inwise: תקנו את האימייל או הנייד, או מזגו את אנשי הקשר ב-inwise)")
    refused = from_upsert(RowRef(4), UpsertResult("rejected", message="Invalid field 7"))
    assert refused.status("", "he") == (f"{RLM}✗ inwise דחתה את השורה: {LRM}Invalid field 7{LRM} - תקנו את השורה "
                                        "וסנכרנו שוב")
    assert refused.detail == "inwise refused this row: Invalid field 7 - fix the row and sync again"


def test_consent_and_held_back_rows_in_hebrew():
    cfg = ("  consent: {column: Consent, without_consent: skip}\n  do_not_sync: Hold\n")
    m = ContactMapper(parse_config(
        "source: {type: xlsx, path: x.xlsx}\ncolumns:\n  email: Email\n" + cfg + "language: he\n"),
        ["Email", "Consent", "Hold"], "x.xlsx")
    held = m.map_row(SourceRow(2, ("a@example.com", "כן", "עצור")))
    no = m.map_row(SourceRow(3, ("b@example.com", "לא", None)))
    assert held is not None and held.problem is not None and no is not None and no.problem is not None
    assert held.problem.text("he") == f'מעוכב (ב-"{LRM}Hold{LRM}" כתוב "עצור") - לא נשלח; נקו את התא כדי לשלוח את השורה'
    assert no.problem.text("he") == (f'לא נשלח: אין הסכמה לדיוור (ב-"{LRM}Consent{LRM}" כתוב "לא") - כשאיש הקשר מסכים, '
                                     "סמנו וסנכרנו שוב")


def test_a_reason_is_cheap_to_pickle_and_keeps_its_words_through_the_store():
    m = _mapper("he")
    mapped = m.normalize_row(SourceRow(2, ("דנה", "dana@", "12")))
    assert mapped is not None and mapped.problem is not None
    assert pickle.loads(pickle.dumps(mapped)).problem.message == mapped.problem.message
    assert len(pickle.dumps(mapped.problem.message)) < 400
    o = RowOutcome(2, "invalid", reason=mapped.problem.message)
    back = outcome_from(outcome_dict(o))
    assert back.reason == o.reason and back.status("", "he") == o.status("", "he")
    # outcomes kept by an earlier version hold English words: shown as they are
    old = outcome_from({"row": 2, "outcome": "error", "detail": "inwise error: HTTP 500", "unconfirmed": ""})
    assert old.reason == plain("inwise error: HTTP 500") and old.status("", "he").endswith("inwise error: HTTP 500\u200e")
    nested = msg("mobile.foreign", reason=msg("mobile.too_long"), country=Country("IL"), number="+972541234567")
    assert from_json(to_json(nested)) == nested
    assert from_json({"id": "no.such.id"}) == plain(str({"id": "no.such.id"}))


def test_a_date_the_sheet_cannot_read_says_the_order_in_hebrew():
    from sheets_connector.sheet_dates import SheetLocale, text_date_problem

    m = text_date_problem("13/04/1985", SheetLocale("en_US", "MDY"), "Birthday")
    assert m.text("he") == (
        f'"{LRM}13/04/1985{LRM}" בעמודה "{LRM}Birthday{LRM}" אינו תאריך כפי שהגיליון קורא תאריכים (חודש/יום/שנה, '
        f"אזור {LRM}United States (en_US){LRM}) - הקלידו אותו בסדר חודש/יום/שנה (עבור 13 באפריל 1985: "
        f"{LRM}4/13/1985{LRM}), או שנו את האזור של הגיליון (קובץ > הגדרות), וסנכרנו שוב")
    assert m.text("en").startswith("'13/04/1985' in column 'Birthday' is not a date the way this sheet reads dates "
                                   "(month first, locale United States (en_US)) - type it month first (for 13 April 1985")


# -- a run's own warnings and errors (messages/run.py) ------------------------------------------
def _outage() -> str:
    from sheets_connector.sync.breaker import OutageBreaker, outage_message

    breaker = OutageBreaker(after=3, failures=3, tripped=True, last="HTTP 503")
    return outage_message(breaker, sent=40, total=100, unit="batches")


def test_a_runs_warnings_are_their_old_english_words_and_hebrew_for_a_hebrew_mapping():
    from sheets_connector.messages.catalog import in_language, said

    stopped = said("run.stopped_send", sent=3, total=10, left=7)
    batch = said("run.batch_failed", n=2, batches=1)
    feed = said("run.feed_failed", error="inwise error: HTTP 502")
    outage = _outage()
    # the English is what the connector always printed (the summary, --json and the alerts read it)
    assert stopped == ("Stopped by you: 3 of 10 rows were sent and have their result; the other 7 say 'not sent'. "
                       "Run the sync again to send them.")
    assert batch == ("inwise reported 2 failed row(s) in 1 batch(es); batchInsert does not say which, so those batches' "
                     "rows are marked 'updated?'. Run with mode: upsert to get a result for every row (conflicts, "
                     "refusals).")
    assert outage == ("inwise is unavailable: 3 batches in a row got no answer after every retry (HTTP 503), so the "
                      "sync stopped sending. 40 of 100 rows were sent and have their result; the other 60 say 'not "
                      "sent: inwise unavailable' and nothing was lost: the next sync sends them. Run the sync again "
                      "later (a scheduled run does so by itself); if this lasts, check inwise's status or ask inwise "
                      "support.")
    assert in_language(stopped, "he") == ("נעצר על ידיכם: 3 מתוך 10 שורות נשלחו וקיבלו תוצאה; ב-7 האחרות כתוב "
                                          "'לא נשלח'. הריצו את הסנכרון שוב כדי לשלוח אותן.")
    assert in_language(batch, "he") == ("inwise דיווחה על שורות שנכשלו (שורות: 2, בקבוצות שליחה: 1) בלי לומר אילו, "
                                        "ולכן בשורות של הקבוצות האלה כתוב 'עודכן?'. הריצו עם mode: upsert כדי לקבל "
                                        "תוצאה לכל שורה (התנגשויות, דחיות).")
    assert in_language(feed, "he") == (f"לא ניתן היה לקרוא מ-inwise את רשימת אנשי הקשר החדשים ({LRM}inwise error: "
                                       f"HTTP 502{LRM}). התוצאה של כל שורה נכתבה, אבל הפעם אי אפשר להבחין בין שורות "
                                       "שנוצרו לשורות שעודכנו (כתוב בהן '✓ סונכרן'); אנשי הקשר החדשים יתווספו "
                                       "ללשונית אנשי הקשר החדשים בסנכרון הבא או ב-pull-new.")
    assert in_language(outage, "he").startswith(f"inwise לא זמינה: 3 קבוצות שליחה ברצף לא קיבלו תשובה גם אחרי כל "
                                                f"הניסיונות החוזרים ({LRM}HTTP 503{LRM}), ולכן הסנכרון הפסיק לשלוח.")
    assert in_language(outage, "he").endswith("הריצו את הסנכרון שוב מאוחר יותר (הרצה מתוזמנת עושה זאת לבד); אם זה "
                                              "נמשך, בדקו את מצב השירות של inwise או פנו לתמיכה של inwise.")
    # words that are not a message (another system's, an old run's) stay as they are
    assert in_language("disk full", "he") == "disk full"
    assert pickle.loads(pickle.dumps(stopped)).message == stopped.message


def test_a_stored_summary_shows_its_warnings_in_its_language_and_old_ones_as_they_were():
    from sheets_connector.messages.catalog import said
    from sheets_connector.service.store import RunResult
    from sheets_connector.state.history import detail_lines
    from sheets_connector.state.model import RunRecord
    from sheets_connector.sync.summary import RunSummary

    s = RunSummary("sync", "contacts.xlsx", "batch", language="he")
    s.warnings += [said("run.stopped_after_write"), "a note from elsewhere"]
    s.error = said("run.store_failed", error="disk full")
    stored = json.loads(json.dumps(s.to_dict()))  # as the run history keeps it
    assert stored["warnings"] == ["Stopped by you once the results were written: every row has its result.",
                                  "a note from elsewhere"]
    menu = RunResult.from_summary(stored)
    assert menu.warnings == ["נעצר על ידיכם אחרי שהתוצאות נכתבו: לכל שורה יש תוצאה.", "a note from elsewhere"]
    run = RunRecord(id=4, sheet="x", label="contacts.xlsx", command="sync", trigger="cli", status="failed",
                    stage="save", started_at="2019-03-04T07:00:00", summary=stored, error=str(s.error))
    shown = "\n".join(detail_lines(run))
    assert "  אזהרה: נעצר על ידיכם אחרי שהתוצאות נכתבו: לכל שורה יש תוצאה." in shown
    assert f"  שגיאה: {LRM}disk full{LRM}\nכל שורה עדיין מקבלת את התוצאה שלה בגיליון" in shown
    # a run recorded before warnings had ids: its English words, in the Hebrew frame
    old = {k: v for k, v in stored.items() if k != "said"}
    assert RunResult.from_summary(old).warnings == stored["warnings"]
    old_lines = "\n".join(detail_lines(RunRecord(**{**vars(run), "summary": old})))
    assert "  אזהרה: Stopped by you once the results were written" in old_lines.replace(LRM, "")


def test_a_sheet_locale_date_warning_in_hebrew_and_its_english_as_always():
    from sheets_connector.messages.catalog import in_language
    from sheets_connector.sheet_dates import sheet_locale, survey

    rows = [(2, [date(1985, 3, 4)]), (3, ["15/04/1985"]), (4, [date(1990, 12, 25)])]
    _, (disagree, mixed) = survey(rows, [(0, "Birthday", "E", "%d/%m/%Y")], sheet_locale("en_US"))
    assert mixed == ("'Birthday' (column E) mixes real dates (rows 2, 4) with dates typed as text (row 3, e.g. "
                     "'15/04/1985' on row 3). The connector reads the text ones the way this sheet's locale (United "
                     "States (en_US)) reads dates, month first; row 3 cannot be read that way and is not sent. To fix: "
                     "select the column, choose Format > Number > Date, and type those dates again so the sheet turns "
                     "them into real dates (check how it shows them).")
    assert in_language(mixed, "he").replace(LRM, "") == (
        "בעמודה \"Birthday\" (E) יש גם תאריכים אמיתיים (שורות 2, 4) וגם תאריכים שהוקלדו כטקסט (שורה 3, למשל "
        "'15/04/1985' בשורה 3). המחבר קורא את תאריכי הטקסט כמו שהאזור של הגיליון (United States (en_US)) קורא "
        "תאריכים, בסדר חודש/יום/שנה; את שורה 3 אי אפשר לקרוא כך והיא לא נשלחת. לתיקון: סמנו את העמודה, בחרו "
        "עיצוב > מספר > תאריך, והקלידו שוב את התאריכים האלה כדי שהגיליון יהפוך אותם לתאריכים אמיתיים (בדקו איך "
        "הם מוצגים).")
    he = in_language(disagree, "he").replace(LRM, "")
    assert he.startswith("עמודה \"Birthday\" (E): האזור של הגיליון הזה הוא United States (en_US), והוא קורא תאריך "
                         "מוקלד בסדר חודש/יום/שנה (03/04/1985 הוא 4 במרץ 1985)")
    assert "בשורה 2 יש תאריך שאפשר לקרוא בשני הכיוונים" in he and "כתבו במיפוי date_format: mm/dd/yyyy." in he
    assert disagree.startswith("'Birthday' (column E): this spreadsheet's locale is United States (en_US), which "
                               "reads a typed date month first (03/04/1985 is 4 March 1985)")


# -- counts in Hebrew: the form for one, and for any other number ----------------------------------
def test_a_count_of_one_reads_as_one_in_hebrew_and_english_stays_as_it_was():
    from sheets_connector import messages
    from sheets_connector.messages.catalog import fill, said

    assert fill("{n:שורה אחת|# שורות}", n=1) == "שורה אחת" and fill("{n:שורה אחת|# שורות}", n=2) == "2 שורות"
    assert fill("{n:שורה אחת|# שורות}", n=0) == "0 שורות"
    one = said("run.stopped_send", sent=1, total=1, left=0)
    assert one == ("Stopped by you: 1 of 1 rows were sent and have their result; the other 0 say 'not sent'. "
                   "Run the sync again to send them.")
    assert render(one.message, "he") == ("נעצר על ידיכם: 1 מתוך שורה אחת נשלחה וקיבלה תוצאה; ב-0 האחרות כתוב "
                                         "'לא נשלח'. הריצו את הסנכרון שוב כדי לשלוח אותן.")
    assert render(msg("run.stopped_send", sent=2, total=3, left=1), "he") == (
        "נעצר על ידיכם: 2 מתוך 3 שורות נשלחו וקיבלו תוצאה; בשורה האחרת כתוב 'לא נשלח'. הריצו את הסנכרון שוב "
        "כדי לשלוח אותה.")
    assert render(msg("run.recovered", n=1), "he") == ("שורה אחת קיבלה תשובה מ-inwise בהרצה קודמת שנעצרה לפני "
                                                       "השמירה; התוצאה שלה נכתבה עכשיו, בלי לשלוח אותה שוב.")
    assert render(msg("check.rows", n=1, ready=1, held="", no_consent="", problems=0), "he") == (
        "שורה אחת עם נתונים: אחת מוכנה לשליחה, 0 דורשות טיפול.")
    assert render(msg("check.rows", n=1, ready=1, held="", no_consent="", problems=0), "en") == (
        "1 rows with data: 1 ready to send, 0 need attention.")
    assert render(msg("inwise.batch_unconfirmed", n=1), "he").startswith(
        "inwise דיווחה על שורה אחת שנכשלה בקבוצת השליחה הזו, ובשליחה בקבוצות אי אפשר לדעת איזו;")
    assert messages.calls_in_words({"POST /contacts": 1, "GET /contacts": 1}, "he") == (
        "איש קשר אחד נשלח, אנשי קשר חדשים נקראו פעם אחת")
    assert messages.calls_in_words({"POST /contacts/batchInsert": 1}, "he") == "קבוצה אחת של אנשי קשר"
    assert messages.calls_in_words({"POST /contacts": 1, "GET /contacts": 2}, "en") == (
        "1 contacts sent one by one, new contacts read 2 times")
    assert messages.summary_text("new_contacts", "he", pulled=1, added=0) == (
        "אנשי קשר חדשים מ-inwise: אחד נמשך, 0 נוספו לגיליון")
    assert messages.summary_text("csv_written", "he", n=1, path="x.csv") == "השורה שדורשת טיפול: x.csv"
    assert messages.summary_text("csv_written", "he", n=4, path="x.csv") == "כל 4 השורות שדורשות טיפול: x.csv"
    assert render(msg("run.retries", n=1), "he") == " (+ניסיון חוזר אחד)"


def test_every_hebrew_count_of_rows_or_contacts_has_a_form_for_one():
    """A Hebrew text that puts a count right before a plural noun must give the form for one."""
    from sheets_connector import messages

    plural_nouns = ("שורות", "אנשי קשר", "תשובות", "תוצאות", "קבוצות", "ניסיונות")
    for key, text in {**HE, **messages.SUMMARY["he"], **messages.CALLS["he"]}.items():
        for name in placeholders(text):
            for noun in plural_nouns:
                assert f"{{{name}}} {noun}" not in text, f"{key}: {{{name}}} {noun}"


# -- what init says about its guesses, in the header row's language -----------------------------
def test_inits_reasons_for_a_country_and_its_notes_on_cells_in_hebrew_and_english():
    from sheets_connector.init_country import guess_country
    from sheets_connector.init_mapping import recognise
    from sheets_connector.messages.catalog import in_language

    il = guess_country(["054-1111111", "050-6666666", "052-1234567", "+44 7911 123456"], "נייד")
    assert il.reason == ("3 of the 4 numbers in 'נייד' are Israeli mobile numbers written without the country code "
                         "(like 054-1111111)")
    assert in_language(il.reason, "he") == (f"3 מתוך 4 המספרים ב-'נייד' הם מספרי נייד של ישראל שנכתבו בלי קידומת "
                                            f"המדינה (למשל {LRM}054-1111111{LRM})")
    few = guess_country(["054-1111111", "050-6666666", "hello", "abc", "12"], "Phone")
    assert few.region is None and few.reason == ("only 2 of the 5 numbers in 'Phone' are Israeli mobile numbers (like "
                                                 "054-1111111), not a clear majority, so no country was chosen")
    assert in_language(few.reason, "he") == (f"רק 2 מתוך 5 המספרים ב-'{LRM}Phone{LRM}' הם מספרי נייד של ישראל (למשל "
                                             f"{LRM}054-1111111{LRM}), ואין כאן רוב ברור, ולכן לא נבחרה מדינה")
    from sheets_connector.messages.catalog import CountryWords

    close = msg("init.r_close", n=6, total=10, header="Phone", words=CountryWords("US"), other_n=4,
                other=CountryWords("AT"))
    assert render(close, "en") == ("6 of the 10 numbers in 'Phone' are North American (US/Canada) mobile numbers, but "
                                   "4 are Austrian, so no country was chosen")
    assert render(close, "he") == (f"6 מתוך 10 המספרים ב-'{LRM}Phone{LRM}' הם מספרי נייד של צפון אמריקה (ארה״ב/קנדה), "
                                   "אבל 4 שייכים לאוסטריה, ולכן לא נבחרה מדינה")
    none = guess_country(["hello"], "נייד")
    assert none.reason == ("none of the 1 numbers in 'נייד' is a mobile number of any country, so no country was "
                           "chosen: check the column (is it the mobile column?)")
    assert in_language(none.reason, "he") == ("אף אחד מהמספרים ב-'נייד' (מספר אחד) אינו מספר נייד של מדינה כלשהי, "
                                              "ולכן לא נבחרה מדינה: בדקו את העמודה (האם זו עמודת הנייד?)")
    intl = guess_country(["+44 7911 123456", "+44 7912 345678", "+44 7400 123456"], "נייד")
    assert in_language(intl.reason, "he") == (f"המספרים ב-'נייד' כתובים עם קידומת המדינה; הנפוצה ביותר היא "
                                              f"{LRM}+44{LRM} (3 מתוך 3)")
    p = recognise(["אימייל", "הערות"], [["1/2/2020", "x@example.com"], ["3/4/2021", "y@example.com"],
                                          ["5/6/2022", "z@example.com"]])
    assert p.warnings == ["column A 'אימייל' is headed like the email column, but only 0 of its first 3 filled cells "
                          "are email addresses (others hold things like '1/2/2020'), so it is not used as the email"]
    assert in_language(p.warnings[0], "he") == (
        f"לעמודה {LRM}A{LRM} 'אימייל' יש כותרת של עמודת האימייל, אבל רק 0 מתוך 3 התאים המלאים הראשונים שלה הם "
        f"כתובות אימייל (באחרים יש דברים כמו '{LRM}1/2/2020{LRM}'), ולכן היא לא משמשת כעמודת האימייל")
    found = p.columns["email"]
    assert found.how == "3 of its first 3 filled cells are email addresses"
    assert in_language(found.how, "he") == "3 מתוך 3 התאים המלאים הראשונים שלה הם כתובות אימייל"


def test_the_tables_notes_in_hebrew():
    from sheets_connector.messages.catalog import said

    moved = said("cols.gsheet_rows_moved", n=1)
    assert moved == ("Rows were moved in the sheet while the results were written: 1 result cell(s) landed on the "
                     "wrong row for a moment and were put right.")
    assert render(moved.message, "he") == "שורות הוזזו בגיליון בזמן שהתוצאות נכתבו: תא תוצאה אחד נכתב לרגע בשורה הלא נכונה ותוקן."
    assert render(msg("cols.gsheet_rows_moved", n=3), "he") == ("שורות הוזזו בגיליון בזמן שהתוצאות נכתבו: 3 תאי "
                                                                "תוצאות נכתבו לרגע בשורה הלא נכונה ותוקנו.")


def test_where_the_rows_are_is_named_in_hebrew_words_and_the_names_as_typed():
    from sheets_connector.messages.catalog import Place, place_text

    assert place_text("contacts.xlsx, sheet 'Contacts'", "en") == "contacts.xlsx, sheet 'Contacts'"
    assert place_text("לקוחות.xlsx, sheet 'אנשי קשר'", "he") == "לקוחות.xlsx, לשונית 'אנשי קשר'"
    assert place_text("contacts.xlsx, sheet 'Contacts'", "he") == f"{LRM}contacts.xlsx{LRM}, לשונית '{LRM}Contacts{LRM}'"
    assert place_text("Google Sheet 'Members', tab 'גיליון1'", "he") == (
        f"{LRM}Google Sheet{LRM} {LRM}'Members'{LRM}, לשונית 'גיליון1'")
    assert place_text("Google Sheet 1AbC", "he") == f"{LRM}Google Sheet{LRM} {LRM}1AbC{LRM}"
    assert place_text("contacts.xlsx", "he") == f"{LRM}contacts.xlsx{LRM}"
    m = msg("run.not_saved", location=Place("c.xlsx, sheet 'S'"), error="E")
    assert render(m, "en") == "The results could not be saved into c.xlsx, sheet 'S' (E)."
    assert from_json(to_json(m)) == m and render(from_json(to_json(m)), "he").startswith(
        f"לא ניתן היה לשמור את התוצאות ב-{LRM}c.xlsx{LRM}, לשונית '{LRM}S{LRM}'")


def test_every_missing_column_at_once_in_hebrew_and_english():
    from sheets_connector.errors import ConfigError
    from sheets_connector.messages.catalog import error_words, in_language

    cfg = parse_config("source: {type: xlsx, path: x.xlsx}\ncolumns: {email: Mail, mobile: Cell, fields: {1: Name}}\n"
                       "language: he\n", where="m.yaml")
    with pytest.raises(ConfigError) as e:
        ContactMapper(cfg, ["שם", "Email", "Mobile"], "x.xlsx, sheet 'S'")
    english = str(e.value)
    assert english.startswith("x.xlsx, sheet 'S': 3 columns of the mapping are not in the sheet:\n  - there is no column "
                              "'Mail' for email. Did you mean 'Email'? Fix the header in the sheet or the name in "
                              "m.yaml, line 2 (columns.email).\n  - there is no column 'Cell' for mobile.")
    assert "\n  - there is no column 'Name' for personal field 1 (first name)." in english
    assert english.endswith("\n  The header row has: 'שם', 'Email', 'Mobile'")
    he = in_language(error_words(e.value), "he").replace(LRM, "")
    assert he.startswith("x.xlsx, לשונית 'S': 3 עמודות של המיפוי לא נמצאות בגיליון:\n  - אין עמודה 'Mail' עבור אימייל. "
                         "האם התכוונתם ל-'Email'? תקנו את הכותרת בגיליון או את השם ב-m.yaml, שורה 2 (columns.email).\n"
                         "  - אין עמודה 'Cell' עבור נייד."), he
    assert "\n  - אין עמודה 'Name' עבור שדה אישי 1 (שם פרטי)." in he
    assert he.endswith("\n  בשורת הכותרות יש: 'שם', 'Email', 'Mobile'")


def test_another_run_holding_the_sheet_in_hebrew_and_english():
    from sheets_connector.messages.catalog import in_language
    from sheets_connector.state.model import Holder
    from sheets_connector.sync.session import busy_message

    holder = Holder(name="w", run_id=4, process="1234:abc", host="pc1", label="c", since="2019-03-04T08:00:00",
                    heartbeat=0.0)
    m = busy_message("c.xlsx, sheet 'אנשי קשר'", holder, "sync")
    assert m == ("Another sync of c.xlsx, sheet 'אנשי קשר' is running (run #4, started 2019-03-04 08:00:00, process "
                 "1234 on pc1). Only one run at a time may write a workbook. Wait for it to finish (see: "
                 "sheets-connector runs), or run again with --wait to start as soon as it ends.")
    assert in_language(m, "he").replace(LRM, "") == (
        "הרצה אחרת (sync) של c.xlsx, לשונית 'אנשי קשר' פועלת עכשיו (הרצה #4, התחילה ב-2019-03-04 08:00:00, תהליך 1234 "
        "במחשב pc1). רק הרצה אחת בכל פעם יכולה לכתוב לחוברת העבודה. חכו שהיא תסתיים (ראו: sheets-connector runs), "
        "או הריצו שוב עם --wait כדי להתחיל ברגע שהיא תסתיים.")
