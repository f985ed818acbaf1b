"""Load and validate the YAML mapping.

The model below *is* the schema (``sheets-connector schema`` prints it as JSON Schema).  Every
error names the key path and, where it comes from the file, the line, and says how to fix it;
it is raised as ``ConfigError`` (exit code 2, no traceback).  The inwise API key is never in the
YAML: only the name of the environment variable that holds it.
"""
from __future__ import annotations

import difflib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import messages
from .alerts.settings import AlertSettings
from .errors import ConfigError
from .inwise.wire import API_ADDRESS
from .messages.catalog import Joined, Msg, Said, said
from .messages.catalog import msg as _msg
from .messages.language import language_in_text
from .normalize import NEWER_RANGES, calling_code_for, date_pattern, header_key, region_for
from .paths import resolve_user_path
from .perrow import ConsentColumn, DoNotSyncColumn, GroupsColumn, column_spec
from .retry import RetryPolicy, RetryTuning
from .tables.base import Table

DEFAULT_BASE_URL = API_ADDRESS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- source ---------------------------------------------------------------------------------


class SheetIdentity(NamedTuple):
    """How the state store names a source: ``workbook`` is what a run locks (one run at a time
    writes a file or spreadsheet), ``sheet`` what rows and deliveries are kept for, ``label``
    the words for messages."""

    workbook: str
    sheet: str
    label: str


class XlsxSource(_Strict):
    """An .xlsx / .xlsm workbook on disk."""

    type: Literal["xlsx"] = "xlsx"
    path: str = Field(description="Path of the workbook, relative to this mapping file.")
    worksheet: str | None = Field(None, description="Worksheet (tab) holding the contacts; default: the first.")
    header_row: int = Field(1, ge=1, description="Row number of the header row.")

    def open_table(self, config: Config) -> Table:
        from .tables.xlsx import XlsxTable

        r = config.results
        return XlsxTable(config.resolve_path(self.path), self.worksheet, self.header_row, written_as=self.path,
                         result_columns=[h for h in (r.column, r.contact_id_column, r.synced_at_column) if h])

    def identity(self, config: Config) -> SheetIdentity:
        book = "xlsx:" + os.path.realpath(config.resolve_path(self.path))
        return SheetIdentity(book, f"{book}#{self.worksheet or ''}",
                             Path(self.path).name + (f", sheet '{self.worksheet}'" if self.worksheet else ""))


class GoogleSheetSource(_Strict):
    """A worksheet of a Google Sheets spreadsheet."""

    type: Literal["google_sheet"] = "google_sheet"
    spreadsheet: str = Field(description="The spreadsheet's URL (as in the browser) or its key.")
    worksheet: str | None = Field(None, description="Worksheet (tab) holding the contacts; default: the first.")
    header_row: int = Field(1, ge=1, description="Row number of the header row.")
    auth: Literal["service_account", "oauth"] = Field(
        "service_account",
        description="service_account: a key file (shared with the sheet); oauth: log in as yourself in a browser.",
    )
    credentials: str | None = Field(
        None,
        description=(
            "service_account: path of the key file (default: $GOOGLE_APPLICATION_CREDENTIALS); "
            "oauth: path of the OAuth client file. Relative to this mapping file. Keep it outside the repository."
        ),
    )
    api_url: str | None = Field(
        None, description="Sheets API address; only for the local emulator (default: Google's)."
    )

    def open_table(self, config: Config) -> Table:
        from .tables.gsheet import GoogleSheetTable

        return GoogleSheetTable.from_source(self, config)

    def identity(self, config: Config) -> SheetIdentity:
        m = re.search(r"/spreadsheets/d/([A-Za-z0-9_-]+)", self.spreadsheet)
        book = "google_sheet:" + (m.group(1) if m else self.spreadsheet)
        return SheetIdentity(book, f"{book}#{self.worksheet or ''}",
                             "Google Sheet" + (f", sheet '{self.worksheet}'" if self.worksheet else ""))


