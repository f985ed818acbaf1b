"""Cell normalisers: raw spreadsheet cell values -> clean email, mobile and personal-field text.

Everything here is pure (no I/O) and safe to call from any module.  A value that cannot be used
raises :class:`ValueProblem`, whose ``str()`` is a short message for office staff, shown in the
sheet's results column, e.g. ``invalid mobile "12345": too short for a mobile number``.

Validation is left to the libraries (phonenumbers for mobiles, email-validator for emails, no
DNS); this module only cleans away first what spreadsheets do to contact data:

- invisible direction marks and non-breaking spaces pasted from phones and RTL (Hebrew) text;
- numeric cells: ``0541111111`` typed as a number arrives as ``541111111`` (int or float),
  long numbers as ``972541111111.0`` or ``9.72541111111E+11`` (a float, or that very text);
- ``mailto:`` / ``tel:`` prefixes, ``Name <address>`` display forms, separators in numbers.

Mobile rule (decided here, see :func:`normalize_mobile`): a number that phonenumbers knows
(``is_valid_number``) is accepted only if its type is MOBILE or FIXED_LINE_OR_MOBILE.  A number it
does not know is refused ("no phone number in Austria looks like this"), with one narrow
exception: ranges newer than the library's data, listed in :data:`NEWER_RANGES` (the Israeli
mobile block +972 5x: inwise's own example 0541111111 and ranges such as 055-7xx, 058-9xx are
missing from phonenumbers 9.0) and widened by the mapping's ``inwise.mobile.newer_ranges``.  Even
there the number must be possible (reason exactly IS_POSSIBLE) overall and as a MOBILE and fit
the country's general pattern.  Accepted numbers are returned as international digits without "+".

Repeated values are common in big lists, so email and mobile results (good or bad) are cached on
the cleaned text; :func:`cache_info` and :func:`clear_caches` expose the caches.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from .errors import ProblemKind, ValueProblem
from .messages.catalog import Country, Msg, msg
from .tables.base import CellError

__all__ = [
    "ValueProblem",
    "clean_text",
    "is_blank",
    "normalize_email",
    "known_email",
    "email_key",
    "region_for",
    "calling_code_for",
    "normalize_mobile",
    "known_mobile",
    "known_cells",
    "format_field",
    "FieldTexts",
    "date_pattern",
    "cache_info",
    "clear_caches",
    "MOBILE_TYPES",
    "NEWER_RANGES",
    "country_name",
]


#: Longest value quoted in a problem message; longer values are cut and end with "…".
MAX_SHOWN = 40

_CACHE_SIZE = 1 << 16


# --------------------------------------------------------------------------------------------
# The problem type
# --------------------------------------------------------------------------------------------
# ValueProblem lives in errors.py with every other error type; imported above.

def _shown(text: str) -> str:
    """The value as quoted in a message: already cleaned, cut to ``MAX_SHOWN`` characters."""
    if len(text) > MAX_SHOWN:
        return text[: MAX_SHOWN - 1].rstrip() + "…"
    return text


# --------------------------------------------------------------------------------------------
# Text cleaning
# --------------------------------------------------------------------------------------------
# Bidi/invisible marks that RTL text and phones paste into cells.  U+061C (Arabic letter mark)
# and U+2060 (word joiner) are the same kind of invisible mark and are removed too.
_INVISIBLE = (
    [chr(c) for c in range(0x200B, 0x2010)]  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    + [chr(c) for c in range(0x202A, 0x202F)]  # LRE, RLE, PDF, LRO, RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI, RLI, FSI, PDI
    + ["\ufeff", "\u00ad", "\u061c", "\u2060"]  # BOM/ZWNBSP, soft hyphen, ALM, word joiner
)
# Control characters (not whitespace) are dropped as well: they are never meant as content and
# break the XML of an .xlsx when written back.
_CONTROL = [chr(c) for c in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0)) if not chr(c).isspace()]
# removed with a pattern: twice as fast as str.translate with a table
_DROP_RE = re.compile("[" + "".join(re.escape(c) for c in _INVISIBLE + _CONTROL) + "]")

# What spreadsheet apps show for a formula that failed (Excel, LibreOffice, Google Sheets).
_SPREADSHEET_ERRORS = frozenset(
    {
        "#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
        "#CALC!", "#GETTING_DATA", "#ERROR!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
        "#UNKNOWN!", "#N/A!", "ERR:502", "ERR:504", "ERR:508", "ERR:522",
    }
)  # fmt: skip


def clean_text(value: Any) -> str:
    """Any cell value -> one line of plain text.

    Removes invisible/bidi marks (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF, U+00AD,
    plus U+061C, U+2060 and control characters), turns every kind of Unicode space
    (NBSP, narrow NBSP, thin space…) and line breaks into a normal space, collapses runs of
    spaces and strips the ends.  Contact fields are single-line, so a newline inside a cell
    becomes one space.  ``None`` -> ``""``; a non-text value is first formatted like
    :func:`format_field` (``541111111.0`` -> ``"541111111"``).
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = _nontext_to_str(value)
    if value.isascii() and value.isprintable():
        # no invisible mark, no control character, and " " the only space: most cells
        if value.startswith(" ") or value.endswith(" ") or "  " in value:
            return " ".join(value.split())
        return value
    # str.split() without arguments splits on every Unicode whitespace (NBSP, U+202F, U+3000…).
    return " ".join(_DROP_RE.sub("", value).split())


def header_key(text: Any) -> str:
    """How headers and tab names are matched, everywhere: ignoring case, surrounding and
    repeated spaces (non-breaking ones too) and invisible marks."""
    return " ".join(clean_text(text).split()).casefold()


