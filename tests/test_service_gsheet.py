"""The service end to end on a Google Sheet: the real app on 127.0.0.1, the real ``sync_runner``, real
gspread over HTTP to the Sheets emulator and real HTTP to the inwise sandbox.  One lock and one
history with the CLI: a CLI ``sync`` is refused while a menu run holds the sheet, a menu click is
refused while a CLI run holds it, and "Last sync result" shows a CLI run made after the menu's.
"""
from __future__ import annotations

import getpass
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from gsheets_util import SHEET_HEADER, sheet_column, sheet_mapping
from service_helpers import body_of, get_signed, live_service, post_sync, wait_for_state

from sheets_connector.cancel import CancelToken
from sheets_connector.config import load_config
from sheets_connector.errors import SheetBusy
from sheets_connector.service.runner import sync_runner
from sheets_connector.service.sheets import load_registry
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.state import SqliteStore
from sheets_connector.state.db import process_host
from sheets_connector.sync import Collaborators, sync

SECRET = "secret-of-the-sales-sheet-0123456789"
ENV = {"INWISE_API_KEY": "test-key"}
ROWS = [
    ["Dana", "Cohen", "dana@example.co.il", "054-1111111", None],
    ["Noa", "Levi", "noa.levi@example.co.il", "0521234567", None],
    ["Rachel", "Green", "rachel@@example.com", "0543333333", None],
]


class HeldRunner:
    """The real ``sync_runner``, held at its first "send" progress report until ``go`` is set,
    so a test can act while the run holds the sheet."""

    def __init__(self) -> None:
        self.sending = threading.Event()
        self.go = threading.Event()

    def __call__(self, config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str,
                 progress: Callable[[str, int, int | None], None], worksheet: str | None = None,
                 claim: Any = None) -> dict[str, Any]:
        def report(stage: str, done: int, total: int | None) -> None:
            if stage == "send" and not self.go.is_set():
                self.sending.set()
                self.go.wait(60)
            progress(stage, done, total)

        return sync_runner(config_path, dry_run, cancel, trigger, report, worksheet=worksheet, claim=claim)


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as running:
        yield running


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("INWISE_API_KEY", "test-key")
    monkeypatch.setenv("SALES_SECRET", SECRET)


def write_mapping(folder: Path, emu: SheetsEmulator, key: str, base_url: str) -> Path:
    folder.mkdir()
    path = folder / "sales.yaml"
    path.write_text(sheet_mapping(emu, key, base_url)
                    + "service:\n  secret_env: SALES_SECRET\nstate_dir: ../state\n", encoding="utf-8")
    return path


def latest(base: str, key: str) -> dict[str, Any]:
    r = get_signed(base, "/v1/runs/latest", f"spreadsheet={key}", SECRET)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_a_menu_run_syncs_the_sheet_and_shares_lock_and_history_with_the_cli(
        tmp_path: Path, emu: SheetsEmulator, sandbox: Any, env: None) -> None:
    key = emu.create_spreadsheet({"Contacts": [SHEET_HEADER, *ROWS]})
    mapping = write_mapping(tmp_path / "configs", emu, key, sandbox.base_url)
    runner = HeldRunner()
    with live_service(load_registry(tmp_path / "configs"), runner) as (base, _store):
        r = post_sync(base, body_of(key, worksheet="New contacts"), SECRET)
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        assert runner.sending.wait(60)

        # the menu run holds the sheet: a CLI sync is refused, and so is a second click
        with pytest.raises(SheetBusy, match=r"Another sync of Google Sheet, sheet 'Contacts' is running \(run #1,"):
            sync(load_config(mapping), Collaborators(environ=ENV))
        again = post_sync(base, body_of(key, nonce="second click"), SECRET)
        assert (again.status_code, again.json()["run_id"]) == (409, run_id)

        runner.go.set()
        done = wait_for_state(base, run_id, SECRET, {"done", "failed", "cancelled"}, timeout=60)
        assert done["state"] == "done", done
        assert done["counts"]["created"] == 2 and done["counts"]["invalid"] == 1
        assert done["problems"][0]["row"] == 4 and done["trigger"] == "menu"
        assert done["warnings"][0] == ("You started this from the tab 'New contacts'; this spreadsheet's mapping "
                                       "syncs the tab 'Contacts', so that tab was synced.")
        results = sheet_column(emu, key, "Sync result")
        assert results[2].startswith("✓ created · #") and results[3].startswith("✓ created · #")
        assert "rachel@@example.com" in results[4]
        assert {c["email"] for c in sandbox.contacts()} == {"dana@example.co.il", "noa.levi@example.co.il"}
        assert latest(base, key)["id"] == run_id

        # a CLI run afterwards is the sheet's last sync, and its name answers GET /v1/runs/{id}
        cli = sync(load_config(mapping), Collaborators(environ=ENV))
        assert cli.counts["unchanged"] == 2
        last = latest(base, key)
        assert last["id"] == f"2.{key}"  # one registry: the CLI's run is the sheet's run #2
        assert (last["trigger"], last["state"], last["counts"]["unchanged"]) == ("cli", "done", 2)
        assert last["requested_by"] == f"{getpass.getuser()} on {process_host()}"  # who ran it, for the menu
        assert last["problems"][0]["row"] == 4
        one = get_signed(base, f"/v1/runs/{last['id']}", "", SECRET)
        assert one.status_code == 200 and one.json()["id"] == last["id"]

        # a CLI run holding the sheet: the menu's 409 names it, and that name answers too
        store = SqliteStore(tmp_path / "state" / "state.db")
        ident = load_config(mapping).identity()
        try:
            token, held = store.begin_run(ident.workbook, ident.sheet, ident.label, "sync", "cli",
                                          datetime.now().isoformat(timespec="seconds"))
            busy = post_sync(base, body_of(key, nonce="while the cli runs"), SECRET)
            assert busy.status_code == 409 and busy.json()["run_id"] == f"{held}.{key}"
            holder = get_signed(base, f"/v1/runs/{held}.{key}", "", SECRET).json()
            assert (holder["state"], holder["trigger"]) == ("running", "cli")
            store.unlock(ident.workbook, token)
        finally:
            store.close()
        for made_up in (f"{'9' * 30}.{key}", f"{held}.another-sheet", f"x.{key}", f"{held + 5}.{key}"):
            assert get_signed(base, f"/v1/runs/{made_up}", "", SECRET).status_code == 404
        # one history: the menu run is filed in the state store under its trigger, with the CLI's
        view = SqliteStore(tmp_path / "state" / "state.db")
        try:
            triggers = [(r.trigger, r.status) for r in reversed(view.list_runs(ident.sheet))]
        finally:
            view.close()
        assert triggers[:2] == [("menu", "ok"), ("cli", "ok")]
