"""inwise's transport errors and init's "already exists", by language: what the client says when
inwise gave no usable answer after every retry (a row's reason, the pull's error, the outage's
last answer), and why ``init`` writes nothing over an existing mapping.  Built as
``catalog.said(...)``; the English texts are the ones the connector has always printed.
"""
from __future__ import annotations

_LRM = "\u200e"  # a command inside Hebrew text, kept left-to-right

TRANSPORT: dict[str, dict[str, str]] = {
    "en": {
        "net.tries": "{n:1 try|# tries}",
        "net.gave_up": "inwise did not answer after {tries} ({status})",
        "net.rate_limited": "inwise was still rate-limiting us after {tries} ({status})",
        "net.redirect": "inwise answered with a redirect ({status}) to {location}; check the inwise API address",
        "net.answered": "inwise answered {status}",
        "net.answered_said": "inwise answered {status}: {detail}",
        "net.no_answer": "inwise did not answer after {tries} ({why})",
        "net.connect_timeout": "could not connect within {s} s",
        "net.read_timeout": "timed out after {s} s",
        "net.refused": "could not connect to {host}",
        "net.tls": "TLS/SSL error: {detail}",
        "net.chunked": "connection dropped while reading the answer",
        "net.too_many": "too many error answers",
        "net.dropped": "connection dropped",
        "net.feed_failed": "Could not read the new contacts from inwise (GET /contacts): {problem}. Contacts read "
                           "before this were saved; run the pull again later.",
        "net.feed_not_list": "inwise answered GET /contacts with something that is not a list of contacts (starts "
                             "with {start}); {kept}.",
        "net.feed_kept_store": "it was handed to the store before parsing",
        "net.feed_kept_raw": "the answer is kept on this error as raw_body",
        "net.unreachable": "Cannot reach inwise at {url}: {problem}.\nNothing was written to the workbook. Check "
                           "inwise.base_url in the mapping and the network connection, then run the sync again.",
        "net.unreachable_none": "no answer",
        "net.bad_url": "The inwise API address {url} is not an http(s) URL; use e.g. {api}",
        "net.key_spaces": "The inwise API key in {where} contains spaces or characters not allowed in an HTTP "
                          "header; copy the key again from inwise.",
        "net.no_key": "No inwise API key: set {where} to the REST API key of your inwise account.",
        # init
        "init.exists": "{target} already exists; init never overwrites a mapping. Check it with:\n"
                       "  sheets-connector check --config {quoted}\n"
                       "or write a new one under another name with --output NAME.yaml.",
        "init.exists_now": "{target} already exists; init never overwrites a mapping.",
        "init.cannot_write": "Cannot write the mapping {target}: {why}. Choose another place with --output.",
    },
    "he": {
        "net.tries": "{n:ניסיון אחד|# ניסיונות}",
        "net.gave_up": "inwise לא ענתה אחרי {tries} ({status})",
        "net.rate_limited": "inwise עדיין הגבילה את קצב הבקשות אחרי {tries} ({status})",
        "net.redirect": "inwise ענתה בהפניה ({status}) אל {location}; בדקו את כתובת ה-API של inwise",
        "net.answered": "inwise ענתה {status}",
        "net.answered_said": "inwise ענתה {status}: {detail}",
        "net.no_answer": "inwise לא ענתה אחרי {tries} ({why})",
        "net.connect_timeout": "לא ניתן היה להתחבר תוך {s} שניות",
        "net.read_timeout": "לא התקבלה תשובה תוך {s} שניות",
        "net.refused": "לא ניתן היה להתחבר אל {host}",
        "net.tls": "שגיאת TLS/SSL: {detail}",
        "net.chunked": "החיבור נותק באמצע קריאת התשובה",
        "net.too_many": "יותר מדי תשובות שגיאה",
        "net.dropped": "החיבור נותק",
        "net.feed_failed": f"לא ניתן היה לקרוא מ-inwise את אנשי הקשר החדשים ({_LRM}GET /contacts{_LRM}): {{problem}}. "
                           "אנשי הקשר שנקראו לפני כן נשמרו; הריצו את המשיכה שוב מאוחר יותר.",
        "net.feed_not_list": f"inwise ענתה ל-{_LRM}GET /contacts{_LRM} במשהו שאינו רשימת אנשי קשר (מתחיל ב-"
                             "{start}); {kept}.",
        "net.feed_kept_store": "התשובה נמסרה למאגר לפני שנקראה",
        "net.feed_kept_raw": "התשובה שמורה בשגיאה הזו כ-raw_body",
        "net.unreachable": "לא ניתן להגיע אל inwise בכתובת {url}: {problem}.\nדבר לא נכתב לחוברת העבודה. בדקו את "
                           f"{_LRM}inwise.base_url{_LRM} במיפוי ואת החיבור לרשת, והריצו את הסנכרון שוב.",
        "net.unreachable_none": "לא התקבלה תשובה",
        "net.bad_url": "כתובת ה-API של inwise {url} אינה כתובת http(s); כתבו למשל {api}",
        "net.key_spaces": "מפתח ה-API של inwise ב{where} מכיל רווחים או תווים שאסור שיופיעו בכותרת HTTP; העתיקו את "
                          "המפתח שוב מ-inwise.",
        "net.no_key": "אין מפתח API של inwise: הגדירו את {where} למפתח ה-REST API של חשבון ה-inwise שלכם.",
        "init.exists": "{target} כבר קיים; init אף פעם לא כותב מעל מיפוי קיים. בדקו אותו עם:\n"
                       f"  {_LRM}sheets-connector check --config{_LRM} {{quoted}}\n"
                       f"או כתבו מיפוי חדש בשם אחר עם {_LRM}--output NAME.yaml{_LRM}.",
        "init.exists_now": "{target} כבר קיים; init אף פעם לא כותב מעל מיפוי קיים.",
        "init.cannot_write": f"לא ניתן לכתוב את המיפוי {{target}}: {{why}}. בחרו מקום אחר עם {_LRM}--output{_LRM}.",
    },
}
