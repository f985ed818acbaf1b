"""Errors in the mapping file itself, by language: YAML that does not parse, a wrong key, a value
of the wrong kind.  They are raised while the mapping is read, before its ``language`` is known
to the run: ``messages.language.language_in_text`` finds it in the file's text (a ``language:``
line, else Hebrew column names), and the error is said in it; a file that cannot be read at all
is said in English.  The English texts are the ones always printed.  A validator's own sentence
(a check written in ``config.py``) is shown as it is, inside the Hebrew frame.
"""
from __future__ import annotations

_LRM = "\u200e"

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
    },
}
