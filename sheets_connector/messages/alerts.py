"""The alerts sent when a run fails, is stopped or leaves rows needing attention (email, Slack,
Teams, JSON), by language: the mapping's.  Rendered in ``alerts/events.py``; the English texts
are the ones the connector has always sent.
"""
from __future__ import annotations

_LRM = "\u200e"

ALERTS: dict[str, dict[str, str]] = {
    "en": {
        "alert.cmd_sync": "sync",
        "alert.cmd_pull_new": "pull-new",
        "alert.trigger_schedule": "the schedule",
        "alert.trigger_menu": "the sheet's menu",
        "alert.trigger_cli": "the command line",
        "alert.label_conflict": "conflicts",
        "alert.label_invalid": "invalid values",
        "alert.label_missing": "no email or mobile",
        "alert.label_error": "inwise errors",
        "alert.todo_failed": "Read what happened above: it says what to fix. Then run the sync again (a scheduled run "
                             "does so by itself).",
        "alert.todo_unavailable": "Nothing to fix on your side: the next run sends the rows that were not sent. If it "
                                  "lasts, check inwise's status or ask inwise support.",
        "alert.todo_stopped": "Run the sync again to finish it; nothing was lost.",
        "alert.todo_attention": "Open the sheet and look at the rows marked ✗ in the results column (each says what is "
                                "wrong and what to do), fix them and sync again.",
        "alert.title_failed": "failed",
        "alert.title_unavailable": "stopped: inwise unavailable",
        "alert.title_stopped": "was stopped",
        "alert.title_attention": "left rows needing attention",
        "alert.run": "run #{run}, started from {trigger} at {when}",
        "alert.a_run": "a run, started from {trigger} at {when}",
        "alert.rows_uncounted": "Rows: the run ended before it counted them (rows inwise answered are kept; the next "
                                "run writes them).",
        "alert.rows": "Rows: {parts}.",
        "alert.synced": "{n} synced ({created} created, {updated} updated)",
        "alert.attention": "{n} need attention ({kinds})",
        "alert.kind": "{label}: {n}",
        "alert.not_sent": "{n} not sent",
        "alert.duplicates": "{n} duplicates",
        "alert.unchanged": "{n} unchanged",
        "alert.details": "Details: sheets-connector runs show {run}",
        "alert.details_all": "Details: sheets-connector runs",
        "alert.what": "What happened: {what}",
        "alert.what_attention": "{n} rows need attention.",
        "alert.todo": "What to do: {todo}",
        "alert.problem": "The {command} of {label} {title} ({run}).",
        "alert.subject": "sheets-connector: {label} {title}",
        "alert.still": "The {command} of {label} still {title}: {runs} runs in a row since {since}; {quiet} of them "
                       "were not told one by one (the last alert was at {sent_at}).",
        "alert.latest": "Latest: {run}.",
        "alert.subject_still": "sheets-connector: {label} still {title}",
        "alert.works_again": "The {command} of {label} works again: {run} completed.",
        "alert.before": "Before it, {runs} run(s) in a row {title} (since {since}).",
        "alert.nothing_more": "Nothing more to do.",
        "alert.subject_again": "sheets-connector: {label} works again",
        "alert.unexpected": "an unexpected error ({name}); the details are in the log of the computer or service that "
                            "ran it",
        "alert.stopped_what": "stopped before every row was sent: {said}",
        "alert.outage": "inwise is unavailable: {failures} {unit} in a row got no answer after every retry ({last}), "
                        "so the sync stopped sending. {sent} of {total} rows were sent and have their result; the "
                        "other {left} say 'not sent: inwise unavailable' and nothing was lost: the next sync sends "
                        "them.",
    },
    "he": {
        "alert.cmd_sync": "הסנכרון",
        "alert.cmd_pull_new": "תהליך משיכת אנשי הקשר החדשים",
        "alert.trigger_schedule": "התזמון",
        "alert.trigger_menu": "התפריט של הגיליון",
        "alert.trigger_cli": "שורת הפקודה",
        "alert.label_conflict": "התנגשויות",
        "alert.label_invalid": "ערכים לא תקינים",
        "alert.label_missing": "אין אימייל או נייד",
        "alert.label_error": "שגיאות של inwise",
        "alert.todo_failed": "קראו מה קרה למעלה: כתוב שם מה לתקן. אחר כך הריצו את הסנכרון שוב (הרצה מתוזמנת עושה "
                             "זאת בעצמה).",
        "alert.todo_unavailable": "אין מה לתקן אצלכם: ההרצה הבאה תשלח את השורות שלא נשלחו. אם זה נמשך, בדקו את "
                                  "מצב השירות של inwise או פנו לתמיכה של inwise.",
        "alert.todo_stopped": "הריצו את הסנכרון שוב כדי להשלים אותו; דבר לא אבד.",
        "alert.todo_attention": "פתחו את הגיליון ועברו על השורות שמסומנות ב-✗ בעמודת התוצאות (בכל אחת כתוב מה לא "
                                "תקין ומה לעשות), תקנו אותן וסנכרנו שוב.",
        "alert.title_failed": "נכשל",
        "alert.title_unavailable": "נעצר: inwise לא זמינה",
        "alert.title_stopped": "נעצר",
        "alert.title_attention": "הסתיים עם שורות שדורשות טיפול",
        "alert.run": "הרצה #{run}, שהופעלה מ{trigger} ב-{when}",
        "alert.a_run": "הרצה שהופעלה מ{trigger} ב-{when}",
        "alert.rows_uncounted": "שורות: ההרצה הסתיימה לפני שספרה אותן (השורות ש-inwise ענתה עליהן נשמרו; ההרצה "
                                "הבאה תכתוב אותן).",
        "alert.rows": "שורות: {parts}.",
        "alert.synced": "{n} סונכרנו ({created} נוצרו, {updated} עודכנו)",
        "alert.attention": "{n} דורשות טיפול ({kinds})",
        "alert.kind": "{label}: {n}",
        "alert.not_sent": "{n} לא נשלחו",
        "alert.duplicates": "{n} כפולות",
        "alert.unchanged": "{n} ללא שינוי",
        "alert.details": f"פרטים: {_LRM}sheets-connector runs show {{run}}{_LRM}",
        "alert.details_all": f"פרטים: {_LRM}sheets-connector runs{_LRM}",
        "alert.what": "מה קרה: {what}",
        "alert.what_attention": "{n:שורה אחת דורשת|# שורות דורשות} טיפול.",
        "alert.todo": "מה לעשות: {todo}",
        "alert.problem": "{command} של {label} {title} ({run}).",
        "alert.subject": "sheets-connector: {label} {title}",
        "alert.still": "{command} של {label} עדיין {title}: {runs} הרצות ברצף מאז {since}; על {quiet} מהן לא נשלחה "
                       "התראה נפרדת (ההתראה האחרונה נשלחה ב-{sent_at}).",
        "alert.latest": "האחרונה: {run}.",
        "alert.subject_still": "sheets-connector: {label} עדיין {title}",
        "alert.works_again": "{command} של {label} עובד שוב: {run} הושלמה.",
        "alert.before": "לפניה {runs:הרצה אחת הסתיימה כך|# הרצות ברצף הסתיימו כך}: {title} (מאז {since}).",
        "alert.nothing_more": "אין צורך לעשות דבר נוסף.",
        "alert.subject_again": "sheets-connector: {label} עובד שוב",
        "alert.unexpected": "שגיאה לא צפויה ({name}); הפרטים ביומן של המחשב או השירות שהריץ אותה",
        "alert.stopped_what": "נעצר לפני שכל השורות נשלחו: {said}",
        "alert.outage": "inwise לא זמינה: {failures} {unit} ברצף לא קיבלו תשובה גם אחרי כל הניסיונות החוזרים ({last}), "
                        "ולכן הסנכרון הפסיק לשלוח. {sent} מתוך {total:שורה אחת|# שורות} {sent:נשלחה וקיבלה|נשלחו וקיבלו} "
                        "תוצאה; {left:בשורה האחרת|ב-# האחרות} כתוב 'לא נשלח: inwise לא זמינה' ושום דבר לא אבד: "
                        "הסנכרון הבא ישלח {left:אותה|אותן}.",
    },
}
