"""Groups, consent and do-not-sync columns, end to end: a real .xlsx and a Google Sheet (emulator),
real HTTP to the sandbox, upsert and batch; what each contact is in the sandbox is read back."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from gsheets_util import sheet_column
from openpyxl import load_workbook
from util import column, write_workbook

from sheets_connector.config import parse_config
from sheets_connector.sheets_emulator import SheetsEmulator
from sheets_connector.sync import Collaborators, sync

ENV = {"INWISE_API_KEY": "test-key"}
WHEN = dt.datetime(2026, 11, 28, 9, 15)
VIP, NEWS, CUSTOMERS, OLD = 715001, 721129, 730002, 730003
HEADER = ["Email", "Mobile", "First name", "Groups", "Consent", "Do not sync"]
ROWS: list[list[Any]] = [
    ["dana@example.co.il", "054-1111111", "Dana", "VIP, Newsletter", True, None],  # 2 ticked box
    ["noa.levi@example.co.il", None, "Noa", "לקוחות", "כן", None],  # 3 seeded, in group Old
    ["avi@example.com", None, "Avi", "newsletter\nVIP", dt.date(2026, 1, 5), None],  # 4 consent date
    ["ruth@example.com", None, "Ruth", "Newsletter", "no", None],  # 5 no consent
    ["held@example.com", None, "Held", "VIP", "yes", "x"],  # 6 held back
    ["bad@example.com", None, "Bad", "VIPP; Newsletter", "yes", None],  # 7 unknown group
    ["yossi@example.com", None, "Yossi", "721129", "✓", None],  # 8 a group ID typed as it is
    ["empty.consent@example.com", None, "Eli", "VIP", None, None],  # 9 consent left empty
    ["tali@example.com", None, "Tali", "Newsletter", "TRUE", False],  # 10 unticked do-not-sync box
    [None, None, None, None, False, False],  # 11 only unticked boxes: an empty row
]
SEED = [{"email": "noa.levi@example.co.il", "groups": [OLD], "confirmation_status": "unconfirmed"}]
GROUPS_TABLE = f"groups:\n  VIP: {VIP}\n  Newsletter: {NEWS}\n  לקוחות: {CUSTOMERS}\n  Old: {OLD}\n"


def mapping(source: str, base_url: str, *, mode: str, groups_mode: str = "add", consent: str = "Consent") -> str:
    return f"""\
{source}
columns:
  email: Email
  mobile: Mobile
  fields: {{1: First name}}
  groups: {{column: Groups, mode: {groups_mode}}}
  consent: {consent}
  do_not_sync: Do not sync
{GROUPS_TABLE}
inwise:
  base_url: {base_url}
  mode: {mode}
  retries: 2
  retry: {{backoff_factor: 0.01, backoff_max: 0.05}}
results:
  column: Sync result
