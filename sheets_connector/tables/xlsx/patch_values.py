"""Values as cell XML for the fast writer, and the cell formats they need in styles.xml.

``CellXml.cell`` turns a value into a ``<c>`` element: text inline (the shared strings part is
left as it is), numbers, booleans, dates as serial numbers.  Where a value needs a number
format its cell does not have (``cells.number_format``), ``Styles`` appends a cell format to
styles.xml: existing formats are never changed or renumbered, and formats added by an earlier
run are found and reused.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

from ..base import CellValue
from .cells import EXCEL_MAX_TEXT, FORMAT_DATE, FORMAT_DATETIME, FORMAT_ID, cell_value, excel_text, keeps_format, number_format
from .package import local_name, xml_attr
from .patch_xml import Unsupported, part_root, set_attr, tag_re, with_prefix

# Number formats Excel has built in, by id, so they are not added again.
_BUILTIN_FORMAT_IDS = {"General": 0, "0": 1, "h:mm:ss": 21}
# Built-in number format ids that show dates or times (ECMA-376 18.8.30, incl. the East Asian ones).
_BUILTIN_DATE_IDS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))


_DEFAULT_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{main}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def default_styles(main_namespace: str) -> bytes:
    """A styles part for a workbook that has none: the default look, as Excel shows such a file."""
    return _DEFAULT_STYLES.format(main=main_namespace).encode()


class Styles:
    """The cell formats of styles.xml (``s`` of a cell is an index into them).

    A format or font may be wrapped in ``<mc:AlternateContent>`` (Hancom Office writes its own
    extensions so): it counts as one, and what the writer derives from it is based on its
    ``<mc:Fallback>``, the variant every other program reads."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.p = b""  # the prefix of the main namespace in styles.xml
        self.changed = False
        self.formats: dict[int, str] = {}  # custom number formats: id -> code
        self.xf_formats: list[int] = []  # number format id of each cell format
        self.xf_raw: list[bytes] = []  # each cell format's XML
        self.font_raw: list[bytes] = []
        self.new_formats: list[tuple[int, str]] = []
        self.new_fonts: list[bytes] = []
        self.new_xfs: list[bytes] = []
        self._derived: dict[tuple[int, str], int] = {}
        self._bold: int | None = None
        self._font_refs = -1  # the highest fontId a cell format or cell style uses
        if data is None:
            return
        p = self.p = part_root(data, "styleSheet", "styles.xml").prefix
        try:
            root = ET.fromstring(data)
            counts: dict[str, int] = {}
            for child in root:
                tag = local_name(child.tag)
                if tag == "numFmts":
                    for nf in child:
                        self.formats[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
                elif tag == "cellXfs":
                    for xf in child:
                        if local_name(xf.tag) != "xf":
                            xf = _fallback(xf, "xf")
                        self.xf_formats.append(int(xf.get("numFmtId", "0") or 0))
                        self._font_refs = max(self._font_refs, int(xf.get("fontId", "0") or 0))
                elif tag == "cellStyleXfs":
                    for xf in child.iter():
                        if local_name(xf.tag) == "xf":
                            self._font_refs = max(self._font_refs, int(xf.get("fontId", "0") or 0))
                if tag in ("cellXfs", "fonts"):
                    counts[tag] = len(child)
        except (ET.ParseError, ValueError) as e:
            raise Unsupported(f"styles.xml cannot be read ({e})") from None
        xfs = tag_re(rb"<{p}cellXfs\b[^>]*>(.*?)</{p}cellXfs\s*>", p, re.DOTALL).search(data)
        if not xfs:
            raise Unsupported("styles.xml has no cell formats")
        self.xf_raw = _children(xfs.group(1), b"xf", p)
        if len(self.xf_raw) != counts.get("cellXfs") or not self.xf_raw:
            raise Unsupported("styles.xml's cell formats cannot be read")
        fonts = tag_re(rb"<{p}fonts\b[^>]*>(.*?)</{p}fonts\s*>", p, re.DOTALL).search(data)
        if fonts:
            self.font_raw = _children(fonts.group(1), b"font", p)
        if len(self.font_raw) != counts.get("fonts", 0):
            raise Unsupported("styles.xml's fonts cannot be read")

    def _need(self) -> bytes:
        if self.data is None:
            raise Unsupported("the workbook has no styles part")
        return self.data

    def format_code(self, s: int) -> str:
        if self.data is None:
            return "General"
        if s >= len(self.xf_formats):
            raise Unsupported(f"a cell uses a style ({s}) styles.xml does not have")
        fid = self.xf_formats[s]
        if fid in self.formats:
            return self.formats[fid]
        return BUILTIN_FORMATS.get(fid, "General" if fid == 0 else f"builtin:{fid}")

    def is_general(self, s: int) -> bool:
        return self.format_code(s).strip().casefold() == "general"

    def is_date(self, s: int) -> bool:
        if self.data is not None and s < len(self.xf_formats):
            fid = self.xf_formats[s]
            if fid not in self.formats and fid in _BUILTIN_DATE_IDS:
                return True
        code = self.format_code(s)
        return not code.startswith("builtin:") and is_date_format(code)

    def _format_id(self, code: str) -> int:
        if code in _BUILTIN_FORMAT_IDS:
            return _BUILTIN_FORMAT_IDS[code]
        for fid, existing in self.formats.items():
            if existing == code:
                return fid
        # past every id a cell format uses too: one pointing at a format the file does not
        # define must not start showing the new one
        fid = max([163, *self.formats, *self.xf_formats]) + 1
        self.formats[fid] = code
        self.new_formats.append((fid, code))
        return fid

    def with_format(self, s: int, code: str) -> int:
        """A cell format like ``s`` but showing numbers with ``code`` (added once, reused)."""
        self._need()
        key = (s, code)
        if key not in self._derived:
            fid = self._format_id(code)
            raw = _plain(self.xf_raw[s], b"xf", self.p)
            raw = set_attr(raw, b"numFmtId", str(fid).encode())
            raw = set_attr(raw, b"applyNumberFormat", b"1")
            self._derived[key] = self._add_xf(raw, fid)
        return self._derived[key]

    def bold(self) -> int:
        """A cell format with the default font in bold (for headers the connector creates)."""
        data = self._need()
        p = self.p
        if self._bold is None:
            if not self.font_raw:
                raise Unsupported("styles.xml has no fonts")
            first = tag_re(rb"<{p}font\b[^>]*?/>|<{p}font\b[^>]*>(.*?)</{p}font\s*>", p, re.DOTALL).match(
                _plain(self.font_raw[0], b"font", p))
            inner = tag_re(rb"<{p}b\b[^>]*?/>|<{p}b\b[^>]*>\s*</{p}b\s*>", p).sub(b"", (first.group(1) if first else None) or b"")
            bold = with_prefix(b"<font><b/>", p) + inner + with_prefix(b"</font>", p)
            self._pad_fonts()
            if bold in self.font_raw:  # added by an earlier run
                font = self.font_raw.index(bold)
            else:
                self.font_raw.append(bold)
                self.new_fonts.append(bold)
                self.changed = True
                font = len(self.font_raw) - 1
            parent = ' xfId="0"' if tag_re(rb"<{p}cellStyleXfs\b[^>]*>\s*<", p).search(data) else ""
            raw = with_prefix(f'<xf numFmtId="0" fontId="{font}" fillId="0" borderId="0"{parent} applyFont="1"/>'.encode(), p)
            self._bold = self._add_xf(raw, 0)
        return self._bold

    def _pad_fonts(self) -> None:
        """Make the font list reach every fontId the cell formats use, before a font is
        appended.  A file may point past its own list (LibreOffice's tdf100709 does); Excel
        shows such cells in the default font (the first), so the list is filled up with copies
        of it: those cells keep looking as they did, instead of taking the appended font."""
        missing = self._font_refs + 1 - len(self.font_raw)
        if missing <= 0:
            return
        default = _plain(self.font_raw[0], b"font", self.p)
        self.font_raw.extend([default] * missing)
        self.new_fonts.extend([default] * missing)
        self.changed = True

    def _add_xf(self, raw: bytes, fid: int) -> int:
        if raw in self.xf_raw:  # the same format, e.g. added by an earlier run: reuse it
            return self.xf_raw.index(raw)
        self.new_xfs.append(raw)
        self.xf_raw.append(raw)
        self.xf_formats.append(fid)
        self.changed = True
        return len(self.xf_raw) - 1

    def render(self) -> bytes:
        """styles.xml with the added formats and fonts."""
        data = self._need()
        p = self.p
        if self.new_xfs:
            data = _append_children(data, b"cellXfs", b"".join(self.new_xfs), len(self.xf_raw), p)
        if self.new_fonts:
            data = _append_children(data, b"fonts", b"".join(self.new_fonts), len(self.font_raw), p)
        if self.new_formats:
            added = b"".join(with_prefix(f'<numFmt numFmtId="{fid}" formatCode="{xml_attr(code)}"/>'.encode(), p)
                             for fid, code in self.new_formats)
            if tag_re(rb"<{p}numFmts\b", p).search(data):
                data = _append_children(data, b"numFmts", added, len(self.formats), p)
            else:  # numFmts is the first child of styleSheet
                at = part_root(data, "styleSheet", "styles.xml").end
                data = (data[:at] + with_prefix(f'<numFmts count="{len(self.new_formats)}">'.encode(), p) + added
                        + with_prefix(b"</numFmts>", p) + data[at:])
        return data


def _fallback(element: ET.Element, name: str) -> ET.Element:
    """The ``name`` element an ``<mc:AlternateContent>`` stands for: its Fallback's, else its first."""
    found = [el for el in element.iter() if local_name(el.tag) == name]
    fallback = [el for branch in element if local_name(branch.tag) == "Fallback"
                for el in branch.iter() if local_name(el.tag) == name]
    if not (fallback or found):
        raise ValueError(f"a <{local_name(element.tag)}> where a <{name}> belongs")
    return (fallback or found)[0]


def _children(body: bytes, name: bytes, p: bytes) -> list[bytes]:
    """The top-level ``<name>`` children in ``body``, each ``<mc:AlternateContent>`` counting as one."""
    pattern = (rb"<{p}" + name + rb"\b[^>]*?/>|<{p}" + name + rb"\b[^>]*>.*?</{p}" + name + rb"\s*>"
               rb"|<([A-Za-z_][\w.-]*:|)AlternateContent\b.*?</\1AlternateContent\s*>")
    return [m.group(0) for m in tag_re(pattern, p, re.DOTALL).finditer(body)]


def _plain(raw: bytes, name: bytes, p: bytes) -> bytes:
    """``raw`` itself, or the element of its ``<mc:Fallback>`` when it is an AlternateContent."""
    if tag_re(rb"<{p}" + name + rb"\b", p).match(raw):
        return raw
    branch = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?Fallback\b[^>]*>(.*?)</(?:[A-Za-z_][\w.-]*:)?Fallback\s*>", raw, re.DOTALL)
    inner = _children(branch.group(1) if branch else raw, name, p)
    if not inner or not tag_re(rb"<{p}" + name + rb"\b", p).match(inner[0]):
        raise Unsupported(f"styles.xml has a <{name.decode()}> it cannot read")
    return inner[0]


def _append_children(data: bytes, element: bytes, added: bytes, count: int, p: bytes = b"") -> bytes:
    """Append ``added`` as the last children of ``<element>`` and set its count attribute."""
    m = tag_re(rb"<{p}" + element + rb"\b([^>]*?)(/?)>", p).search(data)
    if not m:
        raise Unsupported(f"styles.xml has no <{element.decode()}>")
    start_tag = m.group(0)
    if m.group(2):  # <numFmts count="0"/>
        start_tag = start_tag[:-2].rstrip() + b">"
        body_end, tail = m.end(), b"</" + p + element + b">"
    else:
        close = tag_re(rb"</{p}" + element + rb"\s*>", p).search(data, m.end())
        if not close:
            raise Unsupported(f"styles.xml's <{element.decode()}> is not closed")
        body_end, tail = close.start(), b""
    if re.search(rb"\scount\s*=", start_tag):
        start_tag = set_attr(start_tag, b"count", str(count).encode())
    return data[: m.start()] + start_tag + data[m.end(): body_end] + added + tail + data[body_end:]


# --------------------------------------------------------------------------------------------
# Values -> cell XML


_TEXT_SPECIAL = re.compile("[&<>\r_]")
_EXCEL_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def is_plain(text: str) -> bool:
    """A non-blank text that goes into a cell as it is: nothing to escape, remove, cut or
    preserve (see ``text_xml`` and ``cells.excel_text``).  Printable excludes the control
    characters, surrogates and non-characters XML forbids, line breaks and tabs, and every
    space but " "; a few printable characters (non-breaking spaces, direction marks) merely
    take the full path."""
    return (text.isprintable() and "&" not in text and "<" not in text and ">" not in text and "_" not in text
            and 0 < len(text) <= EXCEL_MAX_TEXT and text[0] != " " and text[-1] != " ")


def text_xml(text: str) -> tuple[bytes, bool] | None:
    """A cell's text as XML character data, and whether it needs xml:space="preserve"; None
    for a blank text.  CR is kept, and a literal "_x0041_" is protected from Excel's own
    _xHHHH_ escapes (Excel would show it as "A")."""
    text = excel_text(text)
    if not text:
        return None
    spaces = text[0].isspace() or text[-1].isspace() or "\n" in text or "\r" in text or "\t" in text
    if _TEXT_SPECIAL.search(text):
        text = escape(_EXCEL_ESCAPE_LIKE.sub("_x005F_", text)).replace("\r", "&#13;")
    return text.encode("utf-8"), spaces


class CellXml:
    """Turns values into ``<c>`` elements, adding the number formats they need to styles.xml."""

    def __init__(self, styles: Styles, date1904: bool) -> None:
        self.styles = styles
        self.epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
        self.date1904 = date1904
        self._styled: dict[tuple[int, str], int] = {}  # (cell's style, format needed) -> style to use
        self._serials: dict[dt.date, bytes] = {}

    def _serial(self, value: dt.date) -> bytes:
        """A date as Excel's serial number."""
        serial = self._serials.get(value)
        if serial is None:
            d = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
            if d < (self.epoch if self.date1904 else dt.datetime(1900, 3, 1)):
                raise Unsupported(f"a date before {'1904' if self.date1904 else 'March 1900'} ({value})")
            days = (d - self.epoch).days
            seconds = d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 10**6
            serial = (str(days) if not seconds else repr(days + seconds / 86400)).encode()
            if len(self._serials) < 100_000:
                self._serials[value] = serial
        return serial

    def _style_for(self, s: int, fmt: str) -> int:
        """The style a cell with style ``s`` gets for a value that needs number format ``fmt``."""
        key = (s, fmt)
        styled = self._styled.get(key)
        if styled is None:
            keep = keeps_format(fmt, general=self.styles.is_general(s), date=self.styles.is_date(s))
            styled = self._styled[key] = s if keep else self.styles.with_format(s, fmt)
        return styled

    def new_cell(self, ref: str, value: CellValue) -> str:
        """``cell()`` for a cell that does not exist yet and gets no fixed style, as text: the
        values a sync writes by the million (plain texts, small and large integers, finite
        floats) without the general path's checks, the rest through it."""
        kind = type(value)
        if kind is str:
            if is_plain(value):
                return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
        elif kind is dt.datetime or kind is dt.date:
            if kind is dt.date or value.tzinfo is None:
                s = self._style_for(0, FORMAT_DATE if kind is dt.date else FORMAT_DATETIME)
                serial = self._serial(value).decode()
                return f'<c r="{ref}" s="{s}"><v>{serial}</v></c>' if s else f'<c r="{ref}"><v>{serial}</v></c>'
        elif kind is int:
            if -10**7 < value < 10**7:
                return f'<c r="{ref}"><v>{value}</v></c>'
            s = self._style_for(0, FORMAT_ID)  # General would show 4.39E+08
            return f'<c r="{ref}" s="{s}"><v>{value}</v></c>' if s else f'<c r="{ref}"><v>{value}</v></c>'
        elif kind is float and math.isfinite(value):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return self.cell(ref.encode(), value, None, None).decode()

    def cell(self, ref: bytes, value: CellValue, fixed_style: int | None, existing_style: int | None) -> bytes:
        """The ``<c>`` element for ``value`` at ``ref`` (b"" for nothing: None and no cell).

        ``fixed_style``: the style to give the cell (headers); otherwise the existing cell's
        style is kept, with a number format added where the value needs one.
        """
        kind = type(value)
        if kind is not str and kind is not int and kind is not float and kind is not bool and value is not None:
            value = cell_value(value)  # dates in local time, other types as text
            kind = type(value)
        t = b""
        body = b""
        if isinstance(value, str):
            text = text_xml(value)
            if text is not None:  # "" is a blank cell, as openpyxl writes it
                t = b' t="inlineStr"'
                body = (b'<is><t xml:space="preserve">' if text[1] else b"<is><t>") + text[0] + b"</t></is>"
        elif kind is bool:
            t, body = b' t="b"', b"<v>1</v>" if value else b"<v>0</v>"
        elif isinstance(value, int):
            body = b"<v>" + str(int(value)).encode() + b"</v>"
        elif isinstance(value, float):
            if math.isfinite(value):
                body = b"<v>" + repr(float(value)).encode() + b"</v>"
            else:  # Excel has no NaN or infinity: written as the text Python shows
                t, body = b' t="inlineStr"', b"<is><t>" + str(value).encode() + b"</t></is>"
        elif isinstance(value, dt.date):
            body = b"<v>" + self._serial(value) + b"</v>"
        elif isinstance(value, dt.time):
            seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6
            body = b"<v>" + repr(seconds / 86400).encode() + b"</v>"
        elif isinstance(value, dt.timedelta):
            body = b"<v>" + repr(value.total_seconds() / 86400).encode() + b"</v>"
        elif value is not None:  # pragma: no cover - cell_value returns only the types above
            raise Unsupported(f"a value of type {type(value).__name__}")
        s = fixed_style if fixed_style is not None else existing_style
        if not body:  # an empty cell: only where a cell (with its style) is, or a style is given
            if s is None:
                return b""
            return b'<c r="' + ref + b'" s="' + str(s).encode() + b'"/>' if s else b'<c r="' + ref + b'"/>'
        if fixed_style is None and kind is not str and kind is not bool and kind is not float:
            fmt = number_format(value)
            if fmt is not None:
                s = self._style_for(s or 0, fmt)
        if s:
            return b'<c r="' + ref + b'" s="' + str(s).encode() + b'"' + t + b">" + body + b"</c>"
        return b'<c r="' + ref + b'"' + t + b">" + body + b"</c>"

