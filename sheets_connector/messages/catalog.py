"""Messages as data: an id and its values, rendered in a language where they are shown.

A row's reason (``invalid email "dana@": nothing after the @ (column 'Email') - fix the cell
and sync again``) is built once, where the row is checked, as a :class:`Msg`: the id of a text
and the values that fill it, never as words in one language.  The results column, the summary,
the CSV, the dry run and ``runs show`` each render it in the mapping's language with
:func:`render` - the way gettext catalogs work, with ids instead of English source strings.

A value may itself be a :class:`Msg` (a reason inside "invalid email ...: {reason}"), a tuple
of them (joined with "; "), a ``datetime.date`` (spoken with the month's name) or a
:class:`Country` (its name in the language).  A ``Msg`` is a small tuple: cheap to build in the
mapping's worker processes and to pickle back, hashable (a cached reason is shared by every
row with the same cell), and stored as JSON by :func:`to_json` / :func:`from_json`.

A count takes the noun's right form in Hebrew: a text writes ``{n:שורה אחת|# שורות}`` (the
form for one, then the form for any other count, ``#`` standing for the number), so 1 reads
"שורה אחת" and 3 reads "3 שורות"; :func:`fill` does this for every text here and in
``messages/__init__.py``.  English texts keep their "row(s)" wording.

Hebrew rendering keeps mixed text readable: each Latin or number value (an email, a header
``Email``, ``+972...``) is wrapped in left-to-right marks (U+200E), so the quotes and colons
around it stay on the right side in Excel and Google Sheets.  The connector's readers remove
these marks (``normalize.clean_text``).
"""
from __future__ import annotations

import datetime as _dt
import re
import string
from collections.abc import Mapping
from typing import Any, NamedTuple

LRM = "\u200e"


class Country(NamedTuple):
    """A country in a message, by its region code: rendered as its name in the language."""

    code: str


class Place(NamedTuple):
    """Where the rows are, as the tables name it ("contacts.xlsx, sheet 'Contacts'", "Google Sheet
    'Members', tab 'Contacts'"): in Hebrew the words around the names are Hebrew (:func:`place_text`)."""

    text: str


_MAPPING_LINE = re.compile(r"^(?P<file>.+), line (?P<line>\d+) \((?P<key>[^()]+)\)$", re.S)
_XLSX_PLACE = re.compile(r"^(?P<file>.+), sheet '(?P<sheet>.*)'$", re.S)
_GOOGLE_PLACE = re.compile(r"^Google Sheet (?P<title>'.*?'|\S+)(?:, tab '(?P<sheet>.*)')?$", re.S)


def place_text(text: str, language: str | None) -> str:
    """A table's location in the language: the file and tab names as typed, the words around them
    translated (a run recorded by any version names its sheet this way)."""
    if language != "he":
        return text
    m = _MAPPING_LINE.match(text)
    if m:
        return f"{_ltr(m['file'], 'he')}, שורה {m['line']} ({_ltr(m['key'], 'he')})"
    m = _GOOGLE_PLACE.match(text)
    if m:
        tab = f", לשונית '{_ltr(m['sheet'], 'he')}'" if m["sheet"] is not None else ""
        return f"{LRM}Google Sheet{LRM} {_ltr(m['title'], 'he')}{tab}"
    m = _XLSX_PLACE.match(text)
    if m:
        return f"{_ltr(m['file'], 'he')}, לשונית '{_ltr(m['sheet'], 'he')}'"
    return _ltr(text, "he")


class Joined(NamedTuple):
    """Values shown one after another with ``sep`` between them (each rendered in the language)."""

    sep: str
    items: tuple[Any, ...]


class CountryWords(NamedTuple):
    """A country as the kind of its numbers ("Israeli mobile numbers"): the English adjective, or
    the country's name in Hebrew ("מספרי נייד של ישראל")."""

    code: str


class Msg(NamedTuple):
    """A message: the id of a text in the catalogs and the values that fill its placeholders."""

    id: str
    args: tuple[tuple[str, Any], ...] = ()

    def text(self, language: str | None = "en") -> str:
        return render(self, language)

    def __str__(self) -> str:  # English: what logs and old callers see
        return render(self, "en")


def msg(key: str, /, **args: Any) -> Msg:
    return Msg(key, tuple(args.items()))


def plain(text: str) -> Msg:
    """Words that are already words (another system's message, a run recorded before messages had
    ids): shown as they are in every language."""
    return Msg("plain", (("text", text),))


