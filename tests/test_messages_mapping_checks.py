"""The mapping's own checks (written in ``config.py``: a group ID, a schedule without a time zone,
a cron line, a results column that is an input column, ...) and the choices a key allows are said
in the mapping's language, run through the real CLI (``check --config``). A Hebrew mapping reads
them in Hebrew with keys and values as typed kept left-to-right; an English one reads the words it
always printed (pinned here byte for byte)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from sheets_connector.cli import main

L = "\u200e"  # left-to-right mark around what was typed
SOURCE = "source: {type: xlsx, path: contacts.xlsx}\n"
COLUMNS = "columns: {email: אימייל, mobile: נייד}\n"

# (what the mapping adds, the line the problem is on in Hebrew / English, the Hebrew words, the English words)
CASES = {
    "group ID": (
        "groups: {VIP: 0}\n", "שורה 3", "line 3", f"{L}groups{L}: הקבוצה {L}'VIP'{L}: מזהה קבוצה ב-inwise הוא מספר חיובי (כתוב {L}0{L})",
        "groups: group 'VIP': an inwise group ID is a positive number (got 0)"),
    "same group twice": (
        "groups: {VIP: 1, vip: 2}\n", "שורה 3", "line 3",
        f"{L}groups{L}: הקבוצות {L}'VIP'{L} ו-{L}'vip'{L} הן אותו שם (אין הבדל בין אותיות גדולות לקטנות, ורווחים לא נחשבים)",
        "groups: groups 'VIP' and 'vip' are the same name (case and spaces are ignored)"),
    "schedule without a zone": (
        "schedule: '0 7 * * 0-4'\n", "שורה 3", "line 3",
        f"{L}schedule{L}: ל-{L}schedule{L} צריך גם {L}timezone{L} (למשל {L}timezone: Asia/Jerusalem{L}), כדי שהשעות "
        "יהיו השעות שלכם",
        "schedule: schedule needs a timezone (e.g. timezone: Asia/Jerusalem) so the hours mean your hours"),
    "not a cron line": (
        "schedule: every morning\ntimezone: Asia/Jerusalem\n", "שורה 3", "line 3",
        f"{L}schedule{L}: {L}'every morning'{L} אינו ביטוי cron (חמישה שדות: דקה שעה יום חודש יום-בשבוע)",
        "schedule: 'every morning' is not a cron expression (five fields: minute hour day month weekday)"),
    "unknown time zone": (
        "schedule: '0 7 * * *'\ntimezone: Jerusalem\n", "שורה 4", "line 4",
        f"{L}timezone{L}: אזור זמן לא מוכר {L}'Jerusalem'{L} (כתבו שם כמו {L}Asia/Jerusalem{L} או {L}Europe/London{L})",
        "timezone: unknown time zone 'Jerusalem' (use a name like Asia/Jerusalem or Europe/London)"),
    "results column is an input": (
        "results: {column: נייד}\n", "שורה 1", "line 1",
        f"(הרמה העליונה): {L}results.column{L} 'נייד' היא גם אחת מעמודות הקלט שלכם; המחבר כותב לתוכה, כך שהוא היה "
        "דורס את מה שהקלדתם. בחרו כותרת אחרת.",
        "(top level): results.column 'נייד' is also one of your input columns; the connector writes into it, so it "
        "would overwrite what you typed. Choose another header."),
    "unknown contact attribute": (
        "new_contacts: {columns: [id, emial]}\n", "שורה 3", "line 3",
        f"{L}new_contacts.columns{L}: מאפיין איש קשר לא מוכר {L}'emial'{L} (האם התכוונתם ל-{L}'email'{L}?); השתמשו "
        f"באחד מאלה: {L}id, email, mobile_number, created_date, confirmation_status, external_id{L} או {L}field<N>{L}",
        "new_contacts.columns: unknown contact attribute 'emial' (did you mean 'email'?); use one of id, email, "
        "mobile_number, created_date, confirmation_status, external_id or field<N>"),
    "number range": (
        "inwise: {mobile: {newer_ranges: ['9725']}}\n", "שורה 3", "line 3",
        f"{L}inwise.mobile.newer_ranges{L}: {L}'9725'{L} אינו טווח מספרים: כתבו + ואחריו הספרות הראשונות, כמו "
        f"{L}'+9725'{L}",
        "inwise.mobile.newer_ranges: '9725' is not a number range: write + and its first digits, like '+9725'"),
    "the key instead of its variable": (
        "inwise: {api_key_env: abc-123.xyz}\n", "שורה 3", "line 3",
        f"{L}inwise.api_key_env{L}: צריך להיות השם של משתנה סביבה (כמו {L}INWISE_API_KEY{L}), לא המפתח עצמו",
        "inwise.api_key_env: must be the NAME of an environment variable (like INWISE_API_KEY), not the key itself"),
    "a number too small": (
        "inwise: {batch_size: 0}\n", "שורה 3", "line 3", f"{L}inwise.batch_size{L}: צריך להיות {L}1{L} או יותר",
        "inwise.batch_size: input should be greater than or equal to 1"),
    "a number too large": (
        "inwise: {timeout_seconds: 900}\n", "שורה 3", "line 3", f"{L}inwise.timeout_seconds{L}: צריך להיות {L}600{L} או פחות",
        "inwise.timeout_seconds: input should be less than or equal to 600"),
    "a number that must be above a bound": (
        "inwise: {timeout_seconds: 0}\n", "שורה 3", "line 3", f"{L}inwise.timeout_seconds{L}: צריך להיות יותר מ-{L}0{L}",
        "inwise.timeout_seconds: input should be greater than 0"),
    "unknown country": (
        "inwise: {mobile: {default_country: Israel}}\n", "שורה 3", "line 3",
        f"{L}inwise.mobile.default_country{L}: מדינה לא מוכרת {L}\"Israel\"{L}: כתבו קוד מדינה בשתי אותיות, כמו "
        f'{L}"IL", "US", "GB"{L}, או קידומת חיוג, כמו {L}"972", "+1", "44"{L}',
        'inwise.mobile.default_country: unknown country "Israel": give a two-letter country code such as "IL", "US", '
        '"GB" or a calling code such as "972", "+1", "44"'),
    "a date format not understood": (
        "date_format: dd/qq/yyyy\n", "שורה 3", "line 3",
        f'{L}date_format{L}: תבנית התאריך {L}"dd/qq/yyyy"{L} לא מובנת (ב-{L}"q"{L}): כתבו dd, mm, yyyy או yy עם / . - '
        f'ביניהם, למשל {L}"dd/mm/yyyy"{L}, {L}"yyyy-mm-dd"{L}, {L}"mm/dd/yyyy"{L}, {L}"dd.mm.yy"{L} או '
        f'{L}"dd/mm/yyyy hh:mm"{L}',
        'date_format: date format "dd/qq/yyyy" not understood (at "q"): use dd, mm, yyyy or yy with / . - between them, '
        'for example "dd/mm/yyyy", "yyyy-mm-dd", "mm/dd/yyyy", "dd.mm.yy" or "dd/mm/yyyy hh:mm"'),
    "a time format with no date": (
        "results: {time_format: '%H:%M'}\n", "שורה 3", "line 3",
        f'{L}results.time_format{L}: תבנית התאריך {L}"%H:%M"{L} לא מציגה תאריך: למשל {L}"dd/mm/yyyy"{L}, '
        f'{L}"yyyy-mm-dd"{L}, {L}"mm/dd/yyyy"{L}, {L}"dd.mm.yy"{L} או {L}"dd/mm/yyyy hh:mm"{L}',
        'results.time_format: date format "%H:%M" does not show a date: for example "dd/mm/yyyy", "yyyy-mm-dd", '
        '"mm/dd/yyyy", "dd.mm.yy" or "dd/mm/yyyy hh:mm"'),
    "one of two choices": (
        "inwise: {mode: upsrt}\n", "שורה 3", "line 3",
        f"{L}inwise.mode{L}: צריך להיות {L}'upsert'{L} או {L}'batch'{L} (כתוב {L}'upsrt'{L})",
        "inwise.mode: must be 'upsert' or 'batch' (got 'upsrt')"),
}


def _stderr(tmp_path, text: str) -> str:
    p = tmp_path / "m.yaml"
    p.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["check", "--config", str(p)], env={"COLUMNS": "400"}, catch_exceptions=False)
    assert r.exit_code == 2, r.output
    return r.stderr.replace(str(p), "m.yaml")


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mapping_check_is_said_in_hebrew_for_a_hebrew_mapping_and_unchanged_in_english(tmp_path, case):
    extra, he_line, en_line, hebrew, english = CASES[case]
    assert _stderr(tmp_path, SOURCE + COLUMNS + extra + "language: he\n") == (
        f"שגיאה: יש בעיה במיפוי:\n  {L}m.yaml{L}, {he_line}: {hebrew}\n")
    assert _stderr(tmp_path, SOURCE + COLUMNS + extra + "language: en\n") == (
        f"Error: The mapping has a problem:\n  m.yaml, {en_line}: {english}\n")


def test_hebrew_column_names_alone_make_the_checks_hebrew(tmp_path):
    """No ``language:`` line: a mapping written for a Hebrew sheet is answered in Hebrew."""
    assert _stderr(tmp_path, SOURCE + COLUMNS + "groups: {לקוחות: -5}\n") == (
        f"שגיאה: יש בעיה במיפוי:\n  {L}m.yaml{L}, שורה 3: {L}groups{L}: הקבוצה 'לקוחות': מזהה קבוצה ב-inwise הוא "
        f"מספר חיובי (כתוב {L}-5{L})\n")


def test_batch_mode_checks_are_said_in_hebrew(tmp_path):
    batch = "inwise: {mode: batch}\nlanguage: he\n"
    assert _stderr(tmp_path, SOURCE + "columns: {email: אימייל, external_id: מזהה}\n" + batch) == (
        f"שגיאה: יש בעיה במיפוי:\n  {L}m.yaml{L}, שורה 1: (הרמה העליונה): במצב batch אי אפשר לשלוח {L}external_id{L} "
        f"(ל-batchInsert אין עמודה כזו); כתבו {L}mode: upsert{L} או הסירו את {L}columns.external_id{L}\n")
    groups = "columns: {email: אימייל, groups: {column: קבוצות, mode: exactly}}\n"
    assert _stderr(tmp_path, SOURCE + groups + batch) == (
        f"שגיאה: יש בעיה במיפוי:\n  {L}m.yaml{L}, שורה 1: (הרמה העליונה): {L}columns.groups.mode{L}: {L}exactly{L} "
        f"דורש {L}mode: upsert{L} - batchInsert יכול להוסיף אנשי קשר לקבוצה אבל לא להסיר אותם ממנה; כתבו "
        f"{L}mode: add{L}, או {L}inwise.mode: upsert{L}\n")


def test_three_choices_in_hebrew_keep_the_list_as_pydantic_writes_it_in_english(tmp_path):
    groups = "columns: {email: אימייל, groups: {column: קבוצות, mode: all}}\n"
    assert _stderr(tmp_path, SOURCE + groups + "language: he\n") == (
        f"שגיאה: יש בעיה במיפוי:\n  {L}m.yaml{L}, שורה 2: {L}columns.groups.mode{L}: צריך להיות "
        f"{L}'add', 'exactly'{L} או {L}'exactly_all'{L} (כתוב {L}'all'{L})\n")
    assert _stderr(tmp_path, SOURCE + groups + "language: en\n") == (
        "Error: The mapping has a problem:\n  m.yaml, line 2: columns.groups.mode: must be 'add', 'exactly' or "
        "'exactly_all' (got 'all')\n")
