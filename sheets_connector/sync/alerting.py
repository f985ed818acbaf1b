"""The run's end, told to the mapping's alerts (``sheets_connector.alerts``): called by ``sync``
and ``pull_new`` whatever started them, after the run's record is filed and before the store
closes.  A dry run and a run refused because another holds the sheet tell nothing."""
from __future__ import annotations

import logging

from .. import alerts
from ..errors import SheetBusy
from ..messages.catalog import said
from .collaborators import Run
from .send import NOT_SENT_DETAILS
from .session import RunSession
from .summary import RunSummary

log = logging.getLogger(__name__)


def run_ended(run: Run, command: str, session: RunSession | None, *, summary: RunSummary | None = None,
              error: BaseException | None = None) -> None:
    settings = run.config.alerts
    if settings is None or isinstance(error, SheetBusy):
        return
    try:
        ident = run.config.identity()
        end = alerts.end_of(sheet=ident.sheet, label=ident.label, command=command, trigger=run.trigger,
                            run_id=session.run_id if session is not None else (summary.run_id if summary else None),
                            at=run.clock(), summary=summary, error=error, attention_rows=settings.attention_rows,
                            not_sent_details=NOT_SENT_DETAILS, language=run.config.language)
        failures = alerts.notify(settings, end, run.store, run.environ)
    except Exception:  # noqa: BLE001 - an alert must never fail the run
        log.warning("alerts: the alert about this run could not be made", exc_info=True)
        return
    if summary is not None:
        summary.warnings.extend(said("run.alert_failed", channel=f) for f in failures)
