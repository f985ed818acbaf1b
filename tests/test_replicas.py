"""Three ``serve`` replicas on one PostgreSQL store behind a round-robin proxy, as an operator runs
them: one run per sheet whatever replica a click reaches, status from any replica, a killed
replica's sheet free again within the lock's lease with nothing sent twice, the CLI sharing the
lock, a database restart in the middle of a run, each schedule slot run once in the fleet, and
the once-only feed reaching every sheet's tab whichever replica pulled it."""
from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from replicas import RoundRobin, fleet, wait_until
from service_helpers import body_of, get_signed, post_sync, wait_for_state
from util import write_workbook

from sheets_connector.state.location import ENV_URL
from sheets_connector.state.runs import SHARED_LEASE_S

SID = "sheet-replicated"
SECRET = "secret-of-the-replicated-sheet-0123"
ROWS = 150
CONCURRENCY = 2


def people(n: int, first: str = "N") -> list[list[object]]:
    return [[f"{first}{i}", "Test", f"rep{i}@example.com", None, None] for i in range(n)]


def setup_sheet(tmp_path: Path, sandbox) -> tuple[Path, Path]:
    configs = tmp_path / "configs"
    configs.mkdir()
    write_workbook(configs / "contacts.xlsx", people(ROWS))
    mapping = configs / "sheet.yaml"
    mapping.write_text(f"""\
service: {{spreadsheet_id: {SID}, secret_env: SHEET_SECRET}}
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
  fields: {{1: First name}}
inwise:
  base_url: {sandbox.base_url}
  concurrency: {CONCURRENCY}
  retries: 0
results:
  column: Sync result
""", encoding="utf-8")
    return configs, mapping


def posts(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("POST /contacts", {}).values())


