"""An .xlsx file as an OPC package (a zip of parts with content types and relationships).

``Package`` reads parts straight from the zip (never openpyxl); ``workbook_sheets`` lists the
sheets with their parts.  The edits below (add relationships, content types, children at the
end of a part's root element) work on the part's text, so everything else in it stays byte for
byte; ``rewrite_zip`` applies them to a finished file.
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import zipfile
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

CONTENT_TYPES = "[Content_Types].xml"


_PRESIZE_LIMIT = 1 << 30  # read_large allocates at most this much before it has read anything


class PackageError(Exception):
    """The package is not a readable .xlsx (bad zip, broken XML, missing main parts)."""


def local_name(tag: str) -> str:
    """An element's or attribute's name without its namespace ("{ns}sheet" or "x:sheet" -> "sheet")."""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag.rsplit(":", 1)[-1]


def rels_part_for(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` -> ``xl/worksheets/_rels/sheet1.xml.rels`` ("" -> ``_rels/.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def xml_attr(text: str) -> str:
    """``text`` escaped for an XML attribute value in double quotes (whitespace kept as written)."""
    return escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


class Package:
    """A read-only view of an OPC zip: parts by case-insensitive name, content types, rels."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        names = zf.namelist()
        if len({n.lower() for n in names}) != len(names):
            raise PackageError("the zip holds two parts with the same name")
        self._names = {n.lower(): n for n in names}
        if CONTENT_TYPES.lower() not in self._names:
            raise PackageError("the [Content_Types].xml part is missing")
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}
        for el in self.xml(CONTENT_TYPES):
            name = local_name(el.tag)
            if name == "Default":
                self.defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
            elif name == "Override":
                self.overrides[el.get("PartName", "").lstrip("/").lower()] = el.get("ContentType", "")

    @property
    def main(self) -> str:
        """The workbook part (``xl/workbook.xml`` as a rule)."""
        main = next((t for _i, k, t in self.rels("") if k == "officeDocument"), None)
        if not main or not self.has(main):
            raise PackageError("the workbook part is missing")
        return main

    def parts(self) -> list[str]:
        return [n for n in self.zf.namelist() if not n.endswith("/")]

    def has(self, part: str) -> bool:
        return part.lower() in self._names

    def read(self, part: str) -> bytes:
        try:
            return self.zf.read(self._names[part.lower()])
        except KeyError:
            raise PackageError(f"part {part} is missing") from None

    def size(self, part: str) -> int:
        """The part's size once decompressed, as the zip's directory gives it."""
        try:
            return self.zf.getinfo(self._names[part.lower()]).file_size
        except KeyError:
            raise PackageError(f"part {part} is missing") from None

    def read_large(self, part: str) -> bytes:
        """``read()`` for a part of tens of megabytes: decompressed a megabyte at a time into
        one buffer of the part's size, allocated once.  ``read()`` holds its output twice at
        the end (zlib's blocks and the bytes joined from them), and a buffer grown as it is
        filled is copied as it grows, which glibc's allocator may keep as holes in the heap
        once a large block has been freed (measured on a 53 MB sheet in a sync: +106 MB peak
        and +81 MB kept, against +57 MB)."""
        try:
            info = self.zf.getinfo(self._names[part.lower()])
        except KeyError:
            raise PackageError(f"part {part} is missing") from None
        # the size the zip's directory gives, within what its compressed size allows (deflate
        # inflates 1032 times at most): a damaged zip may claim anything
        size = min(info.file_size, (info.compress_size + 1) * 1032, _PRESIZE_LIMIT)
        buf = io.BytesIO()
        if size > 0:
            buf.seek(size - 1)
            buf.write(b"\0")
            buf.seek(0)
        with self.open(part) as f:
            while chunk := f.read(1 << 20):
                buf.write(chunk)
        buf.truncate()  # where the part was shorter than said (zipfile then raises at its end anyway)
        return buf.getvalue()

    def open(self, part: str) -> IO[bytes]:
        """The part as a file, read as it is decompressed (for parts too large to hold whole)."""
        try:
            return self.zf.open(self._names[part.lower()])
        except KeyError:
            raise PackageError(f"part {part} is missing") from None

    def xml(self, part: str) -> ET.Element:
        try:
            return ET.fromstring(self.read(part))
        except ET.ParseError as e:
            raise PackageError(f"part {part} is not well-formed XML ({e})") from None

    def content_type(self, part: str) -> str | None:
        ct = self.overrides.get(part.lower())
        if ct is None:
            base = posixpath.basename(part)
            ct = self.defaults.get(base.rsplit(".", 1)[1].lower()) if "." in base else None
        return ct

    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(Id, kind, resolved target part) of ``part``'s relationships ("" = the package).

        The kind is the last segment of the relationship type ("worksheet", "chart", ...); the
        target is "" for an external one (a link to a web page or another file) and for a place
        inside the workbook ("#Sheet2!A1", as a drawing's hyperlink may give it)."""
        rels_name = rels_part_for(part)
        if not self.has(rels_name):
            return []
        out = []
        base = posixpath.dirname(part)
        for el in self.xml(rels_name):
            if local_name(el.tag) != "Relationship":
                continue
            kind = el.get("Type", "").rstrip("/").rsplit("/", 1)[-1]
            target = el.get("Target", "")
            if el.get("TargetMode") == "External" or target.startswith("#"):
                resolved = ""
            elif target.startswith("/"):
                resolved = posixpath.normpath(target.lstrip("/"))
            else:
                resolved = posixpath.normpath(posixpath.join(base, target))
            out.append((el.get("Id", ""), kind, resolved))
        return out

    def rel_type(self, part: str, rid: str) -> str:
        """The full relationship type URI of relationship ``rid`` of ``part``."""
        for el in self.xml(rels_part_for(part)):
            if el.get("Id") == rid:
                return el.get("Type", "")
        return ""


@dataclass(frozen=True)
class SheetEntry:
    """A sheet as workbook.xml lists it."""

    name: str
    sheet_id: int
    state: str  # visible, hidden or veryHidden
    kind: str  # its relationship's kind: worksheet, chartsheet, dialogsheet, xlMacrosheet...
    part: str  # "" where the relationship is missing


def workbook_sheets(pkg: Package) -> list[SheetEntry]:
    """The workbook's sheets in tab order."""
    main = pkg.main
    rels = {i: (k, t) for i, k, t in pkg.rels(main)}
    out = []
    for child in pkg.xml(main):
        if local_name(child.tag) != "sheets":
            continue
        for sh in child:
            rid = next((v for k, v in sh.attrib.items() if local_name(k) == "id"), "")
            kind, part = rels.get(rid, ("?", ""))
            try:
                sheet_id = int(sh.get("sheetId", "0"))
            except ValueError:
                sheet_id = 0
            out.append(SheetEntry(sh.get("name", ""), sheet_id, sh.get("state", "visible"), kind, part))
    return out


def sheet_parts(pkg: Package) -> dict[str, str]:
    """{sheet name: its part name} for every sheet of the workbook, in tab order."""
    return {s.name: s.part for s in workbook_sheets(pkg) if s.part}


def package_problems(zf: zipfile.ZipFile) -> set[str]:
    """What Excel checks before it calls a file corrupt: parts without a content type and
    internal relationships to parts that are not there, in words (empty: none)."""
    pkg = Package(zf)
    problems = set()
    for part in pkg.parts():
        if part != CONTENT_TYPES and pkg.content_type(part) is None:
            problems.add(f"part {part} has no content type")
    for part in pkg.parts():
        if part.endswith(".rels"):
            folder, name = posixpath.split(part)
            source = posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])
            source = "" if name == ".rels" and posixpath.dirname(folder) == "" else source
            for rid, _kind, target in pkg.rels(source):
                if target and not pkg.has(target):
                    problems.add(f"relationship {rid} of {source or 'the package'} points at a missing part {target}")
    return problems


