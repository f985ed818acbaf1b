"""The service's log as an operator reads it: JSON lines, an unexpected error's message and
traceback without secrets or personal data, and the run id on every line about a run."""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import SECRETS, GateRunner, body_of, live_service, post_sync, registry_for, wait_for_state

from sheets_connector.cancel import CancelToken
from sheets_connector.service import log

API_KEY = "inwise-key-7f3a9c1e5b2d4a6f8e0c"
EMAIL, PHONE = "dana.levi@example.co.il", "+972 54-123-4567"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's own formatter, as ``serve`` configures it, writing to a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(log._JsonLines())
    loggers = [logging.getLogger(log.LOGGER_NAME), logging.getLogger("sheets_connector")]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    try:
        yield out
    finally:
        for lg, level, propagate in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def broken_runner(config_path: Path, dry_run: bool, cancel: CancelToken, trigger: str, progress: Any,
                  worksheet: str | None = None, claim: Any = None) -> dict[str, Any]:
    logging.getLogger("sheets_connector.sync").warning("about to fail")  # a library line, during the run
    row = {"email": EMAIL}
    try:
        return {"counts": {"created": row["mobile"]}}  # type: ignore[dict-item]
    except KeyError:
        raise RuntimeError(f"row 7 {EMAIL} {PHONE} key={API_KEY} secret={SECRETS['sheet-a']} has no mobile") from None


def test_an_unexpected_error_is_logged_with_message_and_traceback_but_no_secret_or_personal_data(
        tmp_path: Path, json_log: io.StringIO) -> None:
    log.hide(SECRETS["sheet-a"], API_KEY)
    with live_service(registry_for(tmp_path), broken_runner) as (base, _):
        r = post_sync(base, body_of("sheet-a"), SECRETS["sheet-a"])
        run_id = r.json()["run_id"]
        wait_for_state(base, run_id, SECRETS["sheet-a"], {"failed"})
    text = json_log.getvalue()
    for value in (EMAIL, PHONE, API_KEY, SECRETS["sheet-a"], "54-123-4567"):
        assert value not in text
    (error,) = [e for e in lines(json_log) if e["event"] == "run_error"]
    assert error["run_id"] == run_id and error["exception"] == "RuntimeError"
    assert error["message"] == "row 7 <email> <number> key=<secret> secret=<secret> has no mobile"
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "in broken_runner" in error["traceback"] and "KeyError" not in error["traceback"].split("RuntimeError")[-1]
    library = [e for e in lines(json_log) if e.get("message") == "about to fail"]
    assert library and library[0]["run_id"] == run_id  # the library's line names the run too


def test_a_409_names_the_run_that_holds_the_sheet(tmp_path: Path, json_log: io.StringIO) -> None:
    runner = GateRunner(results_dir=tmp_path)
    with live_service(registry_for(tmp_path), runner) as (base, _):
        first = post_sync(base, body_of("sheet-a"), SECRETS["sheet-a"]).json()["run_id"]
        second = post_sync(base, body_of("sheet-a", nonce="2"), SECRETS["sheet-a"])
        assert second.status_code == 409 and second.json()["run_id"] == first
        runner.gate.set()
        wait_for_state(base, first, SECRETS["sheet-a"], {"done"})
    requests_logged = [e for e in lines(json_log) if e["event"] == "request" and e["path"] == "/v1/sync"]
    assert [(e["status"], e.get("run_id"), e.get("refused")) for e in requests_logged] == [
        (202, first, None), (409, first, "busy")]
    about_run = [e for e in lines(json_log) if e["event"] in ("run_queued", "run")]
    assert about_run and all(e["run_id"] == first for e in about_run)
