"""The staff-edit matrix: one staff edit injected before the k-th Sheets request of a first sync,
for every edit and every k, and what it did to the sheet.

Each case runs a real sync (gspread over HTTP to the emulator, the inwise sandbox), with the
edit applied by the emulator just before the k-th API request of the run (``on_request("*")``).
The same edit is applied to a control copy of the sheet that no connector touches; then:

- ``misplaced``: result cells (results, contact id, synced at) holding something that is not
  that row's own contact's result - on another contact's row, on a title or blank row, or in
  a column that is not a result column;
- ``staff_changed``: cells of staff columns (every non-result header) that differ from the
  control copy;
- ``unwritten``: rows whose contact was sent but that show no result, with the run's reason;
- ``next_ok``: a second sync right after writes every row's result without a hand fix.
"""
from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsheets_util import sheet_mapping

from sheets_connector.config import parse_config
from sheets_connector.errors import ConnectorError
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.sync import Collaborators, sync

HEADER = ["First name", "Branch", "Last name", "Email", "Mobile", "Birthday", "Notes"]  # Branch, Notes: not mapped
RESULTS = ("Sync result", "inwise ID", "Last synced")
ENV = {"INWISE_API_KEY": "test-key"}
_cases = itertools.count(1)


def people(n: int, domain: str) -> list[list[Any]]:
    return [[f"P{i:05d}", f"B{i % 3}", f"L{i}", f"p{i}@{domain}", None, None, f"note {i}"] for i in range(n)]


Edit = Callable[[SheetsEmulator, str, str], None]  # (emulator, spreadsheet key, the case's email domain) -> None


def _col_of(emu: SheetsEmulator, key: str, name: str) -> int:
    rows = emu.values(key, "Contacts")
    for row in rows[:5]:
        if name in row:
            return row.index(name)
    raise AssertionError(f"no column {name}")


def _dim(emu: SheetsEmulator, key: str, kind: str, dimension: str, start: int, end: int, **extra: Any) -> None:
    rng = {"sheetId": emu.sheet_id(key, "Contacts"), "dimension": dimension, "startIndex": start, "endIndex": end}
    emu.staff_update(key, [{kind: ({"range": rng} if kind != "moveDimension" else {"source": rng}) | extra}])


EDITS: dict[str, Edit] = {
    # Notes sits just left of where the results go: the case
    "insert column left of results": lambda emu, key, d: _dim(
        emu, key, "insertDimension", "COLUMNS", _col_of(emu, key, "Notes"), _col_of(emu, key, "Notes") + 1),
    "insert column right of results": lambda emu, key, d: _dim(
        emu, key, "insertDimension", "COLUMNS", len(HEADER) + len(RESULTS), len(HEADER) + len(RESULTS) + 1),
    "delete column": lambda emu, key, d: _dim(
        emu, key, "deleteDimension", "COLUMNS", _col_of(emu, key, "Branch"), _col_of(emu, key, "Branch") + 1),
    "move column": lambda emu, key, d: _dim(
        emu, key, "moveDimension", "COLUMNS", _col_of(emu, key, "Notes"), _col_of(emu, key, "Notes") + 1,
        destinationIndex=0),
    "insert rows above": lambda emu, key, d: emu.insert_rows(
        key, "Contacts", 2, [[f"New{i}", "B9", "N", f"new{i}@{d}", None, None, "typed"] for i in range(3)]),
    "sort": lambda emu, key, d: emu.sort_rows(key, "Contacts", _col_of(emu, key, "First name"), descending=True),
    "delete row": lambda emu, key, d: emu.delete_rows(key, "Contacts", 3),
    "add row at bottom": lambda emu, key, d: emu.insert_rows(
        key, "Contacts", len(emu.values(key, "Contacts")) + 1, [["Late", "B9", "L", f"late@{d}", None, None, "typed"]]),
    "title row above header": lambda emu, key, d: emu.insert_rows(key, "Contacts", 1, [["Contacts list, autumn"]]),
}


@dataclass
class Case:
    edit: str
    point: int  # the edit ran just before this API request of the sync (1 = the first)
    ran: bool = False
    misplaced: int = 0
    staff_changed: int = 0
    unwritten: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    error: str = ""
    next_ok: bool = False
    requests: int = 0


def requests_of_a_quiet_sync(emu: SheetsEmulator, sandbox: Any, tmp: Path, n: int) -> int:
    key = emu.create_spreadsheet({"Contacts": [HEADER, *people(n, "quiet.example.com")]})
    emu.reset_stats()
    sync(_config(emu, key, sandbox, tmp), Collaborators(environ=ENV))
    return emu.total_requests()


