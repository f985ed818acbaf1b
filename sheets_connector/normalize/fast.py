"""The fast paths for clean cells - most cells of a big sheet: the general path's answer
without building an exception, or None when the caller must ask the general path (which says why).

- :func:`known_email` / :func:`known_mobile`: ``normalize_email`` / ``normalize_mobile`` of a usable
  cell, from the same caches;
- :func:`known_cells`: both for a chunk of rows, what a mapping helper process runs (contacts.py);
- :class:`FieldTexts`: ``format_field`` of one personal-field column, remembered per value.

Every answer here must equal the general path's: tests/test_contacts.py maps a varied sheet both
ways (``ContactMapper.fast_paths``) and compares.
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from .countries import region_for
from .emails import _email_cached
from .phones import NEWER_RANGES, _mobile_cached
from .values import _CACHE_SIZE, _is_spreadsheet_error, _number_text, clean_text


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


class FieldTexts:
    """:func:`format_field` of one personal-field column remembered for the values that repeat
    down a big sheet (first names, cities, birthdays, scores), as the ``(field number, text)``
    pair a contact holds: the same text without cleaning the cell again, one pair shared by every
    row with that value.  One per column and mapping run; it forgets everything when ``limit``
    values are known, so it stays small."""

    __slots__ = ("known", "_limit", "number", "date_format")

    def __init__(self, number: int, date_format: str, limit: int = _CACHE_SIZE) -> None:
        self.number = number
        self.date_format = date_format
        #: cell value -> its pair (``()``: a blank text), for values of class str, int and date
        #: only - never equal to each other (a float, a bool, a datetime may equal one of them
        #: and be written otherwise: they are never looked up here).  The mapper reads it inline.
        self.known: dict[Any, tuple[int, str] | tuple[()]] = {}
        self._limit = limit

    def pair(self, value: Any) -> tuple[int, str] | tuple[()] | None:
        """``(number, format_field(value, date_format=...))`` for text, whole and finite numbers
        and dates; ``()`` for a blank cell (no field); None for any other value and for text
        format_field refuses (the caller calls format_field, which says why)."""
        cls = value.__class__
        if cls is str or cls is _dt.date or cls is int:
            known = self.known.get(value)
            if known is not None:
                return known
            if cls is str:
                text = clean_text(value)
                if not text:
                    known = ()
                elif _is_spreadsheet_error(text):
                    return None
            elif cls is int:
                text = _number_text(value)
            else:
                text = value.strftime(self.date_format)
            if len(self.known) >= self._limit:
                self.known.clear()
            if known is None:
                known = (self.number, text)
            self.known[value] = known
            return known
        if value is None:
            return ()
        if cls is float and math.isfinite(value):
            return (self.number, _number_text(value))
        return None
