"""Paths in the mapping written the Windows way, with ``~``, spaces and Hebrew folder names,
through the real ``check`` command.  On this (POSIX) machine a ``C:\\...`` path cannot exist,
so its message is what is tested; backslash relative paths must resolve."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from util import write_workbook

from sheets_connector.errors import ConfigError
from sheets_connector.paths import resolve_user_path

ROWS = [["דנה", "כהן", "dana@example.co.il", "054-1111111", None]]


def check(tmp: Path, path_line: str, *, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    m = tmp / "mapping.yaml"
    m.write_text(f"source:\n  type: xlsx\n  {path_line}\ncolumns: {{email: Email, mobile: Mobile}}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "INWISE_API_KEY"}
    env.update({"PYTHONIOENCODING": "utf-8", "COLUMNS": "200"})
    if home is not None:
        env["HOME"] = str(home)
    p = subprocess.run([sys.executable, "-m", "sheets_connector", "check", "--config", str(m)],
                       capture_output=True, text=True, encoding="utf-8", env=env, timeout=120, check=False)
    assert "Traceback" not in p.stderr
    return p


@pytest.mark.parametrize(("folder", "written"), [
    ("data", r"path: data\Contacts.xlsx"),
    ("אנשי קשר/לקוחות 2024", r"path: אנשי קשר\לקוחות 2024\Contacts.xlsx"),  # Hebrew, spaces, no quotes
    ("אנשי קשר", r"path: '.\אנשי קשר\Contacts.xlsx'"),  # single quotes, as init writes them
    ("data", "path: data/Contacts.xlsx"),
])
def test_backslash_relative_paths_resolve(tmp_path: Path, folder: str, written: str) -> None:
    (tmp_path / folder).mkdir(parents=True)
    write_workbook(tmp_path / folder / "Contacts.xlsx", ROWS)
    p = check(tmp_path, written)
    assert p.returncode == 0, p.stderr
    assert "Mapping OK for Contacts.xlsx, sheet 'Contacts'" in p.stdout


def test_home_folder_with_backslashes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    write_workbook(home / "Documents" / "Contacts.xlsx", ROWS)
    p = check(tmp_path, r"path: ~\Documents\Contacts.xlsx", home=home)
    assert p.returncode == 0, p.stderr


def test_missing_file_is_shown_as_written(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write_workbook(tmp_path / "data" / "Contacts 2024.xlsx", ROWS)
    p = check(tmp_path, r"path: data\Contacts.xlsx")
    assert p.returncode == 2  # the mapping's path is wrong: a setting to fix, named with its line
    assert "Fix the path in mapping.yaml, line " in p.stderr and "(source.path)" in p.stderr
    assert f"Cannot find the spreadsheet data\\Contacts.xlsx (looked for {tmp_path / 'data' / 'Contacts.xlsx'})" in p.stderr
    assert "has these Excel files: Contacts 2024.xlsx" in p.stderr


@pytest.mark.parametrize(("written", "shown", "drive"), [
    (r"path: C:\Users\dana\Documents\אנשי קשר\Contacts.xlsx", r"C:\Users\dana\Documents\אנשי קשר\Contacts.xlsx", "C:"),
    (r"path: '\\fileserver\office\Contacts.xlsx'", r"\\fileserver\office\Contacts.xlsx", r"\\fileserver\office"),
])
def test_a_windows_path_on_a_mac_says_what_to_write(tmp_path: Path, written: str, shown: str, drive: str) -> None:
    p = check(tmp_path, written)
    assert p.returncode == 2
    assert f"The path '{shown}' in the mapping is a Windows path ({drive}), which does not exist on this computer" in p.stderr
    assert "'Contacts.xlsx' when the file is next to the mapping" in p.stderr


def test_double_quoted_windows_path_gets_a_quoting_hint(tmp_path: Path) -> None:
    p = check(tmp_path, r'path: "C:\Users\dana\Contacts.xlsx"')
    assert p.returncode == 2
    assert "mapping.yaml, line 3: a backslash inside double quotes" in p.stderr
    assert r"use single quotes or none: path: 'C:\Users\dana\Contacts.xlsx'" in p.stderr


def test_double_quotes_that_turn_backslashes_into_a_line_break(tmp_path: Path) -> None:
    p = check(tmp_path, r'path: "data\new\table.xlsx"')  # valid YAML: \n and \t are escapes
    assert p.returncode == 2
    assert r"The path 'data\new\table.xlsx' in the mapping has a line break in it" in p.stderr
    assert r"path: 'data\new\table.xlsx'" in p.stderr


def test_a_real_backslash_in_a_posix_file_name_is_kept(tmp_path: Path) -> None:
    (tmp_path / "odd\\name.xlsx").write_bytes(b"")
    assert resolve_user_path("odd\\name.xlsx", tmp_path) == tmp_path / "odd\\name.xlsx"
    assert resolve_user_path("other\\name.xlsx", tmp_path) == tmp_path / "other" / "name.xlsx"
    assert resolve_user_path("/srv/contacts.xlsx", tmp_path) == Path("/srv/contacts.xlsx")
    with pytest.raises(ConfigError, match=r"Windows path \(D:\)"):
        resolve_user_path(r"D:\x.xlsx", tmp_path)
