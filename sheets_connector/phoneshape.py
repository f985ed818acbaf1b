"""Formatting many international numbers fast: phonenumbers once per *shape*, not per number.

phonenumbers picks a number's national format from its country, the leading digits of its
national number and its length; the last four digits only fill the slots.  So the format of
one number, turned into a template (literal characters and slots for the input's digits), gives
the format of every number sharing its digits but the last four and its length.  A sheet's or a
feed's 100,000 mobiles have a few hundred shapes: formatting them costs a few hundred
phonenumbers calls instead of 200,000 (each parse + format is ~0.1 ms).

Every template is checked against the number it was made from; a number whose format cannot be
written as a template (its digits not all in order in the text) is formatted by phonenumbers.
"""
from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter

Template = tuple["str | int", ...]  # str: literal text; int: index of a digit of the input
TAIL = 4  # digits that never decide a number's format
MIN_DIGITS = 8  # shorter numbers: too few digits ahead of the tail to key on


def template(digits: str, text: str) -> Template | None:
    """``text`` (a format of ``digits``) as literals and slots, matching the input's digits from
    the right (a national prefix is on the left); None when not all of the tail is in it."""
    out: list[str | int] = []
    i = len(digits) - 1
    for ch in reversed(text):
        if i >= 0 and ch == digits[i]:
            out.append(i)
            i -= 1
        else:
            out.append(ch)
    out.reverse()
    used = {s for s in out if isinstance(s, int)}
    if not all(k in used for k in range(len(digits) - TAIL, len(digits))):
        return None
    return tuple(out)


def fill(t: Template, digits: str) -> str:
    return "".join(digits[s] if isinstance(s, int) else s for s in t)


def filler(t: Template) -> Callable[[str], str]:
    """``fill(t, ·)`` as one %-format of the slots taken at once (a feed fills ~100,000)."""
    fmt = "".join("%s" if isinstance(s, int) else s.replace("%", "%%") for s in t)
    slots = [s for s in t if isinstance(s, int)]
    if len(slots) < 2:
        return lambda digits: fill(t, digits)
    take = itemgetter(*slots)
    return lambda digits: fmt % take(digits)


def by_shape(fmt: Callable[[str], str | None], *, maxsize: int = 4096) -> Callable[[str], str | None]:
    """``fmt`` (digits -> text, or None) memoised by shape: the digits but the last four, and
    their length.  Only results that hold every tail digit in order are shared."""
    shapes: dict[tuple[str, int], tuple[Callable[[str], str] | None, bool]] = {}  # (filler, fmt gave None)

    def call(digits: str) -> str | None:
        if len(digits) < MIN_DIGITS or not digits.isdigit():
            return fmt(digits)
        key = (digits[:-TAIL], len(digits))
        known = shapes.get(key)
        if known is None:
            text = fmt(digits)
            t = template(digits, text) if text is not None else None
            if len(shapes) >= maxsize:
                shapes.clear()
            shapes[key] = (filler(t) if t is not None and text is not None and fill(t, digits) == text else None,
                           text is None)
            return text
        f, none = known
        if f is not None:
            return f(digits)
        # no template: None is shared by the shape (it does not depend on the tail), a text is not
        return None if none else fmt(digits)

    return call
