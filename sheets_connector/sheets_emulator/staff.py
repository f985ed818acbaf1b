"""What staff do in the Sheets UI, as the API's ``spreadsheets.batchUpdate`` requests, and
developer metadata with the data filters that find it.

Requests: createDeveloperMetadata, updateDeveloperMetadata, deleteDeveloperMetadata,
moveDimension, updateDimensionProperties (hide / unhide rows and columns), setBasicFilter,
clearBasicFilter, addFilterView, deleteFilterView, mergeCells, unmergeCells, updateCells
(values and notes).  Row and column metadata, hidden flags and merges move with their rows and
columns (``book.Sheet.remap``).

``filter_ranges`` resolves a DataFilter (``developerMetadataLookup``, ``a1Range`` or
``gridRange``) to grid ranges at the moment of the request, which is what makes a write aimed
at "the column tagged X" land there even if a column was inserted just before.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .a1 import A1Error, parse_range
from .book import ApiError, DevMeta, Sheet, Spreadsheet
from .cells import Cell, formatted

GridSpan = tuple[Sheet, int, int, int, int]  # sheet, row0, col0, row1, col1 (ends excluded)
DIMENSIONS = ("ROWS", "COLUMNS")


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid JSON payload received. {what} must be an object.")
    return value


# --------------------------------------------------------------------------------------------
# developer metadata
# --------------------------------------------------------------------------------------------
def _location(book: Spreadsheet, loc: dict[str, Any]) -> tuple[int | None, str | None, int, int]:
    """(sheet id, dimension, start, end) of a DeveloperMetadataLocation."""
    if loc.get("spreadsheet"):
        return None, None, 0, 0
    if "sheetId" in loc:
        return book.sheet_by_id(int(loc["sheetId"])).sheet_id, None, 0, 0
    rng = loc.get("dimensionRange")
    if isinstance(rng, dict):
        sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
        dim = rng.get("dimension")
        if dim not in DIMENSIONS:
            raise ApiError(400, "dimensionRange.dimension must be ROWS or COLUMNS")
        size = sheet.row_count if dim == "ROWS" else sheet.col_count
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", size))
        if not 0 <= start < end <= size:
            raise ApiError(400, f"Invalid dimensionRange: [{start}, {end}) is outside the grid (size {size}).")
        return sheet.sheet_id, dim, start, end
    raise ApiError(400, "The metadata location must name the spreadsheet, a sheetId or a dimensionRange.")


def _create_metadata(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    dm = _obj(args.get("developerMetadata"), "developerMetadata")
    key = dm.get("metadataKey")
    if not key:
        raise ApiError(400, "developerMetadata.metadataKey is required.")
    visibility = dm.get("visibility")
    if visibility not in ("DOCUMENT", "PROJECT"):
        raise ApiError(400, "developerMetadata.visibility must be DOCUMENT or PROJECT.")
    sheet_id, dim, start, end = _location(book, _obj(dm.get("location"), "developerMetadata.location"))
    wanted_id = dm.get("metadataId")
    if wanted_id is not None and any(m.metadata_id == int(wanted_id) for m in book.all_metadata()):
        raise ApiError(400, f"Developer metadata with id {wanted_id} already exists.")
    meta = DevMeta(int(wanted_id) if wanted_id is not None else book.new_metadata_id(), str(key),
                   None if dm.get("metadataValue") is None else str(dm["metadataValue"]), visibility, sheet_id, dim,
                   start, end)
    (book.meta if sheet_id is None else book.sheet_by_id(sheet_id).meta).append(meta)
    return {"createDeveloperMetadata": {"developerMetadata": meta.to_json()}}


def lookup_matches(book: Spreadsheet, lookup: dict[str, Any]) -> list[DevMeta]:
    """The metadata a DeveloperMetadataLookup selects (every given field must match)."""
    out = []
    loc = lookup.get("metadataLocation")
    where = _location(book, loc) if isinstance(loc, dict) else None
    intersecting = lookup.get("locationMatchingStrategy") == "INTERSECTING_LOCATION"
    for m in book.all_metadata():
        if "metadataId" in lookup and m.metadata_id != int(lookup["metadataId"]):
            continue
        if "metadataKey" in lookup and m.key != lookup["metadataKey"]:
            continue
        if "metadataValue" in lookup and m.value != lookup["metadataValue"]:
            continue
        if "visibility" in lookup and m.visibility != lookup["visibility"]:
            continue
        kind = m.location()["locationType"]
        if "locationType" in lookup and kind != lookup["locationType"]:
            continue
        if where is not None and not _at(m, where, intersecting):
            continue
        out.append(m)
    return out


def _at(m: DevMeta, where: tuple[int | None, str | None, int, int], intersecting: bool) -> bool:
    sheet_id, dim, start, end = where
    if sheet_id is None:
        return m.sheet_id is None or intersecting
    if m.sheet_id != sheet_id:
        return False
    if dim is None:
        return m.dimension is None or intersecting
    if m.dimension != dim:
        return False
    return (m.start < end and start < m.end) if intersecting else (m.start, m.end) == (start, end)


def _filters(args: dict[str, Any]) -> list[dict[str, Any]]:
    found = args.get("dataFilters", [args.get("dataFilter")] if "dataFilter" in args else [])
    return [_obj(f, "dataFilter") for f in found]


def _update_metadata(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    new = _obj(args.get("developerMetadata"), "developerMetadata")
    fields = {f.strip() for f in str(args.get("fields", "")).split(",") if f.strip()}
    if not fields:
        raise ApiError(400, "At least one field must be updated, but 'fields' is empty.")
    changed = []
    for f in _filters(args):
        for m in lookup_matches(book, _obj(f.get("developerMetadataLookup"), "developerMetadataLookup")):
            if "metadataKey" in fields or "*" in fields:
                m.key = str(new.get("metadataKey", m.key))
            if "metadataValue" in fields or "*" in fields:
                m.value = new.get("metadataValue")
            if "location" in fields or "*" in fields:
                sheet_id, dim, start, end = _location(book, _obj(new.get("location"), "location"))
                _detach(book, m)
                m.sheet_id, m.dimension, m.start, m.end = sheet_id, dim, start, end
                (book.meta if sheet_id is None else book.sheet_by_id(sheet_id).meta).append(m)
            changed.append(m.to_json())
    return {"updateDeveloperMetadata": {"developerMetadata": changed}}


def _detach(book: Spreadsheet, m: DevMeta) -> None:
    for owner in [book.meta] + [s.meta for s in book.sheets]:
        if m in owner:
            owner.remove(m)


def _delete_metadata(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    gone = []
    for f in _filters(args):
        for m in lookup_matches(book, _obj(f.get("developerMetadataLookup"), "developerMetadataLookup")):
            _detach(book, m)
            gone.append(m.to_json())
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": gone}}


def filter_ranges(book: Spreadsheet, data_filter: dict[str, Any]) -> list[GridSpan]:
    """The grid ranges a DataFilter selects right now (row/column metadata: whole rows/columns)."""
    if "a1Range" in data_filter:
        try:
            rng = parse_range(str(data_filter["a1Range"]), [s.title for s in book.sheets])
        except A1Error:
            raise ApiError(400, f"Unable to parse range: {data_filter['a1Range']}") from None
        return [book.resolve(rng)]
    if "gridRange" in data_filter:
        g = _obj(data_filter["gridRange"], "gridRange")
        sheet = book.sheet_by_id(int(g.get("sheetId", 0)))
        return [(sheet, int(g.get("startRowIndex", 0)), int(g.get("startColumnIndex", 0)),
                 int(g.get("endRowIndex", sheet.row_count)), int(g.get("endColumnIndex", sheet.col_count)))]
    lookup = _obj(data_filter.get("developerMetadataLookup"), "dataFilter.developerMetadataLookup")
    spans: list[GridSpan] = []
    for m in lookup_matches(book, lookup):
        if m.sheet_id is None:
            continue  # metadata on the spreadsheet covers no cells
        sheet = book.sheet_by_id(m.sheet_id)
        if m.dimension == "ROWS":
            spans.append((sheet, m.start, 0, m.end, sheet.col_count))
        elif m.dimension == "COLUMNS":
            spans.append((sheet, 0, m.start, sheet.row_count, m.end))
        else:
            spans.append((sheet, 0, 0, sheet.row_count, sheet.col_count))
    return spans


def search_metadata(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """developerMetadata.search: every metadata matched by a lookup (a1Range/gridRange filters
    match the metadata on rows and columns that intersect them)."""
    found: dict[int, dict[str, Any]] = {}
    for f in _filters(body):
        if "developerMetadataLookup" in f:
            matches = lookup_matches(book, _obj(f["developerMetadataLookup"], "developerMetadataLookup"))
        else:
            matches = [m for span in filter_ranges(book, f) for m in span[0].meta if _in_span(m, span)]
        for m in matches:
            found.setdefault(m.metadata_id, {"developerMetadata": m.to_json(), "dataFilters": []})["dataFilters"].append(f)
    return {"matchedDeveloperMetadata": list(found.values())} if found else {}


def _in_span(m: DevMeta, span: GridSpan) -> bool:
    _, r0, c0, r1, c1 = span
    if m.dimension == "ROWS":
        return m.start < r1 and r0 < m.end
    if m.dimension == "COLUMNS":
        return m.start < c1 and c0 < m.end
    return m.dimension is None


# --------------------------------------------------------------------------------------------
# rows and columns: move, hide
# --------------------------------------------------------------------------------------------
def _dimension_range(book: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
    dim = rng.get("dimension")
    if dim not in DIMENSIONS:
        raise ApiError(400, "dimension must be ROWS or COLUMNS")
    size = sheet.row_count if dim == "ROWS" else sheet.col_count
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", size))
    if not 0 <= start < end <= size:
        raise ApiError(400, f"Invalid range [{start}, {end}) for a {dim.lower()} count of {size}.")
    return sheet, str(dim), start, end


def _move_dimension(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, _obj(args.get("source"), "source"))
    dest = int(args.get("destinationIndex", 0))
    size = sheet.row_count if dim == "ROWS" else sheet.col_count
    if not 0 <= dest <= size:
        raise ApiError(400, f"destinationIndex {dest} is outside the grid.")
    if not start <= dest <= end:
        sheet.move(dim, start, end, dest)
    return {}


def _update_dimension_properties(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet, dim, start, end = _dimension_range(book, _obj(args.get("range"), "range"))
    props = _obj(args.get("properties", {}), "properties")
    fields = {f.strip() for f in str(args.get("fields", "")).split(",") if f.strip()}
    if not fields:
        raise ApiError(400, "At least one field must be updated, but 'fields' is empty.")
    if "hiddenByUser" in fields or "*" in fields:
        hidden = sheet.hidden_rows if dim == "ROWS" else sheet.hidden_cols
        span = set(range(start, end))
        if props.get("hiddenByUser"):
            hidden |= span
        else:
            hidden -= span
    return {}


def dimensions_json(sheet: Sheet, dim: str, start: int, end: int, hidden_by_filter: set[int] | frozenset[int] = frozenset()
                    ) -> list[dict[str, Any]]:
    """DimensionProperties (rowMetadata / columnMetadata of grid data) of every index in
    [start, end), the metadata looked up once (a column range of a 100,000-row tab has 100,000 rows)."""
    metas: dict[int, list[dict[str, Any]]] = {}
    for m in sheet.meta:
        if m.dimension == dim:
            for i in range(max(m.start, start), min(m.end, end)):
                metas.setdefault(i, []).append(m.to_json())
    hidden = sheet.hidden_rows if dim == "ROWS" else sheet.hidden_cols
    size = 21 if dim == "ROWS" else 100
    out = []
    for i in range(start, end):
        d: dict[str, Any] = {"pixelSize": size}
        if i in hidden:
            d["hiddenByUser"] = True
        if i in hidden_by_filter:
            d["hiddenByFilter"] = True
        if i in metas:
            d["developerMetadata"] = metas[i]
        out.append(d)
    return out


# --------------------------------------------------------------------------------------------
# filters, merges, notes
# --------------------------------------------------------------------------------------------
def _grid_range(book: Spreadsheet, g: dict[str, Any]) -> tuple[Sheet, dict[str, Any]]:
    sheet = book.sheet_by_id(int(g.get("sheetId", 0)))
    return sheet, dict(g)


def _set_basic_filter(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    spec = _obj(args.get("filter"), "filter")
    sheet, rng = _grid_range(book, _obj(spec.get("range"), "filter.range"))
    sheet.basic_filter = dict(spec) | {"range": rng}
    return {}


def _clear_basic_filter(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    book.sheet_by_id(int(args.get("sheetId", 0))).basic_filter = None
    return {}


def _add_filter_view(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    spec = dict(_obj(args.get("filter"), "filter"))
    sheet, rng = _grid_range(book, _obj(spec.get("range"), "filter.range"))
    used = {int(v["filterViewId"]) for s in book.sheets for v in s.filter_views}
    spec["filterViewId"] = int(spec.get("filterViewId") or 1 + max(used, default=0))
    spec["range"] = rng
    sheet.filter_views.append(spec)
    return {"addFilterView": {"filter": spec}}


def _delete_filter_view(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    wanted = int(args.get("filterId", -1))
    for s in book.sheets:
        if any(int(v["filterViewId"]) == wanted for v in s.filter_views):
            s.filter_views = [v for v in s.filter_views if int(v["filterViewId"]) != wanted]
            return {}
    raise ApiError(400, f"No filter view with id: {wanted}")


def rows_hidden_by_filter(book: Spreadsheet, sheet: Sheet) -> set[int]:
    """Rows the basic filter hides: a value listed in a column's ``hiddenValues``."""
    spec = sheet.basic_filter
    if not spec:
        return set()
    rng = spec["range"]
    top = int(rng.get("startRowIndex", 0))
    end = min(int(rng.get("endRowIndex", sheet.row_count)), len(sheet.rows))
    left = int(rng.get("startColumnIndex", 0))
    rules: dict[int, set[str]] = {}
    for fs in spec.get("filterSpecs", []) or []:
        rules[int(fs.get("columnIndex", 0))] = set((fs.get("filterCriteria") or {}).get("hiddenValues", []) or [])
    for col, crit in (spec.get("criteria") or {}).items():  # the older form: {"<offset>": {...}}
        rules[left + int(col)] = set((crit or {}).get("hiddenValues", []) or [])
    hidden = set()
    for r in range(top + 1, end):  # the range's first row is its header
        for col, values in rules.items():
            cell = sheet.cell(r, col)
            shown = formatted(cell, book.locale) if cell is not None else ""
            if shown in values:
                hidden.add(r)
    return hidden


