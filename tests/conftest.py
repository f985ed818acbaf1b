"""Shared pytest fixtures for the sheets-connector test suite."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from sheets_connector.sandbox import Sandbox

SANDBOX_API_KEY = "test-key"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A started local inwise sandbox (API key ``"test-key"``) on a free port, stopped afterwards."""
    with Sandbox(api_keys=(SANDBOX_API_KEY,)) as running:
        yield running
