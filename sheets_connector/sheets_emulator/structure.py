"""spreadsheets.batchUpdate: the requests that change a spreadsheet's structure (tabs, sizes,
rows and columns, sorting, protections), plus what staff do in the UI (``staff.py``).

A batch applies to a copy of the spreadsheet and replaces it only when every request
succeeded: all requests apply, or none (as Google).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import staff
from .book import ApiError, Protection, Sheet, Spreadsheet, exceeds

Query = Mapping[str, Sequence[str]]


def _object(body: Any, what: str = "request") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"Invalid JSON payload received. The {what} must be an object.")
    return body


def protected_json(sheet: Sheet, p: Protection, account: str) -> dict[str, Any]:
    rng: dict[str, Any] = {"sheetId": sheet.sheet_id}
    for key, value in (("startRowIndex", p.start_row), ("endRowIndex", p.end_row),
                       ("startColumnIndex", p.start_col), ("endColumnIndex", p.end_col)):
        if value is not None:
            rng[key] = value
    can_edit = account in p.editors or p.warning_only
    out: dict[str, Any] = {"protectedRangeId": p.protected_range_id, "range": rng, "requestingUserCanEdit": can_edit}
    if p.warning_only:
        out["warningOnly"] = True
    if p.description:
        out["description"] = p.description
    if can_edit:
        out["editors"] = {"users": sorted(p.editors)}
    return out



# --------------------------------------------------------------------------------------------
# spreadsheets.batchUpdate
# --------------------------------------------------------------------------------------------
def batch_update(book: Spreadsheet, _rng: str | None, _query: Query, body: Any, account: str) -> dict[str, Any]:
    requests = _object(body).get("requests", [])
    if not isinstance(requests, list):
        raise ApiError(400, "Invalid JSON payload received. 'requests' must be a list.")
    work = book.snapshot()  # all requests apply, or none
    replies = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request is needed.")
        (kind, args), = request.items()
        handler = _REQUESTS.get(kind)
        if handler is None:
            raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': Cannot find field.")
        try:
            replies.append(handler(work, _object(args, kind), account))
        except ApiError as e:
            raise ApiError(e.code, f"Invalid requests[{i}].{kind}: {e.message}") from None
    book.restore(work)
    return {"spreadsheetId": book.key, "replies": replies}


def _grid(sheet: Sheet, props: dict[str, Any]) -> tuple[int, int]:
    grid = props.get("gridProperties", {}) or {}
    return int(grid.get("rowCount", sheet.row_count)), int(grid.get("columnCount", sheet.col_count))


def _add_sheet(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    props = args.get("properties", {}) or {}
    title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
    grid = props.get("gridProperties", {}) or {}
    sheet = book.add_sheet(str(title), int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26)),
                           sheet_id=props.get("sheetId"), index=props.get("index"),
                           frozen_rows=int(grid.get("frozenRowCount", 0)))
    sheet.hidden = bool(props.get("hidden", False))
    return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}


def _delete_sheet(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(args.get("sheetId", -1)))
    if len(book.sheets) == 1:
        raise ApiError(400, "You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    return {}


def _update_sheet_properties(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    props = args.get("properties", {}) or {}
    fields = [f.strip().replace("/", ".") for f in str(args.get("fields", "")).split(",") if f.strip()]
    if not fields:
        raise ApiError(400, "At least one field must be updated, but 'fields' is empty.")
    sheet = book.sheet_by_id(int(props.get("sheetId", 0)))
    grid = props.get("gridProperties", {}) or {}
    everything = "*" in fields
    rows, cols = sheet.row_count, sheet.col_count
    if everything or "gridProperties" in fields or "gridProperties.rowCount" in fields:
        rows = int(grid.get("rowCount", rows))
    if everything or "gridProperties" in fields or "gridProperties.columnCount" in fields:
        cols = int(grid.get("columnCount", cols))
    book.check_grid(sheet, rows, cols)
    _resize(sheet, rows, cols)
    if everything or "gridProperties.frozenRowCount" in fields:
        sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
    if everything or "gridProperties.frozenColumnCount" in fields:
        sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    if "index" in fields or (everything and "index" in props):  # tab order: move the tab
        book.sheets.remove(sheet)
        book.sheets.insert(max(0, min(int(props.get("index", 0)), len(book.sheets))), sheet)
    if everything or "title" in fields:
        title = str(props.get("title", sheet.title))
        if any(s is not sheet and s.title.casefold() == title.casefold() for s in book.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet.title = title
    if everything or "hidden" in fields:
        sheet.hidden = bool(props.get("hidden", False))
    return {}


def _resize(sheet: Sheet, rows: int, cols: int) -> None:
    if rows < sheet.row_count:
        sheet.rows = sheet.rows[:rows]
    if cols < sheet.col_count:
        sheet.rows = [r[:cols] for r in sheet.rows]
    sheet.row_count, sheet.col_count = rows, cols


def _update_spreadsheet_properties(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    props = args.get("properties", {}) or {}
    fields = {f.strip() for f in str(args.get("fields", "")).split(",")}
    if "title" in fields or "*" in fields:
        book.title = str(props.get("title", book.title))
    if "locale" in fields or "*" in fields:
        book.locale_name = str(props.get("locale", book.locale_name))
    if "timeZone" in fields or "*" in fields:
        book.time_zone = str(props.get("timeZone", book.time_zone))
    return {}


def _dimension(book: Spreadsheet, rng: dict[str, Any]) -> tuple[Sheet, bool, int, int]:
    sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
    rows = rng.get("dimension") == "ROWS"
    if rng.get("dimension") not in ("ROWS", "COLUMNS"):
        raise ApiError(400, "dimension must be ROWS or COLUMNS")
    size = sheet.row_count if rows else sheet.col_count
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", size))
    if not 0 <= start < end:
        raise ApiError(400, "The range's start index must be less than its end index.")
    return sheet, rows, start, end


def _append_dimension(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(args.get("sheetId", 0)))
    length = int(args.get("length", 0))
    rows = args.get("dimension") == "ROWS"
    new_rows, new_cols = (sheet.row_count + length, sheet.col_count) if rows else (sheet.row_count, sheet.col_count + length)
    book.check_grid(sheet, new_rows, new_cols)
    sheet.row_count, sheet.col_count = new_rows, new_cols
    return {}


def _insert_dimension(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet, rows, start, end = _dimension(book, args.get("range", {}) or {})
    if rows:
        book.check_grid(sheet, sheet.row_count + end - start, sheet.col_count)
        sheet.insert_rows(start, end - start)
    else:
        book.check_grid(sheet, sheet.row_count, sheet.col_count + end - start)
        sheet.insert_columns(start, end - start)
    return {}


def _delete_dimension(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    sheet, rows, start, end = _dimension(book, args.get("range", {}) or {})
    if (end > sheet.row_count) if rows else (end > sheet.col_count):
        raise exceeds(sheet, start if rows else 0, 0 if rows else start,
                      end if rows else 1, 1 if rows else end)
    if rows:
        sheet.delete_rows(start, end)
    else:
        sheet.delete_columns(start, end)
    return {}


def _sort_range(book: Spreadsheet, args: dict[str, Any], _account: str) -> dict[str, Any]:
    rng = args.get("range", {}) or {}
    sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
    specs = [(int(s.get("dimensionIndex", 0)), s.get("sortOrder") == "DESCENDING") for s in args.get("sortSpecs", [])]
    sheet.sort_rows(int(rng.get("startRowIndex", 0)), int(rng.get("endRowIndex", sheet.row_count)), specs)
    return {}


def _add_protected_range(book: Spreadsheet, args: dict[str, Any], account: str) -> dict[str, Any]:
    pr = args.get("protectedRange", {}) or {}
    rng = pr.get("range", {}) or {}
    sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
    editors = frozenset((pr.get("editors", {}) or {}).get("users", []) or []) | {account}
    new_id = 1 + max((p.protected_range_id for s in book.sheets for p in s.protections), default=0)
    p = Protection(new_id, rng.get("startRowIndex"), rng.get("endRowIndex"), rng.get("startColumnIndex"),
                   rng.get("endColumnIndex"), editors, str(pr.get("description", "")), bool(pr.get("warningOnly")))
    sheet.protections.append(p)
    return {"addProtectedRange": {"protectedRange": protected_json(sheet, p, account)}}


_REQUESTS: dict[str, Callable[[Spreadsheet, dict[str, Any], str], dict[str, Any]]] = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "appendDimension": _append_dimension,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
    "sortRange": _sort_range,
    "addProtectedRange": _add_protected_range,
    **staff.REQUESTS,
}
