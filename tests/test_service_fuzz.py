"""Fuzz: malformed signature headers, paths and JSON bodies against the real service on uvicorn.

Every request is sent raw over a socket (so bytes no HTTP client would send get through), both
unsigned and validly signed (so a malformed body or path reaches the code behind the signature
check).  The answer must be a refusal (400, 401, 404, 408, 413, 415) or, for the few well-formed
cases, 200/202/409: never 500.  The seeded generator makes the run repeatable; the figures (requests
tried, answers by status) are printed with ``-s``.
"""
from __future__ import annotations

import json
import random
import socket
import time
from collections import Counter
from pathlib import Path

from service_helpers import SECRETS, GateRunner, live_service, registry_for

from sheets_connector.service.signing import sign, signed_text_for_get

SHEET = "sheet-a"
SECRET = SECRETS[SHEET]
REFUSALS = {400, 401, 404, 405, 408, 413, 415}  # 405: a route asked with the wrong method
ACCEPTED = {200, 202, 409}

ODD_TEXT = ["²", "٣", "１", "\u00a0", "\x00", "\x7f", "\u202e", "é", "🙂", "%", "%00", "%C2%B2", "%ZZ", "..", "//",
            "\\", "?", "#", ";", ",", "=", " ", "\t", "-1", "1e9", "0x1f", "NaN", "9" * 40, "a" * 5000]


def odd(rng: random.Random) -> str:
    return "".join(rng.choice(ODD_TEXT) for _ in range(rng.randint(1, 4)))


def signature_headers(rng: random.Random, good: str) -> list[bytes]:
    t, _, v1 = good.partition(",")
    shapes = [
        "", ",", "t=", "v1=", "t=,v1=", good.upper(), good + ",", "," + good, good.replace(",", ";"),
        good.replace("=", ":"), good.replace("t=", "t=²"), good.replace("t=", "t=-"), good.replace("t=", "t= "),
        t + "," + t + "," + v1, t + "," + ",".join([v1] * 50), t + ",v1=" + "g" * 64, "t=99999999999999999999," + v1,
        good[:-1], good + "0", good * 3, "x" * 5000,
    ]
    shapes += [rng.choice([t, v1, good]) + odd(rng) for _ in range(40)]
    shapes += [odd(rng) + "=" + odd(rng) for _ in range(40)]
    out = [s.encode("utf-8") for s in shapes]
    out += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 80))).replace(b"\r", b"").replace(b"\n", b"")
            for _ in range(40)]
    return out


