"""One pass of a run as stages over one run context: [send] -> pull -> settle -> write -> save.

- sync: the rows that changed are sent (each answer committed to the store as it arrives), the
  feed is read once, and the answers a run that stopped before saving had received (and rows
  that said '✓ synced' because the feed could not be read) join the new outcomes - without
  being sent again - before one settle, one write and one save.
- pull-new: the same pass without the send stage.

The store learns what the sheet shows only after the save (``save``): a kill before that makes
the next run write the same words again.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..cancel import CancelToken
from ..config import Config
from ..errors import InwiseError, RunStopped, StateError
from ..inwise import InwiseClient
from ..messages.catalog import Place, error_words, msg, said
from ..results import RowOutcome
from ..tables.base import Table
from . import newcontacts, writeback
from .changes import Selection, outcome_dict, outcome_from
from .collaborators import Run
from .newcontacts import FeedTarget, PulledIndex
from .plan import Plan, Stages, send_options
from .recorder import AnswerRecorder
from .send import NOT_SENT_DETAILS, Outcomes, SendContext, ToSend, mark_not_sent, send
from .session import RunSession
from .summary import RunSummary


def stopped_at_once(ctx: RunContext, outcomes: Outcomes, to_send: ToSend) -> RunStopped:
    """A hard stop after sending began: keep every known result in a CSV and say so."""
    table = ctx.table
    mark_not_sent(to_send, outcomes)
    when = ctx.run.clock()
    csv_path = writeback.fallback_csv(table, writeback.result_columns(ctx.config, outcomes, when), when)
    sent = sum(1 for o in outcomes.values() if o.reason not in NOT_SENT_DETAILS)
    where = msg("run.at_once_csv", path=csv_path) if csv_path else msg("run.at_once_no_csv")
    return RunStopped(said("run.stopped_at_once", location=Place(table.location), where=where, sent=sent))


@dataclass
class RunContext:
    """What every stage of a pass shares: the run's collaborators, its session (lock, store, run id),
    the plan (table, mapper, rows), the inwise client, the feed's target, the summary being filled,
    the new-contacts tab's columns and the stage timer."""

    run: Run
    session: RunSession
    plan: Plan
    client: InwiseClient
    target: FeedTarget
    summary: RunSummary
    tab_columns: list[tuple[str, str]]
    stage: Stages

    @property
    def table(self) -> Table:
        return self.plan.table

    @property
    def config(self) -> Config:
        return self.run.config

    @property
    def cancel(self) -> CancelToken:
        return self.run.cancel


@dataclass
class Work:
    """What a pass writes: the rows to send and the recovered ones (``sel``), the rows with a
    problem whose cell must say so (``problems``), what the results column shows now
    (``current``).  ``send`` False: pull-new, the same pass without the send stage."""

    sel: Selection = field(default_factory=Selection)
    problems: Outcomes = field(default_factory=dict)
    current: Mapping[int, object] = field(default_factory=dict)
    send: bool = True


