"""Keeps the service answering while clients misbehave: slow, idle, too many, or smuggling.

uvicorn times out only an idle keep-alive connection *after* a response; a client that connects
and never finishes its request head, or declares a body it never sends, holds a connection (and
a file descriptor) forever, and uvicorn has no knob for either.  ``GuardedH11Protocol`` (uvicorn's
h11 protocol, plus):

- **head deadline**: a connection must deliver a whole request head within ``head_timeout_s``
  of connecting (or of its previous answer), else it is closed without a word;
- **body deadline**: a request's body must be complete within ``body_timeout_s`` of its head,
  else the client gets ``408`` and the connection is closed;
- **connection cap**: above ``max_connections`` open connections, the one that has waited
  longest for its request head is closed for each new one (a burst of slow clients pushes out
  slow clients, while ``/healthz`` and a click, which send their request at once, get through);
  one log line when the cap is first reached and one when the episode ends, with the count;
- **no reading past an answer**: once the answer is sent, an unread body (a refused 1 GB upload)
  is not read on: the connection is closed;
- **smuggling shapes refused**: a request with both ``Content-Length`` and ``Transfer-Encoding``
  is answered ``400`` and closed (h11 refuses the rest: two lengths, unknown codings, bad framing).

``quiet_accept_errors`` replaces asyncio's traceback per failed ``accept()`` (EMFILE when the
process runs out of file descriptors: one per retry, hundreds of thousands a minute) with one
line per episode.  ``raise_fd_limit`` lifts the soft ``RLIMIT_NOFILE`` to the hard one, and the
cap is kept below it so the cap, not EMFILE, is what a flood meets.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from . import log

# asyncio accepts up to ``backlog`` connections in one go before any protocol sees one, so the
# cap can be overshot by a backlog; the rest is for the stores (a SQLite handle per worker
# thread), the logs, outgoing requests and the listener
BACKLOG = 128
FD_RESERVE = BACKLOG + 256  # measured: SQLite handles of ~40 worker threads, the runs' files and sockets


@dataclass(frozen=True)
class ClientLimits:
    head_timeout_s: float = 10.0  # Apps Script sends a whole request at once; 10 s is generous
    body_timeout_s: float = 10.0
    max_connections: int = 1000


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (POSIX); returns the soft limit in force."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to lift
        return 1 << 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(wanted: int, fd_limit: int) -> int:
    return max(16, min(wanted, fd_limit - FD_RESERVE))


class Overload:
    """One log line when connections first hit the cap, one when the episode is over."""

    def __init__(self, cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.cap = cap
        self.clock = clock
        self.since: float | None = None
        self.evicted = 0
        self.waiting: dict[GuardedH11Protocol, None] = {}  # connections awaiting a head, oldest first

    def evict(self) -> GuardedH11Protocol | None:
        if self.since is None:
            self.since = self.clock()
            self.evicted = 0
            log.logger.warning(log.line("connections_full", limit=self.cap,
                                        action="closing the connections that waited longest for a request"))
        self.evicted += 1
        return next(iter(self.waiting), None)

    def settle(self, open_now: int) -> None:
        if self.since is not None and open_now < self.cap * 0.9:
            log.logger.warning(log.line("connections_recovered", closed=self.evicted,
                                        seconds=round(self.clock() - self.since, 1), open=open_now))
            self.since = None


class _WatchedConnection:
    """h11's connection with a look at each event as uvicorn takes it (uvicorn has no hook there)."""

    def __init__(self, conn: h11.Connection, on_event: Callable[[Any], None]) -> None:
        self._conn = conn
        self._on_event = on_event

    def next_event(self) -> Any:
        event = self._conn.next_event()
        self._on_event(event)
        return event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines, a connection cap and a smuggling check (see module)."""

    limits = ClientLimits()
    overload: Overload | None = None  # shared by a server's connections (``protocol_class``)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _WatchedConnection(self.conn, self._on_event)  # type: ignore[assignment]
        self._deadline: asyncio.TimerHandle | None = None

    # -- timers ------------------------------------------------------------------------------
    def _arm(self, seconds: float, on_expiry: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, on_expiry)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _await_head(self) -> None:
        self._arm(self.limits.head_timeout_s, self._head_too_slow)
        if self.overload is not None:
            self.overload.waiting.pop(self, None)
            self.overload.waiting[self] = None

    def _head_arrived(self) -> None:
        self._disarm()
        if self.overload is not None:
            self.overload.waiting.pop(self, None)

    def _head_too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def _body_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            # answer for the app (it is waiting for the body), then let it see a disconnect
            body = b'{"error":"request timeout"}'
            try:
                for event in (h11.Response(status_code=408, reason=b"Request Timeout", headers=[
                                  (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                  (b"connection", b"close")]),
                              h11.Data(data=body), h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event) or b"")
            except h11.LocalProtocolError:  # h11 cannot answer in this state: closing says enough
                pass
            cycle.response_started = cycle.response_complete = True
        if cycle is not None:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # -- uvicorn's protocol hooks ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        overload = self.overload
        if overload is not None and len(self.connections) > overload.cap:
            oldest = overload.evict()
            victim = oldest if oldest is not None else self
            overload.waiting.pop(victim, None)
            victim.transport.close()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        if self.overload is not None:
            self.overload.waiting.pop(self, None)
            self.overload.settle(len(self.connections))

    def _on_event(self, event: Any) -> None:
        if isinstance(event, h11.Request):
            self._head_arrived()
            names = {name for name, _ in event.headers}
            if b"content-length" in names and b"transfer-encoding" in names:
                # h11 lets Transfer-Encoding win (RFC 9112 allows it); a proxy in front may have used
                # the length: two readings of one request is how smuggling works, so refuse it
                raise h11.RemoteProtocolError("both Content-Length and Transfer-Encoding")
            if self.conn.their_state is h11.SEND_BODY:
                self._arm(self.limits.body_timeout_s, self._body_too_slow)
        elif isinstance(event, h11.EndOfMessage):
            self._disarm()

    def on_response_complete(self) -> None:
        if self.conn.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED) and not self.transport.is_closing():
            # answered before the body was read (413, 401...): do not read the rest of it
            self.conn.send(h11.ConnectionClosed())
            self.transport.close()
        if not self.transport.is_closing():
            self._await_head()  # before uvicorn reads a pipelined request, whose head then disarms it
        super().on_response_complete()



def protocol_class(limits: ClientLimits, cap: int) -> type[GuardedH11Protocol]:
    """A protocol class for one server: its limits and its shared overload state."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits, "overload": Overload(cap)})


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, clock: Callable[[], float] = time.monotonic,
                        quiet_s: float = 60.0) -> None:
    """Log asyncio's accept() failures once per episode (an episode ends after ``quiet_s`` without one)."""
    state = {"last": -1e18, "count": 0}
    default = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if not message.startswith("socket.accept() out of system resource"):
            if default is not None:
                default(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = clock()
        if now - state["last"] > quiet_s:
            if state["count"]:
                log.logger.warning(log.line("accept_failures_ended", failures=state["count"]))
            state["count"] = 0
            exc = context.get("exception")
            log.logger.error(log.line("accept_failing", error=type(exc).__name__ if exc else None,
                                      detail=str(exc) if exc else message,
                                      advice="the service is out of file descriptors: raise LimitNOFILE "
                                             "(systemd) or ulimit -n, or lower --max-connections"))
        state["last"] = now
        state["count"] += 1

    loop.set_exception_handler(handler)


def uvicorn_config(app: Any, *, host: str, port: int, limits: ClientLimits | None = None, **kwargs: Any) -> Any:
    """uvicorn's settings for the service: the guarded protocol, and nothing logged by uvicorn itself
    but its errors (the app logs one JSON line per request)."""
    import uvicorn

    limits = limits or ClientLimits()
    cap = connection_cap(limits.max_connections, raise_fd_limit())
    return uvicorn.Config(app, host=host, port=port, http=protocol_class(limits, cap), log_config=None,
                          access_log=False, server_header=False, backlog=BACKLOG, timeout_keep_alive=5, **kwargs)
