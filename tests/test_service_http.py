"""The sync service over real HTTP: uvicorn on 127.0.0.1, the real app, a SQLite run store."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from service_helpers import (
    SECRETS,
    GateRunner,
    ListHandler,
    body_of,
    get_signed,
    live_service,
    post_sync,
    registry_for,
    wait_for_state,
)

from sheets_connector.service.app import Limits, SyncRequest
from sheets_connector.service.signing import sign
from sheets_connector.state.location import ENV_URL

A, B = "sheet-a", "sheet-b"
UNAUTHORIZED = {"error": "unauthorized"}



@pytest.fixture
def runner(tmp_path: Path) -> GateRunner:
    return GateRunner(results_dir=tmp_path)


@pytest.fixture
def service(tmp_path: Path, runner: GateRunner) -> Iterator[str]:
    configs = tmp_path / "configs"
    configs.mkdir()
    with live_service(registry_for(configs), runner,
                      limits=Limits(max_body_bytes=4096)) as (base, _store):
        yield base


def test_healthz_and_readyz_are_unsigned_and_readyz_reports_the_store(service: str) -> None:
    r = requests.get(service + "/healthz", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = requests.get(service + "/readyz", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["checks"] == {"store": True}


def test_a_signed_trigger_answers_202_at_once_and_the_run_finishes_in_the_background(
        service: str, runner: GateRunner) -> None:
    r = post_sync(service, body_of(A, worksheet="אנשי קשר", requested_by="dana@example.com"), SECRETS[A])
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    assert r.json()["status_url"] == f"/v1/runs/{run_id}"
    running = wait_for_state(service, run_id, SECRETS[A], {"running"}, until=lambda s: s["progress"] is not None)
    assert running["progress"] == {"stage": "send", "done": 0, "total": 3}
    assert running["worksheet"] == "אנשי קשר" and running["requested_by"] == "dana@example.com"
    runner.gate.set()
    done = wait_for_state(service, run_id, SECRETS[A], {"done"})
    assert done["counts"] == {"created": 3, "invalid": 1}
    assert done["problems"] == [{"row": 9, "outcome": "invalid", "detail": 'invalid email "x@@y"'}]
    assert done["started_at"] and done["finished_at"] and done["error"] is None
    assert runner.calls == [(A, False, "menu")]
    latest = get_signed(service, "/v1/runs/latest", f"spreadsheet={A}", SECRETS[A])
    assert latest.status_code == 200 and latest.json()["id"] == run_id


def test_answers_are_ascii_json(service: str, runner: GateRunner) -> None:
    runner.gate.set()
    run_id = post_sync(service, body_of(A, worksheet="גיליון"), SECRETS[A]).json()["run_id"]
    wait_for_state(service, run_id, SECRETS[A], {"done"})
    raw = get_signed(service, f"/v1/runs/{run_id}", "", SECRETS[A]).content
    assert raw.isascii() and b"\\u05d2" in raw


def test_a_preview_is_not_the_last_sync_unless_asked(service: str, runner: GateRunner) -> None:
    runner.gate.set()
    run_id = post_sync(service, body_of(A, dry_run=True), SECRETS[A]).json()["run_id"]
    status = wait_for_state(service, run_id, SECRETS[A], {"done"})
    assert status["dry_run"] is True and status["would_send"] == 3
    assert status["preview"] == [{"row": 2, "email": "a@example.com"}]
    assert status["preview_lines"] == ["row 2: a@example.com"]
    assert get_signed(service, "/v1/runs/latest", f"spreadsheet={A}", SECRETS[A]).status_code == 404
    with_previews = get_signed(service, "/v1/runs/latest", f"spreadsheet={A}&include_previews=true", SECRETS[A])
    assert with_previews.json()["id"] == run_id


# --- refusals --------------------------------------------------------------------------------------


def test_refusals_of_post_give_no_detail(service: str, runner: GateRunner) -> None:
    good = body_of(A)
    now = int(time.time())
    cases = {
        "no signature": post_sync(service, good, None),
        "garbage header": post_sync(service, good, None, header="hello"),
        "no v1": post_sync(service, good, None, header=f"t={now}"),
        "wrong secret": post_sync(service, good, "not-the-secret-of-any-sheet"),
        "signed by another sheet": post_sync(service, good, SECRETS[B]),
        "unknown spreadsheet": post_sync(service, body_of("sheet-unknown"), SECRETS[A]),
        "an hour old": post_sync(service, good, SECRETS[A], t=now - 3600),
        "an hour ahead": post_sync(service, good, SECRETS[A], t=now + 3600),
        "body changed after signing": post_sync(
            service, body_of(A, dry_run=True), None, header=sign(SECRETS[A], good, now)),
    }
    for name, r in cases.items():
        assert (r.status_code, r.json()) == (401, UNAUTHORIZED), name
    # an unknown spreadsheet is answered byte for byte like a bad signature
    assert cases["unknown spreadsheet"].content == cases["wrong secret"].content
    assert cases["unknown spreadsheet"].headers.get("content-length") == cases["wrong secret"].headers.get("content-length")
    assert runner.calls == []


def test_a_replayed_request_is_refused(service: str) -> None:
    body = body_of(A, nonce="n-1")
    header = sign(SECRETS[A], body, int(time.time()))
    first = post_sync(service, body, None, header=header)
    again = post_sync(service, body, None, header=header)
    assert first.status_code == 202
    assert (again.status_code, again.json()) == (401, UNAUTHORIZED)


def test_a_timestamp_is_accepted_within_300_s_of_the_service_clock_either_way(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    now = 1_551_700_800  # the service's (injected) clock: 2019-03-04 12:00 UTC, far from today
    runner = GateRunner(results_dir=tmp_path)
    runner.gate.set()
    with live_service(registry_for(configs), runner, clock=lambda: now) as (base, _):
        answers = {t: post_sync(base, body_of(A, nonce=str(t)), SECRETS[A], t=now + t).status_code
                   for t in (-301, -300, -299, 0, 299, 300, 301)}
    # past the signature check a trigger starts the run (202) or finds it still running (409)
    assert set(answers.values()) <= {202, 401, 409}
    assert [t for t, status in answers.items() if status != 401] == [-300, -299, 0, 299, 300]


def test_bodies_over_the_limit_are_refused_before_anything_else(service: str) -> None:
    big = body_of(A, requested_by="x" * 5000)
    assert post_sync(service, big, SECRETS[A]).status_code == 413
    # chunked (no Content-Length): counted as it arrives
    chunks = iter([big[:3000], big[3000:]])
    r = requests.post(service + "/v1/sync", data=chunks, timeout=30,
                      headers={"Content-Type": "application/json", "X-Signature": sign(SECRETS[A], big, int(time.time()))})
    assert (r.status_code, r.json()) == (413, {"error": "request too large"})


def test_wrong_content_type_is_refused(service: str) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", ""):
        r = post_sync(service, body_of(A), SECRETS[A], content_type=ctype)
        assert (r.status_code, r.json()) == (415, {"error": "send application/json"}), ctype
    assert post_sync(service, body_of(A), SECRETS[A], content_type="application/json; charset=utf-8").status_code == 202


@pytest.mark.parametrize("body", [
    b"{not json",
    b"\xff\xfe\x00",
    b"[]",
    json.dumps({"worksheet": "Contacts"}).encode(),  # no spreadsheet id
    json.dumps({"spreadsheet_id": A, "dry_run": "yes"}).encode(),
    json.dumps({"spreadsheet_id": A, "config_path": "../../etc/other.yaml"}).encode(),  # the body never picks files
    json.dumps({"spreadsheet_id": A, "base_url": "http://127.0.0.1:1/"}).encode(),
    b"[" * 2000 + b"]" * 2000,  # deeper than the JSON parser's recursion
], ids=["malformed", "not utf-8", "array", "no id", "dry_run not bool", "config path", "url", "deep array"])
def test_a_well_signed_but_malformed_body_is_refused(service: str, runner: GateRunner, body: bytes) -> None:
    r = post_sync(service, body, SECRETS[A])
    assert (r.status_code, r.json()) == (400, {"error": "bad request"})
    assert runner.calls == []


def test_status_reads_are_signed_too(service: str) -> None:
    run_id = post_sync(service, body_of(A), SECRETS[A]).json()["run_id"]
    path = f"/v1/runs/{run_id}"
    assert get_signed(service, path, "", SECRETS[A]).status_code == 200
    assert get_signed(service, path, "", None).status_code == 401
    assert get_signed(service, path, "", "wrong-secret-0123456789").status_code == 401
    assert get_signed(service, path, "", SECRETS[A], t=int(time.time()) - 400).status_code == 401
    # a signature is for one path: reusing another path's signature fails
    assert get_signed(service, path, "", SECRETS[A], signed_path="/v1/runs/other").status_code == 401
    # another sheet's secret cannot see this run: the same answer as a run that does not exist
    other = get_signed(service, path, "", SECRETS[B])
    missing = get_signed(service, "/v1/runs/0123abcd", "", SECRETS[B])
    assert (other.status_code, other.content) == (missing.status_code, missing.content) == (404, b'{"error":"not found"}')
    # latest: the query is signed as sent
    latest = "/v1/runs/latest"
    assert get_signed(service, latest, f"spreadsheet={A}", SECRETS[B]).status_code == 401
    assert get_signed(service, latest, "spreadsheet=sheet-unknown", SECRETS[A]).json() == UNAUTHORIZED
    assert get_signed(service, latest, "", SECRETS[A]).status_code == 400


# --- one run per sheet, several sheets side by side ---------------------------------------------------


def test_twenty_concurrent_triggers_for_one_sheet_start_exactly_one_run(service: str, runner: GateRunner) -> None:
    barrier = threading.Barrier(20)

    def trigger(i: int) -> requests.Response:
        body = body_of(A, nonce=f"click-{i}")
        header = sign(SECRETS[A], body, int(time.time()))
        barrier.wait()
        return post_sync(service, body, None, header=header)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(trigger, range(20)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] + [409] * 19
    run_id = next(r.json()["run_id"] for r in answers if r.status_code == 202)
    assert {r.json()["run_id"] for r in answers if r.status_code == 409} == {run_id}
    assert all(r.json()["error"] == "a sync of this spreadsheet is already running" for r in answers if r.status_code == 409)
    runner.gate.set()
    wait_for_state(service, run_id, SECRETS[A], {"done"})
    assert len(runner.calls) == 1
    # the lock is free again once the run has finished
    assert post_sync(service, body_of(A, nonce="after"), SECRETS[A]).status_code == 202


def test_different_sheets_run_side_by_side_up_to_the_setting(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    runner = GateRunner()
    with live_service(registry_for(configs), runner, max_parallel=1) as (base, _):
        a = post_sync(base, body_of(A), SECRETS[A]).json()["run_id"]
        b = post_sync(base, body_of(B), SECRETS[B])
        assert b.status_code == 202  # another sheet is not refused...
        wait_for_state(base, a, SECRETS[A], {"running"})
        # ...but waits: max_parallel=1 (A is held at the runner's gate until it is opened below)
        assert get_signed(base, f"/v1/runs/{b.json()['run_id']}", "", SECRETS[B]).json()["state"] == "queued"
        assert runner.calls == [("sheet-a", False, "menu")]
        runner.gate.set()
        wait_for_state(base, b.json()["run_id"], SECRETS[B], {"done"})
        assert [c[0] for c in runner.calls] == ["sheet-a", "sheet-b"] and runner.max_in_flight == 1
    runner2 = GateRunner()
    with live_service(registry_for(configs), runner2, max_parallel=2) as (base, _):
        # the same state store, so the same replay guard: new requests, not the first ones again
        a = post_sync(base, body_of(A, nonce="again"), SECRETS[A]).json()["run_id"]
        b = post_sync(base, body_of(B, nonce="again"), SECRETS[B]).json()["run_id"]
        wait_for_state(base, a, SECRETS[A], {"running"})
        wait_for_state(base, b, SECRETS[B], {"running"})
        assert runner2.max_in_flight == 2


# --- OpenAPI and logs ------------------------------------------------------------------------------------


def test_the_openapi_document_matches_the_routes(service: str) -> None:
    doc = requests.get(service + "/openapi.json", timeout=10).json()
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert documented == {
        ("/v1/sync", "POST"), ("/v1/runs/latest", "GET"), ("/v1/runs/{run_id}", "GET"), ("/healthz", "GET"),
        ("/readyz", "GET"), ("/metrics", "GET"),
    }
    # every documented route is served there: unsigned, the signed ones refuse, the others answer
    expected = {"/v1/sync": 401, "/v1/runs/latest": 401, "/v1/runs/{run_id}": 401, "/healthz": 200, "/readyz": 200,
                "/metrics": 200}
    for path, method in documented:
        url = service + path.replace("{run_id}", "x") + ("?spreadsheet=x" if path.endswith("latest") else "")
        r = requests.request(method, url, json={} if method == "POST" else None, timeout=10)
        assert r.status_code == expected[path], (path, r.status_code)
    assert requests.get(service + "/v1/other", timeout=10).status_code == 404
    for path, op in (("/v1/sync", "post"), ("/v1/runs/latest", "get"), ("/v1/runs/{run_id}", "get")):
        assert doc["paths"][path][op]["security"] == [{"signature": []}]
    assert "security" not in doc["paths"]["/healthz"]["get"]
    assert doc["components"]["securitySchemes"]["signature"] == {
        "type": "apiKey", "in": "header", "name": "X-Signature",
        "description": doc["components"]["securitySchemes"]["signature"]["description"]}
    sync = doc["paths"]["/v1/sync"]["post"]
    schema = sync["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == set(SyncRequest.model_fields)
    assert {"202", "400", "401", "409", "413", "415"} <= set(sync["responses"])


def test_one_log_line_per_request_and_per_run_and_never_a_secret(
        service: str, runner: GateRunner, service_log: ListHandler) -> None:
    runner.gate.set()
    body = body_of(A)
    header = sign(SECRETS[A], body, int(time.time()))
    run_id = post_sync(service, body, None, header=header).json()["run_id"]
    post_sync(service, body_of(A), "wrong-secret-0123456789")
    wait_for_state(service, run_id, SECRETS[A], {"done"})
    deadline = time.monotonic() + 10
    while not any('"event": "run"' in line for line in service_log.lines) and time.monotonic() < deadline:
        time.sleep(0.02)
    events = [json.loads(line) for line in service_log.lines]
    requests_logged = [e for e in events if e["event"] == "request"]
    posts = [e for e in requests_logged if e["method"] == "POST"]
    assert [(e["status"], e.get("run_id")) for e in posts] == [(202, run_id), (401, None)]
    assert posts[1]["refused"]
    runs = [e for e in events if e["event"] == "run"]
    assert len(runs) == 1 and runs[0]["run_id"] == run_id and runs[0]["state"] == "done"
    text = "\n".join(service_log.lines)
    for secret in SECRETS.values():
        assert secret not in text
    assert header.split("v1=")[1] not in text


def test_a_ten_megabyte_body_is_refused_unread(service: str) -> None:
    big = b'{"spreadsheet_id": "sheet-a", "worksheet": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    r = post_sync(service, big, SECRETS[A])
    assert (r.status_code, r.json()) == (413, {"error": "request too large"})
    assert requests.get(service + "/healthz", timeout=10).status_code == 200  # still serving


def test_readyz_says_not_ready_while_the_database_is_down_and_recovers_and_healthz_stays_alive(tmp_path: Path, pg_cluster, pg_url,
                                                                        monkeypatch) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    monkeypatch.setenv(ENV_URL, pg_url)
    with live_service(registry_for(configs), GateRunner()) as (base, _store):
        assert requests.get(base + "/readyz", timeout=10).status_code == 200
        pg_cluster.kill()
        try:
            r = requests.get(base + "/readyz", timeout=60)
            assert r.status_code == 503
            assert r.json() == {"status": "not ready", "checks": {"store": False}, "version": r.json()["version"]}
            assert requests.get(base + "/healthz", timeout=10).status_code == 200  # alive: do not restart it
            refused = post_sync(base, body_of(A), SECRETS[A])
            assert (refused.status_code, "Traceback" in refused.text) == (503, False)
        finally:
            pg_cluster.start()
        deadline = time.monotonic() + 90  # the pool reconnects with a backoff: ready again soon, not at once
        while requests.get(base + "/readyz", timeout=60).status_code != 200:
            assert time.monotonic() < deadline, "never ready again after the database came back"
            time.sleep(0.2)
        again = post_sync(base, body_of(A), SECRETS[A])
        assert again.status_code == 202, again.text
