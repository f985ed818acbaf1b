"""Dates in a spreadsheet that has a locale (Google Sheets): read as the sheet holds them, and
said aloud where staff may have typed them the other way round.

A Google Sheet parses what staff type by its locale (File > Settings > Locale).  In a sheet whose
locale is the United States, ``03/04/1985`` typed by someone who means 3 April is stored as the
date 4 March 1985, and ``15/04/1985`` stays text (there is no month 15).  So:

- a real date cell is a serial number: unambiguous, read as the date the sheet holds;
- text that looks like a date (``4/3/1985``, ``04.03.85``, ``1985-03-04``) in a date column is
  read the way the sheet's locale reads typed dates (``read_text_date``); text that is no date
  that way (``15/04/1985`` month first) is a bad cell: its row waits until it is fixed;
- ``survey`` looks at every mapped personal-field column before anything is sent and says, in
  words, where the sheet's locale and the mapping's ``date_format`` disagree (the dates that read
  both ways, by row) and where a column mixes real dates with dates typed as text.

A workbook (.xlsx) has no locale here (``TableData.locale`` is None): nothing of this applies.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .messages.catalog import Msg, msg, said
from .normalize import ValueProblem

__all__ = ["DateColumn", "SheetLocale", "format_order", "read_text_date", "sheet_locale", "survey"]

# Where day and month go, by locale (Google's locale codes: en_US, iw_IL, de_DE ...).  Month first:
# the United States and the places that write dates its way; year first: East Asia, Hungary,
# Lithuania, Sweden, Canada.  Every other locale reads day first.
_MONTH_FIRST = {"en_US", "es_US", "en_PH", "fil_PH", "fil", "en_PR", "es_PR", "en_UM", "en_VI", "en_AS", "en_GU",
                "en_MP", "en_FM", "en_MH", "en_PW", "en_BZ", "en_KY"}
_YEAR_FIRST_LANGUAGES = {"zh", "ja", "ko", "hu", "lt", "mn", "sv"}
_YEAR_FIRST = {"en_CA", "fr_CA", "en_ZA"}
_NAMES = {
    "en_US": "United States", "en_GB": "United Kingdom", "iw_IL": "Israel", "he_IL": "Israel", "iw": "Hebrew",
    "he": "Hebrew", "en_IL": "Israel (English)", "ar_IL": "Israel (Arabic)", "ru_RU": "Russia", "de_DE": "Germany",
    "fr_FR": "France", "en_CA": "Canada", "en_AU": "Australia", "es_ES": "Spain", "es_US": "United States (Spanish)",
}
MAX_ROWS_NAMED = 8  # rows listed by number in a message; the rest are counted
_TEXT_DATE = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\.?")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


@dataclass(frozen=True)
class SheetLocale:
    code: str  # en_US
    order: str  # "MDY", "DMY" or "YMD": how the sheet reads 03/04/1985

    @property
    def name(self) -> str:
        shown = _NAMES.get(self.code, self.code)
        return f"{shown} ({self.code})" if shown != self.code else self.code

    @property
    def reads(self) -> str:
        return {"MDY": "month first", "DMY": "day first", "YMD": "year first"}[self.order]


def sheet_locale(code: str | None) -> SheetLocale | None:
    """The locale of a spreadsheet from its code; None without one (a workbook)."""
    if not code:
        return None
    language = code.split("_")[0]
    if code in _MONTH_FIRST:
        return SheetLocale(code, "MDY")
    if code in _YEAR_FIRST or language in _YEAR_FIRST_LANGUAGES:
        return SheetLocale(code, "YMD")
    return SheetLocale(code, "DMY")


def format_order(pattern: str) -> str | None:
    """"DMY" / "MDY" / "YMD" for a strftime date pattern; None when the month is a name (%b) or
    the pattern lacks a day or a month: such a format cannot be read the other way round."""
    found = {k: pattern.find(d) for k, d in (("D", "%d"), ("M", "%m"), ("Y", "%Y"))}
    if found["Y"] < 0:
        found["Y"] = pattern.find("%y")
    if found["D"] < 0 or found["M"] < 0:
        return None
    return "".join(sorted(found, key=lambda k: (found[k] < 0, found[k])))


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:  # as Google reads two-digit years
        return y + (2000 if y < 30 else 1900)
    return y


def read_text_date(text: str, order: str) -> _dt.date | _dt.datetime | None:
    """The date a sheet with ``order`` makes of typed text; None if the text does not look like
    a numeric date at all.  Raises ValueProblem for text that looks like one but is no date that
    way (``15/04/1985`` read month first)."""
    m = _TEXT_DATE.fullmatch(text.strip())
    if m is None:
        return None
    a, _sep, b, c, hh, mi, ss = m.groups()
    if len(a) == 4:  # 1985-04-03: year first everywhere
        y, mo, d = int(a), int(b), int(c)
    elif len(c) not in (2, 4) or len(a) > 2:
        return None
    elif order == "MDY":
        mo, d, y = int(a), int(b), _year(c)
    elif order == "DMY":
        d, mo, y = int(a), int(b), _year(c)
    else:
        return None  # a year-first locale reads no d/m/y text as a date
    try:
        day = _dt.date(y, mo, d)
        if hh is not None:
            return _dt.datetime(y, mo, d, int(hh), int(mi), int(ss or 0))
    except ValueError:
        raise ValueProblem("field", text.strip(), msg("field.not_date")) from None
    return day


def spoken(day: _dt.date) -> str:
    """3 April 1985: no order to misread."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def shown_as(day: _dt.date, order: str) -> str:
    """How the sheet shows a date by default in a locale of that order (3/4/1985 month first)."""
    if order == "MDY":
        return f"{day.month}/{day.day}/{day.year}"
    if order == "YMD":
        return f"{day.year}-{day.month:02d}-{day.day:02d}"
    return f"{day.day}/{day.month}/{day.year}"


