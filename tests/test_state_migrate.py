"""``sheets-connector state migrate --to postgresql://...``: a SQLite state moved losing nothing
(undelivered feed answers, fingerprints, history), then used by a real sync."""
from __future__ import annotations

import json

from click.testing import CliRunner
from test_state_url import _mapping

from sheets_connector.cli import main
from sheets_connector.state import open_url
from sheets_connector.state.location import STORE_FILE

ACCOUNT = "api.example/abc"


def _feed(*ids: int) -> bytes:
    return json.dumps([{"id": i, "email": f"c{i}@example.com"} for i in ids]).encode()


def _snapshot(store, sheets: list[str]) -> dict:
    return {
        "pending": {s: [c["id"] for c in store.iter_pending(s, ACCOUNT)] for s in sheets},
        "rows": {s: store.row_records(s) for s in sheets},
        "runs": [(r.id, r.sheet, r.status, r.counts, r.error) for r in store.list_runs(limit=100)],
        "answers": [(a.id, a.state, a.contacts, a.problems) for a in store.feed_answers()],
        "raw": [store.feed_answer_raw(a.id) for a in store.feed_answers()],
        "interrupted": store.db.query("SELECT account, run_id FROM feed_inflight"),
    }


def test_a_sqlite_state_moves_to_postgresql_losing_nothing(tmp_path, pg_url):
    old = open_url(str(tmp_path / "state.db"))
    try:
        old.register_sheet("big", ACCOUNT)
        old.register_sheet("small", ACCOUNT)
        old.add_feed_answer(ACCOUNT, _feed(1, 2, 3))
        old.add_feed_answer(ACCOUNT, b"<html>busy</html>")  # unreadable: kept raw, read again later
        old.commit_saved("big", ACCOUNT, None, (), ["1", "2", "3"])  # big has them, small does not
        token, run = old.begin_run("book", "big", "big.xlsx", "sync", "cli", "2026-11-28T09:00:00")
        old.record_answers("big", run, [("a@example.com", "fp-a", {"outcome": "created", "contact_id": 1}),
                                        ("b@example.com", "fp-b", {"outcome": "updated"})])
        old.record_statuses("big", [("a@example.com", "✓ created · #1", "2026-11-28T09:00:01", None)])
        old.commit_saved("big", ACCOUNT, run, ["a@example.com"], [])
        old.finish_run(run, "ok", finished_at="2026-11-28T09:00:05", duration_s=5.0, counts={"created": 1})
        old.unlock("book", token)
        old.add_feed_answer(ACCOUNT, _feed(4))  # pulled, delivered to no sheet yet
        old.feed_request_started(ACCOUNT, 77)  # a request whose answer was never kept: told once, later
        before = _snapshot(old, ["big", "small"])
    finally:
        old.close()

    runner = CliRunner()
    done = runner.invoke(main, ["state", "migrate", "--from", str(tmp_path / "state.db"), "--to", pg_url])
    assert done.exit_code == 0, done.output
    assert "feed_answers: 3" in done.output and "runs: 1" in done.output

    new = open_url(pg_url)
    try:
        assert _snapshot(new, ["big", "small"]) == before
        assert before["pending"] == {"big": [4], "small": [1, 2, 3, 4]}
        assert new.start_run("big", "big.xlsx", "sync", "cli", "2026-11-29T09:00:00") > run  # ids go on
        assert new.take_interrupted_feed_request(ACCOUNT)[0] == 77
        assert new.add_feed_answer(ACCOUNT, _feed(5)).id > max(a[0] for a in before["answers"])
    finally:
        new.close()
    again = runner.invoke(main, ["state", "migrate", "--from", str(tmp_path / "state.db"), "--to", pg_url])
    assert again.exit_code != 0 and "already holds a state" in again.output and "Nothing was copied" in again.output


def test_after_the_move_a_sync_sends_nothing_it_had_sent(tmp_path, sandbox, pg_url, state_dir):
    mapping = _mapping(tmp_path, sandbox.base_url)
    env = {"INWISE_API_KEY": "test-key"}
    runner = CliRunner()
    assert runner.invoke(main, ["sync", "-c", mapping], env=env).exit_code == 0
    moved = runner.invoke(main, ["state", "migrate", "-c", mapping, "--to", pg_url])
    assert moved.exit_code == 0, moved.output
    assert str(state_dir / STORE_FILE) in moved.output.replace("\n", "")
    sandbox.reset_stats()
    done = runner.invoke(main, ["sync", "-c", mapping, "--json", "--state-url", pg_url], env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["counts"]["unchanged"] == 3 and not summary["api_calls"].get("POST /contacts")
