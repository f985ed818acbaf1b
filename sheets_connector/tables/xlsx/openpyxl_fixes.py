"""What a save with openpyxl loses and can be put back from the original, in one pass.

- Formulas' last computed values: openpyxl writes formulas without them, so until someone
  opens and saves the file in Excel/LibreOffice every formula cell would read as empty,
  including in this tool's next run.  The writes never change a formula (a formula cell that is
  overwritten is no longer one), so the original's cached values are still right.
- Self-contained parts openpyxl drops or rewrites lossily: custom document properties (it
  drops the types it does not know), custom XML parts, the thumbnail, a macro workbook's
  custom ribbon.
- Cells holding an empty text: openpyxl writes them as ``<c t="inlineStr"/>``, which Excel
  may "repair" and which reads back as no value at all; they get their empty text back.
- A macro-enabled workbook without a macro part: openpyxl links a ``vbaProject.bin`` that it
  does not write; the link goes.

The table's inventory check runs after this and catches whatever is still missing.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .package import Package, local_name, rels_part_for, rewrite_zip, sheet_parts

__all__ = ["restore"]


def restore(src: Path, dst: Path) -> None:
    """Put back into ``dst`` (written by openpyxl from ``src``) what openpyxl lost."""
    with zipfile.ZipFile(src) as zo, zipfile.ZipFile(dst) as zn:
        old, new = Package(zo), Package(zn)
        replace = _formula_values(old, new)
        _empty_texts(new, replace)
        _missing_macros(new, replace)
        add_rels: dict[str, list[tuple[str, str]]] = {}
        types: dict[str, str] = {}
        _dropped_parts(old, new, replace, add_rels, types)
    if replace or add_rels:
        rewrite_zip(dst, replace, add_rels, types)


# --------------------------------------------------------------------------------------------
# Formulas' cached values


_FORMULA_TAG = re.compile(rb"<f[\s/>]")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_CELL_TYPE = re.compile(rb'\st="([a-zA-Z]+)"')
_CACHED = re.compile(rb"<v>(.*?)</v>", re.DOTALL)
_EMPTY_V = re.compile(rb"<v\s*/>|<v></v>")


def _formula_cells(xml: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(cell reference, start, end) of each <c> element holding a formula.

    Byte search, not XML parsing: a sheet can be tens of megabytes and only its formula cells
    matter here.  Cells written with a namespace prefix (<x:c>) are not found, and so keep
    no cached value, exactly as openpyxl would leave them.
    """
    pos = 0
    while True:
        m = _FORMULA_TAG.search(xml, pos)
        if not m:
            return
        start = xml.rfind(b"<c ", 0, m.start())
        end = xml.find(b"</c>", m.end())
        if start < 0 or end < 0:
            return
        end += 4
        ref = _CELL_REF.search(xml, start, xml.find(b">", start))
        if ref:
            yield ref.group(1), start, end
        pos = end


def _formula_values(old: Package, new: Package) -> dict[str, bytes]:
    """{new sheet part: its XML with the original's cached formula values put back}."""
    replace: dict[str, bytes] = {}
    new_parts = sheet_parts(new)
    for name, old_part in sheet_parts(old).items():
        new_part = new_parts.get(name)
        if not new_part or not old.has(old_part) or not new.has(new_part):
            continue
        old_xml = old.read(old_part)
        cached: dict[bytes, tuple[bytes | None, bytes]] = {}  # ref -> (its t=, its cached value)
        for ref, start, end in _formula_cells(old_xml):
            cell = old_xml[start:end]
            found = _CACHED.search(cell)
            if found:
                typ = _CELL_TYPE.search(cell, 0, cell.find(b">"))
                cached[ref] = (typ.group(1) if typ else None, found.group(1))
        if not cached:
            continue
        new_xml = new.read(new_part)
        pieces: list[bytes] = []
        last = 0
        for ref, start, end in _formula_cells(new_xml):
            if ref not in cached:
                continue
            kind, v = cached[ref]
            cell = new_xml[start:end]
            empty = _EMPTY_V.search(cell)
            if empty:
                cell = cell[: empty.start()] + b"<v>" + v + b"</v>" + cell[empty.end():]
            elif b"<v>" not in cell:
                cell = cell[:-4] + b"<v>" + v + b"</v></c>"
            else:
                continue
            if kind and kind != b"n" and not _CELL_TYPE.search(cell, 0, cell.find(b">")):
                head = cell.find(b">")
                head -= 1 if cell[head - 1: head] == b"/" else 0
                cell = cell[:head] + b' t="' + kind + b'"' + cell[head:]
            pieces += [new_xml[last:start], cell]
            last = end
        if pieces:
            replace[new_part] = b"".join(pieces) + new_xml[last:]
    return replace