"""


class XlsxSheet:
    def __init__(self, tmp: Path):
        self.path = write_workbook(tmp / "contacts.xlsx", ROWS, header=HEADER)
        self.tmp = tmp

    def source(self) -> str:
        return "source: {type: xlsx, path: contacts.xlsx, worksheet: Contacts}"

    def results(self) -> dict[int, Any]:
        return column(self.path, "Sync result")

    def set(self, row: int, header: str, value: Any) -> None:
        wb = load_workbook(self.path)
        ws = wb["Contacts"]
        ws.cell(row=row, column=HEADER.index(header) + 1).value = value  # cell(value=None) would not clear it
        wb.save(self.path)


class GoogleSheet:
    def __init__(self, tmp: Path, emu: SheetsEmulator):
        self.emu, self.tmp = emu, tmp
        self.key = emu.create_spreadsheet({"Contacts": [HEADER, *ROWS]})

    def source(self) -> str:
        return (f'source: {{type: google_sheet, spreadsheet: "{self.emu.url(self.key)}", worksheet: Contacts, '
                f'api_url: "{self.emu.api_url}"}}')

    def results(self) -> dict[int, Any]:
        return sheet_column(self.emu, self.key, "Sync result")

    def set(self, row: int, header: str, value: Any) -> None:
        self.emu.set_cells(self.key, "Contacts", row, [[value]], left_col=HEADER.index(header))


@pytest.fixture(autouse=True)
def _no_google_key(monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture(params=["xlsx", "google_sheet"])
def sheet(request, tmp_path):
    if request.param == "xlsx":
        yield XlsxSheet(tmp_path)
    else:
        with SheetsEmulator() as emu:
            yield GoogleSheet(tmp_path, emu)


def contacts_by_email(sandbox) -> dict[str, dict[str, Any]]:
    return {c["email"]: c for c in sandbox.contacts() if c.get("email")}


def run(sheet, sandbox, **kw):
    cfg = parse_config(mapping(sheet.source(), sandbox.base_url, **kw), base_dir=sheet.tmp)
    return sync(cfg, Collaborators(environ=ENV, clock=lambda: WHEN))


@pytest.mark.parametrize("mode,groups_mode", [("upsert", "exactly"), ("batch", "add")])
def test_each_contact_gets_the_groups_and_status_its_row_says(sheet, sandbox, mode, groups_mode):
    sandbox.add_contacts(SEED)
    s = run(sheet, sandbox, mode=mode, groups_mode=groups_mode)

    got = contacts_by_email(sandbox)
    noa_groups = [CUSTOMERS] if groups_mode == "exactly" else [CUSTOMERS, OLD]  # exactly: out of Old
    assert {e: (c["groups"], c["confirmation_status"]) for e, c in got.items()} == {
        "dana@example.co.il": ([VIP, NEWS], "confirmed"),
        "noa.levi@example.co.il": (noa_groups, "confirmed"),
        "avi@example.com": ([VIP, NEWS], "confirmed"),
        "yossi@example.com": ([NEWS], "confirmed"),
        "tali@example.com": ([NEWS], "confirmed"),
    }  # no consent, held back and the unknown group: never sent
    res = sheet.results()
    assert res[5] == "not sent: no consent to marketing messages ('Consent' says 'no') - when the contact agrees, mark it and sync again"
    assert res[9].startswith("not sent: no consent to marketing messages ('Consent' is empty)")
    assert res[6] == "held back ('Do not sync' is 'x') - not sent; clear that cell to send this row"
    assert res[7] == ("✗ unknown group 'VIPP' in column 'Groups' - the groups in the mapping are: VIP, Newsletter, "
                      "לקוחות, Old; fix the cell, or add the name with its inwise group ID under groups: in the mapping")
    assert all(res[r].startswith("✓ ") for r in (2, 3, 4, 8, 10)) and res.get(11) is None
    assert s.counts["held"] == 1 and s.counts["no_consent"] == 2 and s.counts["invalid"] == 1
    assert s.rows_read == 9  # the row of unticked boxes is empty
    assert [p.row for p in s.problems()] == [7]  # held back and no consent are choices, not problems
    if mode == "batch":  # one call per group of each group set: {VIP, News} x2, {Customers}, {News}
        assert s.api_calls["POST /contacts/batchInsert"] == 4

    # a changed group cell is sent alone; clearing "do not sync" sends the held row
    sheet.set(2, "Groups", "VIP")
    sheet.set(6, "Do not sync", None)
    sandbox.reset_stats()
    s2 = run(sheet, sandbox, mode=mode, groups_mode=groups_mode)
    got = contacts_by_email(sandbox)
    assert got["dana@example.co.il"]["groups"] == ([VIP] if groups_mode == "exactly" else [VIP, NEWS])
    assert got["held@example.com"]["groups"] == [VIP] and got["held@example.com"]["confirmation_status"] == "confirmed"
    assert s2.counts["unchanged"] == 4 and s2.counts["created"] + s2.counts["updated"] == 2
    if mode == "upsert":
        assert s2.api_calls["POST /contacts"] == 2
    else:
        assert s2.api_calls["POST /contacts/batchInsert"] == 1  # both rows' set is {VIP} now


def test_batch_requests_per_10000_rows_with_5_group_sets_stay_close_to_a_sheet_without_groups(tmp_path, sandbox):
    """The request-count figure of issue 20: 10,000 rows in batch mode (batch_size 1000), 2,000 rows each
    in {VIP}, {Newsletter}, {VIP, Newsletter}, {לקוחות} and no group, shuffled; against the same rows
    without a groups column, every row added to one group (inwise.groups), as before."""
    import random

    sets = ["VIP", "Newsletter", "VIP; Newsletter", "לקוחות", None]
    cells = [sets[i % 5] for i in range(10_000)]
    random.Random(20).shuffle(cells)
    rows = [[f"c{i}@example.com", None, None, g, "yes", None] for i, g in enumerate(cells)]
    write_workbook(tmp_path / "contacts.xlsx", rows, header=HEADER)
    source = "source: {type: xlsx, path: contacts.xlsx, worksheet: Contacts}"
    per_row = parse_config(mapping(source, sandbox.base_url, mode="batch"), base_dir=tmp_path)
    s = sync(per_row, Collaborators(environ=ENV, clock=lambda: WHEN))
    assert s.counts["updated"] + s.counts["created"] == 10_000
    # one call per chunk per group of its set: 2+2+2x2+2 calls, and 2 for the rows in no group
    assert s.api_calls["POST /contacts/batchInsert"] == 12
    got = contacts_by_email(sandbox)
    assert all(got[f"c{i}@example.com"]["groups"] == {"VIP": [VIP], "Newsletter": [NEWS], "VIP; Newsletter": [VIP, NEWS],
                                                      "לקוחות": [CUSTOMERS], None: []}[g] for i, g in enumerate(cells))

    before = mapping(source, sandbox.base_url, mode="batch").replace("  groups: {column: Groups, mode: add}\n", "")
    before = before.replace("  consent: Consent\n", "").replace("  mode: batch\n", f"  mode: batch\n  groups: [{VIP}]\n")
    s = sync(parse_config(before, base_dir=tmp_path), Collaborators(environ=ENV, clock=lambda: WHEN))
    assert s.api_calls["POST /contacts/batchInsert"] == 10  # 10 chunks, one group each


def test_a_consent_change_is_sent_alone_with_its_status(tmp_path, sandbox):
    sheet = XlsxSheet(tmp_path)
    consent = "{column: Consent, without_consent: unsubscribed}"
    s = run(sheet, sandbox, mode="upsert", consent=consent)
    assert s.counts.get("no_consent", 0) == 0  # rows without consent are sent, as unsubscribed
    assert contacts_by_email(sandbox)["ruth@example.com"]["confirmation_status"] == "unsubscribed"
    assert contacts_by_email(sandbox)["empty.consent@example.com"]["confirmation_status"] == "unsubscribed"

    sheet.set(2, "Consent", "לא")  # Dana withdraws
    s = run(sheet, sandbox, mode="upsert", consent=consent)
    assert s.api_calls["POST /contacts"] == 1 and s.counts["updated"] == 1
    assert contacts_by_email(sandbox)["dana@example.co.il"]["confirmation_status"] == "unsubscribed"
    assert sheet.results()[2].startswith("✓ updated")