def _config(emu: SheetsEmulator, key: str, sandbox: Any, folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    return parse_config(sheet_mapping(emu, key, sandbox.base_url, mode="batch", extra="  batch_size: 1000\n"),
                        base_dir=folder)


def run_case(emu: SheetsEmulator, sandbox: Any, tmp: Path, n: int, edit: str, point: int) -> Case:
    case = Case(edit, point)
    domain = f"case{next(_cases)}.example.com"  # each case its own contacts (one sandbox for all)
    data = [HEADER, *people(n, domain)]
    # the grid ends at the last row, as in a sheet imported from a file: no spare rows below
    key = emu.create_spreadsheet({"Contacts": data}, rows=len(data))
    control = emu.create_spreadsheet({"Contacts": data}, rows=len(data))
    act = EDITS[edit]

    def staff() -> None:
        act(emu, key, domain)
        act(emu, control, domain)
        case.ran = True

    emu.reset_stats()
    emu.on_request("*", staff, nth=point)
    cfg = _config(emu, key, sandbox, tmp / f"{edit}-{point}".replace(" ", "_"))
    warnings: list[str] = []
    try:
        summary = sync(cfg, Collaborators(environ=ENV))
        warnings = summary.warnings
    except ConnectorError as e:
        case.error = str(e).splitlines()[0]
    case.requests = emu.total_requests()
    if not case.ran:  # the sync ended before the k-th request: the edit comes after it
        emu.cancel_hooks()
        staff()
    _judge(emu, sandbox, key, control, case, warnings)
    try:
        sync(cfg, Collaborators(environ=ENV))
        again = Case(edit, point)
        _judge(emu, sandbox, key, control, again, [])
        case.next_ok = again.misplaced == 0 and again.staff_changed == 0 and again.unwritten == 0
    except ConnectorError:
        case.next_ok = False
    return case


def _header_index(rows: list[list[Any]]) -> int:
    return next(i for i, r in enumerate(rows) if "Email" in r)


def _judge(emu: SheetsEmulator, sandbox: Any, key: str, control: str, case: Case, warnings: list[str]) -> None:
    ids = {c["email"]: c["id"] for c in sandbox.contacts() if c.get("email")}
    rows = emu.values(key, "Contacts")
    h = _header_index(rows)
    header = rows[h]
    result_cols = {name: header.index(name) for name in RESULTS if name in header}
    for r, row in enumerate(rows):
        email = row[header.index("Email")] if r > h and header.index("Email") < len(row) else None
        own = ids.get(email) if email else None
        for name, c in result_cols.items():
            value = row[c] if c < len(row) else ""
            if r == h or value == "":
                continue
            if own is None:
                case.misplaced += 1  # a result on a title, blank or never-sent row
            elif name == "inwise ID" and value != own:
                case.misplaced += 1
            elif name == "Sync result" and f"#{own} " not in f"{value} ":
                case.misplaced += 1
        if own is not None and r > h and "Sync result" in result_cols:
            c = result_cols["Sync result"]
            if c >= len(row) or row[c] == "":
                case.unwritten += 1
    if "Sync result" not in result_cols:
        case.unwritten += sum(1 for r in rows[h + 1:] if len(r) > 2 and r[2] in ids)
    for w in warnings:
        for reason in re.findall(r"row \d+: ([^;.]+)", w):
            case.reasons[re.sub(r"\([^)]*\)", "(...)", reason)] += 1
    # staff columns: every named column that is not a result column, compared with the control copy
    want = emu.values(control, "Contacts")
    ch = _header_index(want)
    for c, name in enumerate(header):
        if name in RESULTS:
            continue
        got_col = [row[c] if c < len(row) else "" for row in rows]
        if name == "":
            case.misplaced += sum(1 for v in got_col if v != "")  # a stray value in a column with no header
            continue
        wc = want[ch].index(name) if name in want[ch] else None
        want_col = [row[wc] if wc is not None and wc < len(row) else "" for row in want]
        length = max(len(got_col), len(want_col))
        got_col += [""] * (length - len(got_col))
        want_col += [""] * (length - len(want_col))
        case.staff_changed += sum(1 for a, b in zip(got_col, want_col) if a != b)


def table(cases: list[Case]) -> str:
    """The matrix as text: one line per edit, the worst figures over all points."""
    lines = [f"{'edit':32} points  misplaced  staff changed  unwritten  errors  next sync ok  max requests"]
    for edit in EDITS:
        group = [c for c in cases if c.edit == edit]
        if not group:
            continue
        lines.append(f"{edit:32} {len(group):6} {sum(c.misplaced for c in group):10} "
                     f"{sum(c.staff_changed for c in group):14} {sum(c.unwritten for c in group):10} "
                     f"{sum(1 for c in group if c.error):7} {sum(1 for c in group if c.next_ok):6}/{len(group):<6} "
                     f"{max(c.requests for c in group):12}")
    reasons: Counter[str] = Counter()
    for c in cases:
        reasons.update(c.reasons)
    for reason, count in reasons.most_common():
        lines.append(f"  unwritten x{count}: {reason}")
    for c in cases:
        if c.error:
            lines.append(f"  error ({c.edit}, before request {c.point}): {c.error}")
    return "\n".join(lines)
