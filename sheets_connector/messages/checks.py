"""What ``check`` prints, by language (filled by ``messages.render``, as ``rows.py``'s texts are).

The English texts are the ones ``check`` has always printed; a test keeps both languages' ids and
placeholders the same.
"""
from __future__ import annotations

_LRM = "\u200e"  # a mapping line inside Hebrew text, kept left-to-right

CHECK: dict[str, dict[str, str]] = {
    "en": {
        # data columns without a header the results columns go past (tables.result_columns)
        "cols.skipped_one": "In {location}, column {cells}{more} has no header but holds data, so it is left as it is "
                            "and the results go further right: {targets}.",
        "cols.skipped_many": "In {location}, columns {cells}{more} have no header but hold data, so they are left as "
                             "they are and the results go further right: {targets}.",
        "cols.more": " and {n} more",
        "cols.target": "'{title}' in column {letter}",
        "cols.pair": "{first}, {rest}",
        # where the results are but do not show (the run's summary)
        "cols.gsheet_hidden": "The column '{title}' is hidden in the sheet: the results are in it. Right-click the "
                              "column letters around it > Unhide columns to see them.",
        "cols.gsheet_merged": "Cells of the column '{title}' are merged, so the results of rows {rows}{more} are hidden "
                              "under the merge. Select the column and use Format > Merge cells > Unmerge to see them.",
        "cols.hidden_rows": "Rows {rows}{more} are hidden or filtered out in the sheet; their results were written too.",
        "cols.xlsx_shown": "The new '{title}' column went to column {letter} of sheet '{sheet}' of {file}, which was "
                           "hidden with the columns around it; it is shown now so you can see the results.",
        "cols.gsheet_header_moved": "The header of {location} is on row {row} now, not on row {was} as the mapping "
                                    "says (rows were inserted or deleted above it); the connector followed it. Set "
                                    "source.header_row: {row} in the mapping if it stays there.",
        "cols.gsheet_rows_moved": "Rows were moved in the sheet while the results were written: {n} result cell(s) "
                                  "landed on the wrong row for a moment and were put right.",
        "cols.xlsx_copy": "Saving the results into {file} would also change other things in it: {lost}. Your original "
                          "file was not changed; the results are in {copy}.{why}",
        "cols.xlsx_copy_why": " (It had to be saved the slower way, because {reason}.)",
        "cols.xlsx_hidden": "The '{title}' column (column {letter} of sheet '{sheet}' of {file}) is hidden, so the "
                            "results written there do not show: unhide the column to see them.",
        # a Google Sheet: who the connector is and what it sees (check.describe_source)
        "check.connects_as": "Connects as:    {account}",
        "check.spreadsheet": "Spreadsheet:    '{title}'  {url}",
        "check.shared": "Shared with it: yes, as an editor (the results can be written)",
        "check.tabs": "Tabs it sees:   {tabs}",
        "check.tab": "'{title}'",
        "check.tab_contacts": "'{title}' (the contacts)",
        "check.tab_new_contacts": "'{title}' (new contacts are added here)",
        "check.tab_missing": "                the tab '{title}' for new contacts does not exist yet: the first sync creates it",
        # the mapping against the header row
        "check.mapping_ok": "Mapping OK for {location} (header on row {row})",
        "check.col_inwise": "inwise",
        "check.col_column": "column",
        "check.col_header": "header",
        "check.role_email": "email",
        "check.role_mobile": "mobile",
        "check.role_external_id": "your own id (external_id)",
        "check.role_groups": "groups",
        "check.role_consent": "consent",
        "check.role_do_not_sync": "do not sync",
        "check.field": "{name} (personal field {n})",
        "check.field_1": "first name",
        "check.field_2": "last name",
        "check.field_21": "birthday",
        "check.field_unnamed": "personal field",
        "check.to_results": "→ results",
        "check.to_contact_id": "→ contact id",
        "check.to_synced_at": "→ synced at",
        "check.no_room": "(no room)",
        "check.new_column": "{header} (new column)",
        "check.warning": "Warning: {text}",
        "check.misfit": "Note: column {letter} '{header}' is mapped as the {what}, but only {good} of its first {cells} "
                        "filled cells are {plural}.",
        "check.misfit_elsewhere": "Note: column {letter} '{header}' is mapped as the {what}, but only {good} of its first "
                                  "{cells} filled cells are {plural}; they seem to be in the column '{other}'.",
        "check.what_email": "email",
        "check.what_mobile": "mobile",
        "check.plural_email": "email addresses",
        "check.plural_mobile": "usable mobile numbers",
        # the rows
        "check.rows": "{n} rows with data: {ready} ready to send{held}{no_consent}, {problems} need attention.",
        "check.rows_held": ", {n} held back",
        "check.rows_no_consent": ", {n} without consent (not sent)",
        "check.more": "… and {n} more: `sync --dry-run --csv FILE.csv` writes them all to a file Excel opens.",
        "check.preview": "First {n} of {total} contacts as they would be sent ({hint} shows what goes to inwise):",
        "check.preview_row": "row {row}: {contact}",
        "check.no_key": "Note: {env} is not set; sync will need it.",
        # a contact as it would be sent (contacts.describe_contact): labels only, the values are shown as sent
        "contact.field_n": "field {n}",
        "contact.external_id": "external id",
        "contact.groups": "groups",
        "contact.only_these": " (and no other group)",
        "contact.no_groups": "none",
        "contact.status": "status",
    },
    "he": {
        "cols.skipped_one": "ב-{location}, לעמודה {cells}{more} אין כותרת אבל יש בה נתונים, ולכן היא נשארת כמו שהיא "
                            "והתוצאות נכתבות בעמודות שאחריה: {targets}.",
        "cols.skipped_many": "ב-{location}, לעמודות {cells}{more} אין כותרת אבל יש בהן נתונים, ולכן הן נשארות כמו שהן "
                             "והתוצאות נכתבות בעמודות שאחריהן: {targets}.",
        "cols.more": " ועוד {n}",
        "cols.target": "'{title}' בעמודה {letter}",
        "cols.pair": "{first}, {rest}",
        "cols.gsheet_hidden": "העמודה '{title}' מוסתרת בגיליון: התוצאות נמצאות בה. לחצו לחיצה ימנית על אותיות "
                              "העמודות שלידה > ביטול הסתרת עמודות כדי לראות אותן.",
        "cols.gsheet_merged": "תאים בעמודה '{title}' ממוזגים, ולכן התוצאות של שורות {rows}{more} מוסתרות מתחת למיזוג. "
                              "סמנו את העמודה ובחרו עיצוב > מיזוג תאים > ביטול מיזוג כדי לראות אותן.",
        "cols.hidden_rows": "שורות {rows}{more} מוסתרות או מסוננות בגיליון; גם התוצאות שלהן נכתבו.",
        "cols.xlsx_shown": "העמודה החדשה '{title}' נכתבה לעמודה {letter} בגיליון '{sheet}' של {file}, שהייתה מוסתרת "
                           "יחד עם העמודות שלידה; עכשיו היא מוצגת כדי שתוכלו לראות את התוצאות.",
        "cols.gsheet_header_moved": "הכותרות של {location} נמצאות עכשיו בשורה {row}, לא בשורה {was} כמו שכתוב במיפוי "
                                    "(נוספו או נמחקו שורות מעליהן); המחבר מצא אותן שם. אם הן נשארות שם, כתבו במיפוי "
                                    f"{_LRM}source.header_row: {{row}}{_LRM}.",
        "cols.gsheet_rows_moved": "שורות הוזזו בגיליון בזמן שהתוצאות נכתבו: {n:תא תוצאה אחד נכתב|# תאי תוצאות נכתבו} "
                                  "לרגע בשורה הלא נכונה {n:ותוקן|ותוקנו}.",
        "cols.xlsx_copy": "שמירת התוצאות בקובץ {file} הייתה משנה בו גם דברים אחרים: {lost}. הקובץ המקורי שלכם לא "
                          "השתנה; התוצאות נמצאות בקובץ {copy}.{why}",
        "cols.xlsx_copy_why": " (היה צריך לשמור אותו בדרך האיטית יותר, כי {reason}.)",
        "cols.xlsx_hidden": "העמודה '{title}' (עמודה {letter} בגיליון '{sheet}' של {file}) מוסתרת, ולכן התוצאות "
                            "שנכתבו בה לא נראות: בטלו את הסתרת העמודה כדי לראות אותן.",
        "check.connects_as": "מתחבר בתור:    {account}",
        "check.spreadsheet": "גיליון:    '{title}'  {url}",
        "check.shared": "משותף איתו: כן, כעורך (אפשר לכתוב את התוצאות)",
        "check.tabs": "לשוניות שהוא רואה:   {tabs}",
        "check.tab": "'{title}'",
        "check.tab_contacts": "'{title}' (אנשי הקשר)",
        "check.tab_new_contacts": "'{title}' (כאן נוספים אנשי קשר חדשים)",
        "check.tab_missing": "                הלשונית '{title}' לאנשי קשר חדשים עוד לא קיימת: הסנכרון הראשון ייצור אותה",
        "check.mapping_ok": "המיפוי תקין עבור {location} (שורת הכותרות: {row})",
        "check.col_inwise": "inwise",
        "check.col_column": "עמודה",
        "check.col_header": "כותרת",
        "check.role_email": "אימייל",
        "check.role_mobile": "נייד",
        "check.role_external_id": "המזהה שלכם (external_id)",
        "check.role_groups": "קבוצות",
        "check.role_consent": "הסכמה",
        "check.role_do_not_sync": "לא לסנכרן",
        "check.field": "{name} (שדה אישי {n})",
        "check.field_1": "שם פרטי",
        "check.field_2": "שם משפחה",
        "check.field_21": "תאריך לידה",
        "check.field_unnamed": "שדה אישי",
        "check.to_results": "→ תוצאות",
        "check.to_contact_id": "→ מזהה איש קשר",
        "check.to_synced_at": "→ מועד סנכרון",
        "check.no_room": "(אין מקום)",
        "check.new_column": "{header} (עמודה חדשה)",
        "check.warning": "אזהרה: {text}",
        "check.misfit": "לתשומת לב: עמודה {letter} '{header}' ממופה כ{what}, אבל רק {good} מתוך {cells} התאים "
                        "המלאים הראשונים שלה הם {plural}.",
        "check.misfit_elsewhere": "לתשומת לב: עמודה {letter} '{header}' ממופה כ{what}, אבל רק {good} מתוך {cells} "
                                  "התאים המלאים הראשונים שלה הם {plural}; נראה שהם נמצאים בעמודה '{other}'.",
        "check.what_email": "אימייל",
        "check.what_mobile": "נייד",
        "check.plural_email": "כתובות אימייל",
        "check.plural_mobile": "מספרי נייד תקינים",
        "check.rows": "{n:שורה אחת|# שורות} עם נתונים: {ready:אחת מוכנה|# מוכנות} לשליחה{held}{no_consent}, "
                      "{problems:אחת דורשת|# דורשות} טיפול.",
        "check.rows_held": ", {n:אחת מעוכבת|# מעוכבות}",
        "check.rows_no_consent": ", {n:אחת בלי הסכמה (לא תישלח)|# בלי הסכמה (לא יישלחו)}",
        "check.more": "… ועוד {n}: `sync --dry-run --csv FILE.csv` כותב את כולן לקובץ ש-Excel פותח.",
        "check.preview": "{n:הראשון|# הראשונים} מתוך {total:איש קשר אחד|# אנשי קשר} כפי שיישלחו ({hint} מציג מה נשלח ל-inwise):",
        "check.preview_row": "שורה {row}: {contact}",
        "check.no_key": "לתשומת לב: {env} לא מוגדר; הסנכרון יצטרך אותו.",
        "contact.field_n": "שדה {n}",
        "contact.external_id": "מזהה חיצוני",
        "contact.groups": "קבוצות",
        "contact.only_these": " (ולא בשום קבוצה אחרת)",
        "contact.no_groups": "אין",
        "contact.status": "סטטוס",
    },
}
