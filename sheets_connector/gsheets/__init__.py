"""Talking to Google Sheets through gspread: credentials, retries, the emulator hook, errors.

See ``client.py``.  The table built on it is ``sheets_connector.tables.gsheet``.
"""
from __future__ import annotations

from .client import (
    SCOPES,
    SHEETS_API,
    SheetsConnection,
    SheetsHTTPClient,
    connect,
    connect_source,
    oauth_credentials,
    service_account_credentials,
    sheets_retry,
    spreadsheet_key,
)

__all__ = [
    "SCOPES", "SHEETS_API", "SheetsConnection", "SheetsHTTPClient", "connect", "connect_source",
    "oauth_credentials", "service_account_credentials", "sheets_retry", "spreadsheet_key",
]
