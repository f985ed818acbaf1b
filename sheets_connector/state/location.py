"""Where the store lives, and the names a run is filed under (its sheet, its inwise account).

The store is named by a URL: ``--state-url``, else ``SHEETS_CONNECTOR_STATE_URL``, else the
mapping's ``state_url``, else ``<state_dir>/state.db`` (the mapping's folder, or the per-user
one).  ``postgresql://user@host/db`` names a shared PostgreSQL database; ``sqlite:///path``
or a plain path names a SQLite file (a folder: its ``state.db``).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

STORE_FILE = "state.db"
ENV_DIR = "SHEETS_CONNECTOR_STATE_DIR"  # overrides the per-user folder (tests, portable installs)
ENV_URL = "SHEETS_CONNECTOR_STATE_URL"  # the store every run of this machine uses (replicas, cron jobs)
POSTGRES_SCHEMES = ("postgresql", "postgres")


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


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.lower() in POSTGRES_SCHEMES


def state_url(explicit: str | None, mapping_url: str | None, state_dir: Path | None,
              environ: Mapping[str, str] | None = None) -> str:
    """The store to use: the explicit URL, the environment's, the mapping's, else the file."""
    env = os.environ if environ is None else environ
    for url in (explicit, env.get(ENV_URL), mapping_url):
        if url and url.strip():
            return url.strip()
    return str(store_path(state_dir, environ))


def sqlite_path(url: str) -> Path:
    """The file a SQLite URL or path names (``sqlite:///abs/path``, ``sqlite:///./rel``, a path, a folder)."""
    if url.lower().startswith("sqlite://"):
        url = url[len("sqlite://"):]
        if url.startswith("/") and len(url) > 1 and url[1] in "./~":
            url = url[1:]  # sqlite:///./relative, sqlite:///~/x
    path = Path(os.path.expanduser(url))
    return path / STORE_FILE if path.is_dir() else path


def account_id(base_url: str, api_key: str) -> str:
    """An inwise account's name in the store: the API host and a hash of (URL, key).  The key
    itself is never stored; the hash only tells two keys apart."""
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\0{api_key}".encode()).hexdigest()[:16]
    return f"{urlsplit(base_url).netloc}/{digest}"
