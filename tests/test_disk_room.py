"""Room on disk: the workbook's folder must hold the save before anything is sent; a results CSV
is never left cut off; a full state store says once how much room it needs.

A full disk is a real small disk (a 2 MB tmpfs mounted where the test may mount one) or, where it
may not, a real file-size limit on the process (how a full disk looks to a process)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from util import write_workbook

ENV = {"INWISE_API_KEY": "test-key"}
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="file-size limits and tmpfs are POSIX")


def _limited(code: str, limit: int, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    pre = ("import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
           f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n")
    return subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _small_disk(folder: Path) -> bool:
    folder.mkdir()
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount")):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                          capture_output=True, check=False).returncode == 0


def test_a_full_disk_under_the_workbook_stops_the_sync_before_anything_is_sent(tmp_path, sandbox, launcher):
    disk = tmp_path / "disk"
    mounted = _small_disk(disk)
    try:
        wb = write_workbook(disk / "contacts.xlsx", [[f"P{i}", "T", f"p{i}@example.com", None, None] for i in range(50)])
        before = wb.read_bytes()
        if mounted:  # the whole sync, as a user runs it, on a 2 MB disk
            (disk / "mapping.yaml").write_text(
                f"source: {{type: xlsx, path: contacts.xlsx}}\ncolumns: {{email: Email}}\n"
                f"inwise: {{base_url: {sandbox.base_url}}}\n", encoding="utf-8")
            child = launcher.start(["sync", "--config", str(disk / "mapping.yaml")], cwd=tmp_path,
                                   env={**os.environ, **ENV})
            assert launcher.wait(child) == 1
            err = child.stderr()
            assert sandbox.stats()["total"] == 0  # nothing was sent
        else:  # no disk of our own: the table's check, under a real 1 MB file-size limit
            done = _limited(f"""
                from sheets_connector.errors import SourceError
                from sheets_connector.tables.xlsx import XlsxTable
                try:
                    XlsxTable({str(wb)!r}).check_writable()
                except SourceError as e:
                    print(e)
            """, 1024 * 1024, tmp_path)
            err = done.stdout + done.stderr
        assert "has no room to save contacts.xlsx" in err and "Nothing was sent to inwise" in err, err
        assert "saving needs about 4 MB free" in err and "Free at least 4 MB" in err and "Traceback" not in err
        assert wb.read_bytes() == before and [p.name for p in disk.iterdir()] in (
            ["contacts.xlsx"], ["contacts.xlsx", "mapping.yaml"], ["mapping.yaml", "contacts.xlsx"])
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)


def test_a_workbook_with_room_passes_and_no_probe_is_left(tmp_path):
    from sheets_connector.tables.xlsx import XlsxTable

    wb = write_workbook(tmp_path / "contacts.xlsx", [["A", "B", "a@example.com", None, None]])
    XlsxTable(wb).check_writable()
    assert [p.name for p in tmp_path.iterdir()] == ["contacts.xlsx"]


def test_a_results_csv_is_whole_or_not_there(tmp_path):
    """The CSV kept when a save fails: a folder that cannot take it is passed over, and a file cut
    off by a full disk is removed, never left behind empty or half written."""
    here, temp = tmp_path / "cwd", tmp_path / "temp"
    here.mkdir()
    temp.mkdir()
    code = f"""
        import datetime, pathlib, sys
        from sheets_connector.sync.writeback import fallback_csv
        from sheets_connector.tables.base import RowKey, RowRef

        class Table:
            path = pathlib.Path({str(tmp_path / 'gone' / 'contacts.xlsx')!r})  # its folder cannot take it
        refs = [RowRef(n, RowKey("email", f"p{{n}}@example.com")) for n in range(2, int(sys.argv[1]) + 2)]
        columns = {{"Sync result": {{r: "✓ created · #" + str(r.number) + " · " + "x" * 80 for r in refs}}}}
        print(fallback_csv(Table(), columns, datetime.datetime(2026, 12, 7, 9, 15)))
    """
    # room enough: the current folder takes it, whole
    done = _limited(code.replace("int(sys.argv[1])", "2000"), 4 * 1024 * 1024, here, {"TMPDIR": str(temp)})
    kept = Path(done.stdout.strip())
    assert kept.parent == here, done.stderr
    lines = kept.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2001 and lines[-1].startswith("2001,p2001@example.com,✓ created · #2001")
    kept.unlink()
    # a full disk everywhere (64 KB per file): nothing is kept, and nothing cut off is left behind
    done = _limited(code.replace("int(sys.argv[1])", "2000"), 64 * 1024, here, {"TMPDIR": str(temp)})
    assert done.stdout.strip() == "None", done.stderr
    assert list(here.iterdir()) == [] and list(temp.iterdir()) == []
