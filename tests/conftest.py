"""Shared pytest fixtures for the sheets-connector test suite."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from launcher import Launcher
from pgcluster import PgCluster
from service_helpers import ListHandler

from sheets_connector.sandbox import Sandbox
from sheets_connector.service.log import LOGGER_NAME
from sheets_connector.state.location import ENV_DIR, ENV_URL

SANDBOX_API_KEY = "test-key"


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own per-user state folder (never the real one of whoever runs the tests)."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv(ENV_DIR, str(folder))
    # no shared store unless a test names one; and whatever a CLI --state-url sets is undone after the test
    monkeypatch.setenv(ENV_URL, "")
    monkeypatch.delenv(ENV_URL)
    return folder


@pytest.fixture(autouse=True)
def working_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs in its own empty current folder: a results CSV kept "in the current folder"
    (a Google Sheet that could not be written) or any other file a run drops there never lands in
    the repository."""
    folder = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started local inwise sandbox (API key ``"test-key"``) on a free port, stopped afterwards."""
    with Sandbox(api_keys=(SANDBOX_API_KEY,)) as running:
        yield running


@pytest.fixture(scope="session")
def launcher() -> Iterator[Launcher]:
    """Starts ``sheets-connector`` commands as real processes, forked from a warm interpreter."""
    running = Launcher()
    yield running
    running.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL server per test session (per xdist worker), stopped afterwards."""
    cluster = PgCluster()
    yield cluster
    cluster.close()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, empty database on the session's server."""
    return pg_cluster.new_database()


@pytest.fixture
def service_log() -> Iterator[ListHandler]:
    """The web service's log lines during the test, at INFO."""
    handler = ListHandler()
    logger = logging.getLogger(LOGGER_NAME)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
