"""Pins: developer metadata that ties the connector's columns and the header row to the sheet.

Staff insert, delete and move columns while a sync runs.  A column index seen in one request
may name another column one request later, so the connector never writes by column index:

- each result column (results, contact id, synced at) carries developer metadata on the
  COLUMN, key ``sheets-connector.column``, value the header the mapping gives it;
- the header row carries ``sheets-connector.header-row`` on the ROW.

Google moves metadata with its row or column and deletes it with them.  Writes go through
``values.batchUpdateByDataFilter`` with a ``developerMetadataLookup`` by metadata id, which
Google resolves when it applies the write: the values land in the tagged column wherever it
is then.  A title row inserted above the header moves the header row's tag, so the connector
(this sync and the next) follows the header instead of reading the title as one.

A tag is only trusted on a column whose header is its title, or on a wholly blank column (a
new results column before its header is written); any other tag was misplaced by an edit in
the window between choosing the column and tagging it (``Snapshot.resolve`` drops it, and the
table tags again).  Every snapshot comes with its tags in the same request as its cells, so
what the tags say and what the cells hold are one moment of the sheet.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..normalize import header_key
from .base import CellValue
from .gsheet_cells import grid_rows, header_text
from .gsheet_focus import HEADER_SEARCH, Focus

TAG_COLUMN = "sheets-connector.column"
TAG_HEADER = "sheets-connector.header-row"
_META = "developerMetadata(metadataId,metadataKey,metadataValue)"

# One spreadsheets.get: the tab's size, merges, every cell's value and number format, and per
# row / column whether it is hidden and which of our tags it carries.
SNAPSHOT_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue,effectiveFormat/numberFormat/type,"
    "userEnteredValue/formulaValue)),"
    f"rowMetadata(hiddenByUser,hiddenByFilter,{_META}),columnMetadata(hiddenByUser,{_META})))"
)


@dataclass
class Snapshot:
    """One tab at one moment: cells, tags, hidden rows and columns, merges."""

    props: dict[str, Any]
    rows: list[list[CellValue]]  # rows[0] is the sheet's row 1
    column_tags: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # title key -> [(col, metadata id)]
    header_tags: list[tuple[int, int]] = field(default_factory=list)  # [(row index, metadata id)]
    hidden_cols: set[int] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)  # by staff or by a filter
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # row0, row1, col0, col1 (ends excluded)
    formulas: dict[int, int] = field(default_factory=dict)  # column (1-based) -> first row with a formula
    focus: Focus | None = None  # what was read whole (None: the whole tab, see gsheet_focus)

    def covers_row(self, row: int) -> bool:
        """The row was read whole (all its cells are in ``rows``)."""
        return self.focus is None or self.focus.covers_row(row)

    def covers_col(self, col: int) -> bool:
        """The column was read whole."""
        return self.focus is None or self.focus.covers_col(col)

    @property
    def sheet_id(self) -> int:
        return int(self.props["sheetId"])

    @property
    def column_count(self) -> int:
        return int(self.props.get("gridProperties", {}).get("columnCount", 0))

    @property
    def row_count(self) -> int:
        return int(self.props.get("gridProperties", {}).get("rowCount", 0))

    def cell(self, row: int, col: int) -> CellValue:
        r = self.rows[row] if row < len(self.rows) else []
        return r[col] if col < len(r) else None

    def header(self, row: int) -> list[str]:
        return [header_text(v) for v in (self.rows[row] if row < len(self.rows) else [])]

    def column_blank(self, col: int) -> bool:
        """Nothing in it: no value, no formula (even one showing nothing)."""
        return col + 1 not in self.formulas and all(col >= len(r) or r[col] is None for r in self.rows)

    def header_row(self, expected: int, read_header: Sequence[str] | None, skip: set[str],
                   trusted: frozenset[int] = frozenset()) -> int:
        """The 0-based header row now: its tag if the tagged row still looks like the header (or
        the tag was seen on it earlier in this run: ``trusted``), else the expected row, else
        the nearest row that does (a row was inserted above it)."""
        def looks_like(row: int) -> bool:
            if read_header is None:
                return True
            names = {header_key(h) for h in read_header if h.strip()} - skip
            if not names:
                return True
            now = {header_key(h) for h in self.header(row)}
            return len(names & now) * 2 >= len(names)

        for row, mid in self.header_tags:
            if mid in trusted or looks_like(row):
                return row
        if looks_like(expected):
            return expected
        for d in range(1, HEADER_SEARCH + 1):
            for row in (expected + d, expected - d):
                if 0 <= row < len(self.rows) and looks_like(row):
                    return row
        return expected

    def resolve(self, header_row: int, titles: Sequence[str], choose: Callable[[Snapshot, int, list[str], list[str]], dict[str, int]],
                trusted: frozenset[int] = frozenset()) -> Resolved:
        """Which column each result title uses now, which of those still need a tag, and which
        tags to delete (misplaced, or a second copy).  ``choose`` picks untagged columns from
        the header (``result_columns``: by name, else the first column with nothing in it).  A ``trusted`` tag
        was seen on the right column earlier in this run: Google moved it with its column since,
        so it stays right even while rows moving under a write leave the header cell wrong."""
        header = self.header(header_row)
        out = Resolved()
        for title in titles:
            tags = self.column_tags.get(header_key(title), [])
            good = [(c, mid) for c, mid in tags if mid in trusted or self._fits(header, header_row, c, title)]
            if good:
                out.columns[title], out.tag_ids[title] = good[0]
            out.stale.extend(mid for c, mid in tags if (c, mid) not in good[:1])
        untagged = [t for t in titles if t not in out.columns]
        if untagged:
            taken = set(out.columns.values())
            width = max([len(header), *(c + 1 for c in taken)])
            padded = header + [""] * (width - len(header))
            masked = [("\0" if i in taken else h) for i, h in enumerate(padded)]  # never share a tagged column
            for title, col in choose(self, header_row, masked, untagged).items():
                out.columns[title] = col
                out.untagged.append(title)
        own = [mid for row, mid in self.header_tags if row == header_row]
        out.header_tag = own[0] if own else None
        out.stale.extend(mid for row, mid in self.header_tags if mid != out.header_tag)
        return out

    def _fits(self, header: list[str], header_row: int, col: int, title: str) -> bool:
        name = header[col] if col < len(header) else ""
        if header_key(name) == header_key(title):
            return True
        return not name.strip() and self.column_blank(col)


@dataclass
class Resolved:
    columns: dict[str, int] = field(default_factory=dict)  # title -> 0-based column now
    tag_ids: dict[str, int] = field(default_factory=dict)  # title -> metadata id of its valid tag
    untagged: list[str] = field(default_factory=list)  # titles whose column must be tagged first
    stale: list[int] = field(default_factory=list)  # metadata ids to delete
    header_tag: int | None = None  # the header row's tag, if it is on the header row

    def settled(self) -> bool:
        return not self.untagged and not self.stale and self.header_tag is not None


def parse_snapshot(answer: dict[str, Any], title: str, focus: Focus | None = None) -> Snapshot | None:
    """The tab ``title`` of a spreadsheets.get answer asked with SNAPSHOT_FIELDS (for the
    ranges of ``focus``, if given)."""
    for sheet in answer.get("sheets", []):
        if sheet.get("properties", {}).get("title") != title:
            continue
        rows, formulas = grid_rows(sheet)
        snap = Snapshot(sheet["properties"], rows, formulas=formulas, focus=focus)
        for m in sheet.get("merges", []) or []:
            snap.merges.append((int(m.get("startRowIndex", 0)), int(m.get("endRowIndex", 0)),
                                int(m.get("startColumnIndex", 0)), int(m.get("endColumnIndex", 0))))
        for data in sheet.get("data", []) or []:
            top, left = int(data.get("startRow", 0)), int(data.get("startColumn", 0))
            for i, dim in enumerate(data.get("rowMetadata", []) or []):
                if not dim:
                    continue
                if dim.get("hiddenByUser") or dim.get("hiddenByFilter"):
                    snap.hidden_rows.add(top + i)
                for m in dim.get("developerMetadata", []) or []:
                    if m.get("metadataKey") == TAG_HEADER:
                        snap.header_tags.append((top + i, int(m["metadataId"])))
            for i, dim in enumerate(data.get("columnMetadata", []) or []):
                if not dim:
                    continue
                if dim.get("hiddenByUser"):
                    snap.hidden_cols.add(left + i)
                for m in dim.get("developerMetadata", []) or []:
                    if m.get("metadataKey") == TAG_COLUMN:
                        key = header_key(str(m.get("metadataValue", "")))
                        snap.column_tags.setdefault(key, []).append((left + i, int(m["metadataId"])))
        return snap
    return None


def tag_requests(snap: Snapshot, resolved: Resolved, header_row: int) -> list[dict[str, Any]]:
    """spreadsheets.batchUpdate requests: widen the grid if a new column needs it, delete stale
    tags, tag the untagged columns and the header row."""
    requests: list[dict[str, Any]] = []
    needed = max(resolved.columns.values(), default=-1) + 1
    if needed > snap.column_count:
        requests.append({"updateSheetProperties": {
            "properties": {"sheetId": snap.sheet_id, "gridProperties": {"columnCount": needed}},
            "fields": "gridProperties.columnCount"}})
    for mid in dict.fromkeys(resolved.stale):
        requests.append({"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataId": mid}}}})
    for title in resolved.untagged:
        requests.append(_create(snap.sheet_id, "COLUMNS", resolved.columns[title], TAG_COLUMN, str(title).strip()))
    if resolved.header_tag is None:
        requests.append(_create(snap.sheet_id, "ROWS", header_row, TAG_HEADER, "header"))
    return requests


def _create(sheet_id: int, dimension: str, index: int, key: str, value: str) -> dict[str, Any]:
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": key, "metadataValue": value, "visibility": "DOCUMENT",
        "location": {"dimensionRange": {"sheetId": sheet_id, "dimension": dimension, "startIndex": index,
                                        "endIndex": index + 1}}}}}


def column_write(metadata_id: int, cells: dict[int, Any]) -> dict[str, Any]:
    """A DataFilterValueRange: ``cells`` {0-based row: value} of the column tagged with this
    metadata, wherever it is when Google applies the write (null leaves a cell as it is)."""
    last = max(cells)
    return {"dataFilter": {"developerMetadataLookup": {"metadataId": metadata_id}}, "majorDimension": "COLUMNS",
            "values": [[cells.get(r) for r in range(last + 1)]]}
