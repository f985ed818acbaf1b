"""The whole pass, end to end: real .xlsx files, real HTTP to the sandbox, results read back."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace

import pytest
from util import column, make_config, tab_rows, write_workbook

from sheets_connector.cancel import CancelToken
from sheets_connector.errors import InwiseAuthError, SourceError
from sheets_connector.state import PulledStore, open_store
from sheets_connector.sync import Collaborators, pull_new, sync

ENV = {"INWISE_API_KEY": "test-key"}
ROWS = [
    ["Dana", "Cohen", "dana@example.co.il", "054-1111111", dt.date(1980, 6, 12)],  # 2 created
    ["Noa", "Levi", "NOA.LEVI@example.co.il", "0521234567", None],  # 3 updated (seeded)
    ["Eitan", "Bar", "yossi.b@example.com", "0547654321", None],  # 4 conflict
    ["Rachel", "Green", "rachel@@example.com", "0543333333", None],  # 5 invalid email
    ["Tamar", "Peretz", "tamar@example.co.il", "2262649", None],  # 6 invalid mobile
    ["Noa", "L.", "noa.levi@example.co.il", None, None],  # 7 duplicate of 3
    [None, None, None, None, None],  # 8 empty
    ["Yossi", "Mizrahi", None, 541111112, None],  # 9 created (numeric mobile)
]
SEED = [
    {"email": "noa.levi@example.co.il", "mobile_number": "972521234567"},
    {"email": "yossi.b@example.com", "mobile_number": "972531111111"},
    {"email": "miri@example.com", "mobile_number": "972547654321"},
]


@pytest.fixture
def seeded(sandbox):
    ids = sandbox.add_contacts(SEED)
    return sandbox, ids


def test_upsert_end_to_end(tmp_path, seeded):
    sandbox, ids = seeded
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    cfg = make_config(tmp_path, sandbox.base_url)
    s = sync(cfg, Collaborators(environ=ENV))

    assert s.counts == {"created": 2, "updated": 1, "conflict": 1, "invalid": 2, "missing": 0, "duplicate": 1,
                        "error": 0, "unchanged": 0}
    assert s.rows_read == 7 and s.empty_rows == 1
    assert s.api_calls == {"POST /contacts": 4, "GET /contacts": 1}
    res = column(wb, "Sync result")
    ident = column(wb, "inwise ID")
    assert res[2].startswith("✓ created · #") and str(ident[2]) in res[2]
    assert res[3].startswith(f"✓ updated · #{ids[0]}") and ident[3] == ids[0]
    assert res[4] == (f"✗ conflict: email → #{ids[1]}, mobile → #{ids[2]} (two different inwise contacts: "
                      "correct the email or the mobile, or merge the contacts in inwise)")
    assert "rachel@@example.com" in res[5] and "'Email'" in res[5]
    assert "2262649" in res[6]
    assert res[7] == "✗ duplicate of row 3 (same email) - not sent"
    assert res[8] is None  # empty row untouched
    assert res[9].startswith("✓ created")
    synced = column(wb, "Last synced")
    assert isinstance(synced[2], dt.datetime) and synced[4] is None

    # what inwise holds: 3 seeded + 2 new, with fields, groups and local numbers normalised
    contacts = {c["email"] or c["mobile_number"]: c for c in sandbox.contacts()}
    assert len(contacts) == 5
    dana = contacts["dana@example.co.il"]
    assert dana["mobile_number"] == "972541111111" and 715983 in dana["groups"]
    assert {"name": "field21", "content": "12/06/1980"} in dana["fields"]
    assert "972541111112" in contacts

    # the new-contacts tab got exactly the two created contacts
    rows = tab_rows(wb, "New contacts")
    assert rows[0][:3] == ["inwise ID", "Email", "Mobile"]
    assert sorted(r[0] for r in rows[1:]) == sorted([ident[2], ident[9]])
    assert s.new_contacts_pulled == 2 and s.new_contacts_appended == 2


def test_the_library_runs_on_the_table_store_and_clock_it_is_given(tmp_path, sandbox, state_dir):
    """A host embedding the library passes its own collaborators: the run reads and writes that
    table, files itself in that store (left open: the host owns it) and writes that clock's time."""
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS[:1])
    cfg = make_config(tmp_path, sandbox.base_url)
    when = dt.datetime(2031, 2, 3, 4, 5, 6)
    store = open_store(tmp_path / "host state")
    try:
        given = Collaborators(table=cfg.open_table(), store=store, environ=ENV, clock=lambda: when)
        s = sync(cfg, given, trigger="schedule")
        assert s.counts["created"] == 1 and s.trigger == "schedule"
        assert column(wb, "Last synced")[2] == when and column(wb, "Sync result")[2].startswith("✓ created")
        filed = store.list_runs()  # the store is still open after the run
        assert [(r.command, r.trigger, r.status, r.started_at) for r in filed] == [
            ("sync", "schedule", "ok", when.isoformat(timespec="seconds"))]
        again = sync(cfg, replace(given, table=cfg.open_table()))
        assert again.counts["unchanged"] == 1 and "POST /contacts" not in again.api_calls
        assert [r.trigger for r in store.list_runs()] == ["cli", "schedule"]
    finally:
        store.close()
    assert not list(state_dir.iterdir())  # the default store was never opened
    with pytest.raises(ValueError, match="claim"):
        Collaborators(claim=("token", 1))  # a lock held in no store


