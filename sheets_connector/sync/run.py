"""A run assembled from its parts: plan -> send -> pull -> settle -> write -> save.

``sync`` and ``pull_new`` take their collaborators (table, store, inwise client factory, clock,
progress callback, cancel token); the CLI, the web service and the scheduler each build their
own.  Stopping is the cancel token's job everywhere; a ``KeyboardInterrupt`` reaching a stage is
a hard stop (a second Ctrl-C): the results known so far go to a CSV and ``RunStopped`` says where.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..cancel import CancelToken
from ..config import Config
from ..errors import InwiseError, RunStopped
from ..inwise import InwiseClient
from ..results import RowOutcome
from ..state import FeedStore, PulledStore
from ..tables.base import Table
from . import newcontacts, writeback
from .plan import Plan, Stages, plan, send_options
from .send import NOT_SENT, Outcomes, SendContext, ToSend, mark_not_sent, send
from .summary import Progress, RunSummary

Clock = Callable[[], datetime]


def now() -> datetime:
    """The default clock (looked up at call time, so a test can freeze it)."""
    return datetime.now()


PREVIEW_LINES = 20  # rows a dry run describes in words (--json gives every row's API body)
ClientFactory = Callable[[Config], InwiseClient]


def make_client(config: Config, environ: Mapping[str, str] | None = None) -> InwiseClient:
    iw = config.inwise
    return InwiseClient(
        iw.base_url,
        config.api_key(dict(environ) if environ is not None else None),
        policy=iw.retry_policy(),
        pool_size=max(iw.concurrency, 2),
        api_key_source=iw.api_key_env,
    )


@dataclass
class Run:
    """The collaborators of one run, and what it has learnt so far."""

    config: Config
    table: Table | None = None
    store: FeedStore | None = None
    client_factory: ClientFactory | None = None
    environ: Mapping[str, str] | None = None
    clock: Clock = now
    progress: Progress | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    t0: float = field(default_factory=time.monotonic)

    def open_store(self) -> FeedStore:
        if self.store is None:
            self.store = PulledStore(self.config.state_path())
        return self.store

    def open_client(self) -> InwiseClient:
        if self.client_factory is not None:
            return self.client_factory(self.config)
        return make_client(self.config, self.environ)


def _stopped_at_once(run: Run, table: Table, summary: RunSummary, outcomes: Outcomes, to_send: ToSend) -> RunStopped:
    """A hard stop after sending began: keep every known result in a CSV and say so."""
    mark_not_sent(to_send, outcomes)
    when = run.clock()
    csv_path = writeback.fallback_csv(table, writeback.result_columns(run.config, outcomes, when), when)
    sent = sum(1 for o in outcomes.values() if o.detail != NOT_SENT)
    where = f"Each row's result is in {csv_path}." if csv_path else "The rows' results could not be kept."
    return RunStopped(
        f"Stopped at once: the results were NOT written into {table.location}. {where}\n"
        f"{sent} rows have a result there; contacts inwise created are kept and will be added to the "
        "new-contacts tab by the next run. Run the sync again to write every row's result."
    )


def sync(
    config: Config,
    *,
    dry_run: bool = False,
    table: Table | None = None,
    store: FeedStore | None = None,
    client_factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> RunSummary:
    """Sync every row of the source to inwise and write the outcome back."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken())
    timings: dict[str, float] = {}
    stage = Stages(timings)
    started = run.clock()
    p = plan(config, table, timings)
    summary = RunSummary(
        command="sync", source=p.data.location, mode=config.inwise.mode, dry_run=dry_run,
        rows_read=len(p.mapped), empty_rows=len(p.data.rows) - len(p.mapped),
        started_at=started.isoformat(timespec="seconds"), timings=timings,
    )
    outcomes: Outcomes = {
        m.number: RowOutcome(m.number, m.problem.kind, detail=m.problem.message, key=m.key)
        for m in p.mapped if m.problem is not None
    }
    to_send = p.to_send()
    p.data.rows = []  # the raw cells are mapped: let them go (a large sheet's rows cost ~100 MB)
    options = send_options(config)
    if dry_run:
        summary.preview = p.preview(options)
        summary.preview_lines = p.preview_lines(PREVIEW_LINES)
        summary.finish(outcomes, time.monotonic() - run.t0)
        return summary
    if run.cancel.is_set():
        summary.interrupted = True
        summary.warnings.append("Stopped before anything was sent; nothing was written.")
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    _send_and_write(run, p, summary, outcomes, to_send, stage)
    summary.finish(outcomes, time.monotonic() - run.t0)
    return summary


