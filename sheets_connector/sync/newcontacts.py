"""Stage 3, pull: inwise's once-only new-contacts feed, kept durably, then the new-contacts tab.

inwise gives each new contact out only once, ever.  The raw bytes of every answer are committed
to the store (fsynced) before they are even parsed, and before the next request; the store must
have room for an answer before it is asked for.  An answer or item that cannot be read is kept
and reported, never in the way of the others.  The tab receives the account's kept contacts not
yet delivered to this sheet; they count as delivered only once the sheet holding them was saved
(see run.py), and the tab is checked for ids already there, so nothing is appended twice.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import messages
from ..cancel import CancelToken
from ..config import Config
from ..errors import InwiseError, StateError
from ..gcpolicy import settle
from ..inwise import InwiseClient
from ..messages.catalog import error_words, msg, said
from ..normalize import clean_text, header_key
from ..state import FeedAnswer, LockHeld, StateStore
from ..tables.base import Table
from . import rescue
from .feedrows import Entry, RowReader, contact_attribute, id_order, mobile_as_written
from .summary import Progress, RunSummary

__all__ = ["ATTRIBUTE_HEADERS", "FeedIndexer", "FeedTarget", "PullResult", "PulledIndex", "append_new_contacts",
           "contact_attribute", "index_pulled", "mobile_as_written", "new_contact_columns", "pull"]

ATTRIBUTE_HEADERS = ("id", "email", "mobile_number", "created_date", "confirmation_status", "external_id")


def new_contact_columns(config: Config, field_headers: dict[int, str]) -> list[tuple[str, str]]:
    """(attribute, header) pairs for the new-contacts tab."""
    cols = config.new_contacts.columns

    def header_for(attr: str) -> str:
        if attr in ATTRIBUTE_HEADERS:
            return messages.header(attr, config.language)
        n = int(attr[5:])
        return field_headers.get(n) or messages.header("field", config.language).format(n=n)

    if cols is None:
        attrs = ["id", "email", "mobile_number"] + [f"field{n}" for n in sorted(field_headers)] + ["created_date"]
        return [(a, header_for(a)) for a in attrs]
    if isinstance(cols, dict):
        return [(a.strip().lower(), h) for a, h in cols.items()]
    return [(a.strip().lower(), header_for(a.strip().lower())) for a in cols]


ROOM_PER_ANSWER = 2 * 1024 * 1024  # the store must have this much room (or twice the largest answer) per request


@dataclass
class FeedTarget:
    """Where the feed goes: the store, the inwise account it belongs to, the sheet it is read
    for (and delivered to), the run, and the folder for an answer the store could not take."""

    store: StateStore
    account: str
    sheet: str
    run_id: int | None
    rescue_dir: Path


@dataclass
class PulledIndex:
    """What a run needs of the pulled contacts, without keeping every contact as a dict."""

    ids: set[str] = field(default_factory=set)  # pending ids, marked delivered after the save
    by_email: dict[str, int] = field(default_factory=dict)  # batch mode: matching rows to new contacts
    by_mobile: dict[str, int] = field(default_factory=dict)
    tab_rows: list[Entry] = field(default_factory=list)  # the tab's rows: their cells, contact id and order

    def merged(self, other: PulledIndex) -> PulledIndex:
        """For settling only: these contacts and ``other``'s (the tab rows stay this index's)."""
        if not other.ids:
            return self
        return PulledIndex(self.ids | other.ids, {**other.by_email, **self.by_email},
                           {**other.by_mobile, **self.by_mobile}, self.tab_rows)


@dataclass
class FeedIndexer:
    """Indexes each feed answer while it is in memory, as it is kept (its items decoded once, each
    read once by feedrows.RowReader): ``index_pulled`` then takes these entries instead of
    decoding the answer again."""

    config: Config
    columns: list[tuple[str, str]]
    entries: dict[int, list[Entry | None]] = field(default_factory=dict)  # answer id -> entry by position

    def __post_init__(self) -> None:
        self.reader = RowReader(self.config, self.columns)

    def read(self, answer: FeedAnswer) -> None:
        if answer.items is None:
            return
        entry = self.reader.entry
        self.entries[answer.id] = [entry(item) for item in answer.items]


def index_pulled(config: Config, target: FeedTarget, columns: list[tuple[str, str]],
                 read: FeedIndexer | None = None) -> PulledIndex:
    """One streaming pass over the account's kept contacts not yet written to this sheet (those
    of the answers ``read`` indexed as they were kept are not decoded again)."""
    idx = PulledIndex()
    batch = config.inwise.mode == "batch"
    tab = config.new_contacts.enabled
    reader = read.reader if read is not None else RowReader(config, columns)
    known = read.entries if read is not None else {}
    ids, by_email, by_mobile, rows = idx.ids, idx.by_email, idx.by_mobile, idx.tab_rows
    answer_entries: list[Entry | None] = []
    current = None
    for answer_id, pos, c in target.store.iter_pending_at(target.sheet, target.account, known, canonical=False):
        if c is not None:
            entry = reader.entry(c)
        else:
            if answer_id != current:
                current, answer_entries = answer_id, known[answer_id]
            entry = answer_entries[pos] if pos < len(answer_entries) else None
        if entry is None:
            continue
        ids.add(entry[0])
        cid = entry[1]
        if batch and cid is not None:
            if entry[2]:
                by_email[entry[2]] = cid
            if entry[3]:
                by_mobile[entry[3]] = cid
        if tab:
            rows.append(entry)
    return idx


@dataclass
class PullResult:
    contacts: int = 0  # read from inwise this time
    drained: bool = False  # the feed was read to its end (else created/updated cannot be told apart)


def pull(client: InwiseClient, target: FeedTarget, cancel: CancelToken, progress: Progress | None,
         summary: RunSummary, *, stop_on_cancel: bool = True, read: FeedIndexer | None = None,
         sent: Iterable[int] = ()) -> PullResult:
    """Drain the account's feed into the store, holding the account's feed lock (one reader at a
    time).  Stops between answers once cancelled (when ``stop_on_cancel``); an answer being
    received is finished and kept first: a hard stop waits for it.  A store that cannot take
    more stops the pull *before* the next request (what inwise has not handed out stays there).
    ``sent``: the contact ids inwise answered this run's sends with (see :func:`_read_elsewhere`)."""
    result = PullResult()
    store = target.store
    try:
        token = store.lock(f"feed:{target.account}", "the new-contacts feed of an inwise account", wait=True,
                           cancelled=cancel.is_set)
    except LockHeld:
        summary.warnings.append(said("run.stopped_before_feed"))
        return result
    except StateError as e:  # the store cannot be reached: the feed is not read (it stays in inwise)
        summary.error = summary.error or said("run.store_feed_not_read", error=error_words(e))
        return result
    try:
        _take_leftovers(target, summary)
        newest = store.newest_feed_contact(target.account)
        settle()  # decoding ~100 answers would otherwise walk what the run holds in full collections
        _drain(client, target, cancel, progress, summary, stop_on_cancel, result, read)
        if result.drained and newest is not None and not client.feed_answers_maybe_lost:  # (a lost answer says so itself)
            _read_elsewhere(target, newest, sent, summary)
    except StateError as e:
        summary.error = said("run.store_feed_partial", error=error_words(e))
    finally:
        with suppress(StateError):
            store.unlock(f"feed:{target.account}", token)
    return result


