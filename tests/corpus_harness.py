"""Run the .xlsx write-back over the corpus of real workbooks (``tests/corpus``) and check it.

Each workbook in ``tests/corpus/manifest.json`` was made by another program (Excel, LibreOffice,
Google Sheets, WPS, ...) and taken from a published package (see ``tests/corpus/SOURCES.md``).
``run_case`` copies one into a scratch folder and does what a sync does through the public
table API, on the first visible worksheet with the header in the manifest's row (1 unless
said otherwise):

    check_writable() -> read()          # before anything is sent to inwise
    set_columns({"Sync result": ...})   # after sending: a result on the first data rows
    append_rows("New contacts", ...)
    save()

and then checks the standard of issue 10 on what ``save`` left behind:

* refused: only in ``check_writable``/``read`` (before sending), with a ConnectorError whose
  message names the file, and the file untouched;
* written in place: every zip part other than the ones the write must change is byte for
  byte the same; every cell value, cached formula value and formula of every sheet is the
  same except the written cells (read before and after with python-calamine and openpyxl);
  the written results are there (or reported as not placed), in a visible column within
  Excel's 16,384 columns; the appended rows are in their tab; openpyxl and python-calamine
  read the result (when they could read the original);
* written to a copy: the original untouched, the copy named in the report's message, every
  loss named in ``report.lost`` (dropped part kinds, sheets with changed values), and the
  copy meets the checks above on values;
* read(): a cell holding an Excel error (#N/A, #VALUE!, ...) or a formula without a cached
  value, inside the table, is not read as an empty cell.

Anything else (a crash, a refusal during ``save`` i.e. after sending, a silent change) makes
the outcome "failed", with the reasons in ``Outcome.problems``.

``python tests/corpus_harness.py`` prints the outcome of every file as a Markdown table
(the source of ``tests/corpus/BASELINE.md``).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import posixpath
import re
import shutil
import sys
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from sheets_connector.errors import ConnectorError
from sheets_connector.tables import base as _base
from sheets_connector.tables.xlsx import XlsxTable

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = CORPUS / "manifest.json"

RESULT_HEADER = "Sync result"
APPEND_TAB = "New contacts"
APPEND_HEADER = ("Email", "Mobile", "First name")
APPEND_ROWS = (
    ("dana.levi@example.com", "+972 50-123-4567", "Dana"),
    ("yossi@example.org", "054-765-4321", "Yossi"),
)
ROWS_WRITTEN = 3  # results go on the first three data rows (fewer if the sheet has fewer)
MAX_COLUMN = 16_384  # XFD
MAX_ROW = 1_048_576

# Outcome kinds
IN_PLACE = "in place"
COPY = "copy"
REFUSED = "refused before sending"
FAILED = "failed"


def result_text(row: int) -> str:
    return f"\u2713 created \u00b7 #{row} \u00b7 28/11/2026 09:15"


# --------------------------------------------------------------------------------------------
# The manifest


@dataclass(frozen=True)
class CorpusFile:
    name: str  # file name in tests/corpus
    program: str  # what made it (docProps/app.xml, or how it was recognised)
    features: tuple[str, ...]
    source: str  # registry and package it was taken from
    path: str  # path inside that package
    upstream: str  # the project's own repository
    licence: str
    sha256: str
    header_row: int = 1
    known_bug: str | None = None  # "issue 10 item N: ..." while the standard is not met
    libreoffice_bug: str | None = None  # likewise, for LibreOffice opening the result (slow test)

    @property
    def file(self) -> Path:
        return CORPUS / self.name


def load_manifest() -> list[CorpusFile]:
    entries = json.loads(MANIFEST.read_text("utf-8"))["files"]
    return [CorpusFile(**{**e, "features": tuple(e["features"])}) for e in entries]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Reading a workbook every way we compare it


Cell = tuple[int, int]  # (row, column), 1-based


@dataclass
class Snapshot:
    parts: dict[str, bytes]
    calamine: dict[str, dict[Cell, Any]] | None  # None: calamine cannot read it
    formulas: dict[str, dict[Cell, Any]] | None  # openpyxl, as written (formulas as text)
    cached: dict[str, dict[Cell, Any]] | None  # openpyxl data_only: cached formula values
    errors: dict[str, str] = field(default_factory=dict)  # reader -> why it failed


def _plain(value: Any) -> Any:
    """A comparable form of an openpyxl value (formula objects have no __eq__)."""
    if value is None or isinstance(value, (str, int, float, bool, _dt.date, _dt.time, _dt.timedelta)):
        return value
    text = getattr(value, "text", None)
    ref = getattr(value, "ref", None)
    if text is not None:
        return (type(value).__name__, ref, text)
    return (type(value).__name__, repr(vars(value)) if hasattr(value, "__dict__") else repr(value))


def _read_openpyxl(path: Path, data_only: bool) -> dict[str, dict[Cell, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=data_only, read_only=True, keep_links=True)
    try:
        out: dict[str, dict[Cell, Any]] = {}
        for ws in wb.worksheets:
            cells: dict[Cell, Any] = {}
            ws.reset_dimensions()  # a <dimension> can claim a million rows (tablib's bad_dimensions.xlsx)
            for row in ws.iter_rows():
                for c in row:
                    v = getattr(c, "value", None)
                    if v is not None and getattr(c, "row", None) is not None:
                        cells[(c.row, c.column)] = _plain(v)
            out[ws.title] = cells
        return out
    finally:
        wb.close()


def _read_calamine(path: Path) -> dict[str, dict[Cell, Any]]:
    out: dict[str, dict[Cell, Any]] = {}
    with CalamineWorkbook.from_path(str(path)) as wb:
        for meta in wb.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            if sheet.height * sheet.width > 20_000_000:
                raise ValueError(f"sheet '{meta.name}' spans {sheet.height} x {sheet.width} cells, too many to compare")
            grid = sheet.to_python()  # skips the empty rows and columns before sheet.start
            top, left = sheet.start or (0, 0)
            out[meta.name] = {(top + r + 1, left + c + 1): v for r, row in enumerate(grid) for c, v in enumerate(row) if v != ""}
    return out


def snapshot(path: Path) -> Snapshot:
    parts = _parts(path)
    snap = Snapshot(parts=parts, calamine=None, formulas=None, cached=None)
    for name, reader in (("python-calamine", lambda: _read_calamine(path)),
                         ("openpyxl", lambda: _read_openpyxl(path, data_only=False)),
                         ("openpyxl (cached values)", lambda: _read_openpyxl(path, data_only=True))):
        try:
            value = reader()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - any failure to read is recorded (calamine panics are BaseExceptions)
            snap.errors[name] = f"{type(e).__name__}: {e}"[:300]
            continue
        if name == "python-calamine":
            snap.calamine = value
        elif name == "openpyxl":
            snap.formulas = value
        else:
            snap.cached = value
    return snap


def _parts(path: Path) -> dict[str, bytes]:
    """The zip's members by name; a file that is not a zip is one part named ""."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    except zipfile.BadZipFile:
        return {"": path.read_bytes()}


