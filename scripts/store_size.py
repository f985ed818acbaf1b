"""The state store's size after many runs of a sheet with a busy feed: bounded by retention.

    python scripts/store_size.py                     # 100 daily runs, 10,000 rows, 500 sign-ups a run
    python scripts/store_size.py --runs 4 --rows 50 --signups 20 --days 2   # a quick look

Each run is a real sync (batch mode) of the benchmark's seeded workbook to the local inwise
sandbox, one day after the previous (an injected clock); before it, ``--signups`` contacts sign
up in inwise (a web form), so every run reads them from the feed and appends them to the
new-contacts tab.  The mapping keeps ``state_retention_days: --days``.  Prints the store's file
size and the bytes it holds (file minus free pages) after chosen runs, and the count of feed
answers and run details kept.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from sheets_connector.config import load_config  # noqa: E402
from sheets_connector.sandbox import Sandbox  # noqa: E402
from sheets_connector.state import store as store_module  # noqa: E402
from sheets_connector.state.location import STORE_FILE  # noqa: E402
from sheets_connector.sync import Collaborators, sync  # noqa: E402

KEY = "size-key"
ENV = {"BENCH_INWISE_KEY": KEY}


def sign_up(base_url: str, run: int, n: int) -> None:
    if n <= 0:
        return
    text = "Email,Name\n" + "".join(f"web{run}-{j}@example.com,Web {j}\n" for j in range(n))
    requests.post(base_url + "/contacts/batchInsert", headers={"X-API-Key": KEY}, timeout=120, json={
        "csv_file": text, "updateExistingContacts": True,
        "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"},
                           {"field_name": "1", "file_column_name": "Name"}]}).raise_for_status()


def measure(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        page = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        free = con.execute("PRAGMA freelist_count").fetchone()[0]
        answers = con.execute("SELECT COUNT(*) FROM feed_answers").fetchone()[0]
        details = con.execute("SELECT COUNT(*) FROM runs WHERE summary IS NOT NULL").fetchone()[0]
        runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    finally:
        con.close()
    wal = db.with_name(db.name + "-wal")
    return {"file": db.stat().st_size + (wal.stat().st_size if wal.exists() else 0), "held": (pages - free) * page,
            "answers": answers, "details": details, "runs": runs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/store_size.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--signups", type=int, default=500, help="contacts signing up in inwise before each run")
    ap.add_argument("--days", type=int, default=30, help="the mapping's state_retention_days")
    args = ap.parse_args(argv)
    wanted = sorted({1, *(r for r in (10, 25, 50, 75) if r < args.runs), args.runs})
    with tempfile.TemporaryDirectory(prefix="sc-store-size-") as work, Sandbox(api_keys=(KEY,)) as sb:
        folder = Path(work)
        shutil.copyfile(data.cached_workbook(ROOT / "bench" / ".cache", args.rows), folder / "contacts.xlsx")
        (folder / "mapping.yaml").write_text(
            data.MAPPING.format(base_url=sb.base_url, mode="batch", concurrency=8, batch_size=1000)
            + f"state_retention_days: {args.days}\n", encoding="utf-8")
        cfg = load_config(folder / "mapping.yaml")
        start = datetime.now()
        print(f"{args.runs} daily runs of a {args.rows:,}-row sheet, {args.signups} sign-ups a run, "
              f"state_retention_days: {args.days}")
        print(f"{'run':>4} {'file MiB':>9} {'held MiB':>9} {'answers':>8} {'details':>8} {'runs':>5}")
        for run in range(1, args.runs + 1):
            sign_up(sb.base_url, run, args.signups)
            day = start + timedelta(days=run - 1)
            # the store dates what it receives by the same day (it reads the real clock otherwise)
            store_module.utc_now = lambda day=day: day.astimezone(timezone.utc).isoformat(timespec="milliseconds")
            summary = sync(cfg, Collaborators(environ=ENV, clock=lambda day=day: day))
            if summary.error:
                raise SystemExit(f"run {run}: {summary.error}")
            if run in wanted:
                m = measure(folder / "state" / STORE_FILE)
                print(f"{run:>4} {m['file'] / 2**20:>9.1f} {m['held'] / 2**20:>9.1f} {m['answers']:>8} "
                      f"{m['details']:>8} {m['runs']:>5}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
