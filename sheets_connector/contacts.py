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
import logging
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date as _date
from typing import Any, Literal

from .config import Config
from .errors import ConfigError
from .gcpolicy import building, quiet_gc, settle
from .messages.catalog import Joined, Msg, Place, msg, render, said
from .model import Contact
from .normalize import (
    FieldTexts,
    ValueProblem,
    clean_text,
    date_pattern,
    email_key,
    format_field,
    header_key,
    is_blank,
    known_cells,
    known_email,
    known_mobile,
    normalize_email,
    normalize_mobile,
)
from .perrow import PerRowReader
from .sheet_dates import SheetLocale, read_text_date, text_date_problem
from .tables.base import RowKey, RowRef, SourceRow

log = logging.getLogger(__name__)


def find_column(header: Sequence[str], wanted: str, *, what: str, location: str, setting: str = "",
                content_pick: str | None = None) -> int:
    """Index of ``wanted`` in ``header``; a ConfigError that lists the headers and suggests one.

    ``setting`` says where the name comes from ("mapping.yaml, line 5 (columns.email)");
    ``content_pick`` is the header whose cells fit ``what`` (the column of mobiles), suggested
    before any header that only looks alike."""
    index, problem = _find(header, wanted, what=what, setting=setting, content_pick=content_pick)
    if index is None:
        raise ConfigError(said("err.missing_one", location=Place(location), problem=problem, listing=_listing(header)))
    return index


def _listing(header: Sequence[str]) -> object:
    """The header row's names, for an error that says a column is not there."""
    return ", ".join(repr(h) for h in header if clean_text(h)) or msg("err.header_empty")


def _find(header: Sequence[str], wanted: str, *, what: object, setting: str = "",
          content_pick: str | None = None) -> tuple[int | None, object]:
    """The column's index, or None and one line saying what is wrong and what to do."""
    key = header_key(wanted)
    hits = [i for i, h in enumerate(header) if header_key(h) == key]
    if len(hits) == 1:
        return hits[0], ""
    present = [h for h in header if clean_text(h)]
    if len(hits) > 1:
        cols = ", ".join(column_letter(i) for i in hits)
        return None, said("err.column_twice", wanted=wanted, what=what, n=len(hits), cols=cols)
    guess = content_pick or suggest_header(wanted, present, str(what))
    why = msg("err.cells_hold") if content_pick else ""
    hint = msg("err.did_you_mean", guess=guess, why=why) if guess else ""
    return None, said("err.no_column", wanted=wanted, what=what, hint=hint,
                      setting=Place(setting) if setting else msg("err.the_mapping"))


def content_column(header: Sequence[str], rows: Sequence[SourceRow], what: str, region: str | None,
                   newer: tuple[str, ...] = ()) -> str | None:
    """The header of the column whose cells are mostly emails (``what`` "email") or usable
    mobiles ("mobile"), looking at the first 200 rows; None when no column is."""
    best, best_n = None, 0
    sample = [r.values for r in rows[:200]]
    for i, h in enumerate(header):
        if not clean_text(h):
            continue
        cells = [v[i] for v in sample if i < len(v) and not is_blank(v[i])]
        if len(cells) < 2:
            continue
        good = 0
        for v in cells:
            try:
                if what == "email":
                    normalize_email(v)
                else:
                    normalize_mobile(v, region, newer)
                good += 1
            except ValueProblem:
                pass
            except ValueError:
                return None
        if good * 2 > len(cells) and good > best_n:
            best, best_n = clean_text(h), good
    return best


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^\w]+", header_key(text)) if w}


def suggest_header(wanted: str, present: Sequence[str], role: str = "") -> str | None:
    """The header the user most likely meant: by shared words first (``Email address`` for the
    email column -> ``email``, not ``address``), the role's own words counting double, then by
    spelling (``E-mial`` -> ``E-mail``)."""
    want, role_words = _words(wanted), _words(role)
    best, best_score = None, 0
    for h in present:
        words = _words(h)
        score = len(words & want) + 2 * len(words & role_words)
        if score > best_score:
            best, best_score = h, score
    if best is not None:
        return best
    by_key = {header_key(h): h for h in present}
    close = difflib.get_close_matches(header_key(wanted), list(by_key), n=1, cutoff=0.6)
    return by_key[close[0]] if close else None


