"""A local stand-in for the Google Sheets API v4: a real HTTP server on 127.0.0.1.

The demo, the tests and the benchmark point gspread at it (``source.api_url`` in the
mapping, or ``sheets_connector.gsheets.connect(api_url=...)``) instead of
``https://sheets.googleapis.com``, so the whole Google Sheets path runs without a Google
account or a network.  It speaks the subset of the API that gspread 6.x sends (see
``api.py``), keeps cells typed as Google does (see ``cells.py``), enforces Google's grid
limits, sharing and protection rules (see ``book.py``), and lets tests count requests,
inject 429/5xx answers and edit rows between two requests (see ``server.py``).

What the emulator does not do: Drive API calls, formulas beyond arithmetic, conditional
formats, charts, filters, named ranges.
"""
from __future__ import annotations

from .book import MAX_CELLS, MAX_COLUMNS, ApiError
from .cells import Cell, ErrorValue, NumberFormat, parse_typed
from .server import CONTROL_PREFIX, EMULATOR_ACCOUNT, EMULATOR_TOKEN, EmulatorError, SheetsEmulator

__all__ = [
    "SheetsEmulator", "EmulatorError", "ApiError", "Cell", "ErrorValue", "NumberFormat", "parse_typed",
    "EMULATOR_TOKEN", "EMULATOR_ACCOUNT", "CONTROL_PREFIX", "MAX_CELLS", "MAX_COLUMNS",
]
