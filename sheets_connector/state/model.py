"""The records the state store hands out (plain dataclasses: any store implementation returns these)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FeedAnswer:
    """One kept answer of inwise's ``GET /contacts`` feed."""

    id: int
    account: str
    state: str  # received (raw kept, not read yet), parsed, partial (some items are not contacts), unreadable
    contacts: int  # contacts read from it
    problems: list[str] = field(default_factory=list)
    received_at: str = ""
    commit_ms: float | None = None  # time from the answer's last byte to its durable commit
    # the items as decoded when the answer was kept (never stored): its reader indexes them
    # without decoding the answer again; None when read back from the store
    items: list[Any] | None = field(default=None, repr=False, compare=False)


@dataclass
class RowRecord:
    """What the store knows of one row (by its key) of one sheet."""

    key: str
    fingerprint: str  # of the payload last answered by inwise (see sync/changes.py)
    state: str  # answered: inwise answered, the sheet may not show it yet; written: the sheet shows ``status``
    outcome: dict[str, Any]  # RowOutcome fields (results.RowOutcome), as inwise answered or as settled
    status: str | None = None  # the text written (or being written) into the results column
    synced_at: str | None = None  # ISO time of that write


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: a run of some process, since when."""

    name: str
    run_id: int | None
    process: str
    host: str
    label: str
    since: str  # ISO time
    heartbeat: float  # unix time of its last sign of life
    grant: int = 0  # the lock grant's number: each take and takeover gets a larger one


@dataclass(frozen=True)
class QueuedRun:
    """A run the web service queues: filed ``queued``, holding the sheet's lock until it runs."""

    dry_run: bool = False
    worksheet: str | None = None
    requested_by: str | None = None


@dataclass
class RunRecord:
    """One run in the history."""

    id: int
    sheet: str
    label: str  # the sheet, in words ("contacts.xlsx, sheet 'Contacts'")
    command: str  # sync, pull-new
    trigger: str  # cli, menu, schedule
    status: str  # queued (the service's), running, ok, failed, stopped, crashed
    stage: str
    started_at: str
    finished_at: str | None = None
    duration_s: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    summary: dict[str, Any] | None = None
    process: str | None = None
    host: str | None = None
    # what the web service keeps of a run it queued (status "queued" until it leaves the queue)
    dry_run: bool = False
    worksheet: str | None = None
    requested_by: str | None = None
    progress: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    running_at: str | None = None

    def to_dict(self, *, with_summary: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "sheet": self.label, "command": self.command, "trigger": self.trigger,
            "status": self.status, "stage": self.stage, "started_at": self.started_at,
            "finished_at": self.finished_at, "duration_s": self.duration_s, "counts": self.counts,
            "error": self.error,
        }
        if with_summary:
            d["summary"] = self.summary
        return d


class LockHeld(Exception):
    """A lock is held by a live run (carries the holder so the caller can word the message)."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"{holder.name} is held by run {holder.run_id}")
        self.holder = holder
