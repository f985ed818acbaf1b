"""Stage 2, send: rows to inwise, per-row upsert or batchInsert, stopping on the cancel token.

Every row handed to a send function ends with an outcome in ``outcomes`` (keyed by row number):
its result, or "not sent" when the run was cancelled before it went out.  inwise's answers are
handed to ``SendContext.record`` as they arrive (per row, per batch chunk).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..cancel import CancelToken
from ..config import Config
from ..errors import InwiseError
from ..inwise import InwiseClient, batch_body, is_domestic
from ..inwise.client import Backlog
from ..inwise.wire import contact_groups
from ..messages import catalog
from ..messages.catalog import Msg, msg, said
from ..model import Contact, SendOptions, UpsertResult
from ..results import RowOutcome, from_upsert
from ..retry import RETRY_STATUSES
from ..tables.base import RowRef
from .breaker import NOT_SENT_UNAVAILABLE, OutageBreaker, StopWhen, outage_message
from .summary import Progress

ToSend = Sequence[tuple[RowRef, Contact]]
Outcomes = dict[int, RowOutcome]

NOT_SENT = msg("sync.stopped")
NOT_SENT_DETAILS = frozenset({NOT_SENT, NOT_SENT_UNAVAILABLE})  # rows that never went out: nothing to record
IN_FLIGHT_UNKNOWN = msg("sync.in_flight")


@dataclass
class SendContext:
    client: InwiseClient
    config: Config
    options: SendOptions
    cancel: CancelToken
    progress: Progress | None = None
    warnings: list[str] = field(default_factory=list)
    # called with inwise's answers as they arrive (the state store commits them at once)
    record: Callable[[list[RowOutcome]], None] | None = None
    backlog: Backlog | None = None  # answers ``record`` was handed and has not committed yet (per-row upsert)
    # batch: work ``record`` will need for the rows of the next chunk, done while the current one is in flight
    ahead: Callable[[ToSend], None] | None = None
    breaker: OutageBreaker | None = None  # made by send() from inwise.outage_after
    outage: str | None = None  # set when the breaker tripped: what happened and what to do

    def outage_breaker(self) -> OutageBreaker:
        if self.breaker is None:
            self.breaker = OutageBreaker(self.config.inwise.outage_after)
        return self.breaker

    def answered(self, outcomes: list[RowOutcome]) -> None:
        if self.record is not None and outcomes:
            self.record(outcomes)


def unreachable(config: Config, message: str | None) -> InwiseError:
    return InwiseError(said("net.unreachable", url=config.inwise.base_url, problem=message or msg("net.unreachable_none")))


def send(ctx: SendContext, to_send: ToSend, outcomes: Outcomes) -> None:
    if ctx.config.inwise.mode == "upsert":
        send_upsert(ctx, to_send, outcomes)
    else:
        send_batch(ctx, to_send, outcomes)


def mark_not_sent(to_send: ToSend, outcomes: Outcomes, detail: Msg = NOT_SENT) -> int:
    """Rows never sent say so (their old result would be misleading). Returns how many."""
    n = 0
    for ref, _ in to_send:
        if ref.number not in outcomes:
            outcomes[ref.number] = RowOutcome(ref.number, "error", reason=detail, key=ref.key)
            n += 1
    return n


def send_upsert(ctx: SendContext, to_send: ToSend, outcomes: Outcomes) -> None:
    config = ctx.config
    total = len(to_send)
    done = 0
    answered = False  # has inwise answered anything yet?
    silent = 0
    # if the first requests all end without any HTTP answer, inwise is down or the URL is
    # wrong: stop instead of marking every row of the sheet as an error
    give_up_after = min(total, max(3, config.inwise.concurrency))

    no_id = 0
    breaker = ctx.outage_breaker()

    def on_result(ref: RowRef, result: UpsertResult) -> None:
        nonlocal done, answered, silent, no_id
        if result.http_status is not None or result.status == "ok":
            answered = True
        elif not answered:
            silent += 1
            if silent >= give_up_after:
                raise unreachable(config, result.message)
        outcomes[ref.number] = from_upsert(ref, result)
        ctx.answered([outcomes[ref.number]])
        no_id += result.status == "ok" and result.contact_id is None
        done += 1
        if ctx.progress:
            ctx.progress("send", done, total)

    # once cancelled the pool starts nothing new; requests on the wire finish and are reported
    ctx.client.upsert_many(to_send, ctx.options, concurrency=config.inwise.concurrency, on_result=on_result,
                           cancel=StopWhen(ctx.cancel, breaker),
                           watch=lambda result: breaker.record(result.status == "error", result.message),
                           backlog=ctx.backlog)
    if breaker.tripped:
        left = mark_not_sent(to_send, outcomes, NOT_SENT_UNAVAILABLE)
        ctx.outage = outage_message(breaker, sent=total - left, total=total)
    if no_id:
        ctx.warnings.append(catalog.said("run.no_id", n=no_id))


def _chunks(items: ToSend, size: int) -> Iterator[ToSend]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# (group IDs, confirmation status, every mobile domestic (inwise.wire.is_domestic), rows)
BatchPart = tuple[tuple[int | None, ...], "str | None", bool, ToSend]


def batch_parts(to_send: ToSend, options: SendOptions, batch_size: int) -> list[BatchPart]:
    """The chunks of a batch run, each sent once per group of its group set.

    batchInsert takes one group_id (and, assumed, one confirmation status) per call, so rows are
    split by their group set and status (a sheet without a groups or consent column has one set:
    the mapping's inwise.groups).  Numbers of the default country and foreign numbers go in
    separate calls: only the first may carry batchInsert's country_code (it would be prefixed to
    a foreign number).  Domestic rows come first, sets in order of their first row."""
    sets: dict[tuple[bool, tuple[int, ...], str | None], list[tuple[RowRef, Contact]]] = {}
    for item in to_send:
        c = item[1]
        sets.setdefault((not is_domestic(c, options), contact_groups(c, options), c.confirmation_status),
                        []).append(item)
    parts: list[BatchPart] = []
    for (foreign, groups, status), items in sorted(sets.items(), key=lambda kv: kv[0][0]):  # stable: sheet order
        parts += [(groups or (None,), status, not foreign, chunk) for chunk in _chunks(items, batch_size)]
    return parts


def send_batch(ctx: SendContext, to_send: ToSend, outcomes: Outcomes) -> None:
    config, options = ctx.config, ctx.options
    field_numbers = sorted(config.columns.field_columns())
    unconfirmed_chunks: list[int] = []
    breaker = ctx.outage_breaker()
    parts = batch_parts(to_send, options, config.inwise.batch_size)
    with _BodiesAhead(parts, options, field_numbers, ctx.ahead) as bodies:
        _send_parts(ctx, to_send, outcomes, parts, bodies, breaker, unconfirmed_chunks)
    if unconfirmed_chunks:
        ctx.warnings.append(catalog.said("run.batch_failed", n=sum(unconfirmed_chunks), batches=len(unconfirmed_chunks)))


class _BodiesAhead:
    """batchInsert bodies, the next one built in a worker thread while the current one is in
    flight (it only fills the wait for inwise: each chunk's answer is still recorded before the
    next chunk is sent, so at most one chunk is ever unrecorded).  A body built for a call that
    is not made (a failed group, a stop) is dropped."""

    def __init__(self, parts: list[BatchPart], options: SendOptions, field_numbers: Sequence[int],
                 ahead: Callable[[ToSend], None] | None = None) -> None:
        self.calls = [(chunk, group, status, domestic) for groups, status, domestic, chunk in parts for group in groups]
        self.options, self.field_numbers, self.prepare = options, field_numbers, ahead
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="batch-body") if len(self.calls) > 1 else None
        self.ahead: dict[int, Future[dict[str, Any]]] = {}
        self.next = 0

    def _build(self, k: int) -> dict[str, Any]:
        chunk, group, status, domestic = self.calls[k]
        if self.prepare is not None:
            self.prepare(chunk)
        return batch_body([c for _, c in chunk], self.options, field_numbers=self.field_numbers, group_id=group,
                          confirmation_status=status, domestic=domestic)

    def body(self) -> dict[str, Any]:
        """The body of the next call (in the order of the parts and their groups)."""
        k, self.next = self.next, self.next + 1
        built = self.ahead.pop(k, None)
        body = built.result() if built is not None else self._build(k)
        if self.pool is not None and k + 1 < len(self.calls):
            self.ahead[k + 1] = self.pool.submit(self._build, k + 1)
        return body

    def skip(self, n: int) -> None:
        """The next ``n`` calls are not made (the rest of a chunk's groups after a failure)."""
        for k in range(self.next, self.next + n):
            self.ahead.pop(k, None)
        self.next += n

    def __enter__(self) -> _BodiesAhead:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _send_parts(ctx: SendContext, to_send: ToSend, outcomes: Outcomes, parts: list[BatchPart], bodies: _BodiesAhead,
                breaker: OutageBreaker, unconfirmed_chunks: list[int]) -> None:
    config, options = ctx.config, ctx.options
    field_numbers = bodies.field_numbers
    done = 0
    for groups, status, _domestic, chunk in parts:
        if ctx.cancel.is_set():
            return
        if breaker.tripped:
            left = mark_not_sent(to_send, outcomes, NOT_SENT_UNAVAILABLE)
            ctx.outage = outage_message(breaker, sent=len(to_send) - left, total=len(to_send), unit="batches")
            return
        contacts = [c for _, c in chunk]
        failure: Msg | None = None
        res = None
        for i, group in enumerate(groups):
            try:
                res = ctx.client.batch_insert(contacts, options, field_numbers=field_numbers, group_id=group,
                                              confirmation_status=status, body=bodies.body())
            except KeyboardInterrupt:
                for ref, _ in chunk:
                    outcomes[ref.number] = RowOutcome(ref.number, "error", reason=IN_FLIGHT_UNKNOWN, key=ref.key)
                raise
            if not res.ok and res.http_status is None and done == 0 and i == 0:
                raise unreachable(config, res.message)
            if not res.ok:
                said = res.message or f"HTTP {res.http_status}"
                failure = (msg("inwise.batch_group_failed", group=group, message=said) if i > 0
                           else msg("inwise.batch_error", message=said))
                bodies.skip(len(groups) - i - 1)
                break
        unanswered = res is not None and not res.ok and (res.http_status is None or res.http_status in RETRY_STATUSES)
        breaker.record(unanswered, res.message if res is not None else None)
        failed_in_chunk = 0 if failure or res is None else _reported_failures(res.body)
        for ref, _ in chunk:
            if failure:
                outcomes[ref.number] = RowOutcome(ref.number, "error", key=ref.key, reason=failure)
                continue
            # batchInsert gives no per-row answer: rows seen in the new-contacts feed become
            # "created" (with their id) when settled; the others updated an existing contact -
            # unless inwise says some rows of the batch failed, which it does not say which.
            o = RowOutcome(ref.number, "updated", key=ref.key)
            if failed_in_chunk:
                o.unconfirmed = msg("inwise.batch_unconfirmed", n=failed_in_chunk)
            outcomes[ref.number] = o
        ctx.answered([outcomes[ref.number] for ref, _ in chunk])
        if failed_in_chunk:
            unconfirmed_chunks.append(failed_in_chunk)
        done += len(chunk)
        if ctx.progress:
            ctx.progress("send", done, len(to_send))


DIGITS = re.compile(r"\D")


def _reported_failures(body: Any) -> int:
    """How many rows inwise says failed in a batchInsert answer (undocumented: best effort)."""
    if not isinstance(body, dict):
        return 0
    for key in ("failed", "Failed", "failures", "errors", "rejected"):
        v = body.get(key)
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            return max(v, 0)
        if isinstance(v, list):
            return len(v)
    return 0
