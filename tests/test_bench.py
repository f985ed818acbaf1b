"""Smoke test of the benchmark harness: its smallest scenarios run once (no timing asserted)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.__main__ import (  # noqa: E402
    MARK_END,
    MARK_START,
    SCENARIOS,
    Figure,
    Result,
    load_reports,
    main,
    markdown,
    update_readme,
)


def test_bench_quick_runs_and_writes_a_report_per_scenario(tmp_path, capsys):
    assert main(["--quick", "-s", "4,5,6", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario-4-quick.json", "scenario-5-quick.json",
                                                         "scenario-6-quick.json"]
    reports = [json.loads((tmp_path / f"scenario-{n}-quick.json").read_text(encoding="utf-8")) for n in "456"]
    assert all(r["quick"] and r["command"] == "python -m bench --quick -s 4,5,6 --out " + str(tmp_path) for r in reports)
    assert reports[0]["machine"]["cores"] >= 1 and reports[0]["machine"]["packages"]["openpyxl"]
    by_id = {r["scenario"]["scenario"]: r["scenario"] for r in reports}
    figures5 = {f["name"]: f for f in by_id["5"]["figures"]}
    assert figures5["feed requests"]["ok"] is True and figures5["contacts appended"]["value"] == 2000
    figures4 = {f["name"]: f for f in by_id["4"]["figures"]}
    assert figures4["POST requests in the re-sync"]["ok"] is True and figures4["rows unchanged"]["ok"] is True
    figures6 = {f["name"]: f for f in by_id["6"]["figures"]}
    assert figures6["rows/s per core (ours)"]["value"] > 0
    assert "Scenario 6" in capsys.readouterr().out
    table = markdown(reports)
    assert table.startswith("<!-- bench-table -->") and "| feed requests | 3 | = 3 (⌊N/1000⌋+1) ✓ |" in table
    assert f"No report yet for scenario(s) {', '.join(n for n in SCENARIOS if n not in '456')}." in table


def test_a_partial_run_replaces_only_its_own_scenarios_report(tmp_path, monkeypatch):
    # scenario 6 at full size, stood in for by a quick one: what is tested is where its report goes
    monkeypatch.setitem(SCENARIOS, "6", lambda ctx: Result("6", "stand-in", [Figure("rows", 1)]))
    committed = Path(ROOT / "bench" / "results")
    for report in committed.glob("scenario-*.json"):  # the committed set, as full runs leave it
        (tmp_path / report.name).write_bytes(report.read_bytes())
    assert (tmp_path / "scenario-6.json").exists()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["-s", "6", "--out", str(tmp_path)]) == 0
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(after) == sorted(before)
    assert [name for name in after if after[name] != before[name]] == ["scenario-6.json"]
    six = json.loads(after["scenario-6.json"])
    assert six["command"] == f"python -m bench -s 6 --out {tmp_path}" and not six["quick"]
    assert six["scenario"]["title"] == "stand-in"
    # the README's table is made from the whole set: scenario 6 from this run, the others as they were
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{MARK_START}\nold\n{MARK_END}\nafter\n", encoding="utf-8")
    update_readme(load_reports(tmp_path), readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("after\n") and "old" not in text
    assert all(f"**Scenario {name[9:-5]}:" in text for name in after)
    assert f"_`python -m bench -s 6 --out {tmp_path}` on " in text


def test_the_committed_reports_are_every_scenarios_full_size_run_and_the_readme_shows_them():
    folder = ROOT / "bench" / "results"
    reports = load_reports(folder)
    # nothing but full-size per-scenario reports (scenario 7 is new: its first full run adds its own)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"scenario-{r['scenario']['scenario']}.json" for r in reports)
    assert [r["scenario"]["scenario"] for r in reports][:6] == list(SCENARIOS)[:6]
    assert not any(r["quick"] for r in reports)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(MARK_START), readme.index(MARK_END) + len(MARK_END)
    assert readme[start:end] == markdown(reports), "run `python -m bench --readme-only`"


def test_bench_scenario_3_counts_google_sheets_requests(tmp_path):
    assert main(["--quick", "-s", "3", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "scenario-3-quick.json").read_text(encoding="utf-8"))
    figures = {f["name"]: f for f in report["scenario"]["figures"]}
    assert [f["name"] for f in figures.values() if f["ok"] is False] == []
    # metadata, read, re-read, pin the columns (+ widen), re-read, write, read back, add the tab, append
    assert figures["requests, first sync, 1,000 rows"]["value"] == figures["requests, first sync, 10 rows"]["value"] == 9
    assert figures["requests, later sync, 1,000 rows"]["value"] == 4  # rows unchanged: metadata, read, the tab's ids, the append
    assert figures["write requests per sync, naive: one per row (1,000 rows)"]["value"] == 1000


def test_bench_scenario_7_measures_the_store_on_both_engines(tmp_path):
    assert main(["--quick", "-s", "7", "--repeat", "1", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "scenario-7-quick.json").read_text(encoding="utf-8"))
    figures = {f["name"]: f["value"] for f in report["scenario"]["figures"]}
    assert figures["SQLite, s per 10,000 rows"] > 0 and figures["PostgreSQL, s per 10,000 rows"] > 0


def test_bench_scenario_8_syncs_a_google_sheet_in_its_own_process(tmp_path):
    assert main(["--quick", "-s", "8", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "scenario-8-quick.json").read_text(encoding="utf-8"))
    figures = {f["name"]: f for f in report["scenario"]["figures"]}
    assert [f["name"] for f in figures.values() if f["ok"] is False] == []
    # as scenario 3's first sync: metadata, read, re-read, pin the columns, re-read, write, read back, tab, append
    assert figures["Sheets API requests in the sync"]["value"] == 9
    assert figures["outcomes"]["value"].startswith("created=")
    assert 0 < figures["peak RSS, connector (all its processes, sampled)"]["value"] < 512
