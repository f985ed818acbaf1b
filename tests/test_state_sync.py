"""What the state store gives a sync: only changed rows, a store that can be lost, poisoned feeds,
several sheets on one account, two runs of one sheet, a full or read-only state folder."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from feedproxy import FeedProxy
from openpyxl import load_workbook
from util import column, make_config, tab_rows, write_workbook

from sheets_connector.cli import main
from sheets_connector.errors import StateError
from sheets_connector.inwise import InwiseClient
from sheets_connector.retry import RetryPolicy
from sheets_connector.state import PulledStore, SqliteStore
from sheets_connector.state.location import ENV_DIR, STORE_FILE
from sheets_connector.sync import Collaborators, pull_new, sync

KEY = "test-key"
ENV = {"INWISE_API_KEY": KEY}
ROOT = Path(__file__).resolve().parents[1]


def people(n: int, start: int = 0) -> list[list[object]]:
    return [[f"N{i}", "Test", f"p{i}@example.com", None, None] for i in range(start, start + n)]


def sign_ups(sandbox, n: int, prefix: str = "web", field50: str = "") -> None:
    """Contacts created in inwise by someone else (a web form): they reach every sheet's tab."""
    csv_text = "Email,Note\n" + "".join(f"{prefix}{j}@example.com,{field50}\n" for j in range(n))
    r = requests.post(sandbox.base_url + "/contacts/batchInsert", headers={"X-API-Key": KEY}, timeout=120, json={
        "csv_file": csv_text, "updateExistingContacts": True,
        "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"},
                           {"field_name": "50", "file_column_name": "Note"}]})
    r.raise_for_status()


def posts(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("POST /contacts", {}).values())


def tab_ids(wb: Path) -> list[int]:
    return [r[0] for r in tab_rows(wb, "New contacts")[1:]]


def clock(*args: int):
    return lambda: dt.datetime(*args)


# --- only changed rows --------------------------------------------------------------------------


def test_only_changed_rows_are_sent_and_a_mapping_change_sends_all(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(1000))
    cfg = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 8")
    first = sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 28, 9, 0)))
    assert first.counts["created"] == 1000
    before = column(wb, "Sync result")
    book = load_workbook(wb)
    for r in (10, 500, 901):
        book["Contacts"].cell(row=r, column=1, value=f"Edited {r}")
    book.save(wb)
    sandbox.reset_stats()

    second = sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 28, 10, 0)))
    assert posts(sandbox) == 3
    assert second.counts["updated"] == 3 and second.counts["unchanged"] == 997
    after = column(wb, "Sync result")
    assert {r for r in after if after[r] != before[r]} == {10, 500, 901}
    assert after[10].startswith("✓ updated · #") and after[10].endswith("28 Nov 2026 10:00")
    assert after[11] == before[11] and after[11].startswith("✓ created") and after[11].endswith("28 Nov 2026 09:00")

    sandbox.reset_stats()
    changed = make_config(tmp_path, sandbox.base_url, extra="  concurrency: 8\n  confirmation_status: confirmed")
    third = sync(changed, Collaborators(environ=ENV))
    assert posts(sandbox) == 1000 and third.counts["updated"] == 1000 and third.counts["unchanged"] == 0


def test_full_sends_every_row_and_a_cleared_result_gets_its_words_back(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(5))
    cfg = make_config(tmp_path, sandbox.base_url)
    sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 28, 9, 0)))
    before = column(wb, "Sync result")
    book = load_workbook(wb)
    heads = [c.value for c in book["Contacts"][1]]
    book["Contacts"].cell(row=3, column=heads.index("Sync result") + 1, value=None)
    book.save(wb)
    sandbox.reset_stats()
    s = sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 28, 10, 0)))
    assert posts(sandbox) == 0 and s.counts["unchanged"] == 5
    assert column(wb, "Sync result") == before  # the same words and date, nothing sent
    s = sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 29, 8, 0)), full=True)
    # every row sent again; inwise says "updated", but the sync created these contacts: the rows
    # keep saying so, with the day they were created
    assert posts(sandbox) == 5 and s.counts["created"] == 5 and s.full
    assert column(wb, "Sync result") == before


