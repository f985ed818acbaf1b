"""Prometheus metrics (``prometheus-client``), served by the web service on ``/metrics``.

Names and labels (no label ever holds a spreadsheet id, a row or an address):

- ``sheets_connector_runs_total{outcome,trigger}``        runs finished: done, failed, cancelled
- ``sheets_connector_rows_total{outcome}``                rows by result: created, updated, invalid...
- ``sheets_connector_run_duration_seconds{trigger}``      how long runs took (histogram)
- ``sheets_connector_api_requests_total{api,status}``     inwise and Google requests by answer class
  (2xx, 4xx, 5xx), each after its retries
- ``sheets_connector_api_retries_total{api}``             the retries made on the way
- ``sheets_connector_runs_queued`` / ``_runs_running``    the service's queue length and runs at work
- ``sheets_connector_lock_waits_total``                   starts refused because another run (menu,
  schedule, command line, another replica) held the sheet

Requests are counted by a ``requests`` response hook (``watch``): the final answer's status, and
its retries from urllib3's retry history, so the counting sits beside the one retry policy
instead of inside every call.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("sheets_connector_runs", "Runs finished, by outcome and trigger.", ["outcome", "trigger"])
ROWS = Counter("sheets_connector_rows", "Rows by outcome, over the runs finished.", ["outcome"])
RUN_SECONDS = Histogram("sheets_connector_run_duration_seconds", "How long runs took, by trigger.", ["trigger"],
                        buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200))
API_REQUESTS = Counter("sheets_connector_api_requests", "inwise and Google API requests by answer class "
                       "(after retries).", ["api", "status"])
API_RETRIES = Counter("sheets_connector_api_retries", "Retries of inwise and Google API requests.", ["api"])
QUEUED = Gauge("sheets_connector_runs_queued", "Runs waiting for a worker.")
RUNNING = Gauge("sheets_connector_runs_running", "Runs at work.")
LOCK_WAITS = Counter("sheets_connector_lock_waits", "Starts refused (or queued runs stopped) because another "
                     "run held the sheet.")


def watch(session: requests.Session, api: str) -> None:
    """Count ``session``'s requests and their retries under ``api`` (``inwise``, ``google``)."""

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        API_REQUESTS.labels(api, f"{response.status_code // 100}xx").inc()
        retries = getattr(getattr(response.raw, "retries", None), "history", None)
        if retries:
            API_RETRIES.labels(api).inc(len(retries))

    session.hooks["response"].append(count)


def record_run(outcome: str, trigger: str, counts: Mapping[str, int], seconds: float) -> None:
    RUNS.labels(outcome, trigger).inc()
    RUN_SECONDS.labels(trigger).observe(seconds)
    for row_outcome, n in counts.items():
        if n:
            ROWS.labels(row_outcome).inc(n)
