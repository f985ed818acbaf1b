"""Errors in the mapping file itself, by language: YAML that does not parse, a wrong key, a value
of the wrong kind.  They are raised while the mapping is read, before its ``language`` is known
to the run: ``messages.language.language_in_text`` finds it in the file's text (a ``language:``
line, else Hebrew column names), and the error is said in it; a file that cannot be read at all
is said in English.  The English texts are the ones always printed.  The checks written in
``config.py`` (``cfg.*``: a group ID, a schedule without a time zone, ...) raise their sentence
as a ``catalog.Said``, so it is said in the file's language too; keys and values as typed stay
left-to-right inside the Hebrew (``_k``).
"""
from __future__ import annotations

_LRM = "\u200e"


def _k(text: str) -> str:
    """A key or setting as typed (``mode: upsert``), kept left-to-right inside Hebrew words."""
    return f"{_LRM}{text}{_LRM}"


# as normalize.dates words them (a mapping's date_format that cannot be read)
_DATE_EXAMPLES = 'for example "dd/mm/yyyy", "yyyy-mm-dd", "mm/dd/yyyy", "dd.mm.yy" or "dd/mm/yyyy hh:mm"'
_DATE_EXAMPLES_HE = ("למשל " + _k('"dd/mm/yyyy"') + ", " + _k('"yyyy-mm-dd"') + ", " + _k('"mm/dd/yyyy"') + ", "
                     + _k('"dd.mm.yy"') + " או " + _k('"dd/mm/yyyy hh:mm"'))

