"""Why a row was not sent, or what inwise said about it: the results column's reasons, by language.

Each text is filled by :func:`messages.render` (``catalog.py``); the ids are built where rows are
checked (``normalize.py``, ``contacts.py``, ``perrow.py``, ``sheet_dates.py``) and where inwise
answers (``results.py``, ``sync/send.py``).  Both languages have every id with the same
placeholders (a test keeps them so).  English texts are the ones the connector has always written.
"""
from __future__ import annotations

ROWS: dict[str, dict[str, str]] = {
    "en": {
        "plain": "{text}",
        # -- a cell, with its value quoted ---------------------------------------------------
        "cell.email": 'invalid email "{value}": {reason}',
        "cell.mobile": 'invalid mobile "{value}": {reason}',
        "cell.field": 'invalid value "{value}": {reason}',
        "in_column": "{problem} (column {column!r})",
        "fix_cells": "{problems} - fix the cell and sync again",
        "cell.error": "the cell shows a spreadsheet error, not a value (fix the formula or type the value)",
        "cell.not_calculated": "the cell holds a formula whose value was never calculated (open the file in Excel or "
                               "LibreOffice and save it, or type the value)",
        "cell.empty": "the cell is empty",
        "field.not_finite": "not a number a spreadsheet can show",
        "field.not_date": "not a date",
        # -- emails ---------------------------------------------------------------------------
        "email.not_email": "not an email address",
        "email.no_at": "the @ is missing",
        "email.several": "more than one email address in one cell (keep one address per cell)",
        "email.many_at": "more than one @",
        "email.nothing_before": "nothing before the @",
        "email.nothing_after": "nothing after the @",
        "email.space": "has a space in it",
        "email.ends_dot": "ends with a dot",
        "email.starts_dot": "starts with a dot",
        "email.dot_before_at": "has a dot just before the @",
        "email.dot_after_at": "has a dot just after the @",
        "email.two_dots": "has two dots in a row",
        "email.needs_dot": 'the part after the @ needs a dot, like "example.com"',
        "email.reserved": "the part after the @ is a reserved name, not a real domain",
        "email.bad_ending": "the ending after the last dot is not a real domain ending",
        "email.too_long": "too long for an email address",
        "email.quotes": "quotes are not allowed in the address",
        "email.ip": "an IP address in brackets is not allowed after the @",
        "email.bad_chars": "has a character an email address cannot contain ({chars})",
        "email.library": "{text}",
        # -- mobiles --------------------------------------------------------------------------
        "mobile.landline": "a landline number, not a mobile",
        "mobile.toll_free": "a toll-free number, not a mobile",
        "mobile.premium": "a premium-rate number, not a mobile",
        "mobile.shared_cost": "a shared-cost number, not a mobile",
        "mobile.voip": "an internet (VoIP) number, not a mobile",
        "mobile.personal": "a personal (call forwarding) number, not a mobile",
        "mobile.pager": "a pager number, not a mobile",
        "mobile.uan": "a company switchboard number, not a mobile",
        "mobile.voicemail": "a voicemail access number, not a mobile",
        "mobile.not_mobile": "not a mobile number",
        "mobile.not_usable": "not a usable mobile number",
        "mobile.too_short": "too short for a mobile number",
        "mobile.too_long": "too long for a mobile number",
        "mobile.wrong_length": "the wrong number of digits for a mobile number",
        "mobile.local_only": "a local number without the area code",
        "mobile.bad_country_code": "unknown country code",
        "mobile.not_phone": "not a phone number",
        "mobile.letters": "not a phone number (it has letters in it)",
        "mobile.decimal": "a decimal number, not a phone number",
        "mobile.lost_digits": "shown in short scientific form, so digits may be missing "
                              "(format the column as plain numbers or text and retype the number)",
        "mobile.several": "more than one number in one cell (keep one mobile per cell)",
        "mobile.extension": 'has an extension ("{extension}" after the number): remove the extension, '
                            "a mobile number has none",
        "mobile.no_country": "written without a country code, and the mapping chooses no country for such numbers: "
                             "write + and the country code in front (like +972 54-111-1111), or set "
                             "inwise.mobile.default_country in the mapping",
        "mobile.foreign": "{reason}; if it is a number from {country}, write + in front ({number}) so the country "
                          "code is read as one",
        "mobile.no_such": "no phone number in {country} looks like this (check the digits)",
        # -- the row as a whole ---------------------------------------------------------------
        "row.missing_one": "no email or mobile - fill in {column!r} to send this contact",
        "row.missing_both": "no email or mobile - fill in {email!r} or {mobile!r} to send this contact",
        "row.duplicate_email": "duplicate of row {row} (same email) - not sent",
        "row.duplicate_mobile": "duplicate of row {row} (same mobile) - not sent",
        "row.text_date": "'{text}' in column '{column}' is not a date the way this sheet reads dates ({reads}, "
                         "locale {locale}) - type it {reads}, or change the sheet's locale (File > Settings), and "
                         "sync again",
        "row.text_date_meant": "'{text}' in column '{column}' is not a date the way this sheet reads dates ({reads}, "
                               "locale {locale}) - type it {reads} (for {meant}: {shown}), or change the sheet's "
                               "locale (File > Settings), and sync again",
        "reads.MDY": "month first",
        "reads.DMY": "day first",
        "reads.YMD": "year first",
        # -- what the row's own cells say (perrow.py) -----------------------------------------
        "row.held_ticked": "held back ({column!r} is ticked) - not sent; clear that cell to send this row",
        "row.held_value": "held back ({column!r} is {value!r}) - not sent; clear that cell to send this row",
        "row.consent_unclear": "the consent cell {value!r} (column {column!r}) is neither yes nor no - write yes or "
                               "no (כן / לא), tick the box or write the date consent was given; other words can be "
                               "added under columns.consent.yes_words / no_words in the mapping",
        "row.no_consent_empty": "not sent: no consent to marketing messages ({column!r} is empty) - when the contact "
                                "agrees, mark it and sync again",
        "row.no_consent_unticked": "not sent: no consent to marketing messages ({column!r} is unticked) - when the "
                                   "contact agrees, mark it and sync again",
        "row.no_consent_says": "not sent: no consent to marketing messages ({column!r} says {value!r}) - when the "
                               "contact agrees, mark it and sync again",
        "row.unknown_group": "unknown group {names} in column {column!r} - the groups in the mapping are: {known}; "
                             "fix the cell, or add the name with its inwise group ID under groups: in the mapping",
        "row.unknown_groups": "unknown groups {names} in column {column!r} - the groups in the mapping are: {known}; "
                              "fix the cell, or add the name with its inwise group ID under groups: in the mapping",
        "row.no_groups_table": "(the mapping has no groups: table)",
        "row.groups_empty": "the groups cell (column {column!r}) is empty, and the mapping says these are exactly the "
                            "contact's groups: that would take the contact out of every group, which inwise does not "
                            "document - write at least one group",
        # -- inwise's answer for the row ------------------------------------------------------
        "inwise.conflict_email": "conflict: email → #{email} (two different inwise contacts: correct the email or the "
                                 "mobile, or merge the contacts in inwise)",
        "inwise.conflict_mobile": "conflict: mobile → #{mobile} (two different inwise contacts: correct the email or "
                                  "the mobile, or merge the contacts in inwise)",
        "inwise.conflict_both": "conflict: email → #{email}, mobile → #{mobile} (two different inwise contacts: "
                                "correct the email or the mobile, or merge the contacts in inwise)",
        "inwise.conflict_said": "conflict: {message}",
        "inwise.conflict": "conflict: inwise reported a conflict",
        "inwise.refused": "inwise refused this row: {message} - fix the row and sync again",
        "inwise.refused_no_reason": "inwise refused this row: no reason given - fix the row and sync again",
        "inwise.error": "inwise error: {message} - sync again later to retry this row",
        "inwise.error_no_answer": "inwise error: no answer - sync again later to retry this row",
        "inwise.batch_error": "inwise error (batch): {message} - sync again later to retry this row",
        "inwise.batch_group_failed": "inwise error (batch): sent, but adding to group {group} failed: {message} - "
                                     "sync again later to retry this row",
        "inwise.no_id": "inwise gave no contact id",
        "inwise.batch_unconfirmed": "inwise reported {n} failed row(s) in this batch and batch mode cannot tell "
                                    "which; run with mode: upsert to see each row's result",
        "sync.stopped": "not sent: the sync was stopped before this row - run it again",
        "sync.unavailable": "not sent: inwise unavailable - the next sync sends this row",
        "sync.in_flight": "the sync was stopped while this row's batch was being sent: inwise may or may not have it "
                          "- run the sync again (sending twice is safe)",
    },
    "he": {
        "plain": "{text}",
        "cell.email": 'כתובת האימייל "{value}" לא תקינה: {reason}',
        "cell.mobile": 'מספר הנייד "{value}" לא תקין: {reason}',
        "cell.field": 'הערך "{value}" לא תקין: {reason}',
        "in_column": '{problem} (עמודה "{column}")',
        "fix_cells": "{problems} - תקנו את התא וסנכרנו שוב",
        "cell.error": "בתא מופיעה שגיאה של הגיליון ולא ערך (תקנו את הנוסחה או הקלידו את הערך)",
        "cell.not_calculated": "בתא יש נוסחה שהערך שלה לא חושב מעולם (פתחו את הקובץ ב-Excel או ב-LibreOffice ושמרו "
                               "אותו, או הקלידו את הערך)",
        "cell.empty": "התא ריק",
        "field.not_finite": "זה לא מספר שגיליון יכול להציג",
        "field.not_date": "זה לא תאריך",
        "email.not_email": "זו לא כתובת אימייל",
        "email.no_at": "חסר @",
        "email.several": "יותר מכתובת אימייל אחת בתא (השאירו כתובת אחת בכל תא)",
        "email.many_at": "יש יותר מ-@ אחד",
        "email.nothing_before": "אין כלום לפני ה-@",
        "email.nothing_after": "אין כלום אחרי ה-@",
        "email.space": "יש בה רווח",
        "email.ends_dot": "היא מסתיימת בנקודה",
        "email.starts_dot": "היא מתחילה בנקודה",
        "email.dot_before_at": "יש נקודה צמוד לפני ה-@",
        "email.dot_after_at": "יש נקודה צמוד אחרי ה-@",
        "email.two_dots": "יש שתי נקודות ברצף",
        "email.needs_dot": 'בחלק שאחרי ה-@ חסרה נקודה, כמו "example.com"',
        "email.reserved": "החלק שאחרי ה-@ הוא שם שמור ולא דומיין אמיתי",
        "email.bad_ending": "הסיומת אחרי הנקודה האחרונה אינה סיומת דומיין אמיתית",
        "email.too_long": "ארוכה מדי לכתובת אימייל",
        "email.quotes": "אסור שיהיו מירכאות בכתובת",
        "email.ip": "אסור לכתוב כתובת IP בסוגריים אחרי ה-@",
        "email.bad_chars": "יש בה תו שלא יכול להופיע בכתובת אימייל ({chars})",
        "email.library": "{text}",
        "mobile.landline": "זה מספר של טלפון קווי, לא נייד",
        "mobile.toll_free": "זה מספר חינם (1-800), לא נייד",
        "mobile.premium": "זה מספר בתעריף מיוחד, לא נייד",
        "mobile.shared_cost": "זה מספר בעלות משותפת, לא נייד",
        "mobile.voip": "זה מספר אינטרנט (VoIP), לא נייד",
        "mobile.personal": "זה מספר אישי להעברת שיחות, לא נייד",
        "mobile.pager": "זה מספר של זימונית, לא נייד",
        "mobile.uan": "זה מספר מרכזייה של חברה, לא נייד",
        "mobile.voicemail": "זה מספר גישה לתא קולי, לא נייד",
        "mobile.not_mobile": "זה לא מספר נייד",
        "mobile.not_usable": "זה לא מספר נייד שאפשר לשלוח אליו",
        "mobile.too_short": "קצר מדי למספר נייד",
        "mobile.too_long": "ארוך מדי למספר נייד",
        "mobile.wrong_length": "מספר הספרות לא מתאים למספר נייד",
        "mobile.local_only": "מספר מקומי בלי קידומת אזור",
        "mobile.bad_country_code": "קידומת מדינה לא מוכרת",
        "mobile.not_phone": "זה לא מספר טלפון",
        "mobile.letters": "זה לא מספר טלפון (יש בו אותיות)",
        "mobile.decimal": "זה מספר עשרוני, לא מספר טלפון",
        "mobile.lost_digits": "המספר מוצג בכתיב מדעי מקוצר ולכן ייתכן שחסרות ספרות (עצבו את העמודה כמספרים רגילים "
                              "או כטקסט והקלידו את המספר מחדש)",
        "mobile.several": "יותר ממספר אחד בתא (השאירו מספר נייד אחד בכל תא)",
        "mobile.extension": 'יש בו שלוחה ("{extension}" אחרי המספר): מחקו את השלוחה, למספר נייד אין שלוחה',
        "mobile.no_country": "המספר כתוב בלי קידומת מדינה, והמיפוי לא קובע מדינה למספרים כאלה: כתבו + וקידומת "
                             "מדינה לפני המספר (למשל +972 54-111-1111), או הגדירו inwise.mobile.default_country "
                             "במיפוי",
        "mobile.foreign": "{reason}; אם זה מספר מ{country}, כתבו + לפניו ({number}) כדי שקידומת המדינה תיקרא נכון",
        "mobile.no_such": "אין מספר טלפון ב{country} שנראה כך (בדקו את הספרות)",
        "row.missing_one": 'אין אימייל או נייד - מלאו את "{column}" כדי לשלוח את איש הקשר',
        "row.missing_both": 'אין אימייל או נייד - מלאו את "{email}" או את "{mobile}" כדי לשלוח את איש הקשר',
        "row.duplicate_email": "כפול של שורה {row} (אותו אימייל) - לא נשלח",
        "row.duplicate_mobile": "כפול של שורה {row} (אותו נייד) - לא נשלח",
        "row.text_date": '"{text}" בעמודה "{column}" אינו תאריך כפי שהגיליון קורא תאריכים ({reads}, אזור {locale}) - '
                         "הקלידו אותו בסדר {reads}, או שנו את האזור של הגיליון (קובץ > הגדרות), וסנכרנו שוב",
        "row.text_date_meant": '"{text}" בעמודה "{column}" אינו תאריך כפי שהגיליון קורא תאריכים ({reads}, אזור '
                               "{locale}) - הקלידו אותו בסדר {reads} (עבור {meant}: {shown}), או שנו את האזור של "
                               "הגיליון (קובץ > הגדרות), וסנכרנו שוב",
        "reads.MDY": "חודש/יום/שנה",
        "reads.DMY": "יום/חודש/שנה",
        "reads.YMD": "שנה-חודש-יום",
        "row.held_ticked": 'מעוכב ("{column}" מסומן) - לא נשלח; נקו את התא כדי לשלוח את השורה',
        "row.held_value": 'מעוכב (ב-"{column}" כתוב "{value}") - לא נשלח; נקו את התא כדי לשלוח את השורה',
        "row.consent_unclear": 'בתא ההסכמה "{value}" (עמודה "{column}") לא כתוב כן או לא - כתבו כן או לא, סמנו '
                               "את התיבה או כתבו את התאריך שבו ניתנה ההסכמה; מילים אחרות אפשר להוסיף במיפוי תחת "
                               "columns.consent.yes_words / no_words",
        "row.no_consent_empty": 'לא נשלח: אין הסכמה לדיוור ("{column}" ריק) - כשאיש הקשר מסכים, סמנו וסנכרנו שוב',
        "row.no_consent_unticked": 'לא נשלח: אין הסכמה לדיוור ("{column}" לא מסומן) - כשאיש הקשר מסכים, סמנו '
                                   "וסנכרנו שוב",
        "row.no_consent_says": 'לא נשלח: אין הסכמה לדיוור (ב-"{column}" כתוב "{value}") - כשאיש הקשר מסכים, סמנו '
                               "וסנכרנו שוב",
        "row.unknown_group": 'קבוצה לא מוכרת {names} בעמודה "{column}" - הקבוצות במיפוי הן: {known}; תקנו את התא, או '
                             "הוסיפו את השם עם מזהה הקבוצה ב-inwise תחת groups: במיפוי",
        "row.unknown_groups": 'קבוצות לא מוכרות {names} בעמודה "{column}" - הקבוצות במיפוי הן: {known}; תקנו את התא, '
                              "או הוסיפו את השמות עם מזהי הקבוצות ב-inwise תחת groups: במיפוי",
        "row.no_groups_table": "(אין במיפוי טבלת groups:)",
        "row.groups_empty": 'תא הקבוצות (עמודה "{column}") ריק, והמיפוי קובע שאלה בדיוק הקבוצות של איש הקשר: כך '
                            "איש הקשר יוצא מכל הקבוצות, ו-inwise לא מתעדת זאת - כתבו לפחות קבוצה אחת",
        "inwise.conflict_email": "התנגשות: האימייל שייך לאיש קשר #{email} (שני אנשי קשר שונים ב-inwise: תקנו את "
                                 "האימייל או הנייד, או מזגו את אנשי הקשר ב-inwise)",
        "inwise.conflict_mobile": "התנגשות: הנייד שייך לאיש קשר #{mobile} (שני אנשי קשר שונים ב-inwise: תקנו את "
                                  "האימייל או הנייד, או מזגו את אנשי הקשר ב-inwise)",
        "inwise.conflict_both": "התנגשות: האימייל שייך לאיש קשר #{email} והנייד לאיש קשר #{mobile} (שני אנשי קשר "
                                "שונים ב-inwise: תקנו את האימייל או הנייד, או מזגו את אנשי הקשר ב-inwise)",
        "inwise.conflict_said": "התנגשות: {message}",
        "inwise.conflict": "התנגשות: inwise דיווחה על התנגשות",
        "inwise.refused": "inwise דחתה את השורה: {message} - תקנו את השורה וסנכרנו שוב",
        "inwise.refused_no_reason": "inwise דחתה את השורה בלי לומר למה - תקנו את השורה וסנכרנו שוב",
        "inwise.error": "שגיאה ב-inwise: {message} - סנכרנו שוב מאוחר יותר כדי לנסות שוב את השורה",
        "inwise.error_no_answer": "שגיאה ב-inwise: לא התקבלה תשובה - סנכרנו שוב מאוחר יותר כדי לנסות שוב את השורה",
        "inwise.batch_error": "שגיאה ב-inwise (קבוצת שליחה): {message} - סנכרנו שוב מאוחר יותר כדי לנסות שוב את השורה",
        "inwise.batch_group_failed": "שגיאה ב-inwise (קבוצת שליחה): נשלח, אבל ההוספה לקבוצה {group} נכשלה: "
                                     "{message} - סנכרנו שוב מאוחר יותר כדי לנסות שוב את השורה",
        "inwise.no_id": "inwise לא החזירה מזהה איש קשר",
        "inwise.batch_unconfirmed": "inwise דיווחה על {n:שורה אחת שנכשלה|# שורות שנכשלו} בקבוצת השליחה הזו, ובשליחה "
                                    "בקבוצות אי אפשר לדעת {n:איזו|אילו}; הריצו עם mode: upsert כדי לראות תוצאה לכל שורה",
        "sync.stopped": "לא נשלח: הסנכרון נעצר לפני השורה הזו - הריצו אותו שוב",
        "sync.unavailable": "לא נשלח: inwise לא זמינה - הסנכרון הבא ישלח את השורה",
        "sync.in_flight": "הסנכרון נעצר בזמן שקבוצת השליחה של השורה נשלחה: ייתכן ש-inwise קיבלה אותה וייתכן שלא - "
                          "הריצו את הסנכרון שוב (שליחה כפולה לא מזיקה)",
    },
}
