"""Stages 4-6, settle, write and save: outcomes become result cells, then the table commits.

The store learns what was saved only after the save (run.py): a kill before that makes the next
run write the same words again, never lose them.

If the table cannot be saved (or the user abandons the write-back), every row's result is kept
in a CSV next to the workbook and the message says where.
"""
from __future__ import annotations

import contextlib
import csv
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cancel import CancelToken
from ..config import Config
from ..errors import ConnectorError, SourceError
from ..messages import created_in_cell
from ..messages.catalog import Place, Said, error_words, msg, said
from ..normalize import email_key
from ..results import RowOutcome
from ..tables.base import CellValue, RowRef, Table
from .newcontacts import PulledIndex
from .send import Outcomes, ToSend
from .summary import RunSummary

log = logging.getLogger(__name__)

ResultColumns = dict[str, dict[RowRef, CellValue]]


def settle_created(outcomes: Outcomes, to_send: ToSend, pulled: PulledIndex) -> None:
    """A row is 'created' exactly when its contact shows up in the created-contacts feed."""
    contacts = {ref.number: c for ref, c in to_send}
    for row, o in outcomes.items():
        if o.outcome != "updated":
            continue
        if o.contact_id is not None:
            if str(o.contact_id) in pulled.ids:
                o.outcome = "created"
            continue
        c = contacts.get(row)
        if c is None:
            continue
        cid = (pulled.by_email.get(email_key(c.email)) if c.email else None) or (
            pulled.by_mobile.get(c.mobile) if c.mobile else None)
        if cid is not None:
            o.outcome = "created"
            o.contact_id = cid
            o.unconfirmed = None


def mark_unsettled(outcomes: Outcomes) -> None:
    """The feed could not be read: created and updated cannot be told apart ('✓ synced')."""
    for o in outcomes.values():
        if o.outcome == "updated":
            o.unsettled = True


def status_texts(config: Config, outcomes: Mapping[int, RowOutcome], when: datetime) -> dict[int, str]:
    stamp = config.result_time(when)
    return {row: o.status(stamp, config.language) for row, o in outcomes.items()}


def keep_created(outcomes: Outcomes, current: Mapping[int, CellValue], records: Mapping[str, Any],
                 fingerprints: Mapping[int, str]) -> None:
    """A row the sync created keeps saying so, with its date, when inwise now answers "updated"
    for the same contact and the row did not change (``--full``, a lost or new state store): the
    sheet's own results cell ("✓ created · #123 · 7 Dec 2026 02:31", in any language) or the
    store's record says so.  A row staff changed since says "updated": that is what happened."""
    for row, o in outcomes.items():
        if o.outcome != "updated" or o.unconfirmed:
            continue
        rec = records.get(str(o.key)) if o.key is not None else None
        if rec is not None and rec.fingerprint != fingerprints.get(row):
            continue
        if rec is not None and rec.outcome.get("outcome") == "created" and rec.status:
            earlier = created_in_cell(rec.status)
        else:
            earlier = created_in_cell(current.get(row))
        if earlier is None:
            continue
        cid, stamp = earlier
        if cid is not None and o.contact_id is not None and cid != o.contact_id:
            continue  # another contact now: this row did not create it
        o.outcome = "created"
        o.created_stamp = stamp
        if o.contact_id is None:
            o.contact_id = cid
        o.unsettled = False