# A new source is one more model here with its own ``open_table``; nothing else branches on the type.
SOURCE_MODELS: tuple[type[BaseModel], ...] = (XlsxSource, GoogleSheetSource)
SOURCE_TYPES: tuple[str, ...] = tuple(m.model_fields["type"].default for m in SOURCE_MODELS)
Source = Annotated[XlsxSource | GoogleSheetSource, Field(discriminator="type")]


# --- columns ----------------------------------------------------------------------------------


class FieldColumn(_Strict):
    """A personal field's column, with an optional date format for date cells."""

    column: str
    date_format: str | None = Field(None, description="For date cells, e.g. dd/mm/yyyy (default: the top-level date_format).")

    @field_validator("date_format")
    @classmethod
    def _check_date_format(cls, v: str | None) -> str | None:
        if v is not None:
            date_pattern(v)
        return v


class Columns(_Strict):
    """Which header holds what. Headers match ignoring case and surrounding spaces."""

    email: str | None = Field(None, description="Header of the email column.")
    mobile: str | None = Field(None, description="Header of the mobile number column.")
    external_id: str | None = Field(None, description="Header of your own id for the contact (sent as external_id).")
    fields: dict[int, str | FieldColumn] = Field(
        default_factory=dict,
        description="inwise personal fields by number: 1 first name, 2 last name, 21 birthday, ...",
    )
    # per-row columns (see perrow.py): a header, or the header with its options
    groups: str | GroupsColumn | None = Field(
        None, description="Header of the column listing each contact's groups (names from groups:, or IDs).")
    consent: str | ConsentColumn | None = Field(
        None, description="Header of the marketing-consent column (yes/no, כן/לא, a ticked box, a date).")
    do_not_sync: str | DoNotSyncColumn | None = Field(
        None, description="Header of a column that holds a row back while it is filled.")

    @field_validator("fields")
    @classmethod
    def _check_numbers(cls, v: dict[int, Any]) -> dict[int, Any]:
        bad = [n for n in v if n < 1]
        if bad:
            raise ValueError(said("cfg.field_number", got=str(bad[0])))
        return v

    @model_validator(mode="after")
    def _need_key(self) -> Columns:
        if not self.email and not self.mobile:
            raise ValueError(said("cfg.need_key"))
        return self

    def field_columns(self) -> dict[int, FieldColumn]:
        return {
            n: (c if isinstance(c, FieldColumn) else FieldColumn(column=c)) for n, c in sorted(self.fields.items())
        }


# --- inwise -----------------------------------------------------------------------------------


class MobileOptions(_Strict):
    default_country: str | None = Field(
        "IL", description="Country of numbers written without a country code: a region code (IL) or calling code "
                          "(972); none: such numbers are refused (only +country numbers are read).")
    trim_leading_zero: bool = Field(True, description="Sent to inwise with local numbers (0541111111 -> 541111111).")
    newer_ranges: list[str] = Field(
        default_factory=lambda: list(NEWER_RANGES),
        description="Number ranges (+ and the first digits, e.g. '+9725') accepted although the phone-number "
                    "library does not list them yet; every other number must be a valid mobile. "
                    "Default: the Israeli mobile block +9725.")

    @field_validator("default_country", mode="before")
    @classmethod
    def _check_country(cls, v: Any) -> str | None:
        if v is None or (isinstance(v, str) and v.strip().lower() in ("none", "")):
            return None
        return region_for(v)

    @field_validator("newer_ranges")
    @classmethod
    def _check_ranges(cls, v: list[str]) -> list[str]:
        out = []
        for item in v:
            text = str(item).replace(" ", "").replace("-", "")
            if not (text.startswith("+") and text[1:].isdigit() and len(text) >= 3):
                raise ValueError(said("cfg.range", item=repr(item)))
            out.append(text)
        return out

    @property
    def region(self) -> str | None:
        return self.default_country

    @property
    def calling_code(self) -> str:
        return calling_code_for(self.default_country) if self.default_country else ""


