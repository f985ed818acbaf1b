"""Where the results columns go: one rule for every table (.xlsx and Google Sheets).

A results column (and the contact-id and synced-at columns) never lands on anything staff
typed.  For each configured header:

- a column whose header cell holds it (ignoring case and surrounding spaces) is used;
- otherwise the first column right of the last non-blank header cell that has nothing in the
  header row AND nothing in any row below it (in a workbook: a value, an error, a formula even
  showing ""; in a Google Sheet: a value or a formula).  A
  column passed over because it holds something without a header is reported (``skipped``),
  so ``check`` and the run summary can say so;
- where that first column holds nothing but belongs to something a cell written there would
  cut through - a table (Format as Table), a pivot table, an array formula or merged cells -
  the run is refused before anything is sent (``blocked``): jumping further right would put
  the results beside or inside that thing, and staff should decide which column to free.
  An existing results column whose data rows fall inside a pivot table or an array formula
  is refused the same way (a pivot refresh would wipe the statuses; Excel forbids changing
  part of an array).
- never past the table's last column (``max_column``: XFD in Excel, ZZZ in Google Sheets).

Pure: the tables gather what their sheet holds (``occupied``, ``obstacles``) and call
``choose_columns``; columns are 1-based.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter as letter  # 28 -> "AB" (1-based)

from ..messages.catalog import Msg, msg, said
from ..normalize import header_key


@dataclass(frozen=True, slots=True)
class Obstacle:
    """Something in the sheet a results column must not cut through."""

    kind: str  # "table", "pivot table", "array formula", "merged cells"
    top: int
    left: int
    bottom: int
    right: int
    name: str = ""  # the table's or pivot table's name, when it has one

    @property
    def ref(self) -> str:
        first, last = f"{letter(self.left)}{self.top}", f"{letter(self.right)}{self.bottom}"
        return first if first == last else f"{first}:{last}"

    def describe(self) -> str:
        """"the pivot table 'Summary' (E1:H30)", in the words Excel's menus use."""
        words = {"table": "the table (Format as Table)", "pivot table": "the pivot table",
                 "array formula": "the array formula", "merged cells": "the merged cells"}.get(self.kind, self.kind)
        if self.kind == "array formula":
            return f"{words} in {self.ref}"
        return f"{words}{f' {self.name!r}' if self.name else ''} ({self.ref})"

    def covers(self, col: int, rows: tuple[int, int]) -> bool:
        return self.left <= col <= self.right and self.top <= rows[1] and rows[0] <= self.bottom


@dataclass(frozen=True, slots=True)
class Blocked:
    title: str
    col: int
    obstacle: Obstacle
    existing: bool  # the header is already there (its data rows are inside the obstacle)

    def message(self, location: str, header_row: int) -> str:
        col = letter(self.col)
        what = self.obstacle.describe()
        if self.existing:
            why = ("a pivot table rebuilds its cells when it is refreshed, so the results would vanish"
                   if self.obstacle.kind == "pivot table" else
                   "Excel does not let one cell of an array formula be changed on its own"
                   if self.obstacle.kind == "array formula" else "the results would break it")
            return (f"The '{self.title}' column of {location} (column {col}) runs into {what}: {why}. "
                    f"Nothing was sent. Move {what.split(' (')[0]} elsewhere, or rename the header '{self.title}' in "
                    f"{col}{header_row} and let the connector add a new column, then run again.")
        reasons = {"pivot table": "the results would vanish the next time the pivot table is refreshed",
                   "array formula": "Excel does not let one cell of an array formula be changed on its own",
                   "table": "the results would split the table",
                   "merged cells": "merged cells show only their first cell, so the results would be hidden"}
        return (f"The results column '{self.title}' of {location} would go to column {col}, the first column right "
                f"of your data with nothing in it, but column {col} is part of {what}: "
                f"{reasons.get(self.obstacle.kind, 'the results would break it')}. Nothing was sent. Free a column for "
                f"the results: move {what.split(' (')[0]} away from column {col}, or type '{self.title}' as a header "
                f"in row {header_row} of an empty column of your choice, then run again.")