def _drain(client: InwiseClient, target: FeedTarget, cancel: CancelToken, progress: Progress | None,
           summary: RunSummary, stop_on_cancel: bool, result: PullResult, read: FeedIndexer | None = None) -> None:
    with _ReadBehind(read) as behind:
        _drain_into(client, target, cancel, progress, summary, stop_on_cancel, result, behind)


class _ReadBehind:
    """Indexes each kept answer (``FeedIndexer.read``) in a worker thread while the next one is
    requested and committed: the answer is committed before it is handed over, and the next
    request still starts only after that commit, so this only fills the wait for inwise.  One
    answer at a time, in order; ``close`` waits for the last one (its error, if any, is raised)."""

    def __init__(self, read: FeedIndexer | None) -> None:
        self.read = read
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="feed-index") if read is not None else None
        self.pending: Future[None] | None = None

    def __call__(self, answer: FeedAnswer) -> None:
        if self.pool is None or self.read is None:
            return
        self.wait()
        self.pending = self.pool.submit(self.read.read, answer)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> _ReadBehind:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)  # also on an error: the entries are complete or unused


def _drain_into(client: InwiseClient, target: FeedTarget, cancel: CancelToken, progress: Progress | None,
                summary: RunSummary, stop_on_cancel: bool, result: PullResult, read: _ReadBehind) -> None:
    store, account = target.store, target.account
    kept: list[FeedAnswer] = []
    largest = [0]

    def keep(raw: bytes) -> list[Any] | None:
        received = time.perf_counter()  # requests hands the body over once its last byte arrived
        largest[0] = max(largest[0], len(raw))
        try:
            answer = store.add_feed_answer(account, raw, run_id=target.run_id, received=received)
        except StateError as e:
            raise rescue.keep_elsewhere(raw, target, e) from None
        read(answer)  # committed first, then read (behind the next request): the items decoded once
        kept.append(dataclasses.replace(answer, items=None))  # the items are not kept past this answer
        return answer.items

    pages = client.pull_new_contacts(keep_raw=keep)
    while not (stop_on_cancel and cancel.is_set()):
        needed = max(ROOM_PER_ANSWER, 2 * largest[0])
        store.ensure_room(needed, grow=max(4 * needed, 8 * 1024 * 1024))  # grow seldom, well ahead
        with cancel.critical():
            before = len(kept)
            store.feed_request_started(account, target.run_id)
            try:
                page = next(pages, None)
            except InwiseError:
                if len(kept) > before and kept[-1].state == "unreadable":
                    summary.warnings.append(_unreadable_text(kept[-1], store))
                    break
                raise
            finally:
                if len(kept) == before:  # no answer kept: nothing of this request can be missing
                    with suppress(StateError):
                        store.feed_request_ended(account)
            if page is None:
                result.drained = True
                break
        answer = kept[-1]
        result.contacts += answer.contacts
        if answer.commit_ms is not None:
            summary.feed_commit_ms.append(answer.commit_ms)
        if answer.problems:
            summary.warnings.append(_bad_items_text(answer, store))
        if progress:
            progress("pull", result.contacts, None)
    lost = client.feed_answers_maybe_lost
    if lost:
        summary.warnings.append(said("run.feed_cut", n=lost))


