"""The outage breaker: when inwise stops answering, stop sending instead of trying every row.

Each row (or batch) already goes through the one retry policy (``retry.py``); a row that still
ends in 5xx, 429, a timeout or a dropped connection is a *failed call*.  ``outage_after`` failed
calls in a row (in completion order, a success or a row's own refusal resets the count) mean
inwise is down, not the rows: the breaker trips, no new request starts, requests already on the
wire finish and keep their result, and every row not sent says so (``NOT_SENT_UNAVAILABLE``) and
is sent by the next run.  The run then ends with ``errors.InwiseUnavailable``'s exit code (69).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..cancel import CancelToken
from ..messages.catalog import msg

NOT_SENT_UNAVAILABLE = msg("sync.unavailable")


@dataclass
class OutageBreaker:
    after: int  # failed calls in a row that trip it
    failures: int = 0
    tripped: bool = False
    last: str = ""  # the last failure's words (no personal data: statuses, timeouts)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, failed: bool, message: str | None = None) -> None:
        """One call's end (thread-safe: the client's workers report as soon as they know)."""
        with self._lock:
            if self.tripped:
                return
            if not failed:
                self.failures = 0
                return
            self.failures += 1
            self.last = message or self.last
            if self.failures >= self.after:
                self.tripped = True

    def is_set(self) -> bool:
        return self.tripped


class StopWhen:
    """A cancel flag set when the user stops the run or the breaker trips (``InwiseClient`` takes it)."""

    def __init__(self, cancel: CancelToken, breaker: OutageBreaker) -> None:
        self.cancel, self.breaker = cancel, breaker

    def is_set(self) -> bool:
        return self.cancel.is_set() or self.breaker.is_set()


#: What to do after an outage (the CLI prints it; an alert has its own "What to do" line).
OUTAGE_ADVICE = ("Run the sync again later (a scheduled run does so by itself); if this lasts, check inwise's status "
                 "or ask inwise support.")


def outage_message(breaker: OutageBreaker, *, sent: int, total: int, unit: str = "rows") -> str:
    left = total - sent
    return (
        f"inwise is unavailable: {breaker.failures} {unit} in a row got no answer after every retry "
        f"({breaker.last or 'no answer'}), so the sync stopped sending. {sent} of {total} rows were sent and have "
        f"their result; the other {left} say 'not sent: inwise unavailable' and nothing was lost: the next sync "
        f"sends them. {OUTAGE_ADVICE}")
