"""The local inwise sandbox, exercised over real HTTP on 127.0.0.1."""
from __future__ import annotations

import csv
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from util import wait_until

from sheets_connector.sandbox import Faults, Sandbox, SandboxError

KEY = "test-key"
LOCAL_FLAGS = {
    "trim_mobile_number_leading_zero": True,
    "add_default_country_to_mobile_number_only_if_not_exists": True,
    "mobile_number_default_country_code": "972",
}


# ------------------------------------------------------------------------------ helpers
def client() -> requests.Session:
    session = requests.Session()
    session.headers["X-API-Key"] = KEY
    return session


def upsert(sb: Sandbox, body: Any, session: requests.Session | None = None, **kwargs: Any) -> requests.Response:
    return (session or client()).post(sb.base_url + "/contacts", json=body, timeout=10, **kwargs)


def feed(sb: Sandbox, session: requests.Session | None = None) -> list[dict]:
    response = (session or client()).get(sb.base_url + "/contacts", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def batch(sb: Sandbox, body: dict, session: requests.Session | None = None) -> requests.Response:
    return (session or client()).post(sb.base_url + "/contacts/batchInsert", json=body, timeout=10)


def by_id(sb: Sandbox, contact_id: int) -> dict:
    [contact] = [c for c in sb.contacts() if c["id"] == contact_id]
    return contact


def fields_of(contact: dict) -> dict[str, str]:
    return {f["name"]: f["content"] for f in contact["fields"]}


# ------------------------------------------------------------------------------ API key
@pytest.mark.parametrize(("headers", "message"), [
    ({}, "X-API-Key was missing"),
    ({"X-API-Key": ""}, "X-API-Key was missing"),
    ({"X-API-Key": "wrong"}, "Parameter 'X-API-Key' is invalid."),
])
def test_missing_or_wrong_api_key_is_401_with_inwise_texts(sandbox: Sandbox, headers: dict, message: str) -> None:
    calls = [
        ("POST", "/contacts", {"email": "a@example.com"}),
        ("GET", "/contacts", None),
        ("POST", "/contacts/batchInsert", {"csv_file": "Email\na@example.com\n",
                                           "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"}]}),
    ]
    for method, path, body in calls:
        response = requests.request(method, sandbox.base_url + path, json=body, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"message": message}
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert sandbox.contacts() == []


def test_any_configured_key_is_accepted() -> None:
    with Sandbox(api_keys=("one", "two")) as sb:
        for key in ("one", "two"):
            response = requests.get(sb.base_url + "/contacts", headers={"X-API-Key": key}, timeout=10)
            assert response.status_code == 200
    with pytest.raises(ValueError):
        Sandbox(api_keys=())


# ------------------------------------------------------------------------------ POST /contacts
def test_create_then_update_by_email_is_case_insensitive(sandbox: Sandbox) -> None:
    first = upsert(sandbox, {"id": 0, "email": "Dana@Example.CO.IL", "fields": [{"name": "field1", "content": "Dana"}]})
    assert first.status_code == 200
    created = first.json()
    assert created["created"] is True and created["email"] == "dana@example.co.il"
    assert isinstance(created["id"], int) and created["id"] >= 439130001

    second = upsert(sandbox, {"email": "dana@EXAMPLE.co.il", "fields": [{"name": "field2", "content": "Levi"}]})
    assert second.status_code == 200
    assert second.json()["id"] == created["id"] and second.json()["created"] is False

    [contact] = sandbox.contacts()
    assert contact["email"] == "dana@example.co.il"
    assert fields_of(contact) == {"field1": "Dana", "field2": "Levi"}
    assert contact["created_date"].endswith("Z") and "T" in contact["created_date"]


def test_local_mobile_with_the_three_flags_matches_international(sandbox: Sandbox) -> None:
    created = upsert(sandbox, {"mobile_number": "972541111111"}).json()
    again = upsert(sandbox, {"mobile_number": "0541111111", **LOCAL_FLAGS}).json()
    assert again["id"] == created["id"] and again["created"] is False
    assert again["mobile_number"] == "972541111111"
    # Without the flags the local number is a different (10-digit) number: a new contact.
    other = upsert(sandbox, {"mobile_number": "0541111111"}).json()
    assert other["created"] is True and other["mobile_number"] == "0541111111"
    assert len(sandbox.contacts()) == 2


