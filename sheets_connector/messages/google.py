"""Google Sheets' access and sharing errors, by language: the Sheets API off in the Cloud
project, a sheet shared for viewing only or not at all, an .xlsx stored in Drive, a tab deleted
while the connector used it, a deleted service-account key, an expired or withdrawn OAuth login,
the quota, Google down or unreachable.  Built as ``catalog.said(...)`` in ``gsheets/`` (and the
message lines of ``tables/gsheet.py``); the English texts are the ones always printed.

What the connector was doing comes as a ``gs.doing_*`` message from the table, the account it
acts as as a ``gs.account_*`` one (built where the credentials are read).
"""
from __future__ import annotations

_LRM = "\u200e"
_SETUP = f"{_LRM}README{_LRM}, '{_LRM}Google Sheets setup{_LRM}'"

GOOGLE: dict[str, dict[str, str]] = {
    "en": {
        "gs.api_off": "The Google Sheets API is not enabled in {where}, where {made} was made, so Google refuses every "
                      "request of {account}. Open {link} and click Enable (someone allowed to manage that project can "
                      "do it: forward them this link), wait a few minutes, and run again. Nothing was sent to the sheet.",
        "gs.project": "the Google Cloud project {project}",
        "gs.project_unnamed": "the Google Cloud project of the credentials",
        "gs.made_oauth": "the OAuth client",
        "gs.made_sa": "the service account",
        "gs.protected": "{sheet}: the cells the connector writes are protected, so {account} may not change them (Data "
                        "> Protect sheets and ranges). Remove the protection or add that account as an editor of it.",
        "gs.view_only": "{sheet} is shared with {who} for viewing only, so the results could not be written into it. "
                        "{fix}, and run again.",
        "gs.you": "you",
        "gs.fix_share": "In Google Sheets click Share, make {email} an Editor",
        "gs.fix_owner": "Ask the owner to make you an Editor of it",
        "gs.not_shared": "{sheet} is not shared with the service account {email} (or only for viewing), so the "
                         "connector cannot open it. In Google Sheets click Share, add {email} as an Editor, and run "
                         "again. If Google says your organisation does not allow sharing outside it, see the README "
                         "('Google Sheets setup', sharing blocked).",
        "gs.may_not_open": "{account} may not open {sheet}. Ask the owner to share it with you as an Editor, and run "
                           "again.",
        "gs.xlsx_in_drive": "This is an Excel file (.xlsx) stored in Google Drive, not a Google Sheet ({sheet}), so "
                            "Google Sheets' API cannot read or write it. Open it in Google Sheets, choose File > Save as "
                            "Google Sheets, and put the address of the new Google Sheet in source.spreadsheet in the "
                            "mapping (staff then work in the new one). Nothing was sent.",
        "gs.tab_gone": "{sheet}: the tab is gone (deleted or renamed) while the connector was {doing}. Nothing more was "
                       "written. If it was renamed, set source.worksheet in the mapping to its new name; if it was "
                       "deleted by mistake, bring it back (File > Version history) and run again.",
        "gs.tab_disappeared": "The tab '{title}' of {sheet} disappeared while the connector was using it (renamed or "
                              "deleted?). Check the tab name and run again.",
        "gs.no_spreadsheet": "Google has no spreadsheet {sheet}. Check source.spreadsheet in the mapping: open the "
                             "sheet in the browser and copy the whole address from the address bar.",
        "gs.login_refused": "Google did not accept the login of {account} while {doing}. Run again to sign in anew. "
                            "{hint}",
        "gs.credentials_refused": "Google did not accept the credentials of {account} while {doing}. Check the "
                                  "credentials file (a service-account key must not have been deleted in Google Cloud) "
                                  "and run again.",
        "gs.quota": "Google Sheets' request quota is used up (about 60 reads and 60 writes a minute per account, shared "
                    "by every sheet that account syncs) while {doing}; the connector tried {tries} times. Nothing more "
                    "was sent to the sheet. Try again in about a minute (after {when}).",
        "gs.google_down": "Google Sheets had a problem on its side (error {code}: {message}) while {doing}, {tries} "
                          "times in a row. This is usually temporary: try again in a few minutes.",
        "gs.refused": "Google Sheets refused a request while {doing} (error {code}): {message}.",
        "gs.no_details": "no details",
        "gs.testing": "If this happens about every 7 days, the OAuth app is still in 'Testing': Google ends the logins "
                      "of a Testing app after 7 days. In Google Cloud open APIs & Services > OAuth consent screen and "
                      "click 'Publish app' (In production), or make it Internal if your organisation uses Google "
                      "Workspace; see the README, 'Google Sheets setup'.",
        "gs.login_expired": "Your Google login ({account}) has expired or was withdrawn, so Google refused it{said}. "
                            "{again} {hint}",
        "gs.reason": " ({reason})",
        "gs.login_removed": "The saved login was removed ({path}): run again and sign in in the browser that opens.",
        "gs.login_delete": "Delete the saved Google login in the connector's state folder and run again to sign in.",
        "gs.key_refused": "Google refused to sign in {account}{said}: its key was deleted or disabled in Google Cloud, "
                          "or this computer's clock is wrong. Create a new key (Google Cloud > IAM & Admin > Service "
                          "accounts > the account > Keys > Add key > JSON), point source.credentials at it, and run "
                          "again. If your organisation does not allow new keys, use auth: oauth instead (README, "
                          "'Google Sheets setup').",
        "gs.unreachable": "Cannot reach Google Sheets ({where}) while {doing}: {detail}. Check the internet connection "
                          "and run again.",
        "gs.too_slow": "it did not answer in time",
        "gs.no_connection": "no connection",
        "gs.sign_in_failed": "Signing in to Google failed while {doing}: {name}. Check the credentials file.",
        # what the connector was doing, which account
        "gs.doing_open": "opening the spreadsheet",
        "gs.doing_check_edit": "checking that it may edit the sheet",
        "gs.doing_first_rows": "reading the first rows",
        "gs.doing_contacts": "reading the contacts",
        "gs.doing_read_tab": "reading the tab '{tab}'",
        "gs.doing_marking": "marking the result columns",
        "gs.doing_writing": "writing the results",
        "gs.doing_reread": "re-reading the rows before writing the results",
        "gs.doing_landed": "checking that the results landed on their rows",
        "gs.doing_add_rows": "adding rows to the tab '{tab}'",
        "gs.doing_create_tab": "creating the tab '{tab}'",
        "gs.doing_add_columns": "adding columns to the tab '{tab}'",
        "gs.doing_widen": "widening the tab '{tab}'",
        "gs.account_sa": "the service account {email}",
        "gs.account_you": "your Google account",
        "gs.account_emulator": "the emulator's account {email}",
    },
    "he": {
        "gs.api_off": "ה-API של Google Sheets לא מופעל ב{where}, שבו נוצר {made}, ולכן Google מסרבת לכל בקשה של "
                      "{account}. פתחו את {link} ולחצו Enable (מי שמורשה לנהל את הפרויקט יכול לעשות זאת: העבירו לו "
                      "את הקישור), חכו כמה דקות, והריצו שוב. דבר לא נשלח לגיליון.",
        "gs.project": "פרויקט ה-Google Cloud {project}",
        "gs.project_unnamed": "פרויקט ה-Google Cloud של פרטי הגישה",
        "gs.made_oauth": "לקוח ה-OAuth",
        "gs.made_sa": "חשבון השירות",
        "gs.protected": "{sheet}: התאים שהמחבר כותב בהם מוגנים, ולכן {account} לא יכול לשנות אותם (נתונים > "
                        "הגנה על גיליונות וטווחים). הסירו את ההגנה או הוסיפו את החשבון הזה כעורך שלה.",
        "gs.view_only": "{sheet} משותף עם {who} לצפייה בלבד, ולכן לא ניתן היה לכתוב בו את התוצאות. {fix}, והריצו "
                        "שוב.",
        "gs.you": "אתכם",
        "gs.fix_share": "ב-Google Sheets לחצו שיתוף והגדירו את {email} כעורך",
        "gs.fix_owner": "בקשו מהבעלים להגדיר אתכם כעורכים",
        "gs.not_shared": "{sheet} לא משותף עם חשבון השירות {email} (או משותף לצפייה בלבד), ולכן המחבר לא יכול לפתוח "
                         "אותו. ב-Google Sheets לחצו שיתוף, הוסיפו את {email} כעורך, והריצו שוב. אם Google אומרת "
                         f"שהארגון שלכם לא מאפשר שיתוף מחוץ לארגון, ראו את {_SETUP} (שיתוף חסום).",
        "gs.may_not_open": "ל-{account} אין הרשאה לפתוח את {sheet}. בקשו מהבעלים לשתף אותו איתכם כעורכים, והריצו שוב.",
        "gs.xlsx_in_drive": "זה קובץ Excel (.xlsx) ששמור ב-Google Drive, לא גיליון Google ({sheet}), ולכן ה-API של "
                            "Google Sheets לא יכול לקרוא או לכתוב בו. פתחו אותו ב-Google Sheets, בחרו קובץ > שמירה "
                            "כ-Google Sheets, ושימו את הכתובת של הגיליון החדש ב-"
                            f"{_LRM}source.spreadsheet{_LRM} במיפוי (הצוות יעבוד מעכשיו בגיליון החדש). דבר לא נשלח.",
        "gs.tab_gone": "{sheet}: הלשונית נעלמה (נמחקה או ששמה שונה) בזמן שהמחבר היה ב{doing}. דבר נוסף לא נכתב. אם "
                       f"שמה שונה, כתבו את השם החדש ב-{_LRM}source.worksheet{_LRM} במיפוי; אם היא נמחקה בטעות, "
                       "שחזרו אותה (קובץ > היסטוריית גרסאות) והריצו שוב.",
        "gs.tab_disappeared": "הלשונית '{title}' של {sheet} נעלמה בזמן שהמחבר השתמש בה (שמה שונה או שהיא נמחקה?). "
                              "בדקו את שם הלשונית והריצו שוב.",
        "gs.no_spreadsheet": "ל-Google אין גיליון {sheet}. בדקו את "
                             f"{_LRM}source.spreadsheet{_LRM} במיפוי: פתחו את הגיליון בדפדפן והעתיקו את הכתובת "
                             "המלאה משורת הכתובת.",
        "gs.login_refused": "Google לא קיבלה את ההתחברות של {account} בזמן {doing}. הריצו שוב כדי להתחבר מחדש. {hint}",
        "gs.credentials_refused": "Google לא קיבלה את פרטי הגישה של {account} בזמן {doing}. בדקו את קובץ פרטי הגישה "
                                  "(אסור שמפתח חשבון השירות יימחק ב-Google Cloud) והריצו שוב.",
        "gs.quota": "מכסת הבקשות של Google Sheets נוצלה (כ-60 קריאות ו-60 כתיבות בדקה לכל חשבון, משותפות לכל "
                    "הגיליונות שהחשבון מסנכרן) בזמן {doing}; המחבר ניסה {tries} פעמים. דבר נוסף לא נשלח לגיליון. "
                    "נסו שוב בעוד כדקה (אחרי {when}).",
        "gs.google_down": "ל-Google Sheets הייתה תקלה אצלה (שגיאה {code}: {message}) בזמן {doing}, {tries} פעמים "
                          "ברצף. זה בדרך כלל זמני: נסו שוב בעוד כמה דקות.",
        "gs.refused": "Google Sheets סירבה לבקשה בזמן {doing} (שגיאה {code}): {message}.",
        "gs.no_details": "ללא פרטים",
        "gs.testing": "אם זה קורה בערך כל 7 ימים, אפליקציית ה-OAuth עדיין במצב 'Testing': Google מסיימת את "
                      "ההתחברויות של אפליקציה במצב Testing אחרי 7 ימים. ב-Google Cloud פתחו "
                      f"{_LRM}APIs & Services > OAuth consent screen{_LRM} ולחצו '{_LRM}Publish app{_LRM}' "
                      f"({_LRM}In production{_LRM}), או הגדירו אותה כ-Internal אם הארגון שלכם משתמש ב-Google "
                      f"Workspace; ראו את {_SETUP}.",
        "gs.login_expired": "תוקף ההתחברות שלכם ל-Google ({account}) פג או שהיא בוטלה, ולכן Google סירבה לה{said}. "
                            "{again} {hint}",
        "gs.reason": " ({reason})",
        "gs.login_removed": "ההתחברות השמורה נמחקה ({path}): הריצו שוב והתחברו בדפדפן שייפתח.",
        "gs.login_delete": "מחקו את ההתחברות השמורה ל-Google בתיקיית המצב של המחבר והריצו שוב כדי להתחבר.",
        "gs.key_refused": "Google סירבה לחבר את {account}{said}: המפתח שלו נמחק או הושבת ב-Google Cloud, או שהשעון "
                          "של המחשב הזה שגוי. צרו מפתח חדש "
                          f"({_LRM}Google Cloud > IAM & Admin > Service accounts > the account > Keys > Add key > "
                          f"JSON{_LRM}), כוונו אליו את {_LRM}source.credentials{_LRM}, והריצו שוב. אם הארגון שלכם לא "
                          f"מאפשר מפתחות חדשים, השתמשו ב-{_LRM}auth: oauth{_LRM} במקום ({_SETUP}).",
        "gs.unreachable": "לא ניתן להגיע אל Google Sheets ({where}) בזמן {doing}: {detail}. בדקו את החיבור לאינטרנט "
                          "והריצו שוב.",
        "gs.too_slow": "לא התקבלה תשובה בזמן",
        "gs.no_connection": "אין חיבור",
        "gs.sign_in_failed": "ההתחברות ל-Google נכשלה בזמן {doing}: {name}. בדקו את קובץ פרטי הגישה.",
        "gs.doing_open": "פתיחת הגיליון",
        "gs.doing_check_edit": "בדיקה שמותר לו לערוך את הגיליון",
        "gs.doing_first_rows": "קריאת השורות הראשונות",
        "gs.doing_contacts": "קריאת אנשי הקשר",
        "gs.doing_read_tab": "קריאת הלשונית '{tab}'",
        "gs.doing_marking": "סימון עמודות התוצאות",
        "gs.doing_writing": "כתיבת התוצאות",
        "gs.doing_reread": "קריאה חוזרת של השורות לפני כתיבת התוצאות",
        "gs.doing_landed": "בדיקה שהתוצאות נכתבו בשורות הנכונות",
        "gs.doing_add_rows": "הוספת שורות ללשונית '{tab}'",
        "gs.doing_create_tab": "יצירת הלשונית '{tab}'",
        "gs.doing_add_columns": "הוספת עמודות ללשונית '{tab}'",
        "gs.doing_widen": "הרחבת הלשונית '{tab}'",
        "gs.account_sa": "חשבון השירות {email}",
        "gs.account_you": "חשבון ה-Google שלכם",
        "gs.account_emulator": "החשבון של האמולטור {email}",
    },
}
