"""Exit codes and answers tell the truth: a server at base_url that is not inwise, and an outage.

Real HTTP to the sandbox with its fault hooks (``answer``: an HTML page or JSON cut short in
inwise's place; ``error_rate``: 503 to everything), real .xlsx files, the real CLI process.
"""
from __future__ import annotations

import json
import os

import pytest
from util import column, make_config, write_workbook

from sheets_connector.errors import InwiseAddressError, InwiseUnavailable
from sheets_connector.inwise.wire import API_ADDRESS
from sheets_connector.sync import Collaborators, sync
from sheets_connector.sync.breaker import NOT_SENT_UNAVAILABLE

ENV = {"INWISE_API_KEY": "test-key"}


def _rows(n: int) -> list[list[object]]:
    return [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(n)]


def _posts(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("POST /contacts", {}).values())


def test_an_html_page_at_base_url_is_never_applied_and_the_next_run_sends_every_row(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", _rows(12))
    cfg = make_config(tmp_path, sandbox.base_url)
    sandbox.set_faults(answer="html")
    with pytest.raises(InwiseAddressError) as e:
        sync(cfg, Collaborators(environ=ENV))
    text = str(e.value)
    assert "web page (HTML, titled 'Down for maintenance')" in text and API_ADDRESS in text
    assert "inwise.base_url" in text and "sends them again" in text
    assert _posts(sandbox) <= 2 * 4  # stopped at the first answer: only what was already on its way
    assert "Sync result" not in _header(wb)  # nothing was written

    sandbox.set_faults(answer="json")
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.counts["created"] == 12 and s.counts["error"] == 0 and s.outage is None
    assert all(str(v).startswith("✓ created") for v in column(wb, "Sync result").values())


def _header(wb) -> list[object]:
    from openpyxl import load_workbook
    return [c.value for c in load_workbook(wb)["Contacts"][1]]


def test_a_page_that_appears_mid_run_stops_it_at_the_first_and_rows_answered_before_are_kept(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", _rows(10))
    cfg = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 1")

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "send" and done == 3:
            sandbox.set_faults(answer="html")

    with pytest.raises(InwiseAddressError):
        sync(cfg, Collaborators(environ=ENV, progress=progress))
    answers = sandbox.stats()["requests"]["POST /contacts"]
    assert answers["200 html"] == 1  # one request (concurrency 1) met the page: nothing was sent after it
    answered = answers["200"]  # 3, or a few more already on their way when the page appeared
    assert 3 <= answered < 10
    sandbox.set_faults(answer="json")
    sandbox.reset_stats()
    s = sync(cfg, Collaborators(environ=ENV))
    # the rows inwise answered are written without sending them again; the others are sent
    assert s.recovered == answered and _posts(sandbox) == 10 - answered
    assert s.counts["created"] == 10
    assert all(str(v).startswith("✓ created") for v in column(wb, "Sync result").values())


def test_json_cut_short_is_not_an_answer_of_inwise(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", _rows(3))
    cfg = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 1")
    sandbox.set_faults(answer="truncated")
    with pytest.raises(InwiseAddressError) as e:
        sync(cfg, Collaborators(environ=ENV))
    assert "JSON that was cut short or broken" in str(e.value)
    sandbox.set_faults(answer="json")
    s = sync(cfg, Collaborators(environ=ENV))  # inwise had applied it: sending it again updates the same contact
    assert s.counts["created"] + s.counts["updated"] == 3 and s.counts["error"] == 0


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_an_outage_trips_the_breaker_marks_the_rest_not_sent_and_the_next_run_sends_them(tmp_path, sandbox, mode):
    n = 80
    wb = write_workbook(tmp_path / "contacts.xlsx", _rows(n))
    extra = "  outage_after: 3\n  batch_size: 5" if mode == "batch" else "  outage_after: 5"
    cfg = make_config(tmp_path, sandbox.base_url, mode=mode, extra=extra)
    sandbox.set_faults(error_rate=1.0)
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.outage is not None and "inwise is unavailable" in s.outage and "Run the sync again later" in s.outage
    results = column(wb, "Sync result")
    not_sent = [r for r, v in results.items() if str(NOT_SENT_UNAVAILABLE) in str(v)]
    failed = [r for r, v in results.items() if str(v).startswith("✗ inwise error")]
    assert len(not_sent) + len(failed) == n and len(not_sent) >= n // 2
    calls = sandbox.stats()["total"]
    tries = 3 + 1  # the tests' retry policy: 3 retries
    if mode == "upsert":
        assert len(failed) <= 5 + 2 * 4 and calls <= len(failed) * tries  # no feed read while inwise is down
    else:
        assert len(failed) == 3 * 5 and calls <= 3 * tries
    assert f"{n - len(not_sent)} of {n} rows were sent" in s.outage

    sandbox.set_faults(error_rate=0.0)
    again = sync(cfg, Collaborators(environ=ENV))
    assert again.outage is None and again.counts["error"] == 0
    assert not any("not sent" in str(v) or "✗" in str(v) for v in column(wb, "Sync result").values())


def test_a_successful_row_resets_the_count(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", _rows(12))
    cfg = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 1\n  outage_after: 3\n  retries: 0")
    sandbox.set_faults(error_rate=0.5, seed=3)  # one draw per request: x.x..xx.xx.x (7 failures, never 3 in a row)
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.outage is None and s.counts["error"] == 7
    assert not any(str(NOT_SENT_UNAVAILABLE) in str(v) for v in column(wb, "Sync result").values())


def test_the_cli_exits_69_with_the_retry_advice(tmp_path, sandbox, launcher):
    write_workbook(tmp_path / "contacts.xlsx", _rows(30))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx}}
columns: {{email: Email, fields: {{1: First name}}}}
inwise:
  base_url: {sandbox.base_url}
  retries: 2
  retry: {{backoff_factor: 0.01, backoff_max: 0.05}}
  concurrency: 2
  outage_after: 4
""", encoding="utf-8")
    sandbox.set_faults(error_status=503, error_rate=1.0)
    # os.environ carries the test's own state folder (conftest): never the machine's real one
    child = launcher.start(["sync", "--config", str(mapping), "--json"], cwd=tmp_path, env={**os.environ, **ENV})
    assert launcher.wait(child) == InwiseUnavailable.exit_code == 69
    summary = json.loads(child.stdout())
    assert summary["outage"] and summary["counts"]["error"] == 30
    assert "Run the sync again later" in child.stderr() and "Traceback" not in child.stderr()