@pytest.mark.parametrize(
    ("raw", "trim", "add", "code", "expected"),
    [
        ("0541111111", True, True, "972", "972541111111"),
        ("+972 54-111-1111", True, True, "972", "972541111111"),
        ("00972541111111", True, True, "972", "972541111111"),
        ("0541111111", False, True, "972", "9720541111111"),
        ("0541111111", True, False, "972", "541111111"),
        ("(054) 111-1111", False, False, "", "0541111111"),
    ],
)
def test_mobile_normalisation(sandbox: Sandbox, raw: str, trim: bool, add: bool, code: str, expected: str) -> None:
    body = {
        "mobile_number": raw,
        "trim_mobile_number_leading_zero": trim,
        "add_default_country_to_mobile_number_only_if_not_exists": add,
        "mobile_number_default_country_code": code,
    }
    response = upsert(sandbox, body)
    assert response.status_code == 200, response.text
    assert response.json()["mobile_number"] == expected


def test_update_by_mobile_fills_in_missing_email_and_then_matches_by_it(sandbox: Sandbox) -> None:
    created = upsert(sandbox, {"mobile_number": "0521234567", **LOCAL_FLAGS}).json()
    update = upsert(sandbox, {"mobile_number": "972521234567", "email": "Yossi@example.com"}).json()
    assert update["id"] == created["id"] and update["email"] == "yossi@example.com"
    by_email = upsert(sandbox, {"email": "YOSSI@example.com", "external_id": "row-7"}).json()
    assert by_email["id"] == created["id"]
    contact = by_id(sandbox, created["id"])
    assert contact["email"] == "yossi@example.com" and contact["mobile_number"] == "972521234567"
    assert contact["external_id"] == "row-7"


def test_fields_are_merged_by_name_or_replaced_with_clear_existing_fields(sandbox: Sandbox) -> None:
    contact_id = upsert(sandbox, {"email": "f@example.com", "fields": [
        {"name": "field1", "content": "First"}, {"name": "field2", "content": "Last"}]}).json()["id"]
    upsert(sandbox, {"email": "f@example.com", "fields": [
        {"name": "field2", "content": "Changed"}, {"name": "field21", "content": "12/06/1980"}]})
    assert fields_of(by_id(sandbox, contact_id)) == {"field1": "First", "field2": "Changed", "field21": "12/06/1980"}

    upsert(sandbox, {"email": "f@example.com", "clear_existing_fields": True,
                     "fields": [{"name": "field3", "content": "Only"}]})
    assert fields_of(by_id(sandbox, contact_id)) == {"field3": "Only"}


