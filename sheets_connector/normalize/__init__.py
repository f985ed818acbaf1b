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

Mobile rule (see ``phones``' docstring): a number phonenumbers knows must be a MOBILE (or
FIXED_LINE_OR_MOBILE); one it does not know is refused, except in ranges newer than the library's
data (:data:`NEWER_RANGES`, widened by the mapping's ``inwise.mobile.newer_ranges``).

Repeated values are common in big lists, so email and mobile results (good or bad) are cached on
the cleaned text; :func:`cache_info` and :func:`clear_caches` expose the caches.

The package, one module per kind of value (import from the package; the modules are its parts):

- ``values``: clean_text / header_key / is_blank, format_field (personal fields), the helpers
  the others share;
- ``emails``: normalize_email, email_key;
- ``phones``: normalize_mobile and the mobile rule above;
- ``countries``: region_for, calling_code_for, country_name;
- ``dates``: date_pattern (the mapping's date formats);
- ``fast``: known_email, known_mobile, known_cells, FieldTexts - the fast paths for clean cells,
  which must answer exactly as the general path does (a test maps a varied sheet both ways).
"""
from __future__ import annotations

from typing import Any

from ..errors import ValueProblem
from .countries import _calling_code, calling_code_for, country_name, region_for
from .dates import date_pattern
from .emails import _DOMAINS, _email_cached, email_key, normalize_email
from .fast import FieldTexts, known_cells, known_email, known_mobile
from .phones import _POSSIBLE, MOBILE_TYPES, NEWER_RANGES, _general_patterns, _mobile_cached, normalize_mobile
from .values import MAX_SHOWN, clean_text, format_field, header_key, is_blank

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
    "header_key",
    "MAX_SHOWN",
]


def cache_info() -> dict[str, Any]:
    """Hit/miss counters of the email and mobile caches (``functools`` ``CacheInfo`` tuples)."""
    return {"email": _email_cached.cache_info(), "mobile": _mobile_cached.cache_info()}


def clear_caches() -> None:
    """Empty the email and mobile caches (tests; or after changing phonenumbers metadata)."""
    _email_cached.cache_clear()
    _DOMAINS.clear()
    _mobile_cached.cache_clear()
    _calling_code.cache_clear()
    _POSSIBLE.clear()
    _general_patterns.cache_clear()