MAPPING: dict[str, dict[str, str]] = {
    "en": {
        "map.backslash": "{where}{at_line}: a backslash inside double quotes ({problem}). For a Windows path, use single "
                         "quotes or none: path: 'C:\\Users\\dana\\Contacts.xlsx'.",
        "map.not_yaml": "{where}{at_line}: this is not valid YAML ({problem}). Check the indentation and the colons on "
                        "that line.",
        "map.at_line": ", line {line}",
        "map.not_keys": "{where}: the mapping must be a set of keys (source:, columns:, ...); `sheets-connector init "
                        "YOUR-WORKBOOK.xlsx` writes one.",
        "map.problems": "The mapping has a problem:\n  {problems}",
        "map.problem": "{at}: {key}: {text}",
        "map.where_line": "{where}, line {line}",
        "map.top_level": "(top level)",
        "map.missing": "is required but missing",
        "map.one_of": "must be {expected} (got {got})",
        "map.whole": "must be a whole number (got {got})",
        "map.yes_no": "must be true or false (got {got})",
        "map.number": "must be a number (got {got})",
        "map.number_not_name": "{value} is read as a number, but a name is needed here: write it in quotes, like "
                               "'{value}' (a tab or a column is chosen by its name, as shown in the sheet, not by its "
                               "position)",
        "map.bool_not_name": "yes/no/true/false is read as a yes-or-no answer, but a name is needed here: write it in "
                             "quotes, like '{word}'",
        "map.text": "must be text (got {got})",
        "map.keys": "must be a mapping of keys to values (got {got})",
        "map.list": "must be a list (got {got})",
        "map.type_one_of": "type must be one of: {types} (got {got})",
        "map.needs_type": "needs a 'type' (one of: {types})",
        "map.unknown_key": "unknown key {key}",
        "map.did_you_mean": "; did you mean {hint}?",
        "map.allowed": " (allowed here: {allowed})",
        "map.or": "{first} or {last}",
        "map.ge": "input should be greater than or equal to {limit}",
        "map.le": "input should be less than or equal to {limit}",
        "map.gt": "input should be greater than {limit}",
        "map.lt": "input should be less than {limit}",
        "cfg.country": 'unknown country {value}: give a two-letter country code such as "IL", "US", "GB" or a '
                       'calling code such as "972", "+1", "44"',
        "cfg.date_empty": "empty date format: write one, " + _DATE_EXAMPLES,
        "cfg.date_token": 'date format {value} not understood (at {at}): use dd, mm, yyyy or yy with / . - between '
                          "them, " + _DATE_EXAMPLES,
        "cfg.date_parts": 'date format {value} has no day, month or year in it: ' + _DATE_EXAMPLES,
        "cfg.date_code": 'date format {value} uses "{code}", which is not a portable date code: use %d %m %Y %y %b '
                         "%B %a %A %j %H %I %M %S %p, " + _DATE_EXAMPLES,
        "cfg.date_no_date": 'date format {value} does not show a date: ' + _DATE_EXAMPLES,
        "cfg.field_number": "personal field numbers start at 1 (got {got})",
        "cfg.need_key": "map at least one of 'email' or 'mobile': inwise identifies contacts by them",
        "cfg.range": "{item} is not a number range: write + and its first digits, like '+9725'",
        "cfg.url": "must start with https:// (got {got})",
        "cfg.env_name": "must be the NAME of an environment variable (like INWISE_API_KEY), not the key itself",
        "cfg.attribute": "unknown contact attribute {attr}{hint}; use one of {allowed} or field<N>",
        "cfg.attribute_hint": " (did you mean {hint}?)",
        "cfg.one_secret": "give exactly one of service.secret_env or service.secret_file",
        "cfg.cron": "{value} is not a cron expression (five fields: minute hour day month weekday)",
        "cfg.zone": "unknown time zone {value} (use a name like Asia/Jerusalem or Europe/London)",
        "cfg.schedule_zone": "schedule needs a timezone (e.g. timezone: Asia/Jerusalem) so the hours mean your hours",
        "cfg.group_id": "group {name}: an inwise group ID is a positive number (got {got})",
        "cfg.group_empty": "a group name is empty",
        "cfg.group_twice": "groups {first} and {second} are the same name (case and spaces are ignored)",
        "cfg.groups_mode": "columns.groups.mode: {mode} needs mode: upsert - batchInsert can add contacts to a group "
                           "but not remove them from one; use mode: add, or inwise.mode: upsert",
        "cfg.consent_mode": "columns.consent.without_consent needs mode: upsert - batchInsert documents no "
                            "confirmation status, so a row without consent could arrive as confirmed; use skip, or "
                            "inwise.mode: upsert",
        "cfg.result_clash": "{setting} {header} is also one of your input columns; the connector writes into it, so "
                            "it would overwrite what you typed. Choose another header.",
        "cfg.batch_external_id": "batch mode cannot send external_id (batchInsert has no such column); use mode: "
                                 "upsert or drop columns.external_id",
    },
    "he": {
        "map.backslash": "{where}{at_line}: לוכסן הפוך בתוך מירכאות כפולות ({problem}). בנתיב של Windows השתמשו "
                         f"במירכאות בודדות או בלי מירכאות: {_LRM}path: 'C:\\Users\\dana\\Contacts.xlsx'{_LRM}.",
        "map.not_yaml": "{where}{at_line}: זה לא YAML תקין ({problem}). בדקו את ההזחה ואת הנקודתיים בשורה הזו.",
        "map.at_line": ", שורה {line}",
        "map.not_keys": "{where}: המיפוי צריך להיות אוסף של מפתחות (source:, columns:, ...); "
                        f"{_LRM}`sheets-connector init YOUR-WORKBOOK.xlsx`{_LRM} כותב אחד כזה.",
        "map.problems": "יש בעיה במיפוי:\n  {problems}",
        "map.problem": "{at}: {key}: {text}",
        "map.where_line": "{where}, שורה {line}",
        "map.top_level": "(הרמה העליונה)",
        "map.missing": "חובה, אבל חסר",
        "map.one_of": "צריך להיות {expected} (כתוב {got})",
        "map.whole": "צריך להיות מספר שלם (כתוב {got})",
        "map.yes_no": "צריך להיות true או false (כתוב {got})",
        "map.number": "צריך להיות מספר (כתוב {got})",
        "map.number_not_name": "{value} נקרא כמספר, אבל כאן צריך שם: כתבו אותו במירכאות, כמו '{value}' (לשונית או "
                               "עמודה נבחרות לפי השם שלהן, כפי שהוא מופיע בגיליון, לא לפי המיקום שלהן)",
        "map.bool_not_name": "yes/no/true/false נקרא כתשובת כן-או-לא, אבל כאן צריך שם: כתבו אותו במירכאות, כמו "
                             "'{word}'",
        "map.text": "צריך להיות טקסט (כתוב {got})",
        "map.keys": "צריך להיות אוסף של מפתחות וערכים (כתוב {got})",
        "map.list": "צריך להיות רשימה (כתוב {got})",
        "map.type_one_of": "הסוג (type) צריך להיות אחד מאלה: {types} (כתוב {got})",
        "map.needs_type": "חסר 'type' (אחד מאלה: {types})",
        "map.unknown_key": "מפתח לא מוכר {key}",
        "map.did_you_mean": "; האם התכוונתם ל-{hint}?",
        "map.allowed": " (מותר כאן: {allowed})",
        "map.or": "{first} או {last}",
        "map.ge": "צריך להיות {limit} או יותר",
        "map.le": "צריך להיות {limit} או פחות",
        "map.gt": "צריך להיות יותר מ-{limit}",
        "map.lt": "צריך להיות פחות מ-{limit}",
        "cfg.country": "מדינה לא מוכרת {value}: כתבו קוד מדינה בשתי אותיות, כמו "
                       + _k('"IL", "US", "GB"') + ", או קידומת חיוג, כמו " + _k('"972", "+1", "44"'),
        "cfg.date_empty": "תבנית התאריך ריקה: כתבו אחת, " + _DATE_EXAMPLES_HE,
        "cfg.date_token": "תבנית התאריך {value} לא מובנת (ב-{at}): כתבו dd, mm, yyyy או yy עם / . - ביניהם, "
                          + _DATE_EXAMPLES_HE,
        "cfg.date_parts": "בתבנית התאריך {value} אין יום, חודש או שנה: " + _DATE_EXAMPLES_HE,
        "cfg.date_code": "תבנית התאריך {value} משתמשת ב-{code}, שאינו קוד תאריך שעובד בכל מקום: כתבו "
                         + _k("%d %m %Y %y %b %B %a %A %j %H %I %M %S %p") + ", " + _DATE_EXAMPLES_HE,
        "cfg.date_no_date": "תבנית התאריך {value} לא מציגה תאריך: " + _DATE_EXAMPLES_HE,
        "cfg.field_number": "מספרי השדות האישיים מתחילים ב-1 (כתוב {got})",
        "cfg.need_key": f"מפו לפחות אחד מהשניים, {_k('email')} או {_k('mobile')}: inwise מזהה אנשי קשר לפיהם",
        "cfg.range": "{item} אינו טווח מספרים: כתבו + ואחריו הספרות הראשונות, כמו " + _k("'+9725'"),
        "cfg.url": "צריך להתחיל ב-https:// (כתוב {got})",
        "cfg.env_name": f"צריך להיות השם של משתנה סביבה (כמו {_k('INWISE_API_KEY')}), לא המפתח עצמו",
        "cfg.attribute": f"מאפיין איש קשר לא מוכר {{attr}}{{hint}}; השתמשו באחד מאלה: {{allowed}} או {_k('field<N>')}",
        "cfg.attribute_hint": " (האם התכוונתם ל-{hint}?)",
        "cfg.one_secret": f"כתבו בדיוק אחד מהשניים: {_k('service.secret_env')} או {_k('service.secret_file')}",
        "cfg.cron": "{value} אינו ביטוי cron (חמישה שדות: דקה שעה יום חודש יום-בשבוע)",
        "cfg.zone": f"אזור זמן לא מוכר {{value}} (כתבו שם כמו {_k('Asia/Jerusalem')} או {_k('Europe/London')})",
        "cfg.schedule_zone": f"ל-{_k('schedule')} צריך גם {_k('timezone')} (למשל {_k('timezone: Asia/Jerusalem')}), "
                             "כדי שהשעות יהיו השעות שלכם",
        "cfg.group_id": "הקבוצה {name}: מזהה קבוצה ב-inwise הוא מספר חיובי (כתוב {got})",
        "cfg.group_empty": "שם של קבוצה ריק",
        "cfg.group_twice": "הקבוצות {first} ו-{second} הן אותו שם (אין הבדל בין אותיות גדולות לקטנות, ורווחים לא "
                           "נחשבים)",
        "cfg.groups_mode": f"{_k('columns.groups.mode')}: {{mode}} דורש {_k('mode: upsert')} - batchInsert יכול "
                           "להוסיף אנשי קשר לקבוצה אבל לא להסיר אותם ממנה; כתבו "
                           f"{_k('mode: add')}, או {_k('inwise.mode: upsert')}",
        "cfg.consent_mode": f"{_k('columns.consent.without_consent')} דורש {_k('mode: upsert')} - batchInsert לא "
                            "מתעד סטטוס אישור, כך ששורה בלי הסכמה עלולה להגיע כמאושרת; כתבו "
                            f"{_k('skip')}, או {_k('inwise.mode: upsert')}",
        "cfg.result_clash": "{setting} {header} היא גם אחת מעמודות הקלט שלכם; המחבר כותב לתוכה, כך שהוא היה דורס את "
                            "מה שהקלדתם. בחרו כותרת אחרת.",
        "cfg.batch_external_id": f"במצב batch אי אפשר לשלוח {_k('external_id')} (ל-batchInsert אין עמודה כזו); "
                                 f"כתבו {_k('mode: upsert')} או הסירו את {_k('columns.external_id')}",
    },
}
