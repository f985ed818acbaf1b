"""Rows -> contacts: header resolution and every row rule."""
from __future__ import annotations

import datetime as dt

import pytest

from sheets_connector.config import parse_config
from sheets_connector.contacts import ContactMapper, column_letter
from sheets_connector.errors import ConfigError
from sheets_connector.tables.base import SourceRow

CFG = """\
source: {type: xlsx, path: x.xlsx}
columns:
  email: Email
  mobile: Mobile
  external_id: Member no.
  fields:
    1: First name
    21: Birthday
    5: Score
results:
  column: Sync result
"""
HEADER = ["Member no.", " first NAME ", "Email", "Mobile", "Birthday", "Score", "Sync result"]


def mapper(cfg: str = CFG, header=HEADER) -> ContactMapper:
    return ContactMapper(parse_config(cfg), header, "contacts.xlsx, sheet 'Contacts'")


def row(n, member=None, first=None, email=None, mobile=None, birthday=None, score=None, result=None):
    return SourceRow(n, (member, first, email, mobile, birthday, score, result))


def test_headers_match_ignoring_case_and_spaces():
    m = mapper()
    assert m.columns.email == 2 and m.columns.mobile == 3 and m.columns.fields[0][:2] == (1, 1)


def test_missing_header_lists_present_and_suggests():
    with pytest.raises(ConfigError) as e:
        mapper(header=["Member no.", "First name", "E-mail", "Mobile", "Birthday", "Score"])
    msg = str(e.value)
    assert "no column 'Email'" in msg and "Did you mean 'E-mail'" in msg and "'Mobile'" in msg
    assert "contacts.xlsx, sheet 'Contacts'" in msg


def test_duplicate_header_is_an_error():
    with pytest.raises(ConfigError) as e:
        mapper(header=["Member no.", "First name", "Email", "Mobile", "Birthday", "Score", "email"])
    assert "appears 2 times" in str(e.value) and "C, G" in str(e.value)


def test_empty_rows_are_skipped_even_with_an_old_result():
    m = mapper()
    assert m.map_row(row(5)) is None
    assert m.map_row(row(6, email="  ", mobile="\u200f", result="✓ created · #1")) is None


def test_clean_row_becomes_a_contact():
    m = mapper()
    r = m.map_row(row(2, "M-1", " דנה ", " Dana@Example.COM ", "054-1111111", dt.date(1980, 6, 12), 97.0))
    c = r.contact
    assert r.problem is None
    assert c.email == "Dana@example.com" and c.mobile == "972541111111"
    assert c.field_dict() == {1: "דנה", 21: "12/06/1980", 5: "97"}
    assert c.external_id == "M-1"


@pytest.mark.parametrize("cell", [541111111, 972541111111.0, "9.72541111111E+11", "\u200e054\u00a01111111"])
def test_numeric_and_dirty_mobiles(cell):
    assert mapper().map_row(row(2, mobile=cell)).contact.mobile == "972541111111"


def test_invalid_email_is_a_row_status_naming_the_column():
    r = mapper().map_row(row(3, email="dana@@example.com", mobile="0541111111"))
    assert r.contact is None and r.problem.kind == "invalid"
    assert "dana@@example.com" in r.problem.text() and "'Email'" in r.problem.text()
    assert "fix the cell" in r.problem.text()


def test_seven_digit_phone_is_invalid():
    r = mapper().map_row(row(3, mobile="2262649"))
    assert r.problem.kind == "invalid" and "2262649" in r.problem.text() and "'Mobile'" in r.problem.text()


def test_neither_email_nor_mobile():
    r = mapper().map_row(row(4, first="Ronit"))
    assert r.problem.kind == "missing" and "no email or mobile" in r.problem.text()


def test_duplicates_point_at_the_first_row():
    m = mapper()
    assert m.map_row(row(2, email="noa@example.com")).contact
    d = m.map_row(row(9, email="NOA@example.com"))
    assert d.problem.kind == "duplicate" and "row 2" in d.problem.text() and "email" in d.problem.text()
    assert m.map_row(row(10, mobile="0541111111")).contact
    d2 = m.map_row(row(11, mobile=541111111))  # the same number after Excel dropped the zero
    assert d2.problem.kind == "duplicate" and "row 10" in d2.problem.text() and "mobile" in d2.problem.text()


def test_invalid_rows_do_not_claim_a_duplicate_slot():
    m = mapper()
    assert m.map_row(row(2, email="bad@", mobile="0541111111")).problem
    assert m.map_row(row(3, mobile="0541111111")).contact  # row 2 was never sent


def test_column_mapped_twice():
    cfg = CFG.replace("5: Score", "5: Email")
    with pytest.raises(ConfigError) as e:
        mapper(cfg)
    assert "mapped twice" in str(e.value)


def test_date_format_per_field():
    cfg = CFG.replace("21: Birthday", "21: {column: Birthday, date_format: yyyy-mm-dd}")
    c = mapper(cfg).map_row(row(2, email="a@example.com", birthday=dt.datetime(1980, 6, 12))).contact
    assert c.field_dict()[21] == "1980-06-12"


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_spreadsheet_error_cells_are_row_problems_not_crashes():
    m = mapper()
    r = m.map_row(row(2, member="#N/A", email="a@example.com"))
    assert r.problem.kind == "invalid" and "'Member no.'" in r.problem.text()
    r2 = m.map_row(row(3, email="b@example.com", score="#DIV/0!"))
    assert r2.problem.kind == "invalid" and "'Score'" in r2.problem.text()


