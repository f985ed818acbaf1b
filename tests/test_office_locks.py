"""A workbook open in Excel, as Windows and macOS users meet it.

Excel's lock on Windows cannot happen on this machine, so it is simulated at the OS boundary
only: ``os.open`` for writing and ``os.replace`` onto the workbook raise the PermissionError
Windows raises for a file Excel holds (sharing violation / access denied).  Everything above
the OS calls - the table, the sync, the sandbox, the CSV, the messages - is the real code.
The ``~$`` owner file (which Excel writes on Windows and macOS) is a real file.
"""
from __future__ import annotations

import csv
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SANDBOX_API_KEY
from util import make_config, write_workbook

from sheets_connector.errors import SourceError
from sheets_connector.sandbox import Sandbox
from sheets_connector.sync import Collaborators, sync

ROWS = [
    ["דנה", "כהן", "dana@example.co.il", "054-1111111", None],
    ["Noa", "Levi", "noa@example.com", "0521234567", None],
]
ENV = {"INWISE_API_KEY": SANDBOX_API_KEY}
SHARING_VIOLATION = "The process cannot access the file because it is being used by another process"


def excel_owner_file(folder: Path, workbook: str, user: str) -> Path:
    """The ``~$`` owner file Excel writes: the user name as a length-prefixed byte string and
    again as UTF-16 at offset 54."""
    data = bytes([len(user)]) + user.encode("cp1252") + b" " * (53 - len(user))
    data += struct.pack("<H", len(user)) + user.encode("utf-16-le") + b"\x00" * 40
    owner = folder / f"~${workbook}"
    owner.write_bytes(data)
    return owner


def windows_lock(monkeypatch: pytest.MonkeyPatch, workbook: Path, *, from_start: bool) -> None:
    """What Windows does to a workbook Excel has open: opening it for writing and renaming
    another file over it fail.  ``from_start=False``: Excel opened it during the run, so only
    the final rename meets the lock."""
    target = os.path.realpath(workbook)
    real_open, real_replace = os.open, os.replace

    def locked_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR) and os.path.realpath(path) == target:
            raise PermissionError(13, SHARING_VIOLATION, os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    def locked_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.path.realpath(dst) == target:
            raise PermissionError(13, "Access is denied", os.fspath(dst))
        real_replace(src, dst, *args, **kwargs)

    if from_start:
        monkeypatch.setattr(os, "open", locked_open)
    monkeypatch.setattr(os, "replace", locked_replace)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.is_file())