def test_deleting_the_store_means_a_full_run_and_nothing_twice(tmp_path, sandbox, state_dir):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(20))
    cfg = make_config(tmp_path, sandbox.base_url)
    sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 28, 9, 0)))
    before = column(wb, "Sync result")
    for f in state_dir.glob(STORE_FILE + "*"):
        f.unlink()
    sign_ups(sandbox, 1)
    sandbox.reset_stats()
    s = sync(cfg, Collaborators(environ=ENV, clock=clock(2026, 11, 30, 9, 0)))
    # the store is gone, the sheet's own results column still says which contacts the sync created
    assert posts(sandbox) == 20 and s.counts["created"] == 20
    assert column(wb, "Sync result") == before
    ids = tab_ids(wb)
    assert len(ids) == 21 and len(set(ids)) == 21


def test_an_old_journal_is_imported_by_the_first_sync(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(1))
    journal = PulledStore(tmp_path / ".sheets-connector")
    journal.append_page([{"id": 77, "email": "old@example.com"}, {"id": 78, "email": "older@example.com"}])
    journal.mark_delivered([78])
    cfg = make_config(tmp_path, sandbox.base_url)
    sync(cfg, Collaborators(environ=ENV))
    sync(cfg, Collaborators(environ=ENV))
    assert sorted(r[1] for r in tab_rows(wb, "New contacts")[1:]) == ["old@example.com", "p0@example.com"]


def test_stale_temp_files_of_a_killed_save_are_removed(tmp_path, sandbox):
    write_workbook(tmp_path / "contacts.xlsx", people(1))
    leftover = tmp_path / ".contacts.k1ll3d.sheets-connector.tmp"
    leftover.write_bytes(b"")
    other = tmp_path / ".budget.k1ll3d.sheets-connector.tmp"  # another workbook's: not ours to remove
    other.write_bytes(b"")
    sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    assert not leftover.exists() and other.exists()


# --- the feed -----------------------------------------------------------------------------------


def test_poisoned_feed_answers_are_kept_reported_and_never_block(tmp_path, sandbox, state_dir):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(3))
    with FeedProxy(sandbox.root_url) as proxy:
        cfg = make_config(tmp_path, proxy.base_url)
        sign_ups(sandbox, 2)
        proxy.poison = [b"<html><body>Service Unavailable</body></html>"]
        s = sync(cfg, Collaborators(environ=ENV))
        warning = next(w for w in s.warnings if "cannot read" in w)
        assert str(state_dir / STORE_FILE) in warning and "feed answer #1" in warning
        assert all(v.startswith("✓ synced") for v in column(wb, "Sync result").values())

        s = sync(cfg, Collaborators(environ=ENV))  # healthy again: everything arrives, the rows are settled
        assert s.new_contacts_appended == 5 and "POST /contacts" not in s.api_calls
        assert s.api_calls["GET /contacts"] == 1  # the recovered rows join the one pass: one feed read (answer #2)
        assert all(v.startswith("✓ created") for v in column(wb, "Sync result").values())

        sign_ups(sandbox, 2, prefix="late")
        proxy.poison = [lambda page: json.dumps(page + [None, 7, "str", {"email": "no-id@example.com"}]).encode()]
        s = pull_new(cfg, Collaborators(environ=ENV))
        warning = next(w for w in s.warnings if "not contacts" in w)
        assert "item 3 is empty (null); item 4 is 7, not a contact" in warning and "feed answer #3" in warning
        assert s.new_contacts_appended == 2
        kept = SqliteStore(state_dir / STORE_FILE)
        try:
            problems = {a.id: a.problems for a in kept.feed_answers(problems_only=True)}
        finally:
            kept.close()
        assert problems[3][-1] == "item 6 has no contact id" and "not a list of contacts" in problems[1][0]

        for poison in (b"[{\"id\": 1,", b'{"contacts": 7}', b"null"):
            proxy.poison = [poison]
            assert pull_new(cfg, Collaborators(environ=ENV)).new_contacts_appended == 0
        sign_ups(sandbox, 1, prefix="after")
        s = sync(cfg, Collaborators(environ=ENV))
        assert s.new_contacts_appended == 1 and not s.error
        assert s.counts["unchanged"] == 3  # settled for good: not settled again by every run
    ids = tab_ids(wb)
    assert len(ids) == 8 and len(set(ids)) == 8