def test_groups_add_remove_and_remove_from_all_other_groups(sandbox: Sandbox) -> None:
    contact_id = upsert(sandbox, {"email": "g@example.com", "add_to_groups_ids": [11, 22],
                                  "remove_from_groups_ids": [0], "confirmation_status": "confirmed"}).json()["id"]
    assert by_id(sandbox, contact_id)["groups"] == [11, 22]
    assert by_id(sandbox, contact_id)["confirmation_status"] == "confirmed"

    upsert(sandbox, {"email": "g@example.com", "add_to_groups_ids": [33], "remove_from_groups_ids": [11]})
    assert by_id(sandbox, contact_id)["groups"] == [22, 33]

    upsert(sandbox, {"email": "g@example.com", "add_to_groups_ids": [44], "remove_from_all_other_groups": True,
                     "confirmation_status": "unsubscribed"})
    contact = by_id(sandbox, contact_id)
    assert contact["groups"] == [44] and contact["confirmation_status"] == "unsubscribed"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "", "mobile_number": ""}, "Email or mobile number is required."),
        ({"fields": [{"name": "field1", "content": "x"}]}, "Email or mobile number is required."),
        ({"mobile_number": "12345"}, "Invalid mobile number 12345."),
        ({"mobile_number": "1234567890123456"}, "Invalid mobile number 1234567890123456."),
        ({"email": "not an email"}, "Invalid email address not an email."),
        ({"email": "ok@example.com", "mobile_number": "12345"}, "Invalid mobile number 12345."),
        ({"email": "ok@example.com", "fields": [{"name": "firstname", "content": "x"}]}, "Unknown personal field"),
        ({"email": "ok@example.com", "add_to_groups_ids": ["abc"]}, "add_to_groups_ids"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_invalid_contacts_are_400_with_a_message(sandbox: Sandbox, body: Any, message: str) -> None:
    response = upsert(sandbox, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert sandbox.contacts() == []


def test_bad_json_is_400(sandbox: Sandbox) -> None:
    for data in (b"{not json", b"", "\u05e9".encode("utf-16")):
        response = client().post(sandbox.base_url + "/contacts", data=data, timeout=10,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["message"]


def test_conflict_is_422_with_the_exact_inwise_message(sandbox: Sandbox) -> None:
    email_id = upsert(sandbox, {"email": "one@example.com"}).json()["id"]
    mobile_id = upsert(sandbox, {"mobile_number": "972541111111"}).json()["id"]
    response = upsert(sandbox, {"email": "ONE@example.com", "mobile_number": "0541111111", **LOCAL_FLAGS})
    assert response.status_code == 422
    assert response.json() == {
        "message": f"The email exists for contact ID #{email_id}.The mobile number exists for contact ID #{mobile_id}."
    }
    assert len(sandbox.contacts()) == 2
    assert by_id(sandbox, email_id)["mobile_number"] is None


def test_hebrew_round_trips_as_utf8(sandbox: Sandbox) -> None:
    response = upsert(sandbox, {"email": "h@example.com", "fields": [{"name": "field1", "content": "דנה לוי"}]})
    assert response.status_code == 200
    raw = requests.get(sandbox.inspect_url + "/contacts", timeout=10).content
    assert "דנה לוי".encode() in raw


# ------------------------------------------------------------------------------ batchInsert
BATCH_CSV = (
    "Email,Mobile,First,Last,Notes\r\n"
    'dana@example.co.il,054-1111111,"Dana, Jr.",Levi,"She said ""hi"""\r\n'
    ',0522222222,יוסי,כהן,"line1\nline2"\r\n'
    "old@example.com,0533333333,Clash,,\r\n"
    "\r\n"
    "OLD@example.com,,NewFirst,,\r\n"
    "bad-email,,X,,\r\n"
)
BATCH_MAPPING = [
    {"field_name": "[Email]", "file_column_name": "Email"},
    {"field_name": "[MobileNumber]", "file_column_name": "Mobile"},
    {"field_name": "1", "file_column_name": "First"},
    {"field_name": "2", "file_column_name": "Last"},
    {"field_name": "3", "file_column_name": "Notes"},
]


def test_batch_insert_parses_real_csv_and_applies_the_rules(sandbox: Sandbox) -> None:
    old_id, other_id = sandbox.add_contacts([
        {"email": "old@example.com", "fields": [{"name": "field1", "content": "Old"}]},
        {"mobile_number": "972533333333"},
    ])
    response = batch(sandbox, {"csv_file": BATCH_CSV, "fields_mapping": BATCH_MAPPING, "group_id": "715983",
                               "updateExistingContacts": True, "country_code": "972", "trim_leading_zero": True})
    assert response.status_code == 200, response.text
    assert response.json() == {"total": 5, "created": 2, "updated": 1, "failed": 2, "skipped": 0}

    contacts = {c["email"] or c["mobile_number"]: c for c in sandbox.contacts()}
    assert len(contacts) == 4
    dana = contacts["dana@example.co.il"]
    assert dana["mobile_number"] == "972541111111"
    assert fields_of(dana) == {"field1": "Dana, Jr.", "field2": "Levi", "field3": 'She said "hi"'}
    assert dana["groups"] == [715983]
    yossi = contacts["972522222222"]
    assert fields_of(yossi) == {"field1": "יוסי", "field2": "כהן", "field3": "line1\nline2"}
    old = contacts["old@example.com"]
    assert old["id"] == old_id and fields_of(old) == {"field1": "NewFirst"} and old["groups"] == [715983]
    assert contacts["972533333333"]["id"] == other_id and contacts["972533333333"]["fields"] == []

    created = feed(sandbox)
    assert [c["id"] for c in created] == [yossi["id"], dana["id"]]  # newest first, seeded/updated absent


def test_batch_insert_without_update_existing_skips_known_contacts(sandbox: Sandbox) -> None:
    [old_id] = sandbox.add_contacts([{"mobile_number": "972541111111", "fields": {"field1": "Keep"}}])
    csv_text = "Mobile,First\n0541111111,Changed\n0549999999,New\n"
    mapping = [{"field_name": "[MobileNumber]", "file_column_name": "Mobile"},
               {"field_name": "1", "file_column_name": "First"}]
    response = batch(sandbox, {"csv_file": csv_text, "fields_mapping": mapping, "updateExistingContacts": False,
                               "country_code": "972", "trim_leading_zero": True, "group_id": 5})
    assert response.json() == {"total": 2, "created": 1, "updated": 0, "failed": 0, "skipped": 1}
    assert fields_of(by_id(sandbox, old_id)) == {"field1": "Keep"}
    assert {c["mobile_number"] for c in sandbox.contacts()} == {"972541111111", "972549999999"}


def test_batch_insert_puts_the_country_code_in_front_blindly(sandbox: Sandbox) -> None:
    """batchInsert documents no "only if not present" flag: the sandbox assumes the worst."""
    mapping = [{"field_name": "[MobileNumber]", "file_column_name": "Mobile"}]
    response = batch(sandbox, {"csv_file": "Mobile\n0541111111\n972541111112\n", "fields_mapping": mapping,
                               "country_code": "972", "trim_leading_zero": False})
    assert response.json()["created"] == 2
    assert sorted(c["mobile_number"] for c in sandbox.contacts()) == ["9720541111111", "972972541111112"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"fields_mapping": BATCH_MAPPING}, "csv_file"),
        ({"csv_file": "", "fields_mapping": BATCH_MAPPING}, "csv_file"),
        ({"csv_file": BATCH_CSV}, "fields_mapping"),
        ({"csv_file": BATCH_CSV, "fields_mapping": "Email"}, "fields_mapping"),
        ({"csv_file": BATCH_CSV, "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Mail"}]}, "Mail"),
        ({"csv_file": BATCH_CSV, "fields_mapping": [{"field_name": "1", "file_column_name": "First"}]}, "[Email]"),
        ({"csv_file": BATCH_CSV, "fields_mapping": [{"field_name": "Name", "file_column_name": "First"}]}, "Name"),
        ({"csv_file": BATCH_CSV, "fields_mapping": BATCH_MAPPING, "group_id": "XXXXXX"}, "group_id"),
    ],
)
def test_batch_insert_rejects_a_garbled_request(sandbox: Sandbox, body: dict, message: str) -> None:
    response = batch(sandbox, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert sandbox.contacts() == []


# ------------------------------------------------------------------------------ GET /contacts feed
def test_feed_returns_each_created_contact_once_in_pages_of_1000(sandbox: Sandbox) -> None:
    seeded = set(sandbox.add_contacts([{"email": f"seed{i}@example.com"} for i in range(3)]))
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["Email", "Name"])
    writer.writerows([f"user{i}@example.com", f"User {i}"] for i in range(2500))
    response = batch(sandbox, {"csv_file": rows.getvalue(), "updateExistingContacts": True, "fields_mapping": [
        {"field_name": "[Email]", "file_column_name": "Email"}, {"field_name": "1", "file_column_name": "Name"}]})
    assert response.json()["created"] == 2500
    update = upsert(sandbox, {"email": "seed0@example.com", "fields": [{"name": "field1", "content": "x"}]})
    assert update.json()["created"] is False

    session = client()
    pages = [feed(sandbox, session) for _ in range(4)]
    assert [len(page) for page in pages] == [1000, 1000, 500, 0]
    ids = [c["id"] for page in pages for c in page]
    assert len(ids) == len(set(ids)) == 2500
    assert not seeded & set(ids)
    first, second = [c["id"] for c in pages[0]], [c["id"] for c in pages[1]]
    assert first == sorted(first, reverse=True) and min(first) > max(second)  # most recent first
    assert pages[0][0]["email"] == "user2499@example.com"
    assert fields_of(pages[0][0]) == {"field1": "User 2499"}
    assert set(pages[0][0]) >= {"id", "email", "mobile_number", "fields", "created_date",
                                "confirmation_status", "groups", "external_id"}

    new_id = upsert(sandbox, {"email": "late@example.com"}, session).json()["id"]
    assert [c["id"] for c in feed(sandbox, session)] == [new_id]
    assert feed(sandbox, session) == []


