"""A1 notation as the Sheets API reads and writes it (the emulator's own parser).

The emulator parses ranges itself rather than borrowing gspread's helpers, so a bug on the
client side cannot be mirrored (and hidden) by the server.

A range is ``[sheet!]cells``: ``'My tab'!A1:C10``, ``Tab!A:C``, ``Tab!2:5``, ``Tab!A5:C``
(open-ended), ``Tab`` (the whole tab) or ``A1:B2`` (on the first tab).  Quotes around a title
are doubled inside it (``'Bob''s'``).  Indexes here are 0-based; ends are exclusive, ``None``
means "to the end of the grid".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^([A-Za-z]{0,3})(\d{0,7})$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}\d+$")  # a title such as "AB12" would read as a cell


class A1Error(ValueError):
    """The text is not a range the Sheets API would understand."""


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    if index < 0:
        raise ValueError(f"column index {index} is negative")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


@dataclass(frozen=True)
class A1Range:
    sheet: str | None  # None: the first tab
    start_row: int = 0
    end_row: int | None = None
    start_col: int = 0
    end_col: int | None = None
    single_cell: bool = False  # "A1": an anchor for writes, one cell for reads


def quote_title(title: str) -> str:
    """A title as the API writes it in ranges: quoted unless it is a plain word."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, start_row: int, start_col: int, end_row: int, end_col: int) -> str:
    """``'Tab'!A1:C10`` from 0-based start and exclusive ends (a single cell as ``Tab!B2``)."""
    first = f"{column_letters(start_col)}{start_row + 1}"
    last = f"{column_letters(end_col - 1)}{end_row}"
    return f"{quote_title(title)}!{first}" + ("" if first == last else f":{last}")


def _split_sheet(text: str) -> tuple[str | None, str | None]:
    """(title, cells) - either may be None."""
    if text.startswith("'"):
        i, chars = 1, []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    chars.append("'")
                    i += 2
                    continue
                rest = text[i + 1:]
                if rest == "":
                    return "".join(chars), None
                if not rest.startswith("!"):
                    raise A1Error(text)
                return "".join(chars), rest[1:]
            chars.append(ch)
            i += 1
        raise A1Error(text)
    if "!" in text:
        head, cells = text.rsplit("!", 1)
        return head, cells
    return None, text


def _cell(part: str) -> tuple[int | None, int | None]:
    """(row, col) 0-based; None where the part has no row/column."""
    m = _CELL.match(part)
    if not m or not part:
        raise A1Error(part)
    letters, digits = m.groups()
    col = column_index(letters) if letters else None
    row = int(digits) - 1 if digits else None
    if row is not None and row < 0:
        raise A1Error(part)
    return row, col


def parse_range(text: str, sheet_titles: list[str] | None = None) -> A1Range:
    """Parse a range; a bare word that is a known tab title is that whole tab."""
    text = text.strip()
    if not text:
        raise A1Error(text)
    title, cells = _split_sheet(text)
    if title is None and cells is not None and sheet_titles is not None and cells in sheet_titles:
        return A1Range(cells)
    if cells is None:
        return A1Range(title)
    if title is None and not _looks_like_cells(cells):
        return A1Range(cells)  # an unknown title: the caller reports it
    if ":" in cells:
        a, b = cells.split(":", 1)
        r0, c0 = _cell(a)
        r1, c1 = _cell(b)
        start_row = r0 or 0
        start_col = c0 or 0
        end_row = None if r1 is None else r1 + 1
        end_col = None if c1 is None else c1 + 1
        if (end_row is not None and end_row <= start_row) or (end_col is not None and end_col <= start_col):
            # B5:A1 - the API swaps the corners
            lo_r, hi_r = sorted([start_row, (end_row or start_row + 1) - 1])
            lo_c, hi_c = sorted([start_col, (end_col or start_col + 1) - 1])
            return A1Range(title, lo_r, hi_r + 1, lo_c, hi_c + 1)
        return A1Range(title, start_row, end_row, start_col, end_col)
    r, c = _cell(cells)
    if r is None or c is None:
        raise A1Error(text)
    return A1Range(title, r, r + 1, c, c + 1, single_cell=True)


def _looks_like_cells(text: str) -> bool:
    parts = text.split(":")
    if len(parts) > 2:
        return False
    return all(_CELL.match(p) and p for p in parts)