def test_two_sheets_on_one_account_each_receive_every_new_contact_once(tmp_path, sandbox):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, start in ((a, 0), (b, 100)):
        folder.mkdir()
        write_workbook(folder / "contacts.xlsx", people(10, start))
        pull_new(make_config(folder, sandbox.base_url), Collaborators(environ=ENV))  # both sheets start syncing
    sign_ups(sandbox, 30)
    sync(make_config(a, sandbox.base_url), Collaborators(environ=ENV))
    sign_ups(sandbox, 5, prefix="later")
    sync(make_config(b, sandbox.base_url), Collaborators(environ=ENV))
    sync(make_config(a, sandbox.base_url), Collaborators(environ=ENV))
    everyone = {c["id"] for c in sandbox.contacts()}
    for folder in (a, b):
        ids = tab_ids(folder / "contacts.xlsx")
        assert len(ids) == len(set(ids)) == 55 and set(ids) == everyone
        assert all(v.startswith("✓ created") for v in column(folder / "contacts.xlsx", "Sync result").values())


# --- runs of real processes ---------------------------------------------------------------------


def _mapping(folder: Path, base_url: str, extra: str = "") -> Path:
    (folder / "mapping.yaml").write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns: {{email: Email, fields: {{1: First name}}}}
inwise: {{base_url: {base_url}, concurrency: 4{extra}}}
""", encoding="utf-8")
    return folder / "mapping.yaml"


def _start(mapping: Path, *args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sheets_connector", "sync", "--config", str(mapping), *args],
                            env={**os.environ, **ENV, "PYTHONPATH": str(ROOT), **(env or {})}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_two_syncs_of_one_workbook_at_once_exactly_one_runs(tmp_path, sandbox, launcher):
    write_workbook(tmp_path / "contacts.xlsx", people(30))
    mapping = _mapping(tmp_path, sandbox.base_url)
    sandbox.set_faults(latency_ms=40)
    env = {**os.environ, **ENV}
    for pair in range(10):
        sign_ups(sandbox, 3, prefix=f"pair{pair}-")
        children = [launcher.start(["sync", "--config", str(mapping), "--full"], cwd=tmp_path, env=env)
                    for _ in range(2)]
        done = [(launcher.wait(c), c.stderr()) for c in children]
        codes = sorted(code for code, _ in done)
        assert codes == [0, 75], done
        refused = next(text for code, text in done if code == 75)
        assert "Another sync of contacts.xlsx, sheet 'Contacts' is running (run #" in refused and "--wait" in refused
    ids = tab_ids(tmp_path / "contacts.xlsx")
    assert len(ids) == len(set(ids)) == 30 + 30


def test_a_second_sync_waits_with_wait(tmp_path, sandbox, state_dir):
    write_workbook(tmp_path / "contacts.xlsx", people(2))
    mapping = _mapping(tmp_path, sandbox.base_url)
    store = SqliteStore(state_dir / STORE_FILE)
    try:
        from sheets_connector.config import load_config

        book = load_config(mapping).identity().workbook
        token = store.try_lock(book, "contacts.xlsx")
        store.attach_run(book, token, store.start_run("x", "contacts.xlsx", "sync", "menu", "2019-03-04T09:00:00"))
        refused = CliRunner().invoke(main, ["sync", "--config", str(mapping)], env=ENV)
        # the refusal names when the holding run started (its record), not when the lock was taken
        assert refused.exit_code == 75 and "(run #1, started 2019-03-04 09:00:00," in refused.output
        waiting = _start(mapping, "--wait")
        try:
            assert waiting.stderr is not None and "Waiting: Another sync" in waiting.stderr.readline()
            assert waiting.poll() is None
        finally:
            store.unlock(book, token)
        assert waiting.wait(120) == 0
    finally:
        store.close()
    assert column(tmp_path / "contacts.xlsx", "Sync result")[2].startswith("✓ created")


def test_runs_lists_the_history_and_shows_one_run(tmp_path, sandbox):
    sandbox.add_contacts([{"email": "taken@example.com", "mobile_number": "972541111111"},
                          {"email": "other@example.com", "mobile_number": "972549999999"}])
    write_workbook(tmp_path / "contacts.xlsx", [["A", "B", "a@example.com", None, None],
                                                ["C", "D", "taken@example.com", "0549999999", None]])
    mapping = tmp_path / "m.yaml"
    mapping.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns: {{email: Email, mobile: Mobile}}
inwise: {{base_url: {sandbox.base_url}}}
""", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["sync", "-c", str(mapping)], env=ENV).exit_code == 0
    assert runner.invoke(main, ["sync", "-c", str(mapping)], env=ENV).exit_code == 0
    listed = runner.invoke(main, ["runs", "--config", str(mapping), "--json"])
    runs = json.loads(listed.output)
    assert [r["id"] for r in runs] == [2, 1] and all(r["trigger"] == "cli" and r["status"] == "ok" for r in runs)
    assert runs[1]["counts"]["created"] == 1 and runs[0]["counts"]["unchanged"] == 1
    shown = runner.invoke(main, ["runs", "show", "2", "--config", str(mapping)])
    assert shown.exit_code == 0
    assert "Run #2: sync of contacts.xlsx, sheet 'Contacts'" in shown.output
    assert "row 3: ✗ conflict: email → #" in shown.output
    assert runner.invoke(main, ["runs", "show", "9", "-c", str(mapping)]).exit_code == 1


