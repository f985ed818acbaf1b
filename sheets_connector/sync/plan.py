"""Stage 1, plan: read the table and map every row (no network)."""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from ..contacts import ContactMapper, MappedRow, column_letter, describe_contact
from ..errors import WorkbookNotFound, WorksheetNotFound
from ..inwise import contact_body
from ..messages.catalog import msg, render
from ..model import Contact, SendOptions
from ..sheet_dates import sheet_locale, survey
from ..tables.base import RowRef, Table, TableData


class Stages:
    """Wall time per stage of a run (reported in the summary and by the benchmark)."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t, 4)


def send_options(config: Config) -> SendOptions:
    iw = config.inwise
    return SendOptions(
        groups=tuple(iw.groups),
        confirmation_status=iw.confirmation_status,
        default_country_code=iw.mobile.calling_code,
        trim_leading_zero=iw.mobile.trim_leading_zero,
        update_existing=iw.update_existing,
        clear_existing_fields=iw.clear_existing_fields,
    )


@dataclass
class Plan:
    """Everything known before anything is sent."""

    table: Table
    data: TableData
    mapper: ContactMapper
    mapped: list[MappedRow]
    date_warnings: list[str] = field(default_factory=list)  # the sheet's locale vs the mapping (sheet_dates)

    def to_send(self) -> list[tuple[RowRef, Contact]]:
        return [(m.ref, m.contact) for m in self.mapped if m.contact is not None]

    def preview(self, options: SendOptions, limit: int | None = None, rows: set[int] | None = None) -> list[dict[str, Any]]:
        """The first ``limit`` (default: all) rows as they would be sent, with their row number;
        only the row numbers in ``rows`` when given (the rows a sync would send)."""
        rows_ = (m for m in self.mapped if m.contact is not None and (rows is None or m.number in rows))
        return [{"row": m.number, **contact_body(m.contact, options)}
                for m in itertools.islice(rows_, limit) if m.contact is not None]

    def preview_lines(self, limit: int | None = None, rows: set[int] | None = None, language: str = "en") -> list[str]:
        """The first ``limit`` rows to send, in words staff recognise (raw JSON is ``preview``)."""
        headers = self.mapper.columns.field_headers
        names = self.mapper.per_row.group_names() if self.mapper.per_row else {}
        rows_ = (m for m in self.mapped if m.contact is not None and (rows is None or m.number in rows))
        return [render(msg("check.preview_row", row=m.number, contact=describe_contact(m.contact, headers, names, language)), language)
                for m in itertools.islice(rows_, limit) if m.contact is not None]


def plan(config: Config, table: Table | None = None, timings: dict[str, float] | None = None) -> Plan:
    """Read the table and map every row (no network)."""
    stage = Stages({} if timings is None else timings)
    table = table or config.open_table()
    with stage("read"):
        try:
            data = table.read()
        except WorksheetNotFound as e:
            e.at = config.locate("source", "worksheet")
            raise
        except WorkbookNotFound as e:
            e.at = config.locate("source", "path")
            raise
    with stage("map"):
        mapper = ContactMapper(config, data.header, data.location, data.rows)
        warnings = _survey_dates(data, mapper)
        mapped = mapper.map_rows(data.rows)
    return Plan(table, data, mapper, mapped, warnings)


def _survey_dates(data: TableData, mapper: ContactMapper) -> list[str]:
    """A sheet with a locale: its date columns read their text that locale's way, and what may be
    misread is said before anything is sent (see ``sheet_dates``)."""
    locale = sheet_locale(data.locale)
    if locale is None:
        return []
    c = mapper.columns
    columns = [(idx, c.field_headers[number], column_letter(idx), pattern) for number, idx, pattern in c.fields]
    found, warnings = survey([(r.number, r.values) for r in data.rows], columns, locale)
    mapper.text_dates = {col.index: locale for col in found}
    return warnings