@dataclass
class ColumnPlan:
    """Where each title goes; what was passed over; what stops the run."""

    columns: dict[str, int] = field(default_factory=dict)  # title -> column (new or existing)
    new: list[str] = field(default_factory=list)  # titles that get a new column (in order)
    skipped: dict[int, int] = field(default_factory=dict)  # column passed over -> the first row it holds something in
    blocked: Blocked | None = None
    no_room: list[str] = field(default_factory=list)  # titles with no column left before max_column

    def skipped_note(self, location: str) -> str | None:
        """A warning naming the columns passed over, or None."""
        if not self.skipped:
            return None
        cells = ", ".join(f"{letter(c)} ({letter(c)}{r})" for c, r in sorted(self.skipped.items())[:5])
        more = msg("cols.more", n=len(self.skipped) - 5) if len(self.skipped) > 5 else ""
        targets: Msg | str = ""
        for t in reversed([t for t in self.new if t in self.columns]):  # "'A' in column F, 'B' in column G"
            target = msg("cols.target", title=t, letter=letter(self.columns[t]))
            targets = msg("cols.pair", first=target, rest=targets) if targets else target
        return said("cols.skipped_many" if len(self.skipped) > 1 else "cols.skipped_one", location=location,
                    cells=cells, more=more, targets=targets)




def next_free(after: int, occupied: Mapping[int, int], obstacles: Sequence[Obstacle], rows: tuple[int, int],
              max_column: int, taken: set[int] | frozenset[int] = frozenset()
              ) -> tuple[int | None, dict[int, int], Obstacle | None]:
    """(the first free column right of ``after`` or None past ``max_column``, the columns
    passed over because they hold something, the obstacle the free column would cut through)."""
    skipped: dict[int, int] = {}
    col = after + 1
    while col <= max_column:
        if col in taken:
            col += 1
            continue
        if col in occupied:
            skipped[col] = occupied[col]
            col += 1
            continue
        hit = next((o for o in obstacles if o.covers(col, rows)), None)
        return col, skipped, hit
    return None, skipped, None


def choose_columns(header: Mapping[int, str], titles: Sequence[str], *, occupied: Mapping[int, int],
                   obstacles: Sequence[Obstacle] = (), rows: tuple[int, int], max_column: int) -> ColumnPlan:
    """Where each of ``titles`` goes (see the module docstring).

    ``header``: {column: text} of the header row's non-blank cells; ``occupied``: {column:
    first row holding something} of every column holding anything in the header row or below
    (only columns right of the last header need be given); ``rows``: the header row and the
    last row the results may be written in.
    """
    plan = ColumnPlan()
    by_key: dict[str, int] = {}
    for c in sorted(header):
        if header[c].strip():
            by_key.setdefault(header_key(header[c]), c)
    last = max((c for c, t in header.items() if t.strip()), default=0)
    data_rows = (rows[0] + 1, rows[1])
    taken: set[int] = set()
    for title in titles:
        key = header_key(title)
        if key in by_key:
            own = by_key[key]
            plan.columns[title] = own
            if own not in taken and data_rows[0] <= data_rows[1] and plan.blocked is None:
                inside = next((o for o in obstacles if o.kind in ("pivot table", "array formula")
                               and o.covers(own, data_rows)), None)
                if inside is not None:
                    plan.blocked = Blocked(title, own, inside, existing=True)
            taken.add(own)
            continue
        col, skipped, hit = next_free(last, occupied, obstacles, rows, max_column, taken)
        for c, r in skipped.items():
            plan.skipped.setdefault(c, r)
        if col is None:
            plan.no_room.append(title)
            continue
        if hit is not None and plan.blocked is None:
            plan.blocked = Blocked(title, col, hit, existing=False)
        by_key[key] = col
        plan.columns[title] = col
        plan.new.append(title)
        taken.add(col)
        last = col
    return plan
