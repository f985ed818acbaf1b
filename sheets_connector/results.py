"""Per-row outcomes and the words office staff read in the results column."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .messages import rtl, word
from .messages.catalog import Msg, msg, plain, render
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
    reason: Msg | None = None  # why, for ✗ outcomes (and for ✓ sent when inwise gave no id); rendered in a language
    conflict: dict[str, int] = field(default_factory=dict)
    unconfirmed: Msg | None = None  # batch mode: inwise reported failures in this row's batch without saying which
    unsettled: bool = False  # the new-contacts feed could not be read: created or updated is unknown
    key: RowKey | None = None  # the row's identity, so a table can place the result where the row is now
    created_stamp: str = ""  # created by an earlier sync: its date as the sheet showed it, kept

    @property
    def ref(self) -> RowRef:
        return RowRef(self.row, self.key)

    @property
    def ok(self) -> bool:
        return self.outcome in ("created", "updated")

    def detail_in(self, language: str | None = "en") -> str:
        """The reason in words, in ``language`` ("" when there is none)."""
        return render(self.reason, language) if self.reason is not None else ""

    @property
    def detail(self) -> str:
        """The reason in English (JSON output, logs)."""
        return self.detail_in("en")

    def status(self, stamp: str, language: str = "en") -> str:
        """The text written in the results column; ``stamp`` is the time as the sheet shows it."""
        return rtl(self._status(stamp, language), language)

    def _status(self, stamp: str, language: str) -> str:
        cid = f" · #{self.contact_id}" if self.contact_id is not None else ""
        if self.outcome == "created":
            return f"✓ {word('created', language)}{cid} · {self.created_stamp or stamp}"
        detail = self.detail_in(language)
        if self.outcome == "updated" and self.contact_id is None and detail:
            return f"✓ {word('sent', language)} · {stamp} · {detail}"  # inwise applied it but gave no id
        if self.outcome == "updated" and self.unsettled:
            return f"✓ {word('synced', language)}{cid} · {stamp}"
        if self.outcome == "updated" and self.unconfirmed:
            return f"✓ {word('updated?', language)} · {stamp} · {render(self.unconfirmed, language)}"
        if self.outcome == "updated":
            return f"✓ {word('updated', language)}{cid} · {stamp}"
        if self.outcome in NOT_SENT_BY_CHOICE:
            return detail
        return f"✗ {detail}"


def conflict_text(conflict: dict[str, int], message: str | None) -> Msg:
    if "email" in conflict and "mobile" in conflict:
        return msg("inwise.conflict_both", email=conflict["email"], mobile=conflict["mobile"])
    if "email" in conflict:
        return msg("inwise.conflict_email", email=conflict["email"])
    if "mobile" in conflict:
        return msg("inwise.conflict_mobile", mobile=conflict["mobile"])
    return msg("inwise.conflict_said", message=message) if message else msg("inwise.conflict")


def from_upsert(ref: RowRef, result: UpsertResult) -> RowOutcome:
    """Turn the client's answer into a row outcome (created/updated is settled later, from the feed)."""
    row, key = ref.number, ref.key
    if result.status == "ok":  # without an id, the client's message says so
        return RowOutcome(row, "updated", contact_id=result.contact_id, key=key,
                          reason=None if result.contact_id is not None else _no_id(result.message))
    if result.status == "conflict":
        return RowOutcome(row, "conflict", reason=conflict_text(result.conflict, result.message),
                          conflict=dict(result.conflict), key=key)
    if result.status == "rejected":
        return RowOutcome(row, "error", key=key, reason=msg("inwise.refused", message=result.message)
                          if result.message else msg("inwise.refused_no_reason"))
    return RowOutcome(row, "error", key=key, reason=msg("inwise.error", message=result.message)
                      if result.message else msg("inwise.error_no_answer"))


def _no_id(message: str | None) -> Msg | None:
    from .inwise.client import NO_ID_MESSAGE

    if not message:
        return None
    return msg("inwise.no_id") if message == NO_ID_MESSAGE else plain(message)
