"""Errors that end a command, by language: a mapping that does not fit the sheet or the file,
the inwise API key or address refused.  Raised as ``ConnectorError(said(...))``; the CLI and the
web service say them in the mapping's language (``catalog.error_words``).  The English texts are
the ones always printed.
"""
from __future__ import annotations

_LRM = "\u200e"  # a command or an address inside Hebrew text, kept left-to-right

ERRORS: dict[str, dict[str, str]] = {
    "en": {
        # the inwise API key and address (inwise/client.py, config.py)
        "err.no_key": "No inwise API key: the environment variable {env} is not set.\nSet it before running, e.g.  "
                      "export {env}=<your key>  (inwise: Settings > API). The key is never stored in the mapping file.",
        "err.key_refused": "inwise refused the API key ({status}): the key in {where} is not the REST API key of the "
                           "inwise account you sync to, or it was replaced. Copy it again in inwise (Settings > API, "
                           "the REST API key), put it in {where}, then run again. Nothing was sent.",
        "err.rest_off": "inwise does not let this account use its REST API ({status}). REST access is turned on by "
                        "inwise support: ask them to enable it for the account whose key is in {where}, then run again.",
        "err.key_env": "the environment variable {env}",
        "err.address": "The inwise address in the mapping is wrong: {url} is not inwise's API ({first} {words}), so no "
                       "contact was sent. The address should be {api}",
        "err.address_fix": "{message}: correct {where} (or delete that line: this address is the default), then run "
                           "again.",
        "err.base_url": "inwise.base_url in the mapping",
        "err.first_answer": "its first answer was",
        "err.first_answers": "its first {n} answers were",
        # the workbook, the tab and the columns the mapping names
        "err.no_workbook": "Cannot find the spreadsheet {path}.{folder}",
        "err.looked_for": "{written} (looked for {path})",
        "err.no_folder": " The folder {folder} does not exist either.",
        "err.folder_files": " The folder {folder} has these Excel files: {files}.",
        "err.folder_more": "{shown} and {n} more",
        "err.folder_empty": " The folder {folder} has no .xlsx files.",
        "err.fix_path": "{message} Fix the path in {at}.",
        "err.no_worksheet": "{file} has no sheet named '{wanted}'. Its sheets are: {listed}.{hint}",
        "err.did_you_mean_sheet": " Did you mean '{name}'?",
        "err.fix_worksheet": "{message} Fix the worksheet name in {at}.",
        "err.the_mapping": "the mapping file",
        "err.no_column": "there is no column {wanted!r} for {what}.{hint} Fix the header in the sheet or the name in "
                         "{setting}.",
        "err.did_you_mean": " Did you mean {guess!r}{why}?",
        "err.cells_hold": " (its cells hold them)",
        "err.column_twice": "the header {wanted!r} ({what}) appears {n} times (columns {cols}). Rename the extra columns "
                            "so each header is unique.",
        "err.what_email": "email",
        "err.what_mobile": "mobile",
        "err.what_external": "external id",
        "err.what_field": "personal field {n}{label}",
        "err.field_label": " ({name})",
        "err.missing_one": "{location}: {problem}\n  The header row has: {listing}",
        "err.missing_many": "{location}: {n} columns of the mapping are not in the sheet:\n{problems}\n  The header "
                            "row has: {listing}",
        "err.bullet": "  - {item}",
        "err.located": "{location}: {problem}",
        "err.header_empty": "(the header row is empty)",
        "err.nothing_sent": "{message} Nothing was sent to inwise.",
        "err.file_unchanged": "{message} Your file was not changed.",
        # the workbook is open in Excel or LibreOffice, or read-only (tables/office_locks.py)
        "lock.open_in": "{name} is open in {app}{by}; close it and run again. If it is not open anywhere, delete the "
                        "leftover lock file {lock} and run again.",
        "lock.by": " (by {user})",
        "lock.read_only": "This tool cannot write to {path}: the file is read-only or you are not allowed to change "
                          "it. Make it writable (Windows: right-click > Properties, untick 'Read-only'; macOS: Get Info "
                          "> Sharing & Permissions) and run again.",
        "lock.refused": "{name} is open in {who}: the computer refused to let this tool change it {when}. Close the "
                        "workbook everywhere it is open and run again.",
        "lock.who_excel": "Excel (by {user})",
        "lock.who_any": "Excel or another program (on this computer or, for a shared folder, another one)",
        "lock.when_saving": "when the results were to be saved",
        "lock.when_opening": "so the results could not be saved",
    },
    "he": {
        "err.no_key": "אין מפתח API של inwise: משתנה הסביבה {env} לא מוגדר.\nהגדירו אותו לפני ההרצה, למשל  "
                      f"{_LRM}export {{env}}=<your key>{_LRM}  (ב-inwise: הגדרות > API). המפתח אף פעם לא נשמר "
                      "בקובץ המיפוי.",
        "err.key_refused": "inwise סירבה למפתח ה-API ({status}): המפתח ב{where} אינו מפתח ה-REST API של חשבון "
                           "ה-inwise שאליו מסנכרנים, או שהוחלף. העתיקו אותו שוב ב-inwise (הגדרות > API, מפתח ה-REST "
                           "API), שימו אותו ב{where}, והריצו שוב. דבר לא נשלח.",
        "err.rest_off": "inwise לא מאפשרת לחשבון הזה להשתמש ב-REST API שלה ({status}). גישת REST מופעלת על ידי "
                        "התמיכה של inwise: בקשו מהם להפעיל אותה לחשבון שהמפתח שלו נמצא ב{where}, והריצו שוב.",
        "err.key_env": "משתנה הסביבה {env}",
        "err.address": "כתובת ה-inwise במיפוי שגויה: {url} אינה ה-API של inwise ({first} {words}), ולכן אף איש "
                       "קשר לא נשלח. הכתובת צריכה להיות {api}",
        "err.address_fix": "{message}: תקנו את {where} (או מחקו את השורה: הכתובת הזו היא ברירת המחדל), והריצו שוב.",
        "err.base_url": f"{_LRM}inwise.base_url{_LRM} במיפוי",
        "err.first_answer": "התשובה הראשונה שלה הייתה",
        "err.first_answers": "{n} התשובות הראשונות שלה היו",
        "err.no_workbook": "הקובץ {path} לא נמצא.{folder}",
        "err.looked_for": "{written} (חיפשנו את {path})",
        "err.no_folder": " גם התיקייה {folder} לא קיימת.",
        "err.folder_files": " בתיקייה {folder} יש את קובצי ה-Excel האלה: {files}.",
        "err.folder_more": "{shown} ועוד {n}",
        "err.folder_empty": " בתיקייה {folder} אין קובצי .xlsx.",
        "err.fix_path": "{message} תקנו את הנתיב ב-{at}.",
        "err.no_worksheet": "ב-{file} אין לשונית בשם '{wanted}'. הלשוניות בו הן: {listed}.{hint}",
        "err.did_you_mean_sheet": " האם התכוונתם ל-'{name}'?",
        "err.fix_worksheet": "{message} תקנו את שם הלשונית ב-{at}.",
        "err.the_mapping": "קובץ המיפוי",
        "err.no_column": "אין עמודה '{wanted}' עבור {what}.{hint} תקנו את הכותרת בגיליון או את השם ב-{setting}.",
        "err.did_you_mean": " האם התכוונתם ל-'{guess}'{why}?",
        "err.cells_hold": " (התאים שלה מכילים אותם)",
        "err.column_twice": "הכותרת '{wanted}' ({what}) מופיעה {n} פעמים (עמודות {cols}). שנו את שמות העמודות "
                            "הנוספות כך שכל כותרת תופיע פעם אחת.",
        "err.what_email": "אימייל",
        "err.what_mobile": "נייד",
        "err.what_external": "מזהה חיצוני",
        "err.what_field": "שדה אישי {n}{label}",
        "err.field_label": " ({name})",
        "err.missing_one": "{location}: {problem}\n  בשורת הכותרות יש: {listing}",
        "err.missing_many": "{location}: {n} עמודות של המיפוי לא נמצאות בגיליון:\n{problems}\n  בשורת הכותרות "
                            "יש: {listing}",
        "err.bullet": "  - {item}",
        "err.located": "{location}: {problem}",
        "err.header_empty": "(שורת הכותרות ריקה)",
        "err.nothing_sent": "{message} דבר לא נשלח ל-inwise.",
        "err.file_unchanged": "{message} הקובץ שלכם לא השתנה.",
        "lock.open_in": "{name} פתוח ב-{app}{by}; סגרו אותו והריצו שוב. אם הוא לא פתוח בשום מקום, מחקו את קובץ "
                        "הנעילה שנשאר {lock} והריצו שוב.",
        "lock.by": " (על ידי {user})",
        "lock.read_only": "הכלי הזה לא יכול לכתוב ל-{path}: הקובץ מוגדר לקריאה בלבד, או שאין לכם הרשאה לשנות אותו. "
                          "אפשרו כתיבה לקובץ (Windows: לחיצה ימנית > מאפיינים, בטלו את הסימון 'קריאה בלבד'; macOS: "
                          "הצג מידע > שיתוף והרשאות) והריצו שוב.",
        "lock.refused": "{name} פתוח ב-{who}: המחשב לא אפשר לכלי הזה לשנות אותו {when}. סגרו את חוברת העבודה בכל "
                        "מקום שבו היא פתוחה והריצו שוב.",
        "lock.who_excel": "Excel (על ידי {user})",
        "lock.who_any": "Excel או בתוכנה אחרת (במחשב הזה או, בתיקייה משותפת, במחשב אחר)",
        "lock.when_saving": "כשהתוצאות היו אמורות להישמר",
        "lock.when_opening": "ולכן לא ניתן היה לשמור את התוצאות",
    },
}