# ------------------------------------------------------------------------------ faults
def test_latency_is_added_to_api_requests_only(sandbox: Sandbox) -> None:
    session = client()
    upsert(sandbox, {"email": "warm@example.com"}, session)
    sandbox.set_faults(latency_ms=150)
    assert upsert(sandbox, {"email": "slow@example.com"}, session).status_code == 200
    assert session.get(sandbox.inspect_url + "/stats", timeout=10).json()["delay_ms"] == 150  # not /_sandbox

    sandbox.set_faults(latency_ms=10, jitter_ms=60, seed=3)
    for _ in range(3):
        feed(sandbox, session)
    assert 150 + 3 * 10 <= sandbox.stats()["delay_ms"] <= 150 + 3 * 70


def test_a_delayed_request_is_held_before_it_is_processed(sandbox: Sandbox) -> None:
    sandbox.set_faults(latency_ms=500)
    sender = threading.Thread(target=lambda: upsert(sandbox, {"email": "held@example.com"}))
    sender.start()
    wait_until(lambda: sandbox.stats()["in_flight"], "the request arriving")
    assert sandbox.stats()["in_flight"] == 1
    assert sandbox.contacts() == []  # arrived, not processed yet
    sender.join(10)
    assert [c["email"] for c in sandbox.contacts()] == ["held@example.com"]


