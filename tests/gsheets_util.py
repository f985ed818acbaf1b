"""Helpers for the Google Sheets tests: real gspread over real HTTP to the local emulator."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gspread
from google.oauth2.credentials import Credentials

from sheets_connector.gsheets import SheetsConnection, SheetsHTTPClient, connect, sheets_retry
from sheets_connector.sheets_emulator import SheetsEmulator


def gspread_client(emu: SheetsEmulator, token: str | None = None) -> gspread.Client:
    """A plain gspread Client (no retries) whose requests go to the emulator."""
    http_client = type("EmulatorHTTPClient", (SheetsHTTPClient,), {"api_url": emu.api_url})
    client = gspread.Client(Credentials(token=token or emu.token), http_client=http_client)
    client.http_client.session.trust_env = False
    return client


def emulator_connection(emu: SheetsEmulator, retries: int = 2, token: str | None = None) -> SheetsConnection:
    """A connection as the connector builds it, with instant retries for tests."""
    return connect(Credentials(token=token or emu.token), account=f"the account {emu.account}",
                   account_email=emu.account, api_url=emu.api_url, retry=sheets_retry(retries, backoff_factor=0))


def rsa_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM), made fresh for each test: no private key is ever committed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def write_key_file(path: Path, email: str, private_pem: str, token_uri: str, **extra: Any) -> Path:
    """A service-account key file of the shape Google hands out, pointing at ``token_uri``."""
    data = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": private_pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    } | extra
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


SHEET_HEADER = ["First name", "Last name", "Email", "Mobile", "Birthday"]


def sheet_mapping(emu: SheetsEmulator, key: str, base_url: str, *, mode: str = "upsert", extra: str = "",
                  source_extra: str = "") -> str:
    """A mapping for a Google Sheet in the emulator (the same columns as tests/util.py's .xlsx one)."""
    return f"""\
source:
  type: google_sheet
  spreadsheet: "{emu.url(key)}"
  worksheet: Contacts
  api_url: "{emu.api_url}"
{source_extra}columns:
  email: Email
  mobile: Mobile
  fields:
    1: First name
    2: Last name
    21: Birthday
inwise:
  base_url: {base_url}
  mode: {mode}
  groups: [715983]
  retries: 3
  concurrency: 4
{extra}results:
  column: Sync result
  contact_id_column: inwise ID
  synced_at_column: Last synced
"""


def sheet_column(emu: SheetsEmulator, key: str, header: str, tab: str = "Contacts") -> dict[int, Any]:
    """{row number: value} of the column with that header (row 1 is the header; blank cells are None)."""
    rows = emu.values(key, tab)
    idx = rows[0].index(header)
    return {n: (r[idx] if idx < len(r) and r[idx] != "" else None) for n, r in enumerate(rows[1:], start=2)}