def _send_and_write(run: Run, p: Plan, summary: RunSummary, outcomes: Outcomes, to_send: ToSend, stage: Stages) -> None:
    config, table, cancel = run.config, p.table, run.cancel
    table.check_writable()  # before anything is sent: results must have somewhere to go
    store = run.open_store()
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    try:
        with run.open_client() as client:
            with stage("send"):
                ctx = SendContext(client, config, send_options(config), cancel, run.progress, summary.warnings)
                send(ctx, to_send, outcomes)
            if cancel.is_set():
                summary.interrupted = True
                left = mark_not_sent(to_send, outcomes)
                summary.warnings.append(
                    f"Stopped by you: {len(to_send) - left} of {len(to_send)} rows were sent and have their result; "
                    f"the other {left} say 'not sent'. Run the sync again to send them.")
            pull_failed = False
            with stage("pull"):
                try:
                    # after a stop during the send, the feed is still read (a page or two) so that the
                    # rows that were sent say truly whether they created a contact
                    summary.new_contacts_pulled = newcontacts.pull(
                        client, store, cancel, run.progress, summary, stop_on_cancel=not summary.interrupted)
                except InwiseError as e:
                    pull_failed = True  # the rows were sent: their results must still be written
                    summary.warnings.append(
                        f"Could not read inwise's list of new contacts ({e}). Every row's result is written, but "
                        "created and updated rows cannot be told apart this time (they say '✓ synced'); new "
                        "contacts will be added to the new-contacts tab by the next sync or pull-new."
                    )
                if cancel.is_set() and not summary.interrupted:
                    summary.interrupted = True
                    pull_failed = True  # the feed was not read to its end: created vs updated is unknown
                    summary.warnings.append(
                        "Stopped by you while reading inwise's new contacts: every row was sent and has its result "
                        "(rows not yet matched to a new contact say '✓ synced'); the rest of the new contacts "
                        "are added by the next sync or pull-new.")
                pulled = newcontacts.index_pulled(config, store, tab_columns)
            stats = client.stats()
        summary.api_calls = dict(stats["calls"])
        summary.retries = stats["retries"]
        with stage("write"):
            writeback.settle_created(outcomes, to_send, pulled)
            if pull_failed:
                writeback.mark_unsettled(outcomes)
            columns = writeback.result_columns(config, outcomes, run.clock())
            with writeback.results_kept(table, columns, run.clock):  # a Google Sheet is written here
                unplaced = table.set_columns(columns, p.mapper.identify)
                if unplaced:
                    summary.warnings.append(_unplaced_text(unplaced))
                summary.new_contacts_appended = newcontacts.append_new_contacts(config, table, pulled, tab_columns)
    except KeyboardInterrupt:
        raise _stopped_at_once(run, table, summary, outcomes, to_send) from None
    with stage("save"):
        delivered = pulled.ids if config.new_contacts.enabled else set()
        writeback.save(table, summary, columns, store, delivered, cancel, run.clock)
    if cancel.is_set() and not summary.interrupted:
        summary.interrupted = True  # stopped by the user, but only once every result was saved
        summary.warnings.append("Stopped by you once the results were written: every row has its result.")


def _unplaced_text(unplaced: list) -> str:
    shown = "; ".join(f"row {u.ref.number}: {u.reason}" for u in unplaced[:5])
    more = f" (and {len(unplaced) - 5} more)" if len(unplaced) > 5 else ""
    return f"{len(unplaced)} result(s) could not be written into the sheet: {shown}{more}."


def pull_new(
    config: Config,
    *,
    table: Table | None = None,
    store: FeedStore | None = None,
    client_factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> RunSummary:
    """Only pull contacts inwise created since the last pull into the new-contacts tab."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken())
    p = plan(config, table)
    summary = RunSummary(command="pull-new", source=p.data.location, mode=config.inwise.mode,
                         started_at=run.clock().isoformat(timespec="seconds"))
    if not config.new_contacts.enabled:
        summary.warnings.append("new_contacts.enabled is false in the mapping: nothing to do.")
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    p.table.check_writable()
    store = run.open_store()
    with run.open_client() as client:
        summary.new_contacts_pulled = newcontacts.pull(client, store, run.cancel, progress, summary)
        stats = client.stats()
    summary.interrupted = run.cancel.is_set()
    summary.api_calls = dict(stats["calls"])
    summary.retries = stats["retries"]
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    pulled = newcontacts.index_pulled(config, store, tab_columns)
    summary.new_contacts_appended = newcontacts.append_new_contacts(config, p.table, pulled, tab_columns)
    if pulled.ids:
        writeback.save(p.table, summary, {}, store, pulled.ids, run.cancel, run.clock)
    summary.finish({}, time.monotonic() - run.t0)
    return summary