def test_second_run_sends_only_what_failed_and_appends_nothing_twice(tmp_path, seeded):
    sandbox, _ = seeded
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    cfg = make_config(tmp_path, sandbox.base_url)
    sync(cfg, Collaborators(environ=ENV))
    first = column(wb, "Sync result")
    s2 = sync(cfg, Collaborators(environ=ENV))
    # rows 2, 3 and 9 succeeded and did not change; the conflict (row 4) is tried again
    assert s2.counts == {"created": 0, "updated": 0, "conflict": 1, "invalid": 2, "missing": 0, "duplicate": 1,
                         "error": 0, "unchanged": 3}
    assert s2.api_calls == {"POST /contacts": 1, "GET /contacts": 1}
    assert column(wb, "Sync result") == first  # a created contact still says created, with its date
    assert len(tab_rows(wb, "New contacts")) == 3  # header + 2, not 4
    assert len(sandbox.contacts()) == 5


def test_batch_mode(tmp_path, seeded):
    sandbox, ids = seeded
    rows = [r for r in ROWS if r[2] != "yossi.b@example.com"]  # batch mode cannot report conflicts
    wb = write_workbook(tmp_path / "contacts.xlsx", rows)
    cfg = make_config(tmp_path, sandbox.base_url, mode="batch", extra="  batch_size: 2")
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.counts["created"] == 2 and s.counts["updated"] == 1 and s.counts["invalid"] == 2
    assert s.api_calls["POST /contacts/batchInsert"] == 2  # 3 sendable rows in chunks of 2
    res = column(wb, "Sync result")
    assert res[2].startswith("✓ created · #") and res[3].startswith("✓ updated")
    emails = {c["email"] for c in sandbox.contacts()}
    assert "dana@example.co.il" in emails
    dana = next(c for c in sandbox.contacts() if c["email"] == "dana@example.co.il")
    assert dana["mobile_number"] == "972541111111" and 715983 in dana["groups"]


def test_faults_are_retried_without_losing_or_duplicating_rows(tmp_path, sandbox):
    rows = [[f"P{i}", "Test", f"p{i}@example.com", f"05{i % 10}{i:07d}"[:10], None] for i in range(60)]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows)
    sandbox.set_faults(error_rate=0.15, rate_limit_rate=0.1, retry_after_s=0, drop_rate=0.1, seed=7)
    cfg = make_config(tmp_path, sandbox.base_url, extra="  retries: 10")
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.counts["created"] == 60 and s.counts["error"] == 0
    assert s.retries > 0
    assert len(sandbox.contacts()) == 60  # no duplicate contact
    assert all(v.startswith("✓ created") for v in column(wb, "Sync result").values())


