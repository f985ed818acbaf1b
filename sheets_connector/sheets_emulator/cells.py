"""Typed cells as Google Sheets keeps them, and how the API shows them.

A cell holds one value - text, a number (a double), a boolean or an error - plus an optional
formula and an optional number format.  Dates are numbers: days since 1899-12-30 (the "serial
number"), shown as dates because of their DATE / DATE_TIME / TIME number format.  So the same
cell reads differently with each ``valueRenderOption``:

- ``FORMATTED_VALUE``: what the user sees - ``9.73E+11`` for a mobile in scientific format,
  ``541111111`` for ``0541111111`` typed as a number, ``3/12/2024`` or ``12/03/2024`` for a date
  depending on the spreadsheet's locale;
- ``UNFORMATTED_VALUE``: the number itself (``972541111111``, ``45363`` for a date, or the date
  as a formatted string with ``dateTimeRenderOption=FORMATTED_STRING``);
- ``FORMULA``: the formula text where there is one.

Writes with ``RAW`` store strings as text (``=1+1`` and ``0541`` stay text); ``USER_ENTERED``
parses them like the Sheets UI: numbers, booleans, dates in the locale's order, formulas.
Only a small formula evaluator is built in (arithmetic on numbers and cell references, spaces
allowed); any other formula shows ``#NAME?``.
"""
from __future__ import annotations

import ast
import datetime as _dt
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EPOCH = _dt.datetime(1899, 12, 30)
SECONDS_PER_DAY = 86400

DATE_TYPES = ("DATE", "TIME", "DATE_TIME")

ERROR_TEXT = {
    "ERROR": "#ERROR!",
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "LOADING": "Loading...",
}


@dataclass(frozen=True, slots=True)
class NumberFormat:
    type: str  # NUMBER, TEXT, PERCENT, CURRENCY, DATE, TIME, DATE_TIME, SCIENTIFIC
    pattern: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"type": self.type}
        if self.pattern:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True, slots=True)
class ErrorValue:
    type: str  # a key of ERROR_TEXT
    message: str = ""

    @property
    def text(self) -> str:
        return ERROR_TEXT.get(self.type, "#ERROR!")


Value = Any  # str | float | bool | ErrorValue | None


@dataclass(slots=True)
class Cell:
    """One cell: its value, the formula that computed it (if any) and its number format."""

    value: Value = None
    formula: str | None = None
    fmt: NumberFormat | None = None
    note: str | None = None  # a note staff attached (Insert > Note); values written keep it

    @property
    def empty(self) -> bool:
        return self.value is None and self.formula is None


@dataclass(frozen=True, slots=True)
class Locale:
    date: str
    date_time: str
    time: str
    day_first: bool
    decimal: str = "."
    group: str = ","


LOCALES: dict[str, Locale] = {
    "en_US": Locale("M/d/yyyy", "M/d/yyyy H:mm:ss", "h:mm:ss am/pm", day_first=False),
    "en_GB": Locale("dd/MM/yyyy", "dd/MM/yyyy HH:mm:ss", "HH:mm:ss", day_first=True),
    "iw_IL": Locale("d.M.yyyy", "d.M.yyyy H:mm:ss", "H:mm:ss", day_first=True),
    "he_IL": Locale("d.M.yyyy", "d.M.yyyy H:mm:ss", "H:mm:ss", day_first=True),
    "de_DE": Locale("dd.MM.yyyy", "dd.MM.yyyy HH:mm:ss", "HH:mm:ss", day_first=True, decimal=",", group="."),
}


def locale_of(name: str) -> Locale:
    return LOCALES.get(name, LOCALES["en_US"])


