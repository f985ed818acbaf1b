"""``StateRunStore``: the service's runs, locks and replay guard in the state store (one registry).

A menu click or a schedule slot files its run in the same ``runs`` table and takes the same
sheet lock as ``sheets-connector sync`` from a shell or cron (``state/runs.py``), so a run's
status is answered by any service replica sharing the store, a CLI run shows as the sheet's
last sync, and a click while anything holds the sheet is refused naming that run.  What only
the service has lives in the same rows and tables: ``queued`` runs, preview or not, the tab
clicked, who asked, progress, the result the sheet shows; the replay guard (``seen``) and the
claimed schedule slots (``slots``).

Each queued run gets a state store object of its own (``Claim.store``): its heartbeat keeps the
lock while the run waits and runs, and the sync goes on with that lock and record (fencing
included).  A replica that dies leaves its lock to expire (the state store's lease: seconds on
PostgreSQL); its run shows as failed from then on, on every replica.

Which store: the one each sheet's syncs use (``--state-url``/``SHEETS_CONNECTOR_STATE_URL``, the
mapping's ``state_url``/``state_dir``, the per-user file).  The replay guard lives in the
environment's store, else the one all sheets share, else the per-user file.

Run ids on the wire are ``<number>.<spreadsheet id>``: the number in that sheet's store.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict
from datetime import datetime, timezone

from ..config import SheetIdentity
from ..errors import ConnectorError, StateError
from ..messages.catalog import in_language, said, said_from_json
from ..state import Holder, LockHeld, QueuedRun, RunRecord, SqlStore, open_url, state_url
from .runner import load_mapping
from .sheets import Registry, Sheet
from .store import Claim, NewRun, Run, RunProgress, RunResult, RunState

STALE_ERROR = said("service.stale")
STATES: dict[str, RunState] = {"queued": "queued", "running": "running", "ok": "done", "failed": "failed",
                               "stopped": "cancelled", "crashed": "failed"}
FINAL = {"done": "ok", "failed": "failed", "cancelled": "stopped"}
MAX_NUMBER_DIGITS = 18  # a run number both engines hold: a made-up id is simply not found


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def wire_id(number: int, spreadsheet_id: str) -> str:
    return f"{number}.{spreadsheet_id}"


def parse_wire_id(value: str) -> tuple[int, str] | None:
    number, _, sid = value.partition(".")
    return (int(number), sid) if number.isdigit() and len(number) <= MAX_NUMBER_DIGITS and sid else None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    # the CLI files local times without an offset: read them as this machine's local time
    return (at if at.tzinfo else at.astimezone()).astimezone(timezone.utc)


def as_run(spreadsheet_id: str, record: RunRecord, worksheet: str | None, *, stale: bool = False,
           language: str | None = None) -> Run:
    """A state store's run record in the shape the service answers with (``language``: the sheet's
    mapping's, for what the service says itself)."""
    created = _when(record.started_at) or utc_now()
    state = STATES.get(record.status, "failed")
    if record.result is not None:
        result: RunResult | None = RunResult(**record.result)
    elif record.summary is not None or state not in ("queued", "running"):
        result = RunResult.from_summary(record.summary or {"counts": record.counts})
    else:
        result = None
    error = said_from_json(record.error, (record.summary or {}).get("said"), (record.summary or {}).get("language")) \
        if record.error else record.error
    if stale and state in ("queued", "running"):
        state, error = "failed", error or in_language(STALE_ERROR, language)
    started = _when(record.running_at) or (None if record.status == "queued" else created)
    return Run(id=wire_id(record.id, spreadsheet_id), spreadsheet_id=spreadsheet_id, trigger=record.trigger,
               dry_run=record.dry_run, state=state, created_at=created, worksheet=record.worksheet or worksheet,
               requested_by=record.requested_by, started_at=started, finished_at=_when(record.finished_at),
               result=result, error=error,
               progress=RunProgress(**record.progress) if record.progress else None)


