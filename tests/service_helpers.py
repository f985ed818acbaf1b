"""Helpers for the sync service's tests: sheet configs, a controllable runner, a live server.

``GateRunner`` does real, small work a test controls: it records the call, reports progress,
writes one line per "row" to a results file, and waits at a gate the test opens (or until the
run is cancelled, when it writes what it sent and returns ``interrupted``).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import uvicorn

from sheets_connector.cancel import CancelToken
from sheets_connector.service.app import Limits, create_app
from sheets_connector.service.guard import ClientLimits, uvicorn_config
from sheets_connector.service.runs import RunManager
from sheets_connector.service.runstore import StateRunStore, as_run, parse_wire_id
from sheets_connector.service.sheets import Registry, load_registry
from sheets_connector.service.signing import sign, signed_text_for_get
from sheets_connector.service.store import Run
from sheets_connector.state import open_url

SECRETS = {"sheet-a": "secret-of-sheet-a-0123456789", "sheet-b": "secret-of-sheet-b-9876543210"}


def write_sheet_config(folder: Path, sheet_id: str, env_name: str, extra: str = "") -> Path:
    """A mapping file with a service: section (the sync keys are the demo's)."""
    path = folder / f"{sheet_id}.yaml"
    path.write_text(
        f"service:\n  spreadsheet_id: {sheet_id}\n  secret_env: {env_name}\n{extra}"
        f"source:\n  type: xlsx\n  path: {sheet_id}.xlsx\ncolumns:\n  email: Email\n",
        encoding="utf-8",
    )
    return path


def registry_for(folder: Path, sheets: dict[str, str] = SECRETS, extra: str = "") -> Registry:
    env = {}
    for i, (sheet_id, secret) in enumerate(sheets.items()):
        write_sheet_config(folder, sheet_id, f"SECRET_{i}", extra)
        env[f"SECRET_{i}"] = secret
    return load_registry(folder, environ=env)


class GateRunner:
    def __init__(self, results_dir: Path | None = None, rows: int = 3) -> None:
        self.gate = threading.Event()
        self.calls: list[tuple[str, bool, str]] = []
        self.results_dir = results_dir
        self.rows = rows
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # runs inside this runner at the same moment, at most

    def __call__(self, config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str,
                 progress: Callable[[str, int, int | None], None], worksheet: str | None = None,
                 claim: Any = None) -> dict[str, Any]:
        with self._lock:
            self.calls.append((config_path.stem, dry_run, trigger))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._run(config_path, dry_run, cancel, progress)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _run(self, config_path: Path, dry_run: bool, cancel: CancelToken,
             progress: Callable[[str, int, int | None], None]) -> dict[str, Any]:
        sent = 0
        out = (self.results_dir / f"{config_path.stem}.log") if self.results_dir else None
        for _ in range(self.rows):
            progress("send", sent, self.rows)
            while not (self.gate.is_set() or cancel.is_set()):
                cancel.wait(0.01)
            if cancel.is_set():
                break
            sent += 1
            if out:
                with open(out, "a", encoding="utf-8") as f:
                    f.write(f"row {sent + 1}: sent\n")
        if out:
            with open(out, "a", encoding="utf-8") as f:
                f.write(f"results written for {sent} rows\n")
        return {
            "counts": {"created": sent, "invalid": 1},
            "problems": [{"row": 9, "outcome": "invalid", "detail": "invalid email \"x@@y\""}],
            "rows_read": self.rows + 1,
            "interrupted": sent < self.rows,
            "preview": [{"row": 2, "email": "a@example.com"}] if dry_run else [],
            "preview_lines": ["row 2: a@example.com"] if dry_run else [],
            "would_send": self.rows if dry_run else None,
        }


@contextmanager
def live_service(registry: Registry, runner: Any, *, max_parallel: int = 2,
                 limits: Limits | None = None, clients: ClientLimits | None = None,
                 clock: Callable[[], float] = time.time) -> Iterator[tuple[str, StateRunStore]]:
    """The real app on uvicorn, on 127.0.0.1 and a port it binds itself, in a thread; stopped at exit.

    ``clock`` is the time the service checks signatures against; ``clients`` the connection guard's limits."""
    store = StateRunStore(registry)
    manager = RunManager(store, runner, max_parallel=max_parallel)
    app = create_app(registry, store, manager, limits=limits or Limits(), clock=clock)
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=0, limits=clients))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        if isinstance(runner, GateRunner):
            runner.gate.set()
        server.should_exit = True
        thread.join(30)
        store.close()


def stored_run(url: str, run_id: str) -> Run | None:
    """A run as the service shows it, read straight from the state store at ``url``."""
    parsed = parse_wire_id(run_id)
    assert parsed is not None, run_id
    store = open_url(url)
    try:
        record = store.get_run(parsed[0])
    finally:
        store.close()
    return None if record is None else as_run(parsed[1], record, None)


def body_of(sheet_id: str, **fields: Any) -> bytes:
    data = {"spreadsheet_id": sheet_id, "worksheet": "Contacts", "dry_run": False, **fields}
    return json.dumps(data).encode("utf-8")


def post_sync(base: str, body: bytes, secret: str | None, *, t: int | None = None,
              content_type: str = "application/json", header: str | None = None) -> requests.Response:
    headers = {"Content-Type": content_type}
    if header is not None:
        headers["X-Signature"] = header
    elif secret is not None:
        headers["X-Signature"] = sign(secret, body, int(time.time()) if t is None else t)
    return requests.post(base + "/v1/sync", data=body, headers=headers, timeout=30)


def get_signed(base: str, path: str, query: str, secret: str | None, *, t: int | None = None,
               signed_path: str | None = None) -> requests.Response:
    headers = {}
    if secret is not None:
        text = signed_text_for_get(signed_path or path, query)
        headers["X-Signature"] = sign(secret, text, int(time.time()) if t is None else t)
    return requests.get(base + path + ("?" + query if query else ""), headers=headers, timeout=30)


def wait_for_state(base: str, run_id: str, secret: str, states: set[str], timeout: float = 30,
                   until: Callable[[dict[str, Any]], bool] = lambda status: True) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = get_signed(base, f"/v1/runs/{run_id}", "", secret)
        assert r.status_code == 200, r.text
        status: dict[str, Any] = r.json()
        if status["state"] in states and until(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {status['state']}, wanted {states}")
        time.sleep(0.02)


class ListHandler(logging.Handler):
    """Keeps the service log's lines (the ``service_log`` fixture in conftest.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