# --------------------------------------------------------------------------------------------
# Serial numbers
# --------------------------------------------------------------------------------------------
def to_serial(value: _dt.date | _dt.datetime | _dt.time) -> float:
    if isinstance(value, _dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return delta.days + delta.seconds / SECONDS_PER_DAY + delta.microseconds / (SECONDS_PER_DAY * 1e6)
    if isinstance(value, _dt.date):
        return float((value - EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second) / SECONDS_PER_DAY


def from_serial(serial: float) -> _dt.datetime:
    moment = EPOCH + _dt.timedelta(days=serial)
    if moment.microsecond >= 500_000:  # undo floating-point noise: 13:29:59.9996 is 13:30
        moment += _dt.timedelta(seconds=1)
    return moment.replace(microsecond=0)


def python_cell(value: Any, locale: Locale) -> Cell | None:
    """A seed value from Python as Google would store it (text stays text, as with RAW)."""
    if value is None:
        return None
    if isinstance(value, Cell):
        return value
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, (int, float)):
        return Cell(float(value))
    if isinstance(value, _dt.datetime):
        return Cell(to_serial(value), fmt=NumberFormat("DATE_TIME", locale.date_time))
    if isinstance(value, _dt.date):
        return Cell(to_serial(value), fmt=NumberFormat("DATE", locale.date))
    if isinstance(value, _dt.time):
        return Cell(to_serial(value), fmt=NumberFormat("TIME", locale.time))
    return Cell(str(value))


# --------------------------------------------------------------------------------------------
# Reading: the three render options
# --------------------------------------------------------------------------------------------
def json_number(value: float) -> int | float:
    """A double as the API writes it in JSON: integral values without ".0"."""
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def unformatted(cell: Cell, locale: Locale, date_strings: bool) -> Any:
    """UNFORMATTED_VALUE (with dateTimeRenderOption SERIAL_NUMBER or FORMATTED_STRING)."""
    v = cell.value
    if isinstance(v, ErrorValue):
        return v.text
    if isinstance(v, float):
        if date_strings and cell.fmt is not None and cell.fmt.type in DATE_TYPES:
            return formatted(cell, locale)
        return json_number(v)
    return "" if v is None else v


def formatted(cell: Cell, locale: Locale) -> str:
    """FORMATTED_VALUE: the text the user sees in the cell."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, ErrorValue):
        return v.text
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return v
    fmt = cell.fmt
    if fmt is not None and fmt.type in DATE_TYPES:
        default = {"DATE": locale.date, "TIME": locale.time, "DATE_TIME": locale.date_time}[fmt.type]
        return render_date(from_serial(v), fmt.pattern or default)
    if fmt is not None and fmt.pattern and fmt.type != "TEXT":
        return render_number(v, fmt.pattern, locale)
    if fmt is not None and fmt.type == "SCIENTIFIC":
        return render_number(v, "0.00E+00", locale)
    return general_number(v, locale)


def general_number(v: float, locale: Locale) -> str:
    """Google's automatic format: whole numbers in full up to 15 digits, else 1.23457E+16."""
    if not math.isfinite(v):
        return "#NUM!"
    if abs(v) >= 1e15 or (v != 0 and abs(v) < 1e-9):
        mantissa, exp = f"{v:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{exp[0]}{int(exp[1:]):02d}".replace(".", locale.decimal)
    if v.is_integer():
        return str(int(v))
    return f"{v:.10g}".replace(".", locale.decimal)


def render_number(v: float, pattern: str, locale: Locale) -> str:
    """A number pattern such as ``0``, ``#,##0.00``, ``0%``, ``0.00E+00`` (a useful subset)."""
    m = re.search(r"[0#][0#,]*(?:\.[0#]+)?(?:E\+0+)?%?", pattern)
    if not m:
        return pattern
    token = m.group(0)
    prefix, suffix = pattern[:m.start()].replace('"', ""), pattern[m.end():].replace('"', "")
    decimals = len(token.split(".")[1].split("E")[0].rstrip("%")) if "." in token else 0
    if "E+" in token:
        exp_digits = len(token.split("E+")[1])
        mantissa, exp = f"{v:.{decimals}E}".split("E")
        text = f"{mantissa}E{exp[0]}{int(exp[1:]):0{exp_digits}d}"
        return prefix + text.replace(".", locale.decimal) + suffix
    if token.endswith("%"):
        v *= 100
    text = f"{abs(v):,.{decimals}f}" if "," in token.split(".")[0] else f"{abs(v):.{decimals}f}"
    text = text.replace(",", "\0").replace(".", locale.decimal).replace("\0", locale.group)
    return ("-" if v < 0 else "") + prefix + text + ("%" if token.endswith("%") else "") + suffix


_DATE_TOKEN = re.compile(r'"[^"]*"|\\.|yyyy|yy|MMMM|MMM|MM|M|mmmm|mmm|mm|m|dddd|ddd|dd|d|HH|H|hh|h|ss|s|am/pm|AM/PM|a/p|\.0+|.', re.S)


def render_date(moment: _dt.datetime, pattern: str) -> str:
    """A Sheets date-time pattern (``dd/MM/yyyy``, ``M/d/yyyy H:mm:ss``, ``h:mm am/pm``...)."""
    tokens = _DATE_TOKEN.findall(pattern)
    twelve = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    out: list[str] = []
    for i, t in enumerate(tokens):
        if t.startswith('"'):
            out.append(t[1:-1])
        elif t.startswith("\\"):
            out.append(t[1:])
        elif t in ("yyyy",):
            out.append(f"{moment.year:04d}")
        elif t == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif t in ("MMMM", "mmmm"):
            out.append(moment.strftime("%B"))
        elif t in ("MMM", "mmm"):
            out.append(moment.strftime("%b"))
        elif t in ("MM", "M", "mm", "m"):
            if t.islower() and _is_minute(tokens, i):
                out.append(f"{moment.minute:02d}" if t == "mm" else str(moment.minute))
            else:
                out.append(f"{moment.month:02d}" if len(t) == 2 else str(moment.month))
        elif t == "dddd":
            out.append(moment.strftime("%A"))
        elif t == "ddd":
            out.append(moment.strftime("%a"))
        elif t in ("dd", "d"):
            out.append(f"{moment.day:02d}" if t == "dd" else str(moment.day))
        elif t in ("HH", "H", "hh", "h"):
            hour = moment.hour
            if twelve:
                hour = hour % 12 or 12
            out.append(f"{hour:02d}" if len(t) == 2 else str(hour))
        elif t in ("ss", "s"):
            out.append(f"{moment.second:02d}" if t == "ss" else str(moment.second))
        elif t.lower() == "am/pm":
            out.append("AM" if moment.hour < 12 else "PM")
        elif t.lower() == "a/p":
            out.append("A" if moment.hour < 12 else "P")
        elif t.startswith(".0"):
            out.append("." + "0" * (len(t) - 1))
        else:
            out.append(t)
    return "".join(out)


def _is_minute(tokens: list[str], i: int) -> bool:
    """Lower-case m is minutes right after an hour or right before seconds, else month."""
    for j in range(i - 1, -1, -1):
        if tokens[j] in ("HH", "H", "hh", "h"):
            return True
        if tokens[j].isalpha():
            break
    for j in range(i + 1, len(tokens)):
        if tokens[j] in ("ss", "s"):
            return True
        if tokens[j].isalpha():
            break
    return False


# --------------------------------------------------------------------------------------------
# Writing: RAW and USER_ENTERED
# --------------------------------------------------------------------------------------------
def raw_cell(value: Any, old: Cell | None) -> Cell | None:
    """A JSON value written with RAW: stored as given (the old number format is kept)."""
    fmt = old.fmt if old is not None else None
    if value is None or value == "":
        return Cell(None, fmt=fmt) if fmt is not None else None
    if isinstance(value, bool):
        return Cell(value, fmt=fmt)
    if isinstance(value, (int, float)):
        return Cell(float(value), fmt=fmt)
    return Cell(str(value), fmt=fmt)


CellReader = Callable[[int, int], Any]  # (row, col), 0-based -> the referenced cell's value


def user_entered_cell(value: Any, old: Cell | None, locale: Locale, cells: CellReader | None = None) -> Cell | None:
    """A JSON value written with USER_ENTERED: strings are parsed as if typed in the UI."""
    if not isinstance(value, str) or value == "":
        return raw_cell(value, old)
    keep = old.fmt if old is not None else None
    return parse_typed(value, locale, keep, cells)


def parse_typed(text: str, locale: Locale, fmt: NumberFormat | None = None, cells: CellReader | None = None) -> Cell:
    """What the Sheets UI stores for typed text (a subset: formulas, numbers, booleans, dates)."""
    if text.startswith("'"):
        return Cell(text[1:], fmt=fmt)
    if text.startswith("="):
        return Cell(_evaluate(text[1:], cells), formula=text, fmt=fmt)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Cell(stripped.upper() == "TRUE", fmt=fmt)
    if fmt is not None and fmt.type == "TEXT":
        return Cell(text, fmt=fmt)
    number = _parse_number(stripped, locale)
    if number is not None:
        value, percent = number
        if percent:
            return Cell(value, fmt=fmt or NumberFormat("PERCENT", "0%"))
        return Cell(value, fmt=fmt)
    when = _parse_date(stripped, locale)
    if when is not None:
        moment, kind = when
        default = {"DATE": locale.date, "DATE_TIME": locale.date_time, "TIME": locale.time}[kind]
        keep = fmt if fmt is not None and fmt.type in DATE_TYPES else NumberFormat(kind, default)
        serial = to_serial(moment.time()) if kind == "TIME" else to_serial(moment)
        return Cell(serial, fmt=keep)
    return Cell(text, fmt=fmt)


def _parse_number(text: str, locale: Locale) -> tuple[float, bool] | None:
    g, d = re.escape(locale.group), re.escape(locale.decimal)
    m = re.fullmatch(rf"([+-]?)(\d{{1,3}}(?:{g}\d{{3}})+|\d+)?(?:{d}(\d+))?(?:[eE]([+-]?\d+))?(%?)", text)
    if not m or not (m.group(2) or m.group(3)):
        return None
    sign, whole, frac, exp, pct = m.groups()
    number = float((whole or "0").replace(locale.group, "") + "." + (frac or "0") + (f"e{exp}" if exp else ""))
    if sign == "-":
        number = -number
    return (number / 100 if pct else number), bool(pct)


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_LOCAL = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def _parse_date(text: str, locale: Locale) -> tuple[_dt.datetime, str] | None:
    try:
        m = _ISO.fullmatch(text)
        if m:
            y, mo, d, hh, mi, ss = m.groups()
            return _moment(int(y), int(mo), int(d), hh, mi, ss)
        m = _LOCAL.fullmatch(text)
        if m:
            a, b, y, hh, mi, ss = m.groups()
            day, month = (int(a), int(b)) if locale.day_first else (int(b), int(a))
            year = int(y) + (2000 if len(y) == 2 and int(y) < 30 else 1900 if len(y) == 2 else 0)
            return _moment(year, month, day, hh, mi, ss)
        m = _TIME.fullmatch(text)
        if m:
            hh, mi, ss = m.groups()
            return _dt.datetime(1899, 12, 30, int(hh), int(mi), int(ss or 0)), "TIME"
    except ValueError:
        return None
    return None


def _moment(y: int, mo: int, d: int, hh: str | None, mi: str | None, ss: str | None) -> tuple[_dt.datetime, str]:
    if hh is None:
        return _dt.datetime(y, mo, d), "DATE"
    return _dt.datetime(y, mo, d, int(hh), int(mi or 0), int(ss or 0)), "DATE_TIME"


_OPS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos,
}


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


