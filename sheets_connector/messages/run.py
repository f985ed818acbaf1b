"""What a run says about itself, by language: the summary's warnings and errors (the CLI, the
sheet menu, ``runs show``).  Built as ``catalog.said(...)`` where the run notices them; the
English texts are the ones the connector has always printed.
"""
from __future__ import annotations

_LRM = "\u200e"  # a command-line option inside Hebrew text, kept left-to-right

RUN: dict[str, dict[str, str]] = {
    "en": {
        "run.warning_line": "Warning: {text}",
        "run.error_line": "Error: {text}",
        "run.retries": " (+{n} retries)",
        # stopped
        "run.stopped_before_send": "Stopped before anything was sent; nothing was written.",
        "run.stopped_send": "Stopped by you: {sent} of {total} rows were sent and have their result; the other {left} "
                            "say 'not sent'. Run the sync again to send them.",
        "run.stopped_other": "Stopped ({reason}): {sent} of {total} rows were sent and have their result; the other "
                             "{left} keep their previous result and are sent by the next sync.",
        "run.stopped_after_write": "Stopped by you once the results were written: every row has its result.",
        "run.stopped_pull": "Stopped by you while reading inwise's new contacts: every row was sent and has its "
                            "result (rows not yet matched to a new contact say '✓ synced'); the rest of the new "
                            "contacts are added by the next sync or pull-new.",
        "run.stopped_before_feed": "Stopped by you before inwise's new contacts were read; they stay in inwise's feed "
                                   "and arrive with the next run.",
        # what inwise answered
        "run.recovered": "{n} row(s) were answered by inwise in an earlier run that stopped before saving; their "
                         "results were written now, without sending them again.",
        "run.no_id": "inwise accepted {n} row(s) without saying which contact they are (no id in its answer); "
                     "they say '✓ sent' and were applied. Run `sheets-connector probe` and attach its recording "
                     "to a bug report so the connector can read inwise's answer.",
        "run.batch_failed": "inwise reported {n} failed row(s) in {batches} batch(es); batchInsert does not say which, "
                            "so those batches' rows are marked 'updated?'. Run with mode: upsert to get a result for "
                            "every row (conflicts, refusals).",
        "run.outage": "inwise is unavailable: {failures} {unit} in a row got no answer after every retry ({last}), so "
                      "the sync stopped sending. {sent} of {total} rows were sent and have their result; the other "
                      "{left} say 'not sent: inwise unavailable' and nothing was lost: the next sync sends them. "
                      "{advice}",
        "run.outage_advice": "Run the sync again later (a scheduled run does so by itself); if this lasts, check "
                             "inwise's status or ask inwise support.",
        "run.unit_rows": "rows",
        "run.unit_batches": "batches",
        "run.no_answer": "no answer",
        # the new-contacts feed
        "run.feed_failed": "Could not read inwise's list of new contacts ({error}). Every row's result is written, "
                           "but created and updated rows cannot be told apart this time (they say '✓ synced'); new "
                           "contacts will be added to the new-contacts tab by the next sync or pull-new.",
        "run.feed_cut": "{n} answer(s) of inwise's new-contacts feed were cut off in transit; inwise hands each new "
                        "contact out only once, so some new contacts may be missing from the new-contacts tab. "
                        "They are still in inwise: export recent contacts there to check.",
        "run.feed_killed": "{run} stopped (killed or crashed) at {when} UTC while inwise was sending it new "
                           "contacts. inwise hands each new contact out only once, so up to 1,000 contacts created in "
                           "inwise before then may be missing from the new-contacts tab. They are still in inwise: "
                           "export the contacts created before that time there to check.",
        "run.run_n": "run #{id}",
        "run.a_run": "a run",
        "run.feed_read_back": "{n} new contact(s) kept in {path} by an earlier run were read back into the state store "
                              "(the file is removed).",
        "run.feed_reread": "Feed answer #{id} kept in {path} was read again: it now gives {n} contact(s).",
        "run.feed_unreadable": "inwise's new-contacts feed answered something this version cannot read ({what}). The "
                               "answer is kept, as received, in the state store {path} (feed answer #{id}) and is read "
                               "again by every later run, so a newer sheets-connector that understands it adds its "
                               "contacts. The rest of the feed is read by the next run.",
        "run.not_contacts": "not a list of contacts",
        "run.feed_bad_items": "Some items of inwise's new-contacts feed are not contacts ({shown}). They are kept, as "
                              "received, in the state store {path} (feed answer #{id}); the {n} other contact(s) of "
                              "that answer were read as usual.",
        "run.feed_elsewhere": "inwise's new-contacts feed of this account is being read by another state store: {n} "
                               "contact(s) this run sent (inwise ids {shown}) were created in inwise after this store's "
                               "last read, yet the feed did not give them now. inwise hands each new contact out only "
                               "once, so another mapping or machine with a different state store took them: they are "
                               "missing from this sheet's new-contacts tab, and rows that created them say 'updated'. "
                               "Point every mapping of this inwise account at one state store (the same state_url, or "
                               "SHEETS_CONNECTOR_STATE_URL), this one is {url}; then export the contacts created in "
                               "inwise recently to find the missing ones.",
        "run.new_contacts_off": "new_contacts.enabled is false in the mapping: nothing to do.",
        # the state store and the sheet
        "run.store_failed": "{error}\nEvery row still gets its result in the sheet, but the store could not remember "
                            "them: the next run sends those rows again.",
        "run.store_feed_not_read": "{error}\nNew contacts not read yet stay in inwise's feed.",
        "run.store_feed_partial": "{error}\nThe rows' results are written; new contacts not read yet stay in inwise's "
                                  "feed.",
        "run.unplaced": "{n} result(s) could not be written into the sheet: {shown}{more}.",
        "run.unplaced_row": "row {row}: {reason}",
        "run.unplaced_more": " (and {n} more)",
        "run.alert_failed": "The alert about this run could not be sent by {channel}.",
        "run.other_tab": "You started this from the tab '{worksheet}'; this spreadsheet's mapping syncs the tab "
                         "'{synced}', so that tab was synced.",
        # the results could not be saved: where they are instead
        "run.not_saved": "The results could not be saved into {location} ({error}).",
        "run.kept": "{problem}\nThe contacts WERE sent to inwise. {where}Newly created contacts are kept and will be "
                    "added to the sheet on the next run.",
        "run.kept_csv": "Each row's result is in {path}. ",
        "run.kept_no_csv": "The rows' results could not be kept in a CSV file either (no room or no permission next "
                           "to the workbook, in the current folder or in the temporary folder); inwise's answers are "
                           "kept in the connector's state store and the next run writes them into the sheet. ",
        "run.stopped_at_once": "Stopped at once: the results were NOT written into {location}. {where}\n{sent} rows "
                               "have a result there; inwise's answers and the contacts it created are kept and the "
                               "next run writes them into the sheet. Run the sync again.",
        "run.at_once_csv": "Each row's result is in {path}.",
        "run.at_once_no_csv": "The rows' results could not be kept in a CSV file either (no room or no permission "
                              "next to the workbook, in the current folder or in the temporary folder); inwise's "
                              "answers are kept in the connector's state store and the next run writes them into the "
                              "sheet.",
        # another run holds the sheet
        "run.busy_who": "Another {what} of {label} is running ({who}, started {since}, process {process} on {host}).",
        "run.busy": "{busy} Only one run at a time may write a workbook. Wait for it to finish (see: sheets-connector "
                    "runs), or run again with --wait to start as soon as it ends.",
        "run.another_run": "another run",
        "run.waiting": "Waiting: {busy}",
        # the command line
        "run.stage_send": "Sending to inwise",
        "run.stage_pull": "Pulling new contacts",
        "init.api_key": "<your inwise API key>",
        "cli.unexpected": "Unexpected error: {error}\nNothing was lost; run the same command with --debug to see the "
                          "details and report them.",
        "cli.stopped": "Stopped by you. Nothing was lost: run the same command again to finish.",
    },
    "he": {
        "run.warning_line": "אזהרה: {text}",
        "run.error_line": "שגיאה: {text}",
        "run.retries": " (+{n:ניסיון חוזר אחד|# ניסיונות חוזרים})",
        "run.stopped_before_send": "נעצר לפני שנשלח משהו; דבר לא נכתב.",
        "run.stopped_send": "נעצר על ידיכם: {sent} מתוך {total:שורה אחת|# שורות} {sent:נשלחה וקיבלה|נשלחו וקיבלו} תוצאה; "
                            "{left:בשורה האחרת|ב-# האחרות} כתוב 'לא נשלח'. הריצו את הסנכרון שוב כדי לשלוח {left:אותה|אותן}.",
        "run.stopped_other": "נעצר ({reason}): {sent} מתוך {total:שורה אחת|# שורות} {sent:נשלחה וקיבלה|נשלחו וקיבלו} תוצאה; "
                             "{left:השורה האחרת נשארת עם התוצאה הקודמת שלה ותישלח|# האחרות נשארות עם התוצאה הקודמת שלהן ויישלחו} "
                             "בסנכרון הבא.",
        "run.stopped_after_write": "נעצר על ידיכם אחרי שהתוצאות נכתבו: לכל שורה יש תוצאה.",
        "run.stopped_pull": "נעצר על ידיכם בזמן קריאת אנשי הקשר החדשים מ-inwise: כל השורות נשלחו וקיבלו תוצאה (בשורות "
                            "שעוד לא הותאמו לאיש קשר חדש כתוב '✓ סונכרן'); שאר אנשי הקשר החדשים יתווספו בסנכרון הבא "
                            "או ב-pull-new.",
        "run.stopped_before_feed": "נעצר על ידיכם לפני שאנשי הקשר החדשים נקראו מ-inwise; הם נשארים ב-inwise ויגיעו "
                                   "בהרצה הבאה.",
        "run.recovered": "{n:שורה אחת קיבלה|# שורות קיבלו} תשובה מ-inwise בהרצה קודמת שנעצרה לפני השמירה; "
                         "{n:התוצאה שלה נכתבה עכשיו, בלי לשלוח אותה|התוצאות שלהן נכתבו עכשיו, בלי לשלוח אותן} שוב.",
        "run.no_id": "inwise קיבלה {n:שורה אחת|# שורות} בלי לומר לאיזה איש קשר {n:היא שייכת|הן שייכות} (אין מזהה בתשובה); "
                     "כתוב {n:בה|בהן} '✓ נשלח' {n:והיא נקלטה|והן נקלטו}. הריצו `sheets-connector probe` וצרפו את ההקלטה שלו לדיווח על תקלה, כדי שהמחבר ידע "
                     "לקרוא את התשובה של inwise.",
        "run.batch_failed": "inwise דיווחה על שורות שנכשלו (שורות: {n}, בקבוצות שליחה: {batches}) בלי לומר אילו, "
                            "ולכן בשורות של הקבוצות האלה כתוב 'עודכן?'. הריצו עם mode: upsert כדי לקבל תוצאה לכל "
                            "שורה (התנגשויות, דחיות).",
        "run.outage": "inwise לא זמינה: {failures} {unit} ברצף לא קיבלו תשובה גם אחרי כל הניסיונות החוזרים ({last}), "
                      "ולכן הסנכרון הפסיק לשלוח. {sent} מתוך {total:שורה אחת|# שורות} {sent:נשלחה וקיבלה|נשלחו וקיבלו} "
                      "תוצאה; {left:בשורה האחרת|ב-# האחרות} כתוב 'לא נשלח: inwise לא זמינה' ושום דבר לא אבד: "
                      "הסנכרון הבא ישלח {left:אותה|אותן}. {advice}",
        "run.outage_advice": "הריצו את הסנכרון שוב מאוחר יותר (הרצה מתוזמנת עושה זאת לבד); אם זה נמשך, בדקו את מצב "
                             "השירות של inwise או פנו לתמיכה של inwise.",
        "run.unit_rows": "שורות",
        "run.unit_batches": "קבוצות שליחה",
        "run.no_answer": "אין תשובה",
        "run.feed_failed": "לא ניתן היה לקרוא מ-inwise את רשימת אנשי הקשר החדשים ({error}). התוצאה של כל שורה נכתבה, "
                           "אבל הפעם אי אפשר להבחין בין שורות שנוצרו לשורות שעודכנו (כתוב בהן '✓ סונכרן'); אנשי הקשר "
                           "החדשים יתווספו ללשונית אנשי הקשר החדשים בסנכרון הבא או ב-pull-new.",
        "run.feed_cut": "{n:תשובה אחת|# תשובות} של inwise עם אנשי קשר חדשים {n:נקטעה|נקטעו} בדרך; inwise מוסרת כל איש קשר חדש פעם אחת בלבד, "
                        "ולכן ייתכן שחסרים אנשי קשר בלשונית אנשי הקשר החדשים. הם עדיין נמצאים ב-inwise: ייצאו משם את "
                        "אנשי הקשר האחרונים כדי לבדוק.",
        "run.feed_killed": "{run} נעצרה (נסגרה בכוח או קרסה) ב-{when} UTC בזמן ש-inwise שלחה לה אנשי קשר חדשים. "
                           "inwise מוסרת כל איש קשר חדש פעם אחת בלבד, ולכן ייתכן שעד 1,000 אנשי קשר שנוצרו ב-inwise "
                           "לפני כן חסרים בלשונית אנשי הקשר החדשים. הם עדיין נמצאים ב-inwise: ייצאו משם את אנשי הקשר "
                           "שנוצרו לפני השעה הזו כדי לבדוק.",
        "run.run_n": "הרצה #{id}",
        "run.a_run": "הרצה קודמת",
        "run.feed_read_back": "{n:איש קשר חדש אחד|# אנשי קשר חדשים} שהרצה קודמת שמרה בקובץ {path} "
                              "{n:נקרא|נקראו} חזרה אל מאגר המצב (הקובץ נמחק).",
        "run.feed_reread": "תשובה #{id} של inwise שנשמרה ב-{path} נקראה שוב: יש בה עכשיו {n:איש קשר אחד|# אנשי קשר}.",
        "run.feed_unreadable": "inwise החזירה ברשימת אנשי הקשר החדשים משהו שהגרסה הזו לא יודעת לקרוא ({what}). "
                               "התשובה נשמרה כפי שהתקבלה במאגר המצב {path} (תשובה #{id}), וכל הרצה הבאה תקרא אותה שוב, "
                               "כך שגרסה חדשה יותר של sheets-connector שמבינה אותה תוסיף את אנשי הקשר שבה. את שאר "
                               "הרשימה תקרא ההרצה הבאה.",
        "run.not_contacts": "לא רשימה של אנשי קשר",
        "run.feed_bad_items": "חלק מהפריטים ברשימת אנשי הקשר החדשים של inwise אינם אנשי קשר ({shown}). הם נשמרו כפי "
                              "שהתקבלו במאגר המצב {path} (תשובה #{id}); "
                              "{n:איש הקשר האחר בתשובה נקרא|# אנשי הקשר האחרים בתשובה נקראו} כרגיל.",
        "run.feed_elsewhere": "מאגר מצב אחר קורא את רשימת אנשי הקשר החדשים של חשבון ה-inwise הזה: "
                               "{n:איש קשר אחד|# אנשי קשר} שההרצה הזו שלחה (מזהי inwise {shown}) {n:נוצר|נוצרו} ב-inwise אחרי הקריאה האחרונה של המאגר "
                               "הזה, ובכל זאת הרשימה לא החזירה אותם עכשיו. inwise מוסרת כל איש קשר חדש פעם אחת בלבד, "
                               "ולכן מיפוי או מחשב אחר עם מאגר מצב אחר לקח אותם: הם חסרים בלשונית אנשי הקשר החדשים "
                               "של הגיליון הזה, ובשורות שיצרו אותם כתוב 'עודכן'. כוונו את כל המיפויים של חשבון "
                               "ה-inwise הזה למאגר מצב אחד (אותו state_url, או SHEETS_CONNECTOR_STATE_URL), המאגר "
                               "הזה הוא {url}; אחר כך ייצאו מ-inwise את אנשי הקשר שנוצרו לאחרונה כדי למצוא את החסרים.",
        "run.new_contacts_off": "במיפוי כתוב new_contacts.enabled: false, כך שאין מה לעשות.",
        "run.store_failed": "{error}\nכל שורה עדיין מקבלת את התוצאה שלה בגיליון, אבל מאגר המצב לא הצליח לשמור אותן: "
                            "ההרצה הבאה תשלח את השורות האלה שוב.",
        "run.store_feed_not_read": "{error}\nאנשי קשר חדשים שעוד לא נקראו נשארים ב-inwise.",
        "run.store_feed_partial": "{error}\nהתוצאות של השורות נכתבו; אנשי קשר חדשים שעוד לא נקראו נשארים ב-inwise.",
        "run.unplaced": "{n:תוצאה אחת לא נכתבה|# תוצאות לא נכתבו} בגיליון: {shown}{more}.",
        "run.unplaced_row": "שורה {row}: {reason}",
        "run.unplaced_more": " (ועוד {n})",
        "run.alert_failed": "לא ניתן היה לשלוח את ההתראה על ההרצה הזו דרך {channel}.",
        "run.other_tab": "הפעלתם את זה מהלשונית '{worksheet}'; המיפוי של הגיליון הזה מסנכרן את הלשונית '{synced}', "
                         "ולכן היא זו שסונכרנה.",
        "run.not_saved": "לא ניתן היה לשמור את התוצאות ב-{location} ({error}).",
        "run.kept": "{problem}\nאנשי הקשר כן נשלחו ל-inwise. {where}אנשי הקשר החדשים שנוצרו שמורים ויתווספו לגיליון "
                    "בהרצה הבאה.",
        "run.kept_csv": "התוצאה של כל שורה נמצאת בקובץ {path}. ",
        "run.kept_no_csv": "גם קובץ CSV עם התוצאות של השורות לא נכתב (אין מקום או הרשאה ליד הקובץ, בתיקייה הנוכחית "
                           "או בתיקייה הזמנית); התשובות של inwise שמורות במאגר המצב של המחבר, וההרצה הבאה תכתוב אותן "
                           "לגיליון. ",
        "run.stopped_at_once": "נעצר מיד: התוצאות לא נכתבו ב-{location}. {where}\n"
                               "{sent:לשורה אחת יש שם תוצאה|ל-# שורות יש שם תוצאה}; התשובות של inwise ואנשי הקשר "
                               "שהיא יצרה שמורים, וההרצה הבאה תכתוב אותם לגיליון. הריצו את הסנכרון שוב.",
        "run.at_once_csv": "התוצאה של כל שורה נמצאת בקובץ {path}.",
        "run.at_once_no_csv": "גם קובץ CSV עם התוצאות של השורות לא נכתב (אין מקום או הרשאה ליד הקובץ, בתיקייה "
                              "הנוכחית או בתיקייה הזמנית); התשובות של inwise שמורות במאגר המצב של המחבר, וההרצה "
                              "הבאה תכתוב אותן לגיליון.",
        "run.busy_who": "הרצה אחרת ({what}) של {label} פועלת עכשיו ({who}, התחילה ב-{since}, תהליך {process} "
                        "במחשב {host}).",
        "run.busy": "{busy} רק הרצה אחת בכל פעם יכולה לכתוב לחוברת העבודה. חכו שהיא תסתיים (ראו: sheets-connector "
                    f"runs), או הריצו שוב עם {_LRM}--wait{_LRM} כדי להתחיל ברגע שהיא תסתיים.",
        "run.another_run": "הרצה אחרת",
        "run.waiting": "ממתין: {busy}",
        "run.stage_send": "שולח ל-inwise",
        "run.stage_pull": "מושך אנשי קשר חדשים",
        "init.api_key": "<מפתח ה-API שלכם מ-inwise>",
        "cli.unexpected": "שגיאה לא צפויה: {error}\nשום דבר לא אבד; הריצו את אותה פקודה עם "
                          f"{_LRM}--debug{_LRM} כדי לראות את "
                          "הפרטים, ודווחו עליהם.",
        "cli.stopped": "נעצר על ידיכם. שום דבר לא אבד: הריצו את אותה פקודה שוב כדי לסיים.",
    },
}