def run_pass(ctx: RunContext, work: Work) -> Outcomes:
    """send -> pull -> settle -> write -> save, once.  The answers a stopped run received but never
    wrote (``work.sel.recovered``) join this run's before the one settle, the one write and the
    one save; they are not sent again.  Returns every row's outcome written."""
    run, session, summary, sel = ctx.run, ctx.session, ctx.summary, work.sel
    config, table, cancel = ctx.config, ctx.table, ctx.cancel
    to_send = sel.to_send
    outcomes: Outcomes = {}
    recovered: Outcomes = {}
    columns: writeback.ResultColumns = {}
    try:
        if work.send:
            _send_stage(ctx, work, outcomes)
        session.stage("pull")
        with ctx.stage("pull"):
            # after a stop during the send, the feed is still read (a page or two) so that the
            # rows that were sent say truly whether they created a contact
            pulled, pull_failed = pull(ctx, sending=work.send,
                                       sent=[o.contact_id for o in outcomes.values() if o.contact_id is not None])
        stats = ctx.client.stats()
        summary.api_calls = dict(stats["calls"])
        summary.retries = stats["retries"]
        if not work.send:
            summary.interrupted = summary.interrupted or cancel.is_set()
        session.stage("write")
        with ctx.stage("write"):
            recovered, kept = _recovered(sel, pull_failed)
            settling = {**{r: o for r, o in recovered.items() if r not in kept}, **outcomes}
            writeback.settle_created(settling, [*to_send, *((recovered[r].ref, c) for r, c in sel.contacts.items())],
                                     pulled)
            writeback.keep_created(outcomes, work.current, sel.records, sel.fingerprints)
            if pull_failed:
                writeback.mark_unsettled(settling)
            when = run.clock()
            texts = writeback.status_texts(config, settling, when)
            _record_statuses(session, settling, texts, when)
            rewrite = {r: o for r, o in work.problems.items() if work.current.get(r) != o.status("", config.language)}
            kept.update((r, (rec.status or "", _datetime(rec.synced_at))) for r, rec in sel.restore.items())
            restore = {r: _restored(r, rec.outcome) for r, rec in sel.restore.items()}
            columns = writeback.result_columns(config, {**rewrite, **restore, **recovered, **outcomes}, when, kept, texts)
            with writeback.results_kept(table, columns, run.clock):  # a Google Sheet is written here
                _write(ctx, columns)
                appended = newcontacts.append_new_contacts(config, table, pulled, ctx.tab_columns)
            summary.new_contacts_appended += appended
    except KeyboardInterrupt:
        raise stopped_at_once(ctx, {**recovered, **outcomes}, to_send) from None
    if work.send or pulled.ids:
        session.stage("save")
        with ctx.stage("save"):
            save(ctx, columns, pulled, [str(o.key) for o in (*recovered.values(), *outcomes.values()) if o.key],
                 appended)
    summary.recovered = sum(1 for rec in sel.recovered.values() if rec.state == "answered")
    if summary.recovered:
        summary.warnings.append(said("run.recovered", n=summary.recovered))
    if work.send and cancel.is_set() and not summary.interrupted:
        summary.interrupted = True  # stopped by the user, but only once every result was saved
        summary.warnings.append(said("run.stopped_after_write"))
    return {**work.problems, **recovered, **outcomes}


def _send_stage(ctx: RunContext, work: Work, outcomes: Outcomes) -> None:
    """Send the changed rows, each answer committed to the store as it arrives."""
    run, summary, cancel, to_send = ctx.run, ctx.summary, ctx.cancel, work.sel.to_send
    ctx.session.stage("send")
    with ctx.stage("send"):
        grouped = run.config.inwise.mode == "upsert"  # per-row answers: group commits (recorder.py)
        recorder = AnswerRecorder(ctx.session, work.sel.fingerprints, summary, cancel, grouped=grouped,
                                  group=run.config.inwise.concurrency)
        sctx = SendContext(ctx.client, run.config, send_options(run.config), cancel, run.progress, summary.warnings,
                           record=recorder, backlog=recorder if grouped else None, ahead=work.sel.fingerprints.warm)
        try:
            send(sctx, to_send, outcomes)
        finally:
            recorder.close()  # every answer committed before the pull, the settle and the save
    summary.outage = sctx.outage
    if cancel.is_set() and not cancel.by_user:  # a deploy: unsent rows keep what they said
        summary.interrupted = True
        left = sum(1 for ref, _ in to_send if ref.number not in outcomes)
        summary.warnings.append(said("run.stopped_other", reason=cancel.reason, sent=len(to_send) - left,
                                     total=len(to_send), left=left))
    elif cancel.is_set():
        summary.interrupted = True
        left = mark_not_sent(to_send, outcomes)
        summary.warnings.append(said("run.stopped_send", sent=len(to_send) - left, total=len(to_send), left=left))


def _recovered(sel: Selection, pull_failed: bool) -> tuple[Outcomes, dict[int, tuple[str, datetime | None]]]:
    """The outcomes of rows a stopped run had answered (or left '✓ synced'), and of those the
    ones whose words that run had already settled (written as they were, date included)."""
    outcomes: Outcomes = {}
    kept: dict[int, tuple[str, datetime | None]] = {}
    for row, rec in sel.recovered.items():
        o = _restored(row, rec.outcome)
        outcomes[row] = o
        if o.unsettled and not pull_failed:
            o.unsettled = False  # the feed was read to its end this time: settle it now
        elif rec.status and rec.state == "answered":
            kept[row] = (rec.status, _datetime(rec.synced_at))
    return outcomes, kept


