"""Writing results into a Google Sheet that staff are editing: write, read back, repair.

``write_results`` works in rounds; each round is one spreadsheets.get (a ``Snapshot``: cells
and pins of one moment) followed by at most one write:

1. where the header row and the result columns are now (``gsheet_pins``); a column not yet
   pinned is tagged first (one spreadsheets.batchUpdate) and the round starts again, so a column
   is only written once its tag is seen on the right column;
2. which row holds each result's contact now (``placement.place``);
3. the cells that differ from what they should be: a result not yet on its contact's row, our
   header, and - repairs - a cell that still holds what this run wrote there although the row
   now holds another contact (rows moved between a read and the write): it gets back what that
   row held before the run, or is cleared for a row the run never saw;
4. nothing differs: done.  Else one ``values.batchUpdateByDataFilter`` writes the differences,
   each column through its tag, and the next round reads back what landed.  Google applies a
   write entirely or not at all; one refused because rows deleted meanwhile left its last row
   outside the grid is simply computed again from the next re-read.

A re-read asks only for the cells its checks use (``gsheet_focus``: the key columns and the
result columns whole, rows without a key whole); one that finds rows or columns it needs
moved out of what it asked for is not used, and the round reads again with a wider focus.

A quiet sheet costs one read, one write and one read back.  Only cells of the pinned result
columns are ever written, and only where this run wrote or the contact's result belongs: a cell
staff typed is never overwritten.  If the sheet keeps changing for ``MAX_ROUNDS`` rounds, what
is still unwritten is reported with its reason; the next sync writes it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..messages.catalog import Msg, msg, said
from ..normalize import header_key
from .base import CellValue, RowIdentifier, RowKey, RowRef, SourceRow, Unplaced
from .gsheet_cells import header_text
from .gsheet_focus import Focus
from .gsheet_pins import Resolved, Snapshot, column_write, tag_requests
from .placement import CurrentRow, place

MAX_ROUNDS = 8
MAX_REFUSED = 2  # a write refused as outside the grid is tried again after a re-read, twice at most
Aligner = Callable[[Sequence[CellValue]], tuple[CellValue, ...]]


@dataclass
class Sheet:
    """What the rounds need from the table (``gsheet.GoogleSheetTable`` provides it)."""

    snapshot: Callable[[Msg, Focus | None], Snapshot]  # (doing, what to read; None: all) -> a fresh snapshot
    tag: Callable[[list[dict[str, Any]]], None]  # spreadsheets.batchUpdate
    write: Callable[[list[dict[str, Any]], bool], bool]  # values.batchUpdateByDataFilter (data, may refuse) -> written
    header_row: Callable[[Snapshot, frozenset[int]], int]  # 0-based header row in a snapshot (trusted tags)
    align: Callable[[list[str]], Aligner]  # header now -> rows aligned with the header as read
    choose: Callable[[Snapshot, int, list[str], list[str]], dict[str, int]]  # (snap, header row, header, titles) -> columns
    read_values: Mapping[int, tuple[CellValue, ...]]  # row number -> values as read (aligned)
    read_header: Sequence[str]
    expected: int = 0  # 0-based row where the header was read
    grid: tuple[int, int] = (0, 0)  # the tab's rows and columns when read
    # the read header's columns a row's key comes from: with them, the read-backs read those
    # columns whole and the others only where a check needs them (gsheet_focus); without, all
    key_columns: Sequence[int] = ()
    predicted: Sequence[int] = ()  # columns the results were in when read (pinned, or by header)
    locate: Callable[[list[str]], list[int | None]] = lambda now: []  # header now -> where each read column is


@dataclass
class Outcome:
    unplaced: list[Unplaced] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rounds: int = 0
    repaired: int = 0  # cells written again or restored after rows moved during the write


def _same(actual: CellValue, wanted: Any) -> bool:
    if wanted == "" or wanted is None:
        return actual is None
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return actual is wanted
    return bool(actual == wanted)


def write_results(sheet: Sheet, columns: Mapping[str, Mapping[RowRef, Any]], identify: RowIdentifier | None,
                  known: Mapping[int, RowKey | None] | None = None) -> Outcome:
    """Put every value of ``columns`` ({title: {ref: raw value}}) on its contact's row.
    ``known``: identify's answer for rows as read (``sheet.read_values``' row numbers), if the
    caller has it: those rows are not identified again."""
    titles = list(columns)
    skip = {header_key(t) for t in titles}
    blank_results = [i for i, h in enumerate(sheet.read_header) if header_key(h) in skip]
    refs = [ref for cells in columns.values() for ref in cells]
    # only a result without a key (every result, without identify) is placed by its row's content
    read_prints = {r.number: _print(sheet.read_values[r.number], blank_results) for r in refs
                   if (r.key is None or identify is None) and r.number in sheet.read_values}
    written: dict[str, dict[int, Any]] = {t: {} for t in titles}  # title -> {row index: value this run wrote}
    keys = _Keys(identify, sheet.key_columns if identify is not None else (), len(sheet.read_header))
    keys.learn(sheet.read_values, known or {}, blank_results)
    focus = _first_focus(sheet, keys, blank_results) if keys.narrow else None
    first: _Seen | None = None
    trusted: frozenset[int] = frozenset()  # tags seen on their right row / column in this run
    refused = 0  # writes Google refused as not fitting the grid
    out = Outcome()
    snap: Snapshot | None = None
    seen: _Seen | None = None
    placed: Mapping[RowRef, int] | None = None
    data: list[dict[str, Any]] | None = None
    diffs: dict[str, dict[int, Any]] | None = None
    for _ in range(MAX_ROUNDS):
        out.rounds += 1
        snap = seen = placed = data = diffs = None  # the last round's go before the next read: they are big
        snap = sheet.snapshot(msg("gs.doing_reread") if first is None else msg("gs.doing_landed"), focus)
        h = sheet.header_row(snap, trusted)
        wider = _missing(sheet, snap, h, titles)
        if wider is not None:
            focus = wider  # rows or columns moved out of what was read: read again what the checks need
            continue
        resolved = snap.resolve(h, titles, sheet.choose, trusted)
        if snap.focus is not None and not all(snap.covers_col(c) for c in resolved.columns.values()
                                              if c < snap.column_count):  # a new column past the grid holds nothing
            focus = snap.focus.widened(columns=resolved.columns.values())
            continue
        if not resolved.settled():
            sheet.tag(tag_requests(snap, resolved, h))
            if snap.focus is not None:  # the tags widen the grid for a new column
                focus = snap.focus.widened(columns=resolved.columns.values(), width=max(
                    snap.column_count, max(resolved.columns.values(), default=-1) + 1))
            continue
        trusted = trusted | set(resolved.tag_ids.values()) | {resolved.header_tag or -1}
        seen = _Seen.of(sheet, snap, h, resolved, keys, blank_results)
        if seen.unread:
            focus = snap.focus.widened(rows=seen.unread) if snap.focus is not None else None
            continue  # rows without a key not read whole: they are placed by all their cells
        if snap.focus is not None:
            focus = snap.focus.widened(rows=[r.number - 1 for r in seen.current if r.key is None])
        if first is None:
            first = seen
        placed, out.unplaced = _place(refs, seen.current, read_prints, identify)
        data = []
        diffs = {}
        for title in titles:
            col = resolved.columns[title]
            diffs[title] = _differences(snap, seen, first, col, title, h, columns[title], placed, written[title])
            if diffs[title]:
                data.append(column_write(resolved.tag_ids[title], diffs[title]))
        if not data:
            out.notes = _notes(snap, resolved, placed, titles)
            return out
        if not sheet.write(data, refused < MAX_REFUSED):
            refused += 1  # the grid shrank under the write (rows deleted): nothing was written
            continue
        for title, diff in diffs.items():
            if written[title]:
                out.repaired += sum(1 for r in diff if r != h)
            written[title].update(diff)
    reason = ("the sheet kept changing while the results were written (rows or columns moved again and again), "
              "so this result may not be on its row; the next sync writes it")
    out.unplaced = out.unplaced + [Unplaced(r, reason) for r in dict.fromkeys(refs) if r not in {u.ref for u in out.unplaced}]
    return out


def _without(values: Sequence[CellValue], blank: Sequence[int]) -> tuple[CellValue, ...]:
    """A row without the result columns (this run changes those)."""
    if not blank:
        return tuple(values)
    as_list = list(values)
    for i in blank:
        if i < len(as_list):
            as_list[i] = None
    return tuple(as_list)


def _print(values: Sequence[CellValue], blank: Sequence[int]) -> int:
    """A row's fingerprint without the result columns."""
    return hash(_without(values, blank))