class StateRunStore:
    """The service's ``RunStore`` over the state stores its sheets use."""

    def __init__(self, registry: Registry, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._registry = registry
        self._clock = clock
        self._stores: dict[str, SqlStore] = {}
        self._mutex = threading.Lock()
        urls = set()
        for sheet in registry:
            with suppress(ConnectorError):  # a broken mapping is told when its sheet runs
                urls.add(self._resolve(sheet)[0])
        self._guard_url = state_url(None, urls.pop() if len(urls) == 1 else None, None)

    # -- plumbing -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        # whole seconds: what a person reads, and what every client's date parser accepts
        return self._clock().astimezone(timezone.utc).replace(microsecond=0)

    def _resolve(self, sheet: Sheet) -> tuple[str, SheetIdentity, str | None]:
        config = load_mapping(sheet.config_path)  # read at each call: an edited mapping counts at once
        url = state_url(None, config.state_url_resolved(), config.state_dir_path())
        return url, config.identity(), config.source.worksheet

    def _store(self, url: str) -> SqlStore:
        with self._mutex:
            store = self._stores.get(url)
            if store is None:
                store = self._stores[url] = open_url(url)
            return store

    def _sheet(self, spreadsheet_id: str) -> tuple[Sheet, SqlStore, SheetIdentity, str | None] | None:
        sheet = self._registry.get(spreadsheet_id)
        if sheet is None:
            return None
        url, ident, worksheet = self._resolve(sheet)
        return sheet, self._store(url), ident, worksheet

    def _record(self, run_id: str) -> tuple[str, SqlStore, SheetIdentity, str | None, RunRecord] | None:
        parsed = parse_wire_id(run_id)
        found = self._sheet(parsed[1]) if parsed else None
        if parsed is None or found is None:
            return None
        _, store, ident, worksheet = found
        record = store.get_run(parsed[0])
        if record is None or record.sheet != ident.sheet or record.command not in ("sync", "preview"):
            return None
        return parsed[1], store, ident, worksheet, record

    def _shown(self, sid: str, worksheet: str | None, record: RunRecord, holder: Holder | None) -> Run:
        """``holder``: the sheet's lock, read *before* the record (a live run holds it from its
        queue to after its final record, so a record still open without it is a dead run's)."""
        stale = record.status in ("queued", "running") and (holder is None or holder.run_id != record.id)
        sheet = self._registry.get(sid)
        return as_run(sid, record, worksheet, stale=stale, language=sheet.language if sheet is not None else None)

    # -- RunStore -----------------------------------------------------------------------------
    def begin(self, sheet: Sheet, run: NewRun) -> Claim | str:
        url, ident, _ = self._resolve(sheet)
        own = open_url(url)  # its own heartbeat keeps this run's lock
        now = self._now()
        try:
            token, number = own.begin_run(
                ident.workbook, ident.sheet, ident.label, "preview" if run.dry_run else "sync", run.trigger,
                now.isoformat(), queued=QueuedRun(run.dry_run, run.worksheet, run.requested_by))
        except LockHeld as held:
            own.close()
            return wire_id(held.holder.run_id, sheet.spreadsheet_id) if held.holder.run_id is not None else ""
        except BaseException:
            own.close()
            raise
        queued = Run(id=wire_id(number, sheet.spreadsheet_id), spreadsheet_id=sheet.spreadsheet_id,
                     trigger=run.trigger, dry_run=run.dry_run, state="queued", created_at=now,
                     worksheet=run.worksheet, requested_by=run.requested_by)
        return Claim(queued, number, ident.workbook, token, own)

    def started(self, claim: Claim) -> None:
        """The run leaves the queue (LockLost if it lost its lock meanwhile)."""
        claim.store.start_queued(claim.number, self._now().isoformat())

    def end(self, claim: Claim) -> None:
        try:
            claim.store.unlock(claim.lock, claim.token)  # nothing if the sync gave it back, or it was taken over
        except StateError:
            pass  # the lease frees it
        finally:
            claim.store.close()

    def get_run(self, run_id: str) -> Run | None:
        parsed = parse_wire_id(run_id)
        found = self._sheet(parsed[1]) if parsed else None
        if parsed is None or found is None:
            return None
        _, store, ident, worksheet = found
        holder = store.lock_holder(ident.workbook)
        record = store.get_run(parsed[0])
        if record is None or record.sheet != ident.sheet or record.command not in ("sync", "preview"):
            return None
        return self._shown(parsed[1], worksheet, record, holder)

    def latest_run(self, spreadsheet_id: str, *, include_dry_runs: bool = False) -> Run | None:
        found = self._sheet(spreadsheet_id)
        if found is None:
            return None
        _, store, ident, worksheet = found
        commands = ("sync", "preview") if include_dry_runs else ("sync",)
        holder = store.lock_holder(ident.workbook)
        for record in store.list_runs(ident.sheet, limit=50):
            if record.command in commands:
                return self._shown(spreadsheet_id, worksheet, record, holder)
        return None

    def update_run(self, run_id: str, *, state: RunState | None = None, result: RunResult | None = None,
                   error: str | None = None, progress: RunProgress | None = None) -> None:
        found = self._record(run_id)
        if found is None:
            return
        _, store, _, _, record = found
        final = FINAL.get(state or "")
        store.update_service_run(
            record.id, status=final, finished_at=self._now().isoformat() if final else None,
            result=asdict(result) if result is not None else None, error=error,
            progress=asdict(progress) if progress is not None else None)

    def claim_slot(self, spreadsheet_id: str, slot: datetime) -> bool:
        found = self._sheet(spreadsheet_id)
        if found is None:
            return False
        _, store, ident, _ = found
        return store.claim_slot(ident.sheet, slot.astimezone(timezone.utc).isoformat())

    def seen(self, key: str, expires_at: float) -> bool:
        return self._store(self._guard_url).seen(key, expires_at, self._clock().timestamp())

    def ping(self) -> bool:
        try:
            return self._store(self._guard_url).ping()
        except StateError:
            with self._mutex:
                self._stores.pop(self._guard_url, None)
            return False

    def close(self) -> None:
        with self._mutex:
            stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()
