"""A run assembled from its parts: lock -> plan -> changes -> [recover] -> send -> pull -> write -> save.

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

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from ..cancel import CancelToken
from ..config import Config
from ..errors import ConfigError, InwiseError, RunStopped, StateError
from ..inwise import InwiseClient
from ..model import Contact
from ..results import RowOutcome
from ..state import StateStore, account_id, open_store
from ..tables.base import RowRef, Table
from . import newcontacts, writeback
from .changes import (
    Selection,
    config_fingerprint,
    current_results,
    outcome_dict,
    outcome_from,
    select,
)
from .newcontacts import FeedTarget, PulledIndex
from .plan import Plan, Stages, plan, send_options
from .send import NOT_SENT, Outcomes, SendContext, ToSend, mark_not_sent, send
from .session import NOTHING_DONE, RunSession, run_session
from .summary import Progress, RunSummary

Clock = Callable[[], datetime]
ClientFactory = Callable[[Config], InwiseClient]


def make_client(config: Config, environ: Mapping[str, str] | None = None) -> InwiseClient:
    iw = config.inwise
    return InwiseClient(
        iw.base_url,
        config.api_key(dict(environ) if environ is not None else None),
        timeout=(10.0, float(iw.timeout_seconds)),
        retries=iw.retries,
        pool_size=max(iw.concurrency, 2),
        api_key_source=iw.api_key_env,
    )


@dataclass
class Run:
    """The collaborators of one run, and what it has learnt so far."""

    config: Config
    table: Table | None = None
    store: StateStore | None = None
    client_factory: ClientFactory | None = None
    environ: Mapping[str, str] | None = None
    clock: Clock = datetime.now
    progress: Progress | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    trigger: str = "cli"
    wait: bool = False
    on_wait: Callable[[str], None] | None = None
    t0: float = field(default_factory=time.monotonic)
    _own_store: bool = False

    def open_store(self) -> StateStore:
        if self.store is None:
            try:
                self.store = open_store(self.config.state_dir_path())
            except StateError as e:
                raise StateError(f"{e}\n{NOTHING_DONE}") from None
            self._own_store = True
        return self.store

    def close_store(self) -> None:
        if self._own_store and self.store is not None:
            self.store.close()
            self.store = None

    def account(self) -> str:
        """The inwise account the feed belongs to (base URL + key; the key itself is never kept)."""
        try:
            key = self.config.api_key(dict(self.environ) if self.environ is not None else None)
        except ConfigError:
            if self.client_factory is None:
                raise
            key = ""  # a client factory brings its own key: the base URL names the account
        return account_id(self.config.inwise.base_url, key)

    def open_client(self) -> InwiseClient:
        if self.client_factory is not None:
            return self.client_factory(self.config)
        return make_client(self.config, self.environ)

    def frame(self, command: str, table: Table) -> AbstractContextManager[RunSession]:
        """The run's lock and history record (see session.py)."""
        account = self.account()  # a missing API key is said before anything else
        return run_session(self.config, self.open_store(), account, command=command, trigger=self.trigger,
                           wait=self.wait, cancel=self.cancel, clock=self.clock,
                           workbook_path=getattr(table, "path", None), on_wait=self.on_wait)


