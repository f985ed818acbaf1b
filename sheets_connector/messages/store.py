"""The state store's errors and the disk-room errors, by language: the store that cannot be
opened, written or grown (a full disk, a read-only folder, another program holding it, the
shared database down), a store written by a newer version, a lock lost, a workbook that could
not be saved for lack of room.  Built as ``catalog.said(...)`` in ``state/`` and ``tables/xlsx``;
the English texts are the ones the connector has always printed.
"""
from __future__ import annotations

_LRM = "\u200e"

STORE: dict[str, dict[str, str]] = {
    "en": {
        "store.error": "The connector's state store {path} {what}: {said}. {advice}",
        "store.cannot_open": "cannot be opened",
        "store.cannot_write": "could not be written",
        "store.cannot_read": "could not be read",
        "store.full": "the disk is full",
        "store.read_only": "the folder or file cannot be written",
        "store.io": "a write failed (disk full or a disk error)",
        "store.busy": "another program kept it busy for too long",
        "store.advice_busy": "Another sync (or a program reading the file) is holding it: wait for it to finish, or "
                             "stop a sheets-connector process that is stuck or paused, then run again.",
        "store.advice_room": "Free some disk space or make the folder writable (or choose another folder with "
                             "state_dir in the mapping), then run again.",
        "store.no_room": "The connector's state store {path} needs {wanted} free on its disk to keep what inwise "
                         "answers ({grow} for itself, {spare} to spare), and the disk has only {free} free. Nothing was "
                         "lost. Free at least {more} (or choose another folder with state_dir in the mapping), then "
                         "run again.",
        "store.cannot_grow": "The connector's state store {path} could not grow by {grow}: {said}. Nothing was lost. "
                             "Make {wanted} free on its disk (or choose another folder with state_dir in the mapping), "
                             "then run again.",
        "store.newer": "The connector's state store {path} was written by a newer version of sheets-connector (format "
                       "{format}); update sheets-connector, or point the mapping's state_dir / state_url elsewhere.",
        "store.shared_error": "The connector's shared state store {path} {what}: {said}. Nothing more was sent or "
                              "written. Check that the database is up and reachable from this machine, then run again.",
        "store.pg_unreachable": "the database server cannot be reached ({text})",
        "store.pg_refused": "the database refused the user ({text})",
        "store.pg_missing": "the database does not exist ({text})",
        "store.lost_lock": "This run lost its lock on {label}: {who} took it over after this one gave no sign of life "
                           "for longer than its lease (the computer slept, or the process was paused or cut off from "
                           "the state store). This run stopped without writing anything more; rows it already sent "
                           "keep inwise's answers in the state store, and the next run writes them into the sheet "
                           "without sending them again.",
        "store.lost_to_run": "run #{run} (process {process} on {host})",
        "store.lost_to_other": "another run",
        "store.nothing_done": "{error}\nNothing was sent to inwise and the workbook was not changed.",
    },
    "he": {
        "store.error": "מאגר המצב של המחבר {path} {what}: {said}. {advice}",
        "store.cannot_open": "לא נפתח",
        "store.cannot_write": "לא נכתב",
        "store.cannot_read": "לא נקרא",
        "store.full": "הדיסק מלא",
        "store.read_only": "אי אפשר לכתוב בתיקייה או בקובץ",
        "store.io": "כתיבה נכשלה (הדיסק מלא או תקלה בדיסק)",
        "store.busy": "תוכנה אחרת החזיקה אותו תפוס זמן רב מדי",
        "store.advice_busy": "סנכרון אחר (או תוכנה שקוראת את הקובץ) מחזיק אותו: חכו שיסתיים, או עצרו תהליך "
                             f"{_LRM}sheets-connector{_LRM} שנתקע או הושהה, והריצו שוב.",
        "store.advice_room": "פנו מקום בדיסק או אפשרו כתיבה בתיקייה (או בחרו תיקייה אחרת עם "
                             f"{_LRM}state_dir{_LRM} במיפוי), והריצו שוב.",
        "store.no_room": "מאגר המצב של המחבר {path} צריך {wanted} פנויים בדיסק שלו כדי לשמור את מה ש-inwise עונה "
                         "({grow} בשבילו, {spare} רזרבה), ובדיסק יש רק {free} פנויים. דבר לא אבד. פנו לפחות {more} "
                         f"(או בחרו תיקייה אחרת עם {_LRM}state_dir{_LRM} במיפוי), והריצו שוב.",
        "store.cannot_grow": "מאגר המצב של המחבר {path} לא הצליח לגדול ב-{grow}: {said}. דבר לא אבד. פנו {wanted} "
                             f"בדיסק שלו (או בחרו תיקייה אחרת עם {_LRM}state_dir{_LRM} במיפוי), והריצו שוב.",
        "store.newer": "מאגר המצב של המחבר {path} נכתב על ידי גרסה חדשה יותר של sheets-connector (פורמט {format}); "
                       f"עדכנו את sheets-connector, או כוונו את {_LRM}state_dir{_LRM} / {_LRM}state_url{_LRM} של "
                       "המיפוי למקום אחר.",
        "store.shared_error": "מאגר המצב המשותף של המחבר {path} {what}: {said}. דבר נוסף לא נשלח ולא נכתב. ודאו "
                              "שמסד הנתונים פועל ושאפשר להגיע אליו מהמחשב הזה, והריצו שוב.",
        "store.pg_unreachable": "אי אפשר להגיע לשרת מסד הנתונים ({text})",
        "store.pg_refused": "מסד הנתונים סירב למשתמש ({text})",
        "store.pg_missing": "מסד הנתונים לא קיים ({text})",
        "store.lost_lock": "ההרצה הזו איבדה את הנעילה שלה על {label}: {who} לקחה אותה אחרי שההרצה הזו לא נתנה סימן "
                           "חיים יותר מזמן החכירה שלה (המחשב נרדם, או שהתהליך הושהה או נותק ממאגר המצב). ההרצה "
                           "הזו נעצרה בלי לכתוב דבר נוסף; השורות שכבר נשלחו שומרות את תשובות inwise במאגר המצב, "
                           "וההרצה הבאה תכתוב אותן לגיליון בלי לשלוח אותן שוב.",
        "store.lost_to_run": "הרצה #{run} (תהליך {process} במחשב {host})",
        "store.lost_to_other": "הרצה אחרת",
        "store.nothing_done": "{error}\nדבר לא נשלח ל-inwise וחוברת העבודה לא השתנתה.",
    },
}