def test_retries_running_out_marks_rows_and_the_run_goes_on(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS[:2])
    sandbox.fail_next(4, status=503, path="/contacts", method="POST")  # 1 try + 3 retries of the first row
    cfg = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 1")
    s = sync(cfg, Collaborators(environ=ENV))
    res = column(wb, "Sync result")
    assert s.counts["error"] == 1 and s.counts["created"] == 1
    assert "✗ inwise error:" in res[2] and "503" in res[2] and "sync again" in res[2]
    assert res[3].startswith("✓ created")


def test_wrong_api_key_stops_before_writing(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    before = wb.read_bytes()
    cfg = make_config(tmp_path, sandbox.base_url)
    with pytest.raises(InwiseAuthError) as e:
        sync(cfg, Collaborators(environ={"INWISE_API_KEY": "wrong-key-123"}))
    assert "wrong-key-123" not in str(e.value) and "INWISE_API_KEY" in str(e.value)
    assert wb.read_bytes() == before


def test_dry_run_sends_and_writes_nothing(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    before = hashlib.sha256(wb.read_bytes()).hexdigest()
    cfg = make_config(tmp_path, sandbox.base_url)
    s = sync(cfg, Collaborators(environ={}), dry_run=True)
    assert len(s.preview) == 4 and s.preview[0]["row"] == 2
    assert s.preview[0]["mobile_number"] == "972541111111"
    assert s.counts["invalid"] == 2 and s.counts["duplicate"] == 1
    assert sandbox.stats()["total"] == 0
    assert hashlib.sha256(wb.read_bytes()).hexdigest() == before
    assert not (tmp_path / ".sheets-connector").exists()


def test_pulled_contacts_survive_a_failed_save(tmp_path, sandbox, monkeypatch):
    """The feed gives each contact once: a crash after pulling must not lose it."""
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS[:1])
    cfg = make_config(tmp_path, sandbox.base_url)
    table = cfg.open_table()

    def boom():
        raise SourceError("disk full (simulated)")

    monkeypatch.setattr(table, "save", boom)
    with pytest.raises(SourceError) as e:
        sync(cfg, Collaborators(table=table, environ=ENV))
    assert "WERE sent" in str(e.value)
    csvs = list(tmp_path.glob("contacts sync results *.csv"))
    assert len(csvs) == 1 and "✓ created" in csvs[0].read_text(encoding="utf-8-sig")
    # the feed will never return Dana again; the store still has her
    s = pull_new(cfg, Collaborators(environ=ENV))
    assert s.new_contacts_pulled == 0 and s.new_contacts_appended == 1
    rows = tab_rows(wb, "New contacts")
    assert rows[1][1] == "dana@example.co.il"
    assert pull_new(cfg, Collaborators(environ=ENV)).new_contacts_appended == 0
    # and her row gets the answer inwise gave, without being sent again
    s = sync(cfg, Collaborators(environ=ENV))
    assert s.recovered == 1 and "POST /contacts" not in s.api_calls
    assert column(wb, "Sync result")[2].startswith("✓ created · #")


def test_pull_new_appends_contacts_created_elsewhere(tmp_path, sandbox):
    import requests

    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS[:1])
    for i in range(3):  # e.g. a sign-up form on the website
        r = requests.post(sandbox.base_url + "/contacts", headers={"X-API-Key": "test-key"},
                          json={"email": f"web{i}@example.com", "fields": [{"name": "field1", "content": f"Web {i}"}]})
        assert r.status_code == 200
    cfg = make_config(tmp_path, sandbox.base_url)
    s = pull_new(cfg, Collaborators(environ=ENV))
    assert s.new_contacts_pulled == 3 and s.new_contacts_appended == 3
    rows = tab_rows(wb, "New contacts")
    assert rows[0] == ["inwise ID", "Email", "Mobile", "First name", "Last name", "Birthday", "Created"]
    assert {r[1] for r in rows[1:]} == {"web0@example.com", "web1@example.com", "web2@example.com"}
    assert {r[3] for r in rows[1:]} == {"Web 0", "Web 1", "Web 2"}
    assert all(isinstance(r[6], dt.datetime) for r in rows[1:])
    assert column(wb, "First name")[2] == "Dana"  # the contacts sheet is untouched
    s2 = pull_new(cfg, Collaborators(environ=ENV))
    assert s2.new_contacts_appended == 0 and len(tab_rows(wb, "New contacts")) == 4


