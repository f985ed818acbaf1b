"""The one "table" interface every source implements (.xlsx, Google Sheets).

A sync reads the header and rows once, then hands back everything it wants written in a few
batched calls, and finally commits.

Row identity: every result cell is addressed by a ``RowRef``, the row number where the row was
read plus its ``RowKey`` (normalised email, else normalised mobile; ``None`` for a row with
neither).  How a source places a result is its own business:

- .xlsx places by row number: nothing can move a file's rows while the connector holds it.
- Google Sheets re-reads the rows just before writing, computes each row's key with the
  ``identify`` function the sync passes in (or takes it from ``keys``, the mapping's keys of the
  rows as read, for a row that still holds what was read), and writes each result on the row that now holds
  that key (staff may insert, delete or sort rows during a run).  A key that vanished gets
  nothing; a result is never written on another contact's row.

``set_columns`` returns the results it could not place, with the reason, so the run summary can
tell the user.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

CellValue = Any  # str | int | float | bool | datetime.date | datetime.datetime | datetime.time | CellError | None


@dataclass(frozen=True, slots=True)
class CellError:
    """A cell that shows no value to use, as ``read()`` gives it (never an empty cell):
    an error such as ``#N/A`` or ``#VALUE!`` (``code``), or a formula whose value was never
    calculated (``code`` is "", ``formula`` its text when known).  The mapping refuses it."""

    code: str  # "#N/A", "#VALUE!", ...; "" for a formula never calculated
    formula: str = ""  # "=VLOOKUP(A2,...)": the formula never calculated, when known

    def __str__(self) -> str:
        return self.code or self.formula or "(a formula never calculated)"


@dataclass(slots=True)
class SourceRow:
    number: int  # the row number the user sees in the spreadsheet (1-based)
    values: tuple[CellValue, ...]  # aligned with TableData.header; short rows are padded with None


@dataclass(frozen=True, slots=True)
class RowKey:
    """A contact's identity within a sheet: its normalised email, else its normalised mobile."""

    kind: Literal["email", "mobile"]
    value: str  # email_key() of the email / international digits of the mobile

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class RowRef:
    """Where a result goes: the row number where the row was read, and the row's identity."""

    number: int
    key: RowKey | None = None


# Computes a row's key from its cells (the mapping's rule); handed to set_columns by the sync.
RowIdentifier = Callable[[SourceRow], "RowKey | None"]


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A result the table did not write, and why (in plain words, for the run summary)."""

    ref: RowRef
    reason: str


@dataclass(slots=True)
class TableData:
    header: list[str]  # header cells as text ("" for a blank header cell), one per column
    header_row: int  # 1-based row number of the header
    rows: list[SourceRow] = field(default_factory=list)  # rows below the header, in sheet order
    location: str = ""  # for messages: "contacts.xlsx, sheet 'Contacts'"
    locale: str | None = None  # the spreadsheet's locale (en_US) where it reads typed dates; None for a workbook


@dataclass(slots=True)
class SaveReport:
    path: str  # where the results were written
    is_copy: bool = False  # True when the original was left untouched and a copy written
    lost: list[str] = field(default_factory=list)  # what the copy could not keep, in plain words
    message: str | None = None  # a plain-language note for the user when is_copy
    notes: list[str] = field(default_factory=list)  # what the user should know about where results went


class Table(Protocol):
    @property
    def location(self) -> str:
        """Where the rows are, for messages: "contacts.xlsx, sheet 'Contacts'"."""

    def check_writable(self) -> None:
        """Raise SourceError now (before anything is sent to inwise) if results could not be saved."""

    def read(self) -> TableData:
        """Header and all rows below it.  Raises ConfigError/SourceError with a clear message."""

    def set_columns(
        self, columns: Mapping[str, Mapping[RowRef, CellValue]], identify: RowIdentifier | None = None,
        *, keys: Mapping[int, RowKey | None] | None = None,
    ) -> list[Unplaced]:
        """Write values into named columns: {header: {row ref: value}}.

        ``keys``: what ``identify`` gives the rows of the last ``read()`` (row number -> key), as
        the sync already knows it from the mapping: a table that re-reads rows need not work it
        out again for a row that still holds what was read.

        A header that is not in the header row (matched ignoring case and surrounding spaces)
        is added in the first column right of the last non-blank header cell that holds
        nothing, in the header row or below (``result_columns``).  Only the given cells are
        touched.
        Returns the refs that were not written (see the module docstring for placement).
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