def _stopped_at_once(run: Run, table: Table, outcomes: Outcomes, to_send: ToSend) -> RunStopped:
    """A hard stop after sending began: keep every known result in a CSV and say so."""
    mark_not_sent(to_send, outcomes)
    when = run.clock()
    csv_path = writeback.fallback_csv(table, writeback.result_columns(run.config, outcomes, when), when)
    sent = sum(1 for o in outcomes.values() if o.detail != NOT_SENT)
    where = f"Each row's result is in {csv_path}." if csv_path else "The rows' results could not be kept."
    return RunStopped(
        f"Stopped at once: the results were NOT written into {table.location}. {where}\n"
        f"{sent} rows have a result there; inwise's answers and the contacts it created are kept and the next "
        "run writes them into the sheet. Run the sync again."
    )


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
    clock: Clock = datetime.now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> RunSummary:
    """Sync the rows of the source that changed since their last sync (all with ``full``) to
    inwise and write the outcome back.  ``wait``: if another run holds the sheet, wait for it
    (``on_wait(message)`` is told once) instead of raising ``SheetBusy``."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken(), trigger,
              wait, on_wait)
    table = table or config.open_table()
    if dry_run:
        return _dry_run(run, table)
    try:
        with run.frame("sync", table) as session:
            summary = _sync(run, session, table, full)
            session.finish(summary)
            return summary
    finally:
        run.close_store()


def _dry_run(run: Run, table: Table) -> RunSummary:
    started = run.clock()
    timings: dict[str, float] = {}
    p = plan(run.config, table, timings)
    summary = _summary(run, p, "sync", started, timings)
    summary.dry_run = True
    outcomes = _problems(p)
    summary.preview = p.preview(send_options(run.config))
    summary.finish(outcomes, time.monotonic() - run.t0)
    return summary


def _summary(run: Run, p: Plan, command: str, started: datetime, timings: dict[str, float]) -> RunSummary:
    return RunSummary(
        command=command, source=p.data.location, mode=run.config.inwise.mode, rows_read=len(p.mapped),
        empty_rows=len(p.data.rows) - len(p.mapped), started_at=started.isoformat(timespec="seconds"),
        timings=timings, trigger=run.trigger)


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
    target = FeedTarget(store, session.account, session.ident.sheet, session.run_id, config.base_dir)
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    written: Outcomes = {}
    earlier = PulledIndex()
    with run.open_client() as client:
        if sel.recovered:
            session.stage("recover")
            recovered, earlier = _recover(run, session, p, sel, client, target, summary, tab_columns)
            written.update(recovered)
        outcomes = _send_and_write(run, session, p, sel, problems, current, client, target, summary, tab_columns,
                                   stage, earlier)
    written.update(outcomes)
    summary.finish(written, time.monotonic() - run.t0)
    return summary


def _recorder(session: RunSession, fingerprints: Mapping[int, str], summary: RunSummary
              ) -> Callable[[list[RowOutcome]], None]:
    """Commit inwise's answers as they arrive.  If the store fails (disk full), the run goes on:
    every row still gets its result in the sheet; the next run only sends those rows again."""
    failed: list[str] = []

    def record(outcomes: list[RowOutcome]) -> None:
        if failed:
            return
        try:
            session.store.record_answers(session.ident.sheet, session.run_id, [
                (str(o.key), fingerprints[o.row], outcome_dict(o)) for o in outcomes if o.key is not None])
        except StateError as e:
            failed.append(str(e))
            summary.error = (f"{e}\nEvery row still gets its result in the sheet, but the store could not "
                             "remember them: the next run sends those rows again.")
    return record


def _send_and_write(run: Run, session: RunSession, p: Plan, sel: Selection, problems: Outcomes,
                    current: Mapping[int, object], client: InwiseClient, target: FeedTarget, summary: RunSummary,
                    tab_columns: list[tuple[str, str]], stage: Stages, earlier: PulledIndex) -> Outcomes:
    """Send the changed rows, read the feed, write every result, save.  ``earlier``: what a
    recovery pass of this run read from the feed and delivered (rows that were on their way when
    the earlier run stopped are sent again now, and settled against it)."""
    config, table, cancel = run.config, p.table, run.cancel
    to_send = sel.to_send
    outcomes: Outcomes = {}
    try:
        session.stage("send")
        with stage("send"):
            ctx = SendContext(client, config, send_options(config), cancel, run.progress, summary.warnings,
                              record=_recorder(session, sel.fingerprints, summary))
            send(ctx, to_send, outcomes)
        if cancel.is_set():
            summary.interrupted = True
            left = mark_not_sent(to_send, outcomes)
            summary.warnings.append(
                f"Stopped by you: {len(to_send) - left} of {len(to_send)} rows were sent and have their result; "
                f"the other {left} say 'not sent'. Run the sync again to send them.")
        session.stage("pull")
        with stage("pull"):
            # after a stop during the send, the feed is still read (a page or two) so that the
            # rows that were sent say truly whether they created a contact
            pulled, pull_failed = _pull(run, client, target, summary, stop_on_cancel=not summary.interrupted,
                                        columns=tab_columns)
        stats = client.stats()
        summary.api_calls = dict(stats["calls"])
        summary.retries = stats["retries"]
        session.stage("write")
        with stage("write"):
            writeback.settle_created(outcomes, to_send, pulled.merged(earlier))
            if pull_failed:
                writeback.mark_unsettled(outcomes)
            when = run.clock()
            _record_statuses(session, outcomes, writeback.status_texts(config, outcomes, when), when)
            rewrite = {r: o for r, o in problems.items() if current.get(r) != o.status(when, "")}
            kept = {r: (rec.status or "", _datetime(rec.synced_at)) for r, rec in sel.restore.items()}
            restore = {r: _restored(r, rec.outcome) for r, rec in sel.restore.items()}
            columns = writeback.result_columns(config, {**rewrite, **restore, **outcomes}, when, kept)
            _write(table, columns, p, summary)
            appended = newcontacts.append_new_contacts(config, table, pulled, tab_columns)
            summary.new_contacts_appended += appended
    except KeyboardInterrupt:
        raise _stopped_at_once(run, table, outcomes, to_send) from None
    session.stage("save")
    with stage("save"):
        _save(run, session, table, summary, columns, pulled, [str(o.key) for o in outcomes.values() if o.key],
              appended)
    return {**problems, **outcomes}


def _recover(run: Run, session: RunSession, p: Plan, sel: Selection, client: InwiseClient, target: FeedTarget,
             summary: RunSummary, tab_columns: list[tuple[str, str]]) -> tuple[Outcomes, PulledIndex]:
    """Write the answers a stopped run received but never wrote, without sending those rows again
    (the feed is read first, so created and updated are told apart as usual)."""
    config = run.config
    outcomes: Outcomes = {}
    kept: dict[int, tuple[str, datetime | None]] = {}
    pulled, pull_failed = _pull(run, client, target, summary, stop_on_cancel=False, columns=tab_columns)
    for row, rec in sel.recovered.items():
        o = _restored(row, rec.outcome)
        outcomes[row] = o
        if o.unsettled and not pull_failed:
            o.unsettled = False  # the feed was read to its end this time: settle it now
        elif rec.status and rec.state == "answered":
            kept[row] = (rec.status, _datetime(rec.synced_at))
    unsettled = {r: o for r, o in outcomes.items() if r not in kept}
    contacts: list[tuple[RowRef, Contact]] = [(outcomes[r].ref, c) for r, c in sel.contacts.items()]
    writeback.settle_created(unsettled, contacts, pulled)
    if pull_failed:
        writeback.mark_unsettled(unsettled)
    when = run.clock()
    _record_statuses(session, unsettled, writeback.status_texts(config, unsettled, when), when, all_outcomes=True)
    columns = writeback.result_columns(config, outcomes, when, kept)
    _write(p.table, columns, p, summary)
    appended = newcontacts.append_new_contacts(config, p.table, pulled, tab_columns)
    summary.new_contacts_appended += appended
    session.stage("recover-save")
    _save(run, session, p.table, summary, columns, pulled, [str(o.key) for o in outcomes.values() if o.key],
          appended)
    summary.recovered = sum(1 for rec in sel.recovered.values() if rec.state == "answered")
    if summary.recovered:
        summary.warnings.append(
            f"{summary.recovered} row(s) were answered by inwise in an earlier run that stopped before saving; their "
            "results were written now, without sending them again.")
    return outcomes, pulled


def _pull(run: Run, client: InwiseClient, target: FeedTarget, summary: RunSummary, *, stop_on_cancel: bool,
          columns: list[tuple[str, str]]) -> tuple[PulledIndex, bool]:
    """Read the feed; returns the index of contacts pending for the sheet and whether the feed
    could NOT be read to its end (then created and updated cannot be told apart: '✓ synced')."""
    failed = False
    try:
        pulled = newcontacts.pull(client, target, run.cancel, run.progress, summary, stop_on_cancel=stop_on_cancel)
        summary.new_contacts_pulled += pulled.contacts
        failed = not pulled.drained
    except InwiseError as e:
        failed = True  # the rows were sent: their results must still be written
        summary.warnings.append(
            f"Could not read inwise's list of new contacts ({e}). Every row's result is written, but "
            "created and updated rows cannot be told apart this time (they say '✓ synced'); new "
            "contacts will be added to the new-contacts tab by the next sync or pull-new."
        )
    if run.cancel.is_set() and not summary.interrupted:
        summary.interrupted = True
        summary.warnings.append("Stopped by you while reading inwise's new contacts: every row was "
                                "sent and has its result; the rest of the new contacts arrive next run.")
    try:
        return newcontacts.index_pulled(run.config, target, columns), failed
    except StateError as e:
        summary.error = summary.error or str(e)
        return PulledIndex(), True


def _record_statuses(session: RunSession, outcomes: Outcomes, texts: Mapping[int, str], when: datetime, *,
                     all_outcomes: bool = False) -> None:
    """The words going into the sheet, kept before the save (a kill during it rewrites the same).
    The settled outcome itself is kept where a later run needs it ('✓ synced' rows are settled
    again) or, with ``all_outcomes``, for every row (recovered rows: whatever they said before)."""
    stamp = when.replace(microsecond=0).isoformat()
    rows = [(str(o.key), texts[r], stamp if o.ok else None, outcome_dict(o) if o.unsettled or all_outcomes else None)
            for r, o in outcomes.items() if o.key is not None and o.detail != NOT_SENT]
    try:
        session.store.record_statuses(session.ident.sheet, rows)
    except StateError:
        pass  # the answers are recorded (or the run already says the store failed): a rerun settles again


def _restored(row: int, data: Mapping[str, object]) -> RowOutcome:
    o = outcome_from(data)
    o.row = row  # the row may have moved since (rows inserted above it)
    return o


def _datetime(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _write(table: Table, columns: writeback.ResultColumns, p: Plan, summary: RunSummary) -> None:
    if not writeback.has_cells(columns):
        return
    unplaced = table.set_columns(columns, p.mapper.identify)
    if unplaced:
        shown = "; ".join(f"row {u.ref.number}: {u.reason}" for u in unplaced[:5])
        more = f" (and {len(unplaced) - 5} more)" if len(unplaced) > 5 else ""
        summary.warnings.append(f"{len(unplaced)} result(s) could not be written into the sheet: {shown}{more}.")


def _save(run: Run, session: RunSession, table: Table, summary: RunSummary, columns: writeback.ResultColumns,
          pulled: PulledIndex, keys: list[str], appended: int) -> None:
    """Save the sheet (if anything was written), then tell the store what it now shows (rows
    written, contacts delivered - also those found already in the tab)."""
    config = run.config
    delivered = pulled.ids if config.new_contacts.enabled else set()
    if writeback.has_cells(columns) or appended:
        writeback.save(table, summary, columns, run.cancel, run.clock)
    try:
        session.store.commit_saved(session.ident.sheet, session.account, session.run_id, keys, delivered)
    except StateError as e:
        # the sheet holds them: the next run writes the same words again and finds the contacts in the tab
        summary.error = summary.error or str(e)


def pull_new(
    config: Config,
    *,
    wait: bool = False,
    trigger: str = "cli",
    table: Table | None = None,
    store: StateStore | None = None,
    client_factory: ClientFactory | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = datetime.now,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> RunSummary:
    """Only pull contacts inwise created since the last pull into the new-contacts tab."""
    run = Run(config, table, store, client_factory, environ, clock, progress, cancel or CancelToken(), trigger,
              wait, on_wait)
    table = table or config.open_table()
    if not config.new_contacts.enabled:
        p = plan(config, table)
        summary = _summary(run, p, "pull-new", run.clock(), {})
        summary.warnings.append("new_contacts.enabled is false in the mapping: nothing to do.")
        summary.finish({}, time.monotonic() - run.t0)
        return summary
    try:
        with run.frame("pull-new", table) as session:
            summary = _pull_new(run, session, table)
            session.finish(summary)
            return summary
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
    target = FeedTarget(session.store, session.account, session.ident.sheet, session.run_id, config.base_dir)
    tab_columns = newcontacts.new_contact_columns(config, p.mapper.columns.field_headers)
    session.stage("pull")
    with run.open_client() as client, stage("pull"):
        summary.new_contacts_pulled = newcontacts.pull(client, target, run.cancel, run.progress, summary).contacts
        stats = client.stats()
    summary.interrupted = run.cancel.is_set()
    summary.api_calls = dict(stats["calls"])
    summary.retries = stats["retries"]
    session.stage("write")
    pulled = newcontacts.index_pulled(config, target, tab_columns)
    summary.new_contacts_appended = newcontacts.append_new_contacts(config, p.table, pulled, tab_columns)
    if pulled.ids:
        session.stage("save")
        with stage("save"):
            _save(run, session, p.table, summary, {}, pulled, [], summary.new_contacts_appended)
    summary.finish({}, time.monotonic() - run.t0)
    return summary
