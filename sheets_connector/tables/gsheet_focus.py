"""What the write's read-backs fetch: only the cells its checks use (``Focus``).

A read-back of the whole tab costs a million cells for a 100,000-row sheet, twice or three
times per sync.  Its checks need far less (see ``gsheet_write``):

- the header row, and the rows around it where a moved header is looked for;
- every row's key: the columns the key comes from (email, mobile), whole;
- the result columns, whole (what they hold now, whether a tagged column is blank);
- where a new result column may go: the columns right of the header, whole;
- the content of rows without a key (placed by their content): those rows, whole;
- rows below the last one read, whole (a row added at the bottom may have no key);
- the pins (developer metadata) of every row and column, which the ranges above bring.

A ``Focus`` is that set of ranges, predicted from the last snapshot (or the read).  One
spreadsheets.get asks for all of them at once, so they are still one moment of the sheet.
Rows and columns move, so a snapshot is checked against what its checks turned out to need
(``missing``); a focus that missed something is widened and the round reads again - never is
a check made on cells that were not read.  Too many scattered rows make one range of the
whole tab instead (``ranges`` gives None).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from gspread.utils import absolute_range_name, rowcol_to_a1

HEADER_SEARCH = 20  # rows above and below the expected header row where a moved header is looked for
MAX_RANGES = 60  # beyond this, one range of the whole tab (a request's address must stay short)


@dataclass(frozen=True)
class Focus:
    """Ranges of one tab, 0-based: rows read whole, columns read whole (see the module docstring)."""

    header: tuple[int, int]  # rows [start, end) read whole: where the header is looked for
    columns: frozenset[int] = frozenset()  # columns read whole, top to bottom
    rows: frozenset[int] = frozenset()  # rows read whole
    tail: int = 0  # rows from here down read whole
    right: int = 0  # columns from here right read whole
    width: int = 0  # the tab's column count when the focus was made: rows are read whole up to it
    height: int = 0  # its row count then: the tail is read only if it starts inside the grid

    @classmethod
    def around(cls, header_row: int, row_count: int, width: int, *, columns: Iterable[int] = (),
               rows: Iterable[int] = (), tail: int = 0, right: int = 0) -> Focus:
        top = max(0, header_row - HEADER_SEARCH)
        return cls((top, max(top, min(row_count, header_row + HEADER_SEARCH + 1))), frozenset(c for c in columns if c >= 0),
                   frozenset(r for r in rows if r >= 0), tail, right, width, row_count)

    def covers_row(self, r: int) -> bool:
        return self.header[0] <= r < self.header[1] or r in self.rows or self.tail <= min(r, self.height - 1)

    def covers_col(self, c: int) -> bool:
        return c in self.columns or self.right <= c < self.width

    def widened(self, *, columns: Iterable[int] = (), rows: Iterable[int] = (), right: int | None = None,
                width: int | None = None, height: int | None = None) -> Focus:
        """This focus and more (``width``/``height``: the grid's size now)."""
        return replace(self, columns=self.columns | {c for c in columns if c >= 0},
                       rows=self.rows | {r for r in rows if r >= 0},
                       right=self.right if right is None else min(self.right, right),
                       width=self.width if width is None else width,
                       height=self.height if height is None else height)

    def ranges(self, title: str) -> list[str] | None:
        """A1 ranges of this focus (open-ended downwards, so rows added meanwhile are read),
        or None when the whole tab is simpler."""
        if self.width <= 0:
            return None
        last = rowcol_to_a1(1, self.width).rstrip("0123456789")  # the last column's letters
        out = []
        if self.header[1] > self.header[0]:
            out.append(f"{self.header[0] + 1}:{self.header[1]}")
        for start, end in _runs(r for r in self.rows if not self.header[0] <= r < self.header[1]
                                and not self.tail <= r < self.height):
            out.append(f"{start + 1}:{end}")
        if self.tail < self.height:
            out.append(f"A{self.tail + 1}:{last}")
        for start, end in _runs(c for c in self.columns if c < min(self.right, self.width)):
            out.append(f"{_letters(start)}:{_letters(end - 1)}")
        if self.right < self.width:
            out.append(f"{_letters(self.right)}:{last}")
        if len(out) > MAX_RANGES:
            return None
        return [absolute_range_name(title, r) for r in out]


def _letters(col: int) -> str:
    return rowcol_to_a1(1, col + 1).rstrip("0123456789")


def _runs(indexes: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted runs [start, end) of consecutive indexes."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indexes)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out