def _rows_msg(numbers: Sequence[int], start: bool = False) -> Msg:
    """``rows 3, 5 and 2 more`` (``Rows ...`` to start a sentence) as a message."""
    named = ", ".join(str(n) for n in numbers[:MAX_ROWS_NAMED])
    if len(numbers) == 1:
        return msg("dates.row_start" if start else "dates.row", numbers=named)
    more = msg("dates.more", n=len(numbers) - MAX_ROWS_NAMED) if len(numbers) > MAX_ROWS_NAMED else ""
    return msg("dates.rows_start" if start else "dates.rows", numbers=named, more=more)


@dataclass
class DateColumn:
    """What one personal-field column holds, date-wise."""

    index: int
    header: str
    letter: str
    real: list[tuple[int, _dt.date]] = field(default_factory=list)  # (row, date) of real date cells
    text: list[tuple[int, str, _dt.date]] = field(default_factory=list)  # text read as a date in the locale
    bad: list[tuple[int, str]] = field(default_factory=list)  # text that looks like a date but is none there
    other: int = 0  # non-blank cells that are neither

    @property
    def is_dates(self) -> bool:
        text_like = len(self.text) + len(self.bad)
        return bool(self.real) or (text_like > 0 and text_like * 2 >= text_like + self.other)

    @property
    def name(self) -> Msg:
        return msg("dates.column", header=self.header, letter=self.letter)


def _as_date(value: Any) -> _dt.date | None:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return None


def survey(rows: Sequence[tuple[int, Sequence[Any]]], columns: Sequence[tuple[int, str, str, str]],
           locale: SheetLocale) -> tuple[list[DateColumn], list[str]]:  # the warnings: catalog.Said
    """Every (index, header, letter, date pattern) column of ``rows`` ((number, values) pairs)
    looked at once: (the date columns, warnings in words for check and the sync)."""
    found: list[DateColumn] = []
    warnings: list[str] = []
    for index, header, letter, pattern in columns:
        col = DateColumn(index, header, letter)
        for number, values in rows:
            v = values[index] if index < len(values) else None
            day = _as_date(v)
            if day is not None:
                col.real.append((number, day))
            elif isinstance(v, str) and v.strip():
                try:
                    read = read_text_date(v, locale.order)
                except ValueProblem:
                    col.bad.append((number, v.strip()))
                    continue
                if read is None:
                    col.other += 1
                else:
                    col.text.append((number, v.strip(), _as_date(read) or read))
            elif v is not None and not (isinstance(v, str) and not v.strip()):
                col.other += 1
        if not col.is_dates:
            continue
        found.append(col)
        warnings += _disagreement(col, locale, pattern) + _mixed(col, locale)
    return found, warnings


