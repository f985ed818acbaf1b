"""Rows -> contacts: resolve the mapping against the real header, normalise every row.

A row becomes exactly one of:
- nothing (an empty row, skipped silently),
- a ``Contact`` to send,
- a ``RowProblem`` (invalid cell, no email/mobile, duplicate of an earlier row) that is written
  to the row's result and never sent.
A bad cell never stops the run.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

from .config import Config
from .errors import ConfigError
from .model import Contact
from .normalize import (
    ValueProblem,
    clean_text,
    date_pattern,
    email_key,
    format_field,
    is_blank,
    normalize_email,
    normalize_mobile,
)
from .tables.base import SourceRow


def header_key(text: object) -> str:
    """How headers are matched: ignoring case, surrounding and repeated spaces, invisible marks."""
    return " ".join(clean_text(text).split()).casefold()


def find_column(header: Sequence[str], wanted: str, *, what: str, location: str) -> int:
    """Index of ``wanted`` in ``header``; a ConfigError that lists the headers and suggests one."""
    key = header_key(wanted)
    hits = [i for i, h in enumerate(header) if header_key(h) == key]
    if len(hits) == 1:
        return hits[0]
    present = [h for h in header if clean_text(h)]
    if len(hits) > 1:
        cols = ", ".join(column_letter(i) for i in hits)
        raise ConfigError(
            f"{location}: the header {wanted!r} ({what}) appears {len(hits)} times (columns {cols}). "
            "Rename the extra columns so each header is unique."
        )
    by_key = {header_key(h): h for h in present}
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
    hint = f" Did you mean {by_key[close[0]]!r}?" if close else ""
    listing = ", ".join(repr(h) for h in present) or "(the header row is empty)"
    raise ConfigError(
        f"{location}: there is no column {wanted!r} for {what}.{hint}\n"
        f"  The header row has: {listing}\n"
        "  Fix the header in the sheet or the name in the mapping file."
    )


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    n = index + 1
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass(slots=True)
class RowProblem:
    kind: Literal["invalid", "duplicate"]
    message: str  # plain words, shown after "✗ " in the results column
    column: str | None = None  # header of the offending column, when there is one


@dataclass(slots=True)
class MappedRow:
    number: int
    contact: Contact | None = None
    problem: RowProblem | None = None


@dataclass(slots=True)
class ResolvedColumns:
    email: int | None
    mobile: int | None
    external_id: int | None
    fields: list[tuple[int, int, str]]  # (field number, column index, strftime date pattern)
    headers: dict[str, str]  # role -> header text as in the sheet (for messages)
    field_headers: dict[int, str]  # field number -> header text as in the sheet
    own: set[int]  # columns the connector writes (results etc.): not input, not "content"


class ContactMapper:
    """Maps rows of one table with one config. Keeps the duplicate index for the run."""

    def __init__(self, config: Config, header: Sequence[str], location: str):
        self.config = config
        self.location = location
        self.region = config.inwise.mobile.region
        cols = config.columns
        loc = location
        email = find_column(header, cols.email, what="email", location=loc) if cols.email else None
        mobile = find_column(header, cols.mobile, what="mobile", location=loc) if cols.mobile else None
        ext = find_column(header, cols.external_id, what="external id", location=loc) if cols.external_id else None
        fields: list[tuple[int, int, str]] = []
        field_headers: dict[int, str] = {}
        for number, spec in cols.field_columns().items():
            idx = find_column(header, spec.column, what=f"personal field {number}", location=loc)
            fields.append((number, idx, date_pattern(spec.date_format or config.date_format)))
            field_headers[number] = clean_text(header[idx])
        used = [i for i in (email, mobile, ext) if i is not None] + [i for _, i, _ in fields]
        dupes = {i for i in used if used.count(i) > 1}
        if dupes:
            raise ConfigError(
                f"{location}: column {header[min(dupes)]!r} is mapped twice in the mapping file; "
                "each column can feed one thing only."
            )
        own = set()
        for h in (config.results.column, config.results.contact_id_column, config.results.synced_at_column):
            if h:
                own.update(i for i, x in enumerate(header) if header_key(x) == header_key(h))
        self.columns = ResolvedColumns(
            email=email,
            mobile=mobile,
            external_id=ext,
            fields=fields,
            headers={
                "email": clean_text(header[email]) if email is not None else "",
                "mobile": clean_text(header[mobile]) if mobile is not None else "",
                "external_id": clean_text(header[ext]) if ext is not None else "",
            },
            field_headers=field_headers,
            own=own,
        )
        self._seen_email: dict[str, int] = {}
        self._seen_mobile: dict[str, int] = {}

    # -- one row ---------------------------------------------------------------------------
    def map_row(self, row: SourceRow) -> MappedRow | None:
        c = self.columns
        values = row.values
        if all(is_blank(v) for i, v in enumerate(values) if i not in c.own):
            return None  # empty row: skipped silently

        problems: list[RowProblem] = []
        email = mobile = None
        if c.email is not None and not is_blank(values[c.email]):
            try:
                email = normalize_email(values[c.email])
            except ValueProblem as e:
                problems.append(RowProblem("invalid", f"{e} (column {c.headers['email']!r})", c.headers["email"]))
        if c.mobile is not None and not is_blank(values[c.mobile]):
            try:
                mobile = normalize_mobile(values[c.mobile], self.region)
            except ValueProblem as e:
                problems.append(RowProblem("invalid", f"{e} (column {c.headers['mobile']!r})", c.headers["mobile"]))
        if problems:
            # Sending the row without the bad value would create a contact the user did not ask for
            # and hide the typo; the row waits until the cell is fixed.
            msg = "; ".join(p.message for p in problems) + " - fix the cell and sync again"
            return MappedRow(row.number, problem=RowProblem("invalid", msg, problems[0].column))
        if email is None and mobile is None:
            wanted = " or ".join(repr(h) for h in (c.headers["email"], c.headers["mobile"]) if h)
            return MappedRow(
                row.number,
                problem=RowProblem("invalid", f"no email or mobile - fill in {wanted} to send this contact"),
            )

        fields: list[tuple[int, str]] = []
        for number, idx, pattern in c.fields:
            v = values[idx]
            if is_blank(v):
                continue
            try:
                text = format_field(v, date_format=pattern)
            except ValueProblem as e:
                return MappedRow(
                    row.number,
                    problem=RowProblem("invalid", f"{e} (column {c.field_headers[number]!r})", c.field_headers[number]),
                )
            if text:
                fields.append((number, text))
        external_id = None
        if c.external_id is not None and not is_blank(values[c.external_id]):
            try:
                external_id = format_field(values[c.external_id])
            except ValueProblem as e:
                h = c.headers["external_id"]
                return MappedRow(row.number, problem=RowProblem("invalid", f"{e} (column {h!r})", h))

        # duplicates inside the sheet: the first row wins, later ones say which row they repeat
        ekey = email_key(email) if email else None
        if ekey and ekey in self._seen_email:
            return MappedRow(
                row.number,
                problem=RowProblem("duplicate", f"duplicate of row {self._seen_email[ekey]} (same email) - not sent", c.headers["email"]),
            )
        if mobile and mobile in self._seen_mobile:
            return MappedRow(
                row.number,
                problem=RowProblem("duplicate", f"duplicate of row {self._seen_mobile[mobile]} (same mobile) - not sent", c.headers["mobile"]),
            )
        if ekey:
            self._seen_email[ekey] = row.number
        if mobile:
            self._seen_mobile[mobile] = row.number
        return MappedRow(row.number, contact=Contact(email=email, mobile=mobile, fields=tuple(fields), external_id=external_id))

    def map_rows(self, rows: Iterable[SourceRow]) -> list[MappedRow]:
        out = []
        for r in rows:
            m = self.map_row(r)
            if m is not None:
                out.append(m)
        return out