def paths(rng: random.Random) -> list[str]:
    bases = ["/v1/runs/", "/v1/runs/history-", "/v1/runs/history-1.", "/v1/runs/latest", "/v1/sync", "/healthz",
             "/v1/", "/", "/openapi.json"]
    out = [b + odd(rng) for b in bases for _ in range(25)]
    out += ["/v1/runs/latest?" + q for q in ["", "spreadsheet=", "spreadsheet=" + odd(rng), "include_previews=x",
                                             f"spreadsheet={SHEET}&include_previews={odd(rng)}",
                                             f"spreadsheet={SHEET}&spreadsheet=x", "spreadsheet=" + "a" * 300]]
    out += ["/v1/runs/history-%C2%B2." + SHEET, "/v1/runs/history-99999999999999999999." + SHEET,
            "/v1/runs/" + "a" * 65, "/v1/runs/%2e%2e/%2e%2e/healthz"]
    # keep what can travel on a request line: no spaces or control characters unescaped
    return ["".join(c if 0x21 <= ord(c) < 0x7f else f"%{ord(c):02X}" if ord(c) < 0x80 else
                    "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in p) for p in out]


def bodies(rng: random.Random) -> list[bytes]:
    good = {"spreadsheet_id": SHEET, "worksheet": "Contacts", "dry_run": False}
    values: list[object] = [None, True, 0, -1, 1e308, 10**400, "", "x" * 300, [], {}, [[[]]], odd(rng), "²"]
    out = [b"", b"{", b"}", b"[]", b"null", b"0", b'"x"', b"NaN", b"Infinity", b"[" * 5000 + b"]" * 5000,
           b"{\"a\":" * 3000 + b"1" + b"}" * 3000, b"\xff\xfe", b"\xef\xbb\xbf{}", b'{"spreadsheet_id":"\\ud800"}',
           b'{"spreadsheet_id":"sheet-a","spreadsheet_id":"sheet-b"}', b"x" * 20000,
           json.dumps(good).encode() + b"garbage", json.dumps([good]).encode()]
    for key in [*good, "requested_by", "nonce", "extra", "__proto__", "", "²"]:
        for _ in range(10):
            out.append(json.dumps({**good, key: rng.choice(values)}, ensure_ascii=rng.random() < 0.5).encode("utf-8"))
    for _ in range(150):
        raw = bytearray(json.dumps({**good, "nonce": str(rng.random())}).encode())
        for _ in range(rng.randint(1, 3)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        out.append(bytes(raw))
    return out


def exchange(base: str, request: bytes) -> int:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split()[1]) if status_line.startswith(b"HTTP/1.1 ") else 0


def raw(method: str, path: str, headers: dict[str, bytes], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode("ascii"), b"Host: 127.0.0.1", b"Connection: close"]
    lines += [k.encode("ascii") + b": " + v for k, v in headers.items()]
    if method == "POST":
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def test_no_malformed_request_gets_a_500(tmp_path: Path) -> None:
    rng = random.Random(18)
    runner = GateRunner(results_dir=tmp_path)
    tally: Counter[int] = Counter()
    bad: list[str] = []
    with live_service(registry_for(tmp_path), runner) as (base, _):
        def send(kind: str, request: bytes, allowed: set[int]) -> None:
            status = exchange(base, request)
            tally[status] += 1
            if status not in allowed:
                bad.append(f"{kind}: {status} for {request[:160]!r}")

        now = int(time.time())
        body = json.dumps({"spreadsheet_id": SHEET, "nonce": "fuzz"}).encode()
        for header in signature_headers(rng, sign(SECRET, body, now)):
            post = raw("POST", "/v1/sync", {"Content-Type": b"application/json", "X-Signature": header}, body)
            send("signature header (POST)", post, REFUSALS | ACCEPTED)
            get_text = signed_text_for_get("/v1/runs/latest", f"spreadsheet={SHEET}")
            good_get = sign(SECRET, get_text, now)
            mutated = header if rng.random() < 0.5 else good_get.encode() + header
            send("signature header (GET)", raw("GET", f"/v1/runs/latest?spreadsheet={SHEET}", {"X-Signature": mutated}),
                 REFUSALS | ACCEPTED)
        for path in paths(rng):
            route, _, query = path.partition("?")
            send("path (unsigned)", raw("GET", path, {}), REFUSALS | {200})
            signed = sign(SECRET, signed_text_for_get(route, query), now)
            send("path (signed)", raw("GET", path, {"X-Signature": signed.encode()}), REFUSALS | {200})
            send("path (POST)", raw("POST", path, {"Content-Type": b"application/json",
                                                   "X-Signature": sign(SECRET, b"{}", now).encode()}, b"{}"),
                 REFUSALS)
        for i, data in enumerate(bodies(rng)):
            for content_type in (b"application/json", b"application/json; charset=utf-8", b"text/plain", b"\xc2\xb2"):
                signed = sign(SECRET, data, now + i % 50).encode()  # a new t now and then: replays are 401 too
                send("body", raw("POST", "/v1/sync", {"Content-Type": content_type, "X-Signature": signed}, data),
                     REFUSALS | ACCEPTED)
        runner.gate.set()
    total = sum(tally.values())
    print(f"\nfuzz: {total} requests; answers by status: {dict(sorted(tally.items()))}")
    assert not bad, "\n".join(bad[:20])
    assert tally[500] == 0 and total > 1500


def test_a_missing_query_parameter_is_401_unsigned_and_400_signed(tmp_path: Path) -> None:
    with live_service(registry_for(tmp_path), GateRunner(results_dir=tmp_path)) as (base, _):
        now = int(time.time())
        for query in ("", "include_previews=true", "spreadsheet=", f"spreadsheet={SHEET}&include_previews=maybe"):
            path = "/v1/runs/latest" + ("?" + query if query else "")
            assert exchange(base, raw("GET", path, {})) == 401, query
            signed = sign(SECRET, signed_text_for_get("/v1/runs/latest", query), now).encode()
            assert exchange(base, raw("GET", path, {"X-Signature": signed})) == 400, query
