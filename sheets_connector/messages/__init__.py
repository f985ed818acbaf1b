"""The words staff read in the sheet and the summary, in each language the mapping can choose.

One place for them, so a translation is one more column here: the results column's words and
header, the new-contacts tab's name and headers, the summary's labels, and how a date is shown.
Longer texts live beside this module, one table per area and language: ``rows.py`` (why a row
was not sent, what inwise said about it) and ``checks.py`` (what ``check`` prints); they are
messages with an id and values (``catalog.Msg``), rendered in the language where they are shown.
A mapping chooses with ``language: he`` or ``language: en`` (``init`` writes ``he`` for a Hebrew
header row).

Dates in the results are written with the month's name (``7 Dec 2026 02:31``, ``7 בדצמ׳ 2026
02:31``): ``12/07/2026`` is the 12th of July for one reader and the 7th of December for another.
Month names come from here, not from the machine's locale, so every machine writes the same.

Right-to-left text: a Hebrew cell that mixes words with numbers, ``#123`` or a date is shown in a
jumbled order by Excel and Google Sheets unless direction marks say where each part belongs;
:func:`rtl` puts a right-to-left mark (U+200F) at the start and around each separator.  The
connector's own readers remove these marks (``normalize.clean_text``), so they never reach inwise.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from .catalog import Country, Msg, fill, from_json, msg, plain, render, to_json

__all__ = ["Country", "Msg", "from_json", "msg", "plain", "render", "to_json"]

Language = Literal["en", "he"]
LANGUAGES: tuple[Language, ...] = ("en", "he")
RLM = "\u200f"
SEPARATOR = " · "

# The results column: "✓ created · #123 · 7 Dec 2026 02:31".
RESULT_WORDS: dict[str, dict[str, str]] = {
    "en": {"created": "created", "updated": "updated", "updated?": "updated?", "sent": "sent", "synced": "synced"},
    "he": {"created": "נוצר", "updated": "עודכן", "updated?": "עודכן?", "sent": "נשלח", "synced": "סונכרן"},
}

# Headers the connector writes when the mapping does not name them.
HEADERS: dict[str, dict[str, str]] = {
    "en": {"results": "Sync result", "new_contacts_tab": "New contacts", "id": "inwise ID", "email": "Email",
           "mobile_number": "Mobile", "created_date": "Created", "confirmation_status": "Confirmation status",
           "external_id": "External ID", "field": "Field {n}"},
    "he": {"results": "תוצאת סנכרון", "new_contacts_tab": "אנשי קשר חדשים", "id": "מזהה inwise", "email": "אימייל",
           "mobile_number": "נייד", "created_date": "נוצר בתאריך", "confirmation_status": "סטטוס אישור",
           "external_id": "מזהה חיצוני", "field": "שדה {n}"},
}

# The summary printed after a run (the CLI) and returned to the sheet menu.
SUMMARY: dict[str, dict[str, str]] = {
    "en": {"created": "✓ created", "updated": "✓ updated", "conflict": "✗ conflict", "invalid": "✗ invalid",
           "missing": "✗ no email or mobile", "duplicate": "✗ duplicate", "error": "✗ error",
           "held": "held back (do not sync)", "no_consent": "not sent: no consent",
           "unchanged": "= unchanged (not sent)", "would_send": "→ would send", "rows_read": "rows read",
           "outcome": "outcome", "rows": "rows",
           "synced": "Synced", "checked": "Checked (dry run, nothing sent or written)",
           "pulled": "Pulled new contacts for", "attention": "Rows that need attention ({n}):",
           "sent_to_inwise": "sent to inwise: {calls}",
           "new_contacts": "New contacts from inwise: {pulled} pulled, {added} added to the sheet",
           "written_to": "Results written to: {path}",
           "run": "Run #{run} - to see it again: sheets-connector runs show {run} --config {mapping}",
           "more_dry": "… and {n} more: run `sync --dry-run --csv FILE.csv` to list them all in a file "
                       "(nothing was written to the sheet)",
           "more": "… and {n} more: each one's reason is in the sheet's results column",
           "how_upsert": "one contact at a time", "how_batch": "in batches",
           "problem_row": "row {row}: ✗ {reason}",
           "csv_row": "Row", "csv_outcome": "Outcome", "csv_what": "What to do",
           "csv_written": "Rows that need attention, all {n} of them: {path}",
           "history_attention": "rows that need attention ({n}):",
           "history_more": "… and {n} more: each one's reason is in the sheet's results column ({listed})",
           "history_lists_all": "`runs show {run} --json` lists all {n}",
           "history_lists_kept": "`runs show {run} --json` lists the {n} kept"},
    "he": {"created": "✓ נוצר", "updated": "✓ עודכן", "conflict": "✗ התנגשות", "invalid": "✗ לא תקין",
           "missing": "✗ אין אימייל או נייד", "duplicate": "✗ כפול", "error": "✗ שגיאה",
           "held": "לא נשלח (לא לסנכרן)", "no_consent": "לא נשלח: אין הסכמה",
           "unchanged": "= ללא שינוי (לא נשלח)", "would_send": "→ יישלח", "rows_read": "שורות שנקראו",
           "outcome": "תוצאה", "rows": "שורות",
           "synced": "סונכרן", "checked": "נבדק (הרצת ניסיון, דבר לא נשלח או נכתב)",
           "pulled": "אנשי קשר חדשים נמשכו עבור", "attention": "שורות שדורשות טיפול ({n}):",
           "sent_to_inwise": "נשלח ל-inwise: {calls}",
           "new_contacts": "אנשי קשר חדשים מ-inwise: {pulled:אחד נמשך|# נמשכו}, {added:אחד נוסף|# נוספו} לגיליון",
           "written_to": "התוצאות נכתבו אל: {path}",
           "run": "הרצה #{run} - לצפייה חוזרת: sheets-connector runs show {run} --config {mapping}",
           "more_dry": "… ועוד {n}: הריצו `sync --dry-run --csv FILE.csv` כדי לקבל את כולן בקובץ "
                       "(דבר לא נכתב לגיליון)",
           "more": "… ועוד {n}: הסיבה של כל אחת כתובה בעמודת התוצאות בגיליון",
           "how_upsert": "איש קשר אחד בכל פעם", "how_batch": "בקבוצות",
           "problem_row": "שורה {row}: ✗ {reason}",
           "csv_row": "שורה", "csv_outcome": "תוצאה", "csv_what": "מה לעשות",
           "csv_written": "{n:השורה שדורשת|כל # השורות שדורשות} טיפול: {path}",
           "history_attention": "שורות שדורשות טיפול ({n}):",
           "history_more": "… ועוד {n}: הסיבה של כל אחת כתובה בעמודת התוצאות בגיליון ({listed})",
           "history_lists_all": "`runs show {run} --json` מציג {n:אותה|את כל #}",
           "history_lists_kept": "`runs show {run} --json` מציג את {n:השורה שנשמרה|# השורות שנשמרו}"},
}

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "he": ("בינו׳", "בפבר׳", "במרץ", "באפר׳", "במאי", "ביוני", "ביולי", "באוג׳", "בספט׳", "באוק׳", "בנוב׳", "בדצמ׳"),
}


def language_of(language: str | None) -> Language:
    return "he" if language == "he" else "en"


def word(key: str, language: str | None = "en") -> str:
    return RESULT_WORDS[language_of(language)][key]


def header(key: str, language: str | None = "en") -> str:
    return HEADERS[language_of(language)][key]


def summary_text(key: str, language: str | None = "en", **values: object) -> str:
    return fill(SUMMARY[language_of(language)][key], **values)


# inwise requests in words: what each one did for the staff.
CALLS: dict[str, dict[str, str]] = {
    "en": {"POST /contacts": "{n} contacts sent one by one", "POST /contacts/batchInsert": "{n} batches of contacts",
           "GET /contacts": "new contacts read {n} times", "once": "new contacts read once", "other": "{n} × {call}"},
    "he": {"POST /contacts": "{n:איש קשר אחד נשלח|# אנשי קשר נשלחו אחד אחד}",
           "POST /contacts/batchInsert": "{n:קבוצה אחת של אנשי קשר|# קבוצות של אנשי קשר}",
           "GET /contacts": "אנשי קשר חדשים נקראו {n} פעמים", "once": "אנשי קשר חדשים נקראו פעם אחת",
           "other": "{n} × {call}"},
}


def calls_in_words(calls: dict[str, int], language: str | None = "en") -> str:
    words = CALLS[language_of(language)]
    calls = dict(calls)
    parts = []
    for call in ("POST /contacts", "POST /contacts/batchInsert", "GET /contacts", *sorted(calls)):
        n = calls.pop(call, 0) if call in calls else 0
        if not n:
            continue
        if call == "GET /contacts" and n == 1:
            parts.append(words["once"])
        else:
            parts.append(fill(words.get(call, words["other"]), n=n, call=call))
    return ", ".join(parts)


def format_time(when: datetime, language: str | None = "en") -> str:
    """``7 Dec 2026 02:31`` / ``7 בדצמ׳ 2026 02:31``: the same on every machine, read one way only."""
    month = MONTHS[language_of(language)][when.month - 1]
    return f"{when.day} {month} {when.year} {when.hour:02d}:{when.minute:02d}"


def rtl(text: str, language: str | None) -> str:
    """Hebrew text with numbers and Latin parts kept in reading order (see the module docstring)."""
    if language_of(language) != "he" or not has_hebrew(text):
        return text  # an English reason stays left-to-right
    return RLM + text.replace(SEPARATOR, f"{RLM}{SEPARATOR}{RLM}")


def has_hebrew(text: str) -> bool:
    return any("\u0590" <= ch <= "\u05ff" for ch in text)


# "✓ created · #123 · 7 Dec 2026 02:31" in any language: which words mean created, and the parts.
_CREATED = "|".join(re.escape(RESULT_WORDS[lang]["created"]) for lang in LANGUAGES)
CREATED_STATUS = re.compile(rf"^✓ (?:{_CREATED})(?: · #(\d+))? · (.+)$")


def created_in_cell(text: object) -> tuple[int | None, str] | None:
    """(contact id, the creation date as written) when a results cell says the sync created the
    contact, in any language; None otherwise."""
    if not isinstance(text, str):
        return None
    plain = text.replace(RLM, "").strip()
    m = CREATED_STATUS.match(plain)
    if m is None:
        return None
    return (int(m.group(1)) if m.group(1) else None), m.group(2).split(SEPARATOR)[0].strip()