def result_columns(config: Config, outcomes: Mapping[int, RowOutcome], when: datetime,
                   kept: Mapping[int, tuple[str, datetime | None]] | None = None,
                   texts: Mapping[int, str] | None = None) -> ResultColumns:
    """The cells to write for these outcomes.  ``kept`` gives rows whose words were settled by
    an earlier run (row -> (status, synced at)): they are written as they were, date included.
    ``texts``: the words ``status_texts`` already gave some of these same outcomes at ``when``
    (100,000 rows: not worded twice)."""
    res = config.results
    stamp_text, language = config.result_time(when), config.language
    kept = kept or {}
    texts = texts or {}
    # one pass, one RowRef per row (100,000 rows: this runs on every row of a large sheet)
    results: dict[RowRef, CellValue] = {}
    ids: dict[RowRef, CellValue] = {}
    synced: dict[RowRef, CellValue] = {}
    stamp = when.replace(microsecond=0)
    want_ids, want_synced = bool(res.contact_id_column), bool(res.synced_at_column)
    for r, o in outcomes.items():
        ref = o.ref
        earlier = kept.get(r)
        if earlier is not None:
            results[ref] = earlier[0]
        else:
            text = texts.get(r)
            results[ref] = text if text is not None else o.status(stamp_text, language)
        if want_ids and o.contact_id is not None:
            ids[ref] = o.contact_id
        if want_synced and o.ok and (earlier is None or earlier[1]):
            synced[ref] = earlier[1] if earlier is not None else stamp
    columns: ResultColumns = {res.column: results}
    if res.contact_id_column:
        columns[res.contact_id_column] = ids
    if res.synced_at_column:
        columns[res.synced_at_column] = synced
    return columns


def has_cells(columns: ResultColumns) -> bool:
    return any(col for col in columns.values())


@contextmanager
def results_kept(table: Table, columns: ResultColumns, clock: Callable[[], datetime]) -> Iterator[None]:
    """Whatever breaks while the results are written or saved, every row's result survives in a CSV
    and the message says where (the contacts were sent: their results must not be lost)."""
    try:
        yield
    except ConnectorError as e:
        raise SourceError(_kept_message(error_words(e), fallback_csv(table, columns, clock()))) from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as e:  # noqa: BLE001 - whatever broke (a library's panic too), the rows' results must survive
        log.debug("writing the results failed", exc_info=True)
        problem = said("run.not_saved", location=Place(table.location), error=f"{type(e).__name__}: {e}")
        raise SourceError(_kept_message(problem, fallback_csv(table, columns, clock()))) from None


def _kept_message(problem: str, csv_path: str | None) -> Said:
    where = msg("run.kept_csv", path=csv_path) if csv_path else msg("run.kept_no_csv")
    return said("run.kept", problem=problem, where=where)


def save(table: Table, summary: RunSummary, columns: ResultColumns, cancel: CancelToken,
         clock: Callable[[], datetime]) -> None:
    """Commit the table; a hard stop waits for the save. On failure keep the results in a CSV."""
    with results_kept(table, columns, clock), cancel.critical():
        report = table.save()
    summary.written_to = report.path
    summary.is_copy = report.is_copy
    summary.lost = list(report.lost)
    if report.is_copy and report.message:
        summary.warnings.append(report.message)
    summary.warnings.extend(report.notes)  # e.g. the results column is hidden, or was shown


def fallback_csv(table: Table, columns: ResultColumns, when: datetime) -> str | None:
    """Keep the per-row results in a CSV next to the workbook, else in the current folder, else in
    the temporary folder; None when none can take it.  A file that could not be written whole
    is removed: a CSV left behind always holds every row (never a 0-byte or cut-off file)."""
    if not columns:
        return None
    path = getattr(table, "path", None)
    stem = Path(path).stem if path is not None else "sheet"
    folders = [Path(path).parent] if path is not None else []
    folders += [Path.cwd(), Path(tempfile.gettempdir())]
    name = f"{stem} sync results {when.strftime('%Y-%m-%d %H%M%S')}.csv"
    refs = sorted({r for col in columns.values() for r in col}, key=lambda r: r.number)
    for folder in dict.fromkeys(folders):
        out = folder / name
        try:
            with open(out, "w", newline="", encoding="utf-8-sig") as f:
                w = csv.writer(f)
                w.writerow(["Row", "Contact", *columns.keys()])
                for r in refs:
                    w.writerow([r.number, r.key.value if r.key else "", *(columns[h].get(r, "") for h in columns)])
                f.flush()
                os.fsync(f.fileno())  # a full disk may only say so when the data reaches it
        except OSError:
            log.debug("could not keep the results in %s", out, exc_info=True)
            with contextlib.suppress(OSError):
                out.unlink()
            continue
        return str(out)
    return None
