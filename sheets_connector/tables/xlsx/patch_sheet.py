"""One worksheet part of the fast writer: the given cells patched into its XML.

The part is never parsed as a whole (it can be tens of megabytes): one regex pass finds the
``<row>`` tags, a few megabytes at a time (``patch_scan``; a part mapped from a file is handed back
to the kernel as it is gone through), and only the rows that receive a value are looked into;
the rows that only get cells after their last one (the results columns, as a rule) are copied
as they are with the new cells inserted (``_append_run``).  An existing ``<c>``
is replaced, a new one inserted in column order, a missing ``<row>`` created in row order;
``<dimension>`` grows to cover what was written, and new columns get a ``<col>`` width (a new
column inside a range of hidden columns is taken out of it and shown).  No other cell is
touched.  ``chunks()`` yields the new part piece by piece, so a large sheet is never held twice.

Rows and cells without a reference (``<row>`` without ``r``, ``<c>`` without ``r``: the next
row or column, as the format allows) are read by position (a new cell never lands in front of
such a cell: that place is the cell right before it).  A cell with a formula may be overwritten (``formulas`` lists
them, for the calculation chain), except the first cell of a shared formula that other cells
still use.

``check()`` refuses (``Unsupported``) a write into merged cells other than their first cell, an
array formula, a pivot table, a table's header or totals row, or a new column inside a table.
"""
from __future__ import annotations

import bisect
import itertools
import mmap
import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from ..base import CellValue
from .cells import SheetWrites, column_letter
from .patch_scan import scan_cell_data
from .patch_values import CellXml, Styles, is_plain
from .patch_xml import Unsupported, cell_range, col_number, part_root, tag_re, with_prefix

_MISSING = object()

_CELL_REF_RE = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,3})(\d+)["']""")
_S_RE = re.compile(rb"""\ss\s*=\s*["'](\d+)["']""")
_VM_RE = re.compile(rb"\svm\s*=")
_SPANS_RE = re.compile(rb"""(\sspans\s*=\s*)(["'])([^"']*)["']""")
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_F_KIND_RE = re.compile(rb"""\st\s*=\s*["'](\w+)["']""")
_F_REF_RE = re.compile(rb"""\sref\s*=\s*["']([^"']+)["']""")
# a row's last cell (from its "<c"), unprefixed, with its reference and up to its end
_LAST_CELL = re.compile(rb"""<c\b[^>]*?\sr\s*=\s*["']([A-Z]{1,3})(\d+)["'][^>]*?(?:/>|>.*?</c>)""", re.DOTALL)
# Patterns with the part's prefix ({p}: b"" or b"x:")
_SHEETDATA = rb"<{p}sheetData\b[^>]*?(/?)>"
_CELL = rb"<{p}c\b([^>]*?)(/?)>"
_FORMULA = rb"<{p}f[\s/>]"
_DIMENSION = rb"""<{p}dimension\b[^>]*?\sref\s*=\s*(["'])([^"']*)["'][^>]*?/?>"""
_COLS = rb"<{p}cols\b[^>]*?(?<!/)>(.*?)</{p}cols\s*>"
_EMPTY_COLS = rb"<{p}cols\b[^>]*?/>"
_COL = rb"<{p}col\b[^>]*?/>|<{p}col\b[^>]*>.*?</{p}col\s*>"
_MERGE = rb"""<{p}mergeCell\b[^>]*?\sref\s*=\s*["']([^"']+)["']"""
class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _Letters(dict[int, str]):
    """Column number -> its letters, as text (computed once per column)."""

    def __missing__(self, col: int) -> str:
        letters = self[col] = column_letter(col)
        return letters