def first_visible_worksheet(path: Path) -> str | None:
    try:
        with CalamineWorkbook.from_path(str(path)) as wb:
            meta = wb.sheets_metadata
    except Exception:  # noqa: BLE001 - the table will say what is wrong with the file
        return None
    visible = [m.name for m in meta if m.typ == SheetTypeEnum.WorkSheet and m.visible == SheetVisibleEnum.Visible]
    return visible[0] if visible else None


# --------------------------------------------------------------------------------------------
# The package: which part is which


_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode().split(":")[-1]: v.decode("utf-8", "replace") for k, v in _ATTR.findall(raw)}


def _rels(parts: Mapping[str, bytes], part: str) -> list[dict[str, str]]:
    folder, name = posixpath.split(part)
    data = parts.get(posixpath.join(folder, "_rels", name + ".rels"))
    if data is None:
        return []
    out = []
    for m in _REL.finditer(data):
        a = _attrs(m.group(1))
        if a.get("TargetMode") != "External" and "Target" in a:
            target = a["Target"]
            a["part"] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out.append(a)
    return out


@dataclass
class PackageMap:
    workbook: str
    sheets: dict[str, str]  # sheet name -> part
    by_kind: dict[str, list[str]]  # relationship kind (last segment of its type) -> parts


def package_map(parts: Mapping[str, bytes]) -> PackageMap:
    main = next((r["part"] for r in _rels(parts, "") if r.get("Type", "").endswith("/officeDocument") and "part" in r), "xl/workbook.xml")
    wb_rels = {r["Id"]: r for r in _rels(parts, main) if "Id" in r}
    by_kind: dict[str, list[str]] = {}
    for r in wb_rels.values():
        if "part" in r:
            by_kind.setdefault(r.get("Type", "").rsplit("/", 1)[-1], []).append(r["part"])
    sheets: dict[str, str] = {}
    for m in re.finditer(rb"<(?:\w+:)?sheet\b([^>]*)>", parts.get(main, b"")):
        a = _attrs(m.group(1))
        rel = wb_rels.get(a.get("id", ""))
        if rel and "part" in rel and "name" in a:
            name = a["name"].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            sheets[name] = rel["part"]
    return PackageMap(workbook=main, sheets=sheets, by_kind=by_kind)


