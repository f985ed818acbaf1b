"""Cell values -> one line of text: the cleaning every other normaliser starts from.

- :func:`clean_text` / :func:`header_key` / :func:`is_blank`: invisible (bidi) marks, control characters
  and every kind of Unicode space removed or made one space; how headers and tab names match.
- :func:`format_field` (one personal-field cell -> the text sent to inwise: numbers exact, dates by the
  mapping's pattern, spreadsheet errors refused); ``fast.FieldTexts`` is its per-column fast path.
- What the other modules share: :class:`_Outcome` (a cached good/bad answer), :func:`_shown` (a value
  as quoted in a message), the messages of error cells.

Pure: no I/O.  Problems are raised as :class:`ValueProblem` whose text is for office staff.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Any, NamedTuple

from ..errors import ProblemKind, ValueProblem
from ..messages.catalog import msg
from ..tables.base import CellError

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


class _Outcome(NamedTuple):
    """A cached answer: ``ok`` with the normalised value, or not ``ok`` with a reason."""

    ok: bool
    text: Any  # the normalised value (str) when ok, else the reason (a Msg)


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