def pull(ctx: RunContext, *, sending: bool = True, sent: Sequence[int] = ()) -> tuple[PulledIndex, bool]:
    """Read the feed; returns the index of contacts pending for the sheet and whether the feed
    could NOT be read to its end (then created and updated cannot be told apart: '✓ synced').
    Inwise down (the breaker tripped, ``summary.outage``): only what the store already holds is
    used.  After a stop during the send (``summary.interrupted``), the feed is read without
    stopping at the cancel token (a page or two), so the rows sent say truly whether they created a contact.
    ``sending`` False (pull-new): a feed that cannot be read fails the run, there is nothing else
    to do.  ``sent``: the contact ids inwise gave the rows sent."""
    run, summary, columns = ctx.run, ctx.summary, ctx.tab_columns
    failed = skip = summary.outage is not None
    read = newcontacts.FeedIndexer(run.config, columns)  # each answer indexed as it is kept, decoded once
    try:
        if not skip:
            pulled = newcontacts.pull(ctx.client, ctx.target, run.cancel, run.progress, summary,
                                      stop_on_cancel=not summary.interrupted, read=read, sent=sent)
            summary.new_contacts_pulled += pulled.contacts
            failed = not pulled.drained
    except InwiseError as e:
        if not sending:
            raise
        failed = True  # the rows were sent: their results must still be written
        summary.warnings.append(said("run.feed_failed", error=error_words(e)))
    if sending and run.cancel.is_set() and not summary.interrupted:
        summary.interrupted = True
        summary.warnings.append(said("run.stopped_pull"))
    try:
        return newcontacts.index_pulled(run.config, ctx.target, columns, read), failed
    except StateError as e:
        summary.error = summary.error or str(e)
        return PulledIndex(), True


def _record_statuses(session: RunSession, outcomes: Outcomes, texts: Mapping[int, str], when: datetime) -> None:
    """The words going into the sheet and the settled outcomes (created, the contact id a batch
    row got from the feed...), kept before the save: a kill during it makes the next run write
    exactly the same cells."""
    stamp = when.replace(microsecond=0).isoformat()
    rows = [(str(o.key), texts[r], stamp if o.ok else None, outcome_dict(o))
            for r, o in outcomes.items() if o.key is not None and o.reason not in NOT_SENT_DETAILS]
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


def _write(ctx: RunContext, columns: writeback.ResultColumns) -> None:
    if not writeback.has_cells(columns):
        return
    summary = ctx.summary
    # the mapping's key of every row as read: the table need not identify those rows again
    keys = {m.number: m.key for m in ctx.plan.mapped}
    unplaced = ctx.table.set_columns(columns, ctx.plan.mapper.identify, keys=keys)
    if unplaced:
        shown = tuple(msg("run.unplaced_row", row=u.ref.number, reason=u.reason) for u in unplaced[:5])
        more = msg("run.unplaced_more", n=len(unplaced) - 5) if len(unplaced) > 5 else ""
        summary.warnings.append(said("run.unplaced", n=len(unplaced), shown=shown, more=more))


def save(ctx: RunContext, columns: writeback.ResultColumns, pulled: PulledIndex, keys: list[str],
         appended: int) -> None:
    """Save the sheet (if anything was written), then tell the store what it now shows (rows
    written with ``keys``, contacts delivered - also those found already in the tab)."""
    run, session, table, summary, config = ctx.run, ctx.session, ctx.table, ctx.summary, ctx.config
    delivered = pulled.ids if config.new_contacts.enabled else set()
    if writeback.has_cells(columns) or appended:
        try:  # fencing: the sheet cannot check a token, so the database does, right before
            session.store.prove_locks()
        except StateError as e:  # the database is gone: nothing is written, the results go to a CSV
            with writeback.results_kept(table, columns, run.clock):
                raise e from None
        writeback.save(table, summary, columns, run.cancel, run.clock)
    try:
        session.store.commit_saved(session.ident.sheet, session.account, session.run_id, keys, delivered)
    except StateError as e:
        # the sheet holds them: the next run writes the same words again and finds the contacts in the tab
        summary.error = summary.error or str(e)