class Said(str):
    """A message's English words that keep the message they came from.

    The run summary's warnings and error are text (the CLI, ``--json``, the alerts and the tests
    read them as such); a ``Said`` is that English text, and :func:`in_language` renders the same
    message in the mapping's language where staff read it.  The summary stores the messages beside
    the words (:func:`said_json`), so a run recorded before them still shows its words."""

    message: Msg

    def __new__(cls, message: Msg) -> Said:
        self = super().__new__(cls, render(message, "en"))
        self.message = message
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by its message, not its words
        return (Said, (self.message,))


def said(key: str, /, **args: Any) -> Said:
    return Said(msg(key, **args))


def in_language(text: str, language: str | None) -> str:
    """A warning or error in the language: a :class:`Said` rendered, other words as they are."""
    return render(text.message, language) if isinstance(text, Said) else text


def error_words(e: BaseException) -> str:
    """An error's words: its ``Said`` when it was raised with one (so it can be said in the
    mapping's language), else its text as it is."""
    words = getattr(e, "words", None)
    if callable(words):  # an error that adds where to fix it (the mapping's line) to its message
        said_words = words()
        if isinstance(said_words, Said) and said_words == str(e):
            return said_words
    text = e.args[0] if len(e.args) == 1 else None
    return text if isinstance(text, Said) and str(e) == text else str(e)


def said_json(texts: Any) -> dict[str, Any]:
    """{English words: stored message} for the ``Said`` among ``texts`` (what a summary stores)."""
    return {str(t): to_json(t.message) for t in texts if isinstance(t, Said)}


def said_from_json(text: str, stored: Any, language: str | None) -> str:
    """Stored words in the language: their message when it was stored, else the words as they are."""
    if isinstance(stored, Mapping) and isinstance(stored.get(text), Mapping):
        message = from_json(stored[text])
        if message.id != "plain":  # an id this version does not know: the words as they were
            return render(message, language)
    return text


def _catalogs() -> dict[str, dict[str, str]]:
    from .alerts import ALERTS
    from .checks import CHECK
    from .dates import DATES
    from .errors import ERRORS
    from .google import GOOGLE
    from .init import INIT
    from .mapping import MAPPING
    from .rows import ROWS
    from .run import RUN
    from .runs import RUNS
    from .service import SERVICE
    from .store import STORE
    from .transport import TRANSPORT
    from .workbook import WORKBOOK

    return {lang: {**ROWS[lang], **CHECK[lang], **RUNS[lang], **RUN[lang], **DATES[lang], **INIT[lang], **SERVICE[lang],
                   **ERRORS[lang], **TRANSPORT[lang], **WORKBOOK[lang], **STORE[lang], **ALERTS[lang], **GOOGLE[lang], **MAPPING[lang]}
            for lang in ROWS}


_CATALOGS: dict[str, dict[str, str]] = {}


def catalog(language: str | None) -> dict[str, str]:
    """Every message text of one language, by id."""
    if not _CATALOGS:
        _CATALOGS.update(_catalogs())
    return _CATALOGS["he" if language == "he" else "en"]


class _Formatter(string.Formatter):
    """``str.format`` plus the count forms ``{n:one|# many}`` (see the module docstring)."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if value == 1 else many.replace("#", str(value))
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def fill(text: str, /, **values: Any) -> str:
    """A text's placeholders filled in, with the count forms ``{n:one|# many}``."""
    return _FORMATTER.vformat(text, (), values)


def render(message: Msg | str, language: str | None = "en") -> str:
    if isinstance(message, str):
        return message
    lang = "he" if language == "he" else "en"
    values = {k: _value(v, lang) for k, v in message.args}
    return fill(catalog(lang)[message.id], **values)


FULL_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "he": ("בינואר", "בפברואר", "במרץ", "באפריל", "במאי", "ביוני", "ביולי", "באוגוסט", "בספטמבר", "באוקטובר",
           "בנובמבר", "בדצמבר"),
}


# phonenumbers names only Israel in Hebrew: the countries whose numbers Israeli lists hold most often
HEBREW_COUNTRIES = {
    "IL": "ישראל", "PS": "הרשות הפלסטינית", "US": "ארצות הברית", "CA": "קנדה", "GB": "בריטניה", "FR": "צרפת",
    "DE": "גרמניה", "AT": "אוסטריה", "RU": "רוסיה", "UA": "אוקראינה", "BY": "בלארוס", "ET": "אתיופיה",
    "AR": "ארגנטינה", "BR": "ברזיל", "MX": "מקסיקו", "AU": "אוסטרליה", "ZA": "דרום אפריקה", "IN": "הודו",
    "ES": "ספרד", "IT": "איטליה", "NL": "הולנד", "BE": "בלגיה", "CH": "שווייץ", "PL": "פולין", "RO": "רומניה",
    "HU": "הונגריה", "GR": "יוון", "CY": "קפריסין", "TR": "טורקיה", "JO": "ירדן", "EG": "מצרים", "AE": "איחוד האמירויות",
    "MA": "מרוקו", "TH": "תאילנד", "PH": "הפיליפינים", "CN": "סין",
}