def test_summary_json_shape(tmp_path, seeded):
    sandbox, _ = seeded
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    s = sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    d = json.loads(json.dumps(s.to_dict(), default=str))
    assert d["counts"]["created"] == 2 and d["rows_read"] == 7
    assert d["api_calls"]["POST /contacts"] == 4 and d["duration_s"] >= 0
    assert {p["row"] for p in d["problems"]} == {4, 5, 6, 7}
    assert d["problems"][0]["conflict"]
    assert set(d["timings"]) == {"read", "map", "send", "pull", "write", "save"}
    assert all(v >= 0 for v in d["timings"].values())


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_foreign_mobiles_arrive_intact(tmp_path, sandbox, mode):
    rows = [
        ["Michael", "Brown", "m@example.com", "+1 504-621-8927", None],
        ["Emma", "Smith", "e@example.co.uk", "+44 7911 123456", None],
        ["Dana", "Cohen", "d@example.co.il", "054-1111111", None],
        ["Avi", "Katz", "a@example.co.il", 541111112, None],
    ]
    write_workbook(tmp_path / "contacts.xlsx", rows)
    s = sync(make_config(tmp_path, sandbox.base_url, mode=mode), Collaborators(environ=ENV))
    assert s.counts["created"] == 4
    assert sorted(c["mobile_number"] for c in sandbox.contacts()) == [
        "15046218927", "447911123456", "972541111111", "972541111112"]
    if mode == "batch":  # one call for the default country's numbers, one for the others
        assert s.api_calls["POST /contacts/batchInsert"] == 2


def test_new_columns_are_readable_in_excel(tmp_path, sandbox):
    """Ids and times in columns the connector adds never show as 4.39E+08 or ###."""
    from openpyxl import load_workbook

    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS[:2])
    sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    ws = load_workbook(wb)["Contacts"]
    heads = {c.value: c.column_letter for c in ws[1]}
    assert ws[f"{heads['inwise ID']}2"].number_format == "0"
    assert ws[f"{heads['Last synced']}2"].number_format == "dd/mm/yyyy hh:mm"
    assert ws.column_dimensions[heads["Sync result"]].width >= len("✓ created · #439130001 · 28/11/2026 09:15")
    assert ws.column_dimensions[heads["Last synced"]].width >= 16
    tab = load_workbook(wb)["New contacts"]
    assert tab["A2"].number_format == "0" and tab.freeze_panes == "A2"


def test_new_contacts_tab_is_in_creation_order(tmp_path, sandbox):
    rows = [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(5)]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows)
    sync(make_config(tmp_path, sandbox.base_url, extra="  concurrency: 1"), Collaborators(environ=ENV))
    ids = [r[0] for r in tab_rows(wb, "New contacts")[1:]]
    assert ids == sorted(ids) and len(ids) == 5


def test_batch_failures_are_not_reported_as_plain_success(tmp_path, seeded):
    """batchInsert answers per batch: rows of a batch with failures say they are unconfirmed."""
    sandbox, _ = seeded
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)  # row 4 conflicts
    s = sync(make_config(tmp_path, sandbox.base_url, mode="batch"), Collaborators(environ=ENV))
    res = column(wb, "Sync result")
    assert res[3].startswith("✓ updated? ·") and "mode: upsert" in res[3]
    assert res[4].startswith("✓ updated? ·")
    assert res[2].startswith("✓ created · #")  # confirmed by the new-contacts feed
    assert any("1 failed row(s)" in w for w in s.warnings)


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_unreachable_inwise_stops_early_and_writes_nothing(tmp_path, mode):
    import socket

    from sheets_connector.errors import InwiseError

    with socket.socket() as held:  # a port this test holds, bound but never listening: refused
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        rows = [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(40)]
        wb = write_workbook(tmp_path / "contacts.xlsx", rows)
        before = wb.read_bytes()
        cfg = make_config(tmp_path, f"http://127.0.0.1:{port}/rest/v1", mode=mode, extra="  retries: 1")
        with pytest.raises(InwiseError) as e:
            sync(cfg, Collaborators(environ=ENV))
    msg = str(e.value)
    assert "Cannot reach inwise" in msg and f"127.0.0.1:{port}" in msg and "Nothing was written" in msg
    assert wb.read_bytes() == before


