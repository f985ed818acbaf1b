"""Prometheus metrics: API requests and retries counted by the session hook, runs and rows recorded."""
from __future__ import annotations

from prometheus_client import REGISTRY

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