def _merge_cells(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    g = _obj(args.get("range"), "range")
    sheet = book.sheet_by_id(int(g.get("sheetId", 0)))
    r0, r1 = int(g.get("startRowIndex", 0)), int(g.get("endRowIndex", sheet.row_count))
    c0, c1 = int(g.get("startColumnIndex", 0)), int(g.get("endColumnIndex", sheet.col_count))
    kind = args.get("mergeType", "MERGE_ALL")
    pieces = ([(r, r + 1, c0, c1) for r in range(r0, r1)] if kind == "MERGE_ROWS"
              else [(r0, r1, c, c + 1) for c in range(c0, c1)] if kind == "MERGE_COLUMNS" else [(r0, r1, c0, c1)])
    for a0, a1, b0, b1 in pieces:
        if any(a0 < m1 and m0 < a1 and b0 < n1 and n0 < b1 for m0, m1, n0, n1 in sheet.merges):
            raise ApiError(400, "You can't merge cells that overlap an existing merge. Unmerge them first.")
        for r in range(a0, a1):  # as in the UI: only the top-left value stays
            for c in range(b0, b1):
                if (r, c) != (a0, b0):
                    sheet.put(r, c, None)
        sheet.merges.append((a0, a1, b0, b1))
    return {}


def _unmerge_cells(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    g = _obj(args.get("range"), "range")
    sheet = book.sheet_by_id(int(g.get("sheetId", 0)))
    r0, r1 = int(g.get("startRowIndex", 0)), int(g.get("endRowIndex", sheet.row_count))
    c0, c1 = int(g.get("startColumnIndex", 0)), int(g.get("endColumnIndex", sheet.col_count))
    sheet.merges = [m for m in sheet.merges if not (r0 <= m[0] and m[1] <= r1 and c0 <= m[2] and m[3] <= c1)]
    return {}


def _update_cells(book: Spreadsheet, args: dict[str, Any], account: str) -> dict[str, Any]:
    """Values (userEnteredValue, as RAW) and notes of cells, from ``start`` or ``range``."""
    fields = {f.strip() for f in str(args.get("fields", "")).split(",") if f.strip()}
    if not fields:
        raise ApiError(400, "At least one field must be updated, but 'fields' is empty.")
    if "start" in args:
        s = _obj(args["start"], "start")
        sheet = book.sheet_by_id(int(s.get("sheetId", 0)))
        top, left = int(s.get("rowIndex", 0)), int(s.get("columnIndex", 0))
    else:
        g = _obj(args.get("range"), "range")
        sheet = book.sheet_by_id(int(g.get("sheetId", 0)))
        top, left = int(g.get("startRowIndex", 0)), int(g.get("startColumnIndex", 0))
    changes: list[tuple[int, int, Callable[[Cell | None], Cell | None]]] = []
    for i, row in enumerate(args.get("rows", []) or []):
        for j, data in enumerate((row or {}).get("values", []) or []):
            changes.append((top + i, left + j, _cell_change(data or {}, fields)))
    if any(r >= sheet.row_count or c >= sheet.col_count for r, c, _ in changes):
        raise ApiError(400, "Range exceeds grid limits.")
    book.check_editable(account, sheet, ((r, c) for r, c, _ in changes))
    for r, c, change in changes:
        sheet.put(r, c, change(sheet.cell(r, c)))
    return {}


def _cell_change(data: dict[str, Any], fields: set[str]) -> Callable[[Cell | None], Cell | None]:
    def change(old: Cell | None) -> Cell | None:
        cell = Cell(old.value, old.formula, old.fmt, old.note) if old is not None else Cell()
        if "note" in fields or "*" in fields:
            cell.note = data.get("note") or None
        if "userEnteredValue" in fields or "*" in fields:
            uev = data.get("userEnteredValue") or {}
            value = next((uev[k] for k in ("stringValue", "numberValue", "boolValue") if k in uev), None)
            cell.value = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
            cell.formula = None
        return None if cell.empty and cell.fmt is None and cell.note is None else cell
    return change


REQUESTS: dict[str, Callable[[Spreadsheet, dict[str, Any], str], dict[str, Any]]] = {
    "createDeveloperMetadata": _create_metadata,
    "updateDeveloperMetadata": _update_metadata,
    "deleteDeveloperMetadata": _delete_metadata,
    "moveDimension": _move_dimension,
    "updateDimensionProperties": _update_dimension_properties,
    "setBasicFilter": _set_basic_filter,
    "clearBasicFilter": _clear_basic_filter,
    "addFilterView": _add_filter_view,
    "deleteFilterView": _delete_filter_view,
    "mergeCells": _merge_cells,
    "unmergeCells": _unmerge_cells,
    "updateCells": _update_cells,
}
