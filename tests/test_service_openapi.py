"""The OpenAPI document lists exactly the answers each route gives: each documented status is
made to happen here, over real HTTP, and nothing else is documented (no 422, no 409 on a GET)."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import uvicorn
from service_helpers import SECRETS, GateRunner, body_of, get_signed, post_sync, registry_for, wait_for_state

from sheets_connector.errors import StoreUnreachable
from sheets_connector.service.app import ANSWERS, create_app
from sheets_connector.service.guard import ClientLimits, uvicorn_config
from sheets_connector.service.runs import RunManager
from sheets_connector.service.runstore import StateRunStore

A, B = "sheet-a", "sheet-b"


class Outage:
    """The run registry, whose reads fail while ``down`` (as a database that went away does)."""

    def __init__(self, store: StateRunStore) -> None:
        self.store = store
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if name in ("get_run", "latest_run") and self.down:
            def unreachable(*args: Any, **kwargs: Any) -> Any:
                raise StoreUnreachable("the run registry cannot be reached")
            return unreachable
        return attr


@contextmanager
def serving(app: object) -> Iterator[str]:
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=0,
                                           limits=ClientLimits(body_timeout_s=0.3)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the service did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)


def documented(base: str) -> dict[tuple[str, str], set[int]]:
    doc = requests.get(base + "/openapi.json", timeout=10).json()
    return {(method.upper(), path): {int(code) for code in op["responses"]}
            for path, ops in doc["paths"].items() for method, op in ops.items()}


def late_body(base: str) -> int:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{")
        return int(s.recv(100).split()[1])


def test_every_documented_answer_happens_and_no_other_is_documented(tmp_path: Path) -> None:
    runner = GateRunner(results_dir=tmp_path)
    registry = registry_for(tmp_path)
    store = Outage(StateRunStore(registry))
    manager = RunManager(store, runner)  # type: ignore[arg-type]
    ready = {"scheduler": True}
    app = create_app(registry, store, manager,  # type: ignore[arg-type]
                     checks={"store": store.ping, "scheduler": lambda: ready["scheduler"]})
    seen: dict[tuple[str, str], set[int]] = {route: set() for route in ANSWERS}
    with serving(app) as base:
        doc = documented(base)

        def saw(method: str, route: str, status: int) -> None:
            seen[(method, route)].add(status)

        sync, latest, one = "/v1/sync", "/v1/runs/latest", "/v1/runs/{run_id}"
        first = post_sync(base, body_of(A), SECRETS[A])
        saw("POST", sync, first.status_code)
        run_id = first.json()["run_id"]
        saw("POST", sync, post_sync(base, body_of(A, nonce="2"), SECRETS[A]).status_code)  # 409
        saw("POST", sync, post_sync(base, b"{", SECRETS[A]).status_code)
        saw("POST", sync, post_sync(base, body_of(A), None).status_code)
        saw("POST", sync, post_sync(base, b"x" * 20_000, SECRETS[A]).status_code)
        saw("POST", sync, post_sync(base, body_of(A), SECRETS[A], content_type="text/plain").status_code)
        saw("POST", sync, late_body(base))
        runner.gate.set()
        wait_for_state(base, run_id, SECRETS[A], {"done"})
        saw("GET", latest, get_signed(base, latest, f"spreadsheet={A}", SECRETS[A]).status_code)
        saw("GET", latest, get_signed(base, latest, f"spreadsheet={B}", SECRETS[B]).status_code)  # 404
        saw("GET", latest, get_signed(base, latest, f"spreadsheet={A}&include_previews=maybe", SECRETS[A]).status_code)
        saw("GET", latest, get_signed(base, latest, f"spreadsheet={A}", None).status_code)
        saw("GET", one, get_signed(base, f"/v1/runs/{run_id}", "", SECRETS[A]).status_code)
        saw("GET", one, get_signed(base, "/v1/runs/nope", "", SECRETS[A]).status_code)
        saw("GET", one, get_signed(base, f"/v1/runs/{run_id}", "", None).status_code)
        for route in ("/healthz", "/readyz", "/metrics"):
            saw("GET", route, requests.get(base + route, timeout=10).status_code)
        store.down = True
        saw("GET", latest, get_signed(base, latest, f"spreadsheet={A}", SECRETS[A]).status_code)
        saw("GET", one, get_signed(base, f"/v1/runs/{run_id}", "", SECRETS[A]).status_code)
        store.down = False
        ready["scheduler"] = False
        r = requests.get(base + "/readyz", timeout=10)
        saw("GET", "/readyz", r.status_code)
        assert r.json()["checks"] == {"store": True, "scheduler": False}
        manager.shutdown()
        store.close()
        saw("POST", sync, post_sync(base, body_of(B), SECRETS[B]).status_code)  # 503: closing
    assert seen == {route: set(codes) for route, codes in ANSWERS.items()}
    assert doc == seen
