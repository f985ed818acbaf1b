"""Staff edit the sheet while a sync runs: every edit of ``staff_matrix.EDITS``, injected before
every Sheets request of a first sync.  Results never land in staff data, nothing staff typed
changes, and what could not be written says why; the next sync finishes the job."""
from __future__ import annotations

import pytest
from staff_matrix import EDITS, Case, requests_of_a_quiet_sync, run_case, table

from sheets_connector.sheets_emulator import SheetsEmulator


@pytest.fixture(autouse=True)
def _no_google_key(monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


@pytest.fixture
def emu():
    with SheetsEmulator() as running:
        yield running


def _matrix(emu, sandbox, tmp_path, n: int, edits: list[str]) -> list[Case]:
    points = requests_of_a_quiet_sync(emu, sandbox, tmp_path / "quiet", n) + 1  # the last: after the sync
    return [run_case(emu, sandbox, tmp_path, n, edit, k) for edit in edits for k in range(1, points + 1)]


def _check(cases: list[Case]) -> None:
    shown = table(cases)
    print("\n" + shown)
    assert sum(c.misplaced for c in cases) == 0, shown
    assert sum(c.staff_changed for c in cases) == 0, shown
    assert all(c.next_ok for c in cases), shown
    assert not any(c.error for c in cases), shown
    # rows unwritten are told, with their reason
    assert sum(c.unwritten for c in cases) <= sum(sum(c.reasons.values()) for c in cases), shown


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_staff_edit_at_every_point_of_a_sync(emu, sandbox, tmp_path, edit):
    _check(_matrix(emu, sandbox, tmp_path, 12, [edit]))


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(EDITS))
def test_staff_edit_matrix_3000_rows(emu, sandbox, tmp_path, edit):
    _check(_matrix(emu, sandbox, tmp_path, 3000, [edit]))