# --- a full or read-only state folder -----------------------------------------------------------


def _limit(size: int):
    def pre() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return pre


@pytest.mark.skipif(sys.platform == "win32", reason="file-size limits are POSIX")
def test_a_full_state_folder_before_the_run_stops_it_before_anything_is_asked(tmp_path, sandbox):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(3))
    before = wb.read_bytes()
    sign_ups(sandbox, 3)
    sandbox.reset_stats()
    proc = _start(_mapping(tmp_path, sandbox.base_url), preexec_fn=_limit(2 * 1024 * 1024))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "state store" in err and "could not grow by 8 MB" in err and "Make 40 MB free" in err, err
    assert err.count("state_dir") == 1 and err.count("Nothing was lost") == 1 and "Traceback" not in err  # advice once
    assert sandbox.stats()["total"] == 0 and wb.read_bytes() == before
    assert sandbox.feed_pending() == 3  # nothing was taken from the feed


@pytest.mark.skipif(sys.platform == "win32", reason="file-size limits are POSIX")
def test_a_state_folder_that_fills_up_during_the_pull_loses_nothing(tmp_path, sandbox, launcher):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(3))
    sign_ups(sandbox, 4000, field50="x" * 2000)  # ~2 MB per feed answer
    mapping = _mapping(tmp_path, sandbox.base_url)
    env = {**os.environ, **ENV}
    child = launcher.start(["sync", "--config", str(mapping), "--json"], cwd=tmp_path, env=env,
                           fsize=12 * 1024 * 1024)
    assert launcher.wait(child, 300) == 1, child.stderr()
    summary = json.loads(child.stdout())
    assert "state store" in summary["error"] and "stay in inwise's feed" in summary["error"]
    assert 0 < summary["new_contacts_pulled"] < 4003 and sandbox.feed_pending() > 0
    # the feed lists the newest first: the rows' contacts were in the answers kept
    assert all(v.startswith("✓ created") for v in column(wb, "Sync result").values())
    again = launcher.start(["sync", "--config", str(mapping)], cwd=tmp_path, env=env)
    assert launcher.wait(again, 300) == 0, again.stderr()
    ids = tab_ids(wb)
    assert len(ids) == len(set(ids)) == 4003 and sandbox.feed_pending() == 0
    assert all(v.startswith("✓ created") for v in column(wb, "Sync result").values())


def test_a_read_only_state_folder_stops_the_run_before_anything_is_asked(tmp_path, sandbox):
    folder = tmp_path / "state"
    folder.mkdir()
    mounted = False
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # root writes through permission bits: use a read-only mount where the test may make one
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                                 capture_output=True, check=False).returncode == 0
        if not mounted:
            # root may write anywhere, but not inside a file: a state folder that cannot exist
            (tmp_path / "not-a-folder").write_text("a file where the state folder's parent should be")
            folder = tmp_path / "not-a-folder" / "state"
    else:
        folder.chmod(0o555)
    try:
        wb = write_workbook(tmp_path / "contacts.xlsx", people(2))
        before = wb.read_bytes()
        sign_ups(sandbox, 2)
        sandbox.reset_stats()
        result = CliRunner().invoke(main, ["sync", "--config", str(_mapping(tmp_path, sandbox.base_url))],
                                    env={**ENV, ENV_DIR: str(folder)})
        assert result.exit_code == 1 and "cannot be opened" in result.output and "writable" in result.output
        assert sandbox.stats()["total"] == 0 and sandbox.feed_pending() == 2
        assert wb.read_bytes() == before
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
        elif folder.is_dir():
            folder.chmod(0o755)


# --- soak ---------------------------------------------------------------------------------------