_EMPTY_INLINE = re.compile(rb'(<c\b[^>]*?\st="inlineStr"[^>/]*?)\s*(?:/>|>\s*</c>)')


def _empty_texts(new: Package, replace: dict[str, bytes]) -> None:
    """Cells openpyxl wrote as an empty inline string get their empty text (see the docstring)."""
    for part in sheet_parts(new).values():
        if not new.has(part):
            continue
        xml = replace.get(part) or new.read(part)
        fixed = _EMPTY_INLINE.sub(rb"\1><is><t></t></is></c>", xml)
        if fixed != xml:
            replace[part] = fixed


def _missing_macros(new: Package, replace: dict[str, bytes]) -> None:
    """Drop the workbook's link to a macro part openpyxl did not write."""
    rels_name = rels_part_for(new.main)
    dangling = [rid for rid, kind, target in new.rels(new.main) if kind == "vbaProject" and target and not new.has(target)]
    if not dangling or not new.has(rels_name):
        return
    xml = new.read(rels_name)
    for rid in dangling:
        xml = re.sub(rb"<Relationship\b[^>]*?\sId=\"" + re.escape(rid.encode()) + rb"\"[^>]*?/>", b"", xml)
    replace[rels_name] = xml


# --------------------------------------------------------------------------------------------
# Dropped parts


_REPAIRABLE = (
    # (source of the relationship: the package or the workbook, relationship kind)
    ("package", "custom-properties"),
    ("package", "thumbnail"),
    ("package", "extensibility"),  # custom ribbon (customUI) of macro workbooks
    ("workbook", "customXml"),
)


def _dropped_parts(old: Package, new: Package, replace: dict[str, bytes],
                   add_rels: dict[str, list[tuple[str, str]]], types: dict[str, str]) -> None:
    """Collect, into the three mappings, the parts to graft back and how to link them."""
    for source, kind in _REPAIRABLE:
        old_src = "" if source == "package" else old.main
        new_src = "" if source == "package" else new.main
        old_rels = [(t, old.rel_type(old_src, i)) for i, k, t in old.rels(old_src) if k == kind and t]
        if not old_rels:
            continue
        new_targets = [t for _i, k, t in new.rels(new_src) if k == kind and t]
        if kind == "custom-properties":
            # openpyxl drops the property types it does not know (vt:i8, vt:lpstr,
            # vt:decimal...): the original part is the right one.
            if new_targets and _property_names(old, old_rels[0][0]) == _property_names(new, new_targets[0]):
                continue
            target = new_targets[0] if new_targets else old_rels[0][0]
            replace[target] = old.read(old_rels[0][0])
            types[target] = old.content_type(old_rels[0][0]) or ""
            if not new_targets:
                add_rels.setdefault(rels_part_for(new_src), []).append((old_rels[0][1], _relative(new_src, target)))
            continue
        if len(new_targets) >= len(old_rels):
            continue
        for target, rel_type in old_rels:
            if new.has(target) and target in new_targets:
                continue
            for part in _closure(old, target):
                if not new.has(part) or part == target:
                    replace[part] = old.read(part)
                    ct = old.content_type(part)
                    if ct and new.content_type(part) != ct:
                        types[part] = ct
            add_rels.setdefault(rels_part_for(new_src), []).append((rel_type, _relative(new_src, target)))


def _property_names(pkg: Package, part: str) -> Counter[str]:
    if not pkg.has(part):
        return Counter()
    return Counter(el.get("name", "") for el in pkg.xml(part) if local_name(el.tag) == "property")


def _relative(source: str, target: str) -> str:
    return target if source == "" else posixpath.relpath(target, posixpath.dirname(source))


def _closure(pkg: Package, part: str) -> list[str]:
    """``part``, its .rels and every part it links to, recursively."""
    seen: list[str] = []
    todo = [part]
    while todo:
        p = todo.pop()
        if p in seen or not pkg.has(p):
            continue
        seen.append(p)
        if pkg.has(rels_part_for(p)):
            seen.append(rels_part_for(p))
            todo.extend(t for _i, _k, t in pkg.rels(p) if t)
    return seen
