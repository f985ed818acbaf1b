"""Date formats as staff write them in the mapping (``dd/mm/yyyy``) -> strftime patterns."""
from __future__ import annotations

import datetime as _dt
import re

from ..messages.catalog import said

_FRIENDLY_TOKENS = re.compile(r"yyyy|yy|mm|dd|hh|ss|[/.\-: ,]|.", re.IGNORECASE)
_FRIENDLY_SIMPLE = {"yyyy": "%Y", "yy": "%y", "dd": "%d", "hh": "%H", "ss": "%S"}
_STRFTIME_ALLOWED = set("aAbBdHIjmMpSyY%")
_STRFTIME_DATE = set("aAbBdjmyY")
_DATE_EXAMPLES = 'for example "dd/mm/yyyy", "yyyy-mm-dd", "mm/dd/yyyy", "dd.mm.yy" or "dd/mm/yyyy hh:mm"'
# The refusals below are messages (messages/mapping.py), so a Hebrew mapping reads them in Hebrew.


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
        raise ValueError(said("cfg.date_empty"))
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
            raise ValueError(said("cfg.date_token", value=f'"{raw}"', at=f'"{token}"'))
    pattern = "".join(out)
    if not any(code in pattern for code in ("%d", "%m", "%Y", "%y")):
        raise ValueError(said("cfg.date_parts", value=f'"{raw}"'))
    return pattern


def _checked_strftime(fmt: str) -> str:
    directives = re.findall(r"%(.?)", fmt)
    bad = [d for d in directives if d not in _STRFTIME_ALLOWED]
    if bad:
        raise ValueError(said("cfg.date_code", value=f'"{fmt}"', code=f"%{bad[0]}"))
    if not any(d in _STRFTIME_DATE for d in directives):
        raise ValueError(said("cfg.date_no_date", value=f'"{fmt}"'))
    try:
        _dt.datetime(2024, 1, 31, 13, 45, 30).strftime(fmt)
    except ValueError as exc:  # pragma: no cover - the directives above all format
        raise ValueError(f'date format "{fmt}" cannot format a date ({exc}): {_DATE_EXAMPLES}') from None
    return fmt
