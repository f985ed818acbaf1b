"""The whole pass on a Google Sheet: real gspread over HTTP to the Sheets emulator, real HTTP to
the inwise sandbox, the sheet read back from the emulator.  What holds for .xlsx holds here."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import requests
from gsheets_util import SHEET_HEADER, sheet_column, sheet_mapping
from util import column, make_config, write_workbook

from sheets_connector.cancel import CancelToken
from sheets_connector.config import Config, parse_config
from sheets_connector.errors import SourceError
from sheets_connector.gsheets import sheets_retry
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.sync import Collaborators, pull_new, sync
from sheets_connector.tables.gsheet import GoogleSheetTable

ENV = {"INWISE_API_KEY": "test-key"}
WHEN = dt.datetime(2026, 11, 28, 9, 15)
ROWS = [
    ["Dana", "Cohen", "dana@example.co.il", "054-1111111", dt.date(1980, 6, 12)],  # 2 created
    ["Noa", "Levi", "NOA.LEVI@example.co.il", "0521234567", None],  # 3 updated (seeded)
    ["Eitan", "Bar", "yossi.b@example.com", "0547654321", None],  # 4 conflict
    ["Rachel", "Green", "rachel@@example.com", "0543333333", None],  # 5 invalid email
    ["Tamar", "Peretz", "tamar@example.co.il", "2262649", None],  # 6 invalid mobile
    ["Noa", "L.", "noa.levi@example.co.il", None, None],  # 7 duplicate of 3
    [None, None, None, None, None],  # 8 empty
    ["Yossi", "Mizrahi", None, 541111112, None],  # 9 created (a mobile typed as a number)
]
SEED = [
    {"email": "noa.levi@example.co.il", "mobile_number": "972521234567"},
    {"email": "yossi.b@example.com", "mobile_number": "972531111111"},
    {"email": "miri@example.com", "mobile_number": "972547654321"},
]
WRITES = {"sheets.spreadsheets.batchUpdate", "sheets.spreadsheets.values.batchUpdate", "sheets.spreadsheets.values.append",
          "sheets.spreadsheets.values.update", "sheets.spreadsheets.values.clear"}


@pytest.fixture(autouse=True)
def _no_google_key(monkeypatch):
    # a key file set on the test machine must not replace the emulator's account
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def make_sheet(emu: SheetsEmulator, rows: list[list[object]], header: list[str] = SHEET_HEADER, **kw) -> str:
    return emu.create_spreadsheet({"Contacts": [header, *rows]}, **kw)


def config(tmp_path: Path, emu: SheetsEmulator, key: str, base_url: str, **kw) -> Config:
    return parse_config(sheet_mapping(emu, key, base_url, **kw), base_dir=tmp_path)


def quick_retry_table(cfg: Config) -> GoogleSheetTable:
    """The mapping's table as the sync opens it, with its bounded retries made instant."""
    return GoogleSheetTable.from_source(cfg.source, cfg, retry=sheets_retry(5, backoff_factor=0))


def ids_by_email(sandbox) -> dict[str, int]:
    return {c["email"]: c["id"] for c in sandbox.contacts() if c.get("email")}


def create_elsewhere(sandbox, emails: list[str], first_name: str = "Web") -> None:
    """Contacts created outside the sheet (a sign-up form): they reach the new-contacts feed."""
    for e in emails:
        r = requests.post(sandbox.base_url + "/contacts", headers={"X-API-Key": "test-key"}, timeout=10,
                          json={"email": e, "fields": [{"name": "field1", "content": first_name}]})
        assert r.status_code == 200