# The adjective of the countries init names in English; others are said by name.
COUNTRY_WORDS = {"IL": "Israeli", "US": "North American (US/Canada)", "CA": "North American (US/Canada)",
                 "GB": "British", "AU": "Australian", "FR": "French", "DE": "German", "RU": "Russian",
                 "UA": "Ukrainian", "ES": "Spanish", "IT": "Italian", "NL": "Dutch", "BE": "Belgian", "CH": "Swiss",
                 "AT": "Austrian", "SE": "Swedish", "IE": "Irish", "ZA": "South African", "BR": "Brazilian",
                 "AR": "Argentinian", "MX": "Mexican", "IN": "Indian", "TR": "Turkish", "PL": "Polish"}
HEBREW_NORTH_AMERICA = "צפון אמריקה (ארה״ב/קנדה)"  # +1 numbers: the US and Canada cannot be told apart


def _value(v: Any, lang: str) -> Any:
    if isinstance(v, Place):
        return place_text(v.text, lang)
    if isinstance(v, Joined):
        return v.sep.join(str(_value(x, lang)) for x in v.items)
    if isinstance(v, CountryWords):
        if lang == "he":
            return HEBREW_NORTH_AMERICA if v.code in ("US", "CA") else _value(Country(v.code), lang)
        from ..normalize import country_name

        return COUNTRY_WORDS.get(v.code) or country_name(v.code)
    if isinstance(v, Msg):
        return render(v, lang)
    if isinstance(v, Said):  # a warning inside a frame ("Warning: {text}"): in the frame's language
        return render(v.message, lang)
    if isinstance(v, Country):
        from ..normalize import country_name

        if lang == "he" and v.code in HEBREW_COUNTRIES:
            return HEBREW_COUNTRIES[v.code]
        return _ltr(country_name(v.code, lang), lang)
    if isinstance(v, tuple):
        return "; ".join(str(_value(x, lang)) for x in v)
    if isinstance(v, _dt.date):
        return f"{v.day} {FULL_MONTHS[lang][v.month - 1]} {v.year}"
    if isinstance(v, str):
        return _ltr(v, lang)
    return v


def _ltr(text: str, lang: str) -> str:
    """A Latin/number value inside Hebrew text, kept in its own left-to-right order."""
    if lang != "he" or not text or any("\u0590" <= ch <= "\u05ff" for ch in text):
        return text
    return f"{LRM}{text}{LRM}"


def placeholders(text: str) -> set[str]:
    """The names a text fills in ({value}, {column!r} -> value, column)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# -- stored form (the state store's outcomes, run summaries) ------------------------------------
def to_json(message: Msg) -> dict[str, Any]:
    return {"id": message.id, "args": {k: _json_value(v) for k, v in message.args}}


def _json_value(v: Any) -> Any:
    if isinstance(v, Msg):
        return {"msg": to_json(v)}
    if isinstance(v, Said):
        return {"msg": to_json(v.message)}
    if isinstance(v, Country):
        return {"country": v.code}
    if isinstance(v, Place):
        return {"place": v.text}
    if isinstance(v, Joined):
        return {"joined": v.sep, "items": [_json_value(x) for x in v.items]}
    if isinstance(v, tuple):
        return {"list": [_json_value(x) for x in v]}
    if isinstance(v, _dt.date):
        return {"date": v.isoformat()}
    return v


def from_json(data: Any) -> Msg:
    """A stored message; a stored plain string (a run recorded before ids) stays words."""
    if isinstance(data, str):
        return plain(data)
    if not isinstance(data, Mapping) or data.get("id") not in catalog("en"):
        return plain(str(data))
    return Msg(data["id"], tuple((k, _from_json_value(v)) for k, v in (data.get("args") or {}).items()))


def _from_json_value(v: Any) -> Any:
    if isinstance(v, Mapping):
        if "msg" in v:
            return from_json(v["msg"])
        if "country" in v:
            return Country(v["country"])
        if "place" in v:
            return Place(str(v["place"]))
        if "joined" in v:
            return Joined(str(v["joined"]), tuple(_from_json_value(x) for x in v.get("items") or ()))
        if "list" in v:
            return tuple(_from_json_value(x) for x in v["list"])
        if "date" in v:
            return _dt.date.fromisoformat(v["date"])
    return v