def content_misfits(mapper: ContactMapper, header: Sequence[str], rows: Sequence[SourceRow]) -> list[Msg]:
    """For ``check``: the email (mobile) column whose cells are mostly not emails (usable mobiles),
    and where the cells that are seem to be - said before any row is sent."""
    notes = []
    c = mapper.columns
    for what, index in (("email", c.email), ("mobile", c.mobile)):
        if index is None:
            continue
        cells = [r.values[index] for r in rows[:200] if index < len(r.values) and not is_blank(r.values[index])]
        if len(cells) < 3:
            continue
        good = 0
        for v in cells:
            try:
                normalize_email(v) if what == "email" else normalize_mobile(v, mapper.region, mapper.newer_ranges)
                good += 1
            except ValueError:
                pass
        if good * 2 >= len(cells):
            continue
        facts = {"letter": column_letter(index), "header": clean_text(header[index]), "what": Msg(f"check.what_{what}"),
                 "good": good, "cells": len(cells), "plural": Msg(f"check.plural_{what}")}
        other = content_column(header, rows, what, mapper.region, mapper.newer_ranges)
        if other and header_key(other) != header_key(header[index]):
            notes.append(msg("check.misfit_elsewhere", **facts, other=other))
        else:
            notes.append(msg("check.misfit", **facts))
    return notes


#: The personal fields inwise documents, named for people: "personal field 1 (first name)".
FIELD_NAMES = {1: "first name", 2: "last name", 21: "birthday"}


def field_label(number: int) -> str:
    return f" ({FIELD_NAMES[number]})" if number in FIELD_NAMES else ""


def field_title(number: int, header: str = "", language: str = "en") -> str:
    """A personal field as staff know it: "first name (personal field 1)", or the sheet's header
    for a field inwise documents no name for: "City (personal field 6)"."""
    name: str | Msg = (Msg(f"check.field_{number}") if number in FIELD_NAMES
                       else clean_text(header) or Msg("check.field_unnamed"))
    return render(msg("check.field", name=name, n=number), language)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (0-based, as header lists are)."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _in_column(e: ValueProblem, column: str) -> Msg:
    return msg("in_column", problem=e.message, column=column)


@dataclass(slots=True)
class RowProblem:
    kind: Literal["invalid", "missing", "duplicate", "held", "no_consent"]
    message: Msg  # why, shown after "✗ " in the results column in the mapping's language
    column: str | None = None  # header of the offending column, when there is one

    def text(self, language: str | None = "en") -> str:
        return self.message.text(language)


@dataclass(slots=True)
class MappedRow:
    number: int
    contact: Contact | None = None
    problem: RowProblem | None = None
    key: RowKey | None = None  # the row's identity (see row_key); None when it has neither

    @property
    def ref(self) -> RowRef:
        return RowRef(self.number, self.key)


def describe_contact(contact: Contact, field_headers: dict[int, str], group_names: dict[int, str] | None = None,
                     language: str = "en") -> str:
    """A contact as staff recognise it: ``dana@example.co.il · +972541111111 · First name = Dana``."""
    def say(key: str, **values: object) -> str:
        return render(msg(key, **values), language)

    parts = [p for p in (contact.email, f"+{contact.mobile}" if contact.mobile else None) if p]
    parts += [f"{field_headers.get(n) or say('contact.field_n', n=n)} = {text}" for n, text in contact.fields]
    if contact.external_id:
        parts.append(f"{say('contact.external_id')} = {contact.external_id}")
    if contact.groups or contact.remove_groups or contact.only_these_groups:
        names = group_names or {}
        shown = ", ".join(names.get(g, str(g)) for g in contact.groups) or say("contact.no_groups")
        only = say("contact.only_these") if contact.remove_groups or contact.only_these_groups else ""
        parts.append(f"{say('contact.groups')} = {shown}{only}")
    if contact.confirmation_status:
        parts.append(f"{say('contact.status')} = {contact.confirmation_status}")
    return " · ".join(parts)