def _read_elsewhere(target: FeedTarget, newest: int, sent: Iterable[int], summary: RunSummary) -> None:
    """Say so when another state store reads this account's feed (two mappings of one account with
    different state_url split it: each contact reaches only one of them).  Evidence that needs
    nothing from inwise but ids (wire.ASSUMPTIONS, "contact ids grow"): a contact this run sent
    whose id is higher than any this store read before was created after this store's last read,
    so the feed just drained must have given it; if the store still does not hold it, another
    reader took it."""
    later = {str(i) for i in sent if i > newest}
    missing = sorted(later - target.store.kept_contacts(target.account, later), key=int)
    if not missing:
        return
    shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
    summary.warnings.append(said("run.feed_elsewhere", n=len(missing), shown=shown, url=str(target.store.url)))


def _take_leftovers(target: FeedTarget, summary: RunSummary) -> None:
    """What earlier runs left: an answer they were receiving when they died, answers kept in a
    file because the store was full, answers kept but not (fully) read."""
    store, account = target.store, target.account
    interrupted = store.take_interrupted_feed_request(account)
    if interrupted is not None:
        run_id, when = interrupted
        run = msg("run.run_n", id=run_id) if run_id is not None else msg("run.a_run")
        summary.warnings.append(said("run.feed_killed", run=run, when=when.replace('T', ' ')[:19]))
    for path, answer in rescue.read_back(target):
        summary.warnings.append(said("run.feed_read_back", n=answer.contacts, path=str(path)))
    for answer in store.reparse_feed(account):
        summary.warnings.append(said("run.feed_reread", id=answer.id, path=str(store.path), n=answer.contacts))


def _unreadable_text(answer: FeedAnswer, store: StateStore) -> str:
    what = answer.problems[0] if answer.problems else msg("run.not_contacts")
    return said("run.feed_unreadable", what=what, path=str(store.path), id=answer.id)


def _bad_items_text(answer: FeedAnswer, store: StateStore) -> str:
    shown = "; ".join(answer.problems[:3]) + (" …" if len(answer.problems) > 3 else "")
    return said("run.feed_bad_items", shown=shown, path=str(store.path), id=answer.id, n=answer.contacts)


def _existing_ids(table: Table, tab: str, columns: list[tuple[str, str]]) -> set[str]:
    """The contact ids already in the new-contacts tab (so nothing is appended twice)."""
    existing: set[str] = set()
    found = table.read_tab(tab)
    if found is None:
        return existing
    header, rows = found
    id_header = next((h for a, h in columns if a == "id"), None)
    if id_header is None:
        return existing
    idx = [i for i, h in enumerate(header) if header_key(h) == header_key(id_header)]
    if not idx:
        return existing
    for r in rows:
        v = r[idx[0]] if idx[0] < len(r) else None
        if v not in (None, ""):
            existing.add(clean_text(int(v) if isinstance(v, float) and v.is_integer() else v))
    return existing


def append_new_contacts(config: Config, table: Table, pulled: PulledIndex, columns: list[tuple[str, str]]) -> int:
    if not config.new_contacts.enabled or not pulled.tab_rows:
        return 0
    tab = config.new_contacts.tab
    existing = _existing_ids(table, tab, columns)
    # inwise's feed lists the newest first; the tab reads like a log, oldest at the top
    pulled.tab_rows.sort(key=lambda e: (e[4], id_order(e[5])))  # (created date, id)
    rows_out = [e[6] for e in pulled.tab_rows if e[0] not in existing]
    if not rows_out:
        return 0
    return table.append_rows(tab, [h for _, h in columns], rows_out)
