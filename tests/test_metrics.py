"""Prometheus metrics: API requests and retries counted by the session hook, runs and rows recorded."""
from __future__ import annotations

import time
from pathlib import Path

import requests
from prometheus_client import REGISTRY
from service_helpers import SECRETS, GateRunner, body_of, live_service, post_sync, registry_for, wait_for_state

from sheets_connector import metrics
from sheets_connector.inwise.client import InwiseClient
from sheets_connector.retry import RetryPolicy
from sheets_connector.sandbox import Sandbox

KEY = "test-key"
FAST = RetryPolicy(backoff_factor=0.01, backoff_max=0.05, connect_timeout=2.0, read_timeout=5.0)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_inwise_requests_and_their_retries_are_counted() -> None:
    with Sandbox(api_keys=(KEY,)) as sb, InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        ok0, bad0 = value("sheets_connector_api_requests_total", api="inwise", status="2xx"), \
            value("sheets_connector_api_requests_total", api="inwise", status="4xx")
        retries0 = value("sheets_connector_api_retries_total", api="inwise")
        sb.fail_next(2, status=503)
        r = client.session.post(sb.base_url + "/contacts", json={"email": "a@example.com"}, timeout=5)
        assert r.status_code < 300
        r = client.session.post(sb.base_url + "/contacts", json={"email": 5}, timeout=5)
        assert 400 <= r.status_code < 500
        assert value("sheets_connector_api_requests_total", api="inwise", status="2xx") == ok0 + 1
        assert value("sheets_connector_api_requests_total", api="inwise", status="4xx") == bad0 + 1
        assert value("sheets_connector_api_retries_total", api="inwise") == retries0 + 2


def test_a_run_is_recorded_by_outcome_trigger_and_rows() -> None:
    before = value("sheets_connector_runs_total", outcome="failed", trigger="schedule")
    created = value("sheets_connector_rows_total", outcome="created")
    metrics.record_run("failed", "schedule", {"created": 3, "invalid": 0}, 12.5)
    assert value("sheets_connector_runs_total", outcome="failed", trigger="schedule") == before + 1
    assert value("sheets_connector_rows_total", outcome="created") == created + 3
    assert value("sheets_connector_run_duration_seconds_count", trigger="schedule") >= 1


def test_the_service_serves_its_runs_and_queue_on_metrics(tmp_path: Path) -> None:
    runner = GateRunner(results_dir=tmp_path)
    with live_service(registry_for(tmp_path), runner, max_parallel=1) as (base, _):
        def scrape() -> dict[str, float]:
            text = requests.get(base + "/metrics", timeout=10).text
            return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines() if line.startswith("sheets_connector_")}

        before = scrape()
        a = post_sync(base, body_of("sheet-a"), SECRETS["sheet-a"]).json()["run_id"]
        b = post_sync(base, body_of("sheet-b"), SECRETS["sheet-b"]).json()["run_id"]
        assert post_sync(base, body_of("sheet-a", nonce="2"), SECRETS["sheet-a"]).status_code == 409
        wait_for_state(base, a, SECRETS["sheet-a"], {"running"})
        during = scrape()
        assert during["sheets_connector_runs_running"] == 1 and during["sheets_connector_runs_queued"] == 1
        runner.gate.set()
        wait_for_state(base, b, SECRETS["sheet-b"], {"done"})
        done = 'sheets_connector_runs_total{outcome="done",trigger="menu"}'
        deadline = time.monotonic() + 30  # a run is counted as its worker finishes, just after its record
        while (after := scrape()).get(done, 0) - before.get(done, 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert after[done] - before.get(done, 0) == 2
    created = 'sheets_connector_rows_total{outcome="created"}'
    assert after[created] - before.get(created, 0) == 2 * runner.rows
    waits = "sheets_connector_lock_waits_total"
    assert after[waits] - before.get(waits, 0) == 1
    assert after["sheets_connector_runs_running"] == 0 and after["sheets_connector_runs_queued"] == 0
    assert not any("sheet-a" in name or "sheet-b" in name for name in after)  # no spreadsheet id in a label