def row_key(email: str | None, mobile: str | None) -> RowKey | None:
    """A contact's identity: its normalised email, else its normalised mobile."""
    if email:
        return RowKey("email", email_key(email))
    if mobile:
        return RowKey("mobile", mobile)
    return None


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

    #: False: every cell through normalize_email / normalize_mobile / format_field, none through
    #: their fast paths for clean cells (known_email, known_mobile, FieldTexts); a test compares both
    fast_paths = True

    def __init__(self, config: Config, header: Sequence[str], location: str, rows: Sequence[SourceRow] = ()):
        self.config = config
        self.location = location
        self.region = config.inwise.mobile.region
        self.newer_ranges = tuple(config.inwise.mobile.newer_ranges)
        cols = config.columns
        at = config.locate
        problems: list[object] = []

        def find(wanted: str | None, what: object, setting: str, content: str | None = None) -> int | None:
            if not wanted:
                return None
            pick = None
            if content is not None and header_key(wanted) not in {header_key(h) for h in header}:
                pick = content_column(header, rows, content, self.region, self.newer_ranges)
            index, problem = _find(header, wanted, what=what, setting=setting, content_pick=pick)
            if problem:
                problems.append(problem)
            return index

        email = find(cols.email, msg("err.what_email"), at("columns", "email"), "email")
        mobile = find(cols.mobile, msg("err.what_mobile"), at("columns", "mobile"), "mobile")
        ext = find(cols.external_id, msg("err.what_external"), at("columns", "external_id"))
        fields: list[tuple[int, int, str]] = []
        field_headers: dict[int, str] = {}
        for number, spec in cols.field_columns().items():
            label = msg("err.field_label", name=msg(f"check.field_{number}")) if number in FIELD_NAMES else ""
            idx = find(spec.column, msg("err.what_field", n=number, label=label), at("columns", "fields", number))
            if idx is None:
                continue
            fields.append((number, idx, date_pattern(spec.date_format or config.date_format)))
            field_headers[number] = clean_text(header[idx])

        def find_per_row(h: Sequence[str], wanted: str, what: str, setting: str) -> int:
            index = find(wanted, what, setting)
            if index is None:
                if not header:
                    raise ConfigError(said("err.located", location=Place(location), problem=problems[-1]))
                return 0  # stands in: every problem is raised together below
            return index

        self.per_row = PerRowReader.resolve(config, header, find_per_row)
        if len(problems) == 1:
            raise ConfigError(said("err.missing_one", location=Place(location), problem=problems[0],
                                   listing=_listing(header)))
        if problems:
            raise ConfigError(said("err.missing_many", location=Place(location), n=len(problems),
                                   problems=Joined("\n", tuple(msg("err.bullet", item=p) for p in problems)),
                                   listing=_listing(header)))
        used = [i for i in (email, mobile, ext) if i is not None] + [i for _, i, _ in fields]
        # a consent column may also go to a personal field (the date consent was given): not counted twice
        used += [c.index for k, c in (self.per_row.columns() if self.per_row else {}).items() if k != "consent"]
        dupes = {i for i in used if used.count(i) > 1}
        if dupes:
            raise ConfigError(
                f"{location}: column {header[min(dupes)]!r} is mapped twice in the mapping file; "
                "each column can feed one thing only."
            )
        own: set[int] = set()
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
        self._boxes = {col.index for col in (self.per_row.columns().values() if self.per_row else ())}
        # date columns of a sheet with a locale: their text is read as that locale reads dates (see sheet_dates)
        self.text_dates: dict[int, SheetLocale] = {}
        self._seen_email: dict[str, int] = {}
        self._seen_mobile: dict[str, int] = {}
        self._field_texts = {idx: FieldTexts(number, pattern) for number, idx, pattern in fields}
        # in c.fields' order: (column, FieldTexts.known, FieldTexts.pair), the lookup done inline
        self._pairs = [(idx, self._field_texts[idx].known, self._field_texts[idx].pair) for _, idx, _ in fields]
        self._email_counts = email is not None and email not in own  # a cell _empty looks at
        self._mobile_counts = mobile is not None and mobile not in own
        self.helped_rows = 0  # rows whose email and mobile a helper process validated (map_rows)

    # -- one row ---------------------------------------------------------------------------
    def map_row(self, row: SourceRow) -> MappedRow | None:
        """One row: normalised, then checked against the rows mapped before it."""
        m = self.normalize_row(row)
        return None if m is None else self._dedupe(m)

    def normalize_row(self, row: SourceRow, known: tuple[str | None, str | None] | None = None) -> MappedRow | None:
        """One row on its own (no duplicate check): pure, so rows can be normalised in parallel.
        ``known``: the row's ``known_cells`` (its email's and mobile's fast-path answers), worked
        out by another process."""
        c = self.columns
        values = row.values
        problems: list[RowProblem] = []
        fast = self.fast_paths
        if fast and known is not None:
            email, mobile = known
        else:
            email = known_email(values[c.email]) if fast and c.email is not None else None
            mobile = known_mobile(values[c.mobile], self.region, self.newer_ranges) if fast and c.mobile is not None else None
        # a usable email or mobile is a cell that is not blank: the row is not empty (most rows)
        if not ((email is not None and self._email_counts) or (mobile is not None and self._mobile_counts)) \
                and self._empty(values):
            return None  # empty row (an unticked checkbox of a per-row column is empty too): skipped silently
        if email is None and c.email is not None and not is_blank(values[c.email]):
            try:
                email = normalize_email(values[c.email])
            except ValueProblem as e:
                problems.append(RowProblem("invalid", _in_column(e, c.headers["email"]), c.headers["email"]))
        if mobile is None and c.mobile is not None and not is_blank(values[c.mobile]):
            try:
                mobile = normalize_mobile(values[c.mobile], self.region, self.newer_ranges)
            except ValueProblem as e:
                problems.append(RowProblem("invalid", _in_column(e, c.headers["mobile"]), c.headers["mobile"]))
        key = (RowKey("email", email_key(email)) if email else RowKey("mobile", mobile) if mobile  # row_key, inline
               else None)
        held = self.per_row.held(values) if self.per_row is not None else None
        if held:  # before any check: staff often hold back a row they have not finished
            return MappedRow(row.number, problem=RowProblem("held", held, self.per_row.hold.header if self.per_row
                                                              and self.per_row.hold else None), key=key)
        if problems:
            # Sending the row without the bad value would create a contact the user did not ask for
            # and hide the typo; the row waits until the cell is fixed.
            why = msg("fix_cells", problems=tuple(p.message for p in problems))
            return MappedRow(row.number, problem=RowProblem("invalid", why, problems[0].column), key=key)
        if email is None and mobile is None:
            wanted = [h for h in (c.headers["email"], c.headers["mobile"]) if h]
            missing = (msg("row.missing_both", email=wanted[0], mobile=wanted[1]) if len(wanted) == 2
                       else msg("row.missing_one", column=wanted[0] if wanted else ""))
            return MappedRow(row.number, problem=RowProblem("missing", missing))

        fields: list[tuple[int, str]] = []
        if fast and not self.text_dates:  # most sheets: every field cell a text, number or date seen before
            for idx, known_pairs, pair_of in self._pairs:
                v = values[idx]
                if v is None:
                    continue
                cls = v.__class__  # the classes FieldTexts.known holds: an inline FieldTexts.pair
                pair = known_pairs.get(v) if cls is str or cls is int or cls is _date else None
                if pair is None:
                    pair = pair_of(v)
                    if pair is None:
                        fields = []
                        break  # the general path below says what is wrong with it
                if pair:
                    fields.append(pair)
            else:
                return self._contact(row, values, email, mobile, tuple(fields), key)
        for number, idx, pattern in c.fields:
            v = values[idx]
            if fast and idx not in self.text_dates:
                pair = self._field_texts[idx].pair(v)
                if pair is not None:
                    if pair:
                        fields.append(pair)
                    continue
            if is_blank(v):
                continue
            locale = self.text_dates.get(idx)
            if locale is not None and isinstance(v, str):
                try:
                    v = read_text_date(v, locale.order) or v
                except ValueProblem:
                    header = c.field_headers[number]
                    return MappedRow(row.number, key=key, problem=RowProblem(
                        "invalid", text_date_problem(clean_text(v), locale, header), header))
            try:
                text = format_field(v, date_format=pattern)
            except ValueProblem as e:
                return MappedRow(
                    row.number,
                    problem=RowProblem("invalid", _in_column(e, c.field_headers[number]), c.field_headers[number]),
                    key=key,
                )
            if text:
                fields.append((number, text))
        return self._contact(row, values, email, mobile, tuple(fields), key)

    def _contact(self, row: SourceRow, values: Sequence[Any], email: str | None, mobile: str | None,
                 fields: tuple[tuple[int, str], ...], key: RowKey | None) -> MappedRow:
        """The row's contact once its email, mobile and fields are known (or its problem)."""
        c = self.columns
        external_id = None
        if c.external_id is not None and not is_blank(values[c.external_id]):
            try:
                external_id = format_field(values[c.external_id])
            except ValueProblem as e:
                h = c.headers["external_id"]
                return MappedRow(row.number, problem=RowProblem("invalid", _in_column(e, h), h), key=key)

        if self.per_row is None:
            return MappedRow(row.number, Contact(email, mobile, fields, external_id), None, key)
        says = self.per_row.read(values)
        if says.problem:
            return MappedRow(row.number, problem=RowProblem("invalid", says.problem, says.problem_column), key=key)
        if says.no_consent:
            return MappedRow(row.number, problem=RowProblem("no_consent", says.no_consent, None), key=key)
        contact = Contact(email, mobile, fields, external_id, groups=says.groups or (),
                          remove_groups=says.remove_groups, only_these_groups=says.only_these_groups,
                          confirmation_status=says.confirmation_status)
        return MappedRow(row.number, contact=contact, key=key)

    def _empty(self, values: Sequence[object]) -> bool:
        own, boxes = self.columns.own, self._boxes
        for i, v in enumerate(values):
            if v is None or i in own or (v is False and i in boxes):
                continue
            if not isinstance(v, str) or not is_blank(v):
                return False
        return True

    def identify(self, row: SourceRow) -> RowKey | None:
        """The key of a row read again (a ``RowIdentifier`` for tables that place by identity)."""
        m = self.normalize_row(row)
        return None if m is None else m.key

    def _dedupe(self, m: MappedRow) -> MappedRow:
        """Duplicates inside the sheet: the first row wins, later ones say which row they repeat."""
        if m.contact is None:
            return m
        c = self.columns
        email, mobile = m.contact.email, m.contact.mobile
        # the row's key is its email's key when it has an email (row_key): not computed again
        ekey = (m.key.value if m.key is not None and m.key.kind == "email" else email_key(email)) if email else None
        if ekey and ekey in self._seen_email:
            return MappedRow(
                m.number,
                problem=RowProblem("duplicate", msg("row.duplicate_email", row=self._seen_email[ekey]), c.headers["email"]),
                key=m.key,
            )
        if mobile and mobile in self._seen_mobile:
            return MappedRow(
                m.number,
                problem=RowProblem("duplicate", msg("row.duplicate_mobile", row=self._seen_mobile[mobile]), c.headers["mobile"]),
                key=m.key,
            )
        if ekey:
            self._seen_email[ekey] = m.number
        if mobile:
            self._seen_mobile[mobile] = m.number
        return m

    def map_rows(self, rows: Iterable[SourceRow], *, workers: int | None = None) -> list[MappedRow]:
        """Every row, in sheet order.  A large sheet is normalised on all cores (see
        ``_normalize_in_parallel``); the duplicate check stays in this process, in row order, so
        the result is the same as one row at a time."""
        rows = rows if isinstance(rows, list) else list(rows)
        with quiet_gc(), building():  # it builds ~3 objects a row that live on: see gcpolicy
            settle()
            n = _worker_count(len(rows)) if workers is None else workers
            parallel = _normalize_in_parallel(self, rows, n) if n > 1 else None
            normalized = parallel if parallel is not None else (
                m for lo in range(0, len(rows), CHUNK_ROWS) for m in self.normalize_chunk(rows[lo:lo + CHUNK_ROWS]))
            return [self._dedupe(m) for m in normalized if m is not None]

    def normalize_chunk(self, rows: Sequence[SourceRow]) -> list[MappedRow | None]:
        """``normalize_row`` of each row, the chunk's email cells validated first, then its mobile
        cells (``known_cells``, as a helper process does), then its rows built: each library's
        code and data stay in the CPU's caches for a column, instead of alternating every row
        (measured ~5 µs a row less).  The same results as one row at a time."""
        c = self.columns
        if not self.fast_paths or (c.email is None and c.mobile is None):
            return [self.normalize_row(r) for r in rows]
        known = known_cells(*self.cells(rows), self.region, self.newer_ranges)
        return [self.normalize_row(r, k) for r, k in zip(rows, known, strict=True)]

    def cells(self, rows: Sequence[SourceRow]) -> tuple[list[Any], list[Any]]:
        """The email and mobile cells of ``rows``: all another process needs for ``known_cells``."""
        c = self.columns
        return ([r.values[c.email] for r in rows] if c.email is not None else [],
                [r.values[c.mobile] for r in rows] if c.mobile is not None else [])


