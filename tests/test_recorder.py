"""Per-row answers kept as group commits (sync/recorder.py), against a real SQLite store."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from sheets_connector.cancel import CancelToken
from sheets_connector.config import SheetIdentity
from sheets_connector.results import RowOutcome
from sheets_connector.state import SqliteStore
from sheets_connector.sync.recorder import AnswerRecorder
from sheets_connector.sync.session import RunSession
from sheets_connector.sync.summary import RunSummary
from sheets_connector.tables.base import RowKey

SHEET = "xlsx:book.xlsx#Contacts"


class Watched(SqliteStore):
    """The store, telling each commit of answers (how many rows) as it happens."""

    def __init__(self, path):
        super().__init__(path)
        self.commits: list[int] = []
        self.committed = threading.Event()

    def record_answers(self, sheet, run_id, answers):
        super().record_answers(sheet, run_id, answers)
        self.commits.append(len(answers))
        self.committed.set()


@pytest.fixture
def lab(tmp_path):
    store = Watched(tmp_path / "state.db")
    token, run_id = store.begin_run("xlsx:book.xlsx", SHEET, "book.xlsx", "sync", "cli",
                                    datetime.now(timezone.utc).isoformat())
    session = RunSession(store, SheetIdentity("xlsx:book.xlsx", SHEET, "book.xlsx"), "account", run_id,
                         lambda: datetime.now(timezone.utc))
    yield store, session
    store.close()


def outcome(i: int) -> RowOutcome:
    return RowOutcome(i + 2, "created", contact_id=1000 + i, key=RowKey("email", f"r{i}@example.com"))


def recorder(session, cancel=None, group=8) -> tuple[AnswerRecorder, RunSummary]:
    summary = RunSummary("sync", "book.xlsx", "upsert")
    fingerprints = {i + 2: f"fp{i}" for i in range(100)}
    return AnswerRecorder(session, fingerprints, summary, cancel or CancelToken(), grouped=True, group=group), summary


def test_a_lone_answer_is_committed_without_waiting_for_its_group(lab):
    store, session = lab
    rec, _ = recorder(session)
    rec([outcome(0)])  # one answer of a group of 8: committed once its gather time is up, not at close
    assert store.committed.wait(30), "the answer waited for a group that never came"
    assert rec.unkept() == 0
    rec.close()
    assert store.commits == [1]


def test_answers_arriving_together_share_a_commit_and_close_keeps_every_one(lab):
    store, session = lab
    rec, _ = recorder(session, group=50)
    for i in range(40):
        rec([outcome(i)])
    rec.close()  # the stage ends: what waits is committed before it returns
    assert sum(store.commits) == 40 and len(store.commits) < 40
    kept = store.row_records(SHEET)
    assert sorted(kept) == sorted(f"email:r{i}@example.com" for i in range(40))
    assert kept["email:r7@example.com"].outcome["contact_id"] == 1007


def test_a_lost_lock_found_by_a_commit_stops_the_sends(lab):
    store, session = lab
    with store.db.write() as cur:  # another run took the lock over
        cur.execute("UPDATE locks SET token='theirs'")
    cancel = CancelToken()
    rec, summary = recorder(session, cancel)
    rec([outcome(0)])
    assert cancel.wait(30) and "lost its lock" in cancel.reason
    rec([outcome(1)])  # handed over after the failure: dropped, the run stops at its next stage
    rec.close()
    assert rec.unkept() == 0 and store.row_records(SHEET) == {}


def test_an_outcome_keeps_exactly_its_fields_not_at_their_default():
    """What the store keeps of an outcome: row, outcome, key, and each other field only when it is
    not at its default - the common rows' shortcut and the general case alike, read back equal."""
    from dataclasses import fields, replace

    from sheets_connector.messages.catalog import msg
    from sheets_connector.sync.changes import outcome_dict, outcome_from

    base = RowOutcome(7, "updated", key=RowKey("email", "a@example.com"))
    given = {"contact_id": 439130001, "reason": msg("sync.stopped"), "conflict": {"email": 5},
             "unconfirmed": msg("inwise.batch_unconfirmed", n=2), "unsettled": True, "created_stamp": "2026-01-02"}
    assert set(given) == {f.name for f in fields(RowOutcome)} - {"row", "outcome", "key"}
    assert outcome_dict(base) == {"row": 7, "outcome": "updated", "key": {"kind": "email", "value": "a@example.com"}}
    assert outcome_dict(replace(base, key=None)) == {"row": 7, "outcome": "updated"}
    for name, value in given.items():
        o = replace(base, **{name: value})
        d = outcome_dict(o)
        assert set(d) == {"row", "outcome", "key", name}
        assert outcome_from(d) == o
    everything = replace(base, **given)
    assert set(outcome_dict(everything)) == {"row", "outcome", "key", *given}
    assert outcome_from(outcome_dict(everything)) == everything
