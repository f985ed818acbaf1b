"""What ``runs show`` prints about one run, by language (the run's mapping's, kept in its summary).

Filled by ``messages.render``; the rows' reasons come from ``rows.py``.  English texts are the
ones ``runs show`` has always printed.
"""
from __future__ import annotations

RUNS: dict[str, dict[str, str]] = {
    "en": {
        "runs.title": "Run #{id}: {command} of {label}",
        "runs.started": "  started {when} from the {trigger}, {status}",
        "runs.after": " after {duration}",
        "runs.rows": "  rows: {counts}",
        "runs.none": "none",
        "runs.sent": "  sent to inwise: {calls}",
        "runs.retries": " (+{n} retries)",
        "runs.new_contacts": "  new contacts: {pulled} pulled, {added} added to the sheet",
        "runs.error": "  error: {text}",
        "runs.warning": "  warning: {text}",
        "runs.count": "{what} {n}",
        "runs.seconds": "{s:.1f} s",
        "runs.minutes": "{m} min {s} s",
        "runs.h_run": "run", "runs.h_started": "started", "runs.h_sheet": "sheet", "runs.h_trigger": "trigger",
        "runs.h_status": "status", "runs.h_took": "took", "runs.h_rows": "rows", "runs.h_error": "error",
        "runs.none_yet": "No runs yet in {path}.",
        "runs.trigger_cli": "command line", "runs.trigger_menu": "sheet menu", "runs.trigger_schedule": "schedule",
        "runs.status_ok": "done", "runs.status_failed": "failed", "runs.status_stopped": "stopped by you",
        "runs.status_crashed": "stopped unexpectedly", "runs.status_running": "running",
        "runs.running_stage": "{status} ({stage})",
        "runs.created": "created", "runs.updated": "updated", "runs.unchanged": "unchanged", "runs.conflict": "conflict",
        "runs.invalid": "invalid", "runs.missing": "no email or mobile", "runs.duplicate": "duplicate",
        "runs.error_rows": "error", "runs.held": "held back (do not sync)", "runs.no_consent": "not sent: no consent",
    },
    "he": {
        "runs.title": "הרצה #{id}: {command} של {label}",
        "runs.started": "  התחילה ב-{when} מ{trigger}, {status}",
        "runs.after": " אחרי {duration}",
        "runs.rows": "  שורות: {counts}",
        "runs.none": "אין",
        "runs.sent": "  נשלח ל-inwise: {calls}",
        "runs.retries": " (+{n:ניסיון חוזר אחד|# ניסיונות חוזרים})",
        "runs.new_contacts": "  אנשי קשר חדשים: {pulled:אחד נמשך|# נמשכו}, {added:אחד נוסף|# נוספו} לגיליון",
        "runs.error": "  שגיאה: {text}",
        "runs.warning": "  אזהרה: {text}",
        "runs.count": "{what} {n}",
        "runs.seconds": "{s:.1f} שניות",
        "runs.minutes": "{m} דק׳ {s} שנ׳",
        "runs.h_run": "הרצה", "runs.h_started": "התחילה", "runs.h_sheet": "גיליון", "runs.h_trigger": "הופעלה מ",
        "runs.h_status": "מצב", "runs.h_took": "משך", "runs.h_rows": "שורות", "runs.h_error": "שגיאה",
        "runs.none_yet": "עדיין אין הרצות ב-{path}.",
        "runs.trigger_cli": "שורת הפקודה", "runs.trigger_menu": "תפריט הגיליון", "runs.trigger_schedule": "לוח הזמנים",
        "runs.status_ok": "הסתיימה", "runs.status_failed": "נכשלה", "runs.status_stopped": "נעצרה על ידיכם",
        "runs.status_crashed": "נעצרה באופן לא צפוי", "runs.status_running": "רצה",
        "runs.running_stage": "{status} ({stage})",
        "runs.created": "נוצרו", "runs.updated": "עודכנו", "runs.unchanged": "ללא שינוי", "runs.conflict": "התנגשויות",
        "runs.invalid": "לא תקינות", "runs.missing": "אין אימייל או נייד", "runs.duplicate": "כפולות",
        "runs.error_rows": "שגיאות", "runs.held": "מעוכבות (לא לסנכרן)", "runs.no_consent": "לא נשלחו: אין הסכמה",
    },
}
