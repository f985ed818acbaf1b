"""The save's two steps after the checks of the file: write the new workbook next to it
(``write_workbook``: the fast writer, ``patch``, else openpyxl, ``openpyxl_writer``) and prove
it sound before it replaces the original (``verify``: a complete zip whose every part's CRC is
checked in one read, no package problem the original did not have, readable by calamine,
nothing in the original's inventory lost, and after the fast writer every part it did not
patch byte for byte the same; after openpyxl every value, formula and part compared).
``XlsxTable.save`` (``table``) runs them and swaps the file in or keeps a copy.
"""
from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import python_calamine

from ...errors import SourceError
from .cells import SheetWrites
from .files import MACRO_MAIN_TYPES, TEMPLATE_MAIN_TYPES, WorkbookFile, open_book
from .inventory import Inventory, find_losses, take_inventory
from .package import PackageError, check_package
from .recalc import needs_full_calc

if TYPE_CHECKING:
    from .patch import Patched  # openpyxl takes a while to import: only a save needs the writers
    from .patch_sheet import SheetPatch

__all__ = ["Before", "CheckedZip", "Written", "changed_members", "verify", "write_workbook", "written_cells"]

log = logging.getLogger(__name__)


@dataclass
class Before:
    """What a save compares the new file with, taken once per version of the file."""

    fingerprint: tuple[int, int]
    inventory: Inventory
    problems: set[str]  # package_problems of the original: a save need not mend them


@dataclass
class Written:
    """How the new file was written, for its checks."""

    writer: str  # "patch" or "openpyxl"
    allowed: dict[tuple[str, str], int]  # losses the writes themselves make
    patched: Patched | None = None  # the fast writer's account of the parts it changed
    reason: str = ""  # why openpyxl wrote it


def write_workbook(file: WorkbookFile, tmp: Path, writes: list[SheetWrites], before: Inventory, content_type: str,
                   probed: Mapping[str, SheetPatch] | None = None) -> Written:
    """Write the workbook in ``file`` with ``writes`` applied to ``tmp``: with the fast writer
    (reusing the sheets its probe of the same file made, ``probed``), else with openpyxl."""
    from . import openpyxl_writer, patch  # openpyxl takes a while to import: only a save needs it

    src = file.target
    recalc = any(what == "formula" and bag for (_where, what), bag in before.features.items())
    if recalc:  # only where a formula reads what is written (recalc.py: volatile ones would change)
        with zipfile.ZipFile(src) as zf:
            recalc = needs_full_calc(zf, writes)
    try:
        patched = patch.write_patched(src, tmp, writes, recalc=recalc, probed=probed)
        return Written("patch", patched.allowed, patched)
    except patch.Unsupported as e:
        reason = str(e)
        log.info("%s: writing the results with openpyxl (slower) because %s", file.path.name, e)
    except (SourceError, OSError):
        raise  # the file or the disk: openpyxl would meet the same
    except Exception as e:
        reason = f"the quick way failed ({type(e).__name__}: {e})"
        log.warning("%s: the fast writer failed (%s: %s); writing the results with openpyxl instead",
                    file.path.name, type(e).__name__, e)
        log.debug("the fast writer's failure", exc_info=True)
    allowed = openpyxl_writer.write_with_openpyxl(src, tmp, writes, keep_vba=content_type in MACRO_MAIN_TYPES,
                                                  template=content_type in TEMPLATE_MAIN_TYPES, recalc=recalc)
    return Written("openpyxl", allowed, reason=reason)

def verify(file: WorkbookFile, tmp: Path, before: Before, written: Written, writes: Sequence[SheetWrites]) -> list[str]:
    """Check the new file ``tmp`` is a sound workbook; return what it changed that was not asked for."""
    from . import compare

    src = file.target
    lost: list[str] = []
    try:
        with CheckedZip(tmp) as zf:
            check_package(zf, before.problems)
            after = take_inventory(zf)
            zf.check_the_rest()  # every part's CRC, the large sheets' from the inventory's own read
            with zipfile.ZipFile(src) as original:
                if written.patched is not None:
                    lost += changed_members(original, zf, written.patched)
                else:
                    cells = written_cells(writes)
                    lost += compare.changed_formulas(original, zf, cells)
                    lost += compare.changed_parts(original, zf, set(cells))
        with open_book(tmp) as wb:
            # a macro or dialog sheet is not in what calamine lists (see _open_book)
            seen = [n for n in before.inventory.sheets if n in set(wb.sheet_names)]
            if len(seen) < len(before.inventory.sheets) - before.inventory.other_sheets or \
                    wb.sheet_names[: len(seen)] != seen:
                raise PackageError("the sheets do not match the original")
        if written.patched is None:
            lost = compare.changed_values(src, tmp, written_cells(writes)) + lost
    except (PackageError, zipfile.BadZipFile, python_calamine.CalamineError, OSError) as e:
        raise SourceError(
            f"Saving {file.path.name} produced a file that did not pass the safety check ({e}), so your file was "
            "NOT changed and the results were not written. Please report this with a copy of the workbook if you can."
        ) from None
    return find_losses(before.inventory, after, written.allowed) + lost


class CheckedZip(zipfile.ZipFile):
    """A zip that checks every part's CRC in one read: zipfile checks a part's CRC when it is
    read to its end (a mismatch raises BadZipFile), so the parts the checks above read whole
    (the inventory streams every sheet) are not decompressed a second time, as ``testzip()``
    would; ``check_the_rest()`` reads the others."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._opened: list[tuple[str, IO[bytes]]] = []

    def open(self, name: str | zipfile.ZipInfo, mode: Literal["r", "w"] = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> IO[bytes]:
        f = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode == "r":
            self._opened.append((name.filename if isinstance(name, zipfile.ZipInfo) else name, f))
        return f

    def check_the_rest(self) -> None:
        # ``_eof``: the part was decompressed to its end, so its CRC was compared (where a
        # Python release names it otherwise, every part is simply read again)
        done = {name for name, f in self._opened if getattr(f, "_eof", False)}
        self._opened.clear()
        for info in self.infolist():
            if info.filename not in done:
                with super().open(info) as f:
                    while f.read(1 << 20):
                        pass


def changed_members(original: zipfile.ZipFile, new: zipfile.ZipFile, patched: Patched) -> list[str]:
    """Parts of ``original`` the fast writer should have copied byte for byte but did not (by
    the zip's directory: same CRC and size), and parts it added unannounced.  Never expected:
    a safety net, reported as losses so the original is not replaced."""
    theirs = {i.filename: i for i in new.infolist()}
    out = []
    for info in original.infolist():
        if info.filename in patched.parts:
            continue
        other = theirs.pop(info.filename, None)
        if other is None or (other.CRC, other.file_size) != (info.CRC, info.file_size):
            out.append(f"the part {info.filename} (changed unexpectedly)")
    out += [f"the part {name} (added unexpectedly)" for name in theirs if name not in patched.parts | patched.added]
    return out


def written_cells(writes: Sequence[SheetWrites]) -> dict[str, set[tuple[int, int]]]:
    """{sheet: (row, column) of every cell the writes give a value or empty}."""
    out: dict[str, set[tuple[int, int]]] = {}
    for w in writes:
        cells = out.setdefault(w.name, set())
        cells.update((h.row, h.col) for h in w.headers)
        for col, rows in w.columns.items():
            cells.update((r, col) for r in rows)
        for b in w.blocks:
            for i, values in enumerate(b.rows):
                cells.update((b.first + i, col) for col, v in zip(b.columns, values) if v is not None)
    return out