_UNKNOWN = RowKey("email", "")  # never a real key: a row identify has not seen yet


class _Keys:
    """identify's answer per row, remembered across rounds: the mapping's rule runs once per
    row content, not once per row and round.  With ``columns`` (where the key comes from: a
    RowKey is the normalised email, else the normalised mobile) a row is known by those cells
    alone, so a read-back need not read the other columns of rows that have a key."""

    def __init__(self, identify: RowIdentifier | None, columns: Sequence[int], width: int) -> None:
        self.identify = identify
        self.columns = tuple(columns)
        self.width = width
        self.memo: dict[tuple[CellValue, ...], RowKey | None] = {}

    @property
    def narrow(self) -> bool:
        return bool(self.columns)

    def _cells(self, row: tuple[CellValue, ...]) -> tuple[CellValue, ...]:
        return tuple(row[i] if i < len(row) else None for i in self.columns) if self.columns else row

    def learn(self, read: Mapping[int, tuple[CellValue, ...]], known: Mapping[int, RowKey | None],
              blank: Sequence[int]) -> None:
        """Remember the keys the caller already has for rows as read (``known``: row number ->
        identify's answer for that row's values in ``read``), so identify does not run again on
        those cells.  Only a row number of ``read`` is taken: its cells are what the key was
        worked out from."""
        if self.identify is None or not known:
            return
        memo = self.memo
        for number, key in known.items():
            values = read.get(number)
            if values is not None:
                memo[self._cells(_without(values, blank))] = key

    def __call__(self, number: int, row: tuple[CellValue, ...]) -> RowKey | None:
        if self.identify is None:
            return None
        cells = self._cells(row)
        key = self.memo.get(cells, _UNKNOWN)
        if key is _UNKNOWN:
            values = row
            if self.columns:
                sparse: list[CellValue] = [None] * self.width
                for i, v in zip(self.columns, cells):
                    sparse[i] = v
                values = tuple(sparse)
            key = self.memo[cells] = self.identify(SourceRow(number, values))
        return key


