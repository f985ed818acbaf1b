"""A local stand-in for the inwise contacts REST API: a real HTTP server on 127.0.0.1.

The demo, the tests and the benchmark all talk to this server instead of
``https://api.inwise.com/rest/v1``.  Point a client at ``Sandbox.base_url``
(``http://127.0.0.1:<port>/rest/v1``) and it sees the same three calls:

- ``POST /contacts``              create or update one contact (422 on an email/mobile conflict)
- ``POST /contacts/batchInsert``  import a CSV of contacts
- ``GET  /contacts``              the once-only feed of created contacts (up to 1000 per call)

Every API call needs the header ``X-API-Key``.  On top of the API the sandbox can inject
faults and cost (latency, 5xx, 429 with ``Retry-After``, dropped connections, a cap on
concurrent requests; see ``Faults`` and ``Sandbox.fail_next``) and lets a test read back
everything through ``/_sandbox/...`` paths, which are clearly not part of the inwise API and
need no key.

What inwise does not document (the success body, the batchInsert answer, the exact mobile
rules, 400 messages...) is the sandbox's own assumption; those assumptions are gathered in
the "Assumptions" block below so they are easy to change.

State lives in memory; with ``state_file`` it is also written to a JSON file (atomically,
after each change) and loaded again on start, so a demo survives restarts.
"""
from __future__ import annotations

import csv
import dataclasses
import hmac
import io
import json
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from .errors import ConnectorError
from .fsutil import atomic_write_text

__all__ = ["Faults", "Sandbox", "SandboxError", "serve", "API_PREFIX", "INSPECT_PREFIX"]

# --------------------------------------------------------------------------------------------
# Assumptions about inwise (undocumented; the sandbox's own choices, kept in one place)
# --------------------------------------------------------------------------------------------
API_PREFIX = "/rest/v1"  # mirrors https://api.inwise.com/rest/v1
INSPECT_PREFIX = "/_sandbox"  # sandbox-only inspection and control paths (no key needed)
FEED_PAGE_SIZE = 1000  # GET /contacts returns at most this many contacts per call
MOBILE_MIN_DIGITS = 8
MOBILE_MAX_DIGITS = 15
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
FIELD_NAME_RE = re.compile(r"^field(\d+)$", re.IGNORECASE)
MSG_INVALID_KEY = "Invalid API key."
MSG_REQUIRED = "Email or mobile number is required."
MSG_CONFLICT_EMAIL = "The email exists for contact ID #{id}."
MSG_CONFLICT_MOBILE = "The mobile number exists for contact ID #{id}."
MAX_BODY_BYTES = 64 * 1024 * 1024
STATE_FORMAT = "inwise-sandbox-state"
STATE_VERSION = 1

_API_ROUTES: dict[str, tuple[str, ...]] = {  # canonical relative path -> allowed methods
    "/contacts": ("GET", "POST"),
    "/contacts/batchInsert": ("POST",),
}
_INSPECT_ROUTES: dict[str, tuple[str, ...]] = {
    "/contacts": ("GET", "POST"),
    "/stats": ("GET",),
    "/faults": ("GET", "POST"),
    "/fail_next": ("POST",),
    "/reset_stats": ("POST",),
    "/reset": ("POST",),
}


class SandboxError(ConnectorError):
    """The sandbox cannot start or load its files (port in use, unreadable state/seed file)."""


class _BadRequest(Exception):
    """Raised inside request handling; becomes a JSON answer ``{"message": ...}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------
@dataclass
class Faults:
    """Fault and cost injection for the ``/rest/v1`` API paths (never for ``/_sandbox``).

    Rates are shares of API requests between 0 and 1.  One random draw per request picks at
    most one fault, in this order: drop, error, rate limit (so the shares are exact as long as
    they add up to at most 1).  ``retry_after_s`` is sent as ``Retry-After``; a whole number is
    sent as an integer (standard HTTP), a fraction such as 0.2 as a decimal (a sandbox-only
    convenience for fast tests).
    """

    latency_ms: float = 0  # fixed delay added to every API request
    jitter_ms: float = 0  # plus a uniform random delay of 0..jitter_ms
    error_rate: float = 0  # share answered with error_status (request not processed)
    error_status: int = 503
    rate_limit_rate: float = 0  # share answered 429 + Retry-After (request not processed)
    retry_after_s: float = 1
    drop_rate: float = 0  # share whose connection is closed without any answer
    max_concurrent: int = 0  # 0 = unlimited; above that, 429 + Retry-After at once
    # pause in the middle of each 200 answer of GET /contacts (after its headers and half its
    # body; the contacts have left the feed by then), so a test can kill a client in that window
    feed_pause_ms: float = 0
    seed: int | None = None  # seed of the random generator (reproducible runs)

    def validate(self) -> "Faults":
        """Raise ValueError/TypeError with a plain message if a value is out of range."""

        def number(name: str, low: float, high: float | None = None) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise TypeError(f"Fault setting {name} must be a number, got {value!r}.")
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ValueError(f"Fault setting {name} must be {bound}, got {value!r}.")

        def integer(name: str, low: int, high: int | None = None) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Fault setting {name} must be a whole number, got {value!r}.")
            if value < low or (high is not None and value > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                raise ValueError(f"Fault setting {name} must be {bound}, got {value!r}.")

        number("latency_ms", 0)
        number("jitter_ms", 0)
        number("error_rate", 0, 1)
        integer("error_status", 400, 599)
        number("rate_limit_rate", 0, 1)
        number("retry_after_s", 0)
        number("drop_rate", 0, 1)
        integer("max_concurrent", 0)
        number("feed_pause_ms", 0)
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise TypeError(f"Fault setting seed must be a whole number or null, got {self.seed!r}.")
        return self

    def replace(self, **changes: Any) -> "Faults":
        """A validated copy with some settings changed; unknown names raise TypeError."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            known = ", ".join(f.name for f in dataclasses.fields(self))
            raise TypeError(f"Unknown fault setting(s): {', '.join(unknown)}. Known: {known}.")
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _retry_after_header(seconds: float) -> str:
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:g}"


