"""A proxy in front of the sandbox that can poison the answers of GET /contacts (tests only).

Everything is forwarded to the sandbox; the next GET /contacts answers can be replaced by bytes
(the feed is then not read), or be the sandbox's real page passed through a function (its
contacts have then left the feed).  The proxy keeps one address, so the inwise account the
connector sees stays the same between poisoned and healthy runs.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

Poison = bytes | Callable[[list[Any]], bytes]


class FeedProxy:
    def __init__(self, upstream_root: str) -> None:
        self.upstream = upstream_root
        self.poison: list[Poison] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                poison = proxy.poison.pop(0) if method == "GET" and self.path.endswith("/contacts") and proxy.poison \
                    else None
                if isinstance(poison, bytes):
                    self._answer(200, poison)
                    return
                r = requests.request(method, proxy.upstream + self.path, data=body, timeout=60,
                                     headers={k: v for k, v in self.headers.items() if k.lower() in (
                                         "x-api-key", "content-type")})
                data = r.content
                if poison is not None and r.status_code == 200:
                    data = poison(json.loads(data))
                self._answer(r.status_code, data)

            def _answer(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/rest/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
