"""What the web service writes itself for the sheet menu, by language: why a run it queued
stopped or failed, and its refusals for a sheet whose mapping is known.  The service renders them
in the sheet's mapping's language; the English texts are the ones it has always answered with.
"""
from __future__ import annotations

SERVICE: dict[str, dict[str, str]] = {
    "en": {
        "service.shutdown": "Stopped because the sync service was shutting down. Rows already sent have their "
                            "result; run the sync again for the rest.",
        "service.lock_lost": "Stopped because this run lost its lock on the spreadsheet (the service went silent for "
                             "longer than the lock's lease and another run took over). Run the sync again for the rest.",
        "service.busy_elsewhere": "Not started: another sync of this spreadsheet was already running outside the "
                                  "sheet menu (from the command line, cron or another scheduler). Nothing was sent. "
                                  "Try again when it has finished; inwise > Last sync result shows how it went.",
        "service.unexpected": "The sync stopped on an unexpected error. Rows already sent keep their result. The "
                              "service's administrator can find the details in its log (run {run}).",
        "service.stale": "The service stopped during this run, so it did not finish. Run it again.",
        "service.busy": "a sync of this spreadsheet is already running",
        "service.no_run_yet": "not found",
    },
    "he": {
        "service.shutdown": "נעצר כי שירות הסנכרון נסגר. לשורות שכבר נשלחו יש תוצאה; הריצו את הסנכרון שוב בשביל "
                            "השאר.",
        "service.lock_lost": "נעצר כי ההרצה הזו איבדה את הנעילה שלה על הגיליון (השירות לא הגיב יותר מזמן הנעילה, "
                             "והרצה אחרת החליפה אותה). הריצו את הסנכרון שוב בשביל השאר.",
        "service.busy_elsewhere": "לא התחיל: סנכרון אחר של הגיליון הזה כבר רץ מחוץ לתפריט הגיליון (משורת הפקודה, "
                                  "מ-cron או מתזמן אחר). דבר לא נשלח. נסו שוב כשהוא יסתיים; inwise > תוצאת הסנכרון "
                                  "האחרון מראה איך הוא הסתיים.",
        "service.unexpected": "הסנכרון נעצר בגלל שגיאה לא צפויה. לשורות שכבר נשלחו נשארת התוצאה שלהן. מנהל השירות "
                              "יכול למצוא את הפרטים ביומן שלו (הרצה {run}).",
        "service.stale": "השירות נעצר במהלך ההרצה הזו, ולכן היא לא הסתיימה. הריצו אותה שוב.",
        "service.busy": "סנכרון של הגיליון הזה כבר רץ",
        "service.no_run_yet": "עדיין לא היה סנכרון של הגיליון הזה",
    },
}
