"""``SheetsEmulator``: the Sheets API on 127.0.0.1, its accounts, faults and test controls.

>>> with SheetsEmulator() as emu:                                   # doctest: +SKIP
...     key = emu.create_spreadsheet({"Contacts": [["Email", "Mobile"], ["a@example.com", 541111111]]})
...     # point gspread at emu.api_url (see sheets_connector.gsheets) with token emu.token

Paths:

- ``/v4/spreadsheets/...``  the API (see ``api.py``); needs ``Authorization: Bearer <token>``;
  401 without a known token, 404 for an unknown spreadsheet, 403 when the spreadsheet is not
  shared with the token's account (or it may only read it and the request writes).
- ``POST /token``           an OAuth token endpoint: the JWT-bearer grant of a service-account
  key file (signature checked against the public key given to ``add_service_account``) and
  the refresh-token grant of an authorized-user file (``add_oauth_user``).
- ``/_emulator/...``        inspection and control, clearly not Google's: request counts,
  fault injection, creating spreadsheets, inserting/deleting/sorting rows.  No token needed.

Requests are counted by Google's method id (``sheets.spreadsheets.values.batchGet``...).
Faults (429 with Google's RESOURCE_EXHAUSTED body, 5xx, or one of Google's own errors by name, see
``google_errors.py``) apply to API requests only, either
to the next N (``fail_next``) or to a share of them (``set_faults``).  ``on_request`` runs a
test's function just before the n-th request of a method (or of any method, ``"*"``) is
served: that is how a test sorts the rows exactly between the connector's read and its write.
``staff_update`` applies batchUpdate requests as staff in the UI would (insert, move, hide or
delete columns, filters, merges, notes), uncounted.
"""
from __future__ import annotations

import base64
import json
import random
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from ..errors import ConnectorError
from ..localserver import LocalServer
from . import api, google_errors
from .a1 import column_index
from .book import ApiError, Protection, Sheet, Spreadsheet, no_permission, not_found
from .cells import Cell, formatted, python_cell, unformatted

EMULATOR_TOKEN = "emulator-token"  # accepted by default; not a secret: the emulator only listens on loopback
EMULATOR_ACCOUNT = "emulator-user@example.com"
CONTROL_PREFIX = "/_emulator"
TOKEN_PATH = "/token"
MAX_BODY_BYTES = 64 * 1024 * 1024
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

_FAULT_MESSAGES = {
    429: ("Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of "
          "service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.", "RESOURCE_EXHAUSTED"),
    500: ("Internal error encountered.", "INTERNAL"),
    502: ("Bad Gateway", "UNAVAILABLE"),
    503: ("The service is currently unavailable.", "UNAVAILABLE"),
    504: ("The request timed out. Please try again.", "DEADLINE_EXCEEDED"),
}


class EmulatorError(ConnectorError):
    """The emulator cannot start (port in use) or a control call is wrong."""


@dataclass
class _Fail:
    remaining: int
    status: int
    method: str | None
    retry_after: float | None
    error: str | None = None  # one of google_errors.NAMES: Google's own body instead of a generic fault


@dataclass
class _Hook:
    method: str
    countdown: int
    action: Callable[[], None]


