"""``sheets-connector init <Google Sheet address>``: the same proposal as for a workbook, read
from the sheet through the Sheets API.

The sheet is read with the credentials the mapping will use (``--credentials`` key file,
``GOOGLE_APPLICATION_CREDENTIALS``, or ``--oauth`` with an OAuth client file), so a sheet that is
not shared, an API that is not enabled or a key that was deleted stop ``init`` with the same
advice as ``check`` gives.  Requests: the spreadsheet's metadata, its first rows (to find the
header below a title) and the rows under the header: three reads, nothing written.

The mapping goes to ``<spreadsheet title>.mapping.yaml`` in the current folder unless
``--output`` says otherwise; a key file's path in it is relative to the mapping.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config import parse_config
from .errors import ConfigError
from .gsheets.client import spreadsheet_key
from .init_mapping import HEADER_SEARCH, Proposal, _header_row, _line, _q, propose_from
from .tables.gsheet import GoogleSheetTable

__all__ = ["GoogleInit", "is_google_sheet", "mapping_path_for_sheet", "propose_google"]

_ADDRESS = re.compile(r"^(https?://)?docs\.google\.com/spreadsheets/", re.I)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{30,100}")


def is_google_sheet(text: str, cwd: Path | None = None) -> bool:
    """A Google Sheet's address, or a bare spreadsheet key that is not a local file's name."""
    t = text.strip()
    if _ADDRESS.match(t):
        return True
    return bool(_BARE_KEY.fullmatch(t)) and not (cwd or Path.cwd()).joinpath(t).exists()


@dataclass
class GoogleInit:
    """How init reaches the sheet; written into the mapping's ``source`` as it is."""

    address: str
    credentials: Path | None = None  # key file (service account) or OAuth client file (oauth)
    oauth: bool = False
    api_url: str | None = None  # the local emulator

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{spreadsheet_key(self.address)}/edit"

    def source_lines(self, mapping_dir: Path, worksheet: str | None, header_row: int, title: str) -> list[str]:
        """The mapping's ``source:`` section (without ``worksheet`` when None: the first tab)."""
        lines = [
            "source:",
            "  type: google_sheet",
            _line(f"  spreadsheet: {_q(self.url)}", f"the Google Sheet '{title}'"),
        ]
        if worksheet is not None:
            lines.append(_line(f"  worksheet: {_q(worksheet)}", "the tab with the contacts"))
        lines.append(_line(f"  header_row: {header_row}", "the row holding the column names"))
        if self.oauth:
            lines.append(_line("  auth: oauth", "signs in as you (a browser opens the first time)"))
        if self.credentials is not None:
            try:
                path = os.path.relpath(self.credentials, mapping_dir)
            except ValueError:  # another drive on Windows
                path = str(self.credentials)
            what = "the OAuth client file" if self.oauth else "the service account's key; keep it out of shared folders"
            lines.append(_line(f"  credentials: {_q(path)}", what + ", relative to this file"))
        elif not self.oauth:
            lines.append("  # credentials: the key file is read from GOOGLE_APPLICATION_CREDENTIALS")
        if self.api_url:
            lines.append(_line(f"  api_url: {_q(self.api_url)}", "the local Sheets emulator, not Google"))
        return lines


def _table(how: GoogleInit, mapping_dir: Path, worksheet: str | None, header_row: int) -> GoogleSheetTable:
    """The table the mapping will describe, read with the credentials it will name."""
    text = "\n".join(how.source_lines(mapping_dir, worksheet, header_row, ""))
    config = parse_config(text + "\ncolumns: {email: Email}\n", where="init", base_dir=mapping_dir)
    table = config.open_table()
    assert isinstance(table, GoogleSheetTable)
    return table


def propose_google(how: GoogleInit, mapping_dir: Path, sheet: str | None = None) -> tuple[Proposal, str]:
    """(the proposal, the spreadsheet's title) for the sheet's header row."""
    if how.credentials is None and not how.oauth and not how.api_url and not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        raise ConfigError(
            "init reads the sheet's header row, so it needs Google credentials: give the service account's key file "
            "with --credentials key.json (and share the sheet with that account), or sign in as yourself with "
            "--oauth --credentials client.json (an OAuth client file). See the README, 'Google Sheets setup'."
        )
    table = _table(how, mapping_dir, sheet, 1)
    summary = table.summary()  # not shared / no such tab / API not enabled: the clear errors, here
    data = table.read()
    header_row = _header_row(data, table.top_rows(HEADER_SEARCH))
    if header_row != data.header_row:
        table = _table(how, mapping_dir, summary.worksheet, header_row)
        data = table.read()
    proposal = propose_from(data)
    proposal.workbook = Path(summary.spreadsheet_title or "Google Sheet")
    proposal.title = f"the Google Sheet '{summary.spreadsheet_title}'"
    proposal.sheet, proposal.header_row = summary.worksheet, header_row
    proposal.other_sheets = [t for t in summary.tabs if t != summary.worksheet]
    proposal.source_lines = how.source_lines(mapping_dir, summary.worksheet, header_row, summary.spreadsheet_title)
    return proposal, summary.spreadsheet_title


def mapping_path_for_sheet(title: str, folder: Path) -> Path:
    """``<title>.mapping.yaml`` in ``folder``, the title made a safe file name."""
    name = re.sub(r'\s*[\\/:*?"<>|\x00-\x1f]+\s*', " - ", title)
    name = re.sub(r"\s+", " ", name).strip(" .-") or "google-sheet"
    return folder / f"{name[:80]}.mapping.yaml"