class InwiseSettings(_Strict):
    base_url: str = Field(DEFAULT_BASE_URL, description="inwise REST base URL (the local sandbox for tests/demo).")
    api_key_env: str = Field("INWISE_API_KEY", description="Environment variable holding the API key.")
    mode: Literal["upsert", "batch"] = Field(
        "upsert", description="upsert: one create-or-update call per row (per-row results); batch: batchInsert."
    )
    groups: list[int] = Field(default_factory=list, description="Group IDs to add every contact to.")
    confirmation_status: str | None = Field(None, description="e.g. confirmed; leave out to keep inwise's default.")
    update_existing: bool = Field(True, description="Update contacts that already exist (batch mode).")
    clear_existing_fields: bool = Field(False, description="Clear personal fields not sent (upsert mode).")
    mobile: MobileOptions = Field(default_factory=MobileOptions)
    batch_size: int = Field(1000, ge=1, le=50_000, description="Rows per batchInsert call.")
    concurrency: int = Field(8, ge=1, le=64, description="Parallel requests in upsert mode.")
    timeout_seconds: float = Field(60, gt=0, le=600, description="Read timeout of one request.")
    retries: int = Field(5, ge=0, le=20, description="Retries of a failed request (429, 5xx, dropped connection).")
    retry: RetryTuning = Field(default_factory=RetryTuning, description="Backoff and timeouts of every request.")
    outage_after: int = Field(
        5, ge=1, le=1000,
        description="Rows (or batches) in a row that inwise leaves unanswered after every retry (5xx, 429, timeouts) "
                    "before the sync stops sending: the rest say 'not sent: inwise unavailable', exit code 69.")

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        if not (v.startswith("https://") or v.startswith("http://")):
            raise ValueError(said("cfg.url", got=repr(v)))
        return v.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _check_env_name(cls, v: str) -> str:
        if not v.replace("_", "").isalnum():
            raise ValueError(said("cfg.env_name"))
        return v

    def retry_policy(self) -> RetryPolicy:
        """The one retry policy of the run: ``retries``, ``timeout_seconds`` and the ``retry`` block."""
        return RetryPolicy(retries=self.retries, read_timeout=self.timeout_seconds, **self.retry.model_dump())


# --- results / new contacts ---------------------------------------------------------------------


class ResultsSettings(_Strict):
    column: str = Field("Sync result", description="Header of the results column (created if missing).")
    contact_id_column: str | None = Field(None, description="Optional header for the inwise contact id.")
    synced_at_column: str | None = Field(None, description="Optional header for the last-synced time.")
    time_format: str | None = Field(
        None,
        description=(
            "How times are shown in results, e.g. dd/mm/yyyy HH:MM. Default: the day, the month's name and the "
            "year in the mapping's language (7 Dec 2026 02:31), which no reader takes for another date."
        ),
    )

    @field_validator("time_format")
    @classmethod
    def _check_time_format(cls, v: str | None) -> str | None:
        if v is not None:
            date_pattern(v)
        return v


# Where the date is not written day first; everywhere else dd/mm/yyyy is what staff read.
MONTH_FIRST = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW"})
YEAR_FIRST = frozenset({"CN", "JP", "KR", "KP", "TW", "HU", "LT", "MN", "IR"})


def default_time_format(region: str | None) -> str:
    if region in MONTH_FIRST:
        return "mm/dd/yyyy HH:MM"
    if region in YEAR_FIRST:
        return "yyyy-mm-dd HH:MM"
    return "dd/mm/yyyy HH:MM"


NEW_CONTACT_ATTRIBUTES = ("id", "email", "mobile_number", "created_date", "confirmation_status", "external_id")


class NewContactsSettings(_Strict):
    enabled: bool = True
    tab: str = Field("New contacts", description="Tab that receives contacts inwise newly created.")
    columns: list[str] | dict[str, str] | None = Field(
        None,
        description=(
            "Contact attributes to write: id, email, mobile_number, created_date, confirmation_status, "
            "external_id, field<N>. A list uses them as headers; a mapping gives each its header. "
            "Default: id, email, mobile_number, your mapped fields (with your headers), created_date."
        ),
    )

    @field_validator("columns")
    @classmethod
    def _check_attrs(cls, v: list[str] | dict[str, str] | None) -> list[str] | dict[str, str] | None:
        if v is None:
            return v
        for attr in v:
            a = attr.strip().lower()
            if a in NEW_CONTACT_ATTRIBUTES or (a.startswith("field") and a[5:].isdigit()):
                continue
            hint = difflib.get_close_matches(a, NEW_CONTACT_ATTRIBUTES, n=1)
            raise ValueError(said("cfg.attribute", attr=repr(attr),
                                  hint=_msg("cfg.attribute_hint", hint=repr(hint[0])) if hint else "",
                                  allowed=", ".join(NEW_CONTACT_ATTRIBUTES)))
        return v


