"""What staff say per row besides the contact: its groups, its consent, and "do not sync".

The mapping names the columns (``columns.groups``, ``columns.consent``, ``columns.do_not_sync``)
and a ``groups:`` table (group name -> inwise group ID).  :class:`PerRowReader` reads those cells
of one row into a :class:`RowSays`: held back, a problem in words (an unknown group name, a
consent cell that is neither yes nor no), no consent, or what to send (group IDs to add and to
remove, the confirmation status).  Nothing here does I/O; ``contacts.ContactMapper`` calls it
for each row and puts what it says on the ``Contact`` (so it is in the row's fingerprint).

Why there is a consent column: Israel's anti-spam rule (Communications Law, amendment 40)
asks for a recipient's explicit prior consent before marketing email or SMS, and a business
must be able to show it.  A row without consent is therefore never sent as ``confirmed``.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .inwise.wire import NO_GROUP_ALLOWED
from .messages.catalog import Msg, msg
from .normalize import clean_text, header_key, is_blank

GroupMode = Literal["add", "exactly", "exactly_all"]
CONSENT_GIVEN_STATUS = "confirmed"  # the documented status; the only one inwise's page shows

# Words staff type for yes and no (compared by ``_word``: case, spaces, quotes and dots ignored).
YES_WORDS = ("yes", "y", "true", "1", "v", "x", "✓", "✔", "☑", "✅", "ok", "agreed", "agree", "opt in", "opt-in",
             "opted in", "subscribed", "confirmed", "כן", "מאשר", "מאשרת", "מאושר", "אישר", "אישרה", "הסכים",
             "הסכימה", "מסכים", "מסכימה")
NO_WORDS = ("no", "n", "false", "0", "✗", "✘", "☐", "❌", "-", "declined", "opt out", "opt-out", "opted out",
            "unsubscribed", "לא", "לא מאשר", "לא מאשרת", "סירב", "סירבה", "הוסר", "הוסרה")
# A "do not sync" cell holding one of these (or an unticked checkbox) does not hold the row back.
NOT_HELD_WORDS = ("no", "n", "false", "0", "לא", "-", "☐")
GROUP_SEPARATORS = re.compile(r"[,;\n\r\u060c\uff0c]")  # commas, semicolons, new lines (Arabic/full-width commas)
# D/M/Y, Y-M-D, with / . or -: a date typed as text in a consent cell means consent was given then
DATE_TEXT = re.compile(r"^\s*(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[ T].*)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GroupsColumn(_Strict):
    """The column listing each contact's groups (names from the ``groups:`` table, or IDs)."""

    column: str = Field(description="Header of the groups column.")
    mode: GroupMode = Field(
        "add",
        description=(
            "add: add the contact to the groups in the cell (it stays in its other groups); "
            "exactly: the groups in the cell and none of the other groups in the mapping's groups table "
            "(upsert mode: batchInsert cannot remove); exactly_all: the groups in the cell and no other inwise "
            "group at all, also groups the mapping does not list (inwise's remove_from_all_other_groups)."),
    )


class ConsentColumn(_Strict):
    """The column saying whether the contact agreed to receive marketing messages."""

    column: str = Field(description="Header of the consent column.")
    # not "yes:"/"no:" keys: YAML reads those as true/false
    yes_words: list[str] = Field(default_factory=list, description="More words that mean consent was given (may be written yes:).")
    no_words: list[str] = Field(default_factory=list, description="More words that mean it was not (may be written no:).")
    status: str | None = Field(
        None, description="Confirmation status sent with consent (default: inwise.confirmation_status, else confirmed).")
    without_consent: str = Field(
        "skip",
        description=("skip: a row without consent is not sent (its result says so); or a confirmation status to send "
                     "such rows with (not 'confirmed'; inwise documents no other value: run `sheets-connector probe`)."),
    )

    @model_validator(mode="before")
    @classmethod
    def _yes_no_keys(cls, data: Any) -> Any:
        """``yes: [...]`` / ``no: [...]`` as staff would write them (YAML makes those keys true/false)."""
        if isinstance(data, dict):
            names = {True: "yes_words", False: "no_words", "yes": "yes_words", "no": "no_words"}
            data = {names.get(k, k) if isinstance(k, (bool, str)) else k: v for k, v in data.items()}
        return data

    @field_validator("yes_words", "no_words", mode="before")
    @classmethod
    def _words_as_text(cls, v: Any) -> Any:
        return _as_words(v)

    @field_validator("without_consent")
    @classmethod
    def _not_confirmed(cls, v: str) -> str:
        if v.casefold() == CONSENT_GIVEN_STATUS:
            raise ValueError("a row without consent cannot be sent as confirmed; use skip or another status")
        if not v:
            raise ValueError("use skip, or a confirmation status")
        return v


