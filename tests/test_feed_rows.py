"""The new-contacts tab and the matching keys read from feed items: the short cuts for inwise's own
shape (feedrows.RowReader) give exactly what the definition gives (wire.feed_contact, then
contact_attribute for each column), for every shape and value an item may have; and a sync writes
the tab a varied feed (Hebrew, personal fields, missing values) asks for."""
from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import requests
from util import make_config, tab_rows, write_workbook

from sheets_connector.inwise import feed_contact, parse_feed_answer
from sheets_connector.state import feed
from sheets_connector.sync import Collaborators, pull_new
from sheets_connector.sync.feedrows import RowReader, canonical_entry, contact_attribute
from sheets_connector.sync.newcontacts import new_contact_columns

ENV = {"INWISE_API_KEY": "test-key"}

FIELDS = [{"name": "field1", "content": "דנה"}, {"name": "field2", "content": "כהן"},
          {"name": "field21", "content": "1985-12-02"}]

PLAIN = {"id": 439130001, "email": "Dana.Cohen@Example.co.il", "mobile_number": "972541234567", "fields": FIELDS,
         "created_date": "2026-11-28T09:15:00Z", "confirmation_status": "confirmed", "groups": [715983],
         "external_id": None}


def _variants() -> list[object]:
    """Items of inwise's shape with every odd value, and items of every other shape."""
    odd_values = {
        "id": [439130002, 1, 0, -5, True, 7.0, "439130003", " 00439130004 ", "abc", "", None],
        "email": ["dana@example.co.il", "  Dana@Example.CO.IL ", "dana @example.co.il", "דנה@דוגמה.co.il",
                  "dana\u200b@example.co.il", "", "   ", None, 12345, 1.0, "DANA\x7f@EXAMPLE.COM"],
        "mobile_number": ["972541234567", "+972 54-123-4567", "0541234567", "15046218927", "447911123456",
                          "١٢٣٤٥٦٧٨٩٠", "12", "", "no phone", None, 972541234568, 972541234569.0],
        "fields": [FIELDS, [], None, {"field1": "Dana", "2": "Cohen"}, "field1=x",
                   [{"name": "field1", "content": None}, {"name": "field1", "content": "second"}],
                   [{"name": "Field7", "content": 7.0}, {"name": " field8 ", "content": 8},
                    {"name": 9, "content": "bare"}, {"name": "field0", "content": "zero"},
                    {"name": "fieldx", "content": "x"}, {"name": "field07", "content": "zero seven"}],
                   [{"Name": "field1", "Content": "caps"}, {"field": "field2", "value": "other keys"},
                    {"name": "field6", "Value": "no content key"}, "not a dict", None,
                    {"name": "field1", "content": "after"}],
                   [{"name": ["odd"], "content": "x"}, {"name": "field6", "content": ["a list"]}]],
        "created_date": ["2026-11-28T09:15:00Z", "2026-11-28T09:15:00+02:00", "2026-11-28T09:15:00",
                         "2026-11-28", " 2026-11-28T09:15:00Z ", "11/28/2026 09:15:00", "28/11/2026 09:15",
                         "/Date(1764321300000)/", "yesterday", "", "   ", None, 20261128],
        "confirmation_status": ["confirmed", "", None, 3],
        "external_id": ["ext-1", None, "", 17],
    }
    items: list[object] = []
    for key, values in odd_values.items():
        for value in values:
            items.append({**PLAIN, key: value})
    for key in PLAIN:  # each key missing
        items.append({k: v for k, v in PLAIN.items() if k != key})
    items += [
        {"Id": "439130010", "Email": "Other@Example.com", "MobileNumber": "0541111111", "Fields": FIELDS,
         "CreatedDate": "11/28/2026 09:15:00"},
        {"contact_id": 439130011, "email_address": "x@example.com", "field3": "top level", "Field4": 4.0,
         "fields": [{"name": "field3", "content": "from the list wins"}]},
        {**PLAIN, "field5": "a top-level field next to the list"},
        {**PLAIN, "Email": "second spelling@example.com"},
        {**PLAIN, "mobile": "0549999999", "mobile_number": None},
        {**PLAIN, "tags": ["not a key of inwise's shape"]},
        {"id": None, "Id": 439130012, "email": "null id"},
        None, [], "439130013", 439130014, {}, {"email": "no id"},
    ]
    return items


COLUMN_SETS = [
    None,  # the default: id, email, mobile, the mapped fields, created
    ["id", "email", "mobile_number", "created_date", "confirmation_status", "external_id", "field1", "field6",
     "field7", "field8", "field07", "field99"],
    {"field21": "Birthday", "email": "Email", "id": "inwise ID"},
]


def _config(tmp_path, mode: str, columns: object, enabled: bool = True):
    text = "new_contacts:\n  enabled: " + ("true" if enabled else "false") + "\n"
    if columns is not None:
        text += f"  columns: {columns!r}\n".replace("'", '"')
    return make_config(tmp_path, "http://127.0.0.1:9/rest/v1", mode=mode, results=text)


@pytest.mark.parametrize(("mode", "columns", "enabled"),
                         [(m, c, True) for m, c in itertools.product(("batch", "upsert"), COLUMN_SETS)]
                         + [("batch", None, False)])
