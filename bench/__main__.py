"""The benchmark: where the time goes, against the limit and a naive baseline.

    python -m bench                 # every scenario, full sizes (a few minutes)
    python -m bench --quick         # small sizes, to check the harness
    python -m bench -s 1,6          # chosen scenarios
    python -m bench --readme-only   # rewrite README.md's table from the reports, run nothing

Starts the inwise sandbox on 127.0.0.1 itself, generates seeded workbooks (cached in
bench/.cache), prints a table and writes one report per scenario, bench/results/scenario-<N>.json
(``-quick`` before ``.json`` for a --quick run), with the run's date, command and the machine's
facts.  A run of some scenarios replaces only their reports, so the folder always holds every
scenario's latest full-size run, and README.md's table is made from that whole set.
Absolute times on shared 2-core machines move between runs, so every timing is also given as a
ratio to a limit or to a naive baseline measured in the same run.

Adding a scenario is a function returning a ``Result`` and one line in SCENARIOS.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import requests

from sheets_connector.config import load_config
from sheets_connector.contacts import ContactMapper
from sheets_connector.inwise import contact_body
from sheets_connector.normalize import clear_caches
from sheets_connector.sandbox import Faults, Sandbox
from sheets_connector.sync import Collaborators, plan, pull_new, send_options, sync
from sheets_connector.tables.base import SourceRow

from . import data

ROOT = Path(__file__).resolve().parent
KEY = "bench-key"
ENV = {"BENCH_INWISE_KEY": KEY}


@dataclass
class Figure:
    name: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None  # None: no target


@dataclass
class Result:
    scenario: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, *a: Any, **k: Any) -> None:
        self.figures.append(Figure(*a, **k))


@dataclass
class Ctx:
    quick: bool
    repeat: int
    work: Path
    cache: Path


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _folder(ctx: Ctx, name: str, workbook: Path, base_url: str, *, mode: str, concurrency: int = 8,
            batch_size: int = 1000) -> Path:
    folder = ctx.work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(workbook, folder / "contacts.xlsx")
    (folder / "mapping.yaml").write_text(
        data.MAPPING.format(base_url=base_url, mode=mode, concurrency=concurrency, batch_size=batch_size),
        encoding="utf-8")
    return folder


def _child(command: str, mapping: Path, drop: tuple[str, ...] = ()) -> tuple[dict, float]:
    env = {k: v for k, v in {**os.environ, **ENV}.items() if k not in drop}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "bench.child", command, str(mapping)], capture_output=True,
                       text=True, env=env, cwd=ROOT.parent, timeout=1800)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"bench child failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1]), wall


# --- scenario 1 ----------------------------------------------------------------------------------


def s1_upsert(ctx: Ctx) -> Result:
    n = 300 if ctx.quick else 2000
    latency, conc = 50, 8
    res = Result("1", f"Per-row upsert, .xlsx, {n:,} rows, {latency} ms per request, concurrency {conc}")
    wb = data.cached_workbook(ctx.cache, n)
    walls, sends, sent = [], [], 0
    for i in range(ctx.repeat):
        with Sandbox(api_keys=(KEY,), faults=Faults(latency_ms=latency)) as sb:
            folder = _folder(ctx, f"s1-{i}", wb, sb.base_url, mode="upsert", concurrency=conc)
            cfg = load_config(folder / "mapping.yaml")
            t = time.perf_counter()
            s = sync(cfg, Collaborators(environ=ENV))
            walls.append(time.perf_counter() - t)
            sends.append(s.timings["send"])
            sent = s.api_calls.get("POST /contacts", 0)
            max_in_flight = sb.stats()["max_in_flight"]
            # the naive baseline, in the same run against the same server: one request per row,
            # sequentially, a new connection each time (requests.post without a Session)
            if i == 0:
                p = plan(cfg)
                opts = send_options(cfg)
                sample = [contact_body(c, opts) for _, c in p.to_send()[: (30 if ctx.quick else 100)]]
                t = time.perf_counter()
                for body in sample:
                    requests.post(sb.base_url + "/contacts", json=body, headers={"X-API-Key": KEY}, timeout=30)
                naive_per_row = (time.perf_counter() - t) / len(sample)
    wall = _median(walls)
    limit = sent * latency / 1000 / conc
    naive = naive_per_row * sent
    res.add("rows sent", sent)
    res.add("wall time (median)", round(wall, 2), "s")
    res.add("send stage (median)", round(_median(sends), 2), "s")
    res.add("rows/s", round(sent / wall, 1))
    res.add("limit N×latency/concurrency", round(limit, 2), "s")
    res.add("wall / limit", round(wall / limit, 3), "×", "≤ 1.1", wall / limit <= 1.1)
    res.add("naive sequential baseline (extrapolated)", round(naive, 1), "s")
    res.add("naive / ours", round(naive / wall, 2), "×", "≥ 7", naive / wall >= 7)
    res.add("peak requests in flight", max_in_flight, "", f"≤ {conc}", max_in_flight <= conc)
    res.notes.append(f"naive baseline measured on {len(sample)} rows in the same run "
                     f"({naive_per_row * 1000:.1f} ms/row) and scaled to {sent} rows")
    res.raw = {"walls": walls, "sends": sends, "naive_per_row_s": naive_per_row}
    return res


# --- scenario 2 ----------------------------------------------------------------------------------


S2_WALL_S = 15  # issue 21's targets for 100,000 rows
S2_PEAK_MIB = 512


def s2_batch(ctx: Ctx) -> Result:
    n = 5000 if ctx.quick else 100_000
    res = Result("2", f"Batch mode, .xlsx, {n:,} rows × 10 columns")
    t = time.perf_counter()
    wb = data.cached_workbook(ctx.cache, n)
    gen = time.perf_counter() - t
    with Sandbox(api_keys=(KEY,)) as sb:
        folder = _folder(ctx, "s2", wb, sb.base_url, mode="batch", batch_size=1000)
        summary, proc_wall = _child("sync", folder / "mapping.yaml")
        stats = sb.stats()
    tm = summary["timings"]
    wall = summary["duration_s"]
    peaks = summary.get("stage_peak_rss_mb", {})
    for stage in ("read", "map", "send", "pull", "write", "save"):
        res.add(f"  {stage}", round(tm.get(stage, 0.0), 2), "s")
    res.add("wall time (sync)", round(wall, 2), "s", f"≤ {S2_WALL_S} s", wall <= S2_WALL_S)
    res.add(f"wall / {S2_WALL_S} s target", round(wall / S2_WALL_S, 3), "×", "≤ 1", wall <= S2_WALL_S)
    res.add("process wall (incl. interpreter start)", round(proc_wall, 2), "s")
    total = summary["peak_rss_all_processes_mb"]
    res.add("peak RSS, connector process", round(summary["peak_rss_mb"]), "MiB")
    res.add("peak RSS, all its processes (sampled)", round(total), "MiB", f"≤ {S2_PEAK_MIB}", total <= S2_PEAK_MIB)
    res.add(f"peak RSS / {S2_PEAK_MIB} MiB target", round(total / S2_PEAK_MIB, 3), "×", "≤ 1", total <= S2_PEAK_MIB)
    # which stage peaks: the process's own high-water mark per stage, and with the mapping workers
    for stage in ("read", "map", "send", "pull", "write", "save", "other"):
        if stage in peaks:
            p = peaks[stage]
            res.add(f"  peak RSS in {stage} (process / all)", f"{p['process']} / {p['all']}", "MiB")
    reqs = {k: sum(v.values()) for k, v in stats["requests"].items()}
    for k, v in sorted(reqs.items()):
        res.add(f"inwise {k}", v, "requests")
    res.add("rows/s", round(summary["rows_read"] / wall))
    res.add("outcomes", " ".join(f"{k}={v}" for k, v in summary["counts"].items() if v))
    res.add("written in place", "yes" if not summary["is_copy"] else "no (copy)")
    if not ctx.quick:
        # the naive write-back: what a script would do - load the workbook with openpyxl,
        # write one cell per row, save it - measured on the same file in the same run
        naive = _naive_writeback(wb)
        res.add("naive openpyxl write-back (load+write+save)", round(naive, 2), "s")
        res.add("naive write-back / ours (write+save)", round(naive / max(tm["write"] + tm["save"], 1e-9), 2), "×")
    res.notes.append(f"workbook generated/cached in {gen:.1f} s (not counted)")
    res.raw = {"summary": summary}
    return res


def _naive_writeback(wb: Path) -> float:
    from openpyxl import load_workbook

    t = time.perf_counter()
    book = load_workbook(wb)
    ws = book["Contacts"]
    col = ws.max_column + 1
    for r in range(2, ws.max_row + 1):
        ws.cell(row=r, column=col, value="✓ created · #439130001")
    with tempfile.TemporaryDirectory() as d:
        book.save(Path(d) / "out.xlsx")
    return time.perf_counter() - t


# --- scenario 3 ----------------------------------------------------------------------------------

SHEETS_QUOTA_PER_MIN = 60  # Google's write (and read) requests per minute per user
SHEETS_WRITES = ("sheets.spreadsheets.values.batchUpdate", "sheets.spreadsheets.values.append",
                 "sheets.spreadsheets.batchUpdate", "sheets.spreadsheets.values.update",
                 "sheets.spreadsheets.values.batchUpdateByDataFilter")


def _sheets_syncs(ctx: Ctx, n: int) -> tuple[dict[str, int], dict[str, int], dict[str, Any], float]:
    """(requests of a first sync, requests of a later one, the first's summary, its wall time) for
    an n-row Google Sheet in the emulator, synced in batch mode to the sandbox."""
    from sheets_connector.sheets_emulator import SheetsEmulator
    from sheets_connector.tables.gsheet import GoogleSheetTable

    with SheetsEmulator() as emu, Sandbox(api_keys=(KEY,)) as sb:
        key = emu.create_spreadsheet({"Contacts": [data.HEADER, *data.rows(n)]}, cols=len(data.HEADER))
        folder = ctx.work / f"s3-{n}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        source = f"source: {{{{type: google_sheet, spreadsheet: {key}, worksheet: Contacts, api_url: '{emu.api_url}'}}}}"
        mapping = data.MAPPING.replace(data.MAPPING.splitlines()[0], source)
        (folder / "mapping.yaml").write_text(
            mapping.format(base_url=sb.base_url, mode="batch", concurrency=8, batch_size=1000), encoding="utf-8")
        cfg = load_config(folder / "mapping.yaml")

        def table() -> GoogleSheetTable:  # the emulator's account, whatever GOOGLE_APPLICATION_CREDENTIALS says
            return GoogleSheetTable.from_source(cfg.source, cfg, environ={})

        emu.reset_stats()
        t = time.perf_counter()
        first = sync(cfg, Collaborators(table=table(), environ=ENV))
        wall = time.perf_counter() - t
        first_counts = emu.request_counts()
        # a contact created elsewhere (a sign-up form), so the later sync appends to the new-contacts tab too
        requests.post(sb.base_url + "/contacts", headers={"X-API-Key": KEY}, timeout=30,
                      json={"email": f"signup-{n}@example.com"}).raise_for_status()
        emu.reset_stats()
        later = sync(cfg, Collaborators(table=table(), environ=ENV))
        if later.new_contacts_appended != 1:
            raise RuntimeError(f"scenario 3: the later sync appended {later.new_contacts_appended} contacts, not 1")
        return first_counts, emu.request_counts(), first.to_dict(max_rows=0), wall


def s3_sheets(ctx: Ctx) -> Result:
    small, large = (10, 1000) if ctx.quick else (10, 10_000)
    res = Result("3", f"Google Sheets: API requests per sync for {small} and {large:,} rows; the {large:,}-row "
                      "sync on the local emulator (batch mode)")
    runs = {n: _sheets_syncs(ctx, n) for n in (small, large)}
    (first_s, later_s, _, _), (first_l, later_l, summary, wall) = runs[small], runs[large]
    res.add(f"requests, first sync, {small} rows", sum(first_s.values()))
    res.add(f"requests, first sync, {large:,} rows", sum(first_l.values()), "", f"= {small}-row figure",
            first_l == first_s)
    one_off = first_l.get("sheets.spreadsheets.batchUpdate", 0)
    res.add("  of which one-off: grid widening + column pins, tab creation", one_off, "", "≤ 2", one_off <= 2)
    res.add(f"requests, later sync, {small} rows", sum(later_s.values()))
    res.add(f"requests, later sync, {large:,} rows", sum(later_l.values()), "", f"= {small}-row figure, ≤ 5 + re-read",
            later_l == later_s and sum(later_l.values()) <= 5 + 1)
    ours_first = sum(first_l.get(m, 0) for m in SHEETS_WRITES)
    ours_later = sum(later_l.get(m, 0) for m in SHEETS_WRITES)
    res.add(f"write requests per sync, ours, first / later ({large:,} rows)", f"{ours_first} / {ours_later}")
    res.add(f"write requests per sync, naive: one per row ({large:,} rows)", large)
    res.add("naive / ours (first sync)", round(large / ours_first), "×")
    res.add("minutes of the 60 writes/min quota, naive", round(large / SHEETS_QUOTA_PER_MIN, 1), "min")
    res.add("minutes of the 60 writes/min quota, ours (first sync)", round(ours_first / SHEETS_QUOTA_PER_MIN, 3), "min",
            "< 1", ours_first < SHEETS_QUOTA_PER_MIN)
    tm = summary["timings"]
    res.add(f"wall time, first sync of {large:,} rows", round(wall, 2), "s")
    for stage in ("read", "map", "send", "pull", "write"):
        res.add(f"  {stage}", round(tm.get(stage, 0.0), 2), "s")
    res.add("outcomes", " ".join(f"{k}={v}" for k, v in summary["counts"].items() if v))
    res.notes.append("requests counted by the emulator per Sheets API method; first sync: "
                     + ", ".join(f"{k.removeprefix('sheets.spreadsheets.')} ×{v}" for k, v in sorted(first_l.items()))
                     + "; later sync (one new contact to append): "
                     + ", ".join(f"{k.removeprefix('sheets.spreadsheets.')} ×{v}" for k, v in sorted(later_l.items())))
    res.notes.append("naive: a script writing each row's result with its own request (gspread's update_cell in a loop); "
                     "Google answers 429 past 60 writes a minute, so its minutes of quota are its least wall time")
    res.notes.append("the emulator runs in the connector's process (a real HTTP server on 127.0.0.1, sharing its CPU); "
                     "at Google, each of the handful of requests adds its network latency")
    res.raw = {"requests": {str(n): {"first": f, "later": later} for n, (f, later, _, _) in runs.items()}}
    return res


# --- scenario 4 ----------------------------------------------------------------------------------


def s4_resync(ctx: Ctx) -> Result:
    n = 1000 if ctx.quick else 10_000
    latency, conc = 10, 8
    res = Result("4", f"Unchanged re-sync, .xlsx, {n:,} rows, upsert, {latency} ms per request, concurrency {conc}")
    wb = data.cached_workbook(ctx.cache, n)
    with Sandbox(api_keys=(KEY,), faults=Faults(latency_ms=latency)) as sb:
        folder = _folder(ctx, "s4", wb, sb.base_url, mode="upsert", concurrency=conc)
        cfg = load_config(folder / "mapping.yaml")
        t = time.perf_counter()
        full = sync(cfg, Collaborators(environ=ENV))
        full_wall = time.perf_counter() - t
        sb.reset_stats()
        walls, again = [], full
        for _ in range(ctx.repeat):
            t = time.perf_counter()
            again = sync(cfg, Collaborators(environ=ENV))
            walls.append(time.perf_counter() - t)
        reqs = {k: sum(v.values()) for k, v in sb.stats()["requests"].items()}
    sendable = n - sum(full.counts[k] for k in ("invalid", "duplicate"))
    posts = reqs.get("POST /contacts", 0) // ctx.repeat
    gets = reqs.get("GET /contacts", 0) // ctx.repeat
    wall = _median(walls)
    window = sorted(full.feed_commit_ms)
    res.add("full sync wall time", round(full_wall, 2), "s")
    res.add("unchanged re-sync wall time (median)", round(wall, 2), "s")
    res.add("re-sync / full sync", round(wall / full_wall, 3), "×", "≪ 1", wall / full_wall < 0.2)
    res.add("POST requests in the re-sync", posts, "", "= 0", posts == 0)
    res.add("GET /contacts in the re-sync", gets, "", "= 1 (the feed read)", gets == 1)
    res.add("rows unchanged", again.counts["unchanged"], "", f"= {sendable}", again.counts["unchanged"] == sendable)
    for stage in ("read", "map", "send", "pull", "write", "save"):
        res.add(f"  re-sync {stage}", round(again.timings.get(stage, 0.0), 3), "s")
    if window:
        res.add("feed answers kept by the full sync", len(window))
        res.add("feed loss window: last byte received -> committed (median)", round(statistics.median(window), 1),
                "ms")
        res.add("feed loss window (max)", round(window[-1], 1), "ms")
    res.notes.append("re-sync: every row is unchanged since the full sync just before, so only the new-contacts "
                     "feed is read; the loss window is measured per feed answer of the full sync (an fsynced "
                     "SQLite commit of the raw answer)")
    res.raw = {"full_wall": full_wall, "walls": walls, "feed_commit_ms": window}
    return res


# --- scenario 5 ----------------------------------------------------------------------------------


def s5_pull(ctx: Ctx) -> Result:
    n = 2000 if ctx.quick else 10_000
    res = Result("5", f"New-contacts pull: {n:,} contacts created since the last run")
    wb = data.cached_workbook(ctx.cache, 10)
    walls, pulls, gets, appended = [], [], 0, 0
    for i in range(ctx.repeat):
        with Sandbox(api_keys=(KEY,)) as sb:
            csv_text = "Email,Name\n" + "".join(f"web{j}@example.com,Web {j}\n" for j in range(n))
            r = requests.post(sb.base_url + "/contacts/batchInsert", headers={"X-API-Key": KEY}, timeout=120, json={
                "csv_file": csv_text, "updateExistingContacts": True,
                "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"},
                                   {"field_name": "1", "file_column_name": "Name"}]})
            r.raise_for_status()
            sb.reset_stats()
            folder = _folder(ctx, f"s5-{i}", wb, sb.base_url, mode="upsert")
            t = time.perf_counter()
            s = pull_new(load_config(folder / "mapping.yaml"), Collaborators(environ=ENV))
            walls.append(time.perf_counter() - t)
            pulls.append(s.timings.get("pull", 0.0) if s.timings else 0.0)
            gets = sum(sb.stats()["requests"].get("GET /contacts", {}).values())
            appended = s.new_contacts_appended
    minimum = math.floor(n / 1000) + 1
    res.add("feed requests", gets, "", f"= {minimum} (⌊N/1000⌋+1)", gets == minimum)
    res.add("contacts appended", appended, "", f"= {n}", appended == n)
    res.add("wall time (median)", round(_median(walls), 2), "s")
    res.add("contacts/s", round(n / _median(walls)))
    res.raw = {"walls": walls}
    return res


# --- scenario 6 ----------------------------------------------------------------------------------


def s6_cpu(ctx: Ctx) -> Result:
    n = 2000 if ctx.quick else 20_000
    res = Result("6", f"Local CPU: mapping + validation of {n:,} rows, one core")
    cfg = load_config(_folder(ctx, "s6", data.cached_workbook(ctx.cache, 10), "http://127.0.0.1:9/rest/v1",
                              mode="upsert") / "mapping.yaml")
    header = data.HEADER
    rows = [SourceRow(i + 2, tuple(r)) for i, r in enumerate(data.rows(n, seed=6))]
    ours, floor = [], []
    mapped: list = []
    for _ in range(ctx.repeat):
        clear_caches()
        mapped = []  # the previous run's results are not kept alive through this one
        gc.collect()  # each timed part starts from the same heap: no collection owed by the other
        mapper = ContactMapper(cfg, header, "bench")
        t = time.process_time()
        mapped = mapper.map_rows(rows, workers=1)  # one core by definition: no worker processes
        ours.append(time.process_time() - t)
        gc.collect()
        floor.append(_library_floor(rows))
    o, f = _median(ours), _median(floor)
    res.add("rows/s per core (ours)", round(n / o))
    res.add("µs per row (ours)", round(o / n * 1e6, 1), "µs")
    res.add("µs per row, libraries alone", round(f / n * 1e6, 1), "µs")
    res.add("ours / libraries alone", round(o / f, 2), "×", "≤ 1.3", o / f <= 1.3)
    res.add("rows sent / problems", f"{sum(1 for m in mapped if m.contact)} / {sum(1 for m in mapped if m.problem)}")
    res.notes.append("libraries alone: email_validator.validate_email (no DNS) + phonenumbers.parse + "
                     "is_valid_number on the same cells, no cleaning, no caching: the floor a naive script pays")
    res.notes.append("ours: process CPU of ContactMapper.map_rows, garbage collection included (it builds 3 objects "
                     "a row that live on: row, contact, key; map_rows applies the run's GC policy itself, "
                     "sheets_connector/gcpolicy.py); the median of the runs")
    res.notes.append("ours, like a real list, meets each address once and each domain many times (50 domains here): "
                     "email-validator's answer for a domain it accepted is remembered (normalize/emails.py), every "
                     "address still checked whole; a chunk's email cells are validated before its mobile cells")
    return res


def _library_floor(rows: list[SourceRow]) -> float:
    import email_validator
    import phonenumbers

    t = time.process_time()
    for r in rows:
        email, mobile = r.values[3], r.values[4]
        if email:
            try:
                email_validator.validate_email(str(email), check_deliverability=False)
            except email_validator.EmailNotValidError:
                pass
        if mobile:
            try:
                phonenumbers.is_valid_number(phonenumbers.parse(str(mobile), "IL"))
            except phonenumbers.NumberParseException:
                pass
    return time.process_time() - t


# --- scenario 7 ----------------------------------------------------------------------------------


def _store_pass(store: Any, rows: int, chunk: int = 100) -> float:
    """What a sync asks of the store for ``rows`` rows: answers committed as they arrive (per
    ``chunk``), the words for the sheet, the save recorded, the records read by the next run."""
    t = time.perf_counter()
    token, run = store.begin_run("bench-book", "bench-sheet", "bench", "sync", "cli", datetime.now().isoformat())
    keys = [f"row{i}@example.com" for i in range(rows)]
    for i in range(0, rows, chunk):
        store.record_answers("bench-sheet", run, [(k, f"fp{k}", {"outcome": "created", "contact_id": j})
                                                  for j, k in enumerate(keys[i:i + chunk], start=i)])
    store.record_statuses("bench-sheet", [(k, "✓ created", "2026-01-01T00:00:00", None) for k in keys])
    store.commit_saved("bench-sheet", None, run, keys, [])
    assert len(store.row_records("bench-sheet")) == rows
    store.finish_run(run, "ok", finished_at=datetime.now().isoformat(), duration_s=0.0)
    store.unlock("bench-book", token)
    return time.perf_counter() - t


def s7_store(ctx: Ctx) -> Result:
    """The state store's own cost per 10,000 rows: the SQLite file vs a PostgreSQL server on this
    machine (a throwaway cluster, fsync off, as the tests run it: the figure is the statements'
    cost, not the disk's)."""
    from sheets_connector.localpg import LocalPostgres
    from sheets_connector.state import open_url

    rows = 1000 if ctx.quick else 10_000
    res = Result("7", f"State store cost per 10,000 rows: SQLite vs PostgreSQL ({rows:,} rows, answers per 100)")
    server = LocalPostgres()
    try:
        times: dict[str, list[float]] = {"SQLite": [], "PostgreSQL": []}
        for attempt in range(ctx.repeat):
            for engine, url in (("SQLite", str(ctx.work / f"s7-{attempt}.db")), ("PostgreSQL", server.new_database())):
                store = open_url(url)
                try:
                    times[engine].append(_store_pass(store, rows) * 10_000 / rows)
                finally:
                    store.close()
        lite, pg = _median(times["SQLite"]), _median(times["PostgreSQL"])
        res.add("SQLite, s per 10,000 rows", round(lite, 2), "s")
        res.add("PostgreSQL, s per 10,000 rows", round(pg, 2), "s")
        res.add("PostgreSQL / SQLite", round(pg / lite, 2), "x")
        res.notes.append("Each write proves the run's lock in the same transaction (fencing); on PostgreSQL every "
                         "statement is a round trip to the server over TCP on 127.0.0.1.")
        res.raw = times
    finally:
        server.close()
    return res


# --- scenario 8 ----------------------------------------------------------------------------------


def s8_big_sheet(ctx: Ctx) -> Result:
    """A Google Sheet as large as staff build them (100,000 rows x 10 columns is 1 M cells, a fifth
    of Google's cell limit), synced in batch mode: the emulator runs in this process, the sync in
    its own (bench.child), so the memory figure is the connector's alone."""
    from sheets_connector.sheets_emulator import SheetsEmulator

    n = 2000 if ctx.quick else 100_000
    res = Result("8", f"Google Sheet on the emulator, {n:,} rows × 10 columns, batch mode: requests, wall time, memory")
    with SheetsEmulator() as emu, Sandbox(api_keys=(KEY,)) as sb:
        key = emu.create_spreadsheet({"Contacts": [data.HEADER, *data.rows(n)]}, cols=len(data.HEADER))
        folder = ctx.work / "s8"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        source = f"source: {{{{type: google_sheet, spreadsheet: {key}, worksheet: Contacts, api_url: '{emu.api_url}'}}}}"
        mapping = data.MAPPING.replace(data.MAPPING.splitlines()[0], source)
        (folder / "mapping.yaml").write_text(
            mapping.format(base_url=sb.base_url, mode="batch", concurrency=8, batch_size=1000), encoding="utf-8")
        emu.reset_stats()
        # the emulator's account, whatever GOOGLE_APPLICATION_CREDENTIALS says on this machine
        summary, proc_wall = _child("sync", folder / "mapping.yaml", drop=("GOOGLE_APPLICATION_CREDENTIALS",))
        counts = emu.request_counts()
    tm = summary["timings"]
    total = sum(counts.values())
    writes = sum(counts.get(m, 0) for m in SHEETS_WRITES)
    res.add("Sheets API requests in the sync", total, "", "≤ 10 (a handful, whatever the rows)", total <= 10)
    res.add("  of which writes", writes, "", f"< {SHEETS_QUOTA_PER_MIN} (one minute of quota)",
            writes < SHEETS_QUOTA_PER_MIN)
    res.add("wall time (sync)", round(summary["duration_s"], 2), "s")
    for stage in ("read", "map", "send", "pull", "write", "save"):
        res.add(f"  {stage}", round(tm.get(stage, 0.0), 2), "s")
    res.add("process wall (incl. interpreter start)", round(proc_wall, 2), "s")
    peak = summary["peak_rss_all_processes_mb"]
    res.add("peak RSS, connector (all its processes, sampled)", round(peak), "MiB", "≤ 512", peak <= 512)
    res.add("outcomes", " ".join(f"{k}={v}" for k, v in summary["counts"].items() if v))
    res.notes.append("requests per Sheets API method: " + ", ".join(
        f"{k.removeprefix('sheets.spreadsheets.')} ×{v}" for k, v in sorted(counts.items())))
    res.notes.append("the emulator answers from this (the benchmark's) process on 127.0.0.1; at Google each "
                     "request adds its network latency and the grid read of 1 M cells takes seconds more; the "
                     "write's read-backs ask only for the key and result columns (sheets_connector/tables/gsheet_focus.py)")
    res.raw = {"summary": summary, "requests": counts}
    return res


# --- scenario 9 ----------------------------------------------------------------------------------


def s9_fleet(ctx: Ctx) -> Result:
    """30 sheets x 1,000 rows at one schedule slot: 1 replica vs 3 replicas on one PostgreSQL."""
    from sheets_connector.localpg import LocalPostgres

    from . import fleet

    sheets, rows = (3, 50) if ctx.quick else (30, 1000)
    res = Result("9", f"{sheets} sheets x {rows:,} rows at one schedule slot: 1 vs 3 serve replicas on one "
                      f"PostgreSQL ({fleet.LATENCY_MS} ms per request, {fleet.CONCURRENCY} in flight per sync, "
                      f"{fleet.MAX_PARALLEL} syncs per replica)")
    load_before = fleet.load()
    server = LocalPostgres()
    try:
        one = fleet.run_fleet(ctx.work, server, 1, sheets, rows)
        three = fleet.run_fleet(ctx.work, server, 3, sheets, rows)
    finally:
        server.close()
    total = sheets * rows
    for name, r in (("1 replica", one), ("3 replicas", three)):
        res.add(f"{name}: wall time, slot -> last run ended", r["wall_s"], "s")
        res.add(f"{name}: POST /contacts", r["posts"], target=f"= {total:,} (the rows)", ok=r["posts"] == total)
        res.add(f"{name}: runs ok", r["statuses"].get("ok", 0), target=f"= {sheets}", ok=r["statuses"].get("ok") == sheets)
    res.add("3 replicas / 1 replica, wall time", round(three["wall_s"] / one["wall_s"], 2), "x")
    res.notes.append(f"runs per replica with 3: {fleet.as_json(three['runs_per_replica'])}; GET /contacts "
                     f"{one['gets']} (1) and {three['gets']} (3). Load average (1/5/15 min) before: {load_before}, "
                     f"after: {fleet.load()} on {os.cpu_count()} cores shared with other work: the replicas, the "
                     "sandbox and PostgreSQL all run on this machine, so 3 replicas gain only what the cores allow.")
    for name, r in (("1 replica", one), ("3 replicas", three)):
        res.notes += [f"{name}, a run not ok: {e}" for e in r["errors"]]
    res.raw = {"one": one, "three": three}
    return res


SCENARIOS: dict[str, Callable[[Ctx], Result]] = {"1": s1_upsert, "2": s2_batch, "3": s3_sheets, "4": s4_resync,
                                                 "5": s5_pull, "6": s6_cpu, "7": s7_store, "8": s8_big_sheet,
                                                 "9": s9_fleet}


# --- report --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    pkgs = {}
    for name in ("sheets-connector", "openpyxl", "python-calamine", "phonenumbers", "email-validator",
                 "pydantic", "requests", "urllib3", "PyYAML"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pkgs[name] = None
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "packages": pkgs}


def print_table(results: list[Result]) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    for r in results:
        t = Table(title=f"Scenario {r.scenario}: {r.title}", title_justify="left", show_header=True)
        for c in ("figure", "value", "target", ""):
            t.add_column(c)
        for f in r.figures:
            mark = "" if f.ok is None else ("✓" if f.ok else "✗")
            t.add_row(f.name, f"{f.value} {f.unit}".strip(), f.target, mark)
        con.print(t)
        for n in r.notes:
            con.print(f"  note: {n}")


README = ROOT.parent / "README.md"
MARK_START, MARK_END = "<!-- bench-table -->", "<!-- /bench-table -->"


def report_name(scenario: str, quick: bool) -> str:
    return f"scenario-{scenario}{'-quick' if quick else ''}.json"


def load_reports(folder: Path) -> list[dict]:
    """The full-size report of each scenario found in ``folder``, in the scenarios' order."""
    found = [folder / report_name(s, quick=False) for s in SCENARIOS]
    return [json.loads(p.read_text(encoding="utf-8")) for p in found if p.exists()]


def markdown(reports: list[dict]) -> str:
    """The README's table, from the reports of every scenario (each its own latest run)."""
    have = {r["scenario"]["scenario"] for r in reports}
    missing = [s for s in SCENARIOS if s not in have]
    lines = [MARK_START, "",
             "Each scenario's latest full-size run, from its report `bench/results/scenario-<N>.json` "
             "(`python -m bench -s N` replaces scenario N's report only)."
             + (f" No report yet for scenario(s) {', '.join(missing)}." if missing else ""), ""]
    for report in reports:
        sc, m = report["scenario"], report["machine"]
        lines += [f"**Scenario {sc['scenario']}: {sc['title']}**", "",
                  f"_`{report['command'].strip()}` on {report['date'][:10]}, {m['cores']} cores "
                  f"({m['cpu'] or 'cpu unknown'}), Python {m['python']}_", "",
                  "| figure | value | target |", "| --- | --- | --- |"]
        for f in sc["figures"]:
            mark = "" if f["ok"] is None else (" ✓" if f["ok"] else " ✗")
            lines.append(f"| {f['name'].strip()} | {f['value']} {f['unit']} | {f['target']}{mark} |".replace("  ", " "))
        lines += [""] + [f"_{n}_" for n in sc["notes"]] + [""]
    lines.append(MARK_END)
    return "\n".join(lines)


def update_readme(reports: list[dict], readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    if MARK_START not in text:
        raise SystemExit(f"{readme} has no {MARK_START} marker")
    head, rest = text.split(MARK_START, 1)
    tail = rest.split(MARK_END, 1)[1] if MARK_END in rest else "\n"
    readme.write_text(head + markdown(reports) + tail, encoding="utf-8")


def write_reports(results: list[Result], folder: Path, *, command: str, quick: bool) -> list[Path]:
    """One report per scenario run; the other scenarios' reports in ``folder`` stay as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    when, facts = datetime.now().isoformat(timespec="seconds"), machine()
    written = []
    for r in results:
        report = {"date": when, "command": command, "quick": quick, "machine": facts, "scenario": asdict(r)}
        out = folder / report_name(r.scenario, quick)
        tmp = out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        tmp.replace(out)  # a run stopped while writing leaves the previous report whole
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("-s", "--scenarios", default=",".join(SCENARIOS), help="comma-separated, e.g. 1,6")
    ap.add_argument("--quick", action="store_true", help="small sizes: checks the harness, not the targets")
    ap.add_argument("--repeat", type=int, default=3, help="runs per short scenario (median reported)")
    ap.add_argument("--out", type=Path, default=ROOT / "results", help="folder of the per-scenario JSON reports")
    ap.add_argument("--update-readme", action="store_true",
                    help="after the run, rewrite README.md's table from every scenario's report in --out")
    ap.add_argument("--readme-only", action="store_true", help="only rewrite README.md's table from the reports in --out")
    args = ap.parse_args(argv)
    if args.readme_only:
        update_readme(load_reports(args.out))
        return 0
    chosen = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s) {unknown}; available: {', '.join(SCENARIOS)}")
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as work:
        ctx = Ctx(quick=args.quick, repeat=1 if args.quick else max(1, args.repeat), work=Path(work),
                  cache=ROOT / ".cache")
        results = []
        for s in chosen:
            print(f"running scenario {s} ...", file=sys.stderr, flush=True)
            results.append(SCENARIOS[s](ctx))
    print_table(results)
    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    for out in write_reports(results, args.out, command=command, quick=args.quick):
        print(f"report: {out}", file=sys.stderr)
    if args.update_readme and not args.quick:
        update_readme(load_reports(args.out))
        print(f"table written to {README} from every scenario's report", file=sys.stderr)
    failed = [f"{r.scenario}: {f.name}" for r in results for f in r.figures if f.ok is False]
    if failed and not args.quick:
        print("targets missed: " + "; ".join(failed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