def _evaluate(expression: str, cells: CellReader | None = None) -> float | ErrorValue:
    """Arithmetic on numbers and cell references (``= A2 * 2 + 1``, spaces allowed as in
    Google); an unknown function or name is #NAME?, text in arithmetic #VALUE!."""
    try:
        tree = ast.parse(expression.strip().replace("^", "**").replace("$", ""), mode="eval")
        return float(_eval_node(tree.body, cells))
    except ZeroDivisionError:
        return ErrorValue("DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
    except _TextInArithmetic as e:
        return ErrorValue("VALUE", f"Function ADD parameter expects number values. But '{e}' is a text.")
    except (SyntaxError, ValueError, TypeError, KeyError, OverflowError):
        return ErrorValue("NAME", "Unknown function or range name (the emulator computes arithmetic and cell references).")


class _TextInArithmetic(Exception):
    pass


def _eval_node(node: ast.AST, cells: CellReader | None) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](_eval_node(node.left, cells), _eval_node(node.right, cells))
    if isinstance(node, ast.UnaryOp):
        return _OPS[type(node.op)](_eval_node(node.operand, cells))
    if isinstance(node, ast.Name) and cells is not None:
        m = _REF.fullmatch(node.id)
        if m and int(m.group(2)) >= 1:
            col = 0
            for ch in m.group(1).upper():
                col = col * 26 + ord(ch) - 64
            value = cells(int(m.group(2)) - 1, col - 1)
            if value is None:
                return 0.0
            if isinstance(value, bool):
                return float(value)
            if isinstance(value, float):
                return value
            if isinstance(value, ErrorValue):
                raise ValueError(value.text)
            raise _TextInArithmetic(str(value))
    raise ValueError("not arithmetic")