def content_types(parts: Mapping[str, bytes]) -> dict[str, str]:
    """part name -> content type (overrides, then defaults by extension)."""
    ct = parts.get("[Content_Types].xml", b"")
    defaults = {a["Extension"].lower(): a["ContentType"] for a in
                (_attrs(m.group(1)) for m in re.finditer(rb"<(?:\w+:)?Default\b([^>]*)>", ct)) if "Extension" in a and "ContentType" in a}
    overrides = {a["PartName"].lstrip("/"): a["ContentType"] for a in
                 (_attrs(m.group(1)) for m in re.finditer(rb"<(?:\w+:)?Override\b([^>]*)>", ct)) if "PartName" in a and "ContentType" in a}
    out = {}
    for p in parts:
        if p == "[Content_Types].xml":
            continue
        out[p] = overrides.get(p) or defaults.get(p.rsplit(".", 1)[-1].lower(), "")
    return out


def _column_hidden(sheet_xml: bytes, column: int) -> bool:
    for m in re.finditer(rb"<(?:\w+:)?col\b([^>]*)>", sheet_xml):
        a = _attrs(m.group(1))
        try:
            lo, hi = int(a.get("min", "0")), int(a.get("max", "0"))
        except ValueError:
            continue
        if lo <= column <= hi and a.get("hidden") in ("1", "true"):
            return True
    return False


def _max_cell(sheet_xml: bytes) -> Cell:
    """The largest row and column any cell reference or the dimension names."""
    top_row = top_col = 0
    for m in re.finditer(rb'<(?:\w+:)?(?:c|dimension)\b[^>]*?\b(?:r|ref)="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', sheet_xml):
        for letters, digits in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
            if letters:
                top_col = max(top_col, openpyxl.utils.column_index_from_string(letters.decode()))
                top_row = max(top_row, int(digits))
    return top_row, top_col


# --------------------------------------------------------------------------------------------
# One run


@dataclass
class Outcome:
    name: str
    kind: str  # IN_PLACE, COPY, REFUSED or FAILED
    stage: str = ""  # the call that refused or failed
    message: str = ""
    lost: list[str] = field(default_factory=list)
    save_seconds: float | None = None
    problems: list[str] = field(default_factory=list)  # where the standard was not met
    notes: list[str] = field(default_factory=list)  # facts worth knowing, not failures
    rows: list[int] = field(default_factory=list)  # the rows given a result
    result: Path | None = None  # the file save() wrote (the original, or the copy)

    @property
    def meets_standard(self) -> bool:
        return self.kind != FAILED and not self.problems

    def summary(self) -> str:
        text = self.kind
        if self.stage and self.kind in (REFUSED, FAILED):
            text += f" in {self.stage}"
        if self.lost:
            text += f" (lost: {'; '.join(self.lost)})"
        return text


