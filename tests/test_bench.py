"""Smoke test of the benchmark harness: its smallest scenarios run once (no timing asserted)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.__main__ import main, markdown  # noqa: E402


def test_bench_quick_runs_and_writes_a_report(tmp_path, capsys):
    assert main(["--quick", "-s", "4,5,6", "--out", str(tmp_path)]) == 0
    report = json.loads(next(tmp_path.glob("*-quick.json")).read_text(encoding="utf-8"))
    assert report["machine"]["cores"] >= 1 and report["machine"]["packages"]["openpyxl"]
    by_id = {s["scenario"]: s for s in report["scenarios"]}
    figures5 = {f["name"]: f for f in by_id["5"]["figures"]}
    assert figures5["feed requests"]["ok"] is True and figures5["contacts appended"]["value"] == 2000
    figures4 = {f["name"]: f for f in by_id["4"]["figures"]}
    assert figures4["POST requests in the re-sync"]["ok"] is True and figures4["rows unchanged"]["ok"] is True
    figures6 = {f["name"]: f for f in by_id["6"]["figures"]}
    assert figures6["rows/s per core (ours)"]["value"] > 0
    assert "Scenario 6" in capsys.readouterr().out
    table = markdown(report)
    assert table.startswith("<!-- bench-table -->") and "| feed requests | 3 | = 3 (⌊N/1000⌋+1) ✓ |" in table


def test_bench_scenario_3_counts_google_sheets_requests(tmp_path):
    assert main(["--quick", "-s", "3", "--out", str(tmp_path)]) == 0
    report = json.loads(next(tmp_path.glob("*-quick.json")).read_text(encoding="utf-8"))
    figures = {f["name"]: f for f in report["scenarios"][0]["figures"]}
    assert [f["name"] for f in figures.values() if f["ok"] is False] == []
    # metadata, read, re-read, pin the columns (+ widen), re-read, write, read back, add the tab, append
    assert figures["requests, first sync, 1,000 rows"]["value"] == figures["requests, first sync, 10 rows"]["value"] == 9
    assert figures["requests, later sync, 1,000 rows"]["value"] == 4  # rows unchanged: metadata, read, the tab's ids, the append
    assert figures["write requests per sync, naive: one per row (1,000 rows)"]["value"] == 1000


def test_bench_scenario_7_measures_the_store_on_both_engines(tmp_path):
    assert main(["--quick", "-s", "7", "--repeat", "1", "--out", str(tmp_path)]) == 0
    report = json.loads(next(tmp_path.glob("*-quick.json")).read_text(encoding="utf-8"))
    figures = {f["name"]: f["value"] for f in report["scenarios"][0]["figures"]}
    assert figures["SQLite, s per 10,000 rows"] > 0 and figures["PostgreSQL, s per 10,000 rows"] > 0