# --- parallel normalisation -------------------------------------------------------------------

#: Below this many rows one process is as fast: measured (bench data, this 2-core machine, a
#: fresh process each) the busy process's CPU - the wall time on an idle machine - is the same
#: with a helper at ~6,000 rows (0.47 s), 20% less at 10,000, 31% at 20,000, 45% at 100,000;
#: a helper costs ~0.3 s of CPU more in all (a forkserver, its imports), so it starts at 10,000.
PARALLEL_MIN_ROWS = 10_000
CHUNK_ROWS = 1_000  # a helper's task: ~50 ms of validation, ~40 KiB of cells there, ~50 KiB of answers back
IN_FLIGHT = 4  # chunks queued per helper: it never waits for this process, which never waits long at the end


def _main_importable() -> bool:
    """Worker processes re-import ``__main__``: only possible when it is a module or a real file
    (not ``python -`` reading stdin, say), else they would crash at start."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


def _worker_count(rows: int) -> int:
    if rows < PARALLEL_MIN_ROWS or not _main_importable():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _normalize_in_parallel(mapper: ContactMapper, rows: list[SourceRow], workers: int, *,
                           patient: bool = False) -> list[MappedRow | None] | None:
    """Rows normalised by this process and ``workers - 1`` helper processes, in order; None when
    there is nothing worth sending to another process.  ``patient``: wait for the helpers'
    first answer however slow they start (tests), instead of doing their chunks here.

    Only the email and mobile cells of a helper's chunk travel to it, and only their answers
    (the normalised texts, None for anything else) come back: this process maps every row
    with them, so no row is copied whole and the results are exactly one process's.  This
    process takes chunks from the front of the sheet while the helpers take them from the
    back, so the work balances itself however busy the cores are.  The helpers start in a
    thread while this process works; a chunk a helper has not answered (it is still starting,
    it failed, a cell could not be sent) is mapped here, so helpers only ever save time."""
    import multiprocessing
    import threading
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    c = mapper.columns
    if not mapper.fast_paths or (c.email is None and c.mobile is None) or not rows:
        return None
    # forkserver, not fork: this process may run threads (an in-process sandbox, a web server)
    # and forking those is unsafe
    ctx: multiprocessing.context.BaseContext
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # platforms without it
        ctx = multiprocessing.get_context("spawn")
    helpers = workers - 1
    bounds = [(i, min(i + CHUNK_ROWS, len(rows))) for i in range(0, len(rows), CHUNK_ROWS)]
    out: list[list[MappedRow | None] | None] = [None] * len(bounds)
    args = (mapper.region, mapper.newer_ranges)
    pending: deque[tuple[int, Future[list[tuple[str | None, str | None]]]]] = deque()
    failed: list[BaseException] = []

    def submit(pool: ProcessPoolExecutor, index: int) -> None:
        lo, hi = bounds[index]
        pending.append((index, pool.submit(known_cells, *mapper.cells(rows[lo:hi]), *args)))

    gate = threading.Lock()
    started: list[Future[list[tuple[str | None, str | None]]]] = []
    abandoned = up = False

    def start(pool: ProcessPoolExecutor, index: int) -> None:
        nonlocal up
        try:  # the first submit starts the processes (a forkserver, then the helpers): seconds on a busy machine
            lo, hi = bounds[index]
            started.append(pool.submit(known_cells, *mapper.cells(rows[lo:hi]), *args))
        except Exception as e:  # noqa: BLE001 - no processes here: the chunk is mapped in this one
            failed.append(e)
        with gate:
            up = True
            if abandoned:  # this process finished without the helpers
                pool.shutdown(wait=False, cancel_futures=True)

    front, back = 0, len(bounds) - 1  # the last chunk is the helpers' first
    queue = 1  # chunks queued per helper: one until a helper has answered
    pool = ProcessPoolExecutor(max_workers=helpers, mp_context=ctx)
    starter = threading.Thread(target=start, args=(pool, back), name="map-helpers", daemon=True)
    starter.start()
    try:
        while front < back or pending or started or (patient and starter.is_alive()):
            if not starter.is_alive():
                pending.extend((len(bounds) - 1, f) for f in started)
                started.clear()
            while not starter.is_alive() and not failed and len(pending) < queue * helpers and front < back:
                back -= 1
                submit(pool, back)
            done = [p for p in pending if p[1].done()]
            if not done and front >= back:  # nothing left for this process
                if queue == 1 and not patient:
                    break  # no helper has answered yet: its chunks are mapped here (below)
                if not pending:
                    starter.join()
                    continue
                wait([f for _, f in pending], return_when=FIRST_COMPLETED)
                done = [p for p in pending if p[1].done()]
            for index, future in done:
                pending.remove((index, future))
                try:
                    known = future.result()
                except Exception as e:  # noqa: BLE001 - a broken helper, a cell it could not be sent
                    failed.append(e)
                    continue
                lo, hi = bounds[index]
                out[index] = [mapper.normalize_row(r, k) for r, k in zip(rows[lo:hi], known, strict=True)]
                mapper.helped_rows += hi - lo
                queue = IN_FLIGHT
            if front < back:
                lo, hi = bounds[front]
                out[front] = mapper.normalize_chunk(rows[lo:hi])
                front += 1
    finally:
        with gate:  # helpers that have answered are waited for; the pool still starting closes itself
            if not up:
                abandoned = True
            else:
                pool.shutdown(wait=queue > 1, cancel_futures=True)
    if failed:
        log.info("normalising rows in one process (%s: %s)", type(failed[0]).__name__, failed[0])
    for index, part in enumerate(out):
        if part is None:
            lo, hi = bounds[index]
            out[index] = mapper.normalize_chunk(rows[lo:hi])
    return [m for part in out if part is not None for m in part]
