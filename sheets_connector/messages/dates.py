"""What ``check`` and the sync say about a Google Sheet's date columns (``sheet_dates.survey``),
by language: where the sheet's locale and the mapping's date_format disagree, and where a column
mixes real dates with dates typed as text.  The English texts are the ones always printed.
"""
from __future__ import annotations

_LRM = "\u200e"

DATES: dict[str, dict[str, str]] = {
    "en": {
        "dates.column": "'{header}' (column {letter})",
        "dates.row": "row {numbers}",
        "dates.rows": "rows {numbers}{more}",
        "dates.row_start": "Row {numbers}",
        "dates.rows_start": "Rows {numbers}{more}",
        "dates.more": " and {n} more",
        "dates.disagree": "{column}: this spreadsheet's locale is {locale}, which reads a typed date {reads} "
                          "(03/04/1985 is {example}), while the mapping's date_format ({pattern}) is {way}. A date "
                          "typed {way} in this sheet is stored with day and month swapped, or kept as text when its "
                          "first number is over 12.{both}{bad} To fix: in the sheet choose File > Settings > Locale "
                          "and pick your country (for dates {way}), then retype those dates; or, if this sheet is "
                          "meant to be {reads}, set date_format to {fmt} in the mapping.",
        "dates.both_one": " {rows} holds a date that reads both ways (row {n} shows {shown}, which the sheet holds as "
                          "{held} and the connector sends as {sent}): check it.",
        "dates.both_many": " {rows} hold dates that read both ways (row {n} shows {shown}, which the sheet holds as "
                           "{held} and the connector sends as {sent}): check them.",
        "dates.bad_one": " {rows} ('{text}') is no date read {reads}, so it is not sent.",
        "dates.bad_many": " {rows} ('{text}', ...) are no date read {reads}, so they are not sent.",
        "dates.mixed": "{column} mixes real dates ({real}) with dates typed as text ({typed}, e.g. '{text}' on row "
                       "{n}). The connector reads the text ones the way this sheet's locale ({locale}) reads dates, "
                       "{reads}{bad}. To fix: select the column, choose Format > Number > Date, and type those dates "
                       "again so the sheet turns them into real dates (check how it shows them).",
        "dates.mixed_bad_one": "; {rows} cannot be read that way and is not sent",
        "dates.mixed_bad_many": "; {rows} cannot be read that way and are not sent",
    },
    "he": {
        "dates.column": "עמודה \"{header}\" ({letter})",
        "dates.row": "שורה {numbers}",
        "dates.rows": "שורות {numbers}{more}",
        "dates.row_start": "שורה {numbers}",
        "dates.rows_start": "שורות {numbers}{more}",
        "dates.more": " ועוד {n}",
        "dates.disagree": "{column}: האזור של הגיליון הזה הוא {locale}, והוא קורא תאריך מוקלד בסדר {reads} "
                          f"({_LRM}03/04/1985{_LRM} הוא {{example}}), ואילו date_format במיפוי ({{pattern}}) הוא בסדר "
                          "{way}. תאריך שמוקלד בגיליון הזה בסדר {way} נשמר כשהיום והחודש מוחלפים, או נשאר טקסט "
                          "כשהמספר הראשון גדול מ-12.{both}{bad} לתיקון: בגיליון בחרו קובץ > הגדרות > אזור ובחרו את "
                          "המדינה שלכם (לתאריכים בסדר {way}), ואז הקלידו שוב את התאריכים האלה; או, אם הגיליון אמור "
                          "להיות בסדר {reads}, כתבו במיפוי date_format: {fmt}.",
        "dates.both_one": " ב{rows} יש תאריך שאפשר לקרוא בשני הכיוונים (בשורה {n} מופיע {shown}, שהגיליון שומר "
                          "כ-{held} והמחבר שולח כ-{sent}): בדקו אותו.",
        "dates.both_many": " ב{rows} יש תאריכים שאפשר לקרוא בשני הכיוונים (בשורה {n} מופיע {shown}, שהגיליון שומר "
                           "כ-{held} והמחבר שולח כ-{sent}): בדקו אותם.",
        "dates.bad_one": " ב{rows} ('{text}') אין תאריך שאפשר לקרוא בסדר {reads}, ולכן היא לא נשלחת.",
        "dates.bad_many": " ב{rows} ('{text}', ...) אין תאריך שאפשר לקרוא בסדר {reads}, ולכן הן לא נשלחות.",
        "dates.mixed": "ב{column} יש גם תאריכים אמיתיים ({real}) וגם תאריכים שהוקלדו כטקסט ({typed}, למשל '{text}' "
                       "בשורה {n}). המחבר קורא את תאריכי הטקסט כמו שהאזור של הגיליון ({locale}) קורא תאריכים, בסדר "
                       "{reads}{bad}. לתיקון: סמנו את העמודה, בחרו עיצוב > מספר > תאריך, והקלידו שוב את התאריכים "
                       "האלה כדי שהגיליון יהפוך אותם לתאריכים אמיתיים (בדקו איך הם מוצגים).",
        "dates.mixed_bad_one": "; את {rows} אי אפשר לקרוא כך והיא לא נשלחת",
        "dates.mixed_bad_many": "; את {rows} אי אפשר לקרוא כך והן לא נשלחות",
    },
}
