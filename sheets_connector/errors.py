"""One exception hierarchy for the whole connector.

Every error a user can cause or fix is a ``ConnectorError`` whose ``str()`` is a complete,
plain-language message: what happened, where (file, sheet, row, column, config key) and what
to do.  The CLI prints that message and exits with ``exit_code``; it never shows a traceback
for these.  Messages never contain secrets (API keys, credentials).
"""
from __future__ import annotations


class ConnectorError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code = 1


class ConfigError(ConnectorError):
    """The YAML mapping is wrong or does not fit the sheet (bad key, missing header...)."""

    exit_code = 2


class SourceError(ConnectorError):
    """The spreadsheet cannot be read or written (locked, password-protected, not an .xlsx...)."""


class InwiseError(ConnectorError):
    """inwise refused the whole run (wrong API key, unreachable) - not a single row's problem."""


class InwiseAuthError(InwiseError):
    """inwise answered 401/403: the API key is missing or wrong."""


class RunStopped(ConnectorError):
    """The user stopped the run at once (a second Ctrl-C): the message says what was kept where."""

    exit_code = 130


class StateError(ConnectorError):
    """The connector's state store cannot be opened or written (read-only folder, full disk...)."""


class SheetBusy(ConnectorError):
    """Another run holds this sheet (or this account's feed); the message says which and since when."""

    exit_code = 75  # EX_TEMPFAIL: a scheduler may simply try again later
