"""Byte-level XML helpers of the fast writer (``patch``), and its ``Unsupported`` exception.

Parts are never re-serialised: edits are made on the bytes, which is safe because a literal
``<`` can only start a tag in XML.  Whatever does not look the usual way raises ``Unsupported``.

Two spellings of SpreadsheetML are handled the same way: Transitional (what nearly every
program writes) and Strict Open XML (Excel's "Strict Open XML Spreadsheet"), which differ only
in their namespace URIs.  The main namespace may be the default one (``<worksheet xmlns=...>``)
or bound to a prefix (``<x:worksheet xmlns:x=...>``, as .NET's packaging library and Hancom
Office write it): ``part_root`` says which, and every pattern and every element the writer
adds carries that prefix (``tag_re``, ``with_prefix``).
"""
from __future__ import annotations

import mmap
import re
from dataclasses import dataclass

from .cells import MAX_COLUMN

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
_MAIN_NAMESPACES = (MAIN_NS.encode(), STRICT_MAIN_NS.encode())

MAX_ROW = 1_048_576


class Unsupported(Exception):
    """The fast writer does not apply to this workbook; the message says why (for the log)."""


_COL_CACHE: dict[bytes, int] = {}


def col_number(letters: bytes) -> int:
    """b"AB" -> 28."""
    n = _COL_CACHE.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ch - 64
        _COL_CACHE[letters] = n
    return n


def split_ref(ref: str) -> tuple[int, int]:
    """"$B$7" -> (7, 2)."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})", ref.strip())
    if not m:
        raise Unsupported(f"a cell reference it cannot read ({ref!r})")
    return int(m.group(2)), col_number(m.group(1).upper().encode())


def cell_range(ref: str) -> tuple[int, int, int, int]:
    """'B2:D5' -> (first row, first col, last row, last col); whole rows/columns are widened."""
    ref = ref.strip()
    if ":" not in ref:
        r, c = split_ref(ref)
        return r, c, r, c
    a, b = ref.split(":", 1)
    if re.fullmatch(r"\$?\d+", a) and re.fullmatch(r"\$?\d+", b):  # 3:5 (whole rows)
        return int(a.lstrip("$")), 1, int(b.lstrip("$")), MAX_COLUMN
    if re.fullmatch(r"\$?[A-Za-z]+", a) and re.fullmatch(r"\$?[A-Za-z]+", b):  # B:D
        return 1, col_number(a.lstrip("$").upper().encode()), MAX_ROW, col_number(b.lstrip("$").upper().encode())
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


# --------------------------------------------------------------------------------------------
# The root element of a part: its name, namespace and prefix


_ROOT_RE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
                      rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\b([^>]*)>", re.DOTALL)
_XMLNS_RE = re.compile(rb"""\sxmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class Root:
    """A part's root start tag, checked (see ``part_root``)."""

    start: int  # where the start tag begins
    end: int  # where it ends
    attrs: bytes  # what is between the element's name and ">"
    prefix: bytes  # b"" or b"x:": how the part writes elements of the main namespace
    strict: bool  # the main namespace is Strict Open XML's
    namespaces: dict[bytes, bytes]  # prefix (b"" for the default) -> URI, as declared on the root


def part_root(data: bytes | mmap.mmap, name: str, what: str) -> Root:
    """The root start tag of a part: ``name``, in SpreadsheetML's main namespace (Transitional
    or Strict, by default or through a prefix) - except packaging parts (``Relationships``,
    ``Types``), which only need the right name."""
    m = _ROOT_RE.match(data)
    if not m:
        raise Unsupported(f"{what} does not start the usual way")
    if m.group(2).decode() != name:
        raise Unsupported(f"{what} is not a <{name}> part")
    namespaces = {(d.group(1) or b""): (d.group(2) if d.group(2) is not None else d.group(3) or b"")
                  for d in _XMLNS_RE.finditer(m.group(3))}
    prefix = m.group(1) or b""
    uri = namespaces.get(prefix[:-1] if prefix else b"")
    if name in ("Relationships", "Types"):
        if prefix:
            raise Unsupported(f"{what} uses namespace prefixes (<{prefix.decode()}{name}>)")
    elif uri not in _MAIN_NAMESPACES:
        raise Unsupported(f"{what} is not in the usual SpreadsheetML namespace")
    return Root(m.start(1) - 1 if m.group(1) else m.start(2) - 1, m.end(), m.group(3), prefix,
                uri == _MAIN_NAMESPACES[1], namespaces)


def rel_namespace(root: Root) -> str:
    """The relationships namespace that goes with the part's main namespace."""
    return STRICT_REL_NS if root.strict else REL_NS


def main_namespace(root: Root) -> str:
    return STRICT_MAIN_NS if root.strict else MAIN_NS


_TAG_RES: dict[tuple[bytes, bytes, int], re.Pattern[bytes]] = {}


def tag_re(pattern: bytes, prefix: bytes, flags: int = 0) -> re.Pattern[bytes]:
    """``pattern`` with each ``{p}`` replaced by the part's prefix (compiled once)."""
    key = (pattern, prefix, flags)
    compiled = _TAG_RES.get(key)
    if compiled is None:
        compiled = _TAG_RES[key] = re.compile(pattern.replace(b"{p}", re.escape(prefix)), flags)
    return compiled


_ELEMENT_START = re.compile(rb"<(/?)(?=[A-Za-z_])")


def with_prefix(xml: bytes, prefix: bytes) -> bytes:
    """Elements the writer made (all of the main namespace) spelt with the part's prefix."""
    if not prefix:
        return xml
    return _ELEMENT_START.sub(rb"<\1" + prefix.replace(b"\\", b"\\\\"), xml)


def set_attr(tag: bytes, name: bytes, value: bytes) -> bytes:
    """Set attribute ``name`` in the start tag at the beginning of ``tag``."""
    end = tag.find(b">")
    m = re.compile(rb"(\s" + name + rb"\s*=\s*)(\"[^\"]*\"|'[^']*')").search(tag, 0, end)
    if m:
        return tag[: m.start(2)] + b'"' + value + b'"' + tag[m.end(2):]
    start = re.match(rb"<[\w:.-]+", tag)
    if not start:
        raise Unsupported("an element it cannot read")
    return tag[: start.end()] + b" " + name + b'="' + value + b'"' + tag[start.end():]
