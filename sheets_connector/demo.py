"""``sheets-connector demo``: the example synced to an in-process sandbox (no account needed).

Nothing here is special-cased: the demo writes the bundled mapping into a folder, starts the real
sandbox on a free port, and runs the same ``sync`` a user runs.

- ``run_demo``: the bundled workbook (``contacts.xlsx``) is copied into the folder and synced.
- ``run_sheets_demo``: the same rows, with their types (text, numbers, dates), are loaded into
  the local Google Sheets emulator, also started in-process on a free port; the mapping says
  ``type: google_sheet`` and points at it.  The emulator lives only as long as the demo, so the
  resulting tabs are saved as CSV files in the folder and handed back for the terminal.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .cancel import CancelToken
from .config import Config, load_config
from .errors import SourceError
from .sandbox import Sandbox
from .sheets_emulator import Cell, NumberFormat, SheetsEmulator
from .sheets_emulator.cells import to_serial
from .sync import Collaborators, Progress, RunSummary, sync
from .tables.base import Table
from .tables.gsheet import GoogleSheetTable

DEMO_API_KEY = "demo-key"
FILES = ("contacts.xlsx", "mapping.yaml")
SHEETS_MAPPING = "google-sheet-mapping.yaml"
SHEET_TITLE = "Contacts (demo)"
SHEET_LOCALE = "iw_IL"  # an Israeli spreadsheet, as the example's contacts are


def example_file(name: str) -> Path:
    return Path(str(resources.files("sheets_connector") / "examples" / name))


def _prepare(workdir: Path, files: tuple[str, ...]) -> Path:
    workdir = workdir.expanduser().resolve()
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        for name in files:
            shutil.copyfile(example_file(name), workdir / name)
        # the demo's sandbox starts empty every time, so its state store does too
        shutil.rmtree(workdir / ".sheets-connector", ignore_errors=True)
    except OSError as e:
        raise SourceError(f"Cannot prepare the demo folder {workdir}: {e.strerror or e}. Choose another with --workdir.") from None
    return workdir


def _sync_with_sandbox(cfg: Config, mode: str | None, progress: Progress | None, cancel: CancelToken | None,
                       table: Table | None = None) -> RunSummary:
    seed = json.loads(example_file("existing_contacts.json").read_text(encoding="utf-8"))
    with Sandbox(api_keys=(DEMO_API_KEY,), seed_contacts=seed) as sandbox:
        cfg.inwise.base_url = sandbox.base_url
        cfg.state_dir = cfg.state_dir or ".sheets-connector"  # the demo's own store, next to its workbook
        if mode:
            cfg.inwise.mode = mode  # type: ignore[assignment]
            if mode == "batch":
                cfg.columns.external_id = None  # batchInsert has no external_id column
        return sync(cfg, Collaborators(table=table, environ={cfg.inwise.api_key_env: DEMO_API_KEY}, progress=progress,
                                       cancel=cancel))


def run_demo(workdir: Path, *, mode: str | None = None, progress: Progress | None = None,
             cancel: CancelToken | None = None) -> tuple[RunSummary, dict[str, Path]]:
    workdir = _prepare(workdir, FILES)
    cfg = load_config(workdir / "mapping.yaml")
    summary = _sync_with_sandbox(cfg, mode, progress, cancel)
    return summary, {"workdir": workdir, "workbook": Path(summary.written_to or workdir / "contacts.xlsx"),
                     "mapping": workdir / "mapping.yaml"}


# --- Google Sheets ---------------------------------------------------------------------------------


@dataclass
class SheetView:
    """The columns of the synced contacts tab that show what happened, as the sheet displays them."""

    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the sheet, cells)


@dataclass
class SheetsDemo:
    summary: RunSummary
    paths: dict[str, Path]  # workdir, mapping, and a CSV per tab of the synced spreadsheet
    url: str  # the spreadsheet's address in the emulator's Google form (for the mapping)
    view: SheetView


def workbook_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every tab of an .xlsx as emulator cells with their types: text stays text, numbers stay
    numbers (a mobile Excel turned into 541111112 too), date cells become date serials with their
    display format.  Formulas are left out: the emulator evaluates arithmetic only."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    tabs: dict[str, list[list[Any]]] = {}
    for ws in book.worksheets:
        rows: list[list[Any]] = []
        for row in ws.iter_rows():
            out: list[Any] = []
            for c in row:
                v = c.value
                if v is None or c.data_type == "f":
                    out.append(None)
                elif isinstance(v, (dt.datetime, dt.date)):
                    timed = isinstance(v, dt.datetime) and v.time() != dt.time(0, 0)
                    out.append(Cell(to_serial(v), fmt=NumberFormat("DATE_TIME" if timed else "DATE",
                                                                   c.number_format.lower())))
                elif isinstance(v, (int, float)) and not isinstance(v, bool) and c.number_format != "General":
                    out.append(Cell(float(v), fmt=NumberFormat("NUMBER", c.number_format)))
                else:
                    out.append(v)
            rows.append(out)
        tabs[ws.title] = rows
    return tabs


def sheets_mapping(spreadsheet_url: str, api_url: str) -> str:
    """The bundled mapping with its source pointed at a Google Sheet in the emulator."""
    text = re.sub(r"\A(?:#.*\n)+", "", example_file("mapping.yaml").read_text(encoding="utf-8"))  # its xlsx notes
    source = (
        "source:\n"
        "  type: google_sheet\n"
        f"  spreadsheet: {spreadsheet_url}\n"
        "  worksheet: Contacts\n"
        "  # the demo's local Google Sheets emulator, gone once the demo ended; for your own sheet, delete\n"
        "  # this line and give the service account's key: credentials: my-key.json (see the README)\n"
        f"  api_url: {api_url}\n"
    )
    new, n = re.subn(r"(?m)^source:\n(?:[ \t]+.*\n)+", source, text, count=1)
    if n != 1:
        raise RuntimeError("the bundled mapping.yaml has no source block to replace")
    return "# The demo's mapping for a Google Sheet (`sheets-connector demo --source google-sheet`).\n" + new


def run_sheets_demo(workdir: Path, *, mode: str | None = None, progress: Progress | None = None,
                    cancel: CancelToken | None = None) -> SheetsDemo:
    workdir = _prepare(workdir, ())
    with SheetsEmulator() as emulator:
        key = emulator.create_spreadsheet(workbook_cells(example_file("contacts.xlsx")), title=SHEET_TITLE,
                                          locale=SHEET_LOCALE)
        mapping = workdir / SHEETS_MAPPING
        url = emulator.url(key)
        try:
            mapping.write_text(sheets_mapping(url, emulator.api_url), encoding="utf-8")
        except OSError as e:
            raise SourceError(f"Cannot write {mapping}: {e.strerror or e}. Choose another folder with --workdir.") from None
        cfg = load_config(mapping)
        # the emulator's own account, whatever GOOGLE_APPLICATION_CREDENTIALS says on this computer
        table = GoogleSheetTable.from_source(cfg.source, cfg, environ={})
        summary = _sync_with_sandbox(cfg, mode, progress, cancel, table=table)
        tabs = {title: emulator.values(key, title, render="FORMATTED_VALUE") for title in emulator.tabs(key)}
    if summary.written_to:  # the sheet's Google address would lead nowhere: it lived in the emulator
        summary.written_to = f"the demo's Google Sheet '{SHEET_TITLE}' in the local emulator (its tabs are saved as CSV files in {workdir})"
    paths = {"workdir": workdir, "mapping": mapping}
    for title, rows in tabs.items():
        paths[f"tab {title}"] = _write_csv(workdir / f"google-sheet {title}.csv", rows)
    return SheetsDemo(summary, paths, url, _view(cfg, tabs.get(cfg.source.worksheet or "Contacts", [])))


def _write_csv(path: Path, rows: list[list[Any]]) -> Path:
    try:
        with open(path, "w", newline="", encoding="utf-8-sig") as f:  # the BOM lets Excel read Hebrew right
            csv.writer(f).writerows(rows)
    except OSError as e:
        raise SourceError(f"Cannot write {path}: {e.strerror or e}. Choose another folder with --workdir.") from None
    return path


def _view(cfg: Config, rows: list[list[Any]]) -> SheetView:
    if not rows:
        return SheetView([], [])
    header = [str(h) for h in rows[0]]
    wanted = [h for h in (cfg.columns.email, cfg.columns.mobile, cfg.results.column) if h]
    index = [header.index(h) for h in wanted if h in header]
    body = [(n, [str(r[i]) if i < len(r) else "" for i in index]) for n, r in enumerate(rows[1:], start=2)]
    return SheetView([header[i] for i in index], [(n, cells) for n, cells in body if any(cells)])
