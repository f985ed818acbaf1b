"""The sandbox's HTTP side: :class:`Sandbox` (a server on 127.0.0.1 around a ``ContactStore``
and a ``FaultInjector``), its request handler, and :func:`serve` for the CLI.

Paths: ``/rest/v1/...`` is the inwise API (``X-API-Key`` checked, faults applied);
``/_sandbox/...`` is inspection and control, not part of the API, and needs no key.
Request lines are logged (never headers, so never the key) on the ``sheets_connector.sandbox``
logger: at INFO with ``verbose``, else at DEBUG.  Nothing here prints.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from ..errors import SandboxError
from ..inwise.wire import API_KEY_HEADER, KEY_INVALID_TEXT, KEY_MISSING_TEXT
from ..localserver import LocalServer
from .faults import API_PREFIX, HTML_PAGE, FaultInjector, Faults, retry_after_header
from .store import BadRequest, ContactStore

log = logging.getLogger("sheets_connector.sandbox")

INSPECT_PREFIX = "/_sandbox"  # sandbox-only inspection and control paths (no key needed)
DEFAULT_API_KEY = "sandbox-key"  # what `sheets-connector sandbox` accepts when given no key
MAX_BODY_BYTES = 64 * 1024 * 1024

_API_ROUTES: dict[str, tuple[str, ...]] = {  # canonical relative path -> allowed methods
    "/contacts": ("GET", "POST"),
    "/contacts/batchInsert": ("POST",),
}
_INSPECT_ROUTES: dict[str, tuple[str, ...]] = {
    "/contacts": ("GET", "POST"),
    "/stats": ("GET",),
    "/feed": ("GET",),
    "/faults": ("GET", "POST"),
    "/fail_next": ("POST",),
    "/reset_stats": ("POST",),
    "/reset": ("POST",),
}
_FAIL_NEXT_ARGS = {"count", "status", "path", "method", "retry_after", "drop", "after_processing", "message"}

Answer = tuple[int, Any, dict[str, str]]  # (status, JSON payload, extra headers)


class Sandbox(LocalServer):
    """The local inwise API: a ``ContactStore``, a ``FaultInjector`` and the HTTP server around them.

    >>> with Sandbox(api_keys=("k",)) as sb:     # doctest: +SKIP
    ...     requests.post(sb.base_url + "/contacts", json={...}, headers={"X-API-Key": "k"})
    """

    thread_name = "inwise-sandbox"

    def __init__(
        self,
        api_keys: Iterable[str] = (DEFAULT_API_KEY,),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        seed_contacts: Iterable[Any] = (),
        state_file: str | os.PathLike[str] | None = None,
        first_id: int = 439130001,
        verbose: bool = False,
    ) -> None:
        if isinstance(api_keys, str):
            api_keys = (api_keys,)
        self._api_keys = tuple(key for key in api_keys if key)
        if not self._api_keys:
            raise ValueError("The sandbox needs at least one non-empty API key.")
        super().__init__(host, port)
        self.verbose = verbose
        self._injector = FaultInjector(faults)
        self._store = ContactStore(state_file=state_file, first_id=first_id)
        self._paused = threading.Condition()
        self._answers_paused = 0  # feed answers stopped in the middle of their body right now
        seeds = list(seed_contacts)
        if seeds and not self._store.contacts():
            try:
                self._store.add_contacts(seeds)
            except ValueError as exc:
                raise SandboxError(f"The seed contacts are not valid: {exc}") from None

    # ---------------------------------------------------------------- lifecycle
    def _bind(self) -> _Server:
        server = _Server((self.host, self._requested_port), _Handler)
        server.sandbox = self
        return server

    def _cannot_listen(self, exc: OSError) -> SandboxError:
        return SandboxError(
            f"The inwise sandbox cannot listen on {self.host}:{self._requested_port} "
            f"({exc.strerror or exc}). Is another sandbox running? Pick another port with --port."
        )

    def _before_close(self, server: ThreadingHTTPServer) -> None:
        if isinstance(server, _Server):
            server.close_all_connections()

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
        return self._injector.faults

    def set_faults(self, **changes: Any) -> None:
        """Change some fault settings at runtime, e.g. ``set_faults(latency_ms=20)``."""
        self._injector.set_faults(**changes)

    def fail_next(self, count: int = 1, *, status: int = 503, path: str | None = None,
                  method: str | None = None, retry_after: float | None = None, drop: bool = False,
                  after_processing: bool = False, message: str | None = None) -> None:
        """The next ``count`` matching API requests fail; then normal service resumes.

        ``path`` is relative to /rest/v1 (``"/contacts"``; the full ``"/rest/v1/contacts"`` is
        accepted too) and ``method`` e.g. ``"POST"``; None matches any.  The request is answered
        with ``status`` and ``{"message": message}`` (a generic text by default), plus
        ``Retry-After`` if ``retry_after`` is given, or, with ``drop``, its connection is closed
        without an answer.  Such a request is not processed, unless ``after_processing``: then
        it is processed (state changes) and only the answer is replaced by the fault, like an
        answer lost in transit.  Rules queue up in call order.
        """
        self._injector.fail_next(count, status=status, path=path, method=method, retry_after=retry_after,
                                 drop=drop, after_processing=after_processing, message=message)

    def add_contacts(self, contacts: Iterable[Any]) -> list[int]:
        """Add contacts that already exist in "inwise" (not in the GET /contacts feed).

        Keys as in the API: email, mobile_number (international digits), fields (list of
        ``{"name", "content"}`` or a ``{"field1": ...}`` dict), groups, confirmation_status,
        external_id, optionally id and created_date.  All or nothing: a contact that is invalid
        or whose email/mobile/id already exists raises ValueError and nothing is added.
        """
        return self._store.add_contacts(contacts)

    def contacts(self) -> list[dict[str, Any]]:
        """Every contact (copies, by id), including groups, fields and confirmation status."""
        return self._store.contacts()

    def feed_pending(self) -> int:
        """How many created contacts GET /contacts has not returned yet."""
        return self._store.feed_pending()

    def feed_status(self) -> dict[str, Any]:
        """The feed as a crash test needs it: ``{"pending", "pages_handed_out", "last_page",
        "answers_paused"}``; ``pages_handed_out`` counts GET /contacts pages taken from the
        feed (their contacts are gone from it), ``answers_paused`` the feed answers stopped
        right now in the middle of their body (``Faults.feed_pause_ms``)."""
        with self._paused:
            paused = self._answers_paused
        return {**self._store.feed_status(), "answers_paused": paused}

    def wait_for_paused_feed_answer(self, timeout: float) -> bool:
        """Block until a feed answer is paused in the middle of its body; False after ``timeout`` s."""
        with self._paused:
            return self._paused.wait_for(lambda: self._answers_paused > 0, timeout=timeout)

    def stats(self) -> dict[str, Any]:
        """API request counts: ``{"requests": {"POST /contacts": {"200": 3}}, "total", "max_in_flight",
        "in_flight", "delay_ms"}`` (``delay_ms``: the latency and jitter injected so far)."""
        return self._injector.stats()

    def reset_stats(self) -> None:
        """Zero the request counters; max_in_flight restarts from the requests in flight now."""
        self._injector.reset_stats()

    def reset(self) -> None:
        """Empty everything: contacts, feed, ids, counters, fail_next queue; faults back to the start values."""
        self._store.reset()
        self._injector.reset()

    # ---------------------------------------------------------------- answering (handler thread)
    def _key_ok(self, key: str | None) -> bool:
        if not key:
            return False
        given = key.encode("utf-8", "surrogateescape")
        ok = False
        for candidate in self._api_keys:  # constant-time comparison, no early exit
            ok |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogateescape"))
        return ok

    def _process_api(self, method: str, rel_path: str, body: bytes, api_key: str | None) -> Answer:
        """The answer to one API request that passed fault injection."""
        if not api_key:
            return 401, {"message": KEY_MISSING_TEXT}, {}
        if not self._key_ok(api_key):
            return 401, {"message": KEY_INVALID_TEXT}, {}
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
                return 200, self._store.take_feed_page(), {}
            payload = _parse_json(body)
            if route == "/contacts":
                return 200, self._store.upsert(payload), {}
            return 200, self._store.batch_insert(payload), {}
        except BadRequest as exc:
            return exc.status, {"message": exc.message}, {}

    def _process_inspect(self, method: str, rel_path: str, body: bytes) -> Answer:
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
                readers: dict[str, Callable[[], Any]] = {
                    "/contacts": self.contacts, "/stats": self.stats, "/feed": self.feed_status,
                    "/faults": lambda: self.faults.to_dict(),
                }
                return 200, readers[route](), {}
            payload = _parse_json(body) if body.strip() else {}
            if route == "/contacts":
                items = payload.get("contacts") if isinstance(payload, dict) else payload
                if not isinstance(items, list):
                    raise BadRequest('Send a JSON list of contacts (or {"contacts": [...]}).')
                return 200, {"ids": self.add_contacts(items)}, {}
            if route == "/faults":
                if not isinstance(payload, dict):
                    raise BadRequest("Send a JSON object of fault settings.")
                self.set_faults(**payload)
                return 200, self.faults.to_dict(), {}
            if route == "/fail_next":
                if not isinstance(payload, dict):
                    raise BadRequest("Send a JSON object of fail_next arguments.")
                unknown = sorted(set(payload) - _FAIL_NEXT_ARGS)
                if unknown:
                    raise BadRequest(f"Unknown fail_next argument(s): {', '.join(unknown)}.")
                self.fail_next(**payload)
                return 200, {"ok": True}, {}
            if route == "/reset_stats":
                self.reset_stats()
                return 200, {"ok": True}, {}
            self.reset()
            return 200, {"ok": True}, {}
        except BadRequest as exc:
            return exc.status, {"message": exc.message}, {}
        except (TypeError, ValueError) as exc:
            return 400, {"message": str(exc)}, {}

    def _feed_pause(self, pause_s: float) -> None:
        """Hold a feed answer in the middle of its body for ``pause_s`` (visible in feed_status)."""
        with self._paused:
            self._answers_paused += 1
            self._paused.notify_all()
        try:
            time.sleep(pause_s)
        finally:
            with self._paused:
                self._answers_paused -= 1


def _canonical(rel_path: str, routes: Mapping[str, Any]) -> str | None:
    """Match a relative path to a route, ignoring case and a trailing slash."""
    wanted = "/" + rel_path.strip("/").lower()
    for route in routes:
        if route.lower() == wanted:
            return route
    return None


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("The request body is empty; send JSON.")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg} "
                         f"(line {exc.lineno}, column {exc.colno}).") from None


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



def json_body(payload: Any) -> bytes:
    """An answer's body, UTF-8 JSON.  A list is a page of the feed (up to 1,000 contacts, ~450 KB):
    orjson encodes it ten times faster than json, and a connector waits for each page before it
    asks for the next, so this is on its path; the same JSON, without spaces after , and :."""
    if isinstance(payload, list):
        try:
            return orjson.dumps(payload)
        except TypeError:  # what orjson cannot encode (an integer beyond 64 bits): json can
            pass
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "inwise-sandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: _Server
    connection: socket.socket

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        """Silence http.server's own stderr lines; see _log_request."""

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

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    # ------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        sandbox = self.server.sandbox
        started = time.monotonic()
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        try:
            body = self._read_body()
        except BadRequest as exc:
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
        injector = sandbox._injector
        route = _canonical(rel_path, _API_ROUTES)
        stat_key = f"{method} {route or rel_path}"
        decision = injector.admit(method, route or rel_path)
        finished = False
        try:
            pause_s = 0.0
            if decision.over_capacity:
                retry = injector.faults.retry_after_s
                status, payload, headers = 429, {"message": "Too many concurrent requests; retry later."}, {
                    "Retry-After": retry_after_header(retry)
                }
            else:
                if decision.delay_s > 0:
                    time.sleep(decision.delay_s)
                fault = decision.fault
                answer = injector.faults.answer
                if answer == "html" and fault is None:  # something else stands at base_url
                    injector.finish(decision, stat_key, "200 html")
                    finished = True
                    self._send_raw(200, HTML_PAGE.encode(), "text/html; charset=utf-8")
                    return "200 html"
                if fault is not None and not fault.after_processing:
                    status, payload, headers = 0, None, {}
                else:
                    status, payload, headers = self._guarded(
                        lambda: sandbox._process_api(method, rel_path, body, self.headers.get(API_KEY_HEADER))
                    )
                if fault is not None:
                    if fault.drop:
                        injector.finish(decision, stat_key, "dropped")
                        finished = True
                        self._drop()
                        return "dropped"
                    status, payload, headers = fault.answer()
                elif route == "/contacts" and method == "GET" and status == 200:
                    pause_s = injector.faults.feed_pause_ms / 1000.0
            if not decision.over_capacity and decision.fault is None and injector.faults.answer == "truncated":
                data = json_body(payload)
                injector.finish(decision, stat_key, f"{status} truncated")
                finished = True
                self._send_raw(status, data[: len(data) // 2], "application/json; charset=utf-8", headers)
                return f"{status} truncated"
            injector.finish(decision, stat_key, str(status))
            finished = True
            self._send_json(status, payload, headers, pause_s=pause_s)
            return str(status)
        finally:
            if not finished:
                injector.finish(decision, stat_key, "error")

    def _guarded(self, call: Callable[[], Answer]) -> Answer:
        try:
            return call()
        except Exception as exc:  # a sandbox bug: answer 500 and log the traceback
            log.exception("sandbox: internal error while answering %s", self.path.split("?", 1)[0])
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
            raise BadRequest("Invalid Content-Length header.") from None
        if length < 0:
            raise BadRequest("Invalid Content-Length header.")
        if length > MAX_BODY_BYTES:
            raise BadRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
        data = self.rfile.read(length)
        if len(data) < length:
            raise BadRequest("The request body is shorter than its Content-Length.")
        return data

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        size_total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("Invalid chunked request body.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            size_total += size
            if size_total > MAX_BODY_BYTES:
                raise BadRequest(f"The request body is larger than {MAX_BODY_BYTES} bytes.", 413)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        """Send ``data`` as it is (a fault: an HTML page, a JSON answer cut short)."""
        self._head(status, content_type, len(data), headers)
        self.wfile.write(data)

    def _head(self, status: int, content_type: str, length: int, headers: Mapping[str, str] | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None, *,
                   pause_s: float = 0.0) -> None:
        """Send a JSON answer; with ``pause_s``, stop after half the body for that long first."""
        data = json_body(payload)
        self._head(status, "application/json; charset=utf-8", len(data), headers)
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
        # The path without its query string; headers (the API key) are never logged.
        level = logging.INFO if self.server.sandbox.verbose else logging.DEBUG
        if log.isEnabledFor(level):
            elapsed = (time.monotonic() - started) * 1000
            log.log(level, "sandbox: %s %s %s -> %s (%.0f ms)",
                    self.client_address[0], method, path, outcome, elapsed)


# --------------------------------------------------------------------------------------------
# Blocking entry point for the CLI
# --------------------------------------------------------------------------------------------
def read_seed_file(path: str | os.PathLike[str]) -> list[Any]:
    """The contacts of a seed file (a JSON list, or ``{"contacts": [...]}``); SandboxError if unusable."""
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
    api_keys: Iterable[str] = (DEFAULT_API_KEY,),
    faults: Faults | None = None,
    state_file: str | os.PathLike[str] | None = None,
    seed_file: str | os.PathLike[str] | None = None,
    verbose: bool = True,
    on_ready: Callable[[Sandbox], None] | None = None,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C (or SIGTERM); raises SandboxError on setup problems.

    ``on_ready(sandbox)`` is called once it listens (the CLI prints ``sandbox.base_url`` there).
    ``seed_file`` (a JSON list of contacts) is added as existing contacts only when the
    (possibly persisted) state is empty.  The API key is never logged.
    """
    seeds = read_seed_file(seed_file) if seed_file is not None else []
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
        log.debug("inwise sandbox listening on %s", sandbox.base_url)
        if on_ready is not None:
            on_ready(sandbox)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        log.debug("inwise sandbox stopped")