class SheetPatch:
    """One worksheet's XML with the cells to write; ``write_to()`` writes the patched XML."""

    def __init__(self, data: bytes | mmap.mmap, name: str, values: CellXml) -> None:
        # ``data``: the part, or a read-only map of it in a temporary file (``patch._Book._sheet_data``): what was scanned
        # or written is then handed back to the kernel as the part is gone through (``_release``)
        self.data, self.name, self.values = data, name, values
        self._released = 0
        what = f"sheet '{name}'"
        p = self.p = part_root(data, "worksheet", what).prefix
        self._row_close = b"</" + p + b"row>"
        self._cell_close = b"</" + p + b"c>"
        self._cell_re = tag_re(_CELL, p)
        sd = tag_re(_SHEETDATA, p).search(data)
        if not sd:
            raise Unsupported(f"{what} has no cell data element")
        self.sd_start, self.sd_open_end = sd.start(), sd.end()
        self.sd_empty = sd.group(1) == b"/"
        # The rows of the sheet, by position (arrays: 100k rows cost ~2 MB, not ~15 MB of lists)
        self.rnums = array("q")  # row numbers, ascending
        self.rstarts = array("q")  # where each <row> starts
        self.rends = array("q")  # where its start tag ends
        self.rclosed = bytearray()  # 1 for a self-closing <row .../>
        self.blocked: list[tuple[tuple[int, int, int, int], str]] = []  # ranges no cell may be written in
        if self.sd_empty:
            self.sd_close = sd.end()
        else:
            self._scan_cell_data()
        self.tail = data[self.sd_close:]
        self.merges = [cell_range(m.group(1).decode()) for m in tag_re(_MERGE, p).finditer(self.tail)]
        # What to write, kept as the caller's own objects (no per-cell copies):
        self.columns: list[tuple[int, Mapping[int, CellValue]]] = []  # (column, {row: value}); None empties a cell
        self.batches: list[tuple[int, list[int], Sequence[Sequence[CellValue]]]] = []  # (first row, columns, rows); None skipped
        self.fixed: dict[tuple[int, int], tuple[CellValue, int]] = {}  # (row, column) -> (value, style): header cells
        self.fixed_rows: set[int] = set()
        self._letters: dict[int, bytes] = {}
        self._text_letters: _Letters = _Letters()
        self.widths: dict[int, int] = {}
        self.shown: set[int] = set()  # new columns to take out of a range of hidden columns
        self.new_columns: set[int] = set()
        self.tables: list[tuple[tuple[int, int, int, int], int, int]] = []  # (range, header rows, totals rows)
        # What the patch did that the caller must account for (known once chunks() has run):
        self.formulas: list[str] = []  # references of the formula cells overwritten
        self.unhidden = 0  # new columns taken out of hidden ranges

    @property
    def mapped(self) -> bool:
        """The part is mapped from a file (see ``_release``), not held in memory."""
        return isinstance(self.data, mmap.mmap)

    def reuse(self, values: CellXml) -> None:
        """Take a patch a probe made ready for a save of the same file: what the part holds
        (its rows, merged cells, tables...) is kept, the writes and their accounts forgotten;
        ``values``: the save's own (its styles)."""
        self.values = values
        self.columns, self.batches, self.fixed, self.fixed_rows = [], [], {}, set()
        self.widths, self.shown, self.new_columns = {}, set(), set()
        self.formulas, self.unhidden = [], 0

    def _scan_cell_data(self) -> None:
        """Index the rows, find the end of the cell data and the array formulas, and refuse
        cell data the writer does not take, in one pass over the part (``patch_scan``)."""
        scan = scan_cell_data(self.data, self.sd_open_end, self.p, self.name, self._release)
        self.rnums, self.rstarts, self.rends, self.rclosed = scan.nums, scan.starts, scan.ends, scan.closed
        self.sd_close = scan.sd_close
        self.blocked += [(rng, "an array formula") for rng in scan.arrays]
        self._release(self.sd_close)

    def _release(self, upto: int) -> None:
        """Hand the pages of a mapped part before ``upto`` back to the kernel (read again from
        the file, should they be needed again), so memory stays flat however large the sheet."""
        data = self.data
        if not isinstance(data, mmap.mmap):
            return
        upto -= upto % mmap.PAGESIZE
        if upto - self._released >= 1 << 20:
            data.madvise(mmap.MADV_DONTNEED, self._released, upto - self._released)
            self._released = upto

    # ---- reading

    def _row_index(self, r: int) -> int | None:
        i = bisect.bisect_left(self.rnums, r)
        return i if i < len(self.rnums) and self.rnums[i] == r else None

    def _row_end(self, i: int) -> tuple[int, int]:
        """(start of ``</row>``, end of the row element) of row index ``i``."""
        if self.rclosed[i]:
            return self.rends[i], self.rends[i]
        close = self.data.find(self._row_close, self.rends[i])
        if close < 0 or (i + 1 < len(self.rstarts) and close > self.rstarts[i + 1]):
            raise Unsupported(f"sheet '{self.name}' has a row that is not closed the usual way")
        return close, close + len(self._row_close)

    def style_of(self, r: int, col: int) -> int | None:
        """The ``s`` of an existing cell (None when there is no cell or no s)."""
        i = self._row_index(r)
        if i is None or self.rclosed[i]:
            return None
        close, _end = self._row_end(i)
        for c in self._cells(i, close):
            if c[0] == col:
                s = _S_RE.search(self.data, c[1], c[2])
                return int(s.group(1)) if s else None
        return None

    def _cells(self, i: int, close: int) -> list[tuple[int, int, int, int]]:
        """(column, start, end of start tag, end) of each cell of row index ``i``."""
        data = self.data
        out = []
        pos = self.rends[i]
        last = 0
        while True:
            m = self._cell_re.search(data, pos, close)
            if not m:
                break
            ref = _CELL_REF_RE.search(m.group(1))
            if ref:
                if int(ref.group(2)) != self.rnums[i]:
                    raise Unsupported(f"sheet '{self.name}' has a cell in the wrong row")
                col = col_number(ref.group(1))
            else:
                col = last + 1  # a cell without a reference is the next column
            if col <= last:
                raise Unsupported(f"sheet '{self.name}' has cells out of order")
            last = col
            if m.group(2):
                end = m.end()
            else:
                end = data.find(self._cell_close, m.end(), close)
                if end < 0:
                    raise Unsupported(f"sheet '{self.name}' has a cell that is not closed the usual way")
                end += len(self._cell_close)
            out.append((col, m.start(), m.end(), end))
            pos = end
        return out

    # ---- writing

    def apply(self, writes: SheetWrites, styles: Styles) -> None:
        """Take the cells to write (kept as the caller's own objects, no per-cell copies)."""
        for h in writes.headers:
            style = styles.bold() if h.style_from is None else self.style_of(h.row, h.style_from) or 0
            self.fixed[(h.row, h.col)] = (h.title, style)
            self.fixed_rows.add(h.row)
        self.columns.extend(writes.columns.items())
        self.batches.extend((b.first, b.columns, b.rows) for b in writes.blocks if b.rows)
        self.widths.update(writes.widths)
        self.shown |= writes.shown
        self.new_columns |= writes.new_columns

    def _target_rows(self) -> list[int]:
        rows: set[int] = {r for r, _c in self.fixed}
        for _col, cells in self.columns:
            rows.update(cells)
        for first, _cols, batch in self.batches:
            rows.update(range(first, first + len(batch)))
        return sorted(rows)

    def _row_cells(self, r: int) -> dict[int, CellValue]:
        """{column: value} to write in row ``r``."""
        cells: dict[int, CellValue] = {}
        for first, cols, batch in self.batches:
            if first <= r < first + len(batch):
                for col, value in zip(cols, batch[r - first]):
                    if value is not None:
                        cells[col] = value
        for col, mapping in self.columns:
            value = mapping.get(r, _MISSING)
            if value is not _MISSING:
                cells[col] = value
        if r in self.fixed_rows:
            for (fr, col), (value, _style) in self.fixed.items():
                if fr == r:
                    cells[col] = value
        return cells

    def check(self) -> None:
        """Raise Unsupported where a cell to write is in merged cells, an array formula, a
        pivot table, a table's header or totals, or where a new column would cut a table."""
        spans: list[tuple[int, Sequence[int]]] = []  # (column, its rows to write, ascending)
        for (r, col) in self.fixed:
            spans.append((col, [r]))
        for col, cells in self.columns:
            spans.append((col, sorted(cells)))
        for first, cols, batch in self.batches:
            spans.extend((col, range(first, first + len(batch))) for col in cols)

        def hit(rng: tuple[int, int, int, int], only: set[int] | None = None) -> bool:
            r1, c1, r2, c2 = rng
            for col, rows in spans:
                if c1 <= col <= c2 and (only is None or col in only):
                    i = bisect.bisect_left(rows, r1)
                    if i < len(rows) and rows[i] <= r2:
                        return True
            return False

        for r1, c1, r2, c2 in self.merges:  # merged cells show only their first cell
            if hit((r1, c1 + 1, r1, c2)) or hit((r1 + 1, c1, r2, c2)):
                raise Unsupported(f"a cell to write on sheet '{self.name}' is inside merged cells")
        for rng, what in self.blocked:
            if hit(rng):
                raise Unsupported(f"a cell to write on sheet '{self.name}' is inside {what}")
        for (r1, c1, r2, c2), head, totals in self.tables:
            if hit((r1, c1, r2, c2), self.new_columns):
                raise Unsupported(f"a table (Format as Table) on sheet '{self.name}' covers the new column")
            if head and hit((r1, c1, r1 + head - 1, c2)):
                raise Unsupported(f"a cell to write on sheet '{self.name}' is a table's header")
            if totals and hit((r2 - totals + 1, c1, r2, c2)):
                raise Unsupported(f"a cell to write on sheet '{self.name}' is in a table's totals row")

    def _overwritten_formula(self, col: int, r: int, ctag_end: int, cend: int) -> None:
        """Note a formula in the existing cell (col, r) about to be overwritten, or refuse."""
        data = self.data
        m = tag_re(_FORMULA, self.p).search(data, ctag_end, cend)
        if not m:
            return
        tag = data[m.start(): data.find(b">", m.start()) + 1]
        kind = _F_KIND_RE.search(tag)
        ref = _F_REF_RE.search(tag)
        if kind and kind.group(1) == b"shared" and ref:
            r1, c1, r2, c2 = cell_range(ref.group(1).decode())
            if (r1, c1, r2, c2) != (r, col, r, col):
                raise Unsupported(f"a cell to write on sheet '{self.name}' holds the formula other cells share")
        self.formulas.append(column_letter(col) + str(r))

    def _patch_row(self, i: int, cells: dict[int, CellValue]) -> tuple[int, int, bytes]:
        data = self.data
        r = self.rnums[i]
        rnum = str(r).encode()
        start, tag_end = self.rstarts[i], self.rends[i]
        close, end = self._row_end(i)
        tag = data[start:tag_end]
        if self.rclosed[i]:
            tag = tag[:-2].rstrip() + b">"
        order = sorted(cells)
        pieces: list[bytes] = []
        existing: list[tuple[int, int, int, int]] = []
        if close > tag_end:
            # Most rows get cells right of all their cells (a new column): only the last cell is looked at.
            lc = data.rfind(b"<" + self.p + b"c", tag_end, close)
            m = self._cell_re.match(data, lc) if lc >= 0 else None
            ref = _CELL_REF_RE.search(m.group(1)) if m else None
            last_end = m.end() if m and m.group(2) else data.find(self._cell_close, m.end(), close) + len(self._cell_close) if m else -1
            if not (ref and col_number(ref.group(1)) < order[0] and last_end == close and int(ref.group(2)) == r):
                existing = self._cells(i, close)
                after = existing[-1][3] if existing else tag_end
                if data[after:close].strip():
                    raise Unsupported(f"sheet '{self.name}' has a row with more than cells in it")
        pos = tag_end
        k = 0
        emitted: list[int] = []  # columns that got a cell (for the row's spans hint)

        def new_cell(col: int, existing_style: int | None) -> bytes:
            cell = self._cell(col, r, rnum, cells[col], existing_style)
            if cell:
                emitted.append(col)
            return cell

        for col, cstart, ctag_end, cend in existing:
            while k < len(order) and order[k] < col:  # (never before a cell without a reference: that is the next column)
                pieces.append(data[pos:cstart])
                pos = cstart
                pieces.append(new_cell(order[k], None))
                k += 1
            if k < len(order) and order[k] == col:
                if cend > ctag_end:
                    self._overwritten_formula(col, r, ctag_end, cend)
                head = data[cstart:ctag_end]
                if _VM_RE.search(head):
                    raise Unsupported(f"a cell to write on sheet '{self.name}' holds a rich value (picture or data type)")
                s = _S_RE.search(head)
                pieces.append(data[pos:cstart])
                pieces.append(new_cell(col, int(s.group(1)) if s else None))
                pos = cend
                k += 1
        pieces.append(data[pos:close])
        while k < len(order):
            pieces.append(new_cell(order[k], None))
            k += 1
        if emitted:
            tag = self._spans(tag, emitted)
        return start, end, tag + b"".join(pieces) + self._row_close

    def _spans(self, tag: bytes, cols: list[int]) -> bytes:
        m = _SPANS_RE.search(tag)
        if not m:
            return tag
        try:
            bounds = [int(x) for part in m.group(3).split() for x in part.split(b":")]
        except ValueError:
            return tag
        lo, hi = min([*bounds, *cols]), max([*bounds, *cols])
        if lo == min(bounds) and hi == max(bounds):
            return tag
        return tag[: m.start()] + m.group(1) + b'"' + f"{lo}:{hi}".encode() + b'"' + tag[m.end():]

    def _cell(self, col: int, r: int, rnum: bytes, value: CellValue, existing_style: int | None) -> bytes:
        letters = self._letters.get(col)
        if letters is None:
            letters = self._letters[col] = column_letter(col).encode()
        fixed = self.fixed.get((r, col)) if r in self.fixed_rows else None
        if fixed is None and existing_style is None and not self.p:
            return self.values.new_cell((letters + rnum).decode(), value).encode()
        cell = self.values.cell(letters + rnum, value, fixed[1] if fixed else None, existing_style)
        return with_prefix(cell, self.p) if self.p else cell

    def _new_row(self, r: int, cells: dict[int, CellValue]) -> bytes | str:
        """A row the sheet does not have yet (as text, the quick way, where nothing in it is special)."""
        if self.p or r in self.fixed_rows:
            rnum = str(r).encode()
            body = b"".join(self._cell(col, r, rnum, cells[col], None) for col in sorted(cells))
            return b"<" + self.p + b'row r="' + rnum + b'">' + body + self._row_close if body else b""
        rn = str(r)
        new_cell, letters = self.values.new_cell, self._text_letters
        text = "".join([new_cell(letters[col] + rn, cells[col]) for col in sorted(cells)])
        return f'<row r="{rn}">{text}</row>' if text else ""

    def _written_bounds(self) -> tuple[int, int, int, int] | None:
        """The range of the cells that get a value (for <dimension>)."""
        rows: list[int] = []
        cols: list[int] = []
        for r, col in self.fixed:
            rows.append(r)
            cols.append(col)
        for col, cells in self.columns:
            filled = [r for r, v in cells.items() if v is not None]
            if filled:
                rows += (min(filled), max(filled))
                cols.append(col)
        for first, bcols, batch in self.batches:
            rows += (first, first + len(batch) - 1)
            cols += bcols
        if not rows:
            return None
        return min(rows), min(cols), max(rows), max(cols)

    def _head(self) -> list[tuple[int, int, bytes]]:
        """Edits before the cell data: the pane of a new tab, <dimension>, <cols>."""
        data, p = self.data, self.p
        edits: list[tuple[int, int, bytes]] = []
        bounds = self._written_bounds()
        dim = tag_re(_DIMENSION, p).search(data, 0, self.sd_start)
        if dim and bounds:
            try:
                old = cell_range(dim.group(2).decode()) if dim.group(2).strip() else None
            except Unsupported:
                old = None
            r1, c1, r2, c2 = bounds
            if old and not (old == (1, 1, 1, 1) and not self.rnums):
                r1, c1, r2, c2 = min(r1, old[0]), min(c1, old[1]), max(r2, old[2]), max(c2, old[3])
            ref = f"{column_letter(c1)}{r1}" + ("" if (r1, c1) == (r2, c2) else f":{column_letter(c2)}{r2}")
            if old != (r1, c1, r2, c2):
                edits.append((dim.start(2), dim.end(2), ref.encode()))
        if self.widths or self.shown:
            cols = tag_re(_COLS, p, re.DOTALL).search(data, 0, self.sd_start)
            empty = tag_re(_EMPTY_COLS, p).search(data, 0, self.sd_start)
            if cols:
                edits.append((cols.start(1), cols.end(1), self._cols(cols.group(1))))
            else:
                new = b"<" + p + b"cols>" + self._cols(b"") + b"</" + p + b"cols>"
                if empty:
                    edits.append((empty.start(), empty.end(), new))
                else:  # <cols> comes right before <sheetData>
                    edits.append((self.sd_start, self.sd_start, new))
        return edits

    def _cols(self, inner: bytes) -> bytes:
        """<col> elements with the new widths, existing ranges split where needed: a user's own
        width is kept, a hidden range gives up the new columns in ``shown``."""
        elements: list[tuple[int, int, dict[bytes, bytes], bytes | None]] = []  # (min, max, attributes, XML as it was)
        for m in tag_re(_COL, self.p, re.DOTALL).finditer(inner):
            start_tag = m.group(0)[: m.group(0).find(b">") + 1]
            attrs = {k: (a or b) for k, a, b in _ATTR_RE.findall(start_tag, 4)}
            try:
                lo, hi = int(attrs[b"min"]), int(attrs[b"max"])
            except (KeyError, ValueError):
                raise Unsupported(f"sheet '{self.name}' has a column width it cannot read") from None
            elements.append((lo, hi, attrs, m.group(0)))
        for col in sorted(set(self.widths) | self.shown):
            width = str(self.widths.get(col, 10)).encode()
            covering = next((e for e in elements if e[0] <= col <= e[1]), None)
            if covering is None:
                elements.append((col, col, {b"min": str(col).encode(), b"max": str(col).encode(),
                                            b"width": width, b"customWidth": b"1"}, None))
                continue
            lo, hi, attrs, _raw = covering
            if col in self.shown:
                self.unhidden += 1
            elif attrs.get(b"customWidth") in (b"1", b"true") and attrs.get(b"width"):
                continue  # the user set this column's width: keep it
            elements.remove(covering)
            if lo < col:
                elements.append((lo, col - 1, {**attrs, b"max": str(col - 1).encode()}, None))
            own = {**attrs, b"min": str(col).encode(), b"max": str(col).encode(), b"width": width, b"customWidth": b"1"}
            own.pop(b"hidden", None)
            elements.append((col, col, own, None))
            if col < hi:
                elements.append((col + 1, hi, {**attrs, b"min": str(col + 1).encode()}, None))
        elements.sort(key=lambda e: e[0])
        out = []
        for _lo, _hi, attrs, raw in elements:
            if raw is not None:
                out.append(raw)
            else:
                element = b"<col " + b" ".join(k + b'="' + v.replace(b'"', b"&quot;") + b'"' for k, v in attrs.items()) + b"/>"
                out.append(with_prefix(element, self.p))
        return b"".join(out)

    def _rows(self) -> Iterator[tuple[int, int, bytes | str]]:
        """(start, end, new bytes) of each row to write, in order: existing rows patched,
        missing rows created where they belong (a run of them from one block of rows, the
        new tab's rows as a rule, a few thousand rows at a time)."""
        if self.sd_empty:
            yield self.sd_start, self.sd_open_end, b"<" + self.p + b"sheetData>"
        targets = self._target_rows()
        # rows that get cells from columns or headers: never part of a run
        own = sorted(self.fixed_rows.union(*(cells.keys() for _col, cells in self.columns)))
        runs = self._lone_batches() if not self.p else []
        firsts = [b[0] for b in runs]
        n, j = len(targets), 0
        # the results columns of the usual contacts sheet: spliced in (``_append_run``)
        quick = not self.p and not self.batches and 0 < len(self.columns) == len({col for col, _c in self.columns})
        while j < n:
            r = targets[j]
            i = self._row_index(r)
            if i is not None:
                if quick:
                    edit, j = self._append_run(targets, j, i)
                    if edit is not None:
                        yield edit
                        continue
                yield self._patch_row(i, self._row_cells(r))
                j += 1
                continue
            k = bisect.bisect_right(firsts, r) - 1
            nxt = bisect.bisect_left(self.rnums, r)
            pos = self.rstarts[nxt] if nxt < len(self.rstarts) else self.sd_close
            if k >= 0 and r < firsts[k] + len(runs[k][2]):
                first, cols, batch = runs[k]
                end = first + len(batch)
                if nxt < len(self.rnums):
                    end = min(end, self.rnums[nxt])
                o = bisect.bisect_left(own, r)
                if o < len(own):
                    end = min(end, own[o])
                if end > r:
                    for lo in range(r, end, 5000):
                        yield pos, pos, self._run_text(first, cols, batch, lo, min(end, lo + 5000))
                    j += end - r  # the rows of a block are consecutive targets
                    continue
            new = self._new_row(r, self._row_cells(r))
            if new:
                yield pos, pos, new
            j += 1
        if self.sd_empty:
            yield self.sd_open_end, self.sd_open_end, b"</" + self.p + b"sheetData>"

    def _append_run(self, targets: list[int], j: int, i: int) -> tuple[tuple[int, int, bytes] | None, int]:
        """The existing rows from ``targets[j]`` (row index ``i``) on whose cells to write all go
        right of their last cell (the results columns of the usual sheet), patched as one
        stretch of the part, 2,000 rows (about a megabyte) at a time: each row's new cells are inserted
        before its ``</row>``, the rest is copied as it is.  Returns (edit, next j); the edit is
        None where the first row needs ``_patch_row`` (the rows after a stretch are looked at
        again by the caller).  Same XML as ``_patch_row`` gives, in a fraction of the time."""
        data, rnums, rstarts, rends, rclosed = self.data, self.rnums, self.rstarts, self.rends, self.rclosed
        close_tag, last_cell = self._row_close, _LAST_CELL
        columns = sorted(self.columns, key=lambda c: c[0])
        heads = [(self._text_letters[col], cells) for col, cells in columns]
        first_col = columns[0][0]
        new_cell = self.values.new_cell
        fixed_rows = self.fixed_rows
        n_rows, n = len(rnums), len(targets)
        first = rstarts[i]
        view = memoryview(data)  # the original's stretches are joined without copying them twice
        pieces: list[bytes | memoryview] = []
        spans: dict[tuple[bytes | int, ...], bytes] = {}
        pos = first
        count = 0
        while j < n and count < 2000:  # about a megabyte at a time
            r = targets[j]
            if r in fixed_rows or i >= n_rows or rnums[i] != r or rclosed[i]:
                break
            tag_end = rends[i]
            close = data.find(close_tag, tag_end)
            if close < 0 or (i + 1 < n_rows and close > rstarts[i + 1]):
                break
            lc = data.rfind(b"<c", tag_end, close)
            if lc >= 0:
                m = last_cell.match(data, lc)
                if m is None or m.end() != close or int(m.group(2)) != r or col_number(m.group(1)) >= first_col:
                    break
            elif data[tag_end:close].strip():
                break
            rn = str(r)
            cells: list[str] = []
            emitted: list[int] = []
            for (letters, mapping), (col, _m) in zip(heads, columns):
                v = mapping.get(r, _MISSING)
                if v is _MISSING:
                    continue
                if type(v) is str and is_plain(v):
                    cells.append(f'<c r="{letters}{rn}" t="inlineStr"><is><t>{v}</t></is></c>')
                else:
                    cell = new_cell(letters + rn, v)
                    if not cell:
                        continue
                    cells.append(cell)
                emitted.append(col)
            start = rstarts[i]
            if emitted and data.find(b"spans", start, tag_end) >= 0:
                tag = data[start:tag_end]
                key: tuple[bytes | int, ...] = (tag[tag.find(b"spans"):], *emitted)  # a few distinct ones per sheet
                tail = spans.get(key)
                if tail is None:
                    tail = spans[key] = self._spans(tag, emitted)[tag.find(b"spans"):]
                pieces += [view[pos:start], tag[: tag.find(b"spans")], tail]
                pos = tag_end
            pieces += [view[pos:close], "".join(cells).encode()]
            pos = close
            i += 1
            j += 1
            count += 1
        out = b"".join(pieces)
        pieces.clear()
        view.release()
        return ((first, pos, out) if count else None), j

    def _lone_batches(self) -> list[tuple[int, list[int], Sequence[Sequence[CellValue]]]]:
        """The blocks of rows no other block overlaps, by first row."""
        spans = [(first, first + len(batch)) for first, _cols, batch in self.batches]
        return sorted((b for n, (b, (lo, hi)) in enumerate(zip(self.batches, spans))
                       if not any(lo < end and start < hi for m, (start, end) in enumerate(spans) if m != n)),
                      key=lambda b: b[0])

    def _run_text(self, first: int, cols: list[int], batch: Sequence[Sequence[CellValue]], lo: int, hi: int) -> str:
        """Rows ``lo`` to ``hi`` (excluded) of a block the sheet does not have yet, as XML text:
        the common cells (a plain text, a small whole number) written in line, any other through ``CellXml.new_cell``."""
        order = sorted(range(len(cols)), key=lambda c: cols[c])
        letters = [(c, f'<c r="{self._text_letters[cols[c]]}') for c in order]
        new_cell = self.values.new_cell
        out: list[str] = []
        for r in range(lo, hi):
            rn = str(r)
            row = batch[r - first]
            cells = []
            for c, head in letters:
                v = row[c]
                if v is None:
                    continue
                kind = type(v)
                if kind is str and is_plain(v):
                    cells.append(f'{head}{rn}" t="inlineStr"><is><t>{v}</t></is></c>')
                elif kind is int and -10**7 < v < 10**7:
                    cells.append(f'{head}{rn}"><v>{v}</v></c>')
                else:
                    cell = new_cell(self._text_letters[cols[c]] + rn, v)
                    if cell:
                        cells.append(cell)
            if cells:
                out.append(f'<row r="{rn}">{"".join(cells)}</row>')
        return "".join(out)

    def chunks(self) -> Iterator[bytes | memoryview | str]:
        """The patched part, piece by piece (the original's unchanged stretches are not copied;
        new rows come as text)."""
        self.check()
        self.formulas, self.unhidden = [], 0
        self._released = 0  # the part is gone through again from its start
        data = memoryview(self.data)
        pos = 0
        for start, end, new in itertools.chain(self._head(), self._rows()):
            if start < pos:
                raise AssertionError("edits out of order")
            if start > pos:
                yield data[pos:start]
            if new:
                yield new
            pos = end
            self._release(pos - (4 << 20))  # (what the writer may still hold: read again if need be)
        yield data[pos:]
        data.release()

    def write_to(self, out: Writable) -> None:
        """Write the patched part to ``out`` in pieces of a few megabytes (new rows' text is
        encoded a piece at a time, not row by row)."""
        held: list[bytes | memoryview] = []
        text: list[str] = []
        size = 0
        for piece in self.chunks():
            if type(piece) is str:
                text.append(piece)
            else:
                if text:
                    held.append("".join(text).encode())
                    text = []
                held.append(piece)  # type: ignore[arg-type]
            size += len(piece)
            if size >= 1 << 20:
                if text:
                    held.append("".join(text).encode())
                    text = []
                out.write(b"".join(held))
                held, size = [], 0
        if text:
            held.append("".join(text).encode())
        out.write(b"".join(held))