class DoNotSyncColumn(_Strict):
    """The column that holds a row back (its result says 'held back'; clear the cell to send it)."""

    column: str = Field(description="Header of the do-not-sync column.")
    values: list[str] | None = Field(
        None, description=("Only these words hold a row back (e.g. [hold, x]); default: any value but an empty cell, "
                           "an unticked checkbox, no, false, 0 or לא."))

    @field_validator("values", mode="before")
    @classmethod
    def _words_as_text(cls, v: Any) -> Any:
        return _as_words(v)


def _as_words(v: Any) -> Any:
    """A word list as typed: YAML reads an unquoted yes/no/on/off as true/false and 1 as a number."""
    if isinstance(v, list):
        return [("yes" if w else "no") if isinstance(w, bool) else str(w) if isinstance(w, (int, float)) else w
                for w in v]
    return v


def column_spec(value: str | GroupsColumn | ConsentColumn | DoNotSyncColumn | None) -> str | None:
    """The header of a per-row column, whichever way the mapping wrote it."""
    return value if isinstance(value, str) or value is None else value.column


def _word(value: str) -> str:
    return "".join(ch for ch in header_key(value) if ch.isalnum() or ch in "✓✔☑✅✗✘☐❌-")


@dataclass(frozen=True, slots=True)
class RowSays:
    """What a row's own cells say besides the contact."""

    held: Msg | None = None  # held back: why, as a message
    problem: Msg | None = None  # the row is invalid: why
    problem_column: str | None = None
    no_consent: Msg | None = None  # not sent: why
    groups: tuple[int, ...] | None = None  # None: the sheet has no groups column
    remove_groups: tuple[int, ...] = ()
    only_these_groups: bool = False
    confirmation_status: str | None = None  # None: the mapping's inwise.confirmation_status


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    header: str


