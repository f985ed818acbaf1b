"""The one pass: config -> table -> mapping -> inwise -> results.

Source- and mode-agnostic: a new source is a new ``Table``; a new send mode is one function
here.  The CLI (and later the web service and the scheduler) only call ``sync``, ``pull_new``
and ``plan``.
"""
from __future__ import annotations

import csv
import itertools
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .config import Config
from .contacts import ContactMapper, MappedRow, header_key
from .errors import ConnectorError, InwiseError, SourceError
from .inwise import InwiseClient, contact_body, is_domestic
from .model import Contact, SendOptions
from .normalize import clean_text, date_pattern, email_key
from .results import OUTCOMES, RowOutcome, from_upsert
from .state import PulledStore
from .tables.base import Table, TableData

# progress(stage, done, total): stage is "send" or "pull"; total None when unknown
Progress = Callable[[str, int, "int | None"], None]


# --- summary ----------------------------------------------------------------------------------


@dataclass
class RunSummary:
    command: str
    source: str
    mode: str
    dry_run: bool = False
    rows_read: int = 0  # data rows below the header that hold anything
    empty_rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {o: 0 for o in OUTCOMES})
    api_calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False  # stopped with Ctrl-C: only part of the rows were sent  # seconds per stage: read, map, send, pull, write, save
    new_contacts_pulled: int = 0
    new_contacts_appended: int = 0
    duration_s: float = 0.0
    written_to: str | None = None
    is_copy: bool = False
    lost: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)  # dry run: what would be sent
    started_at: str = ""

    def problems(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def to_dict(self, max_rows: int = 1000) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("outcomes", "preview")}
        d["rows_sent"] = self.counts["created"] + self.counts["updated"] + self.counts["conflict"] + self.counts["error"]
        probs = self.problems()
        d["problems"] = [
            {"row": o.row, "outcome": o.outcome, "detail": o.detail, **({"conflict": o.conflict} if o.conflict else {})}
            for o in probs[:max_rows]
        ]
        d["problems_truncated"] = max(0, len(probs) - max_rows)
        if self.dry_run:
            d["preview"] = self.preview[:max_rows]
            d["would_send"] = len(self.preview)
        return d


# --- building blocks ----------------------------------------------------------------------------


def open_table(config: Config) -> Table:
    return config.open_table()


def send_options(config: Config) -> SendOptions:
    iw = config.inwise
    return SendOptions(
        groups=tuple(iw.groups),
        confirmation_status=iw.confirmation_status,
        default_country_code=iw.mobile.calling_code,
        trim_leading_zero=iw.mobile.trim_leading_zero,
        update_existing=iw.update_existing,
        clear_existing_fields=iw.clear_existing_fields,
    )


def make_client(config: Config, environ: dict[str, str] | None = None) -> InwiseClient:
    iw = config.inwise
    return InwiseClient(
        iw.base_url,
        config.api_key(environ),
        timeout=(10.0, float(iw.timeout_seconds)),
        retries=iw.retries,
        pool_size=max(iw.concurrency, 2),
        api_key_source=iw.api_key_env,
    )


@dataclass
class Plan:
    """Everything known before anything is sent."""

    table: Table
    data: TableData
    mapper: ContactMapper
    mapped: list[MappedRow]

    def to_send(self) -> list[tuple[int, Contact]]:
        return [(m.number, m.contact) for m in self.mapped if m.contact is not None]

    def preview(self, options: SendOptions, limit: int | None = None) -> list[dict]:
        """The first ``limit`` (default: all) rows as they would be sent, with their row number."""
        rows = (m for m in self.mapped if m.contact is not None)
        return [{"row": m.number, **contact_body(m.contact, options)} for m in itertools.islice(rows, limit)]


