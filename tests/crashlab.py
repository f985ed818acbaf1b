"""Crash trials: real ``sheets-connector sync`` processes against the sandbox and an .xlsx, killed
(SIGKILL) at random and at chosen moments, then run again; every invariant is checked against the
sandbox's inspection API, the workbook and the state store.

A trial: a workbook of ``rows`` contacts (some already in inwise, some invalid), ``web`` contacts
created in inwise by others (so the feed has several answers), one sync killed at a moment, one
rerun to completion, one more run that must change nothing.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from launcher import Child, Launcher
from openpyxl import load_workbook
from util import write_workbook

from sheets_connector.sandbox import Sandbox
from sheets_connector.state.location import ENV_DIR, ENV_URL, STORE_FILE

KEY = "test-key"  # the sandbox fixture's key (conftest.py)
CONCURRENCY = 4
BATCH_SIZE = 40
MOMENTS = ("sends", "feed-answer", "feed-pause", "feed-kept", "before-append", "save", "random")


@dataclass
class Lab:
    folder: Path
    sandbox: Sandbox
    launcher: Launcher
    mode: str
    emails: list[str | None]  # per data row (row i + 2); None for the invalid ones
    seeded: set[str]
    web: int
    notes: list[str] = field(default_factory=list)
    state_url: str | None = None  # a PostgreSQL store instead of the file in the lab's folder

    @property
    def mapping(self) -> Path:
        return self.folder / "mapping.yaml"

    @property
    def workbook(self) -> Path:
        return self.folder / "contacts.xlsx"

    @property
    def store(self) -> Path:
        return self.folder / "state" / STORE_FILE

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "INWISE_API_KEY": KEY, ENV_DIR: str(self.folder / "state")}
        if self.state_url:
            env[ENV_URL] = self.state_url
        return env

    def sendable(self) -> int:
        return sum(1 for e in self.emails if e)


def make_lab(folder: Path, sandbox: Sandbox, launcher: Launcher, *, rows: int = 100, web: int = 1100, mode: str = "upsert",
             seed: int = 0, extra: str = "") -> Lab:
    rng = random.Random(seed)
    data, emails, seeded = [], [], set()
    for i in range(rows):
        email = f"r{i}.{seed}@example.com"
        if i % 37 == 5:
            data.append([f"Bad{i}", "Row", f"r{i}@@example", None, None])  # invalid: never sent
            emails.append(None)
            continue
        data.append([f"N{i}", rng.choice(["Cohen", "Levi", "Katz"]), email, None, None])
        emails.append(email)
        if i % 10 == 3:
            seeded.add(email)
    write_workbook(folder / "contacts.xlsx", data)
    sandbox.add_contacts([{"email": e} for e in sorted(seeded)])
    if web:
        csv_text = "Email\n" + "".join(f"web{j}.{seed}@example.com\n" for j in range(web))
        r = requests.post(sandbox.base_url + "/contacts/batchInsert", headers={"X-API-Key": KEY}, timeout=60, json={
            "csv_file": csv_text, "updateExistingContacts": True,
            "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"}]})
        r.raise_for_status()
    (folder / "mapping.yaml").write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns:
  email: Email
  fields: {{1: First name, 2: Last name}}
inwise:
  base_url: {sandbox.base_url}
  mode: {mode}
  concurrency: {CONCURRENCY}
  batch_size: {BATCH_SIZE}
  retries: 2
{extra}results:
  column: Sync result
  contact_id_column: inwise ID
""", encoding="utf-8")
    sandbox.reset_stats()
    return Lab(folder, sandbox, launcher, mode, emails, seeded, web)


def start(lab: Lab, *args: str) -> Child:
    return lab.launcher.start(["sync", "--config", str(lab.mapping), "--json", *args], cwd=lab.folder, env=lab.env)


@dataclass
class Done:
    code: int
    summary: dict[str, Any]
    stderr: str


def finish(lab: Lab, child: Child, timeout: float = 120) -> Done:
    code = lab.launcher.wait(child, timeout)
    text = child.stdout().strip()
    return Done(code, json.loads(text) if text.startswith("{") else {}, child.stderr())


def run(lab: Lab, *args: str, timeout: float = 120) -> Done:
    return finish(lab, start(lab, *args), timeout)


