"""The one "table" interface every source implements (.xlsx today, Google Sheets next).

A sync reads the header and rows once, then hands back everything it wants written in a few
batched calls, and finally commits.  A source decides how to place results: the .xlsx source by
row number, the Google Sheets source (later) by row identity, re-read just before writing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

CellValue = Any  # str | int | float | bool | datetime.date | datetime.datetime | datetime.time | None


@dataclass(slots=True)
class SourceRow:
    number: int  # the row number the user sees in the spreadsheet (1-based)
    values: tuple[CellValue, ...]  # aligned with TableData.header; short rows are padded with None


@dataclass(slots=True)
class TableData:
    header: list[str]  # header cells as text ("" for a blank header cell), one per column
    header_row: int  # 1-based row number of the header
    rows: list[SourceRow] = field(default_factory=list)  # rows below the header, in sheet order
    location: str = ""  # for messages: "contacts.xlsx, sheet 'Contacts'"


@dataclass(slots=True)
class SaveReport:
    path: str  # where the results were written
    is_copy: bool = False  # True when the original was left untouched and a copy written
    lost: list[str] = field(default_factory=list)  # what the copy could not keep, in plain words
    message: str | None = None  # a plain-language note for the user when is_copy


class Table(Protocol):
    location: str

    def check_writable(self) -> None:
        """Raise SourceError now (before anything is sent to inwise) if results could not be saved."""

    def read(self) -> TableData:
        """Header and all rows below it.  Raises ConfigError/SourceError with a clear message."""

    def set_columns(self, columns: Mapping[str, Mapping[int, CellValue]]) -> None:
        """Write values into named columns: {header: {row number: value}}.

        A header that is not in the header row (matched ignoring case and surrounding spaces)
        is added after the last non-blank header cell.  Only the given cells are touched.
        """

    def read_tab(self, tab: str) -> tuple[list[str], list[list[CellValue]]] | None:
        """Header and rows of another tab, or None if there is no such tab."""

    def append_rows(self, tab: str, header: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> int:
        """Append rows to a tab, creating it with ``header`` if missing.

        When the tab exists, values are placed under the columns whose header matches (ignoring
        case/spaces), and missing columns are added to its header row.  Returns rows appended.
        """

    def save(self) -> SaveReport:
        """Commit all pending writes safely (atomically for files)."""
