"""The service's allow-list: which spreadsheets it serves, with which mapping, secret and schedule.

``serve --configs DIR`` reads every ``*.yaml``/``*.yml`` mapping in DIR.  Besides the usual
mapping keys, each carries (only these keys, and ``state_dir``, are read here; ``config.Config``
validates them with the rest of the mapping, with line numbers, when a run loads it)::

    service:
      spreadsheet_id: 1AbC...        # the Google spreadsheet's id (from its URL)
      secret_env: SHEET_SALES_SECRET  # the webhook secret, from this environment variable...
      # secret_file: secrets/sales.txt  ...or from this file (relative to the mapping)
    schedule: "0 7 * * 0-4"          # optional: also sync on this cron schedule (07:00, Sunday-Thursday)...
    timezone: Asia/Jerusalem         # ...read in this time zone (required with schedule)

``spreadsheet_id`` may be left out when the source is the Google spreadsheet itself
(``source.spreadsheet``: its address or key).  A secret variable or file may hold two secrets
separated by whitespace while a secret is being rotated.  A request names only a spreadsheet
id; everything else (files, credentials, URLs) comes from here.  Each spreadsheet needs its own
secret: the signature is what ties a click to a sheet, so a secret shared by two mappings would
let one sheet's menu start the other's sync, and the service refuses to start.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import SCHEDULE_NEEDS_ZONE, ServiceSection, check_cron, check_zone
from ..errors import ConfigError
from ..paths import resolve_user_path

MIN_SECRET_LENGTH = 16
NEW_SECRET_HINT = 'python3 -c "import secrets; print(secrets.token_hex(32))"'


class ServiceKeys(BaseModel):
    """The keys of a mapping that the service reads (the rest belongs to the sync)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    service: ServiceSection
    schedule: str | None = Field(None, description='Cron expression, e.g. "0 7 * * 0-4" (07:00 on the Israeli working week, Sunday-Thursday).')
    timezone: str | None = Field(None, description="Time zone of the schedule, e.g. Asia/Jerusalem.")
    source: dict[str, Any] = Field(default_factory=dict)
    state_dir: str | None = None
    language: str = "en"  # the staff's language: the sheet menu's notices are in it

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return check_zone(v)

    @model_validator(mode="after")
    def _schedule_needs_zone(self) -> ServiceKeys:
        if self.schedule and not self.timezone:
            raise ValueError(SCHEDULE_NEEDS_ZONE)
        return self

    def spreadsheet_id(self) -> str | None:
        """``service.spreadsheet_id``, else the key of a Google Sheets source (ConfigError if malformed)."""
        if self.service.spreadsheet_id:
            return self.service.spreadsheet_id
        where = self.source.get("spreadsheet")
        if self.source.get("type") == "google_sheet" and isinstance(where, str):
            from ..gsheets.client import spreadsheet_key

            return spreadsheet_key(where)
        return None


@dataclass(frozen=True)
class Sheet:
    """One spreadsheet the service serves."""

    spreadsheet_id: str
    config_path: Path
    secrets: tuple[bytes, ...] = field(repr=False)
    schedule: str | None = None
    timezone: str | None = None
    state_dir: Path | None = None  # the mapping's state_dir, resolved (None: the per-user folder)
    language: str = "en"  # the mapping's language: the sheet menu speaks it before a run has a result


class Registry:
    """The allow-list: spreadsheet id -> ``Sheet``."""

    def __init__(self, sheets: Iterable[Sheet]) -> None:
        self._by_id = {s.spreadsheet_id: s for s in sheets}

    def get(self, spreadsheet_id: str) -> Sheet | None:
        return self._by_id.get(spreadsheet_id)

    def secrets(self) -> tuple[bytes, ...]:
        return tuple(dict.fromkeys(s for sheet in self for s in sheet.secrets))

    def __iter__(self) -> Iterator[Sheet]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def load_registry(directory: str | Path, environ: Mapping[str, str] | None = None) -> Registry:
    """Read every mapping in ``directory``; raises ``ConfigError`` listing every problem found."""
    env = os.environ if environ is None else environ
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(f"--configs {folder}: not a folder. Give the folder that holds one mapping file per spreadsheet.")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise ConfigError(f"{folder} holds no mapping file (*.yaml): add one per spreadsheet.")
    problems: list[str] = []
    sheets: dict[str, Sheet] = {}
    for path in files:
        try:
            sheet = _load_sheet(path, env)
        except ConfigError as e:
            problems.append(str(e))
            continue
        other = sheets.get(sheet.spreadsheet_id)
        if other is not None:
            problems.append(f"{path.name}: spreadsheet {sheet.spreadsheet_id} is already served by "
                            f"{other.config_path.name}; keep one mapping per spreadsheet.")
            continue
        sheets[sheet.spreadsheet_id] = sheet
    problems += _shared_secrets(sheets.values())
    if problems:
        raise ConfigError("The service cannot start:\n" + "\n".join(f"- {p}" for p in problems))
    return Registry(sheets.values())


def _shared_secrets(sheets: Iterable[Sheet]) -> list[str]:
    owners: dict[bytes, list[str]] = {}
    for sheet in sheets:
        for secret in sheet.secrets:
            owners.setdefault(secret, []).append(sheet.config_path.name)
    return [f"{' and '.join(names)} use the same webhook secret: each spreadsheet needs its own, or one sheet's "
            f"menu could start the other's sync. Give each its own (make one with: {NEW_SECRET_HINT})."
            for names in owners.values() if len(names) > 1]


def _load_sheet(path: Path, env: Mapping[str, str]) -> Sheet:
    name = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{name}: cannot read it as YAML ({type(e).__name__}); run `sheets-connector check` on it.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: not a mapping file (expected keys such as source:, columns:, service:).")
    try:
        keys = ServiceKeys.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["type"] == "missing" and where == "service":
            raise ConfigError(f"{name}: add a service: section (spreadsheet_id and secret_env or secret_file) "
                              "so the service knows which spreadsheet it is for.") from None
        raise ConfigError(f"{name}: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    try:
        sid = keys.spreadsheet_id()
    except ConfigError as e:
        raise ConfigError(f"{name}: {e}") from None
    if not sid:
        raise ConfigError(f"{name}: add service.spreadsheet_id (the part of the sheet's URL after /d/).")
    return Sheet(spreadsheet_id=sid, config_path=path.resolve(), secrets=_secrets(name, path, keys.service, env),
                 schedule=keys.schedule, timezone=keys.timezone,
                 state_dir=resolve_user_path(keys.state_dir, path.resolve().parent) if keys.state_dir else None,
                 language="he" if keys.language == "he" else "en")


def _secrets(name: str, path: Path, section: ServiceSection, env: Mapping[str, str]) -> tuple[bytes, ...]:
    if section.secret_env:
        raw = env.get(section.secret_env, "")
        where = f"environment variable {section.secret_env}"
    else:
        file = path.parent / str(section.secret_file)
        where = f"secret file {section.secret_file}"
        try:
            raw = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{name}: cannot read the {where} ({type(e).__name__}).") from None
    values = raw.split()
    if not values:
        raise ConfigError(f"{name}: the {where} is empty or not set; put the spreadsheet's webhook secret there "
                          f"(make one with: {NEW_SECRET_HINT}).")
    if any(len(v) < MIN_SECRET_LENGTH for v in values):
        # the length only, never the value
        raise ConfigError(f"{name}: the secret in the {where} is shorter than {MIN_SECRET_LENGTH} characters; "
                          f"make a long random one with: {NEW_SECRET_HINT}")
    return tuple(v.encode("utf-8") for v in values)