# ---------------------------------------------------------------------------------------------
# row rules, statuses, conflicts, the new-contacts tab
# ---------------------------------------------------------------------------------------------
def test_upsert_end_to_end_on_a_google_sheet(tmp_path, emu, sandbox):
    seeded = sandbox.add_contacts(SEED)
    key = make_sheet(emu, ROWS)
    s = sync(config(tmp_path, emu, key, sandbox.base_url), Collaborators(environ=ENV, clock=lambda: WHEN))

    assert s.counts == {"created": 2, "updated": 1, "conflict": 1, "invalid": 2, "missing": 0, "duplicate": 1, "error": 0,
                        "unchanged": 0}
    assert s.rows_read == 7 and s.empty_rows == 1
    assert s.source == "Google Sheet 'Contacts', tab 'Contacts'" and s.written_to == emu.url(key) + "#gid=0"
    ids = ids_by_email(sandbox)
    res, ident, synced = (sheet_column(emu, key, h) for h in ("Sync result", "inwise ID", "Last synced"))
    assert res[2] == f"✓ created · #{ids['dana@example.co.il']} · 28 Nov 2026 09:15" and ident[2] == ids["dana@example.co.il"]
    assert res[3] == f"✓ updated · #{seeded[0]} · 28 Nov 2026 09:15" and ident[3] == seeded[0]
    assert res[4] == (f"✗ conflict: email → #{seeded[1]}, mobile → #{seeded[2]} (two different inwise contacts: "
                      "correct the email or the mobile, or merge the contacts in inwise)")
    assert "rachel@@example.com" in res[5] and "'Email'" in res[5]
    assert "2262649" in res[6]
    assert res[7] == "✗ duplicate of row 3 (same email) - not sent"
    assert res[8] is None and ident[8] is None  # the empty row is left alone
    assert res[9].startswith("✓ created · #")
    assert synced[2] == "28/11/2026 09:15" and synced[4] is None  # only synced rows get a time

    contacts = {c["email"] or c["mobile_number"]: c for c in sandbox.contacts()}
    dana = contacts["dana@example.co.il"]
    assert dana["mobile_number"] == "972541111111" and 715983 in dana["groups"]
    assert {"name": "field21", "content": "12/06/1980"} in dana["fields"]  # a date cell, in the mapping's format
    assert "972541111112" in contacts  # the mobile typed as a number got its zero back

    tab = emu.values(key, "New contacts")
    assert tab[0] == ["inwise ID", "Email", "Mobile", "First name", "Last name", "Birthday", "Created"]
    assert sorted(r[0] for r in tab[1:]) == sorted([ident[2], ident[9]])
    assert s.new_contacts_pulled == 2 and s.new_contacts_appended == 2


def test_the_same_rows_give_the_same_results_as_an_xlsx(tmp_path, emu):
    """One sheet, two sources: every row's result and contact id are the same text."""
    from sheets_connector.sandbox import Sandbox

    results = {}
    for source in ("xlsx", "google_sheet"):
        folder = tmp_path / source
        folder.mkdir()
        with Sandbox(api_keys=("test-key",)) as sb:
            sb.add_contacts(SEED)
            extra = "  concurrency: 1\n"  # contacts are numbered in the order they are sent
            if source == "xlsx":
                wb = write_workbook(folder / "contacts.xlsx", ROWS)
                sync(make_config(folder, sb.base_url, extra=extra), Collaborators(environ=ENV, clock=lambda: WHEN))
                results[source] = (column(wb, "Sync result"), column(wb, "inwise ID"))
            else:
                key = make_sheet(emu, ROWS)
                sync(config(folder, emu, key, sb.base_url, extra=extra), Collaborators(environ=ENV, clock=lambda: WHEN))
                results[source] = (sheet_column(emu, key, "Sync result"), sheet_column(emu, key, "inwise ID"))
    assert results["xlsx"] == results["google_sheet"]


def test_second_run_updates_and_appends_nothing_twice(tmp_path, emu, sandbox):
    sandbox.add_contacts(SEED)
    key = make_sheet(emu, ROWS)
    cfg = config(tmp_path, emu, key, sandbox.base_url)
    sync(cfg, Collaborators(environ=ENV))
    tab = emu.values(key, "New contacts")
    assert len(tab) == 3  # created with its header, then the two new contacts
    s2 = sync(cfg, Collaborators(environ=ENV))
    assert s2.counts["created"] == 0 and s2.counts["updated"] == 0 and s2.counts["unchanged"] == 3
    assert emu.values(key, "New contacts") == tab  # nothing appended twice
    create_elsewhere(sandbox, ["web1@example.com"])
    s3 = sync(cfg, Collaborators(environ=ENV))
    assert s3.new_contacts_appended == 1
    after = emu.values(key, "New contacts")
    assert after[:3] == tab and after[3][1] == "web1@example.com" and len(after) == 4  # appended below
    assert emu.tabs(key) == ["Contacts", "New contacts"]


