"""Hostile clients against the real service on uvicorn: slow heads and bodies, floods of
connections, smuggling shapes, oversized uploads (``service/guard.py``)."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from service_helpers import SECRETS, GateRunner, ListHandler, body_of, live_service, post_sync, registry_for

from sheets_connector.service.guard import ClientLimits, quiet_accept_errors

FAST = ClientLimits(head_timeout_s=0.3, body_timeout_s=0.3, max_connections=24)
WAIT_S = 20  # a socket timeout that only a broken guard reaches



@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    with live_service(registry_for(tmp_path), GateRunner(results_dir=tmp_path), clients=FAST) as (base, _):
        yield base


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=WAIT_S)
    return s


def read_all(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def test_an_idle_connection_and_a_half_sent_head_are_closed(service: str) -> None:
    idle = connect(service)
    half = connect(service)
    half.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert read_all(idle) == b""
    assert read_all(half) == b""


def test_a_body_shorter_than_its_length_gets_408_and_is_closed(service: str) -> None:
    s = connect(service)
    s.sendall(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 500\r\n\r\n{\"spreadsheet_id\":")
    answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'{"error":"request timeout"}' in answer


def test_content_length_with_transfer_encoding_is_refused(service: str) -> None:
    body = body_of("sheet-a")
    s = connect(service)
    s.sendall(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
              % (len(body), len(body), body))
    answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_a_huge_chunked_body_is_not_read_after_the_413(service: str) -> None:
    s = connect(service)
    s.sendall(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"[" * 64 * 1024)
    answer = b""
    sent = 0
    with pytest.raises(OSError):  # the server closes the connection: sending soon fails
        for _ in range(16 * 1024):  # 1 GiB if the server read it all
            s.sendall(chunk)
            sent += 1
    answer = read_all(s)
    assert sent < 1024, "the server read far past its 16 KiB limit"
    assert answer.startswith(b"HTTP/1.1 413 ") or answer == b""  # a reset may swallow the answer


def test_a_flood_of_slow_connections_leaves_room_for_healthz_and_clicks(service: str, service_log: ListHandler) -> None:
    slow = []
    for _ in range(FAST.max_connections * 3):
        s = connect(service)
        s.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest
        slow.append(s)
    try:
        assert requests.get(service + "/healthz", timeout=WAIT_S).status_code == 200
        r = post_sync(service, body_of("sheet-a"), SECRETS["sheet-a"])
        assert r.status_code == 202, r.text
        full = [line for line in service_log.lines if '"connections_full"' in line]
        assert len(full) == 1, full  # one line for the episode, not one per connection
    finally:
        for s in slow:
            s.close()


def test_accept_failures_are_logged_once_per_episode(service_log: ListHandler) -> None:
    loop = asyncio.new_event_loop()
    now = [0.0]
    try:
        quiet_accept_errors(loop, clock=lambda: now[0], quiet_s=60)
        handler = loop.get_exception_handler()
        assert handler is not None
        for i in range(10_000):
            now[0] = i * 0.001
            handler(loop, {"message": "socket.accept() out of system resource",
                           "exception": OSError(24, "Too many open files")})
        now[0] = 1000.0
        handler(loop, {"message": "socket.accept() out of system resource", "exception": OSError(24, "x")})
    finally:
        loop.close()
    failing = [line for line in service_log.lines if "accept_failing" in line]
    ended = [line for line in service_log.lines if "accept_failures_ended" in line]
    assert len(failing) == 2
    assert len(ended) == 1 and '"failures": 10000' in ended[0]
