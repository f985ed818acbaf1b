"""Scenario 9: 30 sheets x 1,000 rows scheduled at one slot, synced by 1 replica and by 3 replicas
of ``serve`` on one PostgreSQL store (a throwaway local cluster), against the sandbox.

Each configuration gets a fresh sandbox, database and workbooks; every mapping has the same
schedule (one slot, to the second, a few seconds after the fleet is up), so the whole load lands
at once.  Measured: wall time from the slot until every sheet's run has ended (read in the run
registry), and the requests inwise received (POST /contacts must equal the rows: never more).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from sheets_connector.localpg import LocalPostgres
from sheets_connector.sandbox import Faults, Sandbox
from sheets_connector.state.db import ENV_HOST
from sheets_connector.state.location import ENV_URL

KEY = "bench-key"
SECRET = "bench-fleet-secret-0123456789"
LATENCY_MS = 20  # a request's round trip to inwise, roughly
CONCURRENCY = 4  # requests in flight per sync
MAX_PARALLEL = 2  # syncs at once per replica (serve's default)


def _workbooks(folder: Path, sheets: int, rows: int, base_url: str, slot: datetime) -> None:
    cron = f"{slot.minute} {slot.hour} * * * {slot.second}"  # croniter's sixth field: seconds
    for k in range(sheets):
        wb = Workbook()
        ws = wb.active
        ws.title = "Contacts"
        ws.append(["First name", "Email"])
        for i in range(rows):
            ws.append([f"P{i}", f"s{k}r{i}@example.com"])
        wb.save(folder / f"sheet{k}.xlsx")
        (folder / f"sheet{k}.yaml").write_text(f"""\
service: {{spreadsheet_id: bench-sheet-{k}, secret_env: BENCH_SHEET_SECRET_{k}}}
source: {{type: xlsx, path: sheet{k}.xlsx, worksheet: Contacts}}
columns: {{email: Email, fields: {{1: First name}}}}
inwise: {{base_url: {base_url}, api_key_env: BENCH_INWISE_KEY, concurrency: {CONCURRENCY}}}
schedule: "{cron}"
timezone: UTC
""", encoding="utf-8")


class _Replica:
    def __init__(self, name: str, configs: Path, env: dict[str, str]) -> None:
        self.ready = threading.Event()
        self.tail: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sheets_connector", "serve", "--configs", str(configs), "--port", "0",
             "--max-parallel", str(MAX_PARALLEL)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**env, ENV_HOST: name})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.tail = (self.tail + [line])[-20:]
            if '"listening"' in line:
                self.ready.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _ended(url: str) -> tuple[int, dict[str, int], dict[str, int], list[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT status, host, finished_at, error FROM runs WHERE trigger = 'schedule'").fetchall()
    done = [r for r in rows if r[2] is not None]
    statuses: dict[str, int] = {}
    hosts: dict[str, int] = {}
    errors = [f"{host}: {error}" for status, host, _, error in done if status != "ok"]
    for status, host, _, _ in done:
        statuses[status] = statuses.get(status, 0) + 1
        hosts[host] = hosts.get(host, 0) + 1
    return len(done), statuses, hosts, errors


def run_fleet(work: Path, server: LocalPostgres, replicas: int, sheets: int, rows: int) -> dict[str, Any]:
    folder = work / f"s9-{replicas}"
    folder.mkdir(parents=True)
    url = server.new_database()
    with Sandbox(api_keys=(KEY,), faults=Faults(latency_ms=LATENCY_MS)) as sandbox:
        lead = 10 + 4 * replicas  # seconds for the fleet to start before its slot
        slot = (datetime.now(timezone.utc) + timedelta(seconds=lead)).replace(microsecond=0)
        _workbooks(folder, sheets, rows, sandbox.base_url, slot)
        env = {**os.environ, "BENCH_INWISE_KEY": KEY, ENV_URL: url,
               **{f"BENCH_SHEET_SECRET_{k}": f"{SECRET}-{k}" for k in range(sheets)}}  # each sheet its own
        fleet = [_Replica(f"bench-replica-{i}", folder, env) for i in range(replicas)]
        try:
            for r in fleet:
                if not r.ready.wait(120):
                    raise RuntimeError(f"a replica did not start: {''.join(r.tail)}")
            if datetime.now(timezone.utc) >= slot:
                raise RuntimeError("the fleet started after its slot: raise the lead time")
            time.sleep(max(0.0, (slot - datetime.now(timezone.utc)).total_seconds()))
            start = time.monotonic()
            deadline = start + 3600
            while True:
                ended, statuses, hosts, errors = _ended(url)
                if ended >= sheets:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {ended} of {sheets} runs ended")
                time.sleep(0.2)
            wall = time.monotonic() - start
        finally:
            for r in fleet:
                r.stop()
        requests = sandbox.stats()["requests"]
    posts = sum(requests.get("POST /contacts", {}).values())
    gets = sum(requests.get("GET /contacts", {}).values())
    return {"wall_s": round(wall, 1), "posts": posts, "gets": gets, "statuses": statuses, "runs_per_replica": hosts,
            "errors": errors}


def load() -> str:
    """The machine's load averages (1, 5, 15 min), for the report: these machines are shared."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def as_json(x: Any) -> str:
    return json.dumps(x, sort_keys=True)
