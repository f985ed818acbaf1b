"""Small helpers shared by the end-to-end tests (real files, real sandbox)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from sheets_connector.config import Config, parse_config

HEADER = ["First name", "Last name", "Email", "Mobile", "Birthday"]


def write_workbook(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER, sheet: str = "Contacts") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def make_config(tmp: Path, base_url: str, *, mode: str = "upsert", extra: str = "", results: str = "", fields: str = "") -> Config:
    text = f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
  mobile: Mobile
  fields:
    1: First name
    2: Last name
    21: Birthday
{fields}
inwise:
  base_url: {base_url}
  mode: {mode}
  groups: [715983]
  retries: 3
  retry: {{backoff_factor: 0.01, backoff_max: 0.05}}  # tests never sleep through real backoff
  concurrency: 4
{extra}
results:
  column: Sync result
  contact_id_column: inwise ID
  synced_at_column: Last synced
{results}
"""
    return parse_config(text, base_dir=tmp)


def column(path: Path, header: str, sheet: str = "Contacts") -> dict[int, Any]:
    """{row number: value} of the column with that header (row 1 is the header)."""
    ws = load_workbook(path)[sheet]
    heads = [c.value for c in ws[1]]
    idx = heads.index(header)
    return {r: ws.cell(row=r, column=idx + 1).value for r in range(2, ws.max_row + 1)}


def tab_rows(path: Path, sheet: str) -> list[list[Any]]:
    ws = load_workbook(path)[sheet]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30.0, interval: float = 0.01) -> None:
    """Poll ``condition`` until it is true, on a monotonic deadline (the wall clock may jump)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout} s")
        threading.Event().wait(interval)
