"""The lifecycle the project's local stand-ins share (the inwise sandbox, the Sheets emulator).

Each is a ``ThreadingHTTPServer`` bound to 127.0.0.1 (a free port by default) served from a
daemon thread, started and stopped explicitly or with ``with``.  A subclass says how to bind its
server (``_bind``) and what to say when it cannot listen (``_cannot_listen``).
"""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import TypeVar

from .errors import ConnectorError

S = TypeVar("S", bound="LocalServer")


class LocalServer:
    thread_name = "local-server"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _bind(self) -> ThreadingHTTPServer:
        """A bound (not yet serving) server for ``(self.host, self._requested_port)``."""
        raise NotImplementedError

    def _cannot_listen(self, exc: OSError) -> ConnectorError:
        raise NotImplementedError

    def _before_close(self, server: ThreadingHTTPServer) -> None:
        """Called once serving stopped, before the socket closes (e.g. to cut open connections)."""

    def start(self: S) -> S:
        """Start serving in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running.")
        try:
            server = self._bind()
        except OSError as exc:
            raise self._cannot_listen(exc) from None
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.thread_name}:{server.server_address[1]}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        self._before_close(server)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: S) -> S:
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
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first.")
        return int(self._server.server_address[1])
