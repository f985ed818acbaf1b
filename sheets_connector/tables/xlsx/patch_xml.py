"""Byte-level XML helpers of the fast writer (``patch``), and its ``Unsupported`` exception.

Parts are never re-serialised: edits are made on the bytes, which is safe because a literal
``<`` can only start a tag in XML.  Whatever does not look the usual way raises ``Unsupported``.
"""
from __future__ import annotations

import re

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_NS = b"http://purl.oclc.org/ooxml/"


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
        return int(a.lstrip("$")), 1, int(b.lstrip("$")), 16384
    if re.fullmatch(r"\$?[A-Za-z]+", a) and re.fullmatch(r"\$?[A-Za-z]+", b):  # B:D
        return 1, col_number(a.lstrip("$").upper().encode()), 1048576, col_number(b.lstrip("$").upper().encode())
    r1, c1 = split_ref(a)
    r2, c2 = split_ref(b)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_ROOT_RE = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*"
                      rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)\b([^>]*)>", re.DOTALL)
_XMLNS_RE = re.compile(rb"""\sxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*(?:"[^"]*"|'[^']*')""")


def part_root(data: bytes, name: str, what: str) -> re.Match[bytes]:
    """The root start tag of a part, checked: ``name``, unprefixed, in the usual namespace."""
    if _STRICT_NS in data[:4096]:
        raise Unsupported("the workbook is saved in the Strict Open XML format")
    m = _ROOT_RE.match(data)
    if not m:
        raise Unsupported(f"{what} does not start the usual way")
    if m.group(1):
        raise Unsupported(f"{what} uses namespace prefixes (<{m.group(1).decode()}{name}>)")
    if m.group(2).decode() != name:
        raise Unsupported(f"{what} is not a <{name}> part")
    decls = b"".join(_XMLNS_RE.findall(m.group(3))).replace(b"'", b'"')
    if f'xmlns="{MAIN_NS}"'.encode() not in decls and name not in ("Relationships", "Types"):
        raise Unsupported(f"{what} is not in the usual SpreadsheetML namespace")
    return m


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