def test_batch_mode_on_a_google_sheet(tmp_path, emu, sandbox):
    sandbox.add_contacts(SEED)
    key = make_sheet(emu, [r for r in ROWS if r[2] != "yossi.b@example.com"])  # batch mode cannot report conflicts
    s = sync(config(tmp_path, emu, key, sandbox.base_url, mode="batch", extra="  batch_size: 2\n"),
             Collaborators(environ=ENV))
    assert s.counts["created"] == 2 and s.counts["updated"] == 1 and s.counts["invalid"] == 2
    assert s.api_calls["POST /contacts/batchInsert"] == 2
    res = sheet_column(emu, key, "Sync result")
    assert res[2].startswith("✓ created · #") and res[3].startswith("✓ updated")


def test_pull_new_on_a_google_sheet(tmp_path, emu, sandbox):
    key = make_sheet(emu, ROWS[:1])
    create_elsewhere(sandbox, [f"web{i}@example.com" for i in range(3)])
    cfg = config(tmp_path, emu, key, sandbox.base_url)
    s = pull_new(cfg, Collaborators(environ=ENV))
    assert s.new_contacts_pulled == 3 and s.new_contacts_appended == 3
    tab = emu.values(key, "New contacts")
    assert {r[1] for r in tab[1:]} == {"web0@example.com", "web1@example.com", "web2@example.com"}
    assert sheet_column(emu, key, "First name") == {2: "Dana"}  # the contacts tab is untouched
    assert pull_new(cfg, Collaborators(environ=ENV)).new_contacts_appended == 0
    assert len(emu.values(key, "New contacts")) == 4


def test_results_and_new_contacts_are_written_raw(tmp_path, emu, sandbox):
    """A value starting with =, +, - or @ stays text: no formula ever runs in the sheet, no text
    turns into a number."""
    key = make_sheet(emu, [["=cmd|' /C calc'!A0", "+1", "dana@example.co.il", "054-1111111", None],
                           ["@SUM(1)", "-2", "bad@@example.com", None, None]])
    create_elsewhere(sandbox, ["web@example.com"], first_name='=HYPERLINK("http://evil","x")')
    s = sync(config(tmp_path, emu, key, sandbox.base_url), Collaborators(environ=ENV))
    assert s.counts["created"] == 1 and s.counts["invalid"] == 1
    tab = emu.values(key, "New contacts")
    row = {r[1]: n for n, r in enumerate(tab[1:], start=2)}  # email -> row number in the tab
    dana, web = row["dana@example.co.il"], row["web@example.com"]
    for a1, text in ((f"D{dana}", "=cmd|' /C calc'!A0"), (f"E{dana}", "+1"), (f"C{dana}", "054-111-1111"),
                     (f"D{web}", '=HYPERLINK("http://evil","x")')):
        cell = emu.cell(key, "New contacts", a1)
        assert cell is not None and cell.formula is None and cell.value == text, a1
    assert emu.cell(key, "Contacts", "A2").value == "=cmd|' /C calc'!A0"  # the staff's own cells are untouched
    assert emu.cell(key, "Contacts", "B3").value == "-2"
    result = emu.cell(key, "Contacts", "F3")
    assert result is not None and result.formula is None and result.value.startswith('✗ invalid email "bad@@example.com"')


# ---------------------------------------------------------------------------------------------
# dry run, stopping
# ---------------------------------------------------------------------------------------------
def test_dry_run_reads_and_writes_nothing(tmp_path, emu, sandbox):
    key = make_sheet(emu, ROWS)
    before = emu.values(key, "Contacts")
    s = sync(config(tmp_path, emu, key, sandbox.base_url), Collaborators(environ={}), dry_run=True)
    assert len(s.preview) == 4 and s.preview[0]["row"] == 2 and s.preview[0]["mobile_number"] == "972541111111"
    assert s.counts["invalid"] == 2 and s.counts["duplicate"] == 1
    assert sandbox.stats()["total"] == 0
    assert emu.values(key, "Contacts") == before and emu.tabs(key) == ["Contacts"]
    assert not WRITES & set(emu.request_counts())
    assert not (tmp_path / ".sheets-connector").exists()


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_a_stop_keeps_the_results_of_what_was_sent(tmp_path, emu, sandbox, mode):
    """Ctrl-C cancels the run's token (the CLI's signal handler does it; here the progress callback)."""
    key = make_sheet(emu, [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(60)])
    sandbox.set_faults(latency_ms=20)
    cancel = CancelToken()

    def progress(stage, done, total):
        if stage == "send" and done >= 10:
            cancel.cancel()

    cfg = config(tmp_path, emu, key, sandbox.base_url, mode=mode, extra="  batch_size: 10\n")
    s = sync(cfg, Collaborators(environ=ENV, progress=progress, cancel=cancel))
    assert s.interrupted and any("Stopped by you" in w for w in s.warnings)
    res = sheet_column(emu, key, "Sync result")
    created = [r for r, v in res.items() if v.startswith("✓ created")]
    not_sent = [r for r, v in res.items() if "not sent" in v]
    assert len(created) >= 10 and len(created) + len(not_sent) == 60
    assert len(sandbox.contacts()) == len(created)  # every contact inwise has says so in the sheet
    assert len(emu.values(key, "New contacts")) == len(created) + 1


