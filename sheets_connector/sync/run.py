"""A run assembled from its parts: lock -> plan -> changes -> one pass (passes.py: send -> pull -> write -> save).

``sync`` and ``pull_new`` take their collaborators (table, state store, inwise client factory,
clock, progress callback, cancel token); the CLI, the web service and the scheduler each build
their own.  Stopping is the cancel token's job everywhere; a ``KeyboardInterrupt`` reaching a
stage is a hard stop (a second Ctrl-C): the results known so far go to a CSV and ``RunStopped``
says where.

What survives a kill at any moment (see the state store): every answer of inwise is committed
as it arrives, every feed answer before it is read; the store learns that the sheet shows them
only after the sheet was saved.  The next run therefore first writes what a stopped run left
unwritten (*recover*, without sending those rows again), then sends only the rows that changed.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from ..cancel import CancelToken
from ..config import Config
from ..errors import ConfigError, InwiseAddressError, StateError
from ..inwise import InwiseClient
from ..results import RowOutcome
from ..state import StateStore, retention
from ..state.location import store_path
from ..tables.base import Table
from . import alerting, newcontacts, passes
from .changes import config_fingerprint, current_results, select
from .collaborators import ClientFactory, Clock, Run, make_client, now
from .newcontacts import FeedTarget
from .plan import Plan, Stages, plan, send_options
from .send import Outcomes
from .session import RunSession
from .summary import Progress, RunSummary

__all__ = ["ClientFactory", "Clock", "make_client", "pull_new", "sync"]

log = logging.getLogger(__name__)

PREVIEW_LINES = 20  # rows a dry run describes in words (--json gives every row's API body)


def sync(
    config: Config,
    *,
    dry_run: bool = False,
    full: bool = False,
    wait: bool = False,
    trigger: str = "cli",
    table: Table | None = None,
    store: StateStore | None = None,
    client_factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_wait: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    claim: tuple[str, int] | None = None,
) -> RunSummary:
    """Sync the rows of the source that changed since their last sync (all with ``full``) to
    inwise and write the outcome back.  ``wait``: if another run holds the sheet, wait for it
    (``on_wait(message)`` is told once) instead of raising ``SheetBusy``.  ``on_warning`` is told
    each warning known before anything is sent (they are in the summary's warnings too).
    ``claim``: the (lock token, run id) of a run the web service queued in ``store`` (it holds the lock)."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken(), trigger,
              wait, on_wait, on_warning, claim=claim)
    if dry_run:
        return _dry_run(run, table or config.open_table(), full)
    session: RunSession | None = None
    try:
        table = table or config.open_table()  # a workbook that cannot be opened is a failed run too
        with run.frame("sync", table) as session:
            summary = _sync(run, session, table, full)
            session.finish(summary)
            _prune(run, session, summary)
        alerting.run_ended(run, "sync", session, summary=summary)
        return summary
    except BaseException as e:
        if isinstance(e, InwiseAddressError):
            e.at = e.at or config.locate("inwise", "base_url")
        alerting.run_ended(run, "sync", session, error=e)
        raise
    finally:
        run.close_store()


def _prune(run: Run, session: RunSession, summary: RunSummary) -> None:
    """Retention (state/retention.py), at most hourly, once the run is filed; never in its way."""
    try:
        retention.prune_if_due(session.store, run.clock(), run.config.state_retention_days)
    except StateError:
        log.debug("could not prune the state store", exc_info=True)


def _dry_run(run: Run, table: Table, full: bool = False) -> RunSummary:
    """What the sync would do, counted as the sync counts it: rows the state store knows as
    sent and unchanged are "unchanged", not "would send" (the store is only read)."""
    started = run.clock()
    timings: dict[str, float] = {}
    p = plan(run.config, table, timings)
    summary = _summary(run, p, "sync", started, timings)
    summary.dry_run = True
    summary.warnings += p.date_warnings
    outcomes = _problems(p)
    sending = None if full else _rows_to_send(run, p)
    if sending is not None:
        summary.counts["unchanged"] = sum(1 for m in p.mapped if m.contact is not None) - len(sending)
    summary.preview = p.preview(send_options(run.config), rows=sending)
    summary.preview_lines = p.preview_lines(PREVIEW_LINES, rows=sending)
    summary.finish(outcomes, time.monotonic() - run.t0)
    return summary