def _disagreement(col: DateColumn, locale: SheetLocale, pattern: str) -> list[str]:
    """The sheet reads typed dates one way, the mapping writes them the other way."""
    fmt = format_order(pattern)
    if fmt not in ("DMY", "MDY") or locale.order not in ("DMY", "MDY") or fmt == locale.order:
        return []
    # a real date whose day is 12 or less could have been typed meaning the other order
    both_ways = [(n, d) for n, d in col.real if d.day <= 12 and d.day != d.month]
    typed_both = [(n, t, d) for n, t, d in col.text if d.day <= 12 and d.day != d.month]
    if not (both_ways or typed_both or col.bad):
        return []
    example = _dt.date(1985, 3, 4) if locale.order == "MDY" else _dt.date(1985, 4, 3)
    reads = Msg(f"reads.{locale.order}")
    listed = sorted([(n, shown_as(d, locale.order), d) for n, d in both_ways] + [(n, t, d) for n, t, d in typed_both])
    both: Msg | str = ""
    if listed:
        n, shown, d = listed[0]
        both = msg("dates.both_one" if len(listed) == 1 else "dates.both_many",
                   rows=_rows_msg([r[0] for r in listed], start=True), n=n, shown=shown, held=d,
                   sent=d.strftime(pattern))
    bad: Msg | str = ""
    if col.bad:
        bad = msg("dates.bad_one" if len(col.bad) == 1 else "dates.bad_many",
                  rows=_rows_msg([r[0] for r in col.bad], start=True), text=col.bad[0][1], reads=reads)
    return [said("dates.disagree", column=col.name, locale=locale.name, reads=reads, example=example,
                 pattern=_friendly(pattern), way=Msg(f"reads.{fmt}"), both=both, bad=bad,
                 fmt="mm/dd/yyyy" if locale.order == "MDY" else "dd/mm/yyyy")]


def _mixed(col: DateColumn, locale: SheetLocale) -> list[str]:
    """Real dates and dates typed as text in one column: the text ones were never checked by the sheet."""
    typed = sorted([(n, t) for n, t, _ in col.text] + col.bad)
    if not (col.real and typed):
        return []
    n, t = typed[0]
    bad: Msg | str = ""
    if col.bad:
        bad = msg("dates.mixed_bad_one" if len(col.bad) == 1 else "dates.mixed_bad_many",
                  rows=_rows_msg([r[0] for r in col.bad]))
    return [said("dates.mixed", column=col.name, real=_rows_msg([r[0] for r in col.real]),
                 typed=_rows_msg([r[0] for r in typed]), text=t, n=n, locale=locale.name,
                 reads=Msg(f"reads.{locale.order}"), bad=bad)]


def _friendly(pattern: str) -> str:
    return (pattern.replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy")
            .replace("%H", "HH").replace("%M", "MM"))


def text_date_problem(text: str, locale: SheetLocale, header: str) -> Msg:
    """The row's message for a date typed as text that the sheet's locale cannot read."""
    other = {"MDY": "DMY", "DMY": "MDY"}.get(locale.order)
    meant = None
    if other is not None:
        try:
            meant = _as_date(read_text_date(text, other))
        except ValueProblem:
            pass
    reads = Msg(f"reads.{locale.order}")
    if meant:
        return msg("row.text_date_meant", text=text, column=header, reads=reads, locale=locale.name, meant=meant,
                   shown=shown_as(meant, locale.order))
    return msg("row.text_date", text=text, column=header, reads=reads, locale=locale.name)