def _set_results(table: XlsxTable, rows: Sequence[int]) -> list[Any]:
    """set_columns with RowRef keys; falls back to plain row numbers for a table that still
    takes ints.  Returns the refs the table reported as not placed."""
    row_ref = getattr(_base, "RowRef", None)
    set_columns: Any = table.set_columns  # its key type is changing from int to RowRef
    if row_ref is not None:
        try:
            return list(set_columns({RESULT_HEADER: {row_ref(n): result_text(n) for n in rows}}) or [])
        except (TypeError, ValueError):
            pass  # this table still takes row numbers
    return list(set_columns({RESULT_HEADER: {n: result_text(n) for n in rows}}) or [])


def _unplaced_rows(unplaced: Iterable[Any]) -> set[int]:
    rows = set()
    for u in unplaced:
        ref = getattr(u, "ref", u)
        rows.add(getattr(ref, "number", ref))
    return rows


def run_case(source: Path, workdir: Path, header_row: int = 1) -> Outcome:
    """Copy ``source`` into ``workdir``, run the write-back on it and check the standard."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / source.name
    shutil.copyfile(source, path)
    out = Outcome(name=source.name, kind=FAILED)
    before = snapshot(path)
    sheet = first_visible_worksheet(path)
    out.notes.extend(f"the original is not readable by {k}: {v}" for k, v in before.errors.items())

    table = XlsxTable(path, sheet, header_row=header_row)
    stage = "check_writable"
    try:
        table.check_writable()
        stage = "read"
        data = table.read()
    except ConnectorError as e:
        out.kind, out.stage, out.message = REFUSED, stage, str(e)
        if source.name not in out.message:
            out.problems.append(f"the refusal does not name the file: {out.message!r}")
        _check_untouched(out, path, before, "after the refusal")
        return out
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - a crash (even a calamine panic) is an outcome to report
        out.stage, out.message = stage, f"{type(e).__name__}: {e}"
        out.problems.append(f"crashed in {stage}: {out.message}")
        return out

    if sheet is None:  # no visible worksheet: the table took the first one
        sheet = next(iter(before.calamine or before.formulas or {}), "")  # formulas: openpyxl, where calamine cannot read it
    _check_read_values(out, before, sheet, data)

    rows = [r.number for r in data.rows[:ROWS_WRITTEN]] or [header_row + 1]
    out.rows = rows
    report = None
    try:
        stage = "set_columns"
        unplaced = _set_results(table, rows)
        stage = "append_rows"
        table.append_rows(APPEND_TAB, list(APPEND_HEADER), [list(r) for r in APPEND_ROWS])
        stage = "save"
        started = time.perf_counter()
        try:
            report = table.save()
        finally:
            out.save_seconds = time.perf_counter() - started
    except ConnectorError as e:
        out.stage, out.message = stage, str(e)
        out.problems.append(f"refused in {stage}, after the contacts were sent: {e}")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001
        out.stage, out.message = stage, f"{type(e).__name__}: {e}"
        out.problems.append(f"crashed in {stage}, after the contacts were sent: {out.message}")
    if report is None:
        _check_untouched(out, path, before, "after the failed save")
        return out

    out.lost = list(report.lost)
    out.message = report.message or ""
    result = out.result = Path(report.path)
    if report.is_copy:
        out.kind = COPY
        _check_untouched(out, path, before, "when the results went to a copy")
        if not out.lost:
            out.problems.append("the results went to a copy but the report names no loss")
        if result.name not in out.message:
            out.problems.append(f"the report's message does not name the copy {result.name}")
    else:
        out.kind = IN_PLACE
        if result.resolve() != path.resolve():
            out.problems.append(f"the report says {result}, not the original file")
    out.problems += compare(before, snapshot(result), sheet, header_row, rows, _unplaced_rows(unplaced),
                            in_place=not report.is_copy, lost=out.lost)
    return out


def _check_untouched(out: Outcome, path: Path, before: Snapshot, when: str) -> None:
    try:
        same = _parts(path) == before.parts
    except OSError:
        same = False
    if not same:
        out.problems.append(f"the original file was changed {when}")


def _check_read_values(out: Outcome, before: Snapshot, sheet: str, data: Any) -> None:
    """An Excel error value or a formula without a cached value is not read as empty."""
    if before.cached is None or before.formulas is None or sheet not in before.cached:
        return
    cached, formulas = before.cached[sheet], before.formulas.get(sheet, {})
    width = len(data.header)
    by_row = {r.number: r.values for r in data.rows}
    blank = []
    for (r, c), v in sorted(formulas.items()):
        if r <= data.header_row or c > width or r not in by_row:
            continue
        cv = cached.get((r, c))
        is_error = isinstance(cv, str) and cv in _EXCEL_ERRORS
        is_formula = (isinstance(v, str) and v.startswith("=")) or (isinstance(v, tuple) and v[0] in ("ArrayFormula", "DataTableFormula"))
        no_cache = is_formula and cv is None
        if not (is_error or no_cache):
            continue
        got = by_row[r][c - 1] if c - 1 < len(by_row[r]) else None
        if got is None or got == "":
            what = f"the error {cv}" if is_error else "a formula without a cached value"
            blank.append(f"{openpyxl.utils.get_column_letter(c)}{r} ({what})")
    if blank:
        shown = ", ".join(blank[:5]) + (f" and {len(blank) - 5} more" if len(blank) > 5 else "")
        out.problems.append(f"read() gives empty cells for {shown}")


_EXCEL_ERRORS = {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!", "#PYTHON!"}


def compare(before: Snapshot, after: Snapshot, sheet: str, header_row: int, rows: Sequence[int],
            unplaced: set[int], in_place: bool, lost: Sequence[str] = ()) -> list[str]:
    """Where ``after`` (what save() wrote) falls short of the standard, given ``before``:
    the results in column 'Sync result' of ``sheet`` on ``rows`` (but ``unplaced``), the
    appended tab, nothing else changed (``in_place``) or every loss named in ``lost`` (a copy)."""
    problems: list[str] = []
    # Readable by both libraries, if the original was.
    for reader in ("python-calamine", "openpyxl", "openpyxl (cached values)"):
        if reader in after.errors and reader not in before.errors:
            problems.append(f"{reader} cannot read the result: {after.errors[reader]}")

    pmap_before, pmap_after = package_map(before.parts), package_map(after.parts)
    target_part = pmap_before.sheets.get(sheet)
    after_part = pmap_after.sheets.get(sheet)
    sheet_xml = after.parts.get(after_part or "", b"")

    # Where the results column is, and that the results are there.
    column = None
    # (where calamine cannot read the workbook - a sheet with a number it cannot parse - the
    # results column is looked for with openpyxl)
    cells = after.calamine if after.calamine is not None else after.formulas or {}
    grid = cells.get(sheet)
    if grid is not None:
        column = next((c for (r, c), v in grid.items() if r == header_row and isinstance(v, str)
                       and v.strip().casefold() == RESULT_HEADER.casefold()), None)
        if column is None:
            problems.append(f"no '{RESULT_HEADER}' header in row {header_row} of sheet '{sheet}'")
        else:
            missing = [n for n in rows if n not in unplaced and grid.get((n, column)) != result_text(n)]
            if missing:
                problems.append(f"results missing on rows {missing} of sheet '{sheet}' and not reported as unplaced")
            if _column_hidden(sheet_xml, column):
                problems.append(f"the results column {openpyxl.utils.get_column_letter(column)} is hidden")
        tab = cells.get(APPEND_TAB)
        if tab is None:
            problems.append(f"no '{APPEND_TAB}' tab with the appended rows")
        else:
            texts = {v for v in tab.values() if isinstance(v, str)}
            if not all(r[0] in texts for r in APPEND_ROWS):
                problems.append(f"the appended rows are not in the '{APPEND_TAB}' tab")
    top_row, top_col = _max_cell(sheet_xml)
    if top_col > MAX_COLUMN or top_row > MAX_ROW:
        problems.append(f"sheet '{sheet}' has cells beyond Excel's limits (column {top_col}, row {top_row}); "
                            "Excel cannot open them and LibreOffice drops them")

    # Every value of every sheet unchanged, but the written cells - which held nothing, unless
    # the column was already the results column (issue 22: data without a header is kept).
    written = {(header_row, column)} | {(n, column) for n in rows} if column else set()
    for snap in (before.formulas, before.calamine):
        old = (snap or {}).get(sheet, {})
        head = old.get((header_row, column))
        if column and not (isinstance(head, str) and head.strip().casefold() == RESULT_HEADER.casefold()):
            held = sorted((r, c) for r, c in written if old.get((r, c)) not in (None, ""))
            if held:
                r, c = held[0]
                problems.append(f"the results column {openpyxl.utils.get_column_letter(c)} was placed over "
                                f"{len(held)} cells holding data, e.g. {openpyxl.utils.get_column_letter(c)}{r}: "
                                f"{old[(r, c)]!r}")
                break
    changed_sheets: dict[str, list[str]] = {}
    for label, b, a in (("value", before.calamine, after.calamine), ("formula or value", before.formulas, after.formulas),
                        ("cached value", before.cached, after.cached)):
        if b is None or a is None:
            continue
        for name, cells in b.items():
            new = a.get(name)
            if new is None:
                changed_sheets.setdefault(name, []).append("the sheet is gone")
                continue
            skip = written if name == sheet else set()
            diffs = [(k, cells.get(k), new.get(k)) for k in sorted(set(cells) | set(new))
                     if k not in skip and cells.get(k) != new.get(k)]
            if diffs:
                (r, c), old, now = diffs[0]
                changed_sheets.setdefault(name, []).append(
                    f"{len(diffs)} {label}s changed, e.g. {openpyxl.utils.get_column_letter(c)}{r}: {old!r} -> {now!r}")
    lost_text = " ".join(lost).casefold()
    for name, what in changed_sheets.items():
        if in_place or name.casefold() not in lost_text:
            problems.append(f"sheet '{name}': {'; '.join(what)}")

    problems += _writer_quirks(before, after)
    problems += _font_changes(before, after)

    # Parts.
    if in_place:
        may_change = {pmap_before.workbook, _rels_of(pmap_before.workbook), "[Content_Types].xml", "docProps/app.xml", "docProps/core.xml"}
        may_change |= set(pmap_before.by_kind.get("styles", [])) | set(pmap_before.by_kind.get("sharedStrings", []))
        # the calculation chain lists the formula cells: a result written over one takes it out
        may_change |= set(pmap_before.by_kind.get("calcChain", []))
        if target_part:
            may_change |= {target_part, _rels_of(target_part)}
        changed = [p for p, data in before.parts.items() if p not in may_change and after.parts.get(p) != data]
        if changed:
            gone = [p for p in changed if p not in after.parts]
            differ = [p for p in changed if p in after.parts]
            if gone:
                problems.append(f"{len(gone)} parts removed: {', '.join(gone[:6])}{' ...' if len(gone) > 6 else ''}")
            if differ:
                problems.append(f"{len(differ)} parts changed that the write did not need to change: "
                                    f"{', '.join(differ[:6])}{' ...' if len(differ) > 6 else ''}")
    else:
        kinds_before, kinds_after = _kinds(before.parts), _kinds(after.parts)
        dropped = sorted(k for k, n in kinds_before.items() if kinds_after.get(k, 0) < n)
        unnamed = [k for k in dropped if not any(w in lost_text for w in _words_for(k))]
        if unnamed:
            problems.append(f"the copy dropped parts the report does not name: {', '.join(unnamed)}")
    return problems


def _cell_fonts(parts: Mapping[str, bytes]) -> list[bytes]:
    """The font each cell format shows, as Excel resolves it: a fontId past the font list
    shows the first (default) font."""
    styles = parts.get(package_map(parts).by_kind.get("styles", ["xl/styles.xml"])[0], b"")
    fonts_m = re.search(rb"<(?:\w+:)?fonts\b[^>]*>(.*?)</(?:\w+:)?fonts>", styles, re.DOTALL)
    xfs_m = re.search(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", styles, re.DOTALL)
    if not fonts_m or not xfs_m:
        return []
    fonts = re.findall(rb"<(?:\w+:)?font\b[^>]*/>|<(?:\w+:)?font\b[^>]*>.*?</(?:\w+:)?font>", fonts_m.group(1), re.DOTALL)
    out = []
    for xf in re.findall(rb"<(?:\w+:)?xf\b[^>]*>", xfs_m.group(1)):
        m = re.search(rb'fontId="(\d+)"', xf)
        i = int(m.group(1)) if m else 0
        out.append(_font_key(fonts[i] if i < len(fonts) else (fonts[0] if fonts else b"")))
    return out


def _font_key(font: bytes) -> bytes:
    """A font's settings, however a writer spells them (``<b/>`` or ``<b val="1" />``, any order)."""
    items = []
    for tag, attrs in re.findall(rb"<(?:\w+:)?(\w+)\b([^>]*?)/?>", font):
        if tag == b"font":
            continue
        raw = dict(re.findall(rb'(\w+)="([^"]*)"', attrs))
        if tag in (b"b", b"i", b"strike", b"outline", b"shadow"):
            values = {b"val": b"1" if raw.get(b"val", b"1") in (b"1", b"true") else b"0"}
        elif tag == b"u":
            values = {b"val": raw.get(b"val", b"single")}
            if values[b"val"] == b"none":
                continue  # no underline, like no <u> at all
        else:
            values = {k: _setting(k, v) for k, v in raw.items()}
        items.append(tag + b"=" + b",".join(k + b":" + v for k, v in sorted(values.items())))
    return b";".join(sorted(items))