class _Stages:
    """Wall time per stage of a run (reported in the summary and by the benchmark)."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t, 4)


def plan(config: Config, table: Table | None = None, timings: dict[str, float] | None = None) -> Plan:
    """Read the table and map every row (no network)."""
    stage = _Stages({} if timings is None else timings)
    table = table or open_table(config)
    with stage("read"):
        data = table.read()
    with stage("map"):
        mapper = ContactMapper(config, data.header, data.location)
        mapped = mapper.map_rows(data.rows)
    return Plan(table, data, mapper, mapped)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- the new-contacts tab -----------------------------------------------------------------------

ATTRIBUTE_HEADERS = {
    "id": "inwise ID",
    "email": "Email",
    "mobile_number": "Mobile",
    "created_date": "Created",
    "confirmation_status": "Confirmation status",
    "external_id": "External ID",
}


def new_contact_columns(config: Config, field_headers: dict[int, str]) -> list[tuple[str, str]]:
    """(attribute, header) pairs for the new-contacts tab."""
    cols = config.new_contacts.columns

    def header_for(attr: str) -> str:
        if attr in ATTRIBUTE_HEADERS:
            return ATTRIBUTE_HEADERS[attr]
        n = int(attr[5:])
        return field_headers.get(n) or f"Field {n}"

    if cols is None:
        attrs = ["id", "email", "mobile_number"] + [f"field{n}" for n in sorted(field_headers)] + ["created_date"]
        return [(a, header_for(a)) for a in attrs]
    if isinstance(cols, dict):
        return [(a.strip().lower(), h) for a, h in cols.items()]
    return [(a.strip().lower(), header_for(a.strip().lower())) for a in cols]


def _created_value(v: Any) -> Any:
    if not isinstance(v, str) or not v:
        return v
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return v
    if dt.tzinfo is not None:
        dt = dt.astimezone().replace(tzinfo=None)  # the machine's local time, as staff read it
    return dt


def contact_attribute(contact: dict, attr: str) -> Any:
    if attr.startswith("field") and attr[5:].isdigit():
        for f in contact.get("fields") or []:
            if str(f.get("name", "")).lower() == attr:
                return f.get("content")
        return None
    v = contact.get(attr)
    if attr == "created_date":
        return _created_value(v)
    if attr == "id" and v is not None:
        try:
            return int(v)
        except (TypeError, ValueError):
            return v
    if attr == "mobile_number" and v is not None:
        return str(v)
    return v


@dataclass
class PulledIndex:
    """What a run needs of the pulled contacts, without keeping every contact as a dict."""

    ids: set[str] = field(default_factory=set)  # pending ids, marked delivered after the save
    by_email: dict[str, int] = field(default_factory=dict)  # batch mode: matching rows to new contacts
    by_mobile: dict[str, int] = field(default_factory=dict)
    tab_rows: list[tuple[tuple, str, list]] = field(default_factory=list)  # (order key, id, values)


def index_pulled(config: Config, store: PulledStore, columns: list[tuple[str, str]]) -> PulledIndex:
    """One streaming pass over the contacts pulled and not yet written to the sheet."""
    idx = PulledIndex()
    batch = config.inwise.mode == "batch"
    tab = config.new_contacts.enabled
    for c in store.iter_pending():
        key = str(c.get("id"))
        idx.ids.add(key)
        if batch:
            try:
                cid = int(c.get("id"))
            except (TypeError, ValueError):
                cid = None
            if cid is not None:
                if c.get("email"):
                    idx.by_email[email_key(str(c["email"]))] = cid
                if c.get("mobile_number"):
                    # inwise returns mobiles as international digits, the form we sent: compare
                    # digits instead of parsing every pulled number again
                    idx.by_mobile[_DIGITS.sub("", str(c["mobile_number"]))] = cid
        if tab:
            order = (str(c.get("created_date") or ""), _id_key(c.get("id")))
            idx.tab_rows.append((order, key, [contact_attribute(c, a) for a, _ in columns]))
    return idx


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


def _append_new_contacts(config: Config, table: Table, pulled: PulledIndex, columns: list[tuple[str, str]]) -> int:
    if not config.new_contacts.enabled or not pulled.tab_rows:
        return 0
    tab = config.new_contacts.tab
    existing = _existing_ids(table, tab, columns)
    # inwise's feed lists the newest first; the tab reads like a log, oldest at the top
    pulled.tab_rows.sort(key=lambda t: t[0])
    rows_out = [values for _, key, values in pulled.tab_rows if key not in existing]
    if not rows_out:
        return 0
    return table.append_rows(tab, [h for _, h in columns], rows_out)


def _id_key(v: Any) -> tuple[int, str]:
    try:
        return (int(v), "")
    except (TypeError, ValueError):
        return (0, str(v))


def _pull(client: InwiseClient, store: PulledStore, progress: Progress | None, summary: RunSummary) -> int:
    n = 0
    for page in client.pull_new_contacts():
        store.append_page(page)  # durable before the next request
        n += len(page)
        if progress:
            progress("pull", n, None)
    lost = getattr(client, "feed_answers_maybe_lost", 0)
    if lost:
        summary.warnings.append(
            f"{lost} answer(s) of inwise's new-contacts feed were cut off in transit; inwise hands each new "
            "contact out only once, so some new contacts may be missing from the new-contacts tab. "
            "They are still in inwise: export recent contacts there to check."
        )
    return n


def _save(table: Table, summary: RunSummary, columns: dict[str, dict[int, Any]], store: PulledStore, delivered: Iterable[str]) -> None:
    try:
        report = table.save()
    except ConnectorError as e:
        csv_path = _fallback_csv(table, columns)
        raise SourceError(
            f"{e}\nThe contacts WERE sent to inwise. "
            + (f"Each row's result is in {csv_path}. " if csv_path else "")
            + "Newly created contacts are kept and will be added to the sheet on the next run."
        ) from None
    summary.written_to = report.path
    summary.is_copy = report.is_copy
    summary.lost = list(report.lost)
    if report.is_copy and report.message:
        summary.warnings.append(report.message)
    store.mark_delivered(delivered)


def _fallback_csv(table: Table, columns: dict[str, dict[int, Any]]) -> str | None:
    """When the workbook cannot be saved, keep the per-row results in a CSV next to it."""
    path = getattr(table, "path", None)
    if path is None or not columns:
        return None
    p = Path(path)
    out = p.with_name(f"{p.stem} sync results {datetime.now().strftime('%Y-%m-%d %H%M%S')}.csv")
    rows = sorted({r for col in columns.values() for r in col})
    try:
        with open(out, "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow(["Row", *columns.keys()])
            for r in rows:
                w.writerow([r, *(columns[h].get(r, "") for h in columns)])
    except OSError:
        return None
    return str(out)


# --- the commands ------------------------------------------------------------------------------------


def sync(
    config: Config,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    environ: dict[str, str] | None = None,
    table: Table | None = None,
    now: Callable[[], datetime] = datetime.now,
) -> RunSummary:
    """Sync every row of the source to inwise and write the outcome back."""
    t0 = time.monotonic()
    started = now()
    timings: dict[str, float] = {}
    stage = _Stages(timings)
    p = plan(config, table, timings)
    table = p.table
    summary = RunSummary(
        command="sync",
        source=p.data.location,
        mode=config.inwise.mode,
        dry_run=dry_run,
        rows_read=len(p.mapped),
        empty_rows=len(p.data.rows) - len(p.mapped),
        started_at=started.isoformat(timespec="seconds"),
        timings=timings,
    )
    outcomes: dict[int, RowOutcome] = {}
    for m in p.mapped:
        if m.problem is not None:
            outcomes[m.number] = RowOutcome(m.number, m.problem.kind, detail=m.problem.message)
    to_send = p.to_send()
    p.data.rows = []  # the raw cells are mapped: let them go (a large sheet's rows cost ~100 MB)
    options = send_options(config)

    if dry_run:
        summary.preview = p.preview(options)
        _finish(summary, outcomes, t0)
        return summary

    table.check_writable()  # before anything is sent: results must have somewhere to go
    store = PulledStore(config.state_path())
    with make_client(config, environ) as client:
        with stage("send"):
            try:
                if config.inwise.mode == "upsert":
                    _send_upsert(client, config, options, to_send, outcomes, progress)
                else:
                    _send_batch(client, config, options, to_send, outcomes, progress, summary.warnings)
            except KeyboardInterrupt:
                # stopped by the user: what was sent still gets its result written (a second
                # Ctrl-C from here on stops everything)
                summary.interrupted = True
                left = _not_sent(to_send, outcomes)
                summary.warnings.append(
                    f"Stopped by you: {len(to_send) - left} of {len(to_send)} rows were sent and have their result; "
                    f"the other {left} say 'not sent'. Run the sync again to send them.")
        with stage("pull"):
            pull_failed = False
            try:
                summary.new_contacts_pulled = _pull(client, store, progress, summary)
            except InwiseError as e:
                # the rows were sent: their results must still be written
                pull_failed = True
                summary.warnings.append(
                    f"Could not read inwise's list of new contacts ({e}). Every row's result is written, but "
                    "created and updated rows cannot be told apart this time (they say '✓ synced'); new "
                    "contacts will be added to the new-contacts tab by the next sync or pull-new."
                )
            tab_columns = new_contact_columns(config, p.mapper.columns.field_headers)
            pulled = index_pulled(config, store, tab_columns)
        stats = client.stats()
    summary.api_calls = dict(stats["calls"])
    summary.retries = stats["retries"]

    with stage("write"):
        _settle_created(outcomes, to_send, pulled)
        if pull_failed:
            for o in outcomes.values():
                if o.outcome == "updated":
                    o.unsettled = True
        when = now()
        columns = _result_columns(config, outcomes, when)
        table.set_columns(columns)
        summary.new_contacts_appended = _append_new_contacts(config, table, pulled, tab_columns)
    with stage("save"):
        _save(table, summary, columns, store, pulled.ids if config.new_contacts.enabled else [])
    _finish(summary, outcomes, t0)
    return summary


def pull_new(
    config: Config,
    *,
    progress: Progress | None = None,
    environ: dict[str, str] | None = None,
    table: Table | None = None,
) -> RunSummary:
    """Only pull contacts inwise created since the last pull into the new-contacts tab."""
    t0 = time.monotonic()
    table = table or open_table(config)
    data = table.read()
    mapper = ContactMapper(config, data.header, data.location)
    summary = RunSummary(command="pull-new", source=data.location, mode=config.inwise.mode,
                         started_at=datetime.now().isoformat(timespec="seconds"))
    if not config.new_contacts.enabled:
        summary.warnings.append("new_contacts.enabled is false in the mapping: nothing to do.")
        _finish(summary, {}, t0)
        return summary
    table.check_writable()
    store = PulledStore(config.state_path())
    with make_client(config, environ) as client:
        summary.new_contacts_pulled = _pull(client, store, progress, summary)
        stats = client.stats()
    summary.api_calls = dict(stats["calls"])
    summary.retries = stats["retries"]
    tab_columns = new_contact_columns(config, mapper.columns.field_headers)
    pulled = index_pulled(config, store, tab_columns)
    summary.new_contacts_appended = _append_new_contacts(config, table, pulled, tab_columns)
    if pulled.ids:
        _save(table, summary, {}, store, pulled.ids)
    _finish(summary, {}, t0)
    return summary


def _finish(summary: RunSummary, outcomes: dict[int, RowOutcome], t0: float) -> None:
    summary.outcomes = [outcomes[k] for k in sorted(outcomes)]
    for o in summary.outcomes:
        summary.counts[o.outcome] += 1
    summary.duration_s = round(time.monotonic() - t0, 3)


# --- sending ------------------------------------------------------------------------------------------


def _unreachable(config: Config, message: str | None) -> InwiseError:
    return InwiseError(
        f"Cannot reach inwise at {config.inwise.base_url}: {message or 'no answer'}.\n"
        "Nothing was written to the workbook. Check inwise.base_url in the mapping and the network "
        "connection, then run the sync again."
    )


def _send_upsert(client, config, options, to_send, outcomes, progress) -> None:
    total = len(to_send)
    done = 0
    answered = False  # has inwise answered anything yet?
    silent = 0
    # if the first requests all end without any HTTP answer, inwise is down or the URL is
    # wrong: stop instead of marking every row of the sheet as an error
    give_up_after = min(total, max(3, config.inwise.concurrency))

    def on_result(row: int, result) -> None:
        nonlocal done, answered, silent
        if result.http_status is not None or result.status == "ok":
            answered = True
        elif not answered:
            silent += 1
            if silent >= give_up_after:
                raise _unreachable(config, result.message)
        outcomes[row] = from_upsert(row, result)
        done += 1
        if progress:
            progress("send", done, total)

    client.upsert_many(to_send, options, concurrency=config.inwise.concurrency, on_result=on_result)


def _not_sent(to_send, outcomes: dict[int, RowOutcome]) -> int:
    """After Ctrl-C: rows that were never sent say so (their old result would be misleading)."""
    n = 0
    for row, _ in to_send:
        if row not in outcomes:
            outcomes[row] = RowOutcome(row, "error", detail="not sent: the sync was stopped before this row - run it again")
            n += 1
    return n


def _send_batch(client, config, options, to_send, outcomes, progress, warnings: list[str]) -> None:
    field_numbers = sorted(config.columns.field_columns())
    groups: list[int | None] = list(config.inwise.groups) or [None]
    done = 0
    unconfirmed_chunks: list[int] = []
    # Numbers of the default country and foreign numbers go in separate calls: only the first
    # may carry batchInsert's country_code (it would be prefixed to a foreign number).
    domestic = [item for item in to_send if is_domestic(item[1], options)]
    foreign = [item for item in to_send if not is_domestic(item[1], options)]
    parts = [c for part in (domestic, foreign) for c in _chunks(part, config.inwise.batch_size)]
    for chunk in parts:
        contacts = [c for _, c in chunk]
        failure = None
        for i, group in enumerate(groups):
            try:
                res = client.batch_insert(contacts, options, field_numbers=field_numbers, group_id=group)
            except KeyboardInterrupt:
                for row, _ in chunk:
                    outcomes[row] = RowOutcome(row, "error", detail=(
                        "the sync was stopped while this row's batch was being sent: inwise may or may not "
                        "have it - run the sync again (sending twice is safe)"))
                raise
            if not res.ok and res.http_status is None and done == 0 and i == 0:
                raise _unreachable(config, res.message)
            if not res.ok:
                failure = res.message or f"HTTP {res.http_status}"
                if i > 0:
                    failure = f"sent, but adding to group {group} failed: {failure}"
                break
        failed_in_chunk = 0 if failure else _reported_failures(res.body)
        for row, _ in chunk:
            if failure:
                outcomes[row] = RowOutcome(row, "error", detail=f"inwise error (batch): {failure} - sync again later to retry this row")
            else:
                # batchInsert gives no per-row answer: rows seen in the new-contacts feed become
                # "created" (with their id) below; the others updated an existing contact -
                # unless inwise says some rows of the batch failed, which it does not say which.
                outcomes[row] = RowOutcome(row, "updated")
                if failed_in_chunk:
                    outcomes[row].unconfirmed = (
                        f"inwise reported {failed_in_chunk} failed row(s) in this batch and batch mode cannot tell "
                        "which; run with mode: upsert to see each row's result"
                    )
        if failed_in_chunk:
            unconfirmed_chunks.append(failed_in_chunk)
        done += len(chunk)
        if progress:
            progress("send", done, len(to_send))
    if unconfirmed_chunks:
        warnings.append(
            f"inwise reported {sum(unconfirmed_chunks)} failed row(s) in {len(unconfirmed_chunks)} batch(es); "
            "batchInsert does not say which, so those batches' rows are marked 'updated?'. "
            "Run with mode: upsert to get a result for every row (conflicts, refusals)."
        )


_DIGITS = re.compile(r"\D")


def _reported_failures(body: dict | None) -> int:
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


def _settle_created(outcomes: dict[int, RowOutcome], to_send, pulled: PulledIndex) -> None:
    """A row is 'created' exactly when its contact shows up in the created-contacts feed."""
    contacts = dict(to_send)
    for row, o in outcomes.items():
        if o.outcome != "updated":
            continue
        if o.contact_id is not None:
            if str(o.contact_id) in pulled.ids:
                o.outcome = "created"
            continue
        c = contacts.get(row)
        if c is None:
            continue
        cid = (pulled.by_email.get(email_key(c.email)) if c.email else None) or (
            pulled.by_mobile.get(c.mobile) if c.mobile else None)
        if cid is not None:
            o.outcome = "created"
            o.contact_id = cid
            o.unconfirmed = ""


def _result_columns(config: Config, outcomes: dict[int, RowOutcome], when: datetime) -> dict[str, dict[int, Any]]:
    res = config.results
    pattern = date_pattern(res.time_format)
    columns: dict[str, dict[int, Any]] = {res.column: {r: o.status(when, pattern) for r, o in outcomes.items()}}
    if res.contact_id_column:
        columns[res.contact_id_column] = {r: o.contact_id for r, o in outcomes.items() if o.contact_id is not None}
    if res.synced_at_column:
        columns[res.synced_at_column] = {r: when.replace(microsecond=0) for r, o in outcomes.items() if o.ok}
    return columns