class SheetsEmulator(LocalServer):
    """Spreadsheets in memory behind a real HTTP server; all state sits behind one lock."""

    thread_name = "sheets-emulator"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str | None = EMULATOR_TOKEN,
                 account: str = EMULATOR_ACCOUNT, verbose: bool = False) -> None:
        super().__init__(host, port)
        self.verbose = verbose
        self._lock = threading.RLock()
        self._books: dict[str, Spreadsheet] = {}
        self._tokens: dict[str, str] = {}
        self._service_accounts: dict[str, str] = {}  # email -> public key PEM
        self._oauth_users: dict[str, str] = {}  # refresh token -> email
        self._counts: dict[str, int] = {}
        self._fails: list[_Fail] = []
        self._hooks: list[_Hook] = []
        self._error_rate = 0.0
        self._error_status = 503
        self._rate_limit_rate = 0.0
        self._rng = random.Random(0)
        self.token = token
        self.account = account
        if token:
            self._tokens[token] = account

    # ---------------------------------------------------------------- lifecycle
    def _bind(self) -> _Server:
        server = _Server((self.host, self._requested_port), _Handler)
        server.emulator = self
        return server

    def _cannot_listen(self, exc: OSError) -> EmulatorError:
        return EmulatorError(f"The Sheets emulator cannot listen on {self.host}:{self._requested_port} "
                             f"({exc.strerror or exc}). Pick another port.")

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:<port>``: what replaces ``https://sheets.googleapis.com``."""
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return self.api_url + TOKEN_PATH

    @property
    def control_url(self) -> str:
        return self.api_url + CONTROL_PREFIX

    # ---------------------------------------------------------------- accounts
    def add_token(self, token: str, account: str) -> None:
        with self._lock:
            self._tokens[token] = account

    def add_service_account(self, email: str, public_key_pem: str | bytes) -> None:
        """Accept JWTs signed by this key for ``email`` at ``POST /token``."""
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        with self._lock:
            self._service_accounts[email] = pem

    def add_oauth_user(self, email: str, refresh_token: str) -> None:
        with self._lock:
            self._oauth_users[refresh_token] = email

    # ---------------------------------------------------------------- spreadsheets
    def create_spreadsheet(
        self,
        sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        title: str = "Contacts",
        key: str | None = None,
        locale: str = "en_US",
        time_zone: str = "Asia/Jerusalem",
        shared_with: Mapping[str, str] | Iterable[str] | None = None,
        rows: int | None = None,
        cols: int | None = None,
    ) -> str:
        """A new spreadsheet from Python rows (see ``cells.python_cell`` for the typing); returns
        its key.  ``shared_with``: accounts (as writers) or {account: "writer"|"reader"}; None
        shares it with everyone.  The grid is ``rows`` x ``cols`` (default: 1000 x 26, larger
        if the data needs it)."""
        key = key or secrets.token_urlsafe(33)
        book = Spreadsheet(key, title, locale_name=locale, time_zone=time_zone)
        if shared_with is not None:
            book.shared_with = dict(shared_with) if isinstance(shared_with, Mapping) else {a: "writer" for a in shared_with}
        for name, data in (sheets or {"Sheet1": []}).items():
            n_rows = rows or max(1000, len(data))
            n_cols = cols or max(26, max((len(r) for r in data), default=0))
            sheet = book.add_sheet(name, n_rows, n_cols)
            self._fill(book, sheet, 0, data)
        with self._lock:
            if key in self._books:
                raise EmulatorError(f"A spreadsheet with key {key} already exists.")
            self._books[key] = book
        return key

    @staticmethod
    def _fill(book: Spreadsheet, sheet: Sheet, top: int, data: Sequence[Sequence[Any]]) -> None:
        locale = book.locale
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                cell = python_cell(value, locale)
                if cell is not None:
                    sheet.put(top + i, j, cell)

    def _book(self, key: str) -> Spreadsheet:
        book = self._books.get(key)
        if book is None:
            raise EmulatorError(f"No spreadsheet with key {key}.")
        return book

    def _sheet(self, key: str, tab: str | None) -> Sheet:
        try:
            return self._book(key).sheet(tab)
        except ApiError:
            raise EmulatorError(f"No tab {tab!r} in spreadsheet {key}.") from None

    def url(self, key: str) -> str:
        return f"https://docs.google.com/spreadsheets/d/{key}/edit"

    def share(self, key: str, account: str, role: str = "writer") -> None:
        with self._lock:
            book = self._book(key)
            book.shared_with = dict(book.shared_with or {})
            book.shared_with[account] = role

    def protect(self, key: str, tab: str, *, editors: Iterable[str] = (), columns: tuple[int, int] | None = None) -> None:
        """Protect a whole tab (or columns [a, b) of it) against everyone but ``editors``."""
        with self._lock:
            sheet = self._sheet(key, tab)
            new_id = 1 + max((p.protected_range_id for p in sheet.protections), default=0)
            start, end = columns if columns else (None, None)
            sheet.protections.append(Protection(new_id, start_col=start, end_col=end, editors=frozenset(editors)))

    def tabs(self, key: str) -> list[str]:
        with self._lock:
            return [s.title for s in self._book(key).sheets]

    def grid_size(self, key: str, tab: str | None = None) -> tuple[int, int]:
        with self._lock:
            sheet = self._sheet(key, tab)
            return sheet.row_count, sheet.col_count

    def values(self, key: str, tab: str | None = None, *, render: str = "UNFORMATTED_VALUE") -> list[list[Any]]:
        """All used rows of a tab as the API would render them (trailing blanks trimmed)."""
        with self._lock:
            book = self._book(key)
            sheet = self._sheet(key, tab)
            out = []
            for row in sheet.rows:
                vals = [("" if c is None else (formatted(c, book.locale) if render == "FORMATTED_VALUE"
                                               else unformatted(c, book.locale, False))) for c in row]
                while vals and vals[-1] == "":
                    vals.pop()
                out.append(vals)
            while out and not out[-1]:
                out.pop()
            return out

    def cell(self, key: str, tab: str | None, a1: str) -> Cell | None:
        """The stored cell at ``B7`` (value, formula, number format), or None."""
        letters = "".join(ch for ch in a1 if ch.isalpha())
        digits = "".join(ch for ch in a1 if ch.isdigit())
        with self._lock:
            return self._sheet(key, tab).cell(int(digits) - 1, column_index(letters))

    # ---------------------------------------------------------------- staff at work
    def insert_rows(self, key: str, tab: str | None, before_row: int, rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows above row ``before_row`` (1-based), as a user does with "Insert row above"."""
        with self._lock:
            book = self._book(key)
            sheet = self._sheet(key, tab)
            book.check_grid(sheet, sheet.row_count + len(rows), sheet.col_count)
            sheet.insert_rows(before_row - 1, len(rows))
            self._fill(book, sheet, before_row - 1, rows)

    def delete_rows(self, key: str, tab: str | None, first_row: int, count: int = 1) -> None:
        with self._lock:
            sheet = self._sheet(key, tab)
            sheet.delete_rows(first_row - 1, first_row - 1 + count)

    def sort_rows(self, key: str, tab: str | None, column: int, *, first_row: int = 2, descending: bool = False) -> None:
        """Sort rows from ``first_row`` down by a column (0-based), as "Sort sheet" with a header."""
        with self._lock:
            sheet = self._sheet(key, tab)
            sheet.sort_rows(first_row - 1, sheet.row_count, [(column, descending)])

    def staff_update(self, key: str, requests: Sequence[Mapping[str, Any]], account: str | None = None) -> list[Any]:
        """Apply spreadsheets.batchUpdate requests as a member of staff does in the UI (insert,
        delete, move or hide columns, filters, merges, notes...), without counting them as the
        connector's requests; returns the replies."""
        with self._lock:
            book = self._book(key)
            try:
                answer = api.call("sheets.spreadsheets.batchUpdate", book, None, {}, {"requests": list(requests)},
                                  account or self.account)
            except ApiError as e:
                raise EmulatorError(e.message) from None
            return list(answer["replies"])

    def sheet_id(self, key: str, tab: str | None) -> int:
        with self._lock:
            return self._sheet(key, tab).sheet_id

    def metadata(self, key: str) -> list[dict[str, Any]]:
        """Every developer metadata of the spreadsheet (as the API shows it)."""
        with self._lock:
            return [m.to_json() for m in self._book(key).all_metadata()]

    def set_cells(self, key: str, tab: str | None, top_row: int, rows: Sequence[Sequence[Any]], left_col: int = 0) -> None:
        """Overwrite cells from (top_row 1-based, left_col 0-based) with typed Python values."""
        with self._lock:
            book = self._book(key)
            sheet = self._sheet(key, tab)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    sheet.put(top_row - 1 + i, left_col + j, python_cell(value, book.locale))

    # ---------------------------------------------------------------- counting, faults, hooks
    def request_counts(self) -> dict[str, int]:
        """{method id: requests served} since the start or the last reset (faulted ones too)."""
        with self._lock:
            return dict(self._counts)

    def total_requests(self, *, api_only: bool = True) -> int:
        with self._lock:
            return sum(n for m, n in self._counts.items() if not api_only or m.startswith("sheets."))

    def reset_stats(self) -> None:
        with self._lock:
            self._counts.clear()

    def fail_next(self, count: int = 1, *, status: int = 429, method: str | None = None,
                  retry_after: float | None = None, error: str | None = None) -> None:
        """Answer the next ``count`` API requests (of one method id, if given) with ``status``, or
        with the named error of ``google_errors`` exactly as Google sends it (its own status)."""
        if error is not None:
            if error not in google_errors.NAMES:
                raise ValueError(f"error must be one of {', '.join(google_errors.NAMES)}, got {error!r}")
            status = google_errors.google_error(error)[0]
        if status not in _FAULT_MESSAGES and not 400 <= status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, got {status}")
        with self._lock:
            self._fails.append(_Fail(count, status, method, retry_after, error))

    def set_faults(self, *, error_rate: float = 0.0, error_status: int = 503, rate_limit_rate: float = 0.0,
                   seed: int | None = 0) -> None:
        """Answer a share of API requests with ``error_status`` or 429 (one draw per request)."""
        for name, v in (("error_rate", error_rate), ("rate_limit_rate", rate_limit_rate)):
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {v}")
        with self._lock:
            self._error_rate, self._error_status, self._rate_limit_rate = error_rate, error_status, rate_limit_rate
            self._rng = random.Random(seed)

    def on_request(self, method: str, action: Callable[[], None], *, nth: int = 1) -> None:
        """Run ``action`` just before the ``nth`` next request of ``method`` ("*": of any API
        method) is served."""
        with self._lock:
            self._hooks.append(_Hook(method, nth, action))

    def cancel_hooks(self) -> None:
        """Forget the ``on_request`` actions that have not run yet."""
        with self._lock:
            self._hooks.clear()

    # ---------------------------------------------------------------- serving
    def _fault_for(self, method_id: str) -> tuple[int, float | None, str | None] | None:
        with self._lock:
            for rule in self._fails:
                if rule.remaining > 0 and (rule.method is None or rule.method == method_id):
                    rule.remaining -= 1
                    return rule.status, rule.retry_after, rule.error
            self._fails = [r for r in self._fails if r.remaining > 0]
            draw = self._rng.random() if (self._error_rate or self._rate_limit_rate) else 1.0
            if draw < self._error_rate:
                return self._error_status, None, None
            if draw < self._error_rate + self._rate_limit_rate:
                return 429, None, None
        return None

    def _due_hooks(self, method_id: str) -> list[Callable[[], None]]:
        due = []
        with self._lock:
            for hook in self._hooks:
                if hook.method in (method_id, "*"):
                    hook.countdown -= 1
                    if hook.countdown == 0:
                        due.append(hook.action)
            self._hooks = [h for h in self._hooks if h.countdown > 0]
        return due

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def serve_api(self, method: str, raw_path: str, query: str, body: bytes,
                  authorization: str | None) -> tuple[int, Any, dict[str, str]]:
        routed = api.route(method, raw_path)
        if routed is None:
            return 404, ApiError(404, f"Method not found: {method} {raw_path}").body(), {}
        method_id, key, rng = routed
        self._count(method_id)
        for action in self._due_hooks(method_id):
            action()
        fault = self._fault_for(method_id)
        if fault is not None:
            status, retry_after, error = fault
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            if error is not None:
                return status, google_errors.google_error(error)[1], headers
            message, state = _FAULT_MESSAGES.get(status, ("Injected fault.", "UNKNOWN"))
            return status, ApiError(status, message, state).body(), headers
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, ApiError(400, "Invalid JSON payload received.").body(), {}
        with self._lock:
            try:
                account = self._account(authorization)
                book = self._books.get(key)
                if book is None:
                    raise not_found()
                role = book.role_of(account)
                if role is None or (role != "writer" and method_id in api.WRITE_METHODS):
                    raise no_permission()
                return 200, api.call(method_id, book, rng, parse_qs(query, keep_blank_values=True), payload, account), {}
            except ApiError as e:
                headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if e.code == 401 else {}
                return e.code, e.body(), headers

    def _account(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        account = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if account is None:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential.")
        return account

    def serve_token(self, body: bytes) -> tuple[int, Any]:
        self._count("oauth2.token")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == JWT_GRANT:
            email = self._verify_jwt(form.get("assertion", ""))
        elif grant == "refresh_token":
            with self._lock:
                email = self._oauth_users.get(form.get("refresh_token", ""))
            if email is None:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        else:
            return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}
        if email is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        self.add_token(token, email)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _verify_jwt(self, assertion: str) -> str | None:
        """The service account's email if the JWT is signed by its registered key."""
        from google.auth import jwt  # google-auth is a dependency of the connector already

        try:
            payload_part = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
            email = claims.get("iss")
            with self._lock:
                pem = self._service_accounts.get(email)
            if pem is None:
                return None
            verified = jwt.decode(assertion, certs=pem, verify=True)
        except (ValueError, IndexError, TypeError):
            return None
        if not str(verified.get("aud", "")).endswith(TOKEN_PATH):
            return None
        return str(email)

    def serve_control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The ``/_emulator`` paths: a thin HTTP face of the Python methods above."""
        try:
            data = json.loads(body) if body else {}
            if method == "GET" and path == "/stats":
                return 200, {"requests": self.request_counts(), "total": self.total_requests()}
            if method == "POST" and path == "/reset_stats":
                self.reset_stats()
                return 200, {}
            if method == "POST" and path == "/fail_next":
                self.fail_next(int(data.get("count", 1)), status=int(data.get("status", 429)),
                               method=data.get("method"), retry_after=data.get("retry_after"), error=data.get("error"))
                return 200, {}
            if method == "POST" and path == "/faults":
                self.set_faults(**data)
                return 200, {}
            if method == "POST" and path == "/spreadsheets":
                key = self.create_spreadsheet(data.get("sheets"), title=data.get("title", "Contacts"),
                                              key=data.get("key"), locale=data.get("locale", "en_US"),
                                              shared_with=data.get("shared_with"))
                return 200, {"spreadsheetId": key}
            parts = path.strip("/").split("/")
            if method == "POST" and len(parts) == 3 and parts[0] == "spreadsheets" and parts[2] == "rows":
                op, tab = data.get("op"), data.get("tab")
                if op == "insert":
                    self.insert_rows(parts[1], tab, int(data["before_row"]), data.get("rows", [[]]))
                elif op == "delete":
                    self.delete_rows(parts[1], tab, int(data["first_row"]), int(data.get("count", 1)))
                elif op == "sort":
                    self.sort_rows(parts[1], tab, int(data["column"]), first_row=int(data.get("first_row", 2)),
                                   descending=bool(data.get("descending", False)))
                else:
                    return 400, {"message": "op must be insert, delete or sort"}
                return 200, {}
            if method == "GET" and len(parts) == 4 and parts[0] == "spreadsheets" and parts[2] == "tabs":
                return 200, {"values": self.values(parts[1], parts[3])}
        except (EmulatorError, ValueError, KeyError, TypeError) as e:
            return 400, {"message": str(e)}
        return 404, {"message": f"Unknown control path {method} {CONTROL_PREFIX}{path}"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: SheetsEmulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return  # the client went away
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sheets-emulator/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        """Silent; ``verbose`` logs one line per request without headers (tokens stay private)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        emulator = self.server.emulator
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(413, ApiError(413, "Request payload too large.", "INVALID_ARGUMENT").body())
            return
        body = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        try:
            if path == TOKEN_PATH and method == "POST":
                status, payload = emulator.serve_token(body)
            elif path.startswith(CONTROL_PREFIX + "/"):
                status, payload = emulator.serve_control(method, path[len(CONTROL_PREFIX):], body)
            else:
                status, payload, headers = emulator.serve_api(method, path, query, body, self.headers.get("Authorization"))
        except Exception as exc:  # an emulator bug: answer 500 in Google's shape and show the traceback
            traceback.print_exc(file=sys.stderr)
            status, payload = 500, ApiError(500, f"Internal emulator error: {type(exc).__name__}.").body()
        self._send(status, payload, headers)
        if emulator.verbose:
            print(f"sheets-emulator: {method} {path} -> {status} ({(time.monotonic() - started) * 1000:.0f} ms)",
                  file=sys.stderr)

    def _send(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