def test_a_failed_new_contacts_pull_still_writes_every_result(tmp_path, seeded):
    sandbox, _ = seeded
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    sandbox.fail_next(3, status=503, path="/contacts", method="GET")  # 1 try + 2 retries
    s = sync(make_config(tmp_path, sandbox.base_url, extra="  retries: 2"), Collaborators(environ=ENV))
    res = column(wb, "Sync result")
    assert res[2].startswith("✓ synced · #") and res[3].startswith("✓ synced · #")
    assert res[4].startswith("✗ conflict") and res[5].startswith("✗ invalid")
    assert any("new contacts" in w and "next sync" in w for w in s.warnings)
    # the contacts were not lost: inwise's feed still has them, the next run adds them
    s2 = pull_new(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    assert s2.new_contacts_appended == 2


def test_journal_survives_a_torn_last_line(tmp_path):
    store = PulledStore(tmp_path)
    store.append_page([{"id": 1, "email": "a@example.com"}, {"id": 2, "email": "b@example.com"}])
    with open(store.journal_path, "a", encoding="utf-8") as f:
        f.write('{"pulled_at": "2026-11-28T09:00:00", "contact": {"id": 3, "em')  # crash mid-write
    assert [c["id"] for c in store.pending()] == [1, 2]
    store.mark_delivered([1])
    assert [c["id"] for c in store.pending()] == [2]
    assert [c["id"] for c in store.all_contacts()] == [1, 2]


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_ctrl_c_keeps_the_results_of_what_was_sent(tmp_path, sandbox, mode):
    """Ctrl-C cancels the run's token (the CLI's signal handler does it; here the progress callback)."""
    rows = [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(60)]
    wb = write_workbook(tmp_path / "contacts.xlsx", rows)
    sandbox.set_faults(latency_ms=20)

    cancel = CancelToken()

    def progress(stage, done, total):
        if stage == "send" and done >= 10:
            cancel.cancel()

    cfg = make_config(tmp_path, sandbox.base_url, mode=mode, extra="  batch_size: 10")
    s = sync(cfg, Collaborators(environ=ENV, progress=progress, cancel=cancel))
    assert s.interrupted and any("Stopped by you" in w for w in s.warnings)
    res = column(wb, "Sync result")
    created = [r for r, v in res.items() if v.startswith("✓ created")]
    not_sent = [r for r, v in res.items() if "not sent" in v]
    assert len(created) >= 10 and len(created) + len(not_sent) == 60
    # every contact inwise has is reported as created in the sheet, and vice versa
    assert len(sandbox.contacts()) == len(created)
    assert len(tab_rows(wb, "New contacts")) == len(created) + 1


def test_an_existing_results_header_is_reused_whatever_its_spacing(tmp_path, sandbox):
    """The mapping and the writer match headers by the same rule: no second results column."""
    from openpyxl import load_workbook

    header = ["First name", "Last name", "Email", "Mobile", "Birthday", "  sync\u00a0 RESULT\u200f "]
    wb = write_workbook(tmp_path / "contacts.xlsx", [r + ["old"] for r in ROWS[:1]], header=header)
    sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    heads = [c.value for c in load_workbook(wb)["Contacts"][1]]
    assert heads[:6] == header and "Sync result" not in heads
    assert load_workbook(wb)["Contacts"]["F2"].value.startswith("✓ created")