def is_blank(value: Any) -> bool:
    """True for ``None``, ``""`` and text made only of whitespace and invisible marks."""
    if value is None:
        return True
    if isinstance(value, str):
        if value.isascii() and value.isprintable():  # no invisible mark or control character
            return not value.strip()
        return not _DROP_RE.sub("", value).strip()
    return False


def _is_spreadsheet_error(text: str) -> bool:
    # every error text has a "#" or a ":" (and upper() never makes one): most cells skip upper()
    return ("#" in text or ":" in text) and text.upper() in _SPREADSHEET_ERRORS


_ERROR_REASON = msg("cell.error")
_NOT_CALCULATED = msg("cell.not_calculated")
_EMPTY = msg("cell.empty")


def _cell_error(kind: ProblemKind, value: CellError) -> ValueProblem:
    """The problem of a cell the table read as an error or a formula never calculated."""
    if value.code:
        return ValueProblem(kind, _shown(value.code), _ERROR_REASON)
    return ValueProblem(kind, _shown(value.formula or "formula"), _NOT_CALCULATED)


# --------------------------------------------------------------------------------------------
# Emails
# --------------------------------------------------------------------------------------------
_MAILTO = re.compile(r"^mailto:\s*", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "‘": "’", "„": "“", "«": "»"}
# what _unwrap_email acts on besides a leading quote: "mailto:", "<…>", "?subject=", ",;" and
# spaces at the end
_WRAPPED = re.compile(r"[:<>?,;]|\s$")


class _Outcome(NamedTuple):
    """A cached answer: ``ok`` with the normalised value, or not ``ok`` with a reason."""

    ok: bool
    text: Any  # the normalised value (str) when ok, else the reason (a Msg)


def normalize_email(value: Any) -> str:
    """Return email-validator's normalised form of the address in a cell.

    The domain is lowercased and IDNA-normalised (an IDN domain stays in its Unicode form, as
    email-validator's ``normalized`` gives it); the part before the @ is kept as typed.  No DNS
    lookups (``check_deliverability=False``).

    Cleaned first: surrounding spaces, NBSP, invisible marks, a ``mailto:`` prefix (and any
    ``?subject=…`` after the address), quotes around the whole value, a trailing ``;`` or ``,``
    left from a pasted address list, and the display form
    ``Dana Cohen <dana@example.com>`` / ``<dana@example.com>`` (the address inside the angle
    brackets is used).

    Raises:
        ValueProblem: the value is not an email address; the message says why in plain words,
            e.g. ``invalid email "dana@": nothing after the @``.
    """
    if isinstance(value, CellError):
        raise _cell_error("email", value)
    if isinstance(value, bool) or not isinstance(value, (str, type(None))):
        shown = clean_text(value)
        raise ValueProblem("email", _shown(shown), msg("email.not_email"))
    text = clean_text(value)
    outcome = _Outcome(*_email_cached(text))
    if outcome.ok:
        return outcome.text
    raise ValueProblem("email", _shown(text), outcome.text)


def known_email(value: Any) -> str | None:
    """:func:`normalize_email` of a text cell holding a usable address, else None (a blank cell,
    a problem, a value that is not text: the caller asks ``normalize_email`` for the message).
    The clean cells of a big sheet take this path: the same answer, no exception built."""
    if value.__class__ is not str:
        return None
    text = clean_text(value)
    if not text:
        return None
    ok, answer = _email_cached(text)
    return answer if ok else None


def email_key(email: str) -> str:
    """Matching key for an email: the normalised address, lowercased (inwise matches emails
    case-insensitively)."""
    return clean_text(email).lower()


def _unwrap_email(text: str) -> str:
    """Strip what people paste around an address: mailto:, <…>, display names, quotes."""
    if text[:1] not in _QUOTES and not _WRAPPED.search(text):
        return text  # nothing below would change it (most cells)
    text = _MAILTO.sub("", text)
    # "Dana Cohen <dana@example.com>" or "<dana@example.com>": take what is inside the brackets.
    if text.endswith(">") and "<" in text:
        text = text[text.rindex("<") + 1 : -1].strip()
        text = _MAILTO.sub("", text)
    # mailto links may carry ?subject=…; an address has no "?" after its domain.
    if "?" in text and "@" in text.split("?", 1)[0]:
        text = text.split("?", 1)[0]
    # The whole value in quotes: "dana@example.com" / 'dana@example.com'.
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        text = text[1:-1].strip()
    # A separator left over from a pasted address list ("dana@example.com;").
    return text.rstrip(",;").rstrip()


@lru_cache(maxsize=_CACHE_SIZE)
def _email_cached(text: str) -> tuple[bool, str]:
    """_email_outcome cached (good and bad answers alike) as a plain tuple, which the cyclic
    garbage collector stops tracking (a NamedTuple it walks on every pass: 2 per row of a sheet)."""
    outcome = _email_outcome(text)
    return (outcome.ok, outcome.text)


def _email_outcome(text: str) -> _Outcome:
    """Validate one cleaned cell text."""
    if not text:
        return _Outcome(False, _EMPTY)
    if _is_spreadsheet_error(text):
        return _Outcome(False, _ERROR_REASON)
    address = _unwrap_email(text)
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return _Outcome(False, _email_reason(address, str(exc)))
    return _Outcome(True, result.normalized)