def _setting(name: bytes, value: bytes) -> bytes:
    """A font setting as its meaning: 11.0 and 11 alike, a colour without its alpha."""
    if name == b"rgb":
        return value[-6:].upper()
    try:
        return repr(round(float(value), 6)).encode()
    except ValueError:
        return value


def _font_changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Existing cell formats must show the same font after a save (issue 22: a file pointing
    past its own font list turned every cell bold when a font was appended)."""
    old, new = _cell_fonts(before.parts), _cell_fonts(after.parts)
    changed = [i for i in range(min(len(old), len(new))) if old[i] != new[i]]
    if changed:
        return [f"{len(changed)} existing cell formats show another font, e.g. format {changed[0]}: "
                f"{old[changed[0]]!r} -> {new[changed[0]]!r}"]
    return []


def _writer_quirks(before: Snapshot, after: Snapshot) -> list[str]:
    """What a writer must not leave in the parts it wrote (issue 10 item 6): overlapping
    ``<col>`` ranges, empty inline-string cells, and relationships to parts that are not there
    (unless the original already had that same dangling relationship)."""
    problems = []
    types = content_types(after.parts)
    for part, data in after.parts.items():
        if before.parts.get(part) == data or not types.get(part, "").endswith("worksheet+xml"):
            continue
        spans = sorted((int(a["min"]), int(a["max"])) for a in
                       (_attrs(m.group(1)) for m in re.finditer(rb"<(?:\w+:)?col\b([^>]*)>", data))
                       if a.get("min", "").isdigit() and a.get("max", "").isdigit())
        if any(lo <= prev_hi for (_plo, prev_hi), (lo, _hi) in itertools.pairwise(spans)):
            problems.append(f"{part} has overlapping <col> ranges {spans}")
        if re.search(rb'<(?:\w+:)?c\b[^>]*t="inlineStr"[^>]*(?:/>|>\s*</(?:\w+:)?c>)', data):
            problems.append(f"{part} has empty inline-string cells, which Excel may 'repair'")

    def dangling(parts: Mapping[str, bytes]) -> set[tuple[str, str]]:
        out = set()
        for rels in parts:
            if rels.endswith(".rels") and "/_rels/" in "/" + rels:
                folder, name = posixpath.split(rels)
                source = posixpath.join(posixpath.dirname(folder), name[: -len(".rels")])
                for r in _rels(parts, source):
                    if "part" in r and r["part"] not in parts:
                        out.add((source, r["part"]))
        return out

    for source, target in sorted(dangling(after.parts) - dangling(before.parts)):
        problems.append(f"{source} now points at a part that is not in the file: {target}")
    return problems


def _rels_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _kinds(parts: Mapping[str, bytes]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p, ct in content_types(parts).items():
        if ct.endswith("relationships+xml") or "calcChain" in ct or "sharedStrings" in ct:
            continue  # relationships follow their parts; Excel rebuilds the calculation chain; strings are compared as values
        counts[ct or posixpath.splitext(p)[1]] = counts.get(ct or posixpath.splitext(p)[1], 0) + 1
    return counts


_KIND_WORDS = (
    ("chartstyle", ("chart style",)), ("chartcolorstyle", ("chart colo",)), ("drawingml.chart", ("chart",)),
    ("drawing+xml", ("picture", "drawing", "shape", "image", "chart")), ("image/", ("picture", "image")),
    ("vmlDrawing", ("comment", "control", "shape", "drawing")), ("comments", ("comment",)),
    ("threadedcomments", ("threaded", "comment")), ("person", ("comment", "person")), ("table+xml", ("table",)),
    ("pivot", ("pivot",)), ("slicer", ("slicer",)), ("macrosheet", ("macro sheet",)), ("externalLink", ("link",)), ("vbaProject", ("macro",)),
    ("printerSettings", ("print",)), ("custom-properties", ("propert",)), ("core-properties", ("propert",)),
    ("extended-properties", ("propert",)), ("theme", ("theme",)), ("styles", ("style", "format")),
    ("sharedStrings", ("text", "string")), ("thumbnail", ("thumbnail", "preview")), ("customXml", ("custom xml", "xml")),
    ("oleObject", ("embedded object", "ole")), ("msword", ("word",)), ("wordprocessingml", ("word",)),
    ("presentationml", ("powerpoint",)), ("controlproperties", ("control",)),
)


def _words_for(kind: str) -> tuple[str, ...]:
    for key, words in _KIND_WORDS:
        if key.casefold() in kind.casefold():
            return words
    # a kind with no words of its own is named as the workbook's internal data (never by part name)
    return (kind.rsplit("/", 1)[-1].split("+")[0].casefold(), "internal data")


# --------------------------------------------------------------------------------------------
# The baseline table


def baseline(workdir: Path, files: Sequence[CorpusFile] | None = None) -> list[tuple[CorpusFile, Outcome]]:
    files = list(files or load_manifest())
    return [(f, run_case(f.file, workdir / f"{i:02d}", f.header_row)) for i, f in enumerate(files)]


def markdown(results: Sequence[tuple[CorpusFile, Outcome]]) -> str:
    lines = ["| file | made by | outcome | save s | where the standard is not met |", "| --- | --- | --- | --- | --- |"]
    for f, o in results:
        secs = f"{o.save_seconds:.2f}" if o.save_seconds is not None else ""
        detail = "; ".join(o.problems) or (o.message if o.kind == REFUSED else "")
        detail = detail.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {f.name} | {f.program} | {o.summary().replace('|', '/')} | {secs} | {detail[:400]} |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        results = baseline(Path(tmp), [f for f in load_manifest() if not argv or f.name in argv])
    print(markdown(results))
    counts: dict[str, int] = {}
    for _f, o in results:
        key = o.kind if o.meets_standard else f"{FAILED} ({o.kind})"
        counts[key] = counts.get(key, 0) + 1
    print()
    for k, n in sorted(counts.items()):
        print(f"- {k}: {n}")
    worst = max(results, key=lambda fo: fo[1].save_seconds or 0.0)
    print(f"- worst save: {worst[1].save_seconds or 0:.2f} s ({worst[0].name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
