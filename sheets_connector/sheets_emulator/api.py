"""The Sheets API v4 methods the emulator answers, with no HTTP in sight.

``route()`` names a request by its method id in Google's discovery document
(``sheets.spreadsheets.values.batchGet``...), so request counts and the shape tests use the
same names as Google's own reference.  ``call()`` runs one method on a spreadsheet for an
account whose access the server has already checked, and returns the JSON answer or raises
``ApiError`` with Google's message.

Supported: spreadsheets.get (properties, protected ranges, merges, filters, developer
metadata, grid data with row/column metadata and notes, a ``fields`` mask),
spreadsheets.batchUpdate (answered by ``structure.py``: addSheet, deleteSheet, updateSheetProperties incl. tab order and frozen rows/columns,
updateSpreadsheetProperties, appendDimension, insertDimension, deleteDimension, sortRange,
addProtectedRange incl. warning-only, and what staff do in the UI - see ``staff.py``),
values.get / batchGet (all value and date render options, ROWS or COLUMNS), values.update /
batchUpdate (RAW, USER_ENTERED; ``null`` leaves a cell as it is), values.append (at an empty
anchor row, else after the block found there; OVERWRITE grows the grid as Google does;
INSERT_ROWS), values.clear / batchClear, values.batchGet/Update/ClearByDataFilter,
developerMetadata.get / search.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from . import staff, structure
from .a1 import A1Error, A1Range, column_letters, format_range, parse_range, quote_title
from .book import ApiError, Sheet, Spreadsheet, exceeds
from .cells import Cell, Locale, cell_data, extended_value, formatted, raw_cell, unformatted, user_entered_cell
from .structure import protected_json

PREFIX = "/v4/spreadsheets"
WRITE_METHODS = frozenset({
    "sheets.spreadsheets.batchUpdate", "sheets.spreadsheets.values.update", "sheets.spreadsheets.values.batchUpdate",
    "sheets.spreadsheets.values.append", "sheets.spreadsheets.values.clear", "sheets.spreadsheets.values.batchClear",
    "sheets.spreadsheets.values.batchUpdateByDataFilter", "sheets.spreadsheets.values.batchClearByDataFilter",
})

Query = Mapping[str, Sequence[str]]


def route(method: str, path: str) -> tuple[str, str, str | None] | None:
    """(method id, spreadsheet key, range) for an API path (still URL-encoded), else None."""
    if not path.startswith(PREFIX + "/"):
        return None
    rest = path[len(PREFIX) + 1:]
    if "/developerMetadata" in rest:
        key, _, tail = rest.partition("/developerMetadata")
        if tail == ":search" and method == "POST":
            return "sheets.spreadsheets.developerMetadata.search", unquote(key), None
        if tail.startswith("/") and tail[1:].isdigit() and method == "GET":
            return "sheets.spreadsheets.developerMetadata.get", unquote(key), tail[1:]
        return None
    if "/values" not in rest:
        if rest.endswith(":batchUpdate") and method == "POST":
            return "sheets.spreadsheets.batchUpdate", unquote(rest[: -len(":batchUpdate")]), None
        if "/" not in rest and ":" not in rest and method == "GET":
            return "sheets.spreadsheets.get", unquote(rest), None
        return None
    key, _, tail = rest.partition("/values")
    key = unquote(key)
    plain = {
        (":batchGet", "GET"): "sheets.spreadsheets.values.batchGet",
        (":batchUpdate", "POST"): "sheets.spreadsheets.values.batchUpdate",
        (":batchClear", "POST"): "sheets.spreadsheets.values.batchClear",
        (":batchGetByDataFilter", "POST"): "sheets.spreadsheets.values.batchGetByDataFilter",
        (":batchUpdateByDataFilter", "POST"): "sheets.spreadsheets.values.batchUpdateByDataFilter",
        (":batchClearByDataFilter", "POST"): "sheets.spreadsheets.values.batchClearByDataFilter",
    }
    if (tail, method) in plain:
        return plain[(tail, method)], key, None
    if not tail.startswith("/") or len(tail) < 2:
        return None
    rng = tail[1:]
    for suffix, verb, name in ((":append", "POST", "append"), (":clear", "POST", "clear")):
        if rng.endswith(suffix) and method == verb:
            return f"sheets.spreadsheets.values.{name}", key, unquote(rng[: -len(suffix)])
    if method == "GET":
        return "sheets.spreadsheets.values.get", key, unquote(rng)
    if method == "PUT":
        return "sheets.spreadsheets.values.update", key, unquote(rng)
    return None


def call(method_id: str, book: Spreadsheet, rng: str | None, query: Query, body: Any, account: str) -> dict[str, Any]:
    handler = _HANDLERS[method_id]
    return handler(book, rng, query, body, account)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _one(query: Query, name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def _flag(query: Query, name: str) -> bool:
    return (_one(query, name) or "false").lower() == "true"


def _enum(value: str | None, name: str, allowed: Sequence[str], default: str) -> str:
    if value is None:
        return default
    if value not in allowed:
        raise ApiError(400, f"Invalid value at '{name}' ({value}): expected one of {', '.join(allowed)}")
    return value


def _parse(book: Spreadsheet, text: str) -> A1Range:
    try:
        rng = parse_range(text, [s.title for s in book.sheets])
    except A1Error:
        raise ApiError(400, f"Unable to parse range: {text}") from None
    book.sheet(rng.sheet)  # 400 for an unknown tab
    return rng


def _object(body: Any, what: str = "request") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"Invalid JSON payload received. The {what} must be an object.")
    return body


# --------------------------------------------------------------------------------------------
# field masks (?fields=sheets(properties(title,sheetId),data.rowData.values.effectiveValue))
# --------------------------------------------------------------------------------------------
FieldTree = dict[str, Any]  # name -> FieldTree, or None for "everything below"


def parse_fields(text: str) -> FieldTree:
    pos = 0

    def name() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] in "_*"):
            pos += 1
        if start == pos:
            raise ApiError(400, f"Invalid field selection {text}")
        return text[start:pos]

    def items() -> FieldTree:
        nonlocal pos
        tree: FieldTree = {}
        while True:
            path = [name()]
            while pos < len(text) and text[pos] in "./":
                pos += 1
                path.append(name())
            sub: FieldTree | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = items()
                if pos >= len(text) or text[pos] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                pos += 1
            _merge(tree, path, sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = items()
    if pos != len(text):
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def _merge(tree: FieldTree, path: list[str], sub: FieldTree | None) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part, {})
        if child is None:
            return
        node[part] = child
        node = child
    last = path[-1]
    if sub is None or node.get(last, {}) is None:
        node[last] = None
    else:
        existing = node.setdefault(last, {})
        for k, v in sub.items():
            _merge(existing, [k], v)


def prune(value: Any, tree: FieldTree | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [prune(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: prune(value[k], sub) for k, sub in tree.items() if k in value}
    return value


def _subtree(tree: FieldTree | None, *path: str) -> tuple[bool, FieldTree | None]:
    """(selected, subtree) of a path in a mask; a None tree selects everything."""
    node = tree
    for part in path:
        if node is None or "*" in node:
            return True, None
        if part not in node:
            return False, None
        node = node[part]
    return True, node


# --------------------------------------------------------------------------------------------
# spreadsheets.get
# --------------------------------------------------------------------------------------------
def _get(book: Spreadsheet, _rng: str | None, query: Query, _body: Any, account: str) -> dict[str, Any]:
    fields_text = _one(query, "fields")
    mask = parse_fields(fields_text) if fields_text else None
    wants_data, _ = _subtree(mask, "sheets", "data")
    grid = wants_data if mask is not None else _flag(query, "includeGridData")
    _, values_mask = _subtree(mask, "sheets", "data", "rowData", "values")
    cell_json = cell_writer(book.locale, values_mask)
    grids: dict[int, list[dict[str, Any]]] = {}  # index in sheets -> its GridData, built already masked

    by_sheet: dict[int, list[A1Range]] = {}
    for text in query.get("ranges", []):
        rng = _parse(book, text)
        by_sheet.setdefault(id(book.sheet(rng.sheet)), []).append(rng)

    sheets: list[dict[str, Any]] = []
    for index, sheet in enumerate(book.sheets):
        if by_sheet and id(sheet) not in by_sheet:
            continue  # with ranges, only the tabs they name are returned
        entry: dict[str, Any] = {"properties": sheet.properties(index)}
        if sheet.protections:
            entry["protectedRanges"] = [protected_json(sheet, p, account) for p in sheet.protections]
        _sheet_extras(sheet, entry)
        if grid:
            ranges = by_sheet.get(id(sheet)) or [A1Range(sheet.title)]
            dims = mask is None or any(_subtree(mask, "sheets", "data", d)[0] for d in ("rowMetadata", "columnMetadata"))
            grids[len(sheets)] = [_grid_data(book, sheet, r, cell_json, dims) for r in ranges]
        sheets.append(entry)
    answer: dict[str, Any] = {
        "spreadsheetId": book.key,
        "properties": {"title": book.title, "locale": book.locale_name, "autoRecalc": "ON_CHANGE",
                       "timeZone": book.time_zone},
        "sheets": sheets,
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit",
    }
    if book.meta:
        answer["developerMetadata"] = [m.to_json() for m in book.meta]
    if mask is None:
        for i, data in grids.items():
            sheets[i]["data"] = data
        return answer
    # the cells were built with the mask already (a million cells pruned one by one take seconds);
    # the rest of the answer is pruned here, the grid data's other parts (row metadata...) apart
    pruned = prune(answer, mask)
    _, data_mask = _subtree(mask, "sheets", "data")
    row_selected, row_mask = _subtree(data_mask, "rowData")
    values_selected, _ = _subtree(row_mask, "values")
    rest_mask = None if data_mask is None else {k: v for k, v in data_mask.items() if k != "rowData"}
    for i, data in grids.items():
        out = []
        for grid_data in data:
            rows = grid_data.pop("rowData", None)
            part = prune(grid_data, rest_mask) if rest_mask is not None else grid_data
            if rows is not None and row_selected:
                part["rowData"] = rows if values_selected else [{} for _ in rows]
            out.append(part)
        pruned["sheets"][i]["data"] = out
    return pruned


def _sheet_extras(sheet: Sheet, entry: dict[str, Any]) -> None:
    """Merges, filters and the tab's own developer metadata, as a Sheet object carries them."""
    def grid(r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
        return {"sheetId": sheet.sheet_id, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0,
                "endColumnIndex": c1}

    if sheet.merges:
        entry["merges"] = [grid(*m) for m in sheet.merges]
    if sheet.basic_filter:
        entry["basicFilter"] = sheet.basic_filter
    if sheet.filter_views:
        entry["filterViews"] = sheet.filter_views
    own = [m.to_json() for m in sheet.meta if m.dimension is None]
    if own:
        entry["developerMetadata"] = own


def _grid_data(book: Spreadsheet, sheet: Sheet, rng: A1Range, cell_json: Callable[[Cell], dict[str, Any]],
               dims: bool = False) -> dict[str, Any]:
    _, r0, c0, r1, c1 = book.resolve(rng)
    rows: list[dict[str, Any]] = []
    last_row = 0
    for r in range(r0, min(r1, len(sheet.rows))):
        source = sheet.rows[r]
        cells = [cell_json(c) if c is not None else {} for c in source[c0:min(c1, len(source))]]
        while cells and not cells[-1]:
            cells.pop()
        rows.append({"values": cells} if cells else {})
        if cells:
            last_row = len(rows)
    data: dict[str, Any] = {}
    if r0:
        data["startRow"] = r0
    if c0:
        data["startColumn"] = c0
    if last_row:
        data["rowData"] = rows[:last_row]
    if dims:  # one DimensionProperties per row and column of the range, as Google sends
        filtered = staff.rows_hidden_by_filter(book, sheet)
        data["rowMetadata"] = staff.dimensions_json(sheet, "ROWS", r0, r1, filtered)
        data["columnMetadata"] = staff.dimensions_json(sheet, "COLUMNS", c0, c1)
    return data


def cell_writer(locale: Locale, mask: FieldTree | None) -> Callable[[Cell], dict[str, Any]]:
    """Cell -> its CellData JSON as ``prune(cell_data(...), mask)`` gives it, built field by
    field so a million-cell answer is not built whole and then pruned."""
    if mask is None or "*" in mask:
        return lambda c: cell_data(c, locale, None)

    def part(name: str) -> tuple[bool, FieldTree | None]:
        if name not in mask:
            return False, None
        sub = mask[name]
        return True, (None if sub is None or "*" in sub else sub)

    uev, uev_sub = part("userEnteredValue")
    ev, ev_sub = part("effectiveValue")
    fv, _ = part("formattedValue")
    note, _ = part("note")
    uef, uef_sub = part("userEnteredFormat")
    ef, ef_sub = part("effectiveFormat")
    formula_only = uev_sub is not None and set(uev_sub) == {"formulaValue"}
    type_only = ef_sub == {"numberFormat": {"type": None}}

    def build(c: Cell) -> dict[str, Any]:
        out: dict[str, Any] = {}
        value, formula = c.value, c.formula
        if value is not None or formula is not None:
            if uev:
                if formula_only:  # the usual mask: which cells hold a formula
                    out["userEnteredValue"] = {"formulaValue": formula} if formula is not None else {}
                else:
                    v: dict[str, Any] = {"formulaValue": formula} if formula is not None else extended_value(value)
                    out["userEnteredValue"] = v if uev_sub is None else prune(v, uev_sub)
            if ev and value is not None:
                v = extended_value(value)
                out["effectiveValue"] = v if ev_sub is None else prune(v, ev_sub)
            if fv:
                out["formattedValue"] = formatted(c, locale)
        if note and c.note:
            out["note"] = c.note
        if c.fmt is not None:
            if uef:
                v = {"numberFormat": c.fmt.to_json()}
                out["userEnteredFormat"] = v if uef_sub is None else prune(v, uef_sub)
            if ef:
                if type_only:  # the usual mask: DATE, TIME... (what a number means)
                    out["effectiveFormat"] = {"numberFormat": {"type": c.fmt.type}}
                else:
                    v = {"numberFormat": c.fmt.to_json()}
                    out["effectiveFormat"] = v if ef_sub is None else prune(v, ef_sub)
        return out

    return build


# --------------------------------------------------------------------------------------------
# values.get / batchGet
# --------------------------------------------------------------------------------------------
def _render_options(query: Query) -> Callable[[Cell, Spreadsheet], Any]:
    value_opt = _enum(_one(query, "valueRenderOption"), "valueRenderOption",
                      ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"), "FORMATTED_VALUE")
    date_opt = _enum(_one(query, "dateTimeRenderOption"), "dateTimeRenderOption",
                     ("SERIAL_NUMBER", "FORMATTED_STRING"), "SERIAL_NUMBER")
    strings = date_opt == "FORMATTED_STRING"
    if value_opt == "FORMATTED_VALUE":
        return lambda c, b: formatted(c, b.locale)
    if value_opt == "FORMULA":
        return lambda c, b: c.formula if c.formula is not None else unformatted(c, b.locale, strings)
    return lambda c, b: unformatted(c, b.locale, strings)


def _value_range(book: Spreadsheet, text: str, query: Query) -> dict[str, Any]:
    rng = _parse(book, text)
    sheet, r0, c0, r1, c1 = book.resolve(rng)
    render = _render_options(query)
    major = _enum(_one(query, "majorDimension"), "majorDimension", ("ROWS", "COLUMNS"), "ROWS")
    values: list[list[Any]] = []
    for r in range(r0, min(r1, len(sheet.rows))):
        row = sheet.rows[r]
        out = [("" if c is None else render(c, book)) for c in row[c0:min(c1, len(row))]]
        while out and out[-1] == "":
            out.pop()
        values.append(out)
    while values and not values[-1]:
        values.pop()
    if major == "COLUMNS" and values:
        width = max(len(v) for v in values)
        values = [[v[i] if i < len(v) else "" for v in values] for i in range(width)]
        for col in values:
            while col and col[-1] == "":
                col.pop()
    answer: dict[str, Any] = {"range": format_range(sheet.title, r0, c0, r1, c1), "majorDimension": major}
    if values:
        answer["values"] = values
    return answer


def _values_get(book: Spreadsheet, rng: str | None, query: Query, _body: Any, _account: str) -> dict[str, Any]:
    return _value_range(book, rng or "", query)


def _values_batch_get(book: Spreadsheet, _rng: str | None, query: Query, _body: Any, _account: str) -> dict[str, Any]:
    ranges = query.get("ranges", [])
    return {"spreadsheetId": book.key, "valueRanges": [_value_range(book, t, query) for t in ranges]}


# --------------------------------------------------------------------------------------------
# writes
# --------------------------------------------------------------------------------------------
Change = tuple[Sheet, int, int, "Cell | None"]


def _input_option(value: Any) -> str:
    if value is None:
        raise ApiError(400, "'valueInputOption' is required but not specified")
    if value not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, f"Invalid value at 'value_input_option' ({value})")
    return str(value)


def _rows_of(body: dict[str, Any]) -> list[list[Any]]:
    values = body.get("values", [])
    if not isinstance(values, list) or any(not isinstance(r, list) for r in values):
        raise ApiError(400, "Invalid values: expected a list of lists.")
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None and not isinstance(v, (str, int, float, bool)):
                raise ApiError(400, f"Invalid values[{i}][{j}]: {type(v).__name__}")
    if body.get("majorDimension", "ROWS") == "COLUMNS" and values:
        height = max(len(c) for c in values)
        values = [[c[i] if i < len(c) else None for c in values] for i in range(height)]
    return values


def _plan_write(book: Spreadsheet, text: str, body: dict[str, Any], option: str, account: str,
                grow: bool = False) -> tuple[list[Change], dict[str, Any]]:
    """Validate a write and return its cell changes and UpdateValuesResponse (nothing applied)."""
    rng = _parse(book, text)
    values = _rows_of(body)
    sheet = book.sheet(rng.sheet)
    height = len(values)
    width = max((len(r) for r in values), default=0)
    if not rng.single_cell:
        limit_rows = None if rng.end_row is None else rng.end_row - rng.start_row
        limit_cols = None if rng.end_col is None else rng.end_col - rng.start_col
        declared = format_range(sheet.title, rng.start_row, rng.start_col,
                                rng.end_row or sheet.row_count, rng.end_col or sheet.col_count)
        if limit_rows is not None and height > limit_rows:
            raise ApiError(400, f"Requested writing within range [{declared}], but tried writing to row [{rng.start_row + limit_rows + 1}]")
        if limit_cols is not None and width > limit_cols:
            raise ApiError(400, f"Requested writing within range [{declared}], but tried writing to column "
                                f"[{column_letters(rng.start_col + limit_cols)}]")
    end_row, end_col = rng.start_row + max(height, 1), rng.start_col + max(width, 1)
    if not grow and (end_row > sheet.row_count or end_col > sheet.col_count):
        raise exceeds(sheet, rng.start_row, rng.start_col, end_row, end_col)
    changes: list[Change] = []
    rows_touched = 0
    cols_touched: set[int] = set()
    grid, r0, c0 = sheet.rows, rng.start_row, rng.start_col
    for i, row in enumerate(values):
        r = r0 + i
        before = len(changes)
        if option == "RAW":  # _new_cell's RAW case, with the row looked up once (values:append of 100,000 rows)
            held = grid[r] if r < len(grid) else ()
            for j, v in enumerate(row):
                if v is None:
                    continue  # null: leave the cell as it is
                c = c0 + j
                old = held[c] if c < len(held) else None
                new = raw_cell(v, old)
                if old is not None and old.note:
                    new = new or Cell()
                    new.note = old.note
                changes.append((sheet, r, c, new))
                cols_touched.add(c)
        else:
            for j, v in enumerate(row):
                if v is None:
                    continue
                c = c0 + j
                changes.append((sheet, r, c, _new_cell(book, sheet, r, c, v, option)))
                cols_touched.add(c)
        rows_touched += len(changes) > before
    book.check_editable(account, sheet, ((r, c) for _, r, c, _ in changes))
    answer = {
        "spreadsheetId": book.key,
        "updatedRange": format_range(sheet.title, rng.start_row, rng.start_col, end_row, end_col),
        "updatedRows": rows_touched,
        "updatedColumns": len(cols_touched),
        "updatedCells": len(changes),
    }
    return changes, answer


def _new_cell(book: Spreadsheet, sheet: Sheet, r: int, c: int, v: Any, option: str) -> Cell | None:
    """The cell a written value makes; a note on the cell stays, as in Google."""
    old = sheet.cell(r, c)
    new = raw_cell(v, old) if option == "RAW" else user_entered_cell(v, old, book.locale, _cell_reader(book, sheet))
    if old is not None and old.note:
        new = new or Cell()
        new.note = old.note
    return new


def _cell_reader(book: Spreadsheet, sheet: Sheet) -> Callable[[int, int], Any]:
    """(row, col) -> the value a formula sees: a number, text, a boolean, or None for blank."""
    def read(r: int, c: int) -> Any:
        cell = sheet.cell(r, c)
        return None if cell is None else cell.value
    return read


def _plan_span(book: Spreadsheet, span: staff.GridSpan, body: dict[str, Any], option: str,
               account: str) -> tuple[list[Change], dict[str, Any]]:
    """A write into the range a data filter resolved to: values beyond the range are refused."""
    sheet, r0, c0, r1, c1 = span
    values = _rows_of(body)
    if len(values) > r1 - r0 or max((len(r) for r in values), default=0) > c1 - c0:
        raise ApiError(400, f"The values do not fit the range the data filter selected "
                            f"({format_range(sheet.title, r0, c0, r1, c1)}).")
    changes: list[Change] = []
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None:
                changes.append((sheet, r0 + i, c0 + j, _new_cell(book, sheet, r0 + i, c0 + j, v, option)))
    book.check_editable(account, sheet, ((r, c) for _, r, c, _ in changes))
    answer = {"updatedRange": format_range(sheet.title, r0, c0, r1, c1),
              "updatedRows": len({r for _, r, _, _ in changes}), "updatedColumns": len({c for _, _, c, _ in changes}),
              "updatedCells": len(changes)}
    return changes, answer


def _values_batch_update_by_filter(book: Spreadsheet, _rng: str | None, _query: Query, body: Any,
                                   account: str) -> dict[str, Any]:
    body = _object(body)
    option = _input_option(body.get("valueInputOption"))
    plans = []
    for i, item in enumerate(body.get("data", []) or []):
        item = _object(item, f"data[{i}]")
        spans = staff.filter_ranges(book, _object(item.get("dataFilter"), f"data[{i}].dataFilter"))
        if len(spans) > 1:
            raise ApiError(400, f"data[{i}].dataFilter matches {len(spans)} ranges; a write needs exactly one.")
        for span in spans:  # none: the filter selects nothing now, so nothing is written
            changes, answer = _plan_span(book, span, item, option, account)
            plans.append((changes, answer | {"dataFilter": item["dataFilter"]}))
    for changes, _ in plans:  # all validated: apply (one batch is all or nothing)
        _apply(changes)
    responses = [a for _, a in plans]
    return {"spreadsheetId": book.key,
            "totalUpdatedRows": sum(a["updatedRows"] for a in responses),
            "totalUpdatedColumns": sum(a["updatedColumns"] for a in responses),
            "totalUpdatedCells": sum(a["updatedCells"] for a in responses),
            "totalUpdatedSheets": len({a["updatedRange"].rsplit("!", 1)[0] for a in responses if a["updatedCells"]}),
            "responses": responses}


def _values_batch_get_by_filter(book: Spreadsheet, _rng: str | None, _query: Query, body: Any,
                                _account: str) -> dict[str, Any]:
    body = _object(body)
    query: dict[str, list[str]] = {k: [str(body[k])] for k in ("valueRenderOption", "dateTimeRenderOption",
                                                                "majorDimension") if k in body}
    matched = []
    for f in body.get("dataFilters", []) or []:
        for sheet, r0, c0, r1, c1 in staff.filter_ranges(book, _object(f, "dataFilter")):
            text = format_range(sheet.title, r0, c0, r1, c1)
            matched.append({"valueRange": _value_range(book, text, query), "dataFilters": [f]})
    answer: dict[str, Any] = {"spreadsheetId": book.key}
    if matched:
        answer["valueRanges"] = matched
    return answer


def _values_batch_clear_by_filter(book: Spreadsheet, _rng: str | None, _query: Query, body: Any,
                                  account: str) -> dict[str, Any]:
    texts = [format_range(sh.title, r0, c0, r1, c1) for f in _object(body).get("dataFilters", []) or []
             for sh, r0, c0, r1, c1 in staff.filter_ranges(book, _object(f, "dataFilter"))]
    return {"spreadsheetId": book.key, "clearedRanges": [_clear_range(book, t, account) for t in texts]}


def _metadata_search(book: Spreadsheet, _rng: str | None, _query: Query, body: Any, _account: str) -> dict[str, Any]:
    return staff.search_metadata(book, _object(body))


def _metadata_get(book: Spreadsheet, rng: str | None, _query: Query, _body: Any, _account: str) -> dict[str, Any]:
    for m in book.all_metadata():
        if str(m.metadata_id) == rng:
            return m.to_json()
    raise ApiError(404, f"No developer metadata with ID: {rng}")


def _apply(changes: list[Change]) -> None:
    for sheet, r, c, cell in changes:
        sheet.put(r, c, cell)


def _values_update(book: Spreadsheet, rng: str | None, query: Query, body: Any, account: str) -> dict[str, Any]:
    option = _input_option(_one(query, "valueInputOption"))
    body = _object(body)
    changes, answer = _plan_write(book, rng or "", body, option, account)
    _apply(changes)
    return answer


def _values_batch_update(book: Spreadsheet, _rng: str | None, _query: Query, body: Any, account: str) -> dict[str, Any]:
    body = _object(body)
    option = _input_option(body.get("valueInputOption"))
    data = body.get("data", [])
    if not isinstance(data, list):
        raise ApiError(400, "Invalid JSON payload received. 'data' must be a list.")
    plans = []
    for i, item in enumerate(data):
        item = _object(item, f"data[{i}]")
        if "range" not in item:
            raise ApiError(400, f"Invalid data[{i}]: No range specified.")
        plans.append(_plan_write(book, str(item["range"]), item, option, account))
    for changes, _ in plans:  # all validated: apply (one batch is all or nothing)
        _apply(changes)
    responses = [a for _, a in plans]
    return {
        "spreadsheetId": book.key,
        "totalUpdatedRows": sum(a["updatedRows"] for a in responses),
        "totalUpdatedColumns": sum(a["updatedColumns"] for a in responses),
        "totalUpdatedCells": sum(a["updatedCells"] for a in responses),
        "totalUpdatedSheets": len({a["updatedRange"].rsplit("!", 1)[0] for a in responses if a["updatedCells"]}),
        "responses": responses,
    }


def _values_append(book: Spreadsheet, rng: str | None, query: Query, body: Any, account: str) -> dict[str, Any]:
    option = _input_option(_one(query, "valueInputOption"))
    insert = _enum(_one(query, "insertDataOption"), "insertDataOption", ("OVERWRITE", "INSERT_ROWS"), "OVERWRITE")
    body = _object(body)
    target = _parse(book, rng or "")
    sheet = book.sheet(target.sheet)
    values = _rows_of(body)
    c0, c1 = target.start_col, target.end_col
    # the "table": the block of non-empty rows starting at the range's first row; an empty
    # anchor row is written at (Google does not look further down for a table)
    first = target.start_row if not sheet.row_empty(target.start_row, c0, c1) else None
    table_range = None
    at = target.start_row
    if first is not None:
        last = first
        while last + 1 < len(sheet.rows) and not sheet.row_empty(last + 1, c0, c1):
            last += 1
        width = max(len(sheet.rows[r]) for r in range(first, last + 1))
        table_range = format_range(sheet.title, first, c0, last + 1, max(width, c0 + 1))
        at = last + 1
    height = len(values)
    width = max((len(r) for r in values), default=0)
    new_rows = sheet.row_count + height if insert == "INSERT_ROWS" else max(sheet.row_count, at + height)
    new_cols = max(sheet.col_count, c0 + width)
    book.check_grid(sheet, new_rows, new_cols)
    anchor = format_range(sheet.title, at, c0, at + 1, c0 + 1)
    if insert == "INSERT_ROWS":
        # rows are inserted for the new data; the write below then lands in them
        sheet_copy_rows, sheet_copy_count = sheet.rows, sheet.row_count
        sheet.insert_rows(at, height)
        try:
            changes, update = _plan_write(book, anchor, body | {"values": values, "majorDimension": "ROWS"}, option,
                                          account, grow=True)
        except ApiError:
            sheet.rows, sheet.row_count = sheet_copy_rows, sheet_copy_count
            raise
    else:
        changes, update = _plan_write(book, anchor, body | {"values": values, "majorDimension": "ROWS"}, option,
                                      account, grow=True)
        sheet.row_count = new_rows  # adding data at the end of the sheet inserts new rows (as Google)
    sheet.col_count = new_cols
    _apply(changes)
    answer: dict[str, Any] = {"spreadsheetId": book.key, "updates": update}
    if table_range:
        answer["tableRange"] = table_range
    return answer


def _clear_range(book: Spreadsheet, text: str, account: str) -> str:
    rng = _parse(book, text)
    sheet, r0, c0, r1, c1 = book.resolve(rng)
    touched = [(r, c) for r in range(r0, min(r1, len(sheet.rows)))
               for c in range(c0, min(c1, len(sheet.rows[r]))) if sheet.rows[r][c] is not None]
    book.check_editable(account, sheet, touched)
    for r, c in touched:
        old = sheet.rows[r][c]
        sheet.rows[r][c] = Cell(None, fmt=old.fmt) if old is not None and old.fmt is not None else None
    return format_range(sheet.title, r0, c0, r1, c1)


def _values_clear(book: Spreadsheet, rng: str | None, _query: Query, _body: Any, account: str) -> dict[str, Any]:
    return {"spreadsheetId": book.key, "clearedRange": _clear_range(book, rng or "", account)}


def _values_batch_clear(book: Spreadsheet, _rng: str | None, _query: Query, body: Any, account: str) -> dict[str, Any]:
    ranges = _object(body).get("ranges", [])
    for text in ranges:  # validate every range before clearing any
        book.resolve(_parse(book, str(text)))
    return {"spreadsheetId": book.key, "clearedRanges": [_clear_range(book, str(t), account) for t in ranges]}


_HANDLERS: dict[str, Callable[[Spreadsheet, str | None, Query, Any, str], dict[str, Any]]] = {
    "sheets.spreadsheets.get": _get,
    "sheets.spreadsheets.batchUpdate": structure.batch_update,
    "sheets.spreadsheets.values.get": _values_get,
    "sheets.spreadsheets.values.batchGet": _values_batch_get,
    "sheets.spreadsheets.values.update": _values_update,
    "sheets.spreadsheets.values.batchUpdate": _values_batch_update,
    "sheets.spreadsheets.values.append": _values_append,
    "sheets.spreadsheets.values.clear": _values_clear,
    "sheets.spreadsheets.values.batchClear": _values_batch_clear,
    "sheets.spreadsheets.values.batchGetByDataFilter": _values_batch_get_by_filter,
    "sheets.spreadsheets.values.batchUpdateByDataFilter": _values_batch_update_by_filter,
    "sheets.spreadsheets.values.batchClearByDataFilter": _values_batch_clear_by_filter,
    "sheets.spreadsheets.developerMetadata.search": _metadata_search,
    "sheets.spreadsheets.developerMetadata.get": _metadata_get,
}

__all__ = ["route", "call", "parse_fields", "prune", "WRITE_METHODS", "PREFIX", "quote_title"]