def test_rows_read_from_items_equal_the_definition(tmp_path, mode, columns, enabled):
    config = _config(tmp_path, mode, columns, enabled)
    cols = new_contact_columns(config, {1: "First name", 2: "Last name", 21: "Birthday"})
    reader = RowReader(config, cols)
    items = _variants()
    assert len(items) > 80
    for item in items * 2:  # the second time from what the reader shares and remembers
        got = reader.entry(item)
        if feed.contact_id(item) is None:
            assert got is None, item
            continue
        want = canonical_entry(config, feed_contact(item), cols)
        if mode == "upsert":  # the matching keys are only kept (and needed) in batch mode
            want = want[:2] + (got[2], got[3]) + want[4:]
        assert got == want, item
        assert [type(x) for x in got[6]] == [type(x) for x in want[6]], item


def test_a_varied_feed_fills_the_tab_as_the_definition_says(tmp_path, sandbox, state_dir):
    """Hebrew and English, fields given or not, no email or no mobile, foreign numbers: each row
    of the tab holds what contact_attribute says of that contact, in the order they were created."""
    people = [
        {"email": "dana@example.co.il", "mobile_number": "972541234567",
         "fields": [{"name": "field1", "content": "דנה"}, {"name": "field2", "content": "כהן"},
                    {"name": "field21", "content": "1985-12-02"}]},
        {"email": "Noa.Levi@Example.com", "fields": [{"name": "field2", "content": "לוי"}]},  # no mobile, no field1
        {"mobile_number": "+44 7911 123456", "fields": [{"name": "field1", "content": "Emma"}]},  # no email
        {"email": "avi@example.co.il", "mobile_number": "+1 504-621-8927", "fields": []},
        {"email": "רונית@דוגמה.co.il", "fields": [{"name": "field1", "content": "רונית \"רוני\""},
                                                  {"name": "field6", "content": "תל אביב"}]},
    ]
    for body in people:
        r = requests.post(sandbox.base_url + "/contacts", headers={"X-API-Key": "test-key"}, json=body, timeout=30)
        assert r.status_code == 200, r.text
    wb = write_workbook(tmp_path / "contacts.xlsx", [["Only", "Row", "only@example.com", None, None]])
    config = make_config(tmp_path, sandbox.base_url, mode="batch")  # mobiles of Israel written the national way
    s = pull_new(config, Collaborators(environ=ENV))
    assert s.new_contacts_pulled == 5 and s.new_contacts_appended == 5
    rows = tab_rows(wb, "New contacts")
    assert rows[0] == ["inwise ID", "Email", "Mobile", "First name", "Last name", "Birthday", "Created"]
    cols = new_contact_columns(config, {1: "First name", 2: "Last name", 21: "Birthday"})
    contacts = sorted(sandbox.contacts(), key=lambda c: c["id"])
    want = []
    for c in contacts:
        row = [contact_attribute(feed_contact(c), a, "IL") for a, _ in cols]
        want.append([x.replace(microsecond=0) if isinstance(x, dt.datetime) else x for x in row])
    assert rows[1:] == want
    # and in words: Hebrew as given, a missing field or email is an empty cell, mobiles as staff write them
    assert rows[1][1:6] == ["dana@example.co.il", "054-123-4567", "דנה", "כהן", "1985-12-02"]
    assert rows[2][1:5] == ["noa.levi@example.com", None, None, "לוי"]  # inwise keeps emails lowercased
    assert rows[3][1:4] == [None, "+44 7911 123456", "Emma"]
    assert rows[4][2] == "+1 504-621-8927"
    assert rows[5][1] == "רונית@דוגמה.co.il" and rows[5][3] == "רונית \"רוני\""


@pytest.mark.parametrize("raw", [
    b'[{"id": 1, "email": "a@example.com"}]', b'{"Contacts": [{"id": 2}]}', b'{"data": "x", "items": [3]}',
    b'[18446744073709551616]', b'[-9223372036854775809]', b'[{"id": 12345678901234567890123}]',  # beyond 64 bits
    b'[9223372036854775808]', b'[1.0000000000000000000001, 1E+2, -0, -0.0]', b'{"id": 1, "id": 2}',
    b'["\\ud800"]', b'["\\ud83d\\ude00", "\\u05d3\\u05e0\\u05d4", "\xd7\x93\xd7\xa0\xd7\x94"]', b'[NaN, Infinity]',
    b'[1e400]', b'\xef\xbb\xbf[{"id": 4}]', b'', b'  ', b'[1]\x00', b'\xff[1]', b'"text"', b'{"contacts": {"id": 1}}',
    b'<html>maintenance</html>', b'[{"id": 5}', b'\t[{"id": 6}]\r\n',
])
def test_feed_answers_are_read_as_json_reads_them(raw):
    """orjson reads the answers (twice json's speed); what it reads differently or refuses goes to json."""
    def by_json(raw: bytes):
        try:
            data = json.loads(raw.decode("utf-8-sig")) if raw.strip() else None
        except ValueError:
            return None
        if isinstance(data, dict):
            data = next((data[k] for k in ("contacts", "Contacts", "data", "Data", "items", "Items", "results",
                                           "Results") if isinstance(data.get(k), list)), data)
        return data if isinstance(data, list) else None

    got, want = parse_feed_answer(raw), by_json(raw)
    assert repr(got) == repr(want)  # repr: nan equals itself, 1 and 1.0 differ