class PerRowReader:
    """Reads the per-row columns of one table (resolved once against its header)."""

    def __init__(self, *, groups: _Column | None, group_mode: GroupMode, group_table: Mapping[str, int],
                 consent: _Column | None, consent_spec: ConsentColumn | None, default_status: str | None,
                 hold: _Column | None, hold_values: Sequence[str] | None) -> None:
        self.groups, self.group_mode = groups, group_mode
        self.table = {header_key(name): int(gid) for name, gid in group_table.items()}
        self.names = list(group_table)
        self.consent, self.spec = consent, consent_spec
        self.given_status = (consent_spec.status if consent_spec and consent_spec.status else None) \
            or default_status or CONSENT_GIVEN_STATUS
        yes = [*YES_WORDS, *(consent_spec.yes_words if consent_spec else ())]
        no = [*NO_WORDS, *(consent_spec.no_words if consent_spec else ())]
        self.yes, self.no = {_word(w) for w in yes}, {_word(w) for w in no}
        self.hold = hold
        self.hold_values = None if hold_values is None else {_word(w) for w in hold_values}
        self.not_held = {_word(w) for w in NOT_HELD_WORDS}

    @classmethod
    def resolve(cls, config: Any, header: Sequence[str], find: Callable[..., int]) -> PerRowReader | None:
        """The reader for a table's header, or None when the mapping names no per-row column.
        ``find(header, wanted, what=, setting=)`` is ``contacts.find_column`` (its clear errors)."""
        cols = config.columns
        specs = {"groups": cols.groups, "consent": cols.consent, "do_not_sync": cols.do_not_sync}
        if all(v is None for v in specs.values()):
            return None
        found: dict[str, _Column | None] = {}
        for key, what in (("groups", "groups"), ("consent", "consent"), ("do_not_sync", "do not sync")):
            name = column_spec(specs[key])
            if name is None:
                found[key] = None
                continue
            setting = config.locate("columns", key) if not isinstance(specs[key], BaseModel) \
                else config.locate("columns", key, "column")
            i = find(header, name, what=what, setting=setting)
            found[key] = _Column(i, clean_text(header[i]))
        g, c, h = cols.groups, cols.consent, cols.do_not_sync
        return cls(groups=found["groups"], group_mode=g.mode if isinstance(g, GroupsColumn) else "add",
                   group_table=config.groups, consent=found["consent"],
                   consent_spec=c if isinstance(c, ConsentColumn) else (ConsentColumn(column=c) if c else None),
                   default_status=config.inwise.confirmation_status, hold=found["do_not_sync"],
                   hold_values=h.values if isinstance(h, DoNotSyncColumn) else None)

    def columns(self) -> dict[str, _Column]:
        """{role: column} of the per-row columns present (for ``check`` and the mapper's own list)."""
        return {k: v for k, v in (("groups", self.groups), ("consent", self.consent), ("do_not_sync", self.hold))
                if v is not None}

    # -- one row ----------------------------------------------------------------------------
    def held(self, values: Sequence[Any]) -> Msg | None:
        """Why a row is held back, or None."""
        if self.hold is None:
            return None
        v = _cell(values, self.hold.index)
        if is_blank(v) or v is False:
            return None
        words = {"true", "yes", "✓"} if v is True else {_word(clean_text(v))}  # a ticked box says yes
        if self.hold_values is not None:
            if not words & self.hold_values:
                return None
        elif words & self.not_held:
            return None
        if v is True:
            return msg("row.held_ticked", column=self.hold.header)
        return msg("row.held_value", column=self.hold.header, value=clean_text(v))

    def read(self, values: Sequence[Any]) -> RowSays:
        """Groups and consent of a row that is not held back."""
        status: str | None = None
        no_consent: Msg | None = None
        if self.consent is not None:
            v = _cell(values, self.consent.index)
            given = self._consent(v)
            if given is None:
                return RowSays(problem=msg("row.consent_unclear", value=clean_text(v), column=self.consent.header),
                               problem_column=self.consent.header)
            if given:
                status = self.given_status
            else:
                assert self.spec is not None
                if self.spec.without_consent == "skip":
                    column = self.consent.header
                    no_consent = (msg("row.no_consent_empty", column=column) if is_blank(v)
                                  else msg("row.no_consent_unticked", column=column) if v is False
                                  else msg("row.no_consent_says", column=column, value=clean_text(v)))
                else:
                    status = self.spec.without_consent
        groups: tuple[int, ...] | None = None
        remove: tuple[int, ...] = ()
        if self.groups is not None:
            ids, unknown = self._groups(_cell(values, self.groups.index))
            if unknown:
                known: str | Msg = ", ".join(self.names) if self.names else msg("row.no_groups_table")
                return RowSays(problem=msg("row.unknown_group" if len(unknown) == 1 else "row.unknown_groups",
                                           names=", ".join(repr(u) for u in unknown), column=self.groups.header,
                                           known=known), problem_column=self.groups.header)
            if not ids and self.group_mode != "add" and not NO_GROUP_ALLOWED:
                return RowSays(problem=msg("row.groups_empty", column=self.groups.header),
                               problem_column=self.groups.header)
            groups = ids
            if self.group_mode == "exactly":
                remove = tuple(sorted(set(self.table.values()) - set(ids)))
        return RowSays(no_consent=no_consent, groups=groups, remove_groups=remove,
                       only_these_groups=self.groups is not None and self.group_mode == "exactly_all",
                       confirmation_status=status)

    def _consent(self, v: Any) -> bool | None:
        if is_blank(v):
            return False
        if isinstance(v, bool):
            return v
        if isinstance(v, (_dt.date, _dt.datetime)):
            return True  # the date consent was given
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return bool(v) if v in (0, 1) else None
        w = _word(str(v))
        if w in self.yes:
            return True
        if w in self.no:
            return False
        return True if DATE_TEXT.match(clean_text(v)) else None

    def _groups(self, v: Any) -> tuple[tuple[int, ...], list[str]]:
        if is_blank(v):
            return (), []
        if isinstance(v, bool):
            return (), [str(v)]
        if isinstance(v, (int, float)):
            return ((int(v),), []) if float(v).is_integer() and v > 0 else ((), [clean_text(v)])
        ids: list[int] = []
        unknown: list[str] = []
        for part in GROUP_SEPARATORS.split(str(v)):
            name = clean_text(part)
            if not name:
                continue
            gid = self.table.get(header_key(name))
            if gid is None and name.isdigit() and int(name) > 0:
                gid = int(name)  # a group ID typed as it is
            if gid is None:
                unknown.append(name)
            elif gid not in ids:
                ids.append(gid)
        return tuple(sorted(ids)), unknown

    def group_names(self) -> dict[int, str]:
        """{group ID: its name in the mapping} (for describing a row)."""
        return {gid: name for name, gid in zip(self.names, (self.table[header_key(n)] for n in self.names))}


def _cell(values: Sequence[Any], index: int) -> Any:
    return values[index] if index < len(values) else None