def _email_reason(address: str, library_message: str) -> Msg:
    """Turn an email-validator refusal into everyday words.

    Only called after email-validator refused ``address``; the checks below choose the wording,
    they never decide validity.
    """
    if not address:
        return _EMPTY
    ats = address.count("@")
    if ats == 0:
        return msg("email.no_at")
    parts = [p for p in re.split(r"[\s,;]+", address) if p]
    if len(parts) > 1 and sum("@" in p for p in parts) > 1:
        return msg("email.several")
    if ats > 1:
        return msg("email.many_at")
    local, _, domain = address.partition("@")
    if not local.strip():
        return msg("email.nothing_before")
    if not domain.strip():
        return msg("email.nothing_after")
    if any(ch.isspace() for ch in address):
        return msg("email.space")
    said = library_message.lower()
    rules = (
        ("cannot end with a period", "email.ends_dot"),
        ("cannot start with a period", "email.starts_dot"),
        ("period immediately before the @", "email.dot_before_at"),
        ("period immediately after the @", "email.dot_after_at"),
        ("two periods in a row", "email.two_dots"),
        ("should have a period", "email.needs_dot"),
        ("special-use or reserved", "email.reserved"),
        ("valid top-level domain", "email.bad_ending"),
        ("too long", "email.too_long"),
        ("quoting the part before", "email.quotes"),
        ("bracketed ip address", "email.ip"),
    )
    for needle, reason in rules:
        if needle in said:
            return Msg(reason)
    if "invalid character" in said:
        listed = library_message.rsplit(": ", 1)[-1].strip().rstrip(".")
        chars = ", ".join(item.strip("'") for item in listed.split(", "))
        return msg("email.bad_chars", chars=chars)
    # Anything else: the library's own sentence, made to read like the rest.
    plain = library_message.strip().rstrip(".").replace("@-sign", "@").replace("The email address ", "")
    return msg("email.library", text=plain[:1].lower() + plain[1:]) if plain else msg("email.not_email")


# --------------------------------------------------------------------------------------------
# Regions and calling codes
# --------------------------------------------------------------------------------------------
_REGION_ALIASES = {"UK": "GB"}


@lru_cache(maxsize=256)
def region_for(country: str | int) -> str:
    """A country given as a region code or a calling code -> phonenumbers region code.

    ``"IL"``, ``"il"``, ``"972"``, ``"+972"``, ``"00972"`` and ``972`` all give ``"IL"``;
    ``"1"`` gives ``"US"`` (the main region of that code); ``"UK"`` is taken as ``"GB"``.

    Raises:
        ValueError: the value is neither a known two-letter region nor a country calling code.
    """
    raw = clean_text(country)
    text = raw.upper()
    text = _REGION_ALIASES.get(text, text)
    if text in phonenumbers.SUPPORTED_REGIONS:
        return text
    digits = text[1:] if text.startswith("+") else text[2:] if text.startswith("00") else text
    if digits.isdigit() and digits.isascii():
        region = phonenumbers.region_code_for_country_code(int(digits))
        if region in phonenumbers.SUPPORTED_REGIONS:
            return region
    raise ValueError(
        f'unknown country "{raw}": give a two-letter country code such as "IL", "US", "GB" '
        f'or a calling code such as "972", "+1", "44"'
    )


def calling_code_for(region: str) -> str:
    """Region code -> country calling code as digits: ``"IL"`` -> ``"972"``, ``"US"`` -> ``"1"``.

    Accepts whatever :func:`region_for` accepts.  Raises ``ValueError`` for an unknown country.
    """
    return str(phonenumbers.country_code_for_region(region_for(region)))


# --------------------------------------------------------------------------------------------
# Mobiles
# --------------------------------------------------------------------------------------------
#: Number types accepted for a number phonenumbers knows.  PAGER, PERSONAL_NUMBER (e.g. UK 070
#: forwarding numbers), VOIP, toll-free and the rest are refused: SMS to them is unreliable.
MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

_TYPE_REASONS = {
    PhoneNumberType.FIXED_LINE: msg("mobile.landline"),
    PhoneNumberType.TOLL_FREE: msg("mobile.toll_free"),
    PhoneNumberType.PREMIUM_RATE: msg("mobile.premium"),
    PhoneNumberType.SHARED_COST: msg("mobile.shared_cost"),
    PhoneNumberType.VOIP: msg("mobile.voip"),
    PhoneNumberType.PERSONAL_NUMBER: msg("mobile.personal"),
    PhoneNumberType.PAGER: msg("mobile.pager"),
    PhoneNumberType.UAN: msg("mobile.uan"),
    PhoneNumberType.VOICEMAIL: msg("mobile.voicemail"),
}
_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: msg("mobile.too_short"),
    ValidationResult.TOO_LONG: msg("mobile.too_long"),
    ValidationResult.INVALID_LENGTH: msg("mobile.wrong_length"),
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: msg("mobile.local_only"),
    ValidationResult.INVALID_COUNTRY_CODE: msg("mobile.bad_country_code"),
}
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: msg("mobile.bad_country_code"),
    NumberParseException.NOT_A_NUMBER: msg("mobile.not_phone"),
    NumberParseException.TOO_SHORT_AFTER_IDD: msg("mobile.too_short"),
    NumberParseException.TOO_SHORT_NSN: msg("mobile.too_short"),
    NumberParseException.TOO_LONG: msg("mobile.too_long"),
}