# --- the sync service (``serve``) ---------------------------------------------------------------


class ServiceSection(_Strict):
    """The ``service:`` key: how ``sheets-connector serve`` knows this spreadsheet (the sheet menu)."""

    spreadsheet_id: str | None = Field(
        None, description="The spreadsheet's id (the part of its URL after /d/); default: the Google Sheets source's.")
    secret_env: str | None = Field(None, description="Environment variable holding the menu's webhook secret.")
    secret_file: str | None = Field(None, description="File holding the webhook secret (relative to this mapping).")

    @model_validator(mode="after")
    def _one_secret_source(self) -> ServiceSection:
        if bool(self.secret_env) == bool(self.secret_file):
            raise ValueError(said("cfg.one_secret"))
        return self


def check_cron(v: str | None) -> str | None:
    """A five-field cron expression (ValueError in words otherwise)."""
    from croniter import croniter  # only mappings with a schedule pay for the import

    if v is not None and not croniter.is_valid(v):
        raise ValueError(said("cfg.cron", value=repr(v)))
    return v


def check_zone(v: str | None) -> str | None:
    """An IANA time zone name (ValueError in words otherwise)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if v is not None:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(said("cfg.zone", value=repr(v))) from None
    return v


SCHEDULE_NEEDS_ZONE = said("cfg.schedule_zone")


class Config(_Strict):
    """The whole mapping file."""

    source: Source
    columns: Columns
    inwise: InwiseSettings = Field(default_factory=InwiseSettings)
    results: ResultsSettings = Field(default_factory=ResultsSettings)
    new_contacts: NewContactsSettings = Field(default_factory=NewContactsSettings)
    groups: dict[str, int] = Field(
        default_factory=dict,
        description="Group names staff write in the groups column -> inwise group ID, e.g. {VIP: 715983}.")
    date_format: str = Field("dd/mm/yyyy", description="Default format of date cells sent as personal fields.")
    language: Literal["en", "he"] = Field(
        "en", description="The staff's language for the results column, the result and new-contacts headers, the "
                          "dates in the results and the summary: en (English) or he (Hebrew).")
    state_dir: str | None = Field(
        None, description=(
            "Folder of the connector's state store (state.db: new contacts kept from inwise, what each row last "
            "sent, run history); default: your user's state folder, shared by all your mappings. Use a local disk."),
    )
    state_url: str | None = Field(
        None, description=(
            "The state store as a URL instead of a folder: postgresql://user@host/db for a database shared by "
            "several machines (service replicas, cron jobs), or sqlite:///path/state.db. The command line's "
            "--state-url and the environment variable SHEETS_CONNECTOR_STATE_URL take precedence."),
    )
    state_retention_days: int = Field(
        30, ge=1, le=3650, description=(
            "Days the state store keeps what it no longer needs: inwise's new-contacts answers once every sheet "
            "received their contacts, and the details of old runs (their lines stay in the history). Nothing not "
            "yet delivered is ever removed."),
    )

    service: ServiceSection | None = Field(
        None, description="For `sheets-connector serve` (the sheet's inwise menu): the spreadsheet and its webhook secret.")
    schedule: str | None = Field(
        None, description='For `serve`: also sync on this cron schedule, e.g. "0 7 * * 0-4" (07:00 Sunday to Thursday, '
                          "the Israeli working week).")
    timezone: str | None = Field(None, description="The schedule's time zone, e.g. Asia/Jerusalem.")
    alerts: AlertSettings | None = Field(
        None, description="Where a run that fails, is stopped or leaves rows needing attention is told: email, "
                          "a Slack or Teams webhook. Command-line, scheduled and menu runs alike.")

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _file: Path | None = PrivateAttr(default=None)
    _where: str = PrivateAttr(default="the mapping")
    _lines: dict = PrivateAttr(default_factory=dict)

    def locate(self, *path: object) -> str:
        """Where a key is in the mapping file, for messages: "mapping.yaml, line 7 (columns.email)"."""
        key = ".".join(str(p) for p in path)
        line = self._lines.get(tuple(str(p) for p in path))
        name = Path(self._where).name if self._file else self._where
        return f"{name}, line {line} ({key})" if line else f"{key} in {name}"

    @field_validator("date_format")
    @classmethod
    def _check_date_format(cls, v: str) -> str:
        date_pattern(v)
        return v

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, v: str | None) -> str | None:
        return check_cron(v)

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, v: str | None) -> str | None:
        return check_zone(v)

    @model_validator(mode="after")
    def _headers_in_the_language(self) -> Config:
        """Headers the mapping does not name are written in its language."""
        if "column" not in self.results.model_fields_set:
            self.results.column = messages.header("results", self.language)
        if "tab" not in self.new_contacts.model_fields_set:
            self.new_contacts.tab = messages.header("new_contacts_tab", self.language)
        return self

    @model_validator(mode="after")
    def _schedule_has_zone(self) -> Config:
        if self.schedule and not self.timezone:
            raise ValueError(SCHEDULE_NEEDS_ZONE)
        return self

    @field_validator("groups", mode="before")
    @classmethod
    def _no_groups_yet(cls, v: Any) -> Any:
        return {} if v is None else v  # "groups:" with every line below still commented out

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, v: dict[str, int]) -> dict[str, int]:
        seen: dict[str, str] = {}
        for name, gid in v.items():
            if gid < 1:
                raise ValueError(said("cfg.group_id", name=repr(name), got=str(gid)))
            key = header_key(name)
            if not key:
                raise ValueError(said("cfg.group_empty"))
            if key in seen:
                raise ValueError(said("cfg.group_twice", first=repr(seen[key]), second=repr(name)))
            seen[key] = name
        return v

    @model_validator(mode="after")
    def _per_row_columns(self) -> Config:
        cols = self.columns
        if self.inwise.mode == "batch":
            if isinstance(cols.groups, GroupsColumn) and cols.groups.mode != "add":
                raise ValueError(said("cfg.groups_mode", mode=str(cols.groups.mode)))
            if isinstance(cols.consent, ConsentColumn) and cols.consent.without_consent != "skip":
                raise ValueError(said("cfg.consent_mode"))
        return self

    @model_validator(mode="after")
    def _no_column_clash(self) -> Config:
        inputs = {
            header_key(h)
            for h in [self.columns.email, self.columns.mobile, self.columns.external_id]
            + [c.column for c in self.columns.field_columns().values()]
            + [column_spec(self.columns.groups), column_spec(self.columns.consent),
               column_spec(self.columns.do_not_sync)]
            if h
        }
        for key, h in (
            ("column", self.results.column),
            ("contact_id_column", self.results.contact_id_column),
            ("synced_at_column", self.results.synced_at_column),
        ):
            if h and header_key(h) in inputs:
                raise ValueError(said("cfg.result_clash", setting=f"results.{key}", header=repr(h)))
        if self.inwise.mode == "batch" and self.columns.external_id:
            raise ValueError(said("cfg.batch_external_id"))
        return self

    # -- resolved paths ---------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def file(self) -> Path | None:
        return self._file

    def resolve_path(self, path: str) -> Path:
        """A path from the mapping: ``~`` expanded, relative to the mapping file's folder,
        written the Windows or the POSIX way (see ``paths.resolve_user_path``)."""
        return resolve_user_path(path, self._base_dir)

    def open_table(self) -> Table:
        return self.source.open_table(self)

    def result_time(self, when: datetime) -> str:
        """A time as the results column shows it: the mapping's results.time_format, else the
        language's unambiguous form (7 Dec 2026 02:31)."""
        if self.results.time_format:
            return when.strftime(date_pattern(self.results.time_format))
        return messages.format_time(when, self.language)

    def time_format(self) -> str:
        """The results' time format: the mapping's, else the default country's convention."""
        return self.results.time_format or default_time_format(self.inwise.mobile.region)

    def identity(self) -> SheetIdentity:
        return self.source.identity(self)

    def state_dir_path(self) -> Path | None:
        """The folder named by ``state_dir``, or None for the per-user default."""
        return self.resolve_path(self.state_dir) if self.state_dir else None

    def state_url_resolved(self) -> str | None:
        """``state_url`` with a relative SQLite path read from the mapping's folder."""
        url = (self.state_url or "").strip()
        if not url or "://" in url and not url.lower().startswith("sqlite://"):
            return url or None
        path = url[len("sqlite://"):] if url.lower().startswith("sqlite://") else url
        if path.startswith("/") and len(path) > 1 and path[1] in "./~":
            path = path[1:]
        return str(self.resolve_path(path))

    def state_path(self) -> Path:
        """Where versions before the state store kept their journal (imported once from here)."""
        if self.state_dir:
            return self.resolve_path(self.state_dir)
        return self._base_dir / ".sheets-connector"

    def api_key(self, environ: dict[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        key = (env.get(self.inwise.api_key_env) or "").strip()
        if not key:
            raise ConfigError(said("err.no_key", env=self.inwise.api_key_env))
        return key


# --- loading with line numbers ----------------------------------------------------------------


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map every key path in the YAML document to its 1-based line number."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = str(k.value)
            out[path + (key,)] = k.start_mark.line + 1
            _line_map(v, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out[path + (str(i),)] = v.start_mark.line + 1
            _line_map(v, path + (str(i),), out)
    return out


def _fields_of(model: type[BaseModel], loc: tuple) -> list[str]:
    """The allowed keys at ``loc`` (for 'did you mean' on an unknown key)."""
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        current = _model_in(ann)
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _model_in(ann: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        m = _model_in(arg)
        if m is not None:
            return m
    return None


# pydantic's bound errors: the message id and the bound's name in the error's context
_BOUNDS = {"greater_than_equal": ("map.ge", "ge"), "less_than_equal": ("map.le", "le"),
           "greater_than": ("map.gt", "gt"), "less_than": ("map.lt", "lt")}


def _friendly(err: dict[str, Any]) -> Msg | str:
    t = err["type"]
    msg = err["msg"]
    inp = err.get("input")
    if t == "missing":
        return _msg("map.missing")
    if t == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        first, sep, last = expected.rpartition(" or ")  # pydantic's "'a', 'b' or 'c'", in the file's language
        choices: Msg | str = _msg("map.or", first=first, last=last) if sep else expected
        return _msg("map.one_of", expected=choices, got=repr(inp))
    if t in ("int_parsing", "int_type", "int_from_float"):
        return _msg("map.whole", got=repr(inp))
    if t in ("bool_parsing", "bool_type"):
        return _msg("map.yes_no", got=repr(inp))
    if t in ("float_parsing", "float_type"):
        return _msg("map.number", got=repr(inp))
    if t == "string_type":
        if isinstance(inp, (int, float)) and not isinstance(inp, bool):
            return _msg("map.number_not_name", value=str(inp))
        if isinstance(inp, bool):
            return _msg("map.bool_not_name", word="yes" if inp else "no")
        return _msg("map.text", got=repr(inp))
    if t in ("dict_type", "model_type", "model_attributes_type"):
        return _msg("map.keys", got=repr(inp))
    if t == "list_type":
        return _msg("map.list", got=repr(inp))
    if t == "union_tag_invalid":
        return _msg("map.type_one_of", types=", ".join(SOURCE_TYPES), got=repr(err.get("ctx", {}).get("tag")))
    if t == "union_tag_not_found":
        return _msg("map.needs_type", types=", ".join(SOURCE_TYPES))
    bound = _BOUNDS.get(t)
    if bound is not None:  # batch_size: 0 and the like; pydantic's own words when they are not these
        value = err.get("ctx", {}).get(bound[1])
        value = int(value) if isinstance(value, float) and value.is_integer() else value  # 0.0 is said "0"
        limit = _msg(bound[0], limit=str(value))
        if str(limit) == msg[:1].lower() + msg[1:]:
            return limit
    error = err.get("ctx", {}).get("error")
    if isinstance(error, ValueError) and len(error.args) == 1 and isinstance(error.args[0], Said):
        return error.args[0].message  # a check of this module: said in the file's language
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    return msg[:1].lower() + msg[1:]


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union/discriminator members from a location ('xlsx', 'str', 'FieldColumn'...)."""
    out = []
    for part in loc:
        if isinstance(part, str) and (
            part in SOURCE_TYPES or part.startswith(("str", "FieldColumn", "GroupsColumn", "ConsentColumn",
                                                     "DoNotSyncColumn", "constrained-str", "list[", "dict[",
                                                     "function-"))
        ):
            continue
        out.append(part)
    return tuple(out)


def _block_errors(errors: list[Any]) -> list[Any]:
    """A key that takes a header or a block (``groups: {column: ..., mode: ...}``), written as a
    block with a mistake inside: the block's mistake, without "must be text" for the header form."""
    locs = [_clean_loc(tuple(e["loc"])) for e in errors]

    def has_deeper(loc: tuple) -> bool:
        return any(len(other) > len(loc) and other[:len(loc)] == loc for other in locs)

    return [e for e, loc in zip(errors, locs)
            if not (e["type"] == "string_type" and isinstance(e.get("input"), dict) and has_deeper(loc))]


def load_config(path: str | os.PathLike) -> Config:
    """Read and validate a mapping file. Raises ConfigError with every problem found."""
    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"Mapping file not found: {p.resolve()}\nWrite one for your workbook with:  sheets-connector init YOUR-WORKBOOK.xlsx") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read the mapping file {where}: {e}") from None
    return parse_config(text, where=where, base_dir=p.resolve().parent, file=p.resolve())


def parse_config(text: str, *, where: str = "<mapping>", base_dir: Path | None = None, file: Path | None = None) -> Config:
    try:
        return _parse_config(text, where=where, base_dir=base_dir, file=file)
    except ConfigError as e:
        e.language = e.language or language_in_text(text)  # its language is not known yet: the file's text tells
        raise


def _parse_config(text: str, *, where: str, base_dir: Path | None, file: Path | None) -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at_line = _msg("map.at_line", line=mark.line + 1) if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        if "escape" in problem:  # "C:\Users\..." in double quotes: YAML reads \U as an escape
            raise ConfigError(said("map.backslash", where=where, at_line=at_line, problem=problem)) from None
        raise ConfigError(said("map.not_yaml", where=where, at_line=at_line, problem=problem)) from None
    if not isinstance(data, dict):
        raise ConfigError(said("map.not_keys", where=where))
    lines = _line_map(node) if node is not None else {}
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems: list[Msg] = []
        for err in _block_errors(exc.errors()):
            loc = _clean_loc(tuple(err["loc"]))
            if not loc and SCHEDULE_NEEDS_ZONE in str(err["msg"]):
                loc = ("schedule",)  # a whole-model check: point at the line that needs the zone
            key: str | Msg = ".".join(str(x) for x in loc) or _msg("map.top_level")
            line = None
            for n in range(len(loc), -1, -1):
                line = lines.get(tuple(str(x) for x in loc[:n]))
                if line is not None:
                    break
            text_: Any = _friendly(dict(err))
            if err["type"] == "extra_forbidden":
                allowed = _fields_of(Config, loc[:-1])
                hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                text_ = _msg("map.unknown_key", key=repr(str(loc[-1])))
                parts: list[Msg] = [text_]
                if hint:
                    parts.append(_msg("map.did_you_mean", hint=repr(hint[0])))
                if allowed:
                    parts.append(_msg("map.allowed", allowed=", ".join(allowed)))
                text_ = Joined("", tuple(parts))
            at = _msg("map.where_line", where=where, line=line) if line else where
            problems.append(_msg("map.problem", at=at, key=key, text=text_))
        # one message per distinct problem, in file order
        seen: list[Msg] = []
        for p_ in problems:
            if p_ not in seen:
                seen.append(p_)
        raise ConfigError(said("map.problems", problems=Joined("\n  ", tuple(seen)))) from None
    cfg._base_dir = base_dir or Path.cwd()
    cfg._file = file
    cfg._where = where
    cfg._lines = lines
    return cfg


def json_schema() -> dict:
    return Config.model_json_schema()