def test_gather_holds_requests_until_that_many_are_in_flight_together(sandbox: Sandbox) -> None:
    sandbox.set_faults(gather=3)
    first = threading.Thread(target=lambda: upsert(sandbox, {"email": "g0@example.com"}))
    first.start()
    wait_until(lambda: sandbox.stats()["in_flight"] == 1, "the first request arriving")
    second = threading.Thread(target=lambda: upsert(sandbox, {"email": "g1@example.com"}))
    second.start()
    wait_until(lambda: sandbox.stats()["in_flight"] == 2, "the second request arriving")
    assert sandbox.contacts() == []  # both held: only two of three are in flight
    assert upsert(sandbox, {"email": "g2@example.com"}).status_code == 200  # the third releases all
    first.join(10)
    second.join(10)
    assert sorted(c["email"] for c in sandbox.contacts()) == ["g0@example.com", "g1@example.com", "g2@example.com"]
    assert sandbox.stats()["max_in_flight"] == 3
    assert upsert(sandbox, {"email": "later@example.com"}).status_code == 200  # gathered once, then off


def test_feed_pause_holds_an_answer_after_half_its_body_and_says_so(sandbox: Sandbox) -> None:
    ids = [upsert(sandbox, {"email": f"f{i}@example.com"}).json()["id"] for i in range(3)]
    sandbox.set_faults(feed_pause_ms=400)
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        conn.request("GET", "/rest/v1/contacts", headers={"X-API-Key": KEY})
        response = conn.getresponse()  # the status line and headers arrive before the pause
        assert response.status == 200
        assert sandbox.wait_for_paused_feed_answer(timeout=10)
        status = requests.get(sandbox.inspect_url + "/feed", timeout=10).json()
        # The page has left the feed although the client holds only half of it.
        assert status == {"pending": 0, "pages_handed_out": 1, "answers_paused": 1,
                          "last_page": {"contacts": 3, "ids": ids[::-1]}}
        body = json.loads(response.read())
    finally:
        conn.close()
    assert [c["id"] for c in body] == ids[::-1]
    assert sandbox.feed_status()["answers_paused"] == 0
    assert not sandbox.wait_for_paused_feed_answer(timeout=0.01)


def test_fail_next_can_answer_with_a_given_message(sandbox: Sandbox) -> None:
    sandbox.fail_next(status=400, message="Parameter 'X-API-Key' is invalid.")
    response = upsert(sandbox, {"email": "m@example.com"})
    assert response.status_code == 400 and response.json() == {"message": "Parameter 'X-API-Key' is invalid."}
    with pytest.raises(ValueError):
        sandbox.fail_next(message=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [503, 500])
def test_error_rate_one_answers_error_status_without_processing(sandbox: Sandbox, status: int) -> None:
    sandbox.set_faults(error_rate=1, error_status=status)
    response = upsert(sandbox, {"email": "e@example.com"})
    assert response.status_code == status and response.json()["message"]
    assert sandbox.contacts() == []
    assert sandbox.stats()["requests"]["POST /contacts"] == {str(status): 1}
    sandbox.set_faults(error_rate=0)
    assert upsert(sandbox, {"email": "e@example.com"}).json()["created"] is True