#: Ranges (international prefixes, "+" and digits) whose numbers are accepted although
#: phonenumbers does not list them as valid yet: the Israeli mobile block 05x (050-059), where
#: phonenumbers 9.0 misses e.g. 050-1, 052-1, 054-1 (inwise's own example 0541111111), 055-7xx
#: and 058-9xx.  Only numbers of these ranges that are possible as mobiles get through; every
#: other number must be valid.  A mapping widens the list with ``inwise.mobile.newer_ranges``.
NEWER_RANGES: tuple[str, ...] = ("+9725",)

_MAX_DIGITS = 30  # numbers with more digits are refused before any conversion to text
_NOT_A_PHONE = msg("mobile.not_phone")
_EXTENSION = re.compile(r"^(.*?\d)\s*(?:,\s*)?(?:ext\.?|extension|x|#|שלוחה|שלוחה:)\s*(\d{1,6})$", re.IGNORECASE)
_DECIMAL = msg("mobile.decimal")
_LOST_DIGITS = msg("mobile.lost_digits")
_SEVERAL = msg("mobile.several")

_TEL = re.compile(r"^(?:tel|phone|callto|sms):\s*", re.IGNORECASE)
# Separators people put inside phone numbers: spaces are already normal spaces after clean_text.
_SEPARATORS = str.maketrans(dict.fromkeys(" -.()[]/\\_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d"))
_SCIENTIFIC = re.compile(r"^\+?(\d+)(?:[.,](\d*))?[eE]\+?(\d+)$")
_POINT_ZERO = re.compile(r"^(\+?\d+)[.,]0+$")
_DECIMAL_TEXT = re.compile(r"^[1-9]\d*\.\d+$|^0\.\d+$")
_PHONE_CHARS = re.compile(r"^\+?\d+$")
_MANY_NUMBERS = re.compile(r"[,;|&]|\bor\b|\band\b|\sאו\s", re.IGNORECASE)


def normalize_mobile(value: Any, region: str | None = "IL", newer_ranges: tuple[str, ...] = NEWER_RANGES) -> str:
    """Return a cell's mobile number as international digits without "+", e.g. ``"972541111111"``.

    ``value`` may be text or a number cell: ``541111111`` (Excel dropped the leading zero),
    ``972541111111.0``, ``9.72541111111E+11`` (as a float or as that text), ``"972541111111.0"``.
    Numbers are converted exactly through ``Decimal``; a non-integral value (``12.5``) is refused.
    Direction marks, NBSP, spaces, dashes, dots, parentheses, ``(0)``, a ``tel:`` prefix, a
    leading ``+`` or ``00`` are cleaned away.  ``region`` (anything :func:`region_for` takes)
    is the country of numbers written without a country code.

    Digits without "+" that start with the region's calling code (``972541111111`` with IL) are
    read as international first, so the code is never added twice; if that reading is not a
    usable mobile, the national reading is tried.

    Accepted: a number phonenumbers knows (``is_valid_number``) whose type is in
    :data:`MOBILE_TYPES` (MOBILE, FIXED_LINE_OR_MOBILE — the North American shared ranges);
    or a number it does not know, only when it starts with one of ``newer_ranges`` (default
    :data:`NEWER_RANGES`, the Israeli 05x block: real mobiles the metadata does not list yet,
    such as inwise's own example ``0541111111``), its ``is_possible_number_with_reason`` is
    exactly IS_POSSIBLE, it is possible as a MOBILE (not LOCAL_ONLY) and it fits the country's
    general numbering pattern.  Any other number the library does not know is refused ("no
    phone number in Austria looks like this"), whatever its length.  A known landline is
    refused even if its length would fit a mobile.  ``region`` None: no country was chosen,
    so only numbers written with their country code (+ or 00) are accepted.

    Raises:
        ValueProblem: not a usable mobile, e.g. ``invalid mobile "12345": too short for a
            mobile number`` or ``invalid mobile "02-6251111": a landline number, not a mobile``.
        ValueError: ``region`` is not a known country (a configuration error).
    """
    region_code = region_for(region) if region is not None else None
    text = _mobile_cell_text(value)
    outcome = _Outcome(*_mobile_cached(text, region_code, tuple(newer_ranges)))
    if outcome.ok:
        return outcome.text
    raise ValueProblem("mobile", _shown(text), outcome.text)


def known_mobile(value: Any, region: str | None = "IL", newer_ranges: tuple[str, ...] = NEWER_RANGES) -> str | None:
    """:func:`normalize_mobile` of a cell holding a usable mobile (text, or a whole number as a
    spreadsheet stores it), else None (a blank cell, a problem, another kind of value: the caller
    asks ``normalize_mobile`` for the message).  The clean cells of a big sheet take this path."""
    cls = value.__class__
    if cls is str:
        text = clean_text(value)
        if not text:
            return None
    elif cls is int:
        if not 0 <= value < 10**15:
            return None
        text = str(value)
    elif cls is float:
        # below 10^15 an integral float is exact: its digits are what the sheet shows
        if not (0 < value < 1e15 and value.is_integer()):
            return None
        text = str(int(value))
    else:
        return None
    region_code = region_for(region) if region is not None else None
    ok, answer = _mobile_cached(text, region_code, tuple(newer_ranges))
    return answer if ok else None


def known_cells(emails: list[Any], mobiles: list[Any], region: str | None,
                newer: tuple[str, ...]) -> list[tuple[str | None, str | None]]:
    """known_email / known_mobile of each row's email and mobile cell (an empty list: that column
    is not mapped): the validation, nearly all of mapping a row, for a helper process (its module
    imports nothing more than this one's)."""
    size = max(len(emails), len(mobiles))
    es = [known_email(v) for v in emails] if emails else [None] * size
    ms = [known_mobile(v, region, newer) for v in mobiles] if mobiles else [None] * size
    return list(zip(es, ms))


