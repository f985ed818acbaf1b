"""Alerts: someone hears about a run that failed, was stopped, or left rows needing attention.

The mapping's ``alerts:`` section (``settings.py``) names where they go: email over SMTP and/or a
chat webhook (Slack, Microsoft Teams, or JSON for your own receiver).  ``notify_run_end`` is
called by the library when a sync or pull-new ends, so command-line, scheduled (cron, Task
Scheduler) and web-service runs alike alert.  What is sent when is ``events.py``: one message per
new trouble, a reminder at most every ``repeat_hours`` while it lasts, one "works again" after.
Delivery is ``deliver.py``; an alert that cannot be delivered is logged and added to the run's
warnings, and never fails the run.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from ..errors import ConnectorError, RunStopped, StateError
from ..messages.catalog import Joined, Msg, Said, error_words, msg, render, said
from .deliver import deliver, webhook_body
from .events import Alert, RunEnd, Status, decide
from .settings import AlertSettings, EmailAlert, WebhookAlert

__all__ = ["Alert", "AlertSettings", "EmailAlert", "RunEnd", "Status", "WebhookAlert", "deliver", "end_of", "notify",
           "webhook_body"]

log = logging.getLogger(__name__)

#: The state store's meta key of a sheet's last alert.
META_KEY = "alerts:{sheet}"


class Meta(Protocol):
    """What alerts need of the state store."""

    def meta_get(self, key: str) -> str | None: ...

    def meta_set(self, key: str, value: str) -> None: ...


def end_of(*, sheet: str, label: str, command: str, trigger: str, run_id: int | None, at: datetime,
           summary: object | None = None, error: BaseException | None = None, attention_rows: int = 0,
           not_sent_details: frozenset[object] = frozenset(), language: str = "en") -> RunEnd:
    """The run's end from its summary (it completed) or the error that ended it; its alert is
    said in ``language`` (the mapping's)."""
    end = RunEnd(sheet, label, command, trigger, run_id, at, "ok", language=language)
    if error is not None:
        end.status = "stopped" if isinstance(error, (RunStopped, KeyboardInterrupt)) else "failed"
        end.what = (error_words(error) if isinstance(error, ConnectorError)
                    else said("alert.unexpected", name=type(error).__name__))
        return end
    counts = dict(getattr(summary, "counts", {}) or {})
    end.counts = counts
    end.not_sent = sum(1 for o in getattr(summary, "outcomes", []) if o.reason in not_sent_details)
    outage, failure = getattr(summary, "outage", None), getattr(summary, "error", None)
    if outage:
        end.status, end.what = "unavailable", _without_advice(outage)
    elif failure:
        end.status, end.what = "failed", failure
    elif getattr(summary, "interrupted", False):
        stopped = tuple(w for w in getattr(summary, "warnings", []) if w.startswith("Stopped"))
        words = " ".join(stopped)
        end.status = "stopped"
        end.what = (said("alert.stopped_what", said=Joined(" ", stopped)) if len(words) <= 400
                    else "stopped before every row was sent: " + words[:400])
    elif attention_rows and end.attention >= attention_rows:
        end.status = "attention"
    return end


def _without_advice(outage: str) -> str:
    """The outage in the run's words without its advice: the alert says what to do on a line of its own."""
    if isinstance(outage, Said) and outage.message.id == "run.outage":
        return Said(Msg("alert.outage", tuple(kv for kv in outage.message.args if kv[0] != "advice")))
    return outage.removesuffix(" " + render(msg("run.outage_advice"), "en"))


def notify(settings: AlertSettings | None, end: RunEnd, store: Meta | None,
           environ: Mapping[str, str] | None = None) -> list[str]:
    """Send what ``end`` calls for (see ``events.decide``); returns what could not be delivered.

    ``store``: the run's state store (its meta keeps the sheet's last alert); None or a failing
    store: the alert is sent without the summarising (better twice than never)."""
    if settings is None:
        return []
    key = META_KEY.format(sheet=end.sheet)
    previous = None
    try:
        previous = store.meta_get(key) if store is not None else None
    except StateError:
        log.debug("alerts: the last alert of %s could not be read", end.label, exc_info=True)
    alert, state = decide(previous, end, settings.repeat_hours)
    failures = deliver(settings, alert, environ if environ is not None else os.environ) if alert else []
    for failure in failures:
        log.warning("alerts: could not send the alert about %s by %s", end.label, failure)
    channels = (settings.email is not None) + (settings.webhook is not None)
    undelivered = alert is not None and len(failures) == channels  # nobody heard it: the next run tries again
    if state is not None and store is not None and not undelivered:
        try:
            store.meta_set(key, state)
        except StateError:
            log.debug("alerts: the last alert of %s could not be kept", end.label, exc_info=True)
    return failures

