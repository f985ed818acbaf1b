"""An .xlsx workbook that cannot be read or saved, by language: a damaged or unreadable file,
another kind of file under a spreadsheet's name, a password, no room or no permission in its
folder.  Built as ``catalog.said(...)`` in ``tables/xlsx``; the English texts are the ones the
connector has always printed.  File names and technical details are values, kept as typed.
"""
from __future__ import annotations

_LRM = "\u200e"

WORKBOOK: dict[str, dict[str, str]] = {
    "en": {
        "xlsx.not_allowed": "This tool is not allowed to read {path}. Check the file's permissions (or ask whoever "
                            "manages the computer).",
        "xlsx.folder": "{path} is a folder, not a spreadsheet file. Point the settings at the .xlsx file inside it.",
        "xlsx.empty": "{path} is empty (0 bytes), so it is not a usable workbook. Save the spreadsheet again from "
                      "Excel or LibreOffice as Excel Workbook (.xlsx).",
        "xlsx.not_allowed_open": "This tool is not allowed to read {path}. If the file is open in another program, "
                                 "close it; otherwise check the file's permissions.",
        "xlsx.cannot_read": "Cannot read {path}: {why}.",
        "xlsx.save_as": "Open it in Excel or LibreOffice and use File > Save As > Excel Workbook (.xlsx), then point "
                        "the settings at the new file.",
        "xlsx.is_what": "{name} is {what}. {save_as}",
        "xlsx.what_html": "a web page (HTML) with a spreadsheet's name",
        "xlsx.what_xml": "an XML file (perhaps 'XML Spreadsheet 2003'), not an .xlsx workbook",
        "xlsx.what_csv": "a text (CSV) file, not an Excel workbook",
        "xlsx.what_csv_named": "a text (CSV) file, not an Excel workbook - even though its name ends in {ext}",
        "xlsx.what_other": "not an Excel workbook",
        "xlsx.ods": "{name} is an OpenDocument spreadsheet (.ods), not an .xlsx workbook. {save_as}",
        "xlsx.odf": "{name} is an OpenDocument file ({mime}), not an Excel workbook. {save_as}",
        "xlsx.xlsb": "{name} is an Excel Binary Workbook (.xlsb), which this tool cannot read. {save_as}",
        "xlsx.word": "{name} is a Word document, not an Excel workbook. Point the settings at your contacts spreadsheet "
                     "(.xlsx).",
        "xlsx.powerpoint": "{name} is a PowerPoint presentation, not an Excel workbook. Point the settings at your "
                           "contacts spreadsheet (.xlsx).",
        "xlsx.part_corrupt": "part {part} is corrupt",
        "xlsx.office_other": "{name} is an Office file but not an Excel workbook. Point the settings at your contacts "
                             "spreadsheet (.xlsx).",
        "xlsx.ole_unreadable": "{name} is not an .xlsx workbook (it is an old-style Office file that cannot be read). "
                               "{save_as}",
        "xlsx.password": "{name} is protected with a password, so this tool cannot open it. Remove the password: in "
                         "Excel, open the file, choose File > Info > Protect Workbook > Encrypt with Password, clear "
                         "the password and save; in LibreOffice, choose File > Save As and untick 'Save with "
                         "password'. Or save an unprotected copy and point the settings at it.",
        "xlsx.password_short": "{name} is protected with a password, so this tool cannot open it. Remove the password "
                               "or save an unprotected copy.",
        "xlsx.xls": "{name} is an old-style Excel 97-2003 workbook (.xls), which this tool cannot read. {save_as}",
        "xlsx.ole_other": "{name} is an old-style Office file, not an .xlsx workbook. {save_as}",
        "xlsx.unreadable": "{name} is a complete workbook, but this tool cannot read the way it was saved ({detail}). "
                           "Your file was not changed and nothing was sent. Open it in Excel or LibreOffice, save it "
                           "again as Excel Workbook (.xlsx), and run again.",
        "xlsx.in_sheet": "sheet '{sheet}': {detail}",
        "xlsx.damaged": "{name} is damaged: it is not a complete .xlsx file ({detail}). If it was copied or downloaded, "
                        "copy it again; otherwise open it in Excel (which can often repair it) or LibreOffice and save "
                        "it again as Excel Workbook (.xlsx).",
        "xlsx.chart_only": "{name} has no worksheets with cells (only chart sheets).",
        # saving: room and permission in the workbook's folder
        "xlsx.no_room": "The folder {folder} has no room to save {name} after the sync: saving needs about {needed} "
                        "free (a new copy of the {size} workbook is written next to it, plus room for the results), "
                        "{found}. Nothing was sent to inwise. Free at least {needed} on that disk (or move the "
                        "workbook to a disk with room), then run again.",
        "xlsx.disk_free": "and the disk has only {free} free",
        "xlsx.write_failed": "and writing that much there failed ({why})",
        "xlsx.folder_read_only": "This tool cannot create files in the folder {folder}, which it needs to save {name} "
                                 "safely (it writes a new copy next to it, then swaps it in). Make the folder "
                                 "writable, or move the file to a folder you can write to, and run again.",
        "xlsx.folder_read_only_short": "This tool cannot create files in the folder {folder}, which it needs to save "
                                       "{name} safely. Make the folder writable and run again.",
        "xlsx.folder_write": "Cannot write in the folder {folder}: {why}.",
        "xlsx.changed": "{name} was changed by someone else while the sync ran, so the results were NOT written (they "
                        "could land on the wrong rows). The contacts were sent to inwise; run the sync again to write "
                        "the results.",
        "xlsx.save_failed": "Could not save {name}: {why}. Your file was not changed; free some disk space or check "
                            "the folder, and run again.",
        "xlsx.no_copy_name": "Could not find a free name for the results copy next to {path}; tidy up the old copies "
                             "and run again.",
    },
    "he": {
        "xlsx.not_allowed": "לכלי הזה אין הרשאה לקרוא את {path}. בדקו את ההרשאות של הקובץ (או פנו למי שמנהל את "
                            "המחשב).",
        "xlsx.folder": "{path} היא תיקייה, לא קובץ גיליון. כוונו את ההגדרות אל קובץ ה-.xlsx שבתוכה.",
        "xlsx.empty": "{path} ריק (0 בתים), ולכן אינו חוברת עבודה שאפשר להשתמש בה. שמרו את הגיליון שוב מ-Excel או "
                      "מ-LibreOffice כחוברת עבודה של Excel (.xlsx).",
        "xlsx.not_allowed_open": "לכלי הזה אין הרשאה לקרוא את {path}. אם הקובץ פתוח בתוכנה אחרת, סגרו אותו; אחרת "
                                 "בדקו את ההרשאות של הקובץ.",
        "xlsx.cannot_read": "לא ניתן לקרוא את {path}: {why}.",
        "xlsx.save_as": "פתחו אותו ב-Excel או ב-LibreOffice ובחרו קובץ > שמירה בשם > חוברת עבודה של Excel (.xlsx), "
                        "ואז כוונו את ההגדרות אל הקובץ החדש.",
        "xlsx.is_what": "{name} הוא {what}. {save_as}",
        "xlsx.what_html": "דף אינטרנט (HTML) עם שם של גיליון",
        "xlsx.what_xml": "קובץ XML (אולי 'XML Spreadsheet 2003'), לא חוברת עבודה מסוג .xlsx",
        "xlsx.what_csv": "קובץ טקסט (CSV), לא חוברת עבודה של Excel",
        "xlsx.what_csv_named": "קובץ טקסט (CSV), לא חוברת עבודה של Excel - אף ששמו מסתיים ב-{ext}",
        "xlsx.what_other": "לא חוברת עבודה של Excel",
        "xlsx.ods": "{name} הוא גיליון OpenDocument (.ods), לא חוברת עבודה מסוג .xlsx. {save_as}",
        "xlsx.odf": "{name} הוא קובץ OpenDocument ({mime}), לא חוברת עבודה של Excel. {save_as}",
        "xlsx.xlsb": "{name} הוא חוברת עבודה בינארית של Excel (.xlsb), שהכלי הזה לא יודע לקרוא. {save_as}",
        "xlsx.word": "{name} הוא מסמך Word, לא חוברת עבודה של Excel. כוונו את ההגדרות אל גיליון אנשי הקשר שלכם "
                     "(.xlsx).",
        "xlsx.powerpoint": "{name} הוא מצגת PowerPoint, לא חוברת עבודה של Excel. כוונו את ההגדרות אל גיליון אנשי "
                           "הקשר שלכם (.xlsx).",
        "xlsx.part_corrupt": "החלק {part} פגום",
        "xlsx.office_other": "{name} הוא קובץ Office אבל לא חוברת עבודה של Excel. כוונו את ההגדרות אל גיליון אנשי "
                             "הקשר שלכם (.xlsx).",
        "xlsx.ole_unreadable": "{name} אינו חוברת עבודה מסוג .xlsx (זה קובץ Office בפורמט ישן שלא ניתן לקרוא). "
                               "{save_as}",
        "xlsx.password": "{name} מוגן בסיסמה, ולכן הכלי הזה לא יכול לפתוח אותו. הסירו את הסיסמה: ב-Excel, פתחו את "
                         "הקובץ, בחרו קובץ > מידע > הגן על חוברת העבודה > הצפן באמצעות סיסמה, מחקו את הסיסמה ושמרו; "
                         "ב-LibreOffice, בחרו קובץ > שמירה בשם ובטלו את הסימון 'שמירה עם סיסמה'. או שמרו עותק לא "
                         "מוגן וכוונו את ההגדרות אליו.",
        "xlsx.password_short": "{name} מוגן בסיסמה, ולכן הכלי הזה לא יכול לפתוח אותו. הסירו את הסיסמה או שמרו עותק "
                               "לא מוגן.",
        "xlsx.xls": "{name} הוא חוברת עבודה ישנה של Excel 97-2003 (.xls), שהכלי הזה לא יודע לקרוא. {save_as}",
        "xlsx.ole_other": "{name} הוא קובץ Office בפורמט ישן, לא חוברת עבודה מסוג .xlsx. {save_as}",
        "xlsx.unreadable": "{name} הוא חוברת עבודה שלמה, אבל הכלי הזה לא יודע לקרוא את האופן שבו היא נשמרה "
                           "({detail}). הקובץ שלכם לא השתנה ודבר לא נשלח. פתחו אותו ב-Excel או ב-LibreOffice, שמרו "
                           "אותו שוב כחוברת עבודה של Excel (.xlsx), והריצו שוב.",
        "xlsx.in_sheet": "לשונית '{sheet}': {detail}",
        "xlsx.damaged": "{name} פגום: זה לא קובץ .xlsx שלם ({detail}). אם הוא הועתק או הורד, העתיקו אותו שוב; אחרת "
                        "פתחו אותו ב-Excel (שלרוב יודע לתקן אותו) או ב-LibreOffice ושמרו אותו שוב כחוברת עבודה של "
                        "Excel (.xlsx).",
        "xlsx.chart_only": "ב-{name} אין לשוניות עם תאים (רק לשוניות של תרשימים).",
        "xlsx.no_room": "בתיקייה {folder} אין מקום לשמור את {name} אחרי הסנכרון: השמירה צריכה בערך {needed} פנויים "
                        "(עותק חדש של חוברת העבודה, בגודל {size}, נכתב לידה, ועוד מקום לתוצאות), {found}. דבר לא "
                        "נשלח ל-inwise. פנו לפחות {needed} בדיסק הזה (או העבירו את חוברת העבודה לדיסק שיש בו מקום), "
                        "והריצו שוב.",
        "xlsx.disk_free": "ובדיסק יש רק {free} פנויים",
        "xlsx.write_failed": "וכתיבה של כמות כזו שם נכשלה ({why})",
        "xlsx.folder_read_only": "הכלי הזה לא יכול ליצור קבצים בתיקייה {folder}, והוא צריך את זה כדי לשמור את "
                                 "{name} בבטחה (הוא כותב עותק חדש לידו ואז מחליף ביניהם). אפשרו כתיבה בתיקייה, או "
                                 "העבירו את הקובץ לתיקייה שאתם יכולים לכתוב בה, והריצו שוב.",
        "xlsx.folder_read_only_short": "הכלי הזה לא יכול ליצור קבצים בתיקייה {folder}, והוא צריך את זה כדי לשמור "
                                       "את {name} בבטחה. אפשרו כתיבה בתיקייה והריצו שוב.",
        "xlsx.folder_write": "לא ניתן לכתוב בתיקייה {folder}: {why}.",
        "xlsx.changed": "מישהו אחר שינה את {name} בזמן שהסנכרון רץ, ולכן התוצאות לא נכתבו (הן היו עלולות לנחות "
                        "בשורות הלא נכונות). אנשי הקשר נשלחו ל-inwise; הריצו את הסנכרון שוב כדי לכתוב את התוצאות.",
        "xlsx.save_failed": "לא ניתן היה לשמור את {name}: {why}. הקובץ שלכם לא השתנה; פנו מקום בדיסק או בדקו את "
                            "התיקייה, והריצו שוב.",
        "xlsx.no_copy_name": "לא נמצא שם פנוי לעותק התוצאות ליד {path}; פנו עותקים ישנים והריצו שוב.",
    },
}