def _rows_to_send(run: Run, p: Plan) -> set[int] | None:
    """Row numbers a sync would send (changed, new, failed last time, never written), from the
    state store as it is; None when that cannot be known (no store yet, no API key to name the
    account): then every row with a contact counts as one to send."""
    config = run.config
    try:
        account = run.account()
    except ConfigError:
        return None
    path = store_path(config.state_dir_path())
    if run.store is None and not path.exists():
        return None  # no sync has run with this store: everything is new
    try:
        store = run.open_store()
        records = store.row_records(config.identity().sheet)
    except (StateError, OSError):
        return None
    finally:
        run.close_store()
    sel = select(p, records, config_fingerprint(config, account), current_results(config, p.data), full=False)
    return {ref.number for ref, _ in sel.to_send} | set(sel.recovered)


def _summary(run: Run, p: Plan, command: str, started: datetime, timings: dict[str, float]) -> RunSummary:
    return RunSummary(
        command=command, source=p.data.location, mode=run.config.inwise.mode, rows_read=len(p.mapped),
        empty_rows=len(p.data.rows) - len(p.mapped), started_at=started.isoformat(timespec="seconds"),
        timings=timings, trigger=run.trigger, language=run.config.language)


def _problems(p: Plan) -> Outcomes:
    return {m.number: RowOutcome(m.number, m.problem.kind, detail=m.problem.message, key=m.key)
            for m in p.mapped if m.problem is not None}


def _sync(run: Run, session: RunSession, table: Table, full: bool) -> RunSummary:
    config, store, cancel = run.config, session.store, run.cancel
    timings: dict[str, float] = {}
    stage = Stages(timings)
    started = run.clock()
    session.stage("read")
    p = plan(config, table, timings)
    summary = _summary(run, p, "sync", started, timings)
    summary.run_id, summary.full = session.run_id, full
    summary.warnings += p.date_warnings  # known before anything is sent; the run's record keeps them
    if run.on_warning is not None:
        for w in p.date_warnings:
            run.on_warning(w)
    problems = _problems(p)
    current = current_results(config, p.data)
    sel = select(p, store.row_records(session.ident.sheet), config_fingerprint(config, session.account), current,
                 full=full)
    p.data.rows = []  # the raw cells are mapped: let them go (a large sheet's rows cost ~100 MB)
    summary.counts["unchanged"] = sel.unchanged
    if cancel.is_set():
        summary.interrupted = True
        summary.warnings.append("Stopped before anything was sent; nothing was written.")
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    table.check_writable()  # before anything is sent: results must have somewhere to go
    with run.open_client() as client:
        written = passes.run_pass(_context(run, session, p, client, summary, stage),
                                  passes.Work(sel, problems, current))
    summary.finish(written, time.monotonic() - run.t0)
    return summary


def _context(run: Run, session: RunSession, p: Plan, client: InwiseClient, summary: RunSummary,
             stage: Stages) -> passes.RunContext:
    config = run.config
    target = FeedTarget(session.store, session.account, session.ident.sheet, session.run_id, config.base_dir)
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    return passes.RunContext(run, session, p, client, target, summary, tab_columns, stage)


def pull_new(
    config: Config,
    *,
    wait: bool = False,
    trigger: str = "cli",
    table: Table | None = None,
    store: StateStore | None = None,
    client_factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> RunSummary:
    """Only pull contacts inwise created since the last pull into the new-contacts tab."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken(), trigger,
              wait, on_wait)
    if not config.new_contacts.enabled:
        p = plan(config, table or config.open_table())
        summary = _summary(run, p, "pull-new", run.clock(), {})
        summary.warnings.append("new_contacts.enabled is false in the mapping: nothing to do.")
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    session: RunSession | None = None
    try:
        table = table or config.open_table()
        with run.frame("pull-new", table) as session:
            summary = _pull_new(run, session, table)
            session.finish(summary)
            _prune(run, session, summary)
        alerting.run_ended(run, "pull-new", session, summary=summary)
        return summary
    except BaseException as e:
        alerting.run_ended(run, "pull-new", session, error=e)
        raise
    finally:
        run.close_store()


def _pull_new(run: Run, session: RunSession, table: Table) -> RunSummary:
    config = run.config
    timings: dict[str, float] = {}
    stage = Stages(timings)
    started = run.clock()
    session.stage("read")
    p = plan(config, table, timings)
    summary = _summary(run, p, "pull-new", started, timings)
    summary.run_id = session.run_id
    p.table.check_writable()
    with run.open_client() as client:
        passes.run_pass(_context(run, session, p, client, summary, stage), passes.Work(send=False))
    summary.finish({}, time.monotonic() - run.t0)
    return summary