@pytest.mark.parametrize(("retry_after", "header"), [(0, "0"), (2, "2")])
def test_rate_limit_answers_429_with_retry_after(sandbox: Sandbox, retry_after: float, header: str) -> None:
    sandbox.set_faults(rate_limit_rate=1, retry_after_s=retry_after)
    response = upsert(sandbox, {"email": "r@example.com"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == header
    assert sandbox.contacts() == []


def test_drop_rate_closes_the_connection_without_a_response(sandbox: Sandbox) -> None:
    sandbox.set_faults(drop_rate=1)
    with pytest.raises(requests.ConnectionError):
        upsert(sandbox, {"email": "d@example.com"})
    assert sandbox.contacts() == []
    assert sandbox.stats()["requests"]["POST /contacts"] == {"dropped": 1}
    sandbox.set_faults(drop_rate=0)
    assert upsert(sandbox, {"email": "d@example.com"}).status_code == 200


def test_random_faults_follow_their_rate_and_are_reproducible_with_a_seed(sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sandbox.set_faults(error_rate=0.5, seed=7)
        session = client()
        return [session.get(sandbox.base_url + "/contacts", timeout=10).status_code for _ in range(200)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 503}
    assert 60 <= first.count(503) <= 140


def test_fail_next_fails_matching_requests_then_resumes(sandbox: Sandbox) -> None:
    session = client()
    sandbox.fail_next(2, status=500, path="/contacts", method="POST")
    assert session.get(sandbox.base_url + "/contacts", timeout=10).status_code == 200  # not matching
    for _ in range(2):
        assert upsert(sandbox, {"email": "n@example.com"}, session).status_code == 500
    assert sandbox.contacts() == []
    assert upsert(sandbox, {"email": "n@example.com"}, session).status_code == 200

    sandbox.fail_next(status=429, retry_after=0, path="/rest/v1/contacts/batchInsert")
    response = batch(sandbox, {"csv_file": "Email\nb@example.com\n",
                               "fields_mapping": [{"field_name": "[Email]", "file_column_name": "Email"}]}, session)
    assert response.status_code == 429 and response.headers["Retry-After"] == "0"
    assert len(sandbox.contacts()) == 1

    sandbox.fail_next(drop=True)
    with pytest.raises(requests.ConnectionError):
        upsert(sandbox, {"email": "lost@example.com"})
    assert len(sandbox.contacts()) == 1


def test_fail_next_after_processing_loses_the_answer_but_keeps_the_change(sandbox: Sandbox) -> None:
    sandbox.fail_next(drop=True, after_processing=True, path="/contacts", method="POST")
    with pytest.raises(requests.ConnectionError):
        upsert(sandbox, {"email": "transit@example.com"})
    [contact] = sandbox.contacts()
    retry = upsert(sandbox, {"email": "transit@example.com"}).json()
    assert retry["id"] == contact["id"] and retry["created"] is False
    assert [c["id"] for c in feed(sandbox)] == [contact["id"]]

    sandbox.fail_next(status=503, after_processing=True)
    assert upsert(sandbox, {"email": "second@example.com"}).status_code == 503
    assert len(sandbox.contacts()) == 2


def test_max_concurrent_rejects_extra_requests_with_429(sandbox: Sandbox) -> None:
    sandbox.set_faults(latency_ms=400, max_concurrent=2, retry_after_s=0)
    barrier = threading.Barrier(6)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        session = client()
        barrier.wait()
        response = session.get(sandbox.base_url + "/contacts", timeout=10)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 429, 429, 429, 429]
    assert all(r.headers["Retry-After"] == "0" for r in results if r.status_code == 429)
    assert sandbox.stats()["requests"]["GET /contacts"] == {"200": 2, "429": 4}


def test_max_in_flight_measures_client_concurrency(sandbox: Sandbox) -> None:
    sandbox.set_faults(latency_ms=300)
    barrier = threading.Barrier(5)

    def worker(n: int) -> None:
        session = client()
        barrier.wait()
        assert upsert(sandbox, {"email": f"p{n}@example.com"}, session).status_code == 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sandbox.stats()["max_in_flight"] == 5
    assert len(sandbox.contacts()) == 5

    sandbox.reset_stats()
    sandbox.set_faults(latency_ms=5)
    session = client()
    for n in range(3):
        upsert(sandbox, {"email": f"s{n}@example.com"}, session)
    stats = sandbox.stats()
    assert stats["max_in_flight"] == 1 and stats["in_flight"] == 0


# ------------------------------------------------------------------------------ stats / HTTP details
def test_stats_count_api_requests_by_path_and_status(sandbox: Sandbox) -> None:
    session = client()
    upsert(sandbox, {"email": "a@example.com"}, session)
    upsert(sandbox, {"email": "a@example.com"}, session)
    upsert(sandbox, {"mobile_number": "972541111111"}, session)
    upsert(sandbox, {"email": "a@example.com", "mobile_number": "972541111111"}, session)
    upsert(sandbox, {"email": "bad"}, session)
    feed(sandbox, session)
    requests.get(sandbox.base_url + "/contacts", timeout=10)  # no key
    session.get(sandbox.base_url + "/nothing", timeout=10)
    session.get(sandbox.inspect_url + "/contacts", timeout=10)  # inspection: not counted
    sandbox.fail_next(drop=True)
    with pytest.raises(requests.ConnectionError):
        client().post(sandbox.base_url + "/contacts/batchInsert", json={}, timeout=10)

    stats = requests.get(sandbox.inspect_url + "/stats", timeout=10).json()
    assert stats["requests"] == {
        "POST /contacts": {"200": 3, "422": 1, "400": 1},
        "GET /contacts": {"200": 1, "401": 1},
        "GET /nothing": {"404": 1},
        "POST /contacts/batchInsert": {"dropped": 1},
    }
    assert stats["total"] == 9 and stats["max_in_flight"] == 1

    assert requests.post(sandbox.inspect_url + "/reset_stats", timeout=10).status_code == 200
    assert sandbox.stats()["requests"] == {} and sandbox.stats()["total"] == 0


def test_unknown_paths_and_methods_answer_json(sandbox: Sandbox) -> None:
    session = client()
    for url, method, status in [
        (sandbox.base_url + "/groups", "GET", 404),
        (sandbox.root_url + "/elsewhere", "GET", 404),
        (sandbox.inspect_url + "/nope", "GET", 404),
        (sandbox.base_url + "/contacts", "DELETE", 405),
        (sandbox.base_url + "/contacts/batchInsert", "GET", 405),
        (sandbox.inspect_url + "/stats", "POST", 405),
    ]:
        response = session.request(method, url, timeout=10)
        assert response.status_code == status, url
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["message"]
        if status == 405:
            assert response.headers["Allow"]
    response = session.request("OPTIONS", sandbox.base_url + "/contacts", timeout=10)  # unsupported by the server
    assert response.status_code == 501 and response.json()["message"]


def test_connections_are_kept_alive_unless_the_client_asks_to_close(sandbox: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
    try:
        local_ports = []
        for _ in range(3):
            conn.request("GET", "/rest/v1/contacts", headers={"X-API-Key": KEY})
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read()) == []
            assert response.getheader("Content-Length") == "2"
            local_ports.append(conn.sock.getsockname()[1])
        assert len(set(local_ports)) == 1

        conn.request("GET", "/rest/v1/contacts", headers={"X-API-Key": KEY, "Connection": "close"})
        response = conn.getresponse()
        assert response.status == 200 and response.getheader("Connection") == "close"
        response.read()
        assert conn.sock is None  # http.client closed it as the server announced
    finally:
        conn.close()


# ------------------------------------------------------------------------------ inspection endpoints
def test_inspection_endpoints_over_http(sandbox: Sandbox) -> None:
    base = sandbox.inspect_url
    seeded = requests.post(base + "/contacts", timeout=10, json=[
        {"email": "Seed@Example.com", "mobile_number": "972541111111", "groups": [7],
         "fields": [{"name": "field1", "content": "Seed"}], "confirmation_status": "confirmed"}])
    assert seeded.status_code == 200
    [seed_id] = seeded.json()["ids"]
    assert requests.post(base + "/contacts", json=[{"email": "seed@example.com"}], timeout=10).status_code == 400

    listed = requests.get(base + "/contacts", timeout=10).json()
    assert listed == [{"id": seed_id, "email": "seed@example.com", "mobile_number": "972541111111",
                       "fields": [{"name": "field1", "content": "Seed"}], "created_date": listed[0]["created_date"],
                       "confirmation_status": "confirmed", "groups": [7], "external_id": None}]
    assert feed(sandbox) == []  # seeded contacts are not in the feed

    faults = requests.post(base + "/faults", json={"error_rate": 1, "error_status": 502}, timeout=10)
    assert faults.status_code == 200 and faults.json()["error_status"] == 502
    assert sandbox.faults.error_rate == 1 and sandbox.faults.latency_ms == 0
    assert requests.get(base + "/faults", timeout=10).json()["error_rate"] == 1
    assert requests.get(base + "/stats", timeout=10).status_code == 200  # faults never hit /_sandbox
    assert upsert(sandbox, {"email": "x@example.com"}).status_code == 502
    for bad in ({"error_rate": 2}, {"no_such_setting": 1}, {"latency_ms": "slow"}):
        assert requests.post(base + "/faults", json=bad, timeout=10).status_code == 400
    requests.post(base + "/faults", json={"error_rate": 0}, timeout=10)

    fail = requests.post(base + "/fail_next", json={"count": 1, "status": 503, "retry_after": 1}, timeout=10)
    assert fail.status_code == 200
    response = upsert(sandbox, {"email": "x@example.com"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert requests.post(base + "/fail_next", json={"bogus": 1}, timeout=10).status_code == 400

    assert upsert(sandbox, {"email": "x@example.com"}).status_code == 200
    assert requests.post(base + "/reset", timeout=10).status_code == 200
    assert sandbox.contacts() == [] and sandbox.stats()["total"] == 0 and feed(sandbox) == []
    assert upsert(sandbox, {"email": "x@example.com"}).json()["id"] == 439130001


def test_python_api_validates_its_arguments(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError):
        sandbox.set_faults(latencyms=3)
    with pytest.raises(ValueError):
        sandbox.set_faults(drop_rate=1.5)
    with pytest.raises(ValueError):
        sandbox.fail_next(status=200)
    with pytest.raises(ValueError):
        Faults(max_concurrent=-1).validate()
    with pytest.raises(ValueError):  # all or nothing
        sandbox.add_contacts([{"email": "ok@example.com"}, {"email": "OK@example.com"}])
    with pytest.raises(ValueError):
        sandbox.add_contacts([{"email": "ok@example.com", "mobile": "972541111111"}])
    assert sandbox.contacts() == []
    with pytest.raises(SandboxError):
        Sandbox(api_keys=("k",), port=sandbox.port).start()


# ------------------------------------------------------------------------------ persistence
def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "demo" / "state.json"
    with Sandbox(api_keys=(KEY,), state_file=state, seed_contacts=[{"email": "seed@example.com"}]) as sb:
        ids = [upsert(sb, {"email": f"c{i}@example.com", "add_to_groups_ids": [9]}).json()["id"] for i in range(3)]
        assert sorted(c["id"] for c in feed(sb)) == ids
        late_id = upsert(sb, {"email": "late@example.com"}).json()["id"]
        before = sb.contacts()
    assert json.loads(state.read_text(encoding="utf-8"))["next_id"] == late_id + 1
    assert [p.name for p in state.parent.iterdir()] == ["state.json"]  # no temp files left

    with Sandbox(api_keys=(KEY,), state_file=state, seed_contacts=[{"email": "other@example.com"}]) as sb:
        assert sb.contacts() == before  # the seed is ignored: the state was not empty
        assert [c["id"] for c in feed(sb)] == [late_id]  # the feed cursor survived
        assert upsert(sb, {"email": "c0@example.com"}).json() == {
            "id": ids[0], "email": "c0@example.com", "mobile_number": None, "created": False}
        new_id = upsert(sb, {"email": "new@example.com"}).json()["id"]
        assert new_id == late_id + 1

    with Sandbox(api_keys=(KEY,), state_file=state) as sb:
        assert [c["id"] for c in feed(sb)] == [new_id]  # a GET alone is persisted too
    with Sandbox(api_keys=(KEY,), state_file=state) as sb:
        assert feed(sb) == []


def test_a_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{ half", encoding="utf-8")
    with pytest.raises(SandboxError, match="state.json"):
        Sandbox(api_keys=(KEY,), state_file=state)


# ------------------------------------------------------------------------------ serve() for the CLI
def test_serve_prints_its_url_logs_without_the_key_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([{"email": "seed@example.com", "fields": [{"name": "field1", "content": "שלום"}]}]),
                    encoding="utf-8")
    secret = "s3cret-key-never-printed"
    # What the CLI does: log request lines to stderr, print the address once listening.
    code = ("import logging, sys; from sheets_connector.sandbox import serve; "
            "logging.basicConfig(level=logging.INFO, format='%(message)s'); "
            "serve(port=0, api_keys=(sys.argv[1],), seed_file=sys.argv[2], verbose=True, "
            "on_ready=lambda sb: print('listening on', sb.base_url, flush=True))")
    proc = subprocess.Popen([sys.executable, "-c", code, secret, str(seed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/rest/v1")
        base_url = line.split(" ")[2]
        response = requests.get(base_url + "/contacts", headers={"X-API-Key": secret}, timeout=10)
        assert response.status_code == 200 and response.json() == []
        [contact] = requests.get(base_url.replace("/rest/v1", "/_sandbox/contacts"), timeout=10).json()
        assert contact["email"] == "seed@example.com"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "GET /rest/v1/contacts -> 200" in err
    assert "Traceback" not in err
    assert secret not in line + out + err


def test_the_answer_fault_puts_a_web_page_or_cut_json_in_inwises_place() -> None:
    with Sandbox(api_keys=("k",)) as sb:
        headers = {"X-API-Key": "k"}
        control = requests.post(f"{sb.inspect_url}/faults", json={"answer": "html"}, timeout=5)
        assert control.status_code == 200 and control.json()["answer"] == "html"
        page = requests.post(f"{sb.base_url}/contacts", json={"email": "a@example.com"}, headers=headers, timeout=5)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "<title>Down for maintenance</title>" in page.text and sb.contacts() == []  # nothing was done
        sb.set_faults(answer="truncated")
        cut = requests.post(f"{sb.base_url}/contacts", json={"email": "a@example.com"}, headers=headers, timeout=5)
        assert cut.status_code == 200 and cut.text.startswith("{") and len(sb.contacts()) == 1  # done, answer cut
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut.text)
        refused = requests.post(f"{sb.inspect_url}/faults", json={"answer": "xml"}, timeout=5)
        assert refused.status_code == 400 and "answer must be one of json, html, truncated" in refused.text
        assert sb.stats()["requests"]["POST /contacts"] == {"200 html": 1, "200 truncated": 1}