def host_of(url: str, run_id: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT host FROM runs WHERE id = %s", (int(run_id.split(".")[0]),)).fetchone()
    return str(row[0])


def results(workbook: Path) -> list[str]:
    ws = load_workbook(workbook)["Contacts"]
    col = [c.value for c in ws[1]].index("Sync result") + 1
    return [str(ws.cell(row=r, column=col).value or "") for r in range(2, ROWS + 2)]


@pytest.fixture
def env() -> dict[str, str]:
    return {"INWISE_API_KEY": "test-key", "SHEET_SECRET": SECRET}


def test_three_replicas_one_truth(tmp_path, sandbox, pg_url, env, capsys):
    configs, mapping = setup_sheet(tmp_path, sandbox)
    sandbox.set_faults(latency_ms=5)
    replicas = fleet(configs, pg_url, env)
    proxy = RoundRobin(replicas)
    try:
        # 50 clicks at once, spread over the replicas: one run
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(lambda i: post_sync(proxy.url, body_of(SID, nonce=f"click {i}"), SECRET),
                                    range(50)))
        accepted = [a for a in answers if a.status_code == 202]
        assert len(accepted) == 1, [a.status_code for a in answers]
        run_id = accepted[0].json()["run_id"]
        assert all(a.status_code == 409 and a.json()["run_id"] == run_id for a in answers if a is not accepted[0])
        # its status through any replica (the proxy turns to the next one at each poll)
        done = wait_for_state(proxy.url, run_id, SECRET, {"done", "failed", "cancelled"}, timeout=120)
        assert done["state"] == "done" and done["counts"]["created"] == ROWS, done
        assert min(proxy.served.values()) > 0
        assert posts(sandbox) == ROWS
        for r in replicas:  # and each replica answers it itself
            assert get_signed(r.url, f"/v1/runs/{run_id}", "", SECRET).json()["state"] == "done"

        # every row edited: the next run sends them all; its replica is killed in the middle
        write_workbook(configs / "contacts.xlsx", people(ROWS, first="Edited"))
        sandbox.reset_stats()
        sandbox.set_faults(latency_ms=100)  # a run long enough to meet the CLI and the kill
        second = post_sync(proxy.url, body_of(SID, nonce="second"), SECRET)
        assert second.status_code == 202, second.text
        victim_id = second.json()["run_id"]
        wait_until(lambda: posts(sandbox) >= ROWS // 3, what="the run sending")
        cli = subprocess.run([sys.executable, "-m", "sheets_connector", "sync", "-c", str(mapping)], capture_output=True,
                             text=True, timeout=120, env={**env, "PATH": "/usr/bin:/bin", ENV_URL: pg_url}, check=False)
        assert cli.returncode != 0 and f"is running (run #{victim_id.split('.')[0]}," in cli.stderr, cli.stderr
        victim = next(r for r in replicas if r.name == host_of(pg_url, victim_id))
        victim.kill()
        killed_at = time.monotonic()
        sandbox.set_faults(latency_ms=5)
        refused_with: set[str] = set()

        def click() -> str | None:
            answer = post_sync(proxy.url, body_of(SID, nonce=f"retry {time.monotonic()}"), SECRET)
            if answer.status_code == 409:
                refused_with.add(answer.json()["run_id"])
                return None
            assert answer.status_code == 202, answer.text
            return str(answer.json()["run_id"])

        third_id = wait_until(click, timeout=120, what="a click accepted after the kill")
        free_after = time.monotonic() - killed_at
        assert refused_with <= {victim_id}
        third = wait_for_state(proxy.url, third_id, SECRET, {"done", "failed", "cancelled"}, timeout=120)
        assert third["state"] == "done", third
        dead = get_signed(proxy.url, f"/v1/runs/{victim_id}", "", SECRET).json()
        assert dead["state"] == "failed" and dead["error"], dead
        sent = posts(sandbox)
        assert ROWS <= sent <= ROWS + 2 * CONCURRENCY  # nothing twice beyond the requests on the wire at the kill
        assert all(r.startswith("✓ updated") for r in results(configs / "contacts.xlsx"))
        for r in replicas:
            assert "Traceback" not in "".join(r.lines), r.name
        with capsys.disabled():
            print(f"\n[replicas] sheet free {free_after:.1f} s after kill -9 (lease {SHARED_LEASE_S:.0f} s); "
                  f"{sent} POSTs for {ROWS} rows after the kill; requests per replica {proxy.served}")
    finally:
        proxy.close()
        for r in replicas:
            r.stop()


def test_a_database_restart_during_a_run_stops_it_cleanly_and_the_next_run_recovers(
        tmp_path, sandbox, pg_cluster, pg_url, env):
    configs, _ = setup_sheet(tmp_path, sandbox)
    sandbox.set_faults(latency_ms=40)
    replicas = fleet(configs, pg_url, env, n=2)
    proxy = RoundRobin(replicas)
    try:
        first = post_sync(proxy.url, body_of(SID), SECRET)
        assert first.status_code == 202, first.text
        run_id = first.json()["run_id"]
        wait_until(lambda: posts(sandbox) >= ROWS // 3, what="the run sending")
        pg_cluster.kill()
        try:
            wait_until(lambda: any(r.events("run") for r in replicas), timeout=120, what="the run to stop")
        finally:
            pg_cluster.start()
        sandbox.set_faults(latency_ms=5)
        stopped = next(e for r in replicas for e in r.events("run"))
        assert stopped["state"] in (None, "failed")
        kept = list(configs.glob("contacts sync results *.csv"))
        assert len(kept) == 1  # the results it knew, in a CSV next to the workbook
        second_id = wait_until(
            lambda: (lambda a: a.json()["run_id"] if a.status_code == 202 else None)(
                post_sync(proxy.url, body_of(SID, nonce=f"after {time.monotonic()}"), SECRET)),
            timeout=120, what="a run accepted after the restart")
        done = wait_for_state(proxy.url, second_id, SECRET, {"done", "failed", "cancelled"}, timeout=120)
        assert done["state"] == "done", done
        assert get_signed(proxy.url, f"/v1/runs/{run_id}", "", SECRET).json()["state"] == "failed"
        assert ROWS <= posts(sandbox) <= ROWS + 2 * CONCURRENCY
        assert all(r.startswith("✓ created") for r in results(configs / "contacts.xlsx"))
        for r in replicas:
            assert "Traceback" not in "".join(r.lines), (r.name, "".join(r.lines)[-3000:])
    finally:
        proxy.close()
        for r in replicas:
            r.stop()


def write_mapping(configs: Path, sheet_id: str, workbook: str, sandbox, extra: str = "") -> None:
    (configs / f"{sheet_id}.yaml").write_text(f"""\
service: {{spreadsheet_id: {sheet_id}, secret_env: {secret_env(sheet_id)}}}
source: {{type: xlsx, path: {workbook}, worksheet: Contacts}}
columns:
  email: Email
  fields: {{1: First name}}
inwise:
  base_url: {sandbox.base_url}
  retries: 0
{extra}""", encoding="utf-8")


def secret_env(sheet_id: str) -> str:
    return "SECRET_OF_" + sheet_id.upper().replace("-", "_")  # each sheet its own webhook secret


def secret_of(sheet_id: str) -> str:
    return f"{SECRET}-{sheet_id}"


def tab_ids(workbook: Path) -> list[str]:
    wb = load_workbook(workbook)
    if "New contacts" not in wb.sheetnames:
        return []
    return [str(r[0]) for r in wb["New contacts"].iter_rows(min_row=2, values_only=True) if r[0] is not None]


def test_each_slot_runs_once_in_the_fleet_and_every_tab_gets_every_new_contact_once(tmp_path, sandbox, pg_url, env):
    """3 schedule slots x 3 replicas -> 3 runs per sheet; contacts created through one sheet and
    pulled from the once-only feed by whichever replica reach two scheduled sheets once each."""
    configs = tmp_path / "configs"
    configs.mkdir()
    write_workbook(configs / "signups.xlsx", people(10, first="S"))
    write_mapping(configs, "sheet-signups", "signups.xlsx", sandbox)
    every = 3  # seconds between slots (croniter's sixth field); runs of 2 rows end well within
    for name in ("a", "b"):
        write_workbook(configs / f"{name}.xlsx", [[f"{name}{i}", "T", f"{name}{i}@example.com", None, None]
                                                  for i in range(2)])
        write_mapping(configs, f"sheet-{name}", f"{name}.xlsx", sandbox,
                      f'schedule: "* * * * * */{every}"\ntimezone: UTC\n')
    env = {**env, **{secret_env(s): secret_of(s) for s in ("sheet-signups", "sheet-a", "sheet-b")}}
    replicas = fleet(configs, pg_url, env)
    proxy = RoundRobin(replicas)
    try:
        all_up = datetime.now(timezone.utc)

        def ran_once() -> bool:  # a sheet receives the contacts kept from its first run on
            started = {e["spreadsheet"] for r in replicas for e in r.events("schedule_started")}
            return started >= {"sheet-a", "sheet-b"} and not busy(pg_url)

        wait_until(ran_once, timeout=120, what="a first scheduled run of both sheets")
        click = post_sync(proxy.url, body_of("sheet-signups"), secret_of("sheet-signups"))
        assert click.status_code == 202, click.text
        signups = wait_for_state(proxy.url, click.json()["run_id"], secret_of("sheet-signups"), {"done", "failed"},
                                 timeout=60)
        assert signups["state"] == "done", signups
        signed_up = datetime.now(timezone.utc)

        def slots_seen() -> dict[tuple[str, str], list[str]]:
            """(sheet, slot) -> what each replica did with it, for the slots after the fleet was up."""
            seen: dict[tuple[str, str], list[str]] = {}
            for r in replicas:
                for kind in ("schedule_started", "schedule_taken", "schedule_skipped"):
                    for e in r.events(kind):
                        if datetime.fromisoformat(e["slot"]) > all_up:
                            seen.setdefault((e["spreadsheet"], e["slot"]), []).append(kind)
            return seen

        def three_whole_slots_each() -> bool:
            whole = [k for k, v in slots_seen().items() if len(v) == len(replicas)]
            return all(sum(1 for s, _ in whole if s == sheet) >= 3 and any(
                s == sheet and datetime.fromisoformat(slot) > signed_up for s, slot in whole)
                for sheet in ("sheet-a", "sheet-b"))

        wait_until(three_whole_slots_each, timeout=120, what="three slots seen by every replica")
        wait_until(lambda: not busy(pg_url), timeout=60, what="the scheduled runs to end")
        for r in replicas:
            r.stop()
        seen = slots_seen()
        for sheet in ("sheet-a", "sheet-b"):
            whole = sorted(slot for (s, slot), v in seen.items() if s == sheet and len(v) == len(replicas))[:3]
            assert len(whole) == 3
            for slot in whole:
                assert sorted(seen[(sheet, slot)]) == ["schedule_started", "schedule_taken", "schedule_taken"], \
                    (sheet, slot, seen[(sheet, slot)])
        # one run per started slot, whatever the replica, each done; no other scheduled run
        started = {sheet: sorted(int(e["run_id"].split(".")[0]) for r in replicas for e in r.events("schedule_started")
                                 if e["spreadsheet"] == sheet) for sheet in ("sheet-a", "sheet-b")}
        with psycopg.connect(pg_url) as conn:
            for sheet, ids in started.items():
                runs = conn.execute("SELECT status FROM runs WHERE id = ANY(%s) AND trigger = 'schedule' ORDER BY id",
                                    (ids,)).fetchall()
                # (a slot may have come between the last check and the stop: its run may be stopped)
                assert len(runs) == len(ids) >= 3 and all(s == "ok" for (s,) in runs[:3]), (sheet, runs)
            assert conn.execute("SELECT count(*) FROM runs WHERE trigger = 'schedule'").fetchone()[0] == sum(
                map(len, started.values()))
            pullers = {h for (h,) in conn.execute(
                "SELECT DISTINCT r.host FROM feed_answers f JOIN runs r ON r.id = f.run_id WHERE f.contacts > 0")}
        # the feed was drained into the shared store; each tab got every sign-up once (and every
        # contact created after its first run: the sheets' own rows)
        created = {str(c["id"]) for c in sandbox.contacts()}
        web = {str(c["id"]) for c in sandbox.contacts() if str(c["email"]).startswith("rep")}
        assert len(created) == 14 and len(web) == 10 and sandbox.feed_pending() == 0
        for name in ("a", "b"):
            ids = tab_ids(configs / f"{name}.xlsx")
            assert len(ids) == len(set(ids)) and web <= set(ids) <= created, (name, ids)
        assert pullers, "no replica pulled the feed"
        assert posts(sandbox) == 14  # each row sent once, whatever replica ran its sheet
    finally:
        proxy.close()
        for r in replicas:
            r.stop()


def busy(url: str) -> list[str]:
    """The locks held right now (a run in progress anywhere in the fleet)."""
    with psycopg.connect(url) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM locks")]
