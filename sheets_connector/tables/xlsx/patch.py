"""The fast write-back: patch the results into the workbook's XML inside the zip.

``write_patched`` writes a new .xlsx to ``dst`` by streaming the original's zip: every member
is copied unchanged (same names, order and compression method), except the few parts the
writes need:

* the target worksheet: the given cells are set (an existing ``<c>`` is replaced, a new one is
  inserted in column order, a missing ``<row>`` is created in row order), a missing results
  column gets its header cell (styled like its neighbour) and a ``<col>`` width, and
  ``<dimension>`` grows to cover what was written.  No other cell is touched;
* a tab that receives appended rows: rows after its last row with a value (missing header
  cells added), or, for a new tab, a new worksheet part with a bold, frozen header row, plus
  its entries in ``workbook.xml``, ``workbook.xml.rels`` and ``[Content_Types].xml``;
* ``styles.xml``, when a value needs a number format (dates, long ids) or a bold header: cell
  formats are appended, never changed or renumbered.

Because nothing else is rebuilt, everything the workbook holds (charts, pivots, sparklines,
extension blocks, macros, ...) is kept by construction, and a 100,000-row sheet is written in
a few seconds instead of the ~55 s openpyxl needs to load and save it.

The worksheet XML is never parsed as a whole (it can be tens of megabytes): one regex pass
finds the ``<row>`` tags, and only the rows that receive a value are looked into.  Small
fragments (the header row, a few shared strings, styles.xml, workbook.xml) are parsed with
ElementTree.  Safe because a literal ``<`` can only start a tag in XML.  The values to write
stay in the caller's own dicts and lists (no per-cell objects), and a patched sheet is
generated piece by piece into a temporary file (in memory up to 16 MB, on disk in the
destination's folder beyond), so a 100k-row sheet costs about its own size in memory once.

Measured for 100,000 rows x 10 columns with 3 results columns (+1,000 appended rows):
``write_patched`` ~2.5 s and ``XlsxTable.save`` ~4.3 s in all, where the openpyxl writer
takes ~30 s; peak RSS of the whole run ~360 MB against ~850 MB.

Anything this module does not fully understand raises ``_Unsupported(reason)`` before a byte
of ``dst`` is written, and ``XlsxTable.save`` uses the openpyxl writer instead: prefixed
namespaces, Strict OOXML, rows or cells without references or out of order, a result cell
holding a formula or a rich value, inside merged cells, an array formula, a pivot table or a
table's header or totals row, a new column inside a table, unreadable shared strings or
styles, dates before 1900, a sheet that is not a worksheet.

Left as they are, knowingly: docProps/app.xml (the list of sheet titles some programs show in
the file's properties) does not list a new tab (Excel and LibreOffice rebuild it when they
save; LibreOffice 7.4 opens such a file without complaint); the shared strings part keeps
strings no cell uses any more and its ``count`` (Excel's own files often do too); formulas
that depend on the results keep their last computed values until the spreadsheet program
recalculates (workbook.xml is not marked for a full recalculation, so it stays byte for byte).
"""
from __future__ import annotations

import bisect
import contextlib
import datetime as _dt
import itertools
import math
import os
import posixpath
import re
import tempfile
import zipfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, Sequence
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape as _xml_escape

from ..base import CellValue
from ...normalize import header_key
from openpyxl.utils import get_column_letter

from .table import (FORMAT_DATE, FORMAT_DATETIME, FORMAT_ID, _EXCEL_MAX_TEXT, _PendingAppend, _cell_value,
                   _header_text, column_width, is_long_id)
from .inventory import InventoryError, Package, rels_part_for

__all__ = ["write_patched"]

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_NS = b"http://purl.oclc.org/ooxml/"
_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_WORKSHEET_REL = _REL_NS + "/worksheet"

# Number formats of the values we write into a cell whose own format does not fit them
# (the same ones the openpyxl writer uses, see xlsx._put).
_FMT_TIME = "h:mm:ss"
_FMT_DURATION = "[hh]:mm:ss"
_BUILTIN_FORMAT_IDS = {"General": 0, "0": 1, "h:mm:ss": 21}
# Built-in number format ids that show dates or times (ECMA-376 18.8.30, incl. the East Asian ones).
_BUILTIN_DATE_IDS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))


_MISSING = object()


class _Unsupported(Exception):
    """The fast path does not apply to this workbook; ``reason`` says why (for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Small helpers


_COL_CACHE: dict[bytes, int] = {}


def _col_number(letters: bytes) -> int:
    n = _COL_CACHE.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ch - 64
        _COL_CACHE[letters] = n
    return n


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})", ref.strip())
    if not m:
        raise _Unsupported(f"a cell reference it cannot read ({ref!r})")
    return int(m.group(2)), _col_number(m.group(1).upper().encode())


def _range(ref: str) -> tuple[int, int, int, int]:
    """'B2:D5' -> (first row, first col, last row, last col); whole rows/columns are widened."""
    ref = ref.strip()
    if ":" not in ref:
        r, c = _split_ref(ref)
        return r, c, r, c
    a, b = ref.split(":", 1)
    if re.fullmatch(r"\$?\d+", a) and re.fullmatch(r"\$?\d+", b):  # 3:5 (whole rows)
        return int(a.lstrip("$")), 1, int(b.lstrip("$")), 16384
    if re.fullmatch(r"\$?[A-Za-z]+", a) and re.fullmatch(r"\$?[A-Za-z]+", b):  # B:D
        return 1, _col_number(a.lstrip("$").upper().encode()), 1048576, _col_number(b.lstrip("$").upper().encode())
    r1, c1 = _split_ref(a)
    r2, c2 = _split_ref(b)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


_TEXT_SPECIAL = re.compile("[&<>\r_\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_xml(text: str) -> tuple[bytes, bool] | None:
    """A cell's text as XML character data, and whether it needs xml:space="preserve"; None
    for a blank text.  Characters XML 1.0 forbids are removed (xlsx._cell_value removes most),
    the text is capped at Excel's 32,767 characters, CR is kept, and a literal "_x0041_" is
    protected from Excel's own _xHHHH_ escapes."""
    special = _TEXT_SPECIAL.search(text) is not None
    if special:
        text = _XML_INVALID.sub("", text)
    if len(text) > _EXCEL_MAX_TEXT:
        text = text[: _EXCEL_MAX_TEXT - 1] + "\u2026"
    if not text:
        return None
    spaces = text[0].isspace() or text[-1].isspace() or "\n" in text or "\r" in text or "\t" in text
    if special:
        text = _xml_escape(_EXCEL_ESCAPE_LIKE.sub("_x005F_", text)).replace("\r", "&#13;")
    return text.encode("utf-8"), spaces


def _attr(text: str) -> str:
    return _xml_escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _unescape_excel(text: str) -> str:
    """Excel's _xHHHH_ escapes in stored text, as Excel (and calamine) show them."""
    if "_x" not in text:
        return text
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_ROOT_RE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\b([^>]*)>", re.S)
_XMLNS_RE = re.compile(rb"""\sxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*(?:"[^"]*"|'[^']*')""")