def _soak(tmp_path: Path, sandbox, n: int, mode: str) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", people(n))
    sign_ups(sandbox, 50)
    sandbox.set_faults(error_rate=0.10, rate_limit_rate=0.05, retry_after_s=0.01, drop_rate=0.02, jitter_ms=3,
                       seed=5)
    cfg = make_config(tmp_path, sandbox.base_url, mode=mode, extra="  concurrency: 8\n  batch_size: 500")

    def client(config):
        return InwiseClient(config.inwise.base_url, KEY, pool_size=8,
                            policy=RetryPolicy(retries=12, backoff_factor=0.005, backoff_max=0.05))

    s = sync(cfg, Collaborators(client_factory=client, environ=ENV))
    assert s.retries > 0 and s.counts["created"] == n and s.counts["error"] == 0
    assert len(sandbox.contacts()) == n + 50  # no duplicate contact
    results = column(wb, "Sync result")
    assert len(results) == n and all(v.startswith("✓ created") for v in results.values())
    created = {c["id"] for c in sandbox.contacts()}
    ids = tab_ids(wb)
    assert len(ids) == len(set(ids)) and set(ids) == created


@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_fault_soak_5000_rows(tmp_path, sandbox, mode):
    _soak(tmp_path, sandbox, 5000, mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["upsert", "batch"])
def test_fault_soak_50000_rows(tmp_path, sandbox, mode):
    _soak(tmp_path, sandbox, 50_000, mode)


def test_two_sheets_on_one_account_synced_at_once_share_the_feed(tmp_path, sandbox, launcher):
    """Two processes, two workbooks, one inwise account: one reads the feed at a time, and each
    tab receives every new contact once (the other sheet's too)."""
    folders = [tmp_path / "a", tmp_path / "b"]
    env = {**os.environ, **ENV}
    for i, folder in enumerate(folders):
        folder.mkdir()
        write_workbook(folder / "contacts.xlsx", people(20, 100 * i))
        assert launcher.wait(launcher.start(["pull-new", "--config", str(_mapping(folder, sandbox.base_url))],
                                            cwd=folder, env=env)) == 0
    sign_ups(sandbox, 2500)  # three feed answers
    sandbox.set_faults(latency_ms=5)
    children = [launcher.start(["sync", "--config", str(f / "mapping.yaml")], cwd=f, env=env) for f in folders]
    assert [launcher.wait(c) for c in children] == [0, 0], [c.stderr() for c in children]
    # a sheet whose run ended before the other sheet's rows were created gets those next time
    for f in folders:
        assert launcher.wait(launcher.start(["pull-new", "--config", str(f / "mapping.yaml")], cwd=f, env=env)) == 0
    everyone = {c["id"] for c in sandbox.contacts()}
    assert len(everyone) == 2540
    for folder in folders:
        ids = tab_ids(folder / "contacts.xlsx")
        assert len(ids) == len(set(ids)) == 2540 and set(ids) == everyone


class _DiskFailsOnce(SqliteStore):
    """The disk fails between the room check and the commit of a feed answer (once)."""

    failed = False

    def add_feed_answer(self, account, raw, **kw):
        if not self.failed and kw.get("origin", "inwise") == "inwise":
            type(self).failed = True
            raise StateError(f"The connector's state store {self.path} could not be written: a write failed.")
        return super().add_feed_answer(account, raw, **kw)


def test_a_feed_answer_the_store_cannot_take_is_kept_in_a_file_and_read_back(tmp_path, sandbox, state_dir):
    wb = write_workbook(tmp_path / "contacts.xlsx", people(2))
    cfg = make_config(tmp_path, sandbox.base_url)
    sign_ups(sandbox, 3)
    store = _DiskFailsOnce(state_dir / STORE_FILE)
    try:
        s = sync(cfg, Collaborators(store=store, environ=ENV))
    finally:
        store.close()
    kept = list(tmp_path.glob("sheets-connector feed answer *.json"))
    assert len(kept) == 1 and str(kept[0]) in s.error and "do not delete that file" in s.error
    assert sandbox.feed_pending() == 0  # inwise handed them out: the file is the only place they are
    s = sync(cfg, Collaborators(environ=ENV))
    assert any("read back" in w for w in s.warnings) and not list(tmp_path.glob("sheets-connector feed answer *"))
    ids = tab_ids(wb)
    assert len(ids) == len(set(ids)) == 5
    assert all(v.startswith("✓ created") for v in column(wb, "Sync result").values())