def test_parallel_normalisation_gives_the_same_result_as_one_row_at_a_time():
    from sheets_connector.contacts import _normalize_in_parallel

    def rows():
        out = []
        for i in range(3000):
            email = f"u{i % 2500}@example.com" if i % 7 else "bad@@example.com"  # duplicates, invalid
            mobile = [f"054{i:07d}", 540000000 + i, float(f"97254{i:07d}"), "2262649", None][i % 5]
            out.append(row(i + 2, f"M{i}", "דנה" if i % 2 else "Dana", email, mobile, dt.date(1980, 1, 1 + i % 28), i * 1.0))
        return out

    sequential = mapper().map_rows(rows(), workers=1)
    parallel = mapper().map_rows(rows(), workers=2)
    assert parallel == sequential
    assert sum(1 for m in sequential if m.problem and m.problem.kind == "duplicate") > 100
    helped = mapper()
    assert _normalize_in_parallel(helped, rows()[:2000], 2, patient=True) is not None
    assert helped.helped_rows >= 1000  # really ran in processes
    varied = _varied_rows() * 6
    m = mapper()
    assert _normalize_in_parallel(mapper(), varied, 3, patient=True) == [m.normalize_row(r) for r in varied]


def test_helper_processes_are_sent_the_email_and_mobile_cells_only():
    import threading

    from sheets_connector.contacts import _normalize_in_parallel

    # a value no process can be sent (a lock) in a column the helpers do not need: had whole rows
    # been sent, the parallel run would have failed (None) and fallen back to one process
    lock = threading.Lock()
    rows = [row(i + 2, f"M{i}", "Dana", f"u{i}@example.com", f"054{i:07d}", None, 1, lock) for i in range(4000)]
    helped = mapper()
    parallel = _normalize_in_parallel(helped, rows, 2, patient=True)
    assert helped.helped_rows >= 1000
    m = mapper()
    assert parallel == [m.normalize_row(r) for r in rows]


def _varied_rows():
    from decimal import Decimal

    from sheets_connector.tables.base import CellError

    emails = ["dana@example.com", " Dana@Example.COM ", "mailto:noa@example.com", "Noa <noa@example.com>", "bad@@x.com",
              "\u200fdana@example.com", "dana@example", "", None, 5, "#N/A", "DANA@example.com", "דנה@דוגמה.ישראל"]
    mobiles = ["054-1111111", 541111111, 972541111111.0, "9.72541111111E+11", "+972 54-111-1111", "2262649", "02-6251111",
               "+1 504-555-0123", "054-1111111 ext 2", "", None, True, 12.5, Decimal("541111111"), "0559876543",
               CellError("#REF!"), "054-2222222"]
    firsts = ["Dana", " דנה  ", "\u200eNoa", "#N/A", "", None, 7, 7.5, True, dt.time(8, 30), "   ", 1, 1.0, False, 0]
    birthdays = [dt.date(1980, 6, 12), dt.datetime(1980, 6, 12), dt.datetime(1980, 6, 12, 13, 30), None, "12/06/1980",
                 "", 29000, CellError("", "=A1")]
    scores = [97.0, 97, "97", None, float("nan"), Decimal("1.5"), "#DIV/0!", -0.0]
    members = ["M-1", 1, None, "  ", "#VALUE!", 1.0]
    out = []
    for i in range(600):
        out.append(row(i + 2, members[i % 6], firsts[i % 15], emails[i % 13], mobiles[(i * 7) % 17],
                       birthdays[(i * 3) % 8], scores[(i * 5) % 8], "✓ created" if i % 4 == 0 else None))
    return out


@pytest.mark.parametrize("header_locale,mapped_columns", [(None, "both"), ("he_IL", "both"), (None, "email only"),
                                                           (None, "mobile only"), ("he_IL", "no external id")])
def test_fast_paths_give_the_same_mapping_as_the_general_path(header_locale, mapped_columns):
    from sheets_connector.normalize import clear_caches
    from sheets_connector.sheet_dates import sheet_locale

    cfg = {"both": CFG, "email only": CFG.replace("  mobile: Mobile\n", ""),
           "mobile only": CFG.replace("  email: Email\n", ""),
           "no external id": CFG.replace("  external_id: Member no.\n", "")}[mapped_columns]
    assert mapped_columns == "both" or cfg != CFG

    def mapped(fast: bool):
        clear_caches()
        m = mapper(cfg)
        m.fast_paths = fast
        if header_locale:  # the birthday column read as that locale reads dates written as text
            m.text_dates = {4: sheet_locale(header_locale)}
        return m.map_rows(_varied_rows() * 3, workers=1)  # chunks of CHUNK_ROWS and the one row at a time

    general, fast = mapped(False), mapped(True)
    assert fast == general
    kinds = {m.problem.kind if m.problem else "contact" for m in fast}
    assert {"contact", "invalid", "duplicate", "missing"} <= kinds
