"""What ``init`` prints about the mapping it wrote, by language: Hebrew when the header row is
Hebrew (the same rule that writes ``language: he``).  The English texts are the ones always printed.
"""
from __future__ import annotations

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
    },
}