def _mobile_cell_text(value: Any) -> str:
    """A mobile cell value -> text to judge; numbers become exact digit strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, CellError):
        raise _cell_error("mobile", value)
    if isinstance(value, bool):
        raise ValueProblem("mobile", "TRUE" if value else "FALSE", _NOT_A_PHONE)
    if isinstance(value, int):
        if value.bit_length() > 4 * _MAX_DIGITS:  # far longer than any phone number
            raise ValueProblem("mobile", _shown(_number_text(value)), _LENGTH_REASONS[ValidationResult.TOO_LONG])
        if value < 0:
            raise ValueProblem("mobile", _shown(str(value)), _NOT_A_PHONE)
        if value >= 10**15:  # a spreadsheet number keeps 15 significant digits; beyond is float noise
            return _displayed_number(float(value))
        return str(value)
    if isinstance(value, (float, Decimal)):
        shown = _shown(_displayed_number(value))
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueProblem("mobile", shown, _NOT_A_PHONE)
        exact = Decimal(value)  # exact binary value of a float, never float formatting
        if not exact.is_finite() or exact < 0:
            raise ValueProblem("mobile", shown, _NOT_A_PHONE)
        if exact != exact.to_integral_value():
            raise ValueProblem("mobile", shown, _DECIMAL)
        if exact.adjusted() >= _MAX_DIGITS:
            raise ValueProblem("mobile", shown, _LENGTH_REASONS[ValidationResult.TOO_LONG])
        # a float holds 15 significant digits of what was typed; the rest is binary noise
        return _displayed_number(value) if isinstance(value, float) else str(int(exact))
    raise ValueProblem("mobile", _shown(clean_text(value)), _NOT_A_PHONE)


def _unicode_digits_to_ascii(text: str) -> str:
    """Arabic-Indic, fullwidth and other decimal digits -> 0-9 (phones paste them)."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def _several_numbers(text: str) -> bool:
    """Two numbers in one cell ("504-621-8927 / 504-845-1427"): parts of 7+ digits each."""
    parts = re.split(r"[/,;|&]|\bor\b|\band\b|\sאו\s", text, flags=re.IGNORECASE)
    return sum(1 for part in parts if sum(ch.isdigit() for ch in part) >= 7) >= 2


@lru_cache(maxsize=_CACHE_SIZE)
def _mobile_cached(text: str, region: str | None, newer: tuple[str, ...]) -> tuple[bool, str]:
    """_mobile_outcome cached (good and bad answers alike) as a plain tuple (see _email_cached)."""
    outcome = _mobile_outcome(text, region, newer)
    return (outcome.ok, outcome.text)


def _mobile_outcome(text: str, region: str | None, newer: tuple[str, ...] = NEWER_RANGES) -> _Outcome:
    """Judge one cleaned mobile text for one region."""
    compact = _plain_number(text)
    if compact is None:
        cleaned = _compact_number(text)
        if isinstance(cleaned, _Outcome):
            return cleaned
        compact = cleaned
    return _judge_number(compact, region, newer)


# digits with spaces or dashes between them (and a leading "+"): how most mobiles are typed
_PLAIN_NUMBER = re.compile(r"\+?[0-9][0-9 \-]*")


def _plain_number(text: str) -> str | None:
    """The fast path of _compact_number, for the common shape: the same answer (a test compares
    them), or None for any other text."""
    if _PLAIN_NUMBER.fullmatch(text):
        return text.replace(" ", "").replace("-", "")
    return None


