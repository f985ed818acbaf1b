"""Where the store lives, and the names a run is filed under (its sheet, its inwise account)."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

STORE_FILE = "state.db"
ENV_DIR = "SHEETS_CONNECTOR_STATE_DIR"  # overrides the per-user folder (tests, portable installs)


def default_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user folder: one store for every mapping of this user, so that several sheets
    syncing to one inwise account share what its once-only feed returned."""
    env = os.environ if environ is None else environ
    if env.get(ENV_DIR):
        return Path(os.path.expanduser(env[ENV_DIR]))
    return Path(platformdirs.user_state_dir("sheets-connector", appauthor=False))


def store_path(state_dir: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """``<state_dir>/state.db`` when the mapping names a folder, else in the per-user folder."""
    return (state_dir if state_dir is not None else default_dir(environ)) / STORE_FILE


def account_id(base_url: str, api_key: str) -> str:
    """An inwise account's name in the store: the API host and a hash of (URL, key).  The key
    itself is never stored; the hash only tells two keys apart."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{api_key}".encode()).hexdigest()[:16]
    return f"{urlsplit(base_url).netloc}/{digest}"