# ---------------------------------------------------------------------------------------------
# staff editing the sheet while the sync runs
# ---------------------------------------------------------------------------------------------
PEOPLE = [["Ada", "A", "ada@example.com", None, None], ["Ben", "B", "ben@example.com", None, None],
          ["Cy", "C", "cy@example.com", None, None], ["Dee", "D", None, None, None],  # no email or mobile
          ["Eve", "E", "eve@example.com", None, None], ["Fay", "F", "fay@example.com", None, None]]


def _on_re_read(emu: SheetsEmulator, action) -> list[bool]:
    """Run ``action`` just before the sync re-reads the rows to place its results (the 3rd
    spreadsheets.get of a first sync: metadata, read, re-read)."""
    ran: list[bool] = []

    def act() -> None:
        action()
        ran.append(True)

    emu.on_request("sheets.spreadsheets.get", act, nth=3)
    return ran


def test_rows_inserted_deleted_and_sorted_during_a_sync_get_their_own_results(tmp_path, emu, sandbox):
    key = make_sheet(emu, PEOPLE)

    def staff() -> None:
        emu.insert_rows(key, "Contacts", 2, [["New", "N", "new@example.com", None, None]])  # above everyone
        emu.delete_rows(key, "Contacts", 5)  # Cy (row 4, now 5)
        emu.sort_rows(key, "Contacts", 0, descending=True)  # by first name, Z to A

    ran = _on_re_read(emu, staff)
    s = sync(config(tmp_path, emu, key, sandbox.base_url), Collaborators(environ=ENV))
    assert ran == [True]
    ids = ids_by_email(sandbox)
    rows = emu.values(key, "Contacts")
    heads = rows[0]
    by_name = {r[0]: dict(zip(heads, r)) for r in rows[1:]}
    assert list(by_name) == ["New", "Fay", "Eve", "Dee", "Ben", "Ada"]  # sorted, Cy gone
    for name in ("Ada", "Ben", "Eve", "Fay"):
        row = by_name[name]
        assert row["Sync result"].startswith(f"✓ created · #{ids[row['Email']]} ·"), name
        assert row["inwise ID"] == ids[row["Email"]]
    assert by_name["Dee"]["Sync result"].startswith("✗ no email or mobile")  # found by its cells
    assert by_name["New"].get("Sync result", "") == ""  # never read, never sent: nothing written
    assert any("cy@example.com" in w and "no longer in the sheet" in w for w in s.warnings)
    assert "cy@example.com" in ids  # Cy was sent: only the row is gone


def test_a_contact_copied_during_a_sync_gets_its_result_on_neither_row(tmp_path, emu, sandbox):
    key = make_sheet(emu, PEOPLE[:2])
    ran = _on_re_read(emu, lambda: emu.insert_rows(key, "Contacts", 4, [["Ada", "again", "ada@example.com", None, None]]))
    s = sync(config(tmp_path, emu, key, sandbox.base_url), Collaborators(environ=ENV))
    assert ran == [True]
    res = sheet_column(emu, key, "Sync result")
    assert res[2] is None and res[4] is None  # which of the two rows was sent cannot be told
    assert res[3].startswith("✓ created")
    assert any("now on rows 2, 4" in w for w in s.warnings)


