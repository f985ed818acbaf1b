"""Per-row outcomes and the words office staff read in the results column."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .messages import rtl, word
from .model import UpsertResult
from .tables.base import RowKey, RowRef

Outcome = Literal["created", "updated", "conflict", "invalid", "missing", "duplicate", "error", "held", "no_consent"]
# "missing": a row with data but neither an email nor a mobile (its own line: real lists have many)
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "conflict", "invalid", "missing", "duplicate", "error")
# Rows not sent because staff said so (do-not-sync, no consent): their words, no ✗, not "needing attention";
# counted in a run's summary only when there are any (sheets without those columns never have them)
NOT_SENT_BY_CHOICE: frozenset[str] = frozenset({"held", "no_consent"})


@dataclass(slots=True)
class RowOutcome:
    row: int
    outcome: Outcome
    contact_id: int | None = None
    detail: str = ""  # plain words for ✗ outcomes (and for ✓ sent when inwise gave no id)
    conflict: dict[str, int] = field(default_factory=dict)
    unconfirmed: str = ""  # batch mode: inwise reported failures in this row's batch without saying which
    unsettled: bool = False  # the new-contacts feed could not be read: created or updated is unknown
    key: RowKey | None = None  # the row's identity, so a table can place the result where the row is now
    created_stamp: str = ""  # created by an earlier sync: its date as the sheet showed it, kept

    @property
    def ref(self) -> RowRef:
        return RowRef(self.row, self.key)

    @property
    def ok(self) -> bool:
        return self.outcome in ("created", "updated")

    def status(self, stamp: str, language: str = "en") -> str:
        """The text written in the results column; ``stamp`` is the time as the sheet shows it."""
        return rtl(self._status(stamp, language), language)

    def _status(self, stamp: str, language: str) -> str:
        cid = f" · #{self.contact_id}" if self.contact_id is not None else ""
        if self.outcome == "created":
            return f"✓ {word('created', language)}{cid} · {self.created_stamp or stamp}"
        if self.outcome == "updated" and self.contact_id is None and self.detail:
            return f"✓ {word('sent', language)} · {stamp} · {self.detail}"  # inwise applied it but gave no id
        if self.outcome == "updated" and self.unsettled:
            return f"✓ {word('synced', language)}{cid} · {stamp}"
        if self.outcome == "updated" and self.unconfirmed:
            return f"✓ {word('updated?', language)} · {stamp} · {self.unconfirmed}"
        if self.outcome == "updated":
            return f"✓ {word('updated', language)}{cid} · {stamp}"
        if self.outcome in NOT_SENT_BY_CHOICE:
            return self.detail
        return f"✗ {self.detail}"


def conflict_text(conflict: dict[str, int], message: str | None) -> str:
    parts = []
    if "email" in conflict:
        parts.append(f"email → #{conflict['email']}")
    if "mobile" in conflict:
        parts.append(f"mobile → #{conflict['mobile']}")
    if parts:
        return (
            "conflict: " + ", ".join(parts)
            + " (two different inwise contacts: correct the email or the mobile, or merge the contacts in inwise)"
        )
    return f"conflict: {message or 'inwise reported a conflict'}"


def from_upsert(ref: RowRef, result: UpsertResult) -> RowOutcome:
    """Turn the client's answer into a row outcome (created/updated is settled later, from the feed)."""
    row, key = ref.number, ref.key
    if result.status == "ok":  # without an id, the client's message says so
        return RowOutcome(row, "updated", contact_id=result.contact_id, key=key,
                          detail="" if result.contact_id is not None else result.message or "")
    if result.status == "conflict":
        return RowOutcome(row, "conflict", detail=conflict_text(result.conflict, result.message),
                          conflict=dict(result.conflict), key=key)
    if result.status == "rejected":
        return RowOutcome(row, "error", key=key,
                          detail=f"inwise refused this row: {result.message or 'no reason given'} - fix the row and sync again")
    return RowOutcome(row, "error", key=key,
                      detail=f"inwise error: {result.message or 'no answer'} - sync again later to retry this row")
