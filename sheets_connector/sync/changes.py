"""Stage 1b, changes: which rows need sending, from each row's fingerprint and its last outcome.

A row's fingerprint is a hash of its contact as it would be sent (normalised email, mobile,
fields, external id) and of the mapping and inwise options that shape every payload (columns,
date formats, groups, confirmation status, mobile rules, mode, the inwise account).  A row is
sent when it is new to the store, its fingerprint changed, its last answer was not a success
(error, conflict, ``updated?``), or with ``--full``.  Otherwise it is *unchanged*: nothing is
sent and its result cell keeps its words and date - unless the cell no longer shows them (cleared,
a renamed results column): then the stored words are written back.

A row inwise answered in a run that stopped before the sheet was saved is *recovered*: its
answer is written without sending the row again (see run.py).  So is a row whose answer said
"✓ synced" because the feed could not be read then: it is settled again once the feed is read.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..config import Config
from ..messages.catalog import from_json, to_json
from ..model import Contact
from ..normalize import header_key
from ..results import RowOutcome
from ..state import RowRecord
from ..tables.base import CellValue, RowKey, RowRef, TableData
from .plan import Plan
from .send import ToSend


def config_fingerprint(config: Config, account: str) -> bytes:
    """What, besides a row's own cells, decides what inwise receives for it."""
    iw = config.inwise
    shape = {
        "columns": config.columns.model_dump(mode="json", exclude=_absent_per_row(config)),
        "date_format": config.date_format,
        "inwise": {"base_url": iw.base_url, "mode": iw.mode, "groups": iw.groups,
                   "confirmation_status": iw.confirmation_status, "update_existing": iw.update_existing,
                   "clear_existing_fields": iw.clear_existing_fields, "mobile": iw.mobile.model_dump(mode="json")},
        "account": account,
    }
    if config.groups:
        shape["groups"] = config.groups
    return hashlib.blake2b(json.dumps(shape, sort_keys=True).encode(), digest_size=16).digest()


def _absent_per_row(config: Config) -> set[str]:
    """Column keys that do not shape a payload: the per-row ones the mapping leaves out (so adding
    them to the schema kept every existing fingerprint) and do_not_sync (it only holds rows back)."""
    c = config.columns
    return {"do_not_sync"} | {k for k, v in (("groups", c.groups), ("consent", c.consent)) if v is None}


def fingerprint(contact: Contact, config_fp: bytes) -> str:
    # the per-row groups and status join only when present: a sheet without those columns keeps its fingerprints
    text = repr((contact.email, contact.mobile, contact.fields, contact.external_id) + contact.per_row())
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass") + config_fp, digest_size=16).hexdigest()


# the fields after row and outcome, with their defaults: a field at its default is left out of
# the store's copy (RowOutcome(**d) puts it back), so most rows keep 3-4 keys instead of 9
_BLANK = RowOutcome(0, "updated")
_OPTIONAL_FIELDS = tuple((f.name, getattr(_BLANK, f.name)) for f in fields(RowOutcome)
                         if f.name not in ("row", "outcome", "key"))
# outcome_dict's shortcut names these fields: a field added to RowOutcome must be added there too
assert {n for n, _ in _OPTIONAL_FIELDS} == {"contact_id", "reason", "conflict", "unconfirmed", "unsettled", "created_stamp"}


def outcome_dict(o: RowOutcome) -> dict[str, Any]:
    """RowOutcome as plain data for the store (a hand-made ``asdict``, fields at their default
    left out: the encoding and the JSON are a third of the full dict's on 100,000 rows)."""
    if (o.reason is None and o.unconfirmed is None and not o.conflict and o.unsettled is False
            and o.created_stamp == ""):
        # most rows (each answer's, each settled one's): only these fields can differ from their
        # default, so the loop below is not needed (half of this function's time on 100,000 rows)
        d: dict[str, Any] = {"row": o.row, "outcome": o.outcome}
        if o.contact_id is not None:
            d["contact_id"] = o.contact_id
        if o.key is not None:
            d["key"] = {"kind": o.key.kind, "value": o.key.value}
        return d
    d = {"row": o.row, "outcome": o.outcome}
    for name, default in _OPTIONAL_FIELDS:
        value = getattr(o, name)
        if value != default:
            d[name] = value
    for name in ("reason", "unconfirmed"):  # messages: stored by id and values, rendered when shown
        if name in d:
            d[name] = to_json(d[name])
    if o.key is not None:
        d["key"] = {"kind": o.key.kind, "value": o.key.value}
    return d