def test_locked_before_the_run_without_owner_file_sends_nothing(tmp_path: Path, sandbox: Sandbox,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A network drive: Excel holds the file but its ~$ owner file is not there.
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    before = wb.read_bytes()
    windows_lock(monkeypatch, wb, from_start=True)
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    message = str(e.value)
    assert message.startswith("contacts.xlsx is open in Excel or another program")
    assert "Close the workbook everywhere it is open and run again. Nothing was sent to inwise." in message
    assert sandbox.stats()["total"] == 0 and wb.read_bytes() == before
    assert not list(tmp_path.glob("*.csv")) and leftovers(tmp_path) == []


def test_locked_with_owner_file_names_the_user_through_the_command(tmp_path: Path, sandbox: Sandbox) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    excel_owner_file(tmp_path, "contacts.xlsx", "Dana Cohen")
    (tmp_path / "mapping.yaml").write_text(
        f"source: {{type: xlsx, path: contacts.xlsx}}\ncolumns: {{email: Email, mobile: Mobile}}\n"
        f"inwise: {{base_url: '{sandbox.base_url}'}}\n", encoding="utf-8")
    env = {**os.environ, **ENV, "PYTHONIOENCODING": "cp1252"}
    p = subprocess.run([sys.executable, "-m", "sheets_connector", "sync", "--config", str(tmp_path / "mapping.yaml")],
                       capture_output=True, text=True, env=env, timeout=120, check=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "contacts.xlsx is open in Excel (by Dana Cohen); close it and run again." in p.stderr
    assert "Nothing was sent to inwise." in p.stderr
    assert sandbox.stats()["total"] == 0 and wb.exists()


def test_lock_seen_only_at_save_time_keeps_results_in_a_named_csv(tmp_path: Path, sandbox: Sandbox,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Excel opened the workbook while the contacts were being sent: only the final rename fails.
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    before = wb.read_bytes()
    windows_lock(monkeypatch, wb, from_start=False)
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    message = str(e.value)
    assert message.startswith("contacts.xlsx is open in Excel or another program")
    assert "when the results were to be saved" in message and "Your file was not changed." in message
    assert "The contacts WERE sent to inwise." in message
    [results_csv] = tmp_path.glob("contacts sync results *.csv")
    assert f"Each row's result is in {results_csv}." in message
    with open(results_csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["Row"] for r in rows] == ["2", "3"]
    assert all(r["Sync result"].startswith("✓ created") for r in rows)
    assert len(sandbox.contacts()) == 2
    assert wb.read_bytes() == before and leftovers(tmp_path) == []


def test_excel_opened_during_the_run_is_named_at_save_time(tmp_path: Path, sandbox: Sandbox,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    windows_lock(monkeypatch, wb, from_start=False)

    def excel_opens_it(stage: str, done: int, total: int | None) -> None:
        if stage == "send":  # someone opens the workbook in Excel while the contacts are sent
            excel_owner_file(tmp_path, "contacts.xlsx", "Yossi Levi")

    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV, progress=excel_opens_it))
    message = str(e.value)
    assert message.startswith("contacts.xlsx is open in Excel (by Yossi Levi)")
    assert "The contacts WERE sent to inwise." in message and "sync results" in message
    assert len(list(tmp_path.glob("contacts sync results *.csv"))) == 1


def test_a_read_only_workbook_is_not_mistaken_for_excel(tmp_path: Path, sandbox: Sandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The read-only attribute refuses the same calls; the message must say read-only instead.
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    wb.chmod(0o444)
    windows_lock(monkeypatch, wb, from_start=True)  # what a non-root process meets
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    assert "the file is read-only" in str(e.value) and "Excel" not in str(e.value)
    assert "Nothing was sent to inwise." in str(e.value) and sandbox.stats()["total"] == 0


def test_a_workbook_open_in_excel_is_said_in_hebrew_for_a_hebrew_mapping(tmp_path: Path, sandbox: Sandbox,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_connector.messages.catalog import error_words, in_language

    lrm = "\u200e"
    wb = write_workbook(tmp_path / "contacts.xlsx", ROWS)
    windows_lock(monkeypatch, wb, from_start=True)
    owner = excel_owner_file(tmp_path, "contacts.xlsx", "Dana Cohen")
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    assert str(e.value) == (f"contacts.xlsx is open in Excel (by Dana Cohen); close it and run again. If it is not "
                            f"open anywhere, delete the leftover lock file {owner} and run again. Nothing was sent to "
                            "inwise.")
    assert in_language(error_words(e.value), "he") == (
        f"{lrm}contacts.xlsx{lrm} פתוח ב-{lrm}Excel{lrm} (על ידי {lrm}Dana Cohen{lrm}); סגרו אותו והריצו שוב. אם הוא "
        f"לא פתוח בשום מקום, מחקו את קובץ הנעילה שנשאר {lrm}{owner}{lrm} והריצו שוב. דבר לא נשלח ל-inwise.")
    owner.unlink()  # Excel opened it without an owner file: the computer's refusal, in Hebrew
    with pytest.raises(SourceError) as e:
        sync(make_config(tmp_path, sandbox.base_url), Collaborators(environ=ENV))
    assert in_language(error_words(e.value), "he") == (
        f"{lrm}contacts.xlsx{lrm} פתוח ב-Excel או בתוכנה אחרת (במחשב הזה או, בתיקייה משותפת, במחשב אחר): המחשב לא "
        "אפשר לכלי הזה לשנות אותו ולכן לא ניתן היה לשמור את התוצאות. סגרו את חוברת העבודה בכל מקום שבו היא פתוחה "
        "והריצו שוב. דבר לא נשלח ל-inwise.")
    assert sandbox.stats()["total"] == 0