def _first_focus(sheet: Sheet, keys: _Keys, blank: Sequence[int]) -> Focus:
    """What the first read-back reads, from the read: the key columns and the result columns
    where they were, the rows that had no key, the rows below the last one read, the columns
    right of the header."""
    keyless = [n - 1 for n, values in sheet.read_values.items() if keys(n, _without(values, blank)) is None]
    rows, cols = sheet.grid
    return Focus.around(sheet.expected, rows, cols, columns=[*sheet.key_columns, *sheet.predicted], rows=keyless,
                        tail=max(sheet.read_values, default=sheet.expected + 1), right=len(sheet.read_header))


def _missing(sheet: Sheet, snap: Snapshot, h: int, titles: Sequence[str]) -> Focus | None:
    """A wider focus if the checks of this round need cells the snapshot did not read whole:
    a pinned row or column, the key columns where they are now, a column named as a result,
    the columns right of the header (where a new result column goes); None if it has them all."""
    focus = snap.focus
    if focus is None:
        return None
    rows = [r for r, _ in snap.header_tags if not snap.covers_row(r)]
    cols = [c for tags in snap.column_tags.values() for c, _ in tags if not snap.covers_col(c)]
    header = snap.header(h)
    now = sheet.locate(header)
    cols += [now[i] for i in sheet.key_columns if i < len(now) and now[i] is not None]  # type: ignore[misc]
    names = {header_key(t) for t in titles}
    cols += [i for i, name in enumerate(header) if header_key(name) in names]
    last = max((i for i, name in enumerate(header) if name.strip()), default=-1)
    right = last + 1 if not all(snap.covers_col(c) for c in range(last + 1, snap.column_count)) else None
    cols = [c for c in cols if not snap.covers_col(c)]
    if not rows and not cols and right is None and snap.column_count <= focus.width:
        return None
    return focus.widened(columns=cols, rows=rows, right=right, width=max(focus.width, snap.column_count),
                         height=snap.row_count)


