"""Plain data types that cross module boundaries (mapping -> inwise -> results).

Nothing here does I/O.  Modules upstream in the data path never import modules downstream;
all of them may import this one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Contact:
    """One contact, normalised and ready to send to inwise."""

    email: str | None  # email-validator's normalised form, e.g. "dana@example.co.il"
    mobile: str | None  # international digits only, no "+", e.g. "972541111111"
    fields: tuple[tuple[int, str], ...] = ()  # (personal field number, text), sorted by number
    external_id: str | None = None
    # what the row's own cells say (perrow.py); the defaults mean "as the mapping's inwise section says"
    groups: tuple[int, ...] = ()  # group IDs of this row, added to the mapping's inwise.groups
    remove_groups: tuple[int, ...] = ()  # group IDs to take it out of (groups mode "exactly")
    only_these_groups: bool = False  # inwise's remove_from_all_other_groups (groups mode "exactly_all")
    confirmation_status: str | None = None  # this row's status (consent column), over the mapping's

    def per_row(self) -> tuple[object, ...]:
        """The per-row part, empty when the row says nothing beyond the mapping (fingerprints)."""
        extra = (self.groups, self.remove_groups, self.only_these_groups, self.confirmation_status)
        return () if extra == ((), (), False, None) else extra

    def field_dict(self) -> dict[int, str]:
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class SendOptions:
    """What every contact of a run is sent with (from the mapping's ``inwise`` section)."""

    groups: tuple[int, ...] = ()
    confirmation_status: str | None = None  # e.g. "confirmed"; None = leave to inwise
    default_country_code: str = "972"  # calling code, digits only
    trim_leading_zero: bool = True
    update_existing: bool = True  # batchInsert's updateExistingContacts
    clear_existing_fields: bool = False


UpsertStatus = Literal["ok", "conflict", "rejected", "error"]


@dataclass(slots=True)
class UpsertResult:
    """The outcome of one POST /contacts, after retries.

    - ok:        2xx; ``contact_id`` is set, or None when the answer held no readable id
                 (inwise applied the change; ``message`` says it gave no id).
    - conflict:  422; ``conflict`` maps "email"/"mobile" to the existing contact IDs.
    - rejected:  another 4xx; ``message`` is inwise's own message.
    - error:     retries ran out (5xx, 429, timeouts, dropped connections); ``message`` says what.
    """

    status: UpsertStatus
    contact_id: int | None = None
    conflict: dict[str, int] = field(default_factory=dict)
    message: str | None = None
    http_status: int | None = None


@dataclass(slots=True)
class BatchResult:
    """The outcome of one POST /contacts/batchInsert call (a chunk of rows)."""

    ok: bool
    http_status: int | None = None
    message: str | None = None
    body: dict | None = None  # inwise's JSON answer, whatever it holds (undocumented)
