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
from ..messages.catalog import msg, said

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
OUTAGE_ADVICE = str(msg("run.outage_advice"))


def outage_message(breaker: OutageBreaker, *, sent: int, total: int, unit: str = "rows") -> str:
    return said("run.outage", failures=breaker.failures, unit=msg(f"run.unit_{unit}"),
                last=breaker.last or msg("run.no_answer"), sent=sent, total=total, left=total - sent,
                advice=msg("run.outage_advice"))
