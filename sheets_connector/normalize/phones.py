"""Mobile cells -> international digits without "+" (``972541111111``), or why not.

A cell arrives as text or as a number a spreadsheet mangled (``541111111``, ``972541111111.0``,
``9.72541111111E+11``): :func:`_mobile_cell_text` and :func:`_compact_number` turn it into "+" and
digits (or say it is a decimal, two numbers, an extension, letters); :func:`_judge_number` reads
it for the mapping's region, international first when it starts with the calling code.

The mobile rule: a number that phonenumbers knows (``is_valid_number``) is accepted only if its type is MOBILE or FIXED_LINE_OR_MOBILE.  A number it
does not know is refused ("no phone number in Austria looks like this"), with one narrow
exception: ranges newer than the library's data, listed in :data:`NEWER_RANGES` (the Israeli
mobile block +972 5x: inwise's own example 0541111111 and ranges such as 055-7xx, 058-9xx are
missing from phonenumbers 9.0) and widened by the mapping's ``inwise.mobile.newer_ranges``.  Even
there the number must be possible (reason exactly IS_POSSIBLE) overall and as a MOBILE and fit
the country's general pattern.  Accepted numbers are returned as international digits without "+".

Answers (good and bad) are cached on the cleaned text and region (``_mobile_cached``); what
phonenumbers answers from the calling code and length alone is cached per pair (``_possible``).
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from ..errors import ValueProblem
from ..messages.catalog import Country, Msg, msg
from ..tables.base import CellError
from .countries import _calling_code, region_for
from .values import (
    _CACHE_SIZE,
    _EMPTY,
    _ERROR_REASON,
    _cell_error,
    _displayed_number,
    _is_spreadsheet_error,
    _number_text,
    _Outcome,
    _shown,
    clean_text,
)

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
