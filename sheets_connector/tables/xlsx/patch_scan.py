"""The cell data of a worksheet part, scanned for the fast writer a few megabytes at a time.

``scan_cell_data`` finds, in one pass, where each ``<row>`` is (row numbers, ascending; rows
without a number are the next row), where the cell data ends, and the array formulas no write
may cut into, and refuses (``Unsupported``) rows out of order and cell data that mixes
namespace prefixes.  The part is looked at ``WINDOW`` bytes at a time, each piece ending right
before a ``<`` so that no tag is cut in two, and ``release`` is told how far it got (a part
mapped from a file hands what was gone through back to the kernel: ``SheetPatch._release``).
"""
from __future__ import annotations

import mmap
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .patch_xml import Unsupported, cell_range, tag_re

__all__ = ["WINDOW", "CellData", "scan_cell_data"]

_R_ATTR_RE = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")
_F_KIND_RE = re.compile(rb"""\st\s*=\s*["'](\w+)["']""")
_F_REF_RE = re.compile(rb"""\sref\s*=\s*["']([^"']+)["']""")
# Patterns with the part's prefix ({p}: b"" or b"x:")
_ROW_WITH_R = rb"""<{p}row\b[^>]*?\sr\s*=\s*["'](\d+)["'][^>]*?(/?)>"""
_ROW_ANY = rb"<{p}row\b([^>]*?)(/?)>"
_FORMULA_TAG = rb"<{p}f\b[^>]*>"
# cell-data elements spelt with another prefix than the part's root (or none, when it has one)
_OTHER_PREFIX = {True: rb"<(?:row|c|v|f|is)[\s/>]|<(?!{p})[A-Za-z_][\w.-]*:(?:row|c|v|f|is)[\s/>]",
                 False: rb"<[A-Za-z_][\w.-]*:(?:row|c|v|f|is)[\s/>]"}

#: how much of a sheet's cell data is looked at at a time when it is scanned
WINDOW = 4 << 20


class _RowIndex:
    """The rows of a sheet's cell data, by position, built a piece at a time."""

    def __init__(self, row_re: re.Pattern[bytes], *, implied: bool, name: str) -> None:
        self.row_re, self.implied, self.name = row_re, implied, name
        self.nums, self.starts, self.ends, self.closed = array("q"), array("q"), array("q"), bytearray()
        self.last = 0

    def add(self, piece: bytes, end: int, offset: int) -> None:
        """The rows of ``piece[:end]``, which starts at ``offset`` in the part."""
        # (names bound once: this loop runs once per row of the sheet)
        add_num, add_start, add_end, add_closed = self.nums.append, self.starts.append, self.ends.append, self.closed.append
        last, implied = self.last, self.implied
        for m in self.row_re.finditer(piece, 0, end):
            attrs, closed = m.groups()
            if implied:
                r_attr = _R_ATTR_RE.search(attrs)
                r = int(r_attr.group(1)) if r_attr else last + 1
            else:
                r = int(attrs)
            if r <= last:
                raise Unsupported(f"sheet '{self.name}' has rows out of order")
            last = r
            start, end = m.span()
            add_num(r)
            add_start(offset + start)
            add_end(offset + end)
            add_closed(1 if closed else 0)
        self.last = last


@dataclass
class CellData:
    """What ``scan_cell_data`` found: each row's number, where its ``<row>`` starts and its
    start tag ends, whether it closes itself (arrays: 100k rows cost ~2 MB, not ~15 MB of
    lists); where the cell data ends; the array formulas' ranges."""

    nums: array[int]
    starts: array[int]
    ends: array[int]
    closed: bytearray
    sd_close: int
    arrays: list[tuple[int, int, int, int]] = field(default_factory=list)


def _windows(data: bytes | mmap.mmap, start: int, p: bytes, name: str,
             release: Callable[[int], None]) -> Iterator[tuple[int, bytes, int, bool]]:
    """The cell data from ``start`` a few megabytes at a time: (offset, piece, where the
    piece's cell data ends, whether that is the end of the cell data)."""
    close_tag = b"</" + p + b"sheetData>"
    a, n = start, len(data)
    while True:
        b = a + WINDOW
        while True:
            piece = data[a:b]
            close = piece.find(close_tag)
            if close >= 0:
                yield a, piece, close, True
                return
            if b >= n:
                raise Unsupported(f"sheet '{name}''s cell data is not closed the usual way")
            cut = piece.rfind(b"<")
            if cut > 0:
                break
            b += WINDOW  # one tag or text longer than a window: a longer piece
        yield a, piece, cut, False
        a += cut
        release(a)


def scan_cell_data(data: bytes | mmap.mmap, start: int, p: bytes, name: str,
                   release: Callable[[int], None]) -> CellData:
    """Scan the cell data of worksheet ``name`` (prefix ``p``), which starts at ``start``."""
    other, row_tag = tag_re(_OTHER_PREFIX[bool(p)], p), b"<" + p + b"row"
    f_tag, formula_re = b"<" + p + b"f", tag_re(_FORMULA_TAG, p)
    index = _RowIndex(tag_re(_ROW_WITH_R, p), implied=False, name=name)
    tags, sd_close = 0, -1
    arrays: list[tuple[int, int, int, int]] = []
    for a, piece, end, last in _windows(data, start, p, name, release):
        if other.search(piece, 0, end):
            raise Unsupported(f"sheet '{name}' mixes namespace prefixes in its cell data")
        index.add(piece, end, a)
        tags += piece.count(row_tag, 0, end)
        if piece.find(f_tag, 0, end) >= 0:
            for m in formula_re.finditer(piece, 0, end):
                tag = m.group(0)
                kind = _F_KIND_RE.search(tag)
                ref = _F_REF_RE.search(tag)
                if kind and kind.group(1) in (b"array", b"dataTable") and ref:
                    arrays.append(cell_range(ref.group(1).decode()))
        if last:
            sd_close = a + end
    if tags != len(index.nums):  # rows without r: the next row
        index = _RowIndex(tag_re(_ROW_ANY, p), implied=True, name=name)
        for a, piece, end, _last in _windows(data, start, p, name, release):
            index.add(piece, end, a)
    return CellData(index.nums, index.starts, index.ends, index.closed, sd_close, arrays)