def check_package(zf: zipfile.ZipFile, already: AbstractSet[str] = frozenset()) -> None:
    """Raise PackageError for a problem of ``package_problems`` that is not in ``already``
    (those of the original file: a save must not add any, and need not mend them)."""
    new = sorted(package_problems(zf) - already)
    if new:
        raise PackageError(new[0])


# --------------------------------------------------------------------------------------------
# Edits on a part's text


def insert_before_end(data: bytes, root: str, added: bytes) -> bytes:
    """``added`` as the last children of the part's root element ``root`` (prefixed or not)."""
    name = rb"(?:[\w.-]+:)?" + re.escape(root.encode())
    close = re.search(rb"</" + name + rb"\s*>\s*\Z", data)
    if close:
        return data[: close.start()] + added + data[close.start():]
    empty = re.search(rb"<(" + name + rb")\b([^>]*?)/>\s*\Z", data)
    if not empty:
        raise PackageError(f"cannot find the end of <{root}>")
    tag = empty.group(1)
    return data[: empty.start()] + b"<" + tag + empty.group(2) + b">" + added + b"</" + tag + b">"


def add_relationships(data: bytes, rels: Sequence[tuple[str, str]]) -> tuple[bytes, list[str]]:
    """The .rels part ``data`` with relationships (type URI, relative target) added, and their Ids."""
    taken = set(re.findall(rb"""\sId\s*=\s*["']([^"']*)["']""", data))
    ids: list[str] = []
    elements = []
    n = 1
    for rel_type, target in rels:
        while f"rId{n}".encode() in taken:
            n += 1
        rid = f"rId{n}"
        taken.add(rid.encode())
        ids.append(rid)
        elements.append(f'<Relationship Id="{rid}" Type="{xml_attr(rel_type)}" Target="{xml_attr(target)}"/>')
    return insert_before_end(data, "Relationships", "".join(elements).encode()), ids


