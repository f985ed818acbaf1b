"""Several real ``sheets-connector serve`` processes on one PostgreSQL store, behind a round-robin
proxy (tests only): each replica has its own host name (``SHEETS_CONNECTOR_HOSTNAME``), as pods
on different machines would; the proxy sends each request to the next live replica.
"""
from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from sheets_connector.state.db import ENV_HOST
from sheets_connector.state.location import ENV_URL


class Replica:
    def __init__(self, name: str, configs: Path, env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.url = ""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sheets_connector", "serve", "--configs", str(configs), "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**env, ENV_HOST: name})
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            raise RuntimeError(f"{name} did not start: {self.lines[-5:]}")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if not self.ready.is_set() and '"listening"' in line:
                self.url = json.loads(line)["url"]
                self.ready.set()

    def events(self, name: str) -> list[dict[str, Any]]:
        out = []
        for line in list(self.lines):
            if line.startswith("{"):
                event = json.loads(line)
                if event.get("event") == name:
                    out.append(event)
        return out

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 50 clicks at once must all be heard (the default backlog is 5)


class RoundRobin:
    """An HTTP proxy on 127.0.0.1 (port 0) sending each request to the next live replica."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.served: dict[str, int] = {r.name: 0 for r in replicas}
        turn = itertools.count()
        lock = threading.Lock()
        rr = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                live = [r for r in rr.replicas if r.alive]
                with lock:
                    target = live[next(turn) % len(live)]
                    rr.served[target.name] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(method, target.url + self.path, data=body, headers=headers, timeout=120)
                self.send_response(answer.status_code)
                for k, v in answer.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fleet(configs: Path, state_url: str, env: dict[str, str], n: int = 3) -> list[Replica]:
    base = {**os.environ, **env, ENV_URL: state_url}
    return [Replica(f"replica-{i}", configs, base) for i in range(n)]


def wait_until(check: Any, timeout: float = 60, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came")
        time.sleep(0.05)
