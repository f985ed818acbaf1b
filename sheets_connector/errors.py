"""One exception hierarchy for the whole connector.

Every error a user can cause or fix is a ``ConnectorError`` whose ``str()`` is a complete,
plain-language message: what happened, where (file, sheet, row, column, config key) and what
to do.  The CLI prints that message and exits with ``exit_code``; it never shows a traceback
for these.  Messages never contain secrets (API keys, credentials).
"""
from __future__ import annotations

from typing import Literal

from .messages.catalog import Msg, Place, said

ProblemKind = Literal["email", "mobile", "field"]


class ConnectorError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code = 1
    language: str | None = None  # the staff's language when no mapping was read yet (init's header row)


class ConfigError(ConnectorError):
    """The YAML mapping is wrong or does not fit the sheet (bad key, missing header...)."""

    exit_code = 2


class WorksheetNotFound(ConfigError):
    """The source has no worksheet by the name the mapping gives; ``str()`` says which exist.

    The table does not know the mapping file: the sync adds where the name is set (``at``)."""

    def __init__(self, message: str, at: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.at = at

    def __str__(self) -> str:
        return f"{self.message} Fix the worksheet name in {self.at or 'the mapping file'}."

    def words(self) -> str:
        """``str(self)`` as a message, said in the mapping's language (see ``catalog.error_words``)."""
        return said("err.fix_worksheet", message=self.message, at=Place(self.at) if self.at else Msg("err.the_mapping"))


class SourceError(ConnectorError):
    """The spreadsheet cannot be read or written (locked, password-protected, not an .xlsx...)."""


class WorkbookNotFound(ConfigError, SourceError):
    """The workbook the mapping names is not there (a wrong path is the mapping's to fix: exit 2;
    still a SourceError for whoever handles unreadable sources).

    ``at`` is where the path is set ("mapping.yaml, line 3 (source.path)"), added by the sync."""

    def __init__(self, message: str, at: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.at = at

    def __str__(self) -> str:
        return f"{self.message} Fix the path in {self.at}." if self.at else self.message

    def words(self) -> str:
        """``str(self)`` as a message, said in the mapping's language (see ``catalog.error_words``)."""
        return said("err.fix_path", message=self.message, at=Place(self.at)) if self.at else self.message


class InwiseError(ConnectorError):
    """inwise refused the whole run (wrong API key, unreachable) - not a single row's problem."""


class InwiseAuthError(InwiseError):
    """inwise refused the API key (401/403, or a 4xx naming the key), or REST access is not enabled."""


class InwiseAddressError(InwiseError):
    """The first answers (404/405/413) say the inwise API address is wrong, not a row.

    ``at`` is the mapping line holding the address ("mapping.yaml, line 9 (inwise.base_url)"),
    added by the sync, which knows the mapping."""

    def __init__(self, message: str, base_url: str = "", at: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.base_url = base_url
        self.at = at

    def __str__(self) -> str:
        where = self.at or "inwise.base_url in the mapping"
        return (f"{self.message}: correct {where} (or delete that line: this address is the default), "
                "then run again.")

    def words(self) -> str:
        """``str(self)`` as a message, said in the mapping's language (see ``catalog.error_words``)."""
        return said("err.address_fix", message=self.message, where=Place(self.at) if self.at else Msg("err.base_url"))


class InwiseUnavailable(InwiseError):
    """inwise answered no row for a while (5xx, 429, timeouts after every retry): the run stopped
    sending and ended with this exit code (``RunSummary.outage`` says what happened)."""

    exit_code = 69  # EX_UNAVAILABLE: try again later


class LockLost(ConnectorError):
    """This run's lock was taken over (it went silent past its lease): it stops before writing
    anything more.  Not a StateError: nothing that tolerates a store problem may swallow it."""

    exit_code = 75  # EX_TEMPFAIL: run again


class RunStopped(ConnectorError):
    """The user stopped the run at once (a second Ctrl-C): the message says what was kept where."""

    exit_code = 130


class ValueProblem(ValueError):  # a cell's problem, not a run's: written on its row, never raised to the user
    """A cell value that cannot be used.

    ``str(e)`` is a short, plain message for office staff, shown in the sheet's results column
    after a ✗, e.g. ``invalid mobile "12345": too short for a mobile number`` or
    ``invalid email "dana@": nothing after the @``.  It quotes the value as typed (cleaned of
    invisible characters, truncated to ~40 characters) and says what is wrong in everyday words;
    ``message`` is the same as a :class:`~sheets_connector.messages.Msg`, rendered in the
    mapping's language where it is shown.

    Attributes:
        kind: ``"email"``, ``"mobile"`` or ``"field"``.
        value: the value as shown in the message (cleaned, possibly truncated).
        reason: what is wrong, e.g. ``msg("mobile.too_short")`` ("too short for a mobile number").
    """

    def __init__(self, kind: ProblemKind, value: str, reason: Msg) -> None:
        super().__init__(kind, value, reason)  # keeps the exception picklable
        self.kind: str = kind
        self.value: str = value
        self.reason: Msg = reason

    @property
    def message(self) -> Msg:
        return Msg(f"cell.{self.kind}", (("value", self.value), ("reason", self.reason)))

    def __str__(self) -> str:
        return str(self.message)


class SandboxError(ConnectorError):
    """The local sandbox cannot start or load its files (port in use, unreadable state/seed file)."""


class StateError(ConnectorError):
    """The connector's state store cannot be opened or written (read-only folder, full disk...)."""


class StoreUnreachable(StateError):
    """The shared state store's database server cannot be reached: a run stops sending (it can
    neither record answers nor prove it still holds its lock)."""


class SheetBusy(ConnectorError):
    """Another run holds this sheet (or this account's feed); the message says which and since when."""

    exit_code = 75  # EX_TEMPFAIL: a scheduler may simply try again later
