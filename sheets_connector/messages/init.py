"""What ``init`` prints about the mapping it wrote, by language: Hebrew when the header row is
Hebrew (the same rule that writes ``language: he``).  The English texts are the ones always printed.
"""
from __future__ import annotations

_LRM = "\u200e"

INIT: dict[str, dict[str, str]] = {
    "en": {
        "init.wrote": "Wrote {mapping} for {name}, sheet '{sheet}' (headers in row {row}).",
        "init.column": "  {target} <- column {letter} '{header}'{how}",
        "init.how": ": {how}",
        "init.recognised": "  Recognised, but their inwise field numbers are not known (see the comments in the file): "
                           "{headers}",
        "init.not_recognised": "  Not recognised, listed in the file as comments: {headers}",
        "init.no_country": "Default country: none chosen, because {reason}. Numbers written without a country code "
                           "will be refused until you set inwise.mobile.default_country in the file.",
        "init.country": "Default country: {region}, because {reason}.",
        "init.country_kept": "Default country kept: {region}, because {reason}.",
        "init.note": "  Note: {text}",
        "init.next": "Next: set your API key (inwise: Settings > API) and try a dry run, which sends nothing:",
        "init.then": "Then send for real:  {command}",
        "init.suggestion": "'{header}' ({label})",
        "init.no_key_column": "Could not find an email or a mobile column in {name}, sheet '{sheet}' (headers in row "
                              "{row}: {headers}). inwise identifies each contact by its email or mobile, so one of "
                              "them is needed. Rename that column's header to Email or Mobile and run init again."
                              "{tabs} Nothing was written.",
        "init.other_tabs": " The workbook's other tabs: {tabs} (choose one with --sheet).",
        # why a default country was (not) chosen
        "init.r_no_numbers": "the column '{header}' has no numbers yet, so the default ({country}) was kept",
        "init.r_no_mobiles": "none of the {total} numbers in '{header}' is a mobile number of any country, so no "
                             "country was chosen: check the column (is it the mobile column?)",
        "init.r_no_majority": "only {n} of the {total} numbers in '{header}' are {words} mobile numbers{like}, not a "
                              "clear majority, so no country was chosen",
        "init.r_close": "{n} of the {total} numbers in '{header}' are {words} mobile numbers, but {other_n} are "
                        "{other}, so no country was chosen",
        "init.r_local": "{n} of the {total} numbers in '{header}' are {words} mobile numbers written without the "
                        "country code{like}",
        "init.r_code": "the numbers in '{header}' carry their country code; the most common is +{code} ({n} of {total})",
        "init.r_like": " (like {example})",
        # what the cells say about a column
        "init.h_cells": "{good} of its first {n} filled cells are {what}",
        "init.misfit": "column {letter} '{header}' is headed like the {target} column, but {misfit}, so it is not "
                       "used as the {target}",
        "init.misfit_cells": "only {good} of its first {n} filled cells are {what} (others hold things like "
                             "'{example}')",
        "init.w_emails": "email addresses",
        "init.w_mobiles": "mobile numbers",
        "init.w_phones": "phone numbers",
        "init.t_email": "email",
        "init.t_mobile": "mobile",
        # columns recognised whose inwise field number is not known
        "init.role_city": "city", "init.role_address": "address", "init.role_zip": "zip / postal code",
        "init.role_country": "country", "init.role_gender": "gender", "init.role_company": "company",
        "init.role_job_title": "job title", "init.role_id_number": "ID number", "init.role_landline": "landline phone",
    },
    "he": {
        "init.wrote": "נכתב {mapping} עבור {name}, לשונית '{sheet}' (הכותרות בשורה {row}).",
        "init.column": "  {target} מתוך עמודה {letter} '{header}'{how}",
        "init.how": ": {how}",
        "init.recognised": "  זוהו, אבל מספרי השדות שלהן ב-inwise לא ידועים (ראו את ההערות בקובץ): {headers}",
        "init.not_recognised": "  לא זוהו, ורשומות בקובץ כהערות: {headers}",
        "init.no_country": "מדינת ברירת מחדל: לא נבחרה, כי {reason}. מספרים שנכתבו בלי קידומת מדינה יידחו עד שתכתבו "
                           "בקובץ את inwise.mobile.default_country.",
        "init.country": "מדינת ברירת מחדל: {region}, כי {reason}.",
        "init.country_kept": "מדינת ברירת המחדל נשארה: {region}, כי {reason}.",
        "init.note": "  הערה: {text}",
        "init.next": "הצעד הבא: הגדירו את מפתח ה-API (ב-inwise: הגדרות > API) ונסו הרצת ניסיון, שלא שולחת כלום:",
        "init.then": "ואז שלחו באמת:  {command}",
        "init.suggestion": "'{header}' ({label})",
        "init.no_key_column": "לא נמצאה עמודת אימייל או נייד ב-{name}, לשונית '{sheet}' (הכותרות בשורה {row}: "
                              "{headers}). inwise מזהה כל איש קשר לפי האימייל או הנייד שלו, ולכן צריך אחד מהם. שנו "
                              "את הכותרת של העמודה הזו ל'אימייל' או ל'נייד' (או Email / Mobile) והריצו את init שוב."
                              "{tabs} דבר לא נכתב.",
        "init.other_tabs": f" הלשוניות האחרות בחוברת: {{tabs}} (בחרו אחת עם {_LRM}--sheet{_LRM}).",
        "init.r_no_numbers": "בעמודה '{header}' עדיין אין מספרים, ולכן נשארה ברירת המחדל ({country})",
        "init.r_no_mobiles": "אף אחד מהמספרים ב-'{header}' ({total:מספר אחד|# מספרים}) אינו מספר נייד של מדינה "
                             "כלשהי, ולכן לא נבחרה מדינה: בדקו את העמודה (האם זו עמודת הנייד?)",
        "init.r_no_majority": "רק {n} מתוך {total:מספר אחד|# המספרים} ב-'{header}' הם מספרי נייד של {words}{like}, "
                              "ואין כאן רוב ברור, ולכן לא נבחרה מדינה",
        "init.r_close": "{n} מתוך {total:מספר אחד|# המספרים} ב-'{header}' הם מספרי נייד של {words}, אבל "
                        "{other_n:אחד שייך|# שייכים} ל{other}, ולכן לא נבחרה מדינה",
        "init.r_local": "{n} מתוך {total:מספר אחד|# המספרים} ב-'{header}' הם מספרי נייד של {words} שנכתבו בלי "
                        "קידומת המדינה{like}",
        "init.r_code": f"המספרים ב-'{{header}}' כתובים עם קידומת המדינה; הנפוצה ביותר היא {_LRM}+{{code}}{_LRM} "
                       "({n} מתוך {total})",
        "init.r_like": " (למשל {example})",
        "init.h_cells": "{good} מתוך {n:התא המלא הראשון|# התאים המלאים הראשונים} שלה הם {what}",
        "init.misfit": "לעמודה {letter} '{header}' יש כותרת של עמודת {target}, אבל {misfit}, ולכן היא לא משמשת "
                       "כעמודת {target}",
        "init.misfit_cells": "רק {good} מתוך {n:התא המלא הראשון|# התאים המלאים הראשונים} שלה הם {what} (באחרים יש "
                             "דברים כמו '{example}')",
        "init.w_emails": "כתובות אימייל",
        "init.w_mobiles": "מספרי נייד",
        "init.w_phones": "מספרי טלפון",
        "init.t_email": "האימייל",
        "init.t_mobile": "הנייד",
        "init.role_city": "עיר", "init.role_address": "כתובת", "init.role_zip": "מיקוד",
        "init.role_country": "ארץ", "init.role_gender": "מגדר", "init.role_company": "חברה",
        "init.role_job_title": "תפקיד", "init.role_id_number": "תעודת זהות", "init.role_landline": "טלפון קווי",
    },
}