def _root(data: bytes, name: str, what: str) -> tuple[re.Match[bytes], bytes]:
    """The root start tag of an XML part (checked: ``name`` in the default namespace) and its
    namespace declarations, for parsing fragments of the part."""
    if _STRICT_NS in data[:4096]:
        raise _Unsupported("the workbook is saved in the Strict Open XML format")
    m = _ROOT_RE.match(data)
    if not m:
        raise _Unsupported(f"{what} does not start the usual way")
    if m.group(1):
        raise _Unsupported(f"{what} uses namespace prefixes (<{m.group(1).decode()}{name}>)")
    if m.group(2).decode() != name:
        raise _Unsupported(f"{what} is not a <{name}> part")
    decls = b"".join(_XMLNS_RE.findall(m.group(3)))
    if f'xmlns="{_MAIN_NS}"'.encode() not in decls.replace(b"'", b'"') and name not in ("Relationships", "Types"):
        raise _Unsupported(f"{what} is not in the usual SpreadsheetML namespace")
    return m, decls


def _fragment(data: bytes, decls: bytes) -> ET.Element:
    try:
        return ET.fromstring(b"<wrap" + decls + b">" + data + b"</wrap>")
    except ET.ParseError as e:
        raise _Unsupported(f"XML it cannot read ({e})") from None


def _rich_text(el: ET.Element) -> str:
    """The text of an <is> or <si>: its <t>, or the <t> of its runs (phonetic runs left out)."""
    parts = []
    for child in el:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return _unescape_excel("".join(parts))


# --------------------------------------------------------------------------------------------
# Shared strings (read only: written text goes inline, the shared strings part stays as it is)


_SI_RE = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)


class _SharedStrings:
    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.decls = b""
        self.start = 0
        if data is not None:
            m, self.decls = _root(data, "sst", "the shared strings part")
            self.start = m.end()

    def lookup(self, wanted: Iterable[int]) -> dict[int, str]:
        wanted = set(wanted)
        if not wanted:
            return {}
        if self.data is None:
            raise _Unsupported("a cell refers to shared strings the workbook does not have")
        out: dict[int, str] = {}
        last = max(wanted)
        for i, m in enumerate(_SI_RE.finditer(self.data, self.start)):
            if i in wanted:
                out[i] = _rich_text(_fragment(m.group(0), self.decls)[0])
                if len(out) == len(wanted):
                    break
            if i >= last:
                break
        if len(out) != len(wanted):
            raise _Unsupported("a cell refers to a shared string that cannot be found")
        return out


# --------------------------------------------------------------------------------------------
# Styles: cell formats appended to styles.xml (existing indices never change)