def outcome_from(d: Mapping[str, Any]) -> RowOutcome:
    data = dict(d)
    key = data.pop("key", None)
    # outcomes kept by earlier versions say why in English words ("detail")
    reason = data.pop("reason", None) or data.pop("detail", None) or None
    data.pop("detail", None)
    unconfirmed = data.pop("unconfirmed", None) or None
    return RowOutcome(**data, reason=from_json(reason) if reason else None,
                      unconfirmed=from_json(unconfirmed) if unconfirmed else None, key=RowKey(**key) if key else None)


def succeeded(outcome: Mapping[str, Any]) -> bool:
    return outcome.get("outcome") in ("created", "updated") and not outcome.get("unconfirmed")


def current_results(config: Config, data: TableData) -> dict[int, CellValue]:
    """{row number: what the results column shows now} (empty when the column is not there yet)."""
    wanted = header_key(config.results.column)
    idx = next((i for i, h in enumerate(data.header) if header_key(h) == wanted), None)
    if idx is None:
        return {}
    return {r.number: (r.values[idx] if idx < len(r.values) else None) for r in data.rows}


class Fingerprints(dict[int, str]):
    """Row number -> fingerprint (rows to send or recovered).  Those of rows the store does not
    know yet are only needed once their answer is recorded: they are worked out then (or ahead,
    by the batch send's worker while a chunk is in flight - ``warm``), not all before the send."""

    def __init__(self, config_fp: bytes = b"") -> None:
        super().__init__()
        self.config_fp = config_fp
        self.later: dict[int, Contact] = {}

    def __missing__(self, row: int) -> str:
        contact = self.later.get(row)
        if contact is None:
            raise KeyError(row)
        fp = self[row] = fingerprint(contact, self.config_fp)  # the same value from any thread
        return fp

    def get(self, row: int, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[row]
        except KeyError:
            return default

    def __contains__(self, row: object) -> bool:
        return dict.__contains__(self, row) or row in self.later

    def warm(self, rows: ToSend) -> None:
        for ref, _ in rows:
            if ref.number in self.later:
                self[ref.number]  # noqa: B018 - computed and kept


@dataclass
class Selection:
    to_send: ToSend = field(default_factory=list)
    fingerprints: Fingerprints = field(default_factory=Fingerprints)
    recovered: dict[int, RowRecord] = field(default_factory=dict)  # answered by an earlier run, never written
    contacts: dict[int, Contact] = field(default_factory=dict)  # of the recovered rows (batch settling)
    restore: dict[int, RowRecord] = field(default_factory=dict)  # unchanged, but the cell lost its words
    unchanged: int = 0
    records: Mapping[str, RowRecord] = field(default_factory=dict)  # the store's rows, as read before sending


def select(p: Plan, records: Mapping[str, RowRecord], config_fp: bytes, current: Mapping[int, CellValue], *,
           full: bool) -> Selection:
    sel = Selection(records=records, fingerprints=Fingerprints(config_fp))
    to_send: list[tuple[RowRef, Contact]] = []
    fingerprints, later = sel.fingerprints, sel.fingerprints.later
    known = records.get if records else None  # a first sync: no row to look up (100,000 str(key) saved)
    for m in p.mapped:
        contact = m.contact
        if contact is None:
            continue
        rec = known(str(m.key)) if known is not None and m.key is not None else None
        if rec is None or full:  # sent whatever its fingerprint: worked out when its answer is recorded
            to_send.append((RowRef(m.number, m.key), contact))
            later[m.number] = contact
            continue
        fp = fingerprint(contact, config_fp)
        if rec.fingerprint != fp or not succeeded(rec.outcome):
            to_send.append((RowRef(m.number, m.key), contact))
            fingerprints[m.number] = fp
        elif rec.state == "answered" or rec.outcome.get("unsettled"):
            sel.recovered[m.number] = rec
            sel.contacts[m.number] = contact
            sel.fingerprints[m.number] = fp
        else:
            sel.unchanged += 1
            if rec.status and current.get(m.number) != rec.status:
                sel.restore[m.number] = rec
    sel.to_send = to_send
    return sel
