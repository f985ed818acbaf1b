"""A run assembled from its parts: lock -> plan -> changes -> one pass (passes.py: send -> pull -> write -> save).

``sync(config, collaborators, *, dry_run, full, wait, trigger)`` and ``pull_new(config,
collaborators, *, wait, trigger)``: the config says what to sync; ``Collaborators``
(collaborators.py) what the run works with (table, state store, inwise client factory,
environment, clock, progress, cancel token, callbacks), each defaulting to the real thing; the
keyword options say what the run does (``dry_run``, ``full``) and how it is filed (``trigger``:
cli, menu or schedule; ``wait``: wait for a run holding the sheet).  The CLI, the web service,
the scheduler and the demo each build their own collaborators.

Stopping is the cancel token's job everywhere; a ``KeyboardInterrupt`` reaching a stage is a
hard stop (a second Ctrl-C): the results known so far go to a CSV and ``RunStopped`` says where.

Garbage collection during a run follows one policy (gcpolicy.py): fewer young collections
while the read and the mapping build the run's rows, and what they built kept out of the
full collections after.

What survives a kill at any moment (see the state store): every answer of inwise is committed
as it arrives, every feed answer before it is read; the store learns that the sheet shows them
only after the sheet was saved.  The next run therefore first writes what a stopped run left
unwritten (*recover*, without sending those rows again), then sends only the rows that changed.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

from ..config import Config
from ..errors import ConfigError, InwiseAddressError, StateError
from ..gcpolicy import building, quiet_gc, settle
from ..inwise import InwiseClient
from ..messages.catalog import said
from ..results import RowOutcome
from ..state import retention
from ..state.location import store_path
from ..tables.base import Table
from . import alerting, newcontacts, passes
from .changes import config_fingerprint, current_results, select
from .collaborators import ClientFactory, Clock, Collaborators, Run, make_client
from .newcontacts import FeedTarget
from .plan import Plan, Stages, plan, send_options
from .send import Outcomes
from .session import RunSession
from .summary import RunSummary

__all__ = ["ClientFactory", "Clock", "Collaborators", "make_client", "pull_new", "sync"]

log = logging.getLogger(__name__)

PREVIEW_LINES = 20  # rows a dry run describes in words (--json gives every row's API body)


def sync(config: Config, collaborators: Collaborators | None = None, *, dry_run: bool = False,
         full: bool = False, wait: bool = False, trigger: str = "cli") -> RunSummary:
    """Sync the rows of the source that changed since their last sync (all with ``full``) to
    inwise and write the outcome back.  ``collaborators``: what the run works with instead of
    the defaults (see ``Collaborators``).  ``dry_run``: only say what would be sent (the store is
    only read).  ``wait``: if another run holds the sheet, wait for it (``on_wait`` is told once)
    instead of raising ``SheetBusy``.  ``trigger``: who started the run (cli, menu, schedule), as
    the run's record and alerts say it."""
    run = Run.of(config, collaborators, trigger=trigger, wait=wait)
    table = run.given.table
    if dry_run:
        return _dry_run(run, table or config.open_table(), full)
    session: RunSession | None = None
    try:
        table = table or config.open_table()  # a workbook that cannot be opened is a failed run too
        with quiet_gc(), run.frame("sync", table) as session:
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
    summary.preview_lines = p.preview_lines(PREVIEW_LINES, rows=sending, language=run.config.language)
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
    return {m.number: RowOutcome(m.number, m.problem.kind, reason=m.problem.message, key=m.key)
            for m in p.mapped if m.problem is not None}


def _sync(run: Run, session: RunSession, table: Table, full: bool) -> RunSummary:
    config, store, cancel = run.config, session.store, run.cancel
    p, summary, stage = _read(run, session, table, "sync")
    summary.full = full
    summary.warnings += p.date_warnings  # known before anything is sent; the run's record keeps them
    if run.given.on_warning is not None:
        for w in p.date_warnings:
            run.given.on_warning(w)
    problems = _problems(p)
    current = current_results(config, p.data)
    sel = select(p, store.row_records(session.ident.sheet), config_fingerprint(config, session.account), current,
                 full=full)
    p.data.rows = []  # the raw cells are mapped: let them go (a large sheet's rows cost ~100 MB)
    summary.counts["unchanged"] = sel.unchanged
    if cancel.is_set():
        summary.interrupted = True
        summary.warnings.append(said("run.stopped_before_send"))
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    table.check_writable()  # before anything is sent: results must have somewhere to go
    with run.open_client() as client:
        written = passes.run_pass(_context(run, session, p, client, summary, stage),
                                  passes.Work(sel, problems, current))
    summary.finish(written, time.monotonic() - run.t0)
    return summary


def _read(run: Run, session: RunSession, table: Table, command: str) -> tuple[Plan, RunSummary, Stages]:
    """The read stage every pass starts with: the plan, the summary it starts, the stage timer."""
    timings: dict[str, float] = {}
    started = run.clock()
    session.stage("read")
    with building():  # the rows read and mapped: no full collection walks them while they grow
        p = plan(run.config, table, timings)
    settle()  # the rows read and mapped live until the run ends: the collector need not walk them again
    summary = _summary(run, p, command, started, timings)
    summary.run_id = session.run_id
    return p, summary, Stages(timings)


def _context(run: Run, session: RunSession, p: Plan, client: InwiseClient, summary: RunSummary,
             stage: Stages) -> passes.RunContext:
    config = run.config
    target = FeedTarget(session.store, session.account, session.ident.sheet, session.run_id, config.base_dir)
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    return passes.RunContext(run, session, p, client, target, summary, tab_columns, stage)


def pull_new(config: Config, collaborators: Collaborators | None = None, *, wait: bool = False,
             trigger: str = "cli") -> RunSummary:
    """Only pull contacts inwise created since the last pull into the new-contacts tab
    (``collaborators``, ``wait`` and ``trigger`` as for ``sync``; ``on_warning`` is not told)."""
    run = Run.of(config, collaborators, trigger=trigger, wait=wait)
    table = run.given.table
    if not config.new_contacts.enabled:
        p = plan(config, table or config.open_table())
        summary = _summary(run, p, "pull-new", run.clock(), {})
        summary.warnings.append(said("run.new_contacts_off"))
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    session: RunSession | None = None
    try:
        table = table or config.open_table()
        with quiet_gc(), run.frame("pull-new", table) as session:
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
    p, summary, stage = _read(run, session, table, "pull-new")
    p.table.check_writable()
    with run.open_client() as client:
        passes.run_pass(_context(run, session, p, client, summary, stage), passes.Work(send=False))
    summary.finish({}, time.monotonic() - run.t0)
    return summary