class _Styles:
    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.changed = False
        self.derived: dict[tuple[int, str], int] = {}
        self.bold_xf: int | None = None
        if data is None:
            return
        _root(data, "styleSheet", "styles.xml")
        self.formats: dict[int, str] = {}  # custom number formats: id -> code
        self.xf_formats: list[int] = []  # number format id of each cell format
        try:
            root = ET.fromstring(data)
            for child in root:
                tag = _local(child.tag)
                if tag == "numFmts":
                    for nf in child:
                        self.formats[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
                elif tag == "cellXfs":
                    for xf in child:
                        self.xf_formats.append(int(xf.get("numFmtId", "0") or 0))
        except (ET.ParseError, ValueError) as e:
            raise _Unsupported(f"styles.xml cannot be read ({e})") from None
        self.new_formats: list[tuple[int, str]] = []
        self.new_fonts: list[bytes] = []
        self.new_xfs: list[bytes] = []
        m = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs\s*>", data, re.S)
        if not m:
            raise _Unsupported("styles.xml has no cell formats")
        self.xf_raw = [x.group(0) for x in re.finditer(rb"<xf\b[^>]*?/>|<xf\b[^>]*>.*?</xf\s*>", m.group(1), re.S)]
        if len(self.xf_raw) != len(self.xf_formats) or not self.xf_raw:
            raise _Unsupported("styles.xml's cell formats cannot be read")
        fonts = re.search(rb"<fonts\b[^>]*>(.*?)</fonts\s*>", data, re.S)
        self.font_raw = [x.group(0) for x in re.finditer(rb"<font\b[^>]*?/>|<font\b[^>]*>.*?</font\s*>", fonts.group(1), re.S)] if fonts else []
        self.n_fonts = len(self.font_raw)
        if self.n_fonts != sum(1 for child in root if _local(child.tag) == "fonts" for _f in child):
            raise _Unsupported("styles.xml's fonts cannot be read")

    def _need(self) -> None:
        if self.data is None:
            raise _Unsupported("the workbook has no styles part")

    def format_code(self, s: int) -> str:
        if self.data is None:
            return "General"
        if s >= len(self.xf_formats):
            raise _Unsupported(f"a cell uses a style ({s}) styles.xml does not have")
        fid = self.xf_formats[s]
        if fid in self.formats:
            return self.formats[fid]
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        return BUILTIN_FORMATS.get(fid, "General" if fid == 0 else f"builtin:{fid}")

    def is_general(self, s: int) -> bool:
        return self.format_code(s).strip().casefold() == "general"

    def is_date(self, s: int) -> bool:
        from openpyxl.styles.numbers import is_date_format

        if self.data is not None and s < len(self.xf_formats):
            fid = self.xf_formats[s]
            if fid not in self.formats and fid in _BUILTIN_DATE_IDS:
                return True
        code = self.format_code(s)
        return not code.startswith("builtin:") and is_date_format(code)

    def _format_id(self, code: str) -> int:
        if code in _BUILTIN_FORMAT_IDS:
            return _BUILTIN_FORMAT_IDS[code]
        for fid, existing in list(self.formats.items()):
            if existing == code:
                return fid
        fid = max([163, *self.formats]) + 1
        self.formats[fid] = code
        self.new_formats.append((fid, code))
        return fid

    def with_format(self, s: int, code: str) -> int:
        """A cell format like ``s`` but showing numbers with ``code`` (added once, reused)."""
        self._need()
        key = (s, code)
        if key not in self.derived:
            fid = self._format_id(code)
            raw = self.xf_raw[s]
            raw = _set_attr(raw, b"numFmtId", str(fid).encode())
            raw = _set_attr(raw, b"applyNumberFormat", b"1")
            self.derived[key] = self._add_xf(raw, fid)
        return self.derived[key]

    def bold(self) -> int:
        """A cell format with the default font in bold (for headers the connector creates)."""
        self._need()
        if self.bold_xf is None:
            if not self.font_raw:
                raise _Unsupported("styles.xml has no fonts")
            first = re.match(rb"<font\b[^>]*?/>|<font\b[^>]*>(.*?)</font\s*>", self.font_raw[0], re.S)
            inner = re.sub(rb"<b\b[^>]*?/>|<b\b[^>]*>\s*</b>", b"", first.group(1) or b"")  # type: ignore[union-attr]
            bold = b"<font><b/>" + inner + b"</font>"
            if bold in self.font_raw:  # added by an earlier run
                font = self.font_raw.index(bold)
            else:
                self.font_raw.append(bold)
                self.new_fonts.append(bold)
                self.changed = True
                font = len(self.font_raw) - 1
            parent = ' xfId="0"' if re.search(rb"<cellStyleXfs\b[^>]*>\s*<xf\b", self.data) else ""
            raw = f'<xf numFmtId="0" fontId="{font}" fillId="0" borderId="0"{parent} applyFont="1"/>'.encode()
            self.bold_xf = self._add_xf(raw, 0)
        return self.bold_xf

    def _add_xf(self, raw: bytes, fid: int) -> int:
        if raw in self.xf_raw:  # the same format, e.g. added by an earlier run: reuse it
            return self.xf_raw.index(raw)
        self.new_xfs.append(raw)
        self.xf_raw.append(raw)
        self.xf_formats.append(fid)
        self.changed = True
        return len(self.xf_raw) - 1

    def render(self) -> bytes:
        data = self.data
        assert data is not None
        if self.new_xfs:
            data = _append_children(data, b"cellXfs", b"".join(self.new_xfs), len(self.xf_raw))
        if self.new_fonts:
            data = _append_children(data, b"fonts", b"".join(self.new_fonts), len(self.font_raw))
        if self.new_formats:
            added = b"".join(f'<numFmt numFmtId="{fid}" formatCode="{_attr(code)}"/>'.encode() for fid, code in self.new_formats)
            if re.search(rb"<numFmts\b", data):
                data = _append_children(data, b"numFmts", added, len(self.formats))
            else:  # numFmts is the first child of styleSheet
                m = _ROOT_RE.match(data)
                assert m is not None
                data = data[: m.end()] + f'<numFmts count="{len(self.new_formats)}">'.encode() + added + b"</numFmts>" + data[m.end():]
        return data


def _set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """Set attribute ``name`` in the start tag at the beginning of ``tag``."""
    end = tag.find(b">")
    pattern = re.compile(rb"(\s" + name + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')")
    m = pattern.search(tag, 0, end)
    if m:
        return tag[: m.start(2)] + b'"' + value + b'"' + tag[m.end(2):]
    name_end = re.match(rb"<[\w:.-]+", tag).end()  # type: ignore[union-attr]
    return tag[:name_end] + b" " + name + b'="' + value + b'"' + tag[name_end:]


def _append_children(data: bytes, element: bytes, added: bytes, count: int) -> bytes:
    """Append ``added`` as the last children of ``<element>`` and set its count attribute."""
    m = re.search(rb"<" + element + rb"\b([^>]*?)(/?)>", data)
    if not m:
        raise _Unsupported(f"styles.xml has no <{element.decode()}>")
    start_tag = m.group(0)
    if m.group(2):  # <numFmts count="0"/>
        start_tag = start_tag[:-2].rstrip() + b">"
        body_end, tail = m.end(), b"</" + element + b">"
    else:
        close = re.compile(rb"</" + element + rb"\s*>").search(data, m.end())
        if not close:
            raise _Unsupported(f"styles.xml's <{element.decode()}> is not closed")
        body_end, tail = close.start(), b""
    if re.search(rb"\scount\s*=", start_tag):
        start_tag = _set_attr(start_tag, b"count", str(count).encode())
    return data[: m.start()] + start_tag + data[m.end(): body_end] + added + tail + data[body_end:]


# --------------------------------------------------------------------------------------------
# Values -> cell XML


class _Values:
    """Turns values into cell XML, adding the number formats they need to styles.xml."""

    def __init__(self, styles: _Styles, date1904: bool) -> None:
        self.styles = styles
        self.epoch = _dt.datetime(1904, 1, 1) if date1904 else _dt.datetime(1899, 12, 30)
        self.date1904 = date1904
        self._styled: dict[tuple[int, str], int] = {}  # (cell's style, format needed) -> style to use
        self._serials: dict[_dt.date, bytes] = {}

    def _serial(self, value: _dt.date) -> bytes:
        """A date as Excel's serial number (what xlsx/openpyxl's to_excel computes)."""
        serial = self._serials.get(value)
        if serial is None:
            d = value if isinstance(value, _dt.datetime) else _dt.datetime.combine(value, _dt.time())
            if d < (self.epoch if self.date1904 else _dt.datetime(1900, 3, 1)):
                raise _Unsupported(f"a date before {'1904' if self.date1904 else 'March 1900'} ({value})")
            days = (d - self.epoch).days
            seconds = d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 10**6
            serial = (str(days) if not seconds else repr(days + seconds / 86400)).encode()
            if len(self._serials) < 100_000:
                self._serials[value] = serial
        return serial

    def _style_for(self, s: int, fmt: str) -> int:
        """The style a cell with style ``s`` gets for a value that needs number format ``fmt``:
        its own where it already shows such values, else a copy of it with ``fmt``."""
        key = (s, fmt)
        styled = self._styled.get(key)
        if styled is None:
            keep = not self.styles.is_general(s) if fmt == FORMAT_ID else self.styles.is_date(s)
            styled = self._styled[key] = s if keep else self.styles.with_format(s, fmt)
        return styled

    def cell(self, ref: bytes, value: CellValue, fixed_style: int | None, existing_style: int | None) -> bytes:
        """The ``<c>`` element for ``value`` at ``ref`` (b"" for nothing: None and no cell).

        ``fixed_style``: the style to give the cell (headers); otherwise the existing cell's
        style is kept, with a number format added where the value needs one (see xlsx._put).
        """
        kind = type(value)
        if kind is not str and kind is not int and kind is not float and kind is not bool and value is not None:
            value = _cell_value(value)  # dates in local time, other types as text
            kind = type(value)
        fmt = None
        t = b""
        body = b""
        if isinstance(value, str):
            text = _text_xml(value)
            if text is not None:  # "" is a blank cell, as openpyxl writes it
                t = b' t="inlineStr"'
                body = (b'<is><t xml:space="preserve">' if text[1] else b"<is><t>") + text[0] + b"</t></is>"
        elif kind is bool:
            t, body = b' t="b"', b"<v>1</v>" if value else b"<v>0</v>"
        elif isinstance(value, int):
            body = b"<v>" + str(int(value)).encode() + b"</v>"
            if is_long_id(value):
                fmt = FORMAT_ID
        elif isinstance(value, float):
            if math.isfinite(value):
                body = b"<v>" + repr(float(value)).encode() + b"</v>"
            else:  # Excel has no NaN or infinity: written as the text Python shows
                t, body = b' t="inlineStr"', b"<is><t>" + str(value).encode() + b"</t></is>"
        elif isinstance(value, _dt.datetime):
            body, fmt = b"<v>" + self._serial(value) + b"</v>", FORMAT_DATETIME
        elif isinstance(value, _dt.date):
            body, fmt = b"<v>" + self._serial(value) + b"</v>", FORMAT_DATE
        elif isinstance(value, _dt.time):
            seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
            body, fmt = b"<v>" + repr(seconds / 86400).encode() + b"</v>", _FMT_TIME
        elif isinstance(value, _dt.timedelta):
            body, fmt = b"<v>" + repr(value.total_seconds() / 86400).encode() + b"</v>", _FMT_DURATION
        elif value is not None:  # pragma: no cover - _cell_value returns only the types above
            raise _Unsupported(f"a value of type {type(value).__name__}")
        s = fixed_style if fixed_style is not None else existing_style
        if not body:  # an empty cell: only where a cell (with its style) is, or a style is given
            if s is None:
                return b""
            return b'<c r="' + ref + b'" s="' + str(s).encode() + b'"/>' if s else b'<c r="' + ref + b'"/>'
        if fmt is not None and fixed_style is None:
            s = self._style_for(s or 0, fmt)
        if s:
            return b'<c r="' + ref + b'" s="' + str(s).encode() + b'"' + t + b">" + body + b"</c>"
        return b'<c r="' + ref + b'"' + t + b">" + body + b"</c>"


# --------------------------------------------------------------------------------------------
# A worksheet part, patched in place


_SHEETDATA_RE = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_ROW_RE = re.compile(rb"""<row\b[^>]*?\sr\s*=\s*["'](\d+)["'][^>]*?(/?)>""")
_CELL_RE = re.compile(rb"<c\b([^>]*?)(/?)>")
_CELL_REF_RE = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,3})(\d+)["']""")
_S_RE = re.compile(rb"""\ss\s*=\s*["'](\d+)["']""")
_VM_RE = re.compile(rb"\svm\s*=")
_F_RE = re.compile(rb"<f[\s/>]")
_SPANS_RE = re.compile(rb"""(\sspans\s*=\s*)(["'])([^"']*)["']""")
_DIMENSION_RE = re.compile(rb"""<dimension\b[^>]*?\sref\s*=\s*(["'])([^"']*)["'][^>]*?/?>""")
_COLS_RE = re.compile(rb"<cols\b[^>]*?(?<!/)>(.*?)</cols\s*>", re.S)
_EMPTY_COLS_RE = re.compile(rb"<cols\b[^>]*?/>")
_COL_RE = re.compile(rb"<col\b[^>]*?/>|<col\b[^>]*>.*?</col\s*>", re.S)
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MERGE_RE = re.compile(rb"""<mergeCell\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_ARRAY_F_RE = re.compile(rb"<f\b[^>]*>")
_PREFIXED_CELLS_RE = re.compile(rb"<[A-Za-z_][\w.-]*:(?:row|c|v|f|is)[\s/>]")


class _Sheet:
    """One worksheet's XML with the cells to write; ``write_to()`` writes the patched XML."""

    def __init__(self, data: bytes, name: str, styles: _Styles, values: _Values, sst: _SharedStrings) -> None:
        self.data, self.name, self.styles, self.values, self.sst = data, name, styles, values, sst
        what = f"sheet '{name}'"
        _m, self.decls = _root(data, "worksheet", what)
        sd = _SHEETDATA_RE.search(data)
        if not sd:
            raise _Unsupported(f"{what} has no cell data element")
        self.sd_start, self.sd_open_end = sd.start(), sd.end()
        self.sd_empty = sd.group(1) == b"/"
        if self.sd_empty:
            self.sd_close = sd.end()
        else:
            self.sd_close = data.find(b"</sheetData>", sd.end())
            if self.sd_close < 0:
                raise _Unsupported(f"{what}'s cell data is not closed the usual way")
        # The rows of the sheet, by position (arrays: 100k rows cost ~2 MB, not ~15 MB of lists)
        self.rnums = array("q")  # row numbers, ascending
        self.rstarts = array("q")  # where each <row> starts
        self.rends = array("q")  # where its start tag ends
        self.rclosed = bytearray()  # 1 for a self-closing <row .../>
        last = 0
        for m in _ROW_RE.finditer(data, self.sd_open_end, self.sd_close):
            r = int(m.group(1))
            if r <= last:
                raise _Unsupported(f"{what} has rows out of order")
            last = r
            self.rnums.append(r)
            self.rstarts.append(m.start())
            self.rends.append(m.end())
            self.rclosed.append(1 if m.group(2) else 0)
        if data.count(b"<row", self.sd_open_end, self.sd_close) != len(self.rnums):
            raise _Unsupported(f"{what} has rows without row numbers")
        if _PREFIXED_CELLS_RE.search(data, self.sd_open_end, self.sd_close):
            raise _Unsupported(f"{what} uses namespace prefixes in its cell data")
        self.tail = data[self.sd_close:]
        self.merges = [_range(m.group(1).decode()) for m in _MERGE_RE.finditer(self.tail)]
        self.blocked: list[tuple[tuple[int, int, int, int], str]] = []  # ranges no cell may be written in
        for m in _ARRAY_F_RE.finditer(data, self.sd_open_end, self.sd_close):
            tag = m.group(0)
            if b"ref" not in tag:
                continue
            kind = re.search(rb"""\st\s*=\s*["'](\w+)["']""", tag)
            ref = re.search(rb"""\sref\s*=\s*["']([^"']+)["']""", tag)
            if kind and kind.group(1) in (b"array", b"dataTable") and ref:
                self.blocked.append((_range(ref.group(1).decode()), "an array formula"))
        # What to write, kept as the caller's own objects (no per-cell copies):
        self.columns: list[tuple[int, Mapping[int, CellValue]]] = []  # (column, {row: value}); None empties a cell
        self.batches: list[tuple[int, list[int], Sequence[Sequence[CellValue]]]] = []  # (first row, columns, rows); None skipped
        self.fixed: dict[tuple[int, int], tuple[CellValue, int]] = {}  # (row, column) -> (value, style): header cells
        self.fixed_rows: set[int] = set()
        self._letters: dict[int, bytes] = {}
        self.widths: dict[int, int] = {}
        self.new_columns: set[int] = set()
        self.tables: list[tuple[tuple[int, int, int, int], int, int]] = []  # (range, header rows, totals rows)

    # ---- reading

    def _row_index(self, r: int) -> int | None:
        i = bisect.bisect_left(self.rnums, r)
        return i if i < len(self.rnums) and self.rnums[i] == r else None

    def _row_end(self, i: int) -> tuple[int, int]:
        """(start of ``</row>``, end of the row element) of row index ``i``."""
        if self.rclosed[i]:
            return self.rends[i], self.rends[i]
        close = self.data.find(b"</row>", self.rends[i])
        if close < 0 or (i + 1 < len(self.rstarts) and close > self.rstarts[i + 1]):
            raise _Unsupported(f"sheet '{self.name}' has a row that is not closed the usual way")
        return close, close + 6

    def row_values(self, r: int) -> dict[int, object]:
        """{column: value} of the cells of row ``r`` that hold something (text, number, bool)."""
        i = self._row_index(r)
        if i is None or self.rclosed[i]:
            return {}
        close, end = self._row_end(i)
        seg = self.data[self.rstarts[i]: end]
        if b"<v" not in seg and b"<is" not in seg and b"<f" not in seg:
            return {}
        row = _fragment(seg, self.decls)[0]
        cells: dict[int, ET.Element] = {}
        for c in row:
            if _local(c.tag) != "c":
                continue
            ref = c.get("r")
            if not ref:
                raise _Unsupported(f"sheet '{self.name}' has cells without a reference")
            cells[_split_ref(ref)[1]] = c
        shared = {}
        for col, c in cells.items():
            if c.get("t") == "s":
                v = next((x.text for x in c if _local(x.tag) == "v"), None)
                if v is not None and v.strip():
                    try:
                        shared[col] = int(v)
                    except ValueError:
                        raise _Unsupported("a shared-string cell it cannot read") from None
        texts = self.sst.lookup(shared.values())
        out: dict[int, object] = {}
        for col, c in cells.items():
            t = c.get("t", "n")
            v = next((x.text for x in c if _local(x.tag) == "v"), None)
            f = next((x for x in c if _local(x.tag) == "f"), None)
            value: object = None
            if t == "s":
                value = texts[shared[col]] if col in shared else None
            elif t == "inlineStr":
                is_ = next((x for x in c if _local(x.tag) == "is"), None)
                value = _rich_text(is_) if is_ is not None else None
            elif v is None or v == "":
                value = None
            elif t == "b":
                value = v.strip() in ("1", "true")
            elif t in ("str", "e", "d"):
                value = _unescape_excel(v) if t == "str" else v
            else:
                try:
                    value = float(v)
                except ValueError:
                    value = v
            if value is None and f is not None:
                value = "=" + (f.text or "")
            if value is not None:
                out[col] = value
        return out

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
            m = _CELL_RE.search(data, pos, close)
            if not m:
                break
            ref = _CELL_REF_RE.search(m.group(1))
            if not ref:
                raise _Unsupported(f"sheet '{self.name}' has cells without a reference")
            if int(ref.group(2)) != self.rnums[i]:
                raise _Unsupported(f"sheet '{self.name}' has a cell in the wrong row")
            col = _col_number(ref.group(1))
            if col <= last:
                raise _Unsupported(f"sheet '{self.name}' has cells out of order")
            last = col
            if m.group(2):
                end = m.end()
            else:
                end = data.find(b"</c>", m.end(), close)
                if end < 0:
                    raise _Unsupported(f"sheet '{self.name}' has a cell that is not closed the usual way")
                end += 4
            out.append((col, m.start(), m.end(), end))
            pos = end
        return out

    def filled_rows(self) -> tuple[int, int] | None:
        """(first, last) row number holding a value, or None for a sheet without values."""
        def filled(r: int) -> bool:  # as xlsx._append: a value that is not ""
            return any(v != "" for v in self.row_values(r).values())

        first = next((r for r in self.rnums if filled(r)), None)
        if first is None:
            return None
        return first, next(r for r in reversed(self.rnums) if filled(r))

    # ---- writing

    def put_header(self, r: int, col: int, value: CellValue, style: int) -> None:
        self.fixed[(r, col)] = (value, style)
        self.fixed_rows.add(r)

    def put_column(self, col: int, cells: Mapping[int, CellValue]) -> None:
        self.columns.append((col, cells))

    def put_rows(self, first: int, cols: list[int], rows: Sequence[Sequence[CellValue]]) -> None:
        if rows:
            self.batches.append((first, cols, rows))

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
        """Raise _Unsupported where a cell to write is in merged cells, an array formula, a
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

        for rng in self.merges:
            if hit(rng):
                raise _Unsupported(f"a cell to write on sheet '{self.name}' is inside merged cells")
        for rng, what in self.blocked:
            if hit(rng):
                raise _Unsupported(f"a cell to write on sheet '{self.name}' is inside {what}")
        for (r1, c1, r2, c2), head, totals in self.tables:
            if hit((r1, c1, r2, c2), self.new_columns):
                raise _Unsupported(f"a table (Format as Table) on sheet '{self.name}' covers the new column")
            if head and hit((r1, c1, r1 + head - 1, c2)):
                raise _Unsupported(f"a cell to write on sheet '{self.name}' is a table's header")
            if totals and hit((r2 - totals + 1, c1, r2, c2)):
                raise _Unsupported(f"a cell to write on sheet '{self.name}' is in a table's totals row")

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
            lc = data.rfind(b"<c", tag_end, close)
            m = _CELL_RE.match(data, lc) if lc >= 0 else None
            ref = _CELL_REF_RE.search(m.group(1)) if m else None
            last_end = m.end() if m and m.group(2) else data.find(b"</c>", m.end(), close) + 4 if m else -1
            if not (ref and _col_number(ref.group(1)) < order[0] and last_end == close and int(ref.group(2)) == r):
                existing = self._cells(i, close)
                after = existing[-1][3] if existing else tag_end
                if data[after:close].strip():
                    raise _Unsupported(f"sheet '{self.name}' has a row with more than cells in it")
        pos = tag_end
        k = 0
        emitted: list[int] = []  # columns that got a cell (for the row's spans hint)

        def new_cell(col: int, existing_style: int | None) -> bytes:
            cell = self._cell(col, r, rnum, cells[col], existing_style)
            if cell:
                emitted.append(col)
            return cell

        for col, cstart, ctag_end, cend in existing:
            while k < len(order) and order[k] < col:
                pieces.append(data[pos:cstart])
                pos = cstart
                pieces.append(new_cell(order[k], None))
                k += 1
            if k < len(order) and order[k] == col:
                if cend > ctag_end and _F_RE.search(data, ctag_end, cend):
                    raise _Unsupported(f"a cell to write on sheet '{self.name}' holds a formula")
                head = data[cstart:ctag_end]
                if _VM_RE.search(head):
                    raise _Unsupported(f"a cell to write on sheet '{self.name}' holds a rich value (picture or data type)")
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
        return start, end, tag + b"".join(pieces) + b"</row>"

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
            letters = self._letters[col] = get_column_letter(col).encode()
        fixed = self.fixed.get((r, col)) if r in self.fixed_rows else None
        return self.values.cell(letters + rnum, value, fixed[1] if fixed else None, existing_style)

    def _new_row(self, r: int, cells: dict[int, CellValue]) -> bytes:
        rnum = str(r).encode()
        body = b"".join(self._cell(col, r, rnum, cells[col], None) for col in sorted(cells))
        return b'<row r="' + rnum + b'">' + body + b"</row>" if body else b""

    def _written_bounds(self) -> tuple[int, int, int, int] | None:
        """The range of the cells that get a value (for <dimension>)."""
        rows: list[int] = []
        cols: list[int] = []
        for (r, col), (value, _s) in self.fixed.items():
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
        data = self.data
        edits: list[tuple[int, int, bytes]] = []
        bounds = self._written_bounds()
        dim = _DIMENSION_RE.search(data, 0, self.sd_start)
        if dim and bounds:
            try:
                old = _range(dim.group(2).decode()) if dim.group(2).strip() else None
            except _Unsupported:
                old = None
            r1, c1, r2, c2 = bounds
            if old and not (old == (1, 1, 1, 1) and not self.rnums):
                r1, c1, r2, c2 = min(r1, old[0]), min(c1, old[1]), max(r2, old[2]), max(c2, old[3])
            ref = f"{get_column_letter(c1)}{r1}" + ("" if (r1, c1) == (r2, c2) else f":{get_column_letter(c2)}{r2}")
            if old != (r1, c1, r2, c2):
                edits.append((dim.start(2), dim.end(2), ref.encode()))
        if self.widths:
            cols = _COLS_RE.search(data, 0, self.sd_start)
            empty = _EMPTY_COLS_RE.search(data, 0, self.sd_start)
            if cols:
                edits.append((cols.start(1), cols.end(1), self._cols(cols.group(1))))
            elif empty:
                edits.append((empty.start(), empty.end(), b"<cols>" + self._cols(b"") + b"</cols>"))
            else:  # <cols> comes right before <sheetData>
                edits.append((self.sd_start, self.sd_start, b"<cols>" + self._cols(b"") + b"</cols>"))
        return edits

    def _cols(self, inner: bytes) -> bytes:
        """<col> elements with the new widths, existing ranges split where needed."""
        elements = []  # (min, max, attrs dict, raw or None)
        for m in _COL_RE.finditer(inner):
            start_tag = m.group(0)[: m.group(0).find(b">") + 1]
            attrs = {k: (a or b) for k, a, b in _ATTR_RE.findall(start_tag, 4)}
            try:
                lo, hi = int(attrs[b"min"]), int(attrs[b"max"])
            except (KeyError, ValueError):
                raise _Unsupported(f"sheet '{self.name}' has a column width it cannot read") from None
            elements.append([lo, hi, attrs, m.group(0)])
        for col, width in sorted(self.widths.items()):
            covering = next((e for e in elements if e[0] <= col <= e[1]), None)
            if covering is None:
                elements.append([col, col, {b"min": str(col).encode(), b"max": str(col).encode(),
                                            b"width": str(width).encode(), b"customWidth": b"1"}, None])
                continue
            lo, hi, attrs, _raw = covering
            if attrs.get(b"customWidth") in (b"1", b"true") and attrs.get(b"width"):
                continue  # the user set this column's width: keep it
            elements.remove(covering)
            if lo < col:
                elements.append([lo, col - 1, {**attrs, b"max": str(col - 1).encode()}, None])
            own = {**attrs, b"min": str(col).encode(), b"max": str(col).encode(), b"width": str(width).encode(), b"customWidth": b"1"}
            elements.append([col, col, own, None])
            if col < hi:
                elements.append([col + 1, hi, {**attrs, b"min": str(col + 1).encode()}, None])
        elements.sort(key=lambda e: e[0])
        out = []
        for lo, hi, attrs, raw in elements:
            if raw is not None:
                out.append(raw)
            else:
                out.append(b"<col " + b" ".join(k + b'="' + v.replace(b'"', b"&quot;") + b'"' for k, v in attrs.items()) + b"/>")
        return b"".join(out)

    def _rows(self) -> Iterator[tuple[int, int, bytes]]:
        """(start, end, new bytes) of each row to write, in order: existing rows patched,
        missing rows created where they belong."""
        if self.sd_empty:
            yield self.sd_start, self.sd_open_end, b"<sheetData>"
        for r in self._target_rows():
            i = self._row_index(r)
            if i is not None:
                yield self._patch_row(i, self._row_cells(r))
                continue
            new = self._new_row(r, self._row_cells(r))
            if new:
                j = bisect.bisect_left(self.rnums, r)
                pos = self.rstarts[j] if j < len(self.rstarts) else self.sd_close
                yield pos, pos, new
        if self.sd_empty:
            yield self.sd_open_end, self.sd_open_end, b"</sheetData>"

    def chunks(self) -> Iterator[bytes | memoryview]:
        """The patched part, piece by piece (the original's unchanged stretches are not copied)."""
        self.check()
        data = memoryview(self.data)
        pos = 0
        for start, end, new in itertools.chain(self._head(), self._rows()):
            if start < pos:
                raise AssertionError("edits out of order")
            if start > pos:
                yield data[pos:start]
            yield new
            pos = end
        yield data[pos:]
        data.release()

    def write_to(self, out: IO[bytes]) -> None:
        """Write the patched part to ``out`` in chunks of a few megabytes."""
        held: list[bytes | memoryview] = []
        size = 0
        for piece in self.chunks():
            held.append(piece)
            size += len(piece)
            if size >= 1 << 22:
                out.write(b"".join(held))
                held, size = [], 0
        out.write(b"".join(held))


# --------------------------------------------------------------------------------------------
# The workbook


@dataclass
class _SheetInfo:
    name: str
    sheet_id: int
    state: str
    kind: str
    part: str


@dataclass
class _Book:
    zf: zipfile.ZipFile
    pkg: Package
    main: str
    workbook_xml: bytes
    sheets: list[_SheetInfo]
    styles_part: str | None
    sst: _SharedStrings
    styles: _Styles
    values: _Values
    replace: dict[str, bytes] = field(default_factory=dict)  # small parts rewritten: workbook.xml, styles.xml...

    def sheet(self, info: _SheetInfo) -> _Sheet:
        if info.kind != "worksheet":
            raise _Unsupported(f"'{info.name}' is not a worksheet")
        if not info.part or not self.pkg.has(info.part):
            raise _Unsupported(f"the part of sheet '{info.name}' cannot be found")
        if (self.pkg.content_type(info.part) or "") != _WORKSHEET_CT:
            raise _Unsupported(f"sheet '{info.name}' has an unusual content type")
        sheet = _Sheet(self.pkg.read(info.part), info.name, self.styles, self.values, self.sst)
        for _rid, kind, target in self.pkg.rels(info.part):
            if kind in ("table", "pivotTable") and target:
                if not self.pkg.has(target):
                    raise _Unsupported(f"a table of sheet '{info.name}' cannot be found")
                xml = self.pkg.read(target)
                _root(xml, "table" if kind == "table" else "pivotTableDefinition", f"a {kind} part")
                try:
                    root = ET.fromstring(xml)
                    if kind == "table":
                        head = int(root.get("headerRowCount", "1") or 1)
                        totals = int(root.get("totalsRowCount", "0") or 0)
                        sheet.tables.append((_range(root.get("ref", "")), head, totals))
                    else:
                        loc = next((el for el in root if _local(el.tag) == "location"), None)
                        if loc is None or not loc.get("ref"):
                            raise ValueError("no location")
                        sheet.blocked.append((_range(loc.get("ref", "")), "a pivot table"))
                except (ET.ParseError, ValueError) as e:
                    raise _Unsupported(f"a {kind} of sheet '{info.name}' cannot be read ({e})") from None
        return sheet


def _open_book(zf: zipfile.ZipFile) -> _Book:
    try:
        pkg = Package(zf)
        main = next((t for _i, k, t in pkg.rels("") if k == "officeDocument"), None)
        if not main or not pkg.has(main):
            raise _Unsupported("the workbook part cannot be found")
        workbook_xml = pkg.read(main)
        _root(workbook_xml, "workbook", "workbook.xml")
        root = ET.fromstring(workbook_xml)
        rels = {i: (k, t) for i, k, t in pkg.rels(main)}
        sheets: list[_SheetInfo] = []
        date1904 = False
        for child in root:
            tag = _local(child.tag)
            if tag == "workbookPr":
                date1904 = child.get("date1904", "0").strip().lower() in ("1", "true")
            elif tag == "sheets":
                for sh in child:
                    rid = sh.get(f"{{{_REL_NS}}}id", "")
                    kind, part = rels.get(rid, ("", ""))
                    try:
                        sheet_id = int(sh.get("sheetId", "0"))
                    except ValueError:
                        raise _Unsupported("workbook.xml has a sheet without a number") from None
                    sheets.append(_SheetInfo(sh.get("name", ""), sheet_id, sh.get("state", "visible"), kind, part))
        styles_part = next((t for _i, (k, t) in rels.items() if k == "styles" and t), None)
        sst_part = next((t for _i, (k, t) in rels.items() if k == "sharedStrings" and t), None)
        sst = _SharedStrings(pkg.read(sst_part) if sst_part and pkg.has(sst_part) else None)
        styles = _Styles(pkg.read(styles_part) if styles_part and pkg.has(styles_part) else None)
    except (InventoryError, ET.ParseError, KeyError, ValueError) as e:
        raise _Unsupported(f"the workbook's structure is unusual ({e})") from None
    return _Book(zf, pkg, main, workbook_xml, sheets, styles_part, sst, styles, _Values(styles, date1904))


def _header_cells(sheet: _Sheet, row: int) -> tuple[dict[int, str], dict[int, object]]:
    """({column: header text} of the non-blank cells of ``row``, {column: value} of all its values)."""
    values = sheet.row_values(row)
    headers = {c: _header_text(v) for c, v in values.items() if _header_text(v).strip()}
    return headers, values


def _header_style(sheet: _Sheet, row: int, col: int) -> int | None:
    """The style of the header cell at ``col``: one added in this save, or the sheet's own."""
    if (row, col) in sheet.fixed:
        return sheet.fixed[(row, col)][1]
    return sheet.style_of(row, col)


def _free_column(sheet: _Sheet, row: int, after: int, values: Mapping[int, object]) -> int:
    """The first column right of ``after`` whose header cell is empty and not merged (as xlsx._new_header)."""
    col = after + 1
    while values.get(col) not in (None, "") or any(r1 <= row <= r2 and c1 <= col <= c2 for r1, c1, r2, c2 in sheet.merges):
        col += 1
    return col


def _set_columns(book: _Book, sheet: _Sheet, header_row: int, columns: list[tuple[str, dict[int, CellValue]]]) -> None:
    headers, values = _header_cells(sheet, header_row)
    by_name: dict[str, int] = {}
    for c in sorted(headers):
        by_name.setdefault(header_key(headers[c]), c)
    last = max(headers, default=0)
    taken = dict(values)
    for title, cells in columns:
        col = by_name.get(header_key(title))
        if col is None:
            col = _free_column(sheet, header_row, last, taken)
            if last:
                style = _header_style(sheet, header_row, last)
                style = 0 if style is None else style
            else:
                style = book.styles.bold()
            sheet.put_header(header_row, col, title, style)
            taken[col] = title
            by_name[header_key(title)] = last = col
            sheet.new_columns.add(col)
            sheet.widths[col] = column_width(title, cells.values())
        sheet.put_column(col, cells)


def _append(book: _Book, sheet: _Sheet, pending: _PendingAppend, created: bool) -> None:
    """Rows after the last row with a value, under the matching headers (as xlsx._append)."""
    filled = None if created else sheet.filled_rows()
    header_row = filled[0] if filled else 1
    next_row = (filled[1] if filled else 0) + 1
    headers, values = _header_cells(sheet, header_row) if filled else ({}, {})
    index: dict[str, int] = {}
    for c in sorted(headers):
        index.setdefault(header_key(headers[c]), c)
    last = max(headers, default=0)
    taken = dict(values)
    for batch_header, rows in pending.batches:
        for h in batch_header:
            if header_key(h) not in index:
                if last:
                    col = _free_column(sheet, header_row, last, taken)
                    style = _header_style(sheet, header_row, last)
                    if style is None:
                        style = book.styles.bold() if created else 0
                else:
                    col = 1 if not index else max(index.values()) + 1
                    style = book.styles.bold()
                sheet.put_header(header_row, col, h, style)
                sheet.new_columns.add(col)
                taken[col] = h
                index[header_key(h)] = last = col
        next_row = max(next_row, header_row + 1)
        cols = [index[header_key(h)] for h in batch_header]
        sheet.put_rows(next_row, cols, rows)
        next_row += len(rows)
        if created:
            for i, (h, col) in enumerate(zip(batch_header, cols)):
                sheet.widths[col] = column_width(h, (r[i] for r in rows[:2000] if i < len(r)))


_NEW_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="' + _MAIN_NS.encode() + b'" xmlns:r="' + _REL_NS.encode() + b'">'
    b'<dimension ref="A1"/>'
    b'<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    b'<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
    b'<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
)


def _add_new_tabs(book: _Book, new_tabs: list[tuple[str, str]]) -> None:
    """Register new worksheet parts: workbook.xml, its relationships, content types."""
    if not new_tabs:
        return
    pkg, main = book.pkg, book.main
    wb_dir = posixpath.dirname(main)
    # workbook.xml: <sheet> elements at the end of <sheets>
    text = book.workbook_xml
    m, _decls = _root(text, "workbook", "workbook.xml")
    prefix = re.search(rb"""\sxmlns:([A-Za-z_][\w.-]*)\s*=\s*["']""" + re.escape(_REL_NS.encode()) + rb"""["']""", m.group(3))
    rels_name = rels_part_for(main)
    rels_xml = pkg.read(rels_name) if pkg.has(rels_name) else None
    if rels_xml is None:
        raise _Unsupported("the workbook has no relationships part")
    _root(rels_xml, "Relationships", "workbook.xml.rels")
    ids = set(re.findall(rb"""\sId\s*=\s*["']([^"']*)["']""", rels_xml))
    next_id = max((s.sheet_id for s in book.sheets), default=0) + 1
    sheet_elements, rel_elements, overrides = [], [], []
    n = 1
    for title, part in new_tabs:
        while f"rId{n}".encode() in ids:
            n += 1
        rid = f"rId{n}"
        ids.add(rid.encode())
        if prefix:
            p = prefix.group(1).decode()
            sheet_elements.append(f'<sheet name="{_attr(title)}" sheetId="{next_id}" {p}:id="{rid}"/>')
        else:
            sheet_elements.append(f'<sheet xmlns:r="{_REL_NS}" name="{_attr(title)}" sheetId="{next_id}" r:id="{rid}"/>')
        next_id += 1
        rel_elements.append(f'<Relationship Id="{rid}" Type="{_WORKSHEET_REL}" Target="{_attr(posixpath.relpath(part, wb_dir))}"/>')
        overrides.append(f'<Override PartName="/{_attr(part)}" ContentType="{_WORKSHEET_CT}"/>')
    close = re.compile(rb"</sheets\s*>").search(text)
    if not close:
        raise _Unsupported("workbook.xml has no list of sheets")
    book.replace[main] = text[: close.start()] + "".join(sheet_elements).encode() + text[close.start():]
    book.replace[rels_name] = _before_end(rels_xml, b"Relationships", "".join(rel_elements).encode())
    ct_xml = pkg.read("[Content_Types].xml")
    _root(ct_xml, "Types", "[Content_Types].xml")
    book.replace["[Content_Types].xml"] = _before_end(ct_xml, b"Types", "".join(overrides).encode())


_CALC_PR = re.compile(rb"<calcPr\b([^>]*?)(/?)>")
_FULL_CALC = re.compile(rb"""\sfullCalcOnLoad\s*=\s*["'][^"']*["']""")
# CT_Workbook's children before calcPr, last first: calcPr goes right after the last one present
_BEFORE_CALC = (rb"</definedNames\s*>|<definedNames\b[^>]*/>", rb"</externalReferences\s*>",
                rb"</functionGroups\s*>|<functionGroups\b[^>]*/>", rb"</sheets\s*>")


def mark_full_calc(workbook_xml: bytes) -> bytes:
    """workbook.xml with ``<calcPr fullCalcOnLoad="1">`` (Excel and LibreOffice recalculate on open)."""
    m = _CALC_PR.search(workbook_xml)
    if m:
        attrs = _FULL_CALC.sub(b"", m.group(1))
        return workbook_xml[: m.start()] + b"<calcPr" + attrs + b' fullCalcOnLoad="1"' + m.group(2) + b">" + workbook_xml[m.end():]
    for pattern in _BEFORE_CALC:
        found = list(re.finditer(pattern, workbook_xml))
        if found:
            at = found[-1].end()
            return workbook_xml[:at] + b'<calcPr fullCalcOnLoad="1"/>' + workbook_xml[at:]
    raise _Unsupported("workbook.xml has no list of sheets")


def _before_end(data: bytes, root: bytes, added: bytes) -> bytes:
    close = re.compile(rb"</" + root + rb"\s*>\s*\Z").search(data)
    if close:
        return data[: close.start()] + added + data[close.start():]
    empty = re.compile(rb"<" + root + rb"\b([^>]*?)/>\s*\Z").search(data)
    if not empty:
        raise _Unsupported(f"cannot find the end of <{root.decode()}>")
    return data[: empty.start()] + b"<" + root + empty.group(1) + b">" + added + b"</" + root + b">"


def _free_part(book: _Book, folder: str, taken: set[str]) -> str:
    names = {n.lower() for n in book.zf.namelist()} | taken
    n = 1
    while f"{folder}/sheet{n}.xml".lower() in names:
        n += 1
    return f"{folder}/sheet{n}.xml"


def write_patched(
    src: Path, dst: Path, *, sheet: str | None, worksheet: str | None, header_row: int,
    columns: list[tuple[str, dict[int, CellValue]]], appends: list[_PendingAppend],
    resolve_sheet: Callable[[str | None, Sequence[str], Sequence[str]], str],
    recalc: bool = False,
) -> None:
    """Write ``src`` with the writes applied to ``dst`` (fsynced), patching the XML in the zip.

    ``recalc``: the workbook has formulas, so it is marked for a full recalculation when next
    opened (a COUNTIF over the results column must not show last run's figures).

    Raises ``_Unsupported`` (before writing anything) when the workbook needs the openpyxl
    writer; ``dst`` is then left as it was.
    """
    with zipfile.ZipFile(src) as zf:
        book = _open_book(zf)
        names = [s.name for s in book.sheets]
        worksheets = [s.name for s in book.sheets if s.kind == "worksheet"]
        visible = [s.name for s in book.sheets if s.kind == "worksheet" and s.state == "visible"]
        sheets: dict[str, _Sheet] = {}  # part -> patched sheet
        target_part = None
        if columns:
            name = sheet if sheet in names else resolve_sheet(worksheet if sheet is None else sheet, names, visible or worksheets)
            info = next(s for s in book.sheets if s.name == name)
            target = book.sheet(info)
            target_part = info.part
            sheets[info.part] = target
            _set_columns(book, target, header_row, columns)
        new_tabs: list[tuple[str, str]] = []
        folder = posixpath.dirname(next((s.part for s in book.sheets if s.kind == "worksheet" and s.part), "")) \
            or posixpath.join(posixpath.dirname(book.main), "worksheets")
        for pending in appends:
            info = next((s for s in book.sheets if s.name == pending.title), None) or \
                next((s for s in book.sheets if header_key(s.name) == header_key(pending.title)), None)
            if info is not None:
                if info.part == target_part:
                    raise _Unsupported("new rows would go to the contacts sheet itself")
                tab = sheets.get(info.part) or book.sheet(info)
                sheets[info.part] = tab
                _append(book, tab, pending, created=False)
            else:
                part = _free_part(book, folder, {p.lower() for _t, p in new_tabs})
                tab = _Sheet(_NEW_SHEET, pending.title, book.styles, book.values, book.sst)
                sheets[part] = tab
                new_tabs.append((pending.title, part))
                _append(book, tab, pending, created=True)
        target = tab = None  # only ``sheets`` holds them now, so each is freed once written out
        with contextlib.ExitStack() as stack:
            # The patched sheets are written out first (they decide the formats styles.xml
            # needs), to files that stay in memory up to 16 MB and go to disk beyond; a large
            # sheet is never held twice.  _Unsupported can still be raised here: dst untouched.
            spooled: dict[str, IO[bytes]] = {}
            while sheets:
                part, patched = sheets.popitem()
                spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=1 << 24, dir=dst.parent))
                patched.write_to(spool)
                del patched
                spooled[part] = spool
            _add_new_tabs(book, new_tabs)
            if recalc:
                book.replace[book.main] = mark_full_calc(book.replace.get(book.main, book.workbook_xml))
            if book.styles.changed:
                assert book.styles_part is not None
                book.replace[book.styles_part] = book.styles.render()
            replace: dict[str, bytes | IO[bytes]] = {**book.replace}
            added: dict[str, bytes | IO[bytes]] = {}
            for part, spool in spooled.items():
                (added if any(part == p for _t, p in new_tabs) else replace)[part] = spool
            added = {part: added[part] for _t, part in new_tabs}  # in the order the tabs were added
            names = {n.lower() for n in zf.namelist()}
            missing = [part for part in replace if part.lower() not in names]
            if missing:
                raise _Unsupported(f"the part {missing[0]} is not in the zip under that name")
            _write_zip(zf, dst, replace, added)


