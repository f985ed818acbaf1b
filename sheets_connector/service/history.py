"""The state store's view of a served spreadsheet: its run lock and the runs made outside the service.

The state store is the authority on who runs a sheet: ``sync`` takes the sheet's lock there
whatever started it (the menu, a schedule, ``sheets-connector sync`` from a shell, cron, a
systemd timer or a Kubernetes CronJob) and files the run in its history.  The service keeps its
own run store only for what the state store has no place for (queued/running webhook runs, the
replay guard); through ``SheetHistory`` it

- refuses a menu click while a run that is not its own holds the sheet (``holder``), and
- shows a run made outside the service as the sheet's last sync when it is the newer one
  (``latest_outside``, ``get``).

Such a run is named ``history-<n>.<spreadsheet id>`` on the wire (``n``: its number in the state
store the spreadsheet's mapping names), so ``GET /v1/runs/{id}`` can answer for it too.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from ..config import SheetIdentity
from ..state import RunRecord, SqlStore, open_url, state_url
from .runner import load_mapping
from .sheets import Sheet
from .store import Run, RunResult, RunState

SERVICE_TRIGGERS = frozenset({"menu", "schedule"})
PREFIX = "history-"
STATES: dict[str, RunState] = {"running": "running", "ok": "done", "failed": "failed", "stopped": "cancelled",
                               "crashed": "failed"}


def history_id(spreadsheet_id: str, run_id: int) -> str:
    return f"{PREFIX}{run_id}.{spreadsheet_id}"


def parse_history_id(value: str) -> tuple[str, int] | None:
    """(spreadsheet id, run number) of a ``history-<n>.<id>`` name, else None."""
    if not value.startswith(PREFIX):
        return None
    number, _, sid = value[len(PREFIX):].partition(".")
    # a run number SQLite can hold (at most 18 digits), so a made-up name is simply not found
    return (sid, int(number)) if number.isdigit() and len(number) <= 18 and sid else None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    # the CLI files local times without an offset: read them as this machine's local time
    return (at if at.tzinfo else at.astimezone()).astimezone(timezone.utc)


def as_run(spreadsheet_id: str, record: RunRecord, worksheet: str | None) -> Run:
    """A state-store run record in the shape the service answers with."""
    started = _when(record.started_at) or datetime.now(timezone.utc)
    result = RunResult.from_summary(record.summary or {"counts": record.counts})
    return Run(id=history_id(spreadsheet_id, record.id), spreadsheet_id=spreadsheet_id, trigger=record.trigger,
               dry_run=False, state=STATES.get(record.status, "failed"), created_at=started, worksheet=worksheet,
               started_at=started, finished_at=_when(record.finished_at), result=result, error=record.error)


class SheetHistory:
    """Reads each served sheet's state store (the one its mapping names); one open store per file."""

    def __init__(self) -> None:
        self._stores: dict[str, SqlStore] = {}
        self._mutex = threading.Lock()

    def _open(self, sheet: Sheet) -> tuple[SqlStore, SheetIdentity, str | None]:
        config = load_mapping(sheet.config_path)  # read at each call: an edited mapping counts at once
        url = state_url(None, config.state_url_resolved(), config.state_dir_path())  # the store its syncs use
        with self._mutex:
            store = self._stores.get(url)
            if store is None:
                store = self._stores[url] = open_url(url)
        return store, config.identity(), config.source.worksheet

    def holder(self, sheet: Sheet) -> str | None:
        """The wire name of the run holding the sheet's lock in the state store ("" if it is not a
        filed run), or None when the sheet is free."""
        store, ident, _ = self._open(sheet)
        held = store.lock_holder(ident.workbook)
        if held is None:
            return None
        return history_id(sheet.spreadsheet_id, held.run_id) if held.run_id is not None else ""

    def latest_outside(self, sheet: Sheet) -> Run | None:
        """The sheet's newest sync that the service did not start (CLI, cron...), if any."""
        store, ident, worksheet = self._open(sheet)
        for record in store.list_runs(ident.sheet, limit=50):
            if record.command == "sync" and record.trigger not in SERVICE_TRIGGERS:
                return as_run(sheet.spreadsheet_id, record, worksheet)
        return None

    def get(self, sheet: Sheet, run_id: int) -> Run | None:
        """Run ``run_id`` of the state store, if it is a sync of this sheet."""
        store, ident, worksheet = self._open(sheet)
        record = store.get_run(run_id)
        if record is None or record.sheet != ident.sheet or record.command != "sync":
            return None
        return as_run(sheet.spreadsheet_id, record, worksheet)

    def close(self) -> None:
        with self._mutex:
            stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()