class Watch:
    """Reads one value from the store, read-only, again and again (None while it does not exist)."""

    def __init__(self, lab: Lab, sql: str) -> None:
        self.lab, self.sql = lab, sql
        self.con: sqlite3.Connection | None = None

    def __call__(self) -> Any:
        try:
            if self.con is None:
                if not self.lab.store.exists():
                    return None
                self.con = sqlite3.connect(f"file:{self.lab.store}?mode=ro", uri=True, timeout=0.05)
            row = self.con.execute(self.sql).fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else row[0]

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def store_value(lab: Lab, sql: str) -> Any:
    if lab.state_url:
        import psycopg

        with psycopg.connect(lab.state_url) as conn:
            row = conn.execute(sql).fetchone()
        return None if row is None else row[0]
    watch = Watch(lab, sql)
    try:
        return watch()
    finally:
        watch.close()


def kill_when(lab: Lab, child: Child, ready: Callable[[], bool], timeout: float = 60) -> bool:
    """SIGKILL the process as soon as ``ready()``; False if it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ready():
            lab.launcher.kill(child)
            return True
        if lab.launcher.poll(child) is not None:
            return False
        time.sleep(0.001)
    raise AssertionError("the moment to kill never came")


def posts(sandbox: Sandbox) -> int:
    reqs = sandbox.stats()["requests"]
    return sum(reqs.get("POST /contacts", {}).values()) + sum(reqs.get("POST /contacts/batchInsert", {}).values())


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if "sheets-connector.tmp" in p.name or p.name.endswith(".probe")]


def kill_at(lab: Lab, moment: str, rng: random.Random) -> dict[str, Any]:
    """Start a sync and kill it at ``moment``; returns what the trial must know about the kill."""
    sb = lab.sandbox
    if moment == "feed-pause":
        sb.set_faults(feed_pause_ms=4000)
    proc = start(lab)
    if moment == "sends":
        target = rng.randint(1, max(1, lab.sendable() // 2)) if lab.mode == "upsert" else rng.randint(1, 2)
        killed = kill_when(lab, proc, lambda: posts(sb) >= target)
    elif moment == "feed-answer":
        killed = kill_when(lab, proc, lambda: sb.feed_status()["pages_handed_out"] >= 1)
    elif moment == "feed-pause":
        assert sb.wait_for_paused_feed_answer(60), "no feed answer was paused"
        killed = kill_when(lab, proc, lambda: True)
        sb.set_faults(feed_pause_ms=0)
    elif moment == "feed-kept":
        answers = Watch(lab, "SELECT COUNT(*) FROM feed_answers")
        killed = kill_when(lab, proc, lambda: (answers() or 0) >= 1)
        answers.close()
    elif moment == "before-append":
        stage = Watch(lab, "SELECT stage FROM runs ORDER BY id DESC LIMIT 1")
        # the write stage is short: on a starved machine the first sign of it may already be "save"
        killed = kill_when(lab, proc, lambda: stage() in ("write", "save"))
        stage.close()
    elif moment == "save":
        killed = kill_when(lab, proc, lambda: bool(temp_files(lab.folder)))
    else:
        delay = rng.uniform(0.05, 1.5)
        end = time.monotonic() + delay
        killed = kill_when(lab, proc, lambda: time.monotonic() >= end)
    status = sb.feed_status()
    return {"killed": killed, "moment": moment, "feed": status, "posts": posts(sb)}


def check(lab: Lab, kill: dict[str, Any], rerun: Done, again: Done | None) -> None:
    """Every invariant after the rerun; raises AssertionError listing what broke."""
    problems: list[str] = []
    sb = lab.sandbox
    assert rerun.code == 0, f"the rerun failed ({rerun.code}): {rerun.stderr[-2000:]}"
    contacts = {c["email"]: c for c in sb.contacts()}
    created_ids = {c["id"] for e, c in contacts.items() if e not in lab.seeded}
    warned_lost = any("may be missing" in w for w in rerun.summary.get("warnings", []))
    lost: set[int] = set()
    if warned_lost and kill["feed"]["last_page"]:
        # the answer being received when the process died - unless the store had kept it: killed after
        # keeping one answer and marking the next request, the rerun cannot tell whether inwise answered it
        ids = kill["feed"]["last_page"]["ids"]
        marks = ", ".join(f"'{i}'" for i in ids)
        if store_value(lab, f"SELECT COUNT(*) FROM feed_contacts WHERE contact_id IN ({marks})") != len(ids):
            lost = set(ids)
    if kill.get("moment") == "feed-pause" and not warned_lost:
        problems.append("killed inside a feed answer, and the rerun did not say contacts may be missing")
    # inwise: one contact per row and per web sign-up, nothing else
    expected = len({e for e in lab.emails if e}) + lab.web
    if len(contacts) != expected:
        problems.append(f"inwise holds {len(contacts)} contacts, expected {expected}")
    # the workbook opens, and every row has a final status, on its own row
    ws = load_workbook(lab.workbook)["Contacts"]
    heads = [c.value for c in ws[1]]
    res_i, id_i, email_i = heads.index("Sync result"), heads.index("inwise ID"), heads.index("Email")
    for r, email in enumerate(lab.emails, start=2):
        result = ws.cell(row=r, column=res_i + 1).value or ""
        if email is None:
            if not result.startswith("✗ "):
                problems.append(f"row {r} (invalid) says {result!r}")
            continue
        c = contacts.get(email)
        if c is None:
            problems.append(f"row {r}: {email} is not in inwise")
            continue
        cid = ws.cell(row=r, column=id_i + 1).value
        if lab.mode == "batch" and (email in lab.seeded or c["id"] in lost) and cid is None:
            pass  # batchInsert does not say which contact a row updated; only the feed tells created ones
        elif ws.cell(row=r, column=email_i + 1).value != email or cid != c["id"] or f"#{c['id']}" not in result:
            problems.append(f"row {r}: status {result!r} / id {cid} do not belong to {email} (#{c['id']})")
        want = "✓ updated" if email in lab.seeded or c["id"] in lost else "✓ created"
        if not result.startswith(want):
            problems.append(f"row {r}: {result!r}, expected {want}")
    # the new-contacts tab: every contact inwise created, exactly once (bar a reported loss)
    tab = [row[0] for row in load_workbook(lab.workbook)["New contacts"].iter_rows(min_row=2, values_only=True)]
    if len(tab) != len(set(tab)):
        problems.append(f"{len(tab) - len(set(tab))} duplicate rows in the new-contacts tab")
    missing = created_ids - set(tab) - lost
    if missing:
        problems.append(f"{len(missing)} created contacts missing from the tab (warned: {warned_lost})")
    if set(tab) - created_ids:
        problems.append("the tab holds contacts inwise did not create")
    # nothing answered was sent again: at most the requests on their way at the kill (upsert keeps
    # 2 x concurrency requests queued or in flight; batch one chunk)
    sent = posts(sb)
    limit = lab.sendable() + 2 * CONCURRENCY if lab.mode == "upsert" else -(-lab.sendable() // BATCH_SIZE) + 1
    if sent > limit:
        problems.append(f"{sent} POSTs for {lab.sendable()} rows (at most {limit} allowed)")
    # no temp file left, nothing pending in the store, the killed run is marked as such
    if temp_files(lab.folder):
        problems.append(f"temp files left: {temp_files(lab.folder)}")
    if store_value(lab, "SELECT COUNT(*) FROM rows WHERE state != 'written'"):
        problems.append("rows still pending in the store")
    if store_value(lab, "SELECT COUNT(*) FROM runs WHERE status NOT IN ('ok', 'crashed', 'stopped')"):
        problems.append("a run is not marked ok, stopped or crashed in the history")
    if again is not None:
        s = again.summary
        if again.code != 0 or s.get("api_calls", {}).get("POST /contacts") or \
                s.get("api_calls", {}).get("POST /contacts/batchInsert") or s.get("new_contacts_appended"):
            problems.append(f"a third run still changed something: {again.code} {s.get('api_calls')}")
        elif s["counts"]["unchanged"] != lab.sendable():
            problems.append(f"third run: {s['counts']['unchanged']} unchanged of {lab.sendable()}")
    assert not problems, "\n".join(problems + [f"rerun stderr: {rerun.stderr[-1500:]}"])


def trial(folder: Path, sandbox: Sandbox, launcher: Launcher, seed: int, *, third_run: bool = True
          ) -> dict[str, Any]:
    rng = random.Random(seed)
    moment = MOMENTS[seed % len(MOMENTS)]
    mode = "batch" if seed % 4 == 3 else "upsert"
    sandbox.set_faults(latency_ms=5, jitter_ms=5, seed=seed)
    lab = make_lab(folder, sandbox, launcher, mode=mode, seed=seed)
    kill = kill_at(lab, moment, rng)
    assert kill["killed"] or moment == "random", f"the sync ended before the moment {moment!r}"
    rerun = run(lab)
    again = run(lab) if third_run else None
    check(lab, kill, rerun, again)
    return {"mode": mode, **kill}