def _write_zip(zf: zipfile.ZipFile, dst: Path, replace: Mapping[str, bytes | IO[bytes]], added: Mapping[str, bytes | IO[bytes]]) -> None:
    """Copy ``zf`` to ``dst`` (fsynced) member by member, in the same order and with the same
    compression, with ``replace``d parts and the ``added`` ones at the end."""
    todo = {name.lower(): data for name, data in replace.items()}  # part names are case-insensitive
    with open(dst, "wb") as fh:
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zf.infolist():
                new = todo.pop(info.filename.lower(), None)
                if new is None:
                    _copy_member(zf, info, out)
                else:
                    _write_member(out, _clone_info(info), new)
            assert not todo, f"parts not in the zip: {sorted(todo)}"  # checked by write_patched
            for name, data in added.items():
                zi = zipfile.ZipInfo(name, date_time=_dt.datetime.now().timetuple()[:6])
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = 0o600 << 16
                _write_member(out, zi, data)
        fh.flush()
        os.fsync(fh.fileno())


def _write_member(out: zipfile.ZipFile, zi: zipfile.ZipInfo, data: bytes | IO[bytes]) -> None:
    if isinstance(data, bytes):
        out.writestr(zi, data)
        return
    size = data.seek(0, os.SEEK_END)
    data.seek(0)
    with out.open(zi, "w", force_zip64=size > 2**31 - 2**24) as w:
        while chunk := data.read(1 << 22):
            w.write(chunk)


def _clone_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    zi.compress_type = info.compress_type
    zi.external_attr = info.external_attr
    zi.create_system = info.create_system
    zi.comment = info.comment
    return zi


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    zi = _clone_info(info)
    if info.is_dir():
        out.writestr(zi, b"")
        return
    out.writestr(zi, zf.read(info), compress_type=info.compress_type)