# ---------------------------------------------------------------------------------------------
# Google's quota, and the number of requests
# ---------------------------------------------------------------------------------------------
def test_quota_exhausted_at_write_time_keeps_every_result_in_a_csv(tmp_path, emu, sandbox, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the results CSV of a Google Sheet goes
    sandbox.add_contacts(SEED)
    key = make_sheet(emu, ROWS)
    before = emu.values(key, "Contacts")
    cfg = config(tmp_path, emu, key, sandbox.base_url)
    emu.fail_next(6, status=429, method="sheets.spreadsheets.values.batchUpdateByDataFilter")  # the first try and 5 retries
    with pytest.raises(SourceError) as e:
        sync(cfg, Collaborators(table=quick_retry_table(cfg), environ=ENV, clock=lambda: WHEN))
    msg = str(e.value)
    assert "quota is used up" in msg and "tried 6 times" in msg and "WERE sent" in msg
    csvs = list(tmp_path.glob("* sync results 2026-11-28 091500.csv"))
    assert len(csvs) == 1 and str(csvs[0]) in msg
    with open(csvs[0], encoding="utf-8-sig", newline="") as f:
        kept = list(csv.reader(f))
    assert kept[0] == ["Row", "Contact", "Sync result", "inwise ID", "Last synced"]
    by_row = {r[0]: r for r in kept[1:]}
    assert by_row["2"][1] == "dana@example.co.il" and by_row["2"][2].startswith("✓ created · #")
    assert by_row["4"][2].startswith("✗ conflict") and set(by_row) == {"2", "3", "4", "5", "6", "7", "9"}
    assert emu.request_counts()["sheets.spreadsheets.values.batchUpdateByDataFilter"] == 6  # 1 + 5 retries, then it stops
    # nothing half-written: no result cell, no new-contacts tab; the pulled contacts wait in the journal
    assert emu.values(key, "Contacts") == before and emu.tabs(key) == ["Contacts"]
    # the next sync, with quota again, writes every result and the two new contacts
    s = sync(cfg, Collaborators(table=quick_retry_table(cfg), environ=ENV))
    assert s.new_contacts_appended == 2 and len(emu.values(key, "New contacts")) == 3
    dana = sheet_column(emu, key, "Sync result")[2]
    assert dana.startswith(f"✓ created · #{by_row['2'][3]} ·")  # still pending: its creation is reported now


def test_quota_exhausted_before_reading_sends_nothing(tmp_path, emu, sandbox):
    key = make_sheet(emu, ROWS)
    emu.fail_next(6, status=429)
    cfg = config(tmp_path, emu, key, sandbox.base_url)
    with pytest.raises(SourceError, match="quota is used up .* while opening the spreadsheet"):
        sync(cfg, Collaborators(table=quick_retry_table(cfg), environ=ENV))
    assert sandbox.stats()["total"] == 0


def _sync_counts(tmp_path: Path, emu: SheetsEmulator, sandbox, n: int) -> tuple[dict[str, int], dict[str, int]]:
    """Sheets API requests of a first sync and of a later one (which also appends a new contact)."""
    rows = [[f"P{i}", "T", f"p{i}.of{n}@example.com", None, None] for i in range(n)]
    key = make_sheet(emu, rows, cols=len(SHEET_HEADER))  # no room for the result columns yet
    cfg = config(tmp_path / str(n), emu, key, sandbox.base_url, mode="batch", extra="  batch_size: 1000\n")
    emu.reset_stats()
    first = sync(cfg, Collaborators(environ=ENV))
    assert first.counts["created"] == n
    first_counts = emu.request_counts()
    create_elsewhere(sandbox, [f"web{n}@example.com"])
    emu.reset_stats()
    later = sync(cfg, Collaborators(environ=ENV))
    assert later.counts["unchanged"] == n and later.new_contacts_appended == 1
    return first_counts, emu.request_counts()


def test_sheets_requests_per_sync_are_the_same_for_10_and_5000_rows(tmp_path, emu, sandbox):
    (tmp_path / "10").mkdir()
    (tmp_path / "5000").mkdir()
    small, large = _sync_counts(tmp_path, emu, sandbox, 10), _sync_counts(tmp_path, emu, sandbox, 5000)
    assert small == large
    first, later = small
    assert first == {
        # metadata, read, re-read, re-read once the result columns are pinned, read back after the write
        "sheets.spreadsheets.get": 5,
        # one-off: widen the grid and pin the result columns and the header row; add the tab
        "sheets.spreadsheets.batchUpdate": 2,
        "sheets.spreadsheets.values.batchUpdateByDataFilter": 1,  # every result cell of every row, RAW
        "sheets.spreadsheets.values.append": 1,  # every new contact, under the tab's header
    }
    assert later == {  # every row unchanged: no result cell to write, only the new contact to append
        "sheets.spreadsheets.get": 3,  # metadata, read, the new-contacts tab's ids
        "sheets.spreadsheets.values.append": 1,
    }
    assert sum(later.values()) <= 5 + 1  # at most five, plus the re-read