# --------------------------------------------------------------------------------------------
# Grid data (spreadsheets.get with includeGridData)
# --------------------------------------------------------------------------------------------
def extended_value(value: Value) -> dict[str, Any]:
    kind = type(value)
    if kind is str:  # most cells: answered first (a million-cell grid asks a million times)
        return {"stringValue": value}
    if kind is float:
        return {"numberValue": json_number(value)}
    if isinstance(value, ErrorValue):
        return {"errorValue": {"type": value.type, "message": value.message}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, float):
        return {"numberValue": json_number(value)}
    return {"stringValue": value}


def cell_data(cell: Cell, locale: Locale, wanted: set[str] | None) -> dict[str, Any]:
    """A CellData object; ``wanted`` limits it to some top-level fields (None: all we know)."""
    out: dict[str, Any] = {}

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    if cell.value is not None or cell.formula is not None:
        if want("userEnteredValue"):
            out["userEnteredValue"] = (
                {"formulaValue": cell.formula} if cell.formula is not None else extended_value(cell.value)
            )
        if want("effectiveValue") and cell.value is not None:
            out["effectiveValue"] = extended_value(cell.value)
        if want("formattedValue"):
            out["formattedValue"] = formatted(cell, locale)
    if cell.note and want("note"):
        out["note"] = cell.note
    if cell.fmt is not None:
        if want("userEnteredFormat"):
            out["userEnteredFormat"] = {"numberFormat": cell.fmt.to_json()}
        if want("effectiveFormat"):
            out["effectiveFormat"] = {"numberFormat": cell.fmt.to_json()}
    return out
