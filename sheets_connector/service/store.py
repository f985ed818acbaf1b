"""What the web service needs from the outside world, as small typed interfaces.

- ``RunStore``: the run registry, the per-spreadsheet run lock and the replay guard.  There is
  one registry: the state store's (``runstore.StateRunStore``), shared with ``sheets-connector
  sync`` from a shell or cron and, on PostgreSQL, with every replica behind a load balancer.
- ``Runner``: one sync of one mapping file; the service calls it in a worker thread.

The records that cross these interfaces (``Run``, ``RunResult``, ``RunProgress``) are plain
dataclasses; the HTTP layer turns them into JSON.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from ..cancel import CancelToken
from ..messages.catalog import from_json, render, said_from_json

RunState = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})
Trigger = Literal["menu", "schedule"]

# What a run keeps of the runner's summary, so a status answer stays small.
MAX_PROBLEMS = 100
MAX_PREVIEW = 20

# progress(stage, done, total): the same callback shape as ``sync.Progress``
ProgressFn = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class RunProgress:
    stage: str
    done: int
    total: int | None = None


@dataclass
class RunResult:
    """The part of a run summary the sheet shows: counts, rows that need attention, preview."""

    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)  # {"row", "outcome", "detail"}
    problems_total: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)  # dry run: contacts as they would be sent
    preview_lines: list[str] = field(default_factory=list)  # dry run: the first of them in words
    would_send: int | None = None
    rows_read: int = 0
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False
    language: str = "en"  # the mapping's language, for the sheet menu's texts

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> RunResult:
        """Keep what the sheet needs of a runner's summary (``RunSummary.to_dict()`` shape)."""
        counts = {str(k): int(v) for k, v in dict(summary.get("counts") or {}).items()}
        language = "he" if summary.get("language") == "he" else "en"
        problems = [_in_language(p, language) for p in summary.get("problems") or []]
        total = len(problems) + int(summary.get("problems_truncated") or 0)
        would_send = summary.get("would_send")
        return cls(
            counts=counts,
            problems=problems[:MAX_PROBLEMS],
            problems_total=total,
            preview=[dict(p) for p in (summary.get("preview") or [])[:MAX_PREVIEW]],
            preview_lines=[str(line) for line in (summary.get("preview_lines") or [])[:MAX_PREVIEW]],
            would_send=int(would_send) if would_send is not None else None,
            rows_read=int(summary.get("rows_read") or 0),
            warnings=[said_from_json(str(w), summary.get("said"), language) for w in summary.get("warnings") or []],
            interrupted=bool(summary.get("interrupted")),
            language=language,
        )


def _in_language(problem: dict[str, Any], language: str) -> dict[str, Any]:
    """A problem row as the sheet menu shows it: its reason in the mapping's language."""
    p = dict(problem)
    reason = p.pop("reason", None)
    if reason:
        p["detail"] = render(from_json(reason), language)
    return p


@dataclass(frozen=True)
class NewRun:
    spreadsheet_id: str
    trigger: Trigger
    dry_run: bool
    worksheet: str | None = None
    requested_by: str | None = None  # informational only (Session email is often blank)


@dataclass
class Run:
    id: str
    spreadsheet_id: str
    trigger: str  # menu, schedule; or cli etc. for a run read from the state store's history
    dry_run: bool
    state: RunState
    created_at: datetime
    worksheet: str | None = None
    requested_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: RunResult | None = None
    error: str | None = None  # user-readable, never a secret
    progress: RunProgress | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


class ReplayGuard(Protocol):
    def seen(self, key: str, expires_at: float) -> bool:
        """Record ``key`` until ``expires_at`` (unix seconds); True if it was already recorded.

        Must be atomic across processes sharing the store: of two concurrent calls with one
        key, exactly one returns False.
        """
        ...


@dataclass
class Claim:
    """A queued run holding its spreadsheet's lock: ``lock`` taken with ``token`` in ``store`` (a
    state store object of its own, whose heartbeat keeps the lock while the run waits and runs)."""

    run: Run
    number: int  # the run's number in the state store's history
    lock: str
    token: str
    store: Any


class RunStore(ReplayGuard, Protocol):
    """The run registry + per-spreadsheet run lock + replay guard, shared by every service instance."""

    def begin(self, sheet: Any, run: NewRun) -> Claim | str:
        """Take the spreadsheet's lock and file the run ``queued``, at once; or the id of the run
        holding the lock ("" when it is not a filed run)."""
        ...

    def started(self, claim: Claim) -> None:
        """The queued run leaves the queue (raises LockLost if its lock was taken over)."""
        ...

    def end(self, claim: Claim) -> None:
        """Give the lock back if the run still holds it, and let go of its store."""
        ...

    def claim_slot(self, spreadsheet_id: str, slot: datetime) -> bool:
        """True for the one caller in the fleet that runs this schedule slot."""
        ...

    def get_run(self, run_id: str) -> Run | None: ...

    def latest_run(self, spreadsheet_id: str, *, include_dry_runs: bool = False) -> Run | None:
        """The most recently created run of a spreadsheet (previews only if asked)."""
        ...

    def update_run(
        self,
        run_id: str,
        *,
        state: RunState | None = None,
        result: RunResult | None = None,
        error: str | None = None,
        progress: RunProgress | None = None,
    ) -> None:
        """Change what is given; ``running`` stamps started_at, a finished state finished_at."""
        ...

    def ping(self) -> bool:
        """Readiness: True when the store answers."""
        ...


class Runner(Protocol):
    """One sync of one mapping file.

    Called in a worker thread.  Must stop soon after ``cancel`` is set (the same token a Ctrl-C
    sets in the CLI), with every row already sent having its result written, and then return its
    summary with ``interrupted: true``.
    ``worksheet`` is the tab the user was on (informational: the mapping decides what is synced).
    Raises ``ConnectorError`` (a user-readable message) when the run cannot complete, and
    ``SheetBusy`` when another run (the CLI, cron...) holds the sheet's lock in the state store.
    Returns a ``RunSummary.to_dict()``-shaped dict (counts, problems, preview, would_send...).
    ``claim``: the queued run's (lock token, run number, state store): the sync goes on with that
    lock and that record instead of taking its own.
    """

    def __call__(
        self,
        config_path: Path,
        dry_run: bool,
        cancel: CancelToken,
        trigger: str,
        progress: ProgressFn,
        worksheet: str | None = None,
        claim: Claim | None = None,
    ) -> dict[str, Any]: ...