def set_content_types(data: bytes, types: Mapping[str, str]) -> bytes:
    """[Content_Types].xml with ``{part: content type}`` set as Overrides (an existing one replaced)."""
    text = data.decode("utf-8")
    added = []
    for part, ct in types.items():
        if not ct:
            continue
        name = rf'\bPartName\s*=\s*"/{re.escape(part)}"'
        before = re.compile(rf'(<Override\b[^>]*{name}[^>]*\bContentType\s*=\s*")[^"]*(")', re.IGNORECASE)
        after = re.compile(rf'(<Override\b[^>]*\bContentType\s*=\s*")[^"]*("[^>]*{name})', re.IGNORECASE)
        m = before.search(text) or after.search(text)
        if m:
            text = text[: m.start()] + m.group(1) + xml_attr(ct) + m.group(2) + text[m.end():]
        else:
            added.append(f'<Override PartName="/{xml_attr(part)}" ContentType="{xml_attr(ct)}"/>')
    out = text.encode("utf-8")
    return insert_before_end(out, "Types", "".join(added).encode()) if added else out


_EMPTY_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')


def rewrite_zip(path: Path, replace: Mapping[str, bytes], add_rels: Mapping[str, Sequence[tuple[str, str]]],
                types: Mapping[str, str]) -> None:
    """Rewrite the zip at ``path`` with parts replaced or added, relationships added to .rels
    parts (created where missing) and content types set.  Written next to it, fsynced, then
    swapped in, so ``path`` is never half-written."""
    out_path = path.with_name(path.name + ".repair")
    try:
        with zipfile.ZipFile(path) as zf, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as out:
            written = set()
            for info in zf.infolist():
                name = info.filename
                data = replace[name] if name in replace else zf.read(name)
                if name in add_rels:
                    data = add_relationships(data, add_rels[name])[0]
                if name == CONTENT_TYPES and types:
                    data = set_content_types(data, types)
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                written.add(name.lower())
            for name, data in replace.items():
                if name.lower() not in written:
                    out.writestr(name, data)
                    written.add(name.lower())
            for name, rels in add_rels.items():
                if name.lower() not in written:
                    out.writestr(name, add_relationships(_EMPTY_RELS, rels)[0])
        with open(out_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(out_path, path)
    except BaseException:
        try:
            os.unlink(out_path)
        except OSError:
            pass
        raise


def without_other_sheets(zf: zipfile.ZipFile) -> bytes | None:
    """A copy of the package (as zip bytes) whose workbook lists only its worksheets and chart
    sheets, or None if it lists nothing else.  python-calamine refuses a whole workbook that
    has an Excel 4 macro sheet or a dialog sheet ("Unrecognized sheet type"), though both are
    valid parts of a workbook; the copy is for reading only, and every other part is the same."""
    pkg = Package(zf)
    main = pkg.main
    rels = {i: k for i, k, _t in pkg.rels(main)}
    data = pkg.read(main)
    others = [rid for rid, kind in rels.items() if kind not in ("worksheet", "chartsheet")]
    changed = data
    for rid in others:
        changed = re.sub(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\b[^>]*?:id\s*=\s*[\"']" + re.escape(rid.encode())
                         + rb"[\"'][^>]*?/>", b"", changed)
    if changed == data:
        return None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in zf.infolist():
            copy.writestr(info.filename, changed if info.filename.lower() == main.lower() else zf.read(info))
    return out.getvalue()