@dataclass
class _FailRule:
    """One ``fail_next`` entry: the next ``remaining`` matching API requests fail this way."""

    remaining: int
    status: int
    path: str | None  # canonical lower-case relative path, e.g. "/contacts"
    method: str | None
    retry_after: float | None
    drop: bool
    after_processing: bool

    def matches(self, method: str, rel_path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path == rel_path.lower()


def _random_fault(status: int, *, drop: bool = False, retry_after: float | None = None) -> _FailRule:
    """A one-off rule for a fault picked at random by the ``Faults`` rates."""
    return _FailRule(remaining=1, status=status, path=None, method=None, retry_after=retry_after,
                     drop=drop, after_processing=False)


@dataclass
class _Admission:
    """What was decided for one API request when it arrived."""

    over_capacity: bool = False
    counted: bool = False  # holds one of the max_concurrent slots
    delay_s: float = 0.0
    fault: _FailRule | None = None  # a fault to apply (random faults use a one-off rule)


# --------------------------------------------------------------------------------------------
# Contacts: validation and normalisation helpers
# --------------------------------------------------------------------------------------------
def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_text(value: Any, name: str) -> str:
    """A JSON scalar as stripped text; None -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise _BadRequest(f"{name} must be text, got {json.dumps(value)}.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _as_bool(value: Any, name: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _BadRequest(f"{name} must be true or false, got {json.dumps(value)}.")


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _BadRequest(f"{name} must be a whole number, got {json.dumps(value)}.")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        result = int(value.strip())
    else:
        raise _BadRequest(f"{name} must be a whole number, got {json.dumps(value)}.")
    if result < 0:
        raise _BadRequest(f"{name} must not be negative, got {result}.")
    return result


def _group_ids(value: Any, name: str) -> list[int]:
    """A list of group ids; 0 entries mean "none" and are dropped."""
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [gid for gid in (_as_int(item, f"{name} item") for item in value) if gid != 0]


def _normalise_mobile(raw: str, *, trim_zero: bool, country_code: str) -> str:
    """inwise-like: digits only; optionally drop leading zeros; add the country code if missing."""
    digits = re.sub(r"\D", "", raw)
    if trim_zero and digits.startswith("0"):
        digits = digits.lstrip("0")
    if digits and country_code and not digits.startswith(country_code):
        digits = country_code + digits
    return digits


def _mobile_ok(digits: str) -> bool:
    return MOBILE_MIN_DIGITS <= len(digits) <= MOBILE_MAX_DIGITS


def _keys_of(
    raw_email: str, raw_mobile: str, *, trim_zero: bool, country_code: str
) -> tuple[str | None, str | None]:
    """Validated (email, mobile) of a request; raises _BadRequest as inwise would answer 400."""
    email: str | None = None
    mobile: str | None = None
    if raw_email:
        if not EMAIL_RE.match(raw_email):
            raise _BadRequest(f"Invalid email address {raw_email}.")
        email = raw_email.lower()
    if raw_mobile:
        digits = _normalise_mobile(raw_mobile, trim_zero=trim_zero, country_code=country_code)
        if not _mobile_ok(digits):
            raise _BadRequest(f"Invalid mobile number {raw_mobile}.")
        mobile = digits
    if email is None and mobile is None:
        raise _BadRequest(MSG_REQUIRED)
    return email, mobile


def _field_name(raw: Any) -> str:
    name = _as_text(raw, "fields name")
    match = FIELD_NAME_RE.match(name)
    if not match:
        raise _BadRequest(f"Unknown personal field {json.dumps(name)}; use field1, field2, ...")
    return f"field{int(match.group(1))}"


def _fields_of(value: Any) -> dict[str, str]:
    """``[{"name": "field1", "content": "x"}]`` (or ``{"field1": "x"}``) -> {"field1": "x"}."""
    if value is None:
        return {}
    result: dict[str, str] = {}
    if isinstance(value, Mapping):
        for name, content in value.items():
            result[_field_name(name)] = _as_text(content, f"content of {name}")
        return result
    if not isinstance(value, list):
        raise _BadRequest('fields must be a list of {"name": "field<N>", "content": "..."}.')
    for item in value:
        if not isinstance(item, Mapping) or "name" not in item:
            raise _BadRequest('Each item of fields must be {"name": "field<N>", "content": "..."}.')
        name = _field_name(item["name"])
        result[name] = _as_text(item.get("content"), f"content of {name}")
    return result


def _field_sort_key(name: str) -> int:
    match = FIELD_NAME_RE.match(name)
    return int(match.group(1)) if match else 0


def _public(contact: dict[str, Any]) -> dict[str, Any]:
    """A stored contact in the API's shape (a fresh copy)."""
    return {
        "id": contact["id"],
        "email": contact["email"],
        "mobile_number": contact["mobile_number"],
        "fields": [
            {"name": name, "content": contact["fields"][name]}
            for name in sorted(contact["fields"], key=_field_sort_key)
        ],
        "created_date": contact["created_date"],
        "confirmation_status": contact["confirmation_status"],
        "groups": sorted(contact["groups"]),
        "external_id": contact["external_id"],
    }


_CONTACT_KEYS = {
    "id", "email", "mobile_number", "fields", "created_date",
    "confirmation_status", "groups", "external_id",
}


def _stored_from_dict(data: Any) -> dict[str, Any]:
    """A seeded / persisted contact (API shape) -> the stored form.  Raises _BadRequest."""
    if not isinstance(data, Mapping):
        raise _BadRequest(f"A contact must be a JSON object, got {json.dumps(data)[:80]}.")
    unknown = sorted(set(data) - _CONTACT_KEYS)
    if unknown:
        raise _BadRequest(
            f"Unknown contact key(s) {', '.join(unknown)}; known: {', '.join(sorted(_CONTACT_KEYS))}."
        )
    email, mobile = _keys_of(
        _as_text(data.get("email"), "email"),
        _as_text(data.get("mobile_number"), "mobile_number"),
        trim_zero=False,
        country_code="",
    )
    contact_id = data.get("id")
    status = data.get("confirmation_status")
    external = data.get("external_id")
    return {
        "id": _as_int(contact_id, "id") if contact_id not in (None, 0) else None,
        "email": email,
        "mobile_number": mobile,
        "fields": _fields_of(data.get("fields")),
        "created_date": _as_text(data.get("created_date"), "created_date") or _now_iso(),
        "confirmation_status": None if status is None else _as_text(status, "confirmation_status"),
        "groups": set(_group_ids(data.get("groups"), "groups")),
        "external_id": None if external is None else _as_text(external, "external_id"),
    }


# --------------------------------------------------------------------------------------------
# The sandbox
# --------------------------------------------------------------------------------------------
class Sandbox:
    """The local inwise API: state, rules, faults and the HTTP server around them.

    >>> with Sandbox(api_keys=("k",)) as sb:     # doctest: +SKIP
    ...     requests.post(sb.base_url + "/contacts", json={...}, headers={"X-API-Key": "k"})

    All state sits behind one lock; latency sleeps happen outside it.
    """

    def __init__(
        self,
        api_keys: Iterable[str] = ("sandbox-key",),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        seed_contacts: Iterable[dict] = (),
        state_file: str | os.PathLike | None = None,
        first_id: int = 439130001,
        verbose: bool = False,
    ) -> None:
        if isinstance(api_keys, str):
            api_keys = (api_keys,)
        self._api_keys = tuple(key for key in api_keys if key)
        if not self._api_keys:
            raise ValueError("The sandbox needs at least one non-empty API key.")
        self.host = host
        self._requested_port = port
        self._first_id = int(first_id)
        self.verbose = verbose
        self._initial_faults = dataclasses.replace(faults or Faults()).validate()
        self._faults = dataclasses.replace(self._initial_faults)
        self._rng = random.Random(self._faults.seed)
        self._state_file = Path(state_file) if state_file is not None else None

        self._lock = threading.Lock()
        self._contacts: dict[int, dict[str, Any]] = {}
        self._by_email: dict[str, int] = {}
        self._by_mobile: dict[str, int] = {}
        self._feed: list[int] = []  # created ids not yet returned by GET /contacts, oldest first
        self._pages_handed_out = 0
        self._last_page: dict[str, Any] | None = None
        self._paused = threading.Condition()
        self._answers_paused = 0  # feed answers stopped in the middle of their body right now
        self._next_id = self._first_id
        self._fail_rules: list[_FailRule] = []
        self._stats: dict[str, dict[str, int]] = {}
        self._total = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._busy = 0  # requests holding a max_concurrent slot

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()

        if self._state_file is not None and self._state_file.exists():
            self._load_state(self._state_file)
        seeds = list(seed_contacts)
        if seeds and not self._contacts:
            try:
                self.add_contacts(seeds)
            except ValueError as exc:
                raise SandboxError(f"The seed contacts are not valid: {exc}") from None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> "Sandbox":
        """Start serving in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running.")
        try:
            server = _Server((self.host, self._requested_port), _Handler)
        except OSError as exc:
            raise SandboxError(
                f"The inwise sandbox cannot listen on {self.host}:{self._requested_port} "
                f"({exc.strerror or exc}). Is another sandbox running? Pick another port with --port."
            ) from None
        server.sandbox = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"inwise-sandbox:{server.server_address[1]}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port actually bound (useful with port=0)."""
        if self._server is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no path)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/rest/v1``: what a client uses instead of api.inwise.com."""
        return self.root_url + API_PREFIX

    @property
    def inspect_url(self) -> str:
        """``http://127.0.0.1:<port>/_sandbox`` (inspection/control, not part of the inwise API)."""
        return self.root_url + INSPECT_PREFIX

    # ---------------------------------------------------------------- control (Python API)
    @property
    def faults(self) -> Faults:
        """A copy of the current fault settings."""
        with self._lock:
            return dataclasses.replace(self._faults)

    def set_faults(self, **changes: Any) -> None:
        """Change some fault settings at runtime, e.g. ``set_faults(latency_ms=20)``."""
        with self._lock:
            new = self._faults.replace(**changes)
            if "seed" in changes:
                self._rng = random.Random(new.seed)
            self._faults = new

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 503,
        path: str | None = None,
        method: str | None = None,
        retry_after: float | None = None,
        drop: bool = False,
        after_processing: bool = False,
    ) -> None:
        """The next ``count`` matching API requests fail; then normal service resumes.

        ``path`` is relative to /rest/v1 (``"/contacts"``; the full ``"/rest/v1/contacts"`` is
        accepted too) and ``method`` e.g. ``"POST"``; None matches any.  The request is answered
        with ``status`` (plus ``Retry-After`` if ``retry_after`` is given) or, with ``drop``,
        its connection is closed without an answer.  Such a request is not processed, unless
        ``after_processing``: then it is processed (state changes) and only the answer is
        replaced by the fault, like an answer lost in transit.  Rules queue up in call order.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"fail_next count must be a whole number >= 0, got {count!r}.")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"fail_next status must be an HTTP error status 400-599, got {status!r}.")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)) or retry_after < 0
        ):
            raise ValueError(f"fail_next retry_after must be a number >= 0, got {retry_after!r}.")
        rel = None
        if path is not None:
            rel = str(path).split("?", 1)[0]
            if rel.startswith(API_PREFIX):
                rel = rel[len(API_PREFIX):]
            rel = "/" + rel.strip("/")
            rel = rel.lower()
        if count == 0:
            return
        rule = _FailRule(
            remaining=count, status=status, path=rel, method=method.upper() if method else None,
            retry_after=retry_after, drop=bool(drop), after_processing=bool(after_processing),
        )
        with self._lock:
            self._fail_rules.append(rule)

    def add_contacts(self, contacts: Iterable[dict]) -> list[int]:
        """Add contacts that already exist in "inwise" (not in the GET /contacts feed).

        Keys as in the API: email, mobile_number (international digits), fields (list of
        ``{"name", "content"}`` or a ``{"field1": ...}`` dict), groups, confirmation_status,
        external_id, optionally id and created_date.  All or nothing: a contact that is invalid
        or whose email/mobile/id already exists raises ValueError and nothing is added.
        """
        items = list(contacts)
        try:
            prepared = [_stored_from_dict(item) for item in items]
        except _BadRequest as exc:
            raise ValueError(exc.message) from None
        with self._lock:
            ids = self._insert_seeds_locked(prepared)
            self._persist_locked()
        return ids

    def contacts(self) -> list[dict]:
        """Every contact (copies, by id), including groups, fields and confirmation status."""
        with self._lock:
            return [_public(self._contacts[cid]) for cid in sorted(self._contacts)]

    def feed_pending(self) -> int:
        """How many created contacts GET /contacts has not returned yet."""
        with self._lock:
            return len(self._feed)

    def feed_status(self) -> dict[str, Any]:
        """The feed as a crash test needs it: ``{"pending", "pages_handed_out", "last_page":
        {"contacts", "ids"} | None, "answers_paused"}`` (pages handed out have left the feed)."""
        with self._lock:
            status = {"pending": len(self._feed), "pages_handed_out": self._pages_handed_out,
                      "last_page": None if self._last_page is None else dict(self._last_page)}
        with self._paused:
            status["answers_paused"] = self._answers_paused
        return status

    def wait_for_paused_feed_answer(self, timeout: float) -> bool:
        """Wait until a feed answer is paused in the middle of its body (``Faults.feed_pause_ms``)."""
        with self._paused:
            return self._paused.wait_for(lambda: self._answers_paused > 0, timeout=timeout)

    def _feed_pause(self, pause_s: float) -> None:
        with self._paused:
            self._answers_paused += 1
            self._paused.notify_all()
        try:
            time.sleep(pause_s)
        finally:
            with self._paused:
                self._answers_paused -= 1

    def stats(self) -> dict:
        """API request counts: ``{"requests": {"POST /contacts": {"200": 3}}, "total", "max_in_flight", "in_flight"}``."""
        with self._lock:
            return {
                "requests": {key: dict(by_status) for key, by_status in sorted(self._stats.items())},
                "total": self._total,
                "max_in_flight": self._max_in_flight,
                "in_flight": self._in_flight,
            }

    def reset_stats(self) -> None:
        """Zero the request counters; max_in_flight restarts from the requests in flight now."""
        with self._lock:
            self._stats = {}
            self._total = 0
            self._max_in_flight = self._in_flight

    def reset(self) -> None:
        """Empty everything: contacts, feed, ids, counters, fail_next queue; faults back to the start values."""
        with self._lock:
            self._contacts.clear()
            self._by_email.clear()
            self._by_mobile.clear()
            self._feed.clear()
            self._next_id = self._first_id
            self._fail_rules.clear()
            self._stats = {}
            self._total = 0
            self._max_in_flight = self._in_flight
            self._faults = dataclasses.replace(self._initial_faults)
            self._rng = random.Random(self._faults.seed)
            self._persist_locked()

    # ---------------------------------------------------------------- state helpers (lock held)
    def _new_id_locked(self) -> int:
        contact_id = self._next_id
        self._next_id += 1
        return contact_id

    def _index_locked(self, contact: dict[str, Any]) -> None:
        if contact["email"]:
            self._by_email[contact["email"]] = contact["id"]
        if contact["mobile_number"]:
            self._by_mobile[contact["mobile_number"]] = contact["id"]

    def _insert_seeds_locked(self, prepared: list[dict[str, Any]]) -> list[int]:
        emails: set[str] = set()
        mobiles: set[str] = set()
        ids: set[int] = set()
        for contact in prepared:  # check everything before changing anything
            email, mobile, cid = contact["email"], contact["mobile_number"], contact["id"]
            if email and (email in self._by_email or email in emails):
                raise ValueError(f"The email {email} already belongs to another contact.")
            if mobile and (mobile in self._by_mobile or mobile in mobiles):
                raise ValueError(f"The mobile number {mobile} already belongs to another contact.")
            if cid is not None and (cid in self._contacts or cid in ids):
                raise ValueError(f"The contact ID #{cid} already exists.")
            if email:
                emails.add(email)
            if mobile:
                mobiles.add(mobile)
            if cid is not None:
                ids.add(cid)
        result = []
        for contact in prepared:
            if contact["id"] is None:
                while self._next_id in self._contacts or self._next_id in ids:
                    self._next_id += 1
                contact["id"] = self._new_id_locked()
            else:
                self._next_id = max(self._next_id, contact["id"] + 1)
            self._contacts[contact["id"]] = contact
            self._index_locked(contact)
            result.append(contact["id"])
        return result

    def _persist_locked(self) -> None:
        """Write the state file atomically, if there is one.

        Not durable (no fsync): a reader sees the old or the new file whole, which is all a demo
        needs, and it keeps thousands of small writes fast.
        """
        if self._state_file is None:
            return
        data = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "next_id": self._next_id,
            "feed_pending": list(self._feed),
            "contacts": [_public(self._contacts[cid]) for cid in sorted(self._contacts)],
        }
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._state_file, json.dumps(data, ensure_ascii=False), durable=False)

    def _load_state(self, path: Path) -> None:
        def bad(why: str) -> SandboxError:
            return SandboxError(
                f"The sandbox state file {path} cannot be used: {why}. "
                "Delete it (or choose another state file) to start with an empty sandbox."
            )

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise bad(exc.strerror or str(exc)) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise bad(f"it is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise bad("it is not a sandbox state file")
        if data.get("version") != STATE_VERSION:
            raise bad(f"unsupported version {data.get('version')!r}")
        contacts = data.get("contacts")
        feed = data.get("feed_pending")
        next_id = data.get("next_id")
        if not isinstance(contacts, list) or not isinstance(feed, list) or not isinstance(next_id, int):
            raise bad("contacts, feed_pending or next_id is missing")
        try:
            prepared = [_stored_from_dict(item) for item in contacts]
            if any(c["id"] is None for c in prepared):
                raise ValueError("a contact has no id")
            with self._lock:
                self._insert_seeds_locked(prepared)
                unknown = [cid for cid in feed if cid not in self._contacts]
                if unknown:
                    raise ValueError(f"feed_pending lists unknown contact ids {unknown[:5]}")
                self._feed = [int(cid) for cid in feed]
                self._next_id = max(self._next_id, next_id)
        except (_BadRequest, ValueError) as exc:
            raise bad(getattr(exc, "message", str(exc))) from None

    # ---------------------------------------------------------------- request admission (faults)
    def _admit(self, method: str, rel_path: str) -> _Admission:
        """Called when an API request arrives: count it, check capacity, pick a fault and delay."""
        decision = _Admission()
        with self._lock:
            faults = self._faults
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            if faults.max_concurrent and self._busy >= faults.max_concurrent:
                decision.over_capacity = True
                return decision
            self._busy += 1
            decision.counted = True
            for rule in self._fail_rules:
                if rule.matches(method, rel_path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._fail_rules.remove(rule)
                    decision.fault = rule
                    break
            draw = self._rng.random()
            if decision.fault is None:
                if draw < faults.drop_rate:
                    decision.fault = _random_fault(0, drop=True)
                elif draw < faults.drop_rate + faults.error_rate:
                    decision.fault = _random_fault(faults.error_status)
                elif draw < faults.drop_rate + faults.error_rate + faults.rate_limit_rate:
                    decision.fault = _random_fault(429, retry_after=faults.retry_after_s)
            jitter = self._rng.uniform(0, faults.jitter_ms) if faults.jitter_ms else 0.0
            decision.delay_s = (faults.latency_ms + jitter) / 1000.0
        return decision

    def _finish(self, decision: _Admission, stat_key: str, outcome: str) -> None:
        """Record the outcome (status or "dropped") and leave the in-flight count."""
        with self._lock:
            by_status = self._stats.setdefault(stat_key, {})
            by_status[outcome] = by_status.get(outcome, 0) + 1
            self._total += 1
            self._in_flight -= 1
            if decision.counted:
                self._busy -= 1

    def _key_ok(self, key: str | None) -> bool:
        if not key:
            return False
        given = key.encode("utf-8", "surrogateescape")
        ok = False
        for candidate in self._api_keys:  # constant-time comparison, no early exit
            ok |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogateescape"))
        return ok

    # ---------------------------------------------------------------- the API itself
    def _process_api(
        self, method: str, rel_path: str, body: bytes, api_key: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON payload, extra headers) for one API request that passed fault injection."""
        if not self._key_ok(api_key):
            return 401, {"message": MSG_INVALID_KEY}, {}
        route = _canonical(rel_path, _API_ROUTES)
        if route is None:
            return 404, {"message": f"No such inwise API path: {API_PREFIX}{rel_path}"}, {}
        if method not in _API_ROUTES[route]:
            allowed = ", ".join(_API_ROUTES[route])
            return 405, {"message": f"{method} is not allowed on {API_PREFIX}{route}; use {allowed}."}, {
                "Allow": allowed
            }
        try:
            if route == "/contacts" and method == "GET":
                return 200, self._feed_page(), {}
            payload = _parse_json(body)
            if route == "/contacts":
                return 200, self._upsert_request(payload), {}
            return 200, self._batch_insert(payload), {}
        except _BadRequest as exc:
            return exc.status, {"message": exc.message}, {}

    def _feed_page(self) -> list[dict]:
        with self._lock:
            take = min(FEED_PAGE_SIZE, len(self._feed))
            if take == 0:
                return []
            ids = self._feed[-take:]
            del self._feed[-take:]
            page = [_public(self._contacts[cid]) for cid in reversed(ids)]
            self._pages_handed_out += 1
            self._last_page = {"contacts": len(page), "ids": [c["id"] for c in page]}
            self._persist_locked()
        return page

    def _upsert_request(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise _BadRequest("The request body must be a JSON object (one contact).")
        country = re.sub(r"\D", "", _as_text(payload.get("mobile_number_default_country_code"), "mobile_number_default_country_code"))
        add_country = _as_bool(
            payload.get("add_default_country_to_mobile_number_only_if_not_exists"),
            "add_default_country_to_mobile_number_only_if_not_exists",
        )
        email, mobile = _keys_of(
            _as_text(payload.get("email"), "email"),
            _as_text(payload.get("mobile_number"), "mobile_number"),
            trim_zero=_as_bool(payload.get("trim_mobile_number_leading_zero"), "trim_mobile_number_leading_zero"),
            country_code=country if add_country else "",
        )
        contact_id = _as_int(payload.get("id") or 0, "id")
        status = payload.get("confirmation_status")
        external = payload.get("external_id")
        change = {
            "fields": _fields_of(payload.get("fields")),
            "clear_fields": _as_bool(payload.get("clear_existing_fields"), "clear_existing_fields"),
            "add_groups": _group_ids(payload.get("add_to_groups_ids"), "add_to_groups_ids"),
            "remove_groups": _group_ids(payload.get("remove_from_groups_ids"), "remove_from_groups_ids"),
            "only_these_groups": _as_bool(payload.get("remove_from_all_other_groups"), "remove_from_all_other_groups"),
            "confirmation_status": None if status is None else _as_text(status, "confirmation_status"),
            "external_id": None if external is None else _as_text(external, "external_id"),
        }
        with self._lock:
            contact, created = self._upsert_locked(email, mobile, change, contact_id=contact_id)
            self._persist_locked()
            return {
                "id": contact["id"],
                "email": contact["email"],
                "mobile_number": contact["mobile_number"],
                "created": created,
            }

    def _upsert_locked(
        self, email: str | None, mobile: str | None, change: dict[str, Any], *, contact_id: int = 0
    ) -> tuple[dict[str, Any], bool]:
        """Create or update one contact by the inwise rules.  Raises _BadRequest (422/400)."""
        email_owner = self._by_email.get(email) if email else None
        mobile_owner = self._by_mobile.get(mobile) if mobile else None
        if contact_id:
            target = self._contacts.get(contact_id)
            if target is None:
                raise _BadRequest(f"Contact ID #{contact_id} does not exist.", 404)
            parts = []
            if email_owner is not None and email_owner != contact_id:
                parts.append(MSG_CONFLICT_EMAIL.format(id=email_owner))
            if mobile_owner is not None and mobile_owner != contact_id:
                parts.append(MSG_CONFLICT_MOBILE.format(id=mobile_owner))
            if parts:
                raise _BadRequest("".join(parts), 422)
            # Addressed by id: the given email/mobile replace the stored ones.
            for key, value, index in (("email", email, self._by_email), ("mobile_number", mobile, self._by_mobile)):
                if value and target[key] != value:
                    if target[key]:
                        index.pop(target[key], None)
                    target[key] = value
                    index[value] = contact_id
            self._apply_change(target, change)
            return target, False
        if email_owner is not None and mobile_owner is not None and email_owner != mobile_owner:
            raise _BadRequest(
                MSG_CONFLICT_EMAIL.format(id=email_owner) + MSG_CONFLICT_MOBILE.format(id=mobile_owner), 422
            )
        owner = email_owner if email_owner is not None else mobile_owner
        if owner is not None:
            target = self._contacts[owner]
            if email and not target["email"]:
                target["email"] = email
                self._by_email[email] = owner
            if mobile and not target["mobile_number"]:
                target["mobile_number"] = mobile
                self._by_mobile[mobile] = owner
            self._apply_change(target, change)
            return target, False
        contact = {
            "id": self._new_id_locked(),
            "email": email,
            "mobile_number": mobile,
            "fields": {},
            "created_date": _now_iso(),
            "confirmation_status": None,
            "groups": set(),
            "external_id": None,
        }
        while contact["id"] in self._contacts:  # only possible after odd seeding; stay safe
            contact["id"] = self._new_id_locked()
        self._apply_change(contact, change)
        self._contacts[contact["id"]] = contact
        self._index_locked(contact)
        self._feed.append(contact["id"])
        return contact, True

    @staticmethod
    def _apply_change(contact: dict[str, Any], change: dict[str, Any]) -> None:
        if change.get("clear_fields"):
            contact["fields"] = dict(change.get("fields", {}))
        else:
            contact["fields"].update(change.get("fields", {}))
        if change.get("only_these_groups"):
            contact["groups"] = set()
        contact["groups"].update(change.get("add_groups", ()))
        contact["groups"].difference_update(change.get("remove_groups", ()))
        if change.get("confirmation_status") is not None:
            contact["confirmation_status"] = change["confirmation_status"]
        if change.get("external_id") is not None:
            contact["external_id"] = change["external_id"]

    def _batch_insert(self, payload: Any) -> dict[str, int]:
        if not isinstance(payload, dict):
            raise _BadRequest("The request body must be a JSON object with csv_file and fields_mapping.")
        csv_text = payload.get("csv_file")
        if not isinstance(csv_text, str) or not csv_text.strip():
            raise _BadRequest("csv_file is required: the CSV text itself, header row first.")
        mapping = payload.get("fields_mapping")
        if not isinstance(mapping, list) or not mapping:
            raise _BadRequest('fields_mapping is required: a list of {"field_name", "file_column_name"}.')
        try:
            rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"), newline="")))
        except csv.Error as exc:
            raise _BadRequest(f"csv_file is not valid CSV: {exc}.") from None
        if not rows or not any(cell.strip() for cell in rows[0]):
            raise _BadRequest("csv_file has no header row.")
        header = [cell.strip() for cell in rows[0]]
        columns: dict[str, int] = {}
        for index, name in enumerate(header):
            columns.setdefault(name, index)
        email_col: int | None = None
        mobile_col: int | None = None
        field_cols: list[tuple[str, int]] = []
        for item in mapping:
            if not isinstance(item, dict) or not isinstance(item.get("field_name"), str) \
                    or not isinstance(item.get("file_column_name"), str):
                raise _BadRequest(
                    'Each item of fields_mapping must be {"field_name": "...", "file_column_name": "..."}.'
                )
            field_name = item["field_name"].strip()
            column = item["file_column_name"].strip()
            if column not in columns:
                raise _BadRequest(f"fields_mapping names the column {json.dumps(column, ensure_ascii=False)}, "
                                  "which is not in the CSV header.")
            if field_name == "[Email]":
                email_col = columns[column]
            elif field_name == "[MobileNumber]":
                mobile_col = columns[column]
            elif field_name.isdigit() and int(field_name) > 0:
                field_cols.append((f"field{int(field_name)}", columns[column]))
            else:
                raise _BadRequest(f"Unknown field_name {json.dumps(field_name, ensure_ascii=False)} in "
                                  'fields_mapping; use "[Email]", "[MobileNumber]" or a field number like "1".')
        if email_col is None and mobile_col is None:
            raise _BadRequest("fields_mapping must map [Email] or [MobileNumber].")
        group_raw = payload.get("group_id")
        group = _as_int(group_raw, "group_id") if group_raw not in (None, "") else 0
        update_existing = _as_bool(payload.get("updateExistingContacts"), "updateExistingContacts")
        country = re.sub(r"\D", "", _as_text(payload.get("country_code"), "country_code"))
        trim = _as_bool(payload.get("trim_leading_zero"), "trim_leading_zero")

        def cell(row: list[str], index: int | None) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        result = {"total": 0, "created": 0, "updated": 0, "failed": 0, "skipped": 0}
        with self._lock:
            for row in rows[1:]:
                if not any(value.strip() for value in row):
                    continue  # blank line
                result["total"] += 1
                try:
                    email, mobile = _keys_of(cell(row, email_col), cell(row, mobile_col),
                                             trim_zero=trim, country_code=country)
                except _BadRequest:
                    result["failed"] += 1
                    continue
                email_owner = self._by_email.get(email) if email else None
                mobile_owner = self._by_mobile.get(mobile) if mobile else None
                if email_owner is not None and mobile_owner is not None and email_owner != mobile_owner:
                    result["failed"] += 1
                    continue
                if (email_owner is not None or mobile_owner is not None) and not update_existing:
                    result["skipped"] += 1
                    continue
                change = {
                    "fields": {name: cell(row, index) for name, index in field_cols if cell(row, index)},
                    "add_groups": [group] if group else [],
                }
                _, created = self._upsert_locked(email, mobile, change)
                result["created" if created else "updated"] += 1
            self._persist_locked()
        return result

    # ---------------------------------------------------------------- inspection paths
    def _process_inspect(self, method: str, rel_path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        route = _canonical(rel_path, _INSPECT_ROUTES)
        if route is None:
            known = ", ".join(INSPECT_PREFIX + path for path in _INSPECT_ROUTES)
            return 404, {"message": f"No such sandbox path: {INSPECT_PREFIX}{rel_path}. Known: {known}."}, {}
        if method not in _INSPECT_ROUTES[route]:
            allowed = ", ".join(_INSPECT_ROUTES[route])
            return 405, {"message": f"{method} is not allowed on {INSPECT_PREFIX}{route}; use {allowed}."}, {
                "Allow": allowed
            }
        try:
            if method == "GET":
                if route == "/contacts":
                    return 200, self.contacts(), {}
                if route == "/stats":
                    return 200, self.stats(), {}
                return 200, self.faults.to_dict(), {}
            payload = _parse_json(body) if body.strip() else {}
            if route == "/contacts":
                items = payload.get("contacts") if isinstance(payload, dict) else payload
                if not isinstance(items, list):
                    raise _BadRequest('Send a JSON list of contacts (or {"contacts": [...]}).')
                return 200, {"ids": self.add_contacts(items)}, {}
            if route == "/faults":
                if not isinstance(payload, dict):
                    raise _BadRequest("Send a JSON object of fault settings.")
                self.set_faults(**payload)
                return 200, self.faults.to_dict(), {}
            if route == "/fail_next":
                if not isinstance(payload, dict):
                    raise _BadRequest("Send a JSON object of fail_next arguments.")
                allowed_args = {"count", "status", "path", "method", "retry_after", "drop", "after_processing"}
                unknown = sorted(set(payload) - allowed_args)
                if unknown:
                    raise _BadRequest(f"Unknown fail_next argument(s): {', '.join(unknown)}.")
                self.fail_next(**payload)
                return 200, {"ok": True}, {}
            if route == "/reset_stats":
                self.reset_stats()
                return 200, {"ok": True}, {}
            self.reset()
            return 200, {"ok": True}, {}
        except _BadRequest as exc:
            return exc.status, {"message": exc.message}, {}
        except (TypeError, ValueError) as exc:
            return 400, {"message": str(exc)}, {}

    # ---------------------------------------------------------------- logging
    def _log(self, line: str) -> None:
        if self.verbose:
            with self._log_lock:
                print(line, file=sys.stderr, flush=True)


def _canonical(rel_path: str, routes: Mapping[str, Any]) -> str | None:
    """Match a relative path to a route, ignoring case and a trailing slash."""
    wanted = "/" + rel_path.strip("/").lower()
    for route in routes:
        if route.lower() == wanted:
            return route
    return None


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        raise _BadRequest("The request body is empty; send JSON.")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _BadRequest("The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise _BadRequest(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its open connections so stop() can close them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: Sandbox

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def close_all_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # the client went away; nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "inwise-sandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        """Silence http.server's own stderr logging; see _log_request."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unsupported method...) as JSON, then close."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        data = json.dumps({"message": text}, ensure_ascii=False).encode("utf-8")
        self.send_response(code, text)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        sandbox = self.server.sandbox
        started = time.monotonic()
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self.close_connection = True
            self._send_json(exc.status, {"message": exc.message})
            self._log_request(method, path, str(exc.status), started)
            return
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            outcome = self._api(sandbox, method, path[len(API_PREFIX):] or "/", body)
        elif path == INSPECT_PREFIX or path.startswith(INSPECT_PREFIX + "/"):
            status, payload, headers = self._guarded(
                lambda: sandbox._process_inspect(method, path[len(INSPECT_PREFIX):] or "/", body)
            )
            self._send_json(status, payload, headers)
            outcome = str(status)
        else:
            self._send_json(404, {"message": f"Not found: {path}. The inwise API is under {API_PREFIX}."})
            outcome = "404"
        self._log_request(method, path, outcome, started)

    def _api(self, sandbox: Sandbox, method: str, rel_path: str, body: bytes) -> str:
        """Serve one API request with fault injection; returns the outcome for the log."""
        route = _canonical(rel_path, _API_ROUTES)
        stat_key = f"{method} {route or rel_path}"
        decision = sandbox._admit(method, route or rel_path)
        finished = False
        try:
            if decision.over_capacity:
                retry = sandbox.faults.retry_after_s
                status, payload, headers = 429, {"message": "Too many concurrent requests; retry later."}, {
                    "Retry-After": _retry_after_header(retry)
                }
            else:
                if decision.delay_s > 0:
                    time.sleep(decision.delay_s)
                fault = decision.fault
                if fault is not None and not fault.after_processing:
                    status, payload, headers = 0, None, {}
                else:
                    status, payload, headers = self._guarded(
                        lambda: sandbox._process_api(method, rel_path, body, self.headers.get("X-API-Key"))
                    )
                if fault is not None:
                    if fault.drop:
                        sandbox._finish(decision, stat_key, "dropped")
                        finished = True
                        self._drop()
                        return "dropped"
                    status = fault.status
                    payload = {"message": _fault_message(status)}
                    headers = {"Retry-After": _retry_after_header(fault.retry_after)} if fault.retry_after is not None else {}
            pause_s = 0.0
            if not decision.over_capacity and decision.fault is None and status == 200 and method == "GET" \
                    and route == "/contacts":
                pause_s = sandbox.faults.feed_pause_ms / 1000.0
            sandbox._finish(decision, stat_key, str(status))
            finished = True
            self._send_json(status, payload, headers, pause_s=pause_s)
            return str(status)
        finally:
            if not finished:
                sandbox._finish(decision, stat_key, "error")

    def _guarded(self, call: Callable[[], tuple[int, Any, dict[str, str]]]) -> tuple[int, Any, dict[str, str]]:
        try:
            return call()
        except Exception as exc:  # a sandbox bug: answer 500 and show the traceback
            traceback.print_exc(file=sys.stderr)
            return 500, {"message": f"Internal sandbox error: {type(exc).__name__}."}, {}

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest("Invalid Content-Length header.") from None
        if length < 0:
            raise _BadRequest("Invalid Content-Length header.")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
        data = self.rfile.read(length)
        if len(data) < length:
            raise _BadRequest("The request body is shorter than its Content-Length.")
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("Invalid chunked request body.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            size_total += size
            if size_total > MAX_BODY_BYTES:
                raise _BadRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None, *,
                   pause_s: float = 0.0) -> None:
        """Send a JSON answer; with ``pause_s``, stop after half the body for that long first."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if pause_s > 0:
            half = len(data) // 2
            self.wfile.write(data[:half])
            self.wfile.flush()
            self.server.sandbox._feed_pause(pause_s)
            data = data[half:]
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the connection abruptly: the client gets no status line at all."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _log_request(self, method: str, path: str, outcome: str, started: float) -> None:
        sandbox = self.server.sandbox
        if sandbox.verbose:  # path without query string; headers (the API key) are never logged
            elapsed = (time.monotonic() - started) * 1000
            sandbox._log(f"sandbox: {self.client_address[0]} {method} {path} -> {outcome} ({elapsed:.0f} ms)")


def _fault_message(status: int) -> str:
    if status == 429:
        return "Too many requests; retry later. (sandbox fault injection)"
    if status >= 500:
        return "Service temporarily unavailable. (sandbox fault injection)"
    return "Request refused. (sandbox fault injection)"


# --------------------------------------------------------------------------------------------
# Blocking entry point for the CLI
# --------------------------------------------------------------------------------------------
def _read_seed_file(path: str | os.PathLike) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SandboxError(f"Cannot read the seed file {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SandboxError(f"The seed file {path} is not valid JSON: {exc}.") from None
    if isinstance(data, dict):
        data = data.get("contacts")
    if not isinstance(data, list):
        raise SandboxError(f'The seed file {path} must hold a JSON list of contacts (or {{"contacts": [...]}}).')
    return data


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    api_keys: Iterable[str] = ("sandbox-key",),
    faults: Faults | None = None,
    state_file: str | os.PathLike | None = None,
    seed_file: str | os.PathLike | None = None,
    verbose: bool = True,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM); raises SandboxError on setup problems.

    Prints one line, ``inwise sandbox listening on http://127.0.0.1:PORT/rest/v1 (API key: set)``;
    the key itself is never printed or logged.  ``seed_file`` (a JSON list of contacts) is added
    as existing contacts only when the (possibly persisted) state is empty.
    """
    seeds = _read_seed_file(seed_file) if seed_file is not None else []
    try:
        sandbox = Sandbox(api_keys, host=host, port=port, faults=faults, state_file=state_file, verbose=verbose)
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    if seeds and not sandbox.contacts():
        try:
            sandbox.add_contacts(seeds)
        except ValueError as exc:
            raise SandboxError(f"The seed file {seed_file} has an invalid contact: {exc}") from None
    stop = threading.Event()
    previous: Any = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sandbox.start()
    try:
        print(f"inwise sandbox listening on {sandbox.base_url} (API key: set)", flush=True)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        print("inwise sandbox stopped.", flush=True)