@dataclass
class _Seen:
    """A snapshot's rows below the header: who is where, and what the result columns held
    (kept without the snapshot itself, which the next round's replaces)."""

    header_row: int
    current: list[CurrentRow]
    columns: dict[str, int]
    cells: dict[str, list[CellValue]]  # title -> its column's cells, by row index
    unread: list[int] = field(default_factory=list)  # rows without a key that were not read whole

    @classmethod
    def of(cls, sheet: Sheet, snap: Snapshot, h: int, resolved: Resolved, keys: _Keys, blank: Sequence[int]) -> _Seen:
        """Every row's key (``keys``: the mapping's rule, remembered) and, for a row without
        one, its fingerprint: all its cells but the results, which this run changes."""
        align = sheet.align(snap.header(h))
        current = []
        unread = []
        for number, values in enumerate(snap.rows[h + 1:], start=h + 2):
            row = _without(align(values), blank)
            key = keys(number, row)
            if key is None and not snap.covers_row(number - 1):
                unread.append(number - 1)
            current.append(CurrentRow(number, key, hash(row) if key is None or not keys.narrow else 0))
        if snap.focus is not None:  # rows below the last one seen, above the tail: empty only if read
            unread += [r for r in range(max(h + 1, len(snap.rows)), snap.focus.tail) if not snap.covers_row(r)]
        cells = {t: [snap.cell(r, c) for r in range(len(snap.rows))] for t, c in resolved.columns.items()}
        return cls(h, current, dict(resolved.columns), cells, unread)

    def cell(self, title: str, row: int) -> CellValue:
        column = self.cells.get(title, [])
        return column[row] if row < len(column) else None


def _place(refs: list[RowRef], current: list[CurrentRow], prints: Mapping[int, int],
           identify: RowIdentifier | None) -> tuple[dict[RowRef, int], list[Unplaced]]:
    if identify is not None:
        return place(refs, current, prints)
    plain = {RowRef(r.number): r for r in refs}  # no keys: every row is found by its content
    by_number, lost = place(plain, current, prints)
    return {plain[p]: n for p, n in by_number.items()}, [Unplaced(plain[u.ref], u.reason) for u in lost]


def _differences(snap: Snapshot, seen: _Seen, first: _Seen, col: int, title: str, h: int,
                 cells: Mapping[RowRef, Any], placed: Mapping[RowRef, int], written: Mapping[int, Any]) -> dict[int, Any]:
    """{row index: value} to write in one result column so it shows what it should."""
    want: dict[int, Any] = {h: str(title).strip()}
    for ref, value in cells.items():
        if ref in placed:
            want[placed[ref] - 1] = value
    diff = {r: v for r, v in want.items() if not _same(snap.cell(r, col), v)}
    if header_key(header_text(snap.cell(h, col))) == header_key(title):
        diff.pop(h, None)  # the header as staff spelled it ("sync RESULT ") stays
    if written:
        before = _before(seen, first, title)
        for r, value in written.items():
            if r in want or not _same(snap.cell(r, col), value):
                continue  # ours to hold, or no longer what this run put there (moved away, or staff typed)
            restored = before.get(r, "")
            if not _same(snap.cell(r, col), restored):
                diff[r] = "" if restored is None else restored
    return diff


def _before(seen: _Seen, first: _Seen, title: str) -> dict[int, CellValue]:
    """{row index now: what that row's cell of this column held before this run wrote}."""
    if title not in first.columns:
        return {}
    refs = [RowRef(r.number, r.key) for r in first.current]
    prints = {r.number: r.fingerprint for r in first.current}
    placed, _ = place(refs, seen.current, prints)
    out: dict[int, CellValue] = {now - 1: first.cell(title, ref.number - 1) for ref, now in placed.items()}
    for r in range(min(seen.header_row, first.header_row)):  # rows above the header that were there
        out.setdefault(r, first.cell(title, r))
    return out


def _notes(snap: Snapshot, resolved: Resolved, placed: Mapping[RowRef, int], titles: list[str]) -> list[str]:
    """What staff should know about where the results are: hidden, filtered out, under a merge."""
    notes: list[str] = []
    for title in titles:
        col = resolved.columns[title]
        if col in snap.hidden_cols:
            notes.append(said("cols.gsheet_hidden", title=title))
        rows = sorted(n for n in placed.values() if any(r0 <= n - 1 < r1 and c0 <= col < c1 and (n - 1, col) != (r0, c0)
                                                        for r0, r1, c0, c1 in snap.merges))
        if rows:
            shown = ", ".join(str(n) for n in rows[:5])
            more = msg("cols.more", n=len(rows) - 5) if len(rows) > 5 else ""
            notes.append(said("cols.gsheet_merged", title=title, rows=shown, more=more))
    hidden = sorted(n for n in set(placed.values()) if n - 1 in snap.hidden_rows)
    if hidden:
        shown = ", ".join(str(n) for n in hidden[:5])
        more = msg("cols.more", n=len(hidden) - 5) if len(hidden) > 5 else ""
        notes.append(said("cols.hidden_rows", rows=shown, more=more))
    return notes