def _compact_number(text: str) -> str | _Outcome:
    """A cleaned mobile text -> "+" and digits or digits alone, or the outcome of a text that
    is no single number (a decimal, two numbers, an extension, letters)."""
    if not text:
        return _Outcome(False, _EMPTY)
    if _is_spreadsheet_error(text):
        return _Outcome(False, _ERROR_REASON)
    text = _TEL.sub("", _unicode_digits_to_ascii(text))

    # Numbers that reached us as text: "972541111111.0", "9.72541111111E+11", "12.5".
    scientific = _SCIENTIFIC.match(text)
    if scientific:
        whole, fraction, _ = scientific.groups()
        try:
            exact = Decimal(text.lstrip("+").replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            return _Outcome(False, _NOT_A_PHONE)
        if exact != exact.to_integral_value():
            return _Outcome(False, _DECIMAL)
        if exact.adjusted() >= _MAX_DIGITS:
            return _Outcome(False, _LENGTH_REASONS[ValidationResult.TOO_LONG])
        digits = str(int(exact))
        shown_digits = len((whole + (fraction or "")).lstrip("0"))
        if len(digits) > shown_digits:
            return _Outcome(False, _LOST_DIGITS)
        text = digits
    elif point_zero := _POINT_ZERO.match(text):
        text = point_zero.group(1)
    elif _DECIMAL_TEXT.match(text):
        # "12.5" is a decimal number; "054.1111111" (leading zero) is a number with a dot in it.
        return _Outcome(False, _DECIMAL)

    if _several_numbers(text):
        return _Outcome(False, _SEVERAL)
    extension = _EXTENSION.match(text)
    if extension:
        return _Outcome(False, msg("mobile.extension", extension=extension.group(2)))
    compact = text.replace("(0)", "").translate(_SEPARATORS)
    if not _PHONE_CHARS.match(compact):
        if _MANY_NUMBERS.search(text) and sum(ch.isdigit() for ch in text) >= 14:
            return _Outcome(False, _SEVERAL)
        if any(ch.isalpha() for ch in compact):
            return _Outcome(False, msg("mobile.letters"))
        return _Outcome(False, _NOT_A_PHONE)
    return compact


def _judge_number(compact: str, region: str | None, newer: tuple[str, ...]) -> _Outcome:
    """A compact number ("+" and digits, or digits alone) judged for one region."""
    if compact.startswith("00"):
        compact = "+" + compact[2:]  # the international prefix of most countries
    if compact.startswith("+"):
        return _judge_text(compact, region, newer)[0]
    if region is None:
        return _Outcome(False, _NO_COUNTRY_SET)

    code = _calling_code(region)
    if compact.startswith(code):
        international, known = _judge_text("+" + compact, region, newer)
        if international.ok:
            return international
        national, national_known = _judge_text(compact, region, newer)
        if national.ok or (national_known and not known):
            return national
        return _foreign_hint(compact, region, international, newer)
    return _foreign_hint(compact, region, _judge_text(compact, region, newer)[0], newer)


@lru_cache(maxsize=256)
def _calling_code(region: str) -> str:
    return str(phonenumbers.country_code_for_region(region))


_NO_COUNTRY_SET = msg("mobile.no_country")


def _foreign_hint(digits: str, region: str, outcome: _Outcome, newer: tuple[str, ...]) -> _Outcome:
    """A refused number written without "+" that is a mobile of another country when read with a
    "+" in front (972541234567 on a US list): say so, rather than only "too long"."""
    if outcome.ok:
        return outcome
    if not _judge_text("+" + digits, None, newer)[0].ok:
        return outcome
    number = phonenumbers.parse("+" + digits)
    other = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(number.country_code or 0)
    if other == region:
        return outcome
    return _Outcome(False, msg("mobile.foreign", reason=outcome.text, country=Country(other), number=f"+{digits}"))


def _in_newer_ranges(e164: str, newer: tuple[str, ...]) -> bool:
    return any(e164.startswith(prefix) for prefix in newer)


def _judge_text(text: str, region: str | None, newer: tuple[str, ...] = NEWER_RANGES) -> tuple[_Outcome, bool]:
    """Parse and judge; also says whether phonenumbers knows the number (is_valid_number)."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return _Outcome(False, _PARSE_REASONS.get(exc.error_type, _NOT_A_PHONE)), False
    # number_type is UNKNOWN exactly when is_valid_number is False (both match the number against
    # its region's patterns): one call, not two, for every valid number
    kind = phonenumbers.number_type(number)
    if kind != PhoneNumberType.UNKNOWN:
        if kind in MOBILE_TYPES:
            return _Outcome(True, _e164_digits(number)), True
        return _Outcome(False, _TYPE_REASONS.get(kind, _NOT_MOBILE)), True
    overall, as_mobile = _possible(number)
    if overall == ValidationResult.IS_POSSIBLE and as_mobile == ValidationResult.IS_POSSIBLE:
        # Possible but not valid: accepted only in the ranges newer than the library's data.
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if _in_newer_ranges(e164, newer) and _fits_country_numbering(number):
            return _Outcome(True, e164.lstrip("+")), False
        return _Outcome(False, _no_such_number(number)), False
    if overall == ValidationResult.INVALID_COUNTRY_CODE:
        return _Outcome(False, _LENGTH_REASONS[overall]), False
    reason = as_mobile if as_mobile != ValidationResult.IS_POSSIBLE else overall
    return _Outcome(False, _LENGTH_REASONS.get(reason, _NOT_USABLE)), False


_NOT_MOBILE = msg("mobile.not_mobile")
_NOT_USABLE = msg("mobile.not_usable")


# (calling code, digits of the national number) -> the two answers of _possible
_POSSIBLE: dict[tuple[int, int], tuple[int, int]] = {}


def _possible(number: phonenumbers.PhoneNumber) -> tuple[int, int]:
    """``is_possible_number_with_reason`` and the same for type MOBILE.  phonenumbers answers both
    from the calling code and the length of the national number only (it "only checks the length
    of phone numbers"), so the answers are asked once per code and length."""
    key = (number.country_code or 0, len(phonenumbers.national_significant_number(number)))
    known = _POSSIBLE.get(key)
    if known is None:
        known = (phonenumbers.is_possible_number_with_reason(number),
                 phonenumbers.is_possible_number_for_type_with_reason(number, PhoneNumberType.MOBILE))
        _POSSIBLE[key] = known
    return known


def _no_such_number(number: phonenumbers.PhoneNumber) -> Msg:
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return msg("mobile.no_such", country=Country(region))


def country_name(region: str, language: str = "en") -> str:
    """A region code as people name the country: ``"IL"`` -> ``"Israel"`` (``"ישראל"`` in
    Hebrew), from phonenumbers' own geocoding names; the code itself when none is known."""
    name = _region_display_name(region, language) if region else ""
    if not name and language != "en":
        name = _region_display_name(region, "en")
    return name or region or "that country"


def _region_display_name(region: str, language: str) -> str:
    """phonenumbers.geocoder's own lookup of a country's name in a language ("*he": the name
    is the one given for that other language)."""
    names = _country_names().get(region)
    if names is None:
        return ""
    name = names.get(language, "")
    if name.startswith("*"):
        name = names.get(name[1:], "")
    return name


@lru_cache(maxsize=1)
def _country_names() -> dict[str, dict[str, str]]:
    """phonenumbers' table of country names by language (its geodata/locale.py), loaded on its
    own: importing it the usual way (phonenumbers.geocoder) first loads phonenumbers.geodata,
    place names by number prefix that no message uses - 100 MB and 0.4 s in every process that
    names a country (this is 3 MB and 10 ms)."""
    import importlib.util
    from pathlib import Path

    path = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    assert spec is not None and spec.loader is not None  # the file ships with phonenumbers
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.LOCALE_DATA)


def _fits_country_numbering(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the number fits the general numbering pattern of its country (any region that
    shares the calling code): lengths alone let through e.g. Israeli 02-1234567-8, which no
    Israeli number looks like.  Uses phonenumbers' metadata, not a pattern of our own."""
    nsn = phonenumbers.national_significant_number(number)
    for pattern in _general_patterns(number.country_code or 0):
        if pattern is None or pattern.fullmatch(nsn):
            return True
    return False


@lru_cache(maxsize=256)
def _general_patterns(country_code: int) -> tuple[re.Pattern[str] | None, ...]:
    """The general numbering pattern of each region of a calling code (None: it has none)."""
    out: list[re.Pattern[str] | None] = []
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        desc = metadata.general_desc if metadata else None
        pattern = desc.national_number_pattern if desc else None
        out.append(None if pattern is None else re.compile(pattern))
    return tuple(out)


def _e164_digits(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


# --------------------------------------------------------------------------------------------
# Personal fields
# --------------------------------------------------------------------------------------------
def format_field(
    value: Any, *, date_format: str = "%d/%m/%Y", datetime_format: str | None = None
) -> str:
    """A personal-field cell value -> the text sent to inwise.

    - ``datetime.date`` -> ``date_format`` (default ``dd/mm/yyyy``);
    - ``datetime.datetime`` -> ``date_format`` at midnight, else ``datetime_format`` (default
      ``date_format + " %H:%M"``); times are rounded to the second first, undoing Excel's
      floating-point noise (13:29:59.9996 is 13:30);
    - ``datetime.time`` -> ``"%H:%M"``; ``datetime.timedelta`` (a duration) -> ``"H:MM"``
      (``":SS"`` added when there are seconds);
    - ``int`` -> digits; an integral ``float`` -> digits without ".0", exact (``1e16`` ->
      ``"10000000000000000"``); other floats -> shortest text without exponent
      (``12.5`` -> ``"12.5"``, ``1e-05`` -> ``"0.00001"``);
    - ``bool`` -> ``"TRUE"`` / ``"FALSE"`` as Excel shows them;
    - text -> :func:`clean_text` (invisible marks removed, trimmed, Hebrew kept as is);
    - ``None`` -> ``""``.

    Raises:
        ValueProblem: (kind ``"field"``) the cell shows a spreadsheet error such as ``#N/A``
            (as text, or as the table's ``CellError``), holds a formula never calculated, or a
            number that is not finite.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = clean_text(value)
        if _is_spreadsheet_error(text):
            raise ValueProblem("field", _shown(text), _ERROR_REASON)
        return text
    if isinstance(value, CellError):
        raise _cell_error("field", value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueProblem("field", str(value), msg("field.not_finite"))
        return _number_text(value)
    if isinstance(value, _dt.datetime):
        moment = _round_to_second(value)
        if moment.time() == _dt.time(0, 0):
            return moment.strftime(date_format)
        return moment.strftime(datetime_format or date_format + " %H:%M")
    if isinstance(value, _dt.date):
        return value.strftime(date_format)
    if isinstance(value, _dt.time):
        moment = _round_to_second(_dt.datetime.combine(_dt.date(2000, 1, 1), value))
        return moment.strftime("%H:%M")
    if isinstance(value, _dt.timedelta):
        return _duration_text(value)
    return clean_text(str(value))


class FieldTexts:
    """:func:`format_field` of one personal-field column remembered for the values that repeat
    down a big sheet (first names, cities, birthdays), as the ``(field number, text)`` pair a
    contact holds: the same text without cleaning the cell again, one pair shared by every row
    with that value.  One per column and mapping run; it forgets everything when ``limit``
    values are known, so it stays small."""

    __slots__ = ("_known", "_limit", "number", "date_format")

    def __init__(self, number: int, date_format: str, limit: int = _CACHE_SIZE) -> None:
        self.number = number
        self.date_format = date_format
        self._known: dict[Any, tuple[int, str]] = {}  # text or date (never equal to each other) -> pair
        self._limit = limit

    def pair(self, value: Any) -> tuple[int, str] | tuple[()] | None:
        """``(number, format_field(value, date_format=...))`` for text, whole and finite numbers
        and dates; ``()`` for a blank cell (no field); None for any other value and for text
        format_field refuses (the caller calls format_field, which says why)."""
        cls = value.__class__
        if cls is str or cls is _dt.date:
            known = self._known.get(value)
            if known is not None:
                return known
            if cls is str:
                text = clean_text(value)
                if not text:
                    return ()
                if _is_spreadsheet_error(text):
                    return None
            else:
                text = value.strftime(self.date_format)
            if len(self._known) >= self._limit:
                self._known.clear()
            known = self._known[value] = (self.number, text)
            return known
        if value is None:
            return ()
        if cls is int or (cls is float and math.isfinite(value)):
            return (self.number, _number_text(value))
        return None


def _nontext_to_str(value: Any) -> str:
    """Text for a non-text cell value, as clean_text sees it (never raises)."""
    try:
        return format_field(value)
    except ValueProblem:
        return str(value)


def _displayed_number(value: float | Decimal) -> str:
    """A number as a spreadsheet shows it: at most 15 significant digits (Excel's precision), so a
    17-digit cell typed as 77327770904244100 is quoted so, not as its float artefact ...096."""
    if isinstance(value, float) and math.isfinite(value):
        return _number_text(Decimal(f"{value:.15g}"))
    return _number_text(value)


def _number_text(value: int | float | Decimal) -> str:
    """Exact digits for integral numbers, shortest plain decimal text for the rest."""
    if isinstance(value, int):
        # Python refuses str() of ints over 4300 digits; Decimal has no such limit.
        return str(value) if value.bit_length() < 10_000 else format(Decimal(value), "f")
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        exact = Decimal(repr(value))  # repr is the shortest text that reads back the same float
    else:
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return format(value.to_integral_value(), "f")
        exact = value
    text = format(exact, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _round_to_second(moment: _dt.datetime) -> _dt.datetime:
    if moment.microsecond >= 500_000:
        moment += _dt.timedelta(seconds=1)
    return moment.replace(microsecond=0)


def _duration_text(value: _dt.timedelta) -> str:
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


# --------------------------------------------------------------------------------------------
# Date patterns
# --------------------------------------------------------------------------------------------
_FRIENDLY_TOKENS = re.compile(r"yyyy|yy|mm|dd|hh|ss|[/.\-: ,]|.", re.IGNORECASE)
_FRIENDLY_SIMPLE = {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "ss": "%S"}
_STRFTIME_ALLOWED = set("aAbBdHIjmMpSyY%")
_STRFTIME_DATE = set("aAbBdjmyY")
_DATE_EXAMPLES = 'for example "dd/mm/yyyy", "yyyy-mm-dd", "mm/dd/yyyy", "dd.mm.yy" or "dd/mm/yyyy hh:mm"'


def date_pattern(fmt: str) -> str:
    """A friendly date format -> a strftime pattern.

    ``"dd/mm/yyyy"`` -> ``"%d/%m/%Y"``, ``"yyyy-mm-dd"`` -> ``"%Y-%m-%d"``, ``"mm/dd/yyyy"`` ->
    ``"%m/%d/%Y"``, ``"dd.mm.yy"`` -> ``"%d.%m.%y"``; case does not matter.  With a time part,
    ``hh`` is the 24-hour hour, ``ss`` seconds, and ``mm`` right after ``hh:`` (or before
    ``:ss``) means minutes: ``"dd/mm/yyyy hh:mm"`` -> ``"%d/%m/%Y %H:%M"``.  Separators may be
    ``/ . - : ,`` and spaces.

    A pattern that already contains ``%`` is returned unchanged after checking that it formats
    a date with portable directives only (``%d %m %Y %y %b %B %a %A %j %H %I %M %S %p %%``).

    Raises:
        ValueError: the format cannot be understood; the message lists examples.
    """
    raw = fmt
    fmt = fmt.strip() if isinstance(fmt, str) else ""
    if not fmt:
        raise ValueError(f"empty date format: write one, {_DATE_EXAMPLES}")
    if "%" in fmt:
        return _checked_strftime(fmt)
    tokens = _FRIENDLY_TOKENS.findall(fmt)
    out: list[str] = []
    for index, token in enumerate(tokens):
        low = token.lower()
        if low in _FRIENDLY_SIMPLE:
            out.append(_FRIENDLY_SIMPLE[low])
        elif low == "mm":
            before = [t.lower() for t in tokens[max(0, index - 2) : index]]
            after = [t.lower() for t in tokens[index + 1 : index + 3]]
            is_minutes = before == ["hh", ":"] or after == [":", "ss"]
            out.append("%M" if is_minutes else "%m")
        elif len(token) == 1 and token in "/.-: ,":
            out.append(token)
        else:
            raise ValueError(
                f'date format "{raw}" not understood (at "{token}"): use dd, mm, yyyy or yy '
                f"with / . - between them, {_DATE_EXAMPLES}"
            )
    pattern = "".join(out)
    if not any(code in pattern for code in ("%d", "%m", "%Y", "%y")):
        raise ValueError(f'date format "{raw}" has no day, month or year in it: {_DATE_EXAMPLES}')
    return pattern


def _checked_strftime(fmt: str) -> str:
    directives = re.findall(r"%(.?)", fmt)
    bad = [d for d in directives if d not in _STRFTIME_ALLOWED]
    if bad:
        raise ValueError(
            f'date format "{fmt}" uses "%{bad[0]}", which is not a portable date code: '
            f"use %d %m %Y %y %b %B %a %A %j %H %I %M %S %p, {_DATE_EXAMPLES}"
        )
    if not any(d in _STRFTIME_DATE for d in directives):
        raise ValueError(f'date format "{fmt}" does not show a date: {_DATE_EXAMPLES}')
    try:
        _dt.datetime(2024, 1, 31, 13, 45, 30).strftime(fmt)
    except ValueError as exc:  # pragma: no cover - the directives above all format
        raise ValueError(f'date format "{fmt}" cannot format a date ({exc}): {_DATE_EXAMPLES}') from None
    return fmt


# --------------------------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------------------------
def cache_info() -> dict[str, Any]:
    """Hit/miss counters of the email and mobile caches (``functools`` ``CacheInfo`` tuples)."""
    return {"email": _email_cached.cache_info(), "mobile": _mobile_cached.cache_info()}


def clear_caches() -> None:
    """Empty the email and mobile caches (tests; or after changing phonenumbers metadata)."""
    _email_cached.cache_clear()
    _mobile_cached.cache_clear()
    _calling_code.cache_clear()
    _POSSIBLE.clear()
    _general_patterns.cache_clear()
