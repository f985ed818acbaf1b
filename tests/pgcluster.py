"""The tests' throwaway PostgreSQL server (see sheets_connector/localpg.py): missing server
binaries fail the tests that need it, never skip them."""
from __future__ import annotations

import pytest

from sheets_connector.localpg import LocalPostgres, find_bin


class PgCluster(LocalPostgres):
    def __init__(self) -> None:
        try:
            find_bin()
        except RuntimeError as e:
            pytest.fail(str(e))
        super().__init__()
