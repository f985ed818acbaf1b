"""The inwise client against the local sandbox, over real HTTP on 127.0.0.1.

No HTTP mocks: every test talks to a ``Sandbox`` server and checks both what the client
reports and what the sandbox actually holds / counted.
"""
from __future__ import annotations

import csv
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest

from sheets_connector import __version__
from sheets_connector.errors import InwiseAddressError, InwiseAuthError, InwiseError
from sheets_connector.inwise import (
    FEED_PAGE_SIZE,
    KEY_INVALID_TEXT,
    KEY_MISSING_TEXT,
    NO_ID_MESSAGE,
    REST_NOT_ENABLED_TEXT,
    InwiseClient,
    batch_body,
    batch_fields_mapping,
    build_batch_csv,
    contact_body,
    feed_contact,
    is_domestic,
    local_mobile,
    parse_conflict,
)
from sheets_connector.model import Contact, SendOptions, UpsertResult
from sheets_connector.results import from_upsert
from sheets_connector.retry import RetryPolicy, build_retry
from sheets_connector.sandbox import Sandbox
from sheets_connector.tables.base import RowRef

KEY = "test-key"
WRONG_KEY = "wrong-key-0123456789abcdef"
# A tiny backoff: tests never sleep through real backoff.
FAST = RetryPolicy(backoff_factor=0.01, backoff_max=0.05, connect_timeout=2.0, read_timeout=5.0)


def fast(**changes: Any) -> RetryPolicy:
    return RetryPolicy(**{**FAST.model_dump(), **changes})


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(api_keys=(KEY,)) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[InwiseClient]:
    with InwiseClient(sb.base_url, KEY, policy=FAST) as c:
        yield c


T = TypeVar("T")


def finishes(call: Callable[[], T], within: float = 30.0) -> T:
    """``call()``, failing the test instead of hanging if it does not return (a liveness guard)."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(within)
    assert out, f"did not finish within {within} s"
    return out[0]


def requests_to(sb: Sandbox, key: str) -> dict[str, int]:
    return sb.stats()["requests"].get(key, {})


def by_email(sb: Sandbox) -> dict[str, dict]:
    return {c["email"]: c for c in sb.contacts() if c["email"]}


def fields_of(stored: dict) -> dict[str, str]:
    return {f["name"]: f["content"] for f in stored["fields"]}


# --------------------------------------------------------------------------------------------
# POST /contacts: the answers
# --------------------------------------------------------------------------------------------
def test_upsert_creates_then_updates_the_same_contact(sb: Sandbox, client: InwiseClient) -> None:
    options = SendOptions(groups=(715983,), confirmation_status="confirmed")
    first = client.upsert(Contact("dana@example.co.il", None, ((1, "Dana"), (2, "Levi"))), options)
    assert first.status == "ok" and isinstance(first.contact_id, int) and first.http_status == 200

    second = client.upsert(Contact("Dana@Example.co.il", None, ((1, "Dana B."),)), options)
    assert second.status == "ok"
    assert second.contact_id == first.contact_id

    [stored] = sb.contacts()
    assert stored["id"] == first.contact_id
    assert fields_of(stored) == {"field1": "Dana B.", "field2": "Levi"}  # update, not replace
    assert stored["groups"] == [715983] and stored["confirmation_status"] == "confirmed"
    assert client.stats() == {"calls": {"POST /contacts": 2}, "retries": 0}


def test_upsert_local_mobile_gets_the_country_code_once(sb: Sandbox, client: InwiseClient) -> None:
    local = client.upsert(Contact(None, "0541234567"), SendOptions(default_country_code="972"))
    international = client.upsert(Contact(None, "972547654321"), SendOptions(default_country_code="972"))
    assert local.status == international.status == "ok"
    mobiles = sorted(c["mobile_number"] for c in sb.contacts())
    assert mobiles == ["972541234567", "972547654321"]
    # The same number again, local form: matched to the same contact, not a second one.
    again = client.upsert(Contact(None, "054-1234567"), SendOptions())
    assert again.contact_id == local.contact_id and len(sb.contacts()) == 2


def test_contact_body_sends_only_what_is_set() -> None:
    bare = contact_body(Contact("a@example.com", None), SendOptions())
    assert bare == {"email": "a@example.com", "fields": []}

    full = contact_body(
        Contact(None, "972541111111", ((1, "fname1"), (21, "12/06/1980")), external_id="row-7"),
        SendOptions(groups=(1, 2), confirmation_status="confirmed", default_country_code="972",
                    trim_leading_zero=False, clear_existing_fields=True),
    )
    assert full == {
        "mobile_number": "972541111111",
        "trim_mobile_number_leading_zero": False,
        "add_default_country_to_mobile_number_only_if_not_exists": True,
        "mobile_number_default_country_code": "972",
        "fields": [{"name": "field1", "content": "fname1"}, {"name": "field21", "content": "12/06/1980"}],
        "confirmation_status": "confirmed",
        "add_to_groups_ids": [1, 2],
        "external_id": "row-7",
        "clear_existing_fields": True,
    }


def test_upsert_conflict_gives_both_contact_ids(sb: Sandbox, client: InwiseClient) -> None:
    email_owner, mobile_owner = sb.add_contacts([
        {"email": "dana@example.co.il"},
        {"mobile_number": "972541111111"},
    ])
    result = client.upsert(Contact("dana@example.co.il", "972541111111"), SendOptions())
    assert result.status == "conflict" and result.http_status == 422
    assert result.conflict == {"email": email_owner, "mobile": mobile_owner}
    assert "exists for contact ID" in (result.message or "")
    assert len(sb.contacts()) == 2


@pytest.mark.parametrize("message, expected", [
    ("The email exists for contact ID #439130785.The mobile number exists for contact ID #439134049.",
     {"email": 439130785, "mobile": 439134049}),
    ("The mobile number exists for contact ID #439134049. The email exists for contact ID #439130785.",
     {"email": 439130785, "mobile": 439134049}),
    ("The email exists for contact ID #12.", {"email": 12}),
    ("The mobile number exists for contact ID #34.", {"mobile": 34}),
    ("the EMAIL exists for contact id#5.the mobile exists for contact ID # 6", {"email": 5, "mobile": 6}),
    ("The  email  exists  for  contact  ID  #7 .\nThe mobile number exists for contact ID #8",
     {"email": 7, "mobile": 8}),
    ('{"message": "The email exists for contact ID #9."}', {"email": 9}),
    ("The email exists for contact ID #1. The email exists for contact ID #2.", {"email": 1}),
    ("Conflict.", {}),
    ("", {}),
    ("contact ID #123 is weird; email is bad", {}),
])
def test_parse_conflict(message: str, expected: dict[str, int]) -> None:
    assert parse_conflict(message) == expected


def test_upsert_bad_email_is_rejected_with_inwise_message(sb: Sandbox, client: InwiseClient) -> None:
    result = client.upsert(Contact("not-an-email", None), SendOptions())
    assert result.status == "rejected" and result.http_status == 400
    assert result.message == "Invalid email address not-an-email."
    assert sb.contacts() == []
    # Neither email nor mobile: refused locally, no request.
    empty = client.upsert(Contact(None, None), SendOptions())
    assert empty.status == "rejected" and "neither an email nor a mobile" in (empty.message or "")
    assert client.calls["POST /contacts"] == 1


def test_wrong_key_raises_auth_error_without_the_key(sb: Sandbox) -> None:
    with InwiseClient(sb.base_url, WRONG_KEY, api_key_source="MY_INWISE_KEY", policy=FAST) as client:
        with pytest.raises(InwiseAuthError) as caught:
            client.upsert(Contact("a@example.com", None), SendOptions())
        assert WRONG_KEY not in repr(client)
    message = str(caught.value)
    assert "HTTP 401: Parameter 'X-API-Key' is invalid." in message and "MY_INWISE_KEY" in message
    assert WRONG_KEY not in message and "wrong-key" not in message
    assert requests_to(sb, "POST /contacts") == {"401": 1}  # not retried


def test_key_that_cannot_be_a_header_is_refused_without_showing_it(sb: Sandbox) -> None:
    with pytest.raises(InwiseAuthError) as caught:
        InwiseClient(sb.base_url, "abc def\n")
    assert "abc def" not in str(caught.value) and "INWISE_API_KEY" in str(caught.value)
    with pytest.raises(InwiseAuthError, match="No inwise API key"):
        InwiseClient(sb.base_url, "  ")
    # Surrounding whitespace (a pasted key with a newline) is harmless.
    with InwiseClient(sb.base_url, f" {KEY}\n", policy=FAST) as client:
        assert client.upsert(Contact("a@example.com", None), SendOptions()).status == "ok"


def test_session_headers_and_proxy_variables_are_ignored(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy that does not exist: honouring it would make every request fail.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        assert client.session.headers["User-Agent"] == f"sheets-connector/{__version__}"
        assert client.session.headers["Accept"] == "application/json"
        assert client.session.trust_env is False
        assert client.upsert(Contact("a@example.com", None), SendOptions()).status == "ok"
        assert client.retries == 0


class _EchoingServer(BaseHTTPRequestHandler):
    """A misbehaving server: echoes the API key in its messages, or redirects elsewhere."""

    redirect_to = ""

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("X-API-Key", "")
        if self.path.startswith("/redirect/"):
            self.send_response(301)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = {"/auth/contacts": 401, "/conflict/contacts": 422}.get(self.path, 400)
        text = f"The key {key} is not valid here. The email exists for contact ID #77."
        data = json.dumps({"Message": text}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def echoing_server(sb: Sandbox) -> Iterator[str]:
    _EchoingServer.redirect_to = sb.base_url + "/contacts"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_key_echoed_by_the_server_is_redacted(echoing_server: str) -> None:
    contact = Contact("a@example.com", None)
    with InwiseClient(echoing_server + "/plain", WRONG_KEY, policy=FAST) as client:
        rejected = client.upsert(contact, SendOptions())
    assert rejected.status == "rejected" and rejected.message is not None
    assert WRONG_KEY not in rejected.message and "The key *** is not valid" in rejected.message
    with InwiseClient(echoing_server + "/conflict", WRONG_KEY, policy=FAST) as client:
        conflict = client.upsert(contact, SendOptions())
    assert conflict.conflict == {"email": 77} and WRONG_KEY not in (conflict.message or "")
    with InwiseClient(echoing_server + "/auth", WRONG_KEY, policy=FAST) as client:
        with pytest.raises(InwiseAuthError) as caught:
            client.upsert(contact, SendOptions())
    assert WRONG_KEY not in str(caught.value) and "***" in str(caught.value)


def test_redirects_are_not_followed(sb: Sandbox, echoing_server: str) -> None:
    with InwiseClient(echoing_server + "/redirect", KEY, policy=FAST) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "error" and result.http_status == 301
    assert "redirect" in (result.message or "") and "check the inwise API address" in (result.message or "")
    assert sb.stats()["total"] == 0  # the key was not carried to the redirect target


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------
def test_two_503_then_ok(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(2, status=503, path="/contacts", method="POST")
    result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "ok"
    assert client.retries == 2
    assert client.stats() == {"calls": {"POST /contacts": 1}, "retries": 2}
    assert requests_to(sb, "POST /contacts") == {"503": 2, "200": 1}


def test_429_with_retry_after_zero_then_ok(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, status=429, retry_after=0)
    assert client.upsert(Contact("a@example.com", None), SendOptions()).status == "ok"
    assert client.retries == 1
    assert requests_to(sb, "POST /contacts") == {"429": 1, "200": 1}


def test_huge_retry_after_is_capped(sb: Sandbox) -> None:
    assert build_retry(RetryPolicy(retry_after_max=7)).parse_retry_after("3600") == 7  # urllib3's own cap
    sb.fail_next(1, status=429, retry_after=3600)
    with InwiseClient(sb.base_url, KEY, policy=fast(retry_after_max=0)) as client:
        result = finishes(lambda: client.upsert(Contact("a@example.com", None), SendOptions()))
    assert result.status == "ok" and client.retries == 1  # waited the cap, not an hour


def test_unreadable_retry_after_falls_back_to_the_backoff(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, status=503, retry_after=0.2)  # "0.2" is not valid HTTP
    assert client.upsert(Contact("a@example.com", None), SendOptions()).status == "ok"
    assert client.retries == 1


def test_dropped_connections_are_retried(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(2, drop=True)
    result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "ok" and client.retries == 2
    assert requests_to(sb, "POST /contacts") == {"dropped": 2, "200": 1}


def test_answer_lost_after_processing_is_retried_without_a_duplicate(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, drop=True, after_processing=True)
    result = client.upsert(Contact("a@example.com", "972541111111", ((1, "A"),)), SendOptions())
    assert result.status == "ok" and client.retries == 1
    [stored] = sb.contacts()  # exactly one contact: the retry updated it
    assert stored["id"] == result.contact_id


def test_retries_exhausted_is_an_error_result(sb: Sandbox) -> None:
    sb.set_faults(error_rate=1.0)
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=3)) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
        assert client.retries == 3
    assert result.status == "error" and result.http_status == 503
    assert result.message == "inwise did not answer after 4 tries (HTTP 503 Service Unavailable)"
    assert requests_to(sb, "POST /contacts") == {"503": 4}
    assert sb.contacts() == []


def test_rate_limit_exhausted_says_so(sb: Sandbox) -> None:
    sb.fail_next(10, status=429, retry_after=0)
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=1)) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "error" and result.http_status == 429
    assert result.message == "inwise was still rate-limiting us after 2 tries (HTTP 429 Too Many Requests)"


def test_drops_exhausted_is_an_error_result(sb: Sandbox) -> None:
    sb.fail_next(10, drop=True)
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=2)) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "error"
    assert result.message == "inwise did not answer after 3 tries (connection dropped)"
    assert requests_to(sb, "POST /contacts") == {"dropped": 3}


def test_timeouts_exhausted_is_an_error_result(sb: Sandbox) -> None:
    sb.set_faults(latency_ms=400)
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=1, read_timeout=0.1)) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
        assert client.retries == 1
    assert result.status == "error"
    assert result.message == "inwise did not answer after 2 tries (timed out after 0.1 s)"


def test_nobody_listening_is_an_error_result() -> None:
    # a port this test holds (bound, never listening): nobody else can take it, connecting is refused
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        with InwiseClient(f"http://127.0.0.1:{port}/rest/v1", KEY, policy=fast(retries=1)) as client:
            result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "error"
    assert result.message == f"inwise did not answer after 2 tries (could not connect to 127.0.0.1:{port})"
    assert KEY not in result.message


# --------------------------------------------------------------------------------------------
# upsert_many
# --------------------------------------------------------------------------------------------
def test_upsert_many_bounded_concurrency(sb: Sandbox) -> None:
    # the first 4 requests are held until 4 are in flight together: concurrency 4 is proven
    # without timing (a client sending one at a time would leave max_in_flight at 1)
    sb.set_faults(latency_ms=5, gather=4)
    items = [(i, Contact(f"user{i}@example.com", None, ((1, f"U{i}"),))) for i in range(200)]
    results: dict[int, UpsertResult] = {}
    threads: set[str] = set()

    def on_result(key: int, result: UpsertResult) -> None:
        assert key not in results
        results[key] = result
        threads.add(threading.current_thread().name)

    with InwiseClient(sb.base_url, KEY, pool_size=4, policy=FAST) as client:
        client.upsert_many(iter(items), SendOptions(), concurrency=4, on_result=on_result)
        assert client.calls["POST /contacts"] == 200
    assert threads == {threading.current_thread().name}  # called in the caller's thread
    assert sorted(results) == list(range(200))
    assert all(r.status == "ok" for r in results.values())
    stats = sb.stats()
    assert stats["max_in_flight"] == 4
    stored = by_email(sb)
    assert len(stored) == 200
    assert {results[i].contact_id for i in range(200)} == {c["id"] for c in stored.values()}


def test_upsert_many_counts_answers_not_yet_kept_against_its_window(sb: Sandbox) -> None:
    """With a group commit (``backlog``) the caller keeps answers after ``on_result``: a request
    goes out only while requests unanswered plus answers not yet kept are fewer than
    2 x concurrency, so a kill loses no more answers than when each is kept at once."""
    sb.set_faults(latency_ms=2)
    concurrency, window = 3, 6
    counts = {"taken": 0, "handed": 0, "kept": 0, "waits": 0, "worst": 0}

    class Backlog:  # keeps answers only when the client waits for it (a slow committer)
        def unkept(self) -> int:
            return counts["handed"] - counts["kept"]

        def wait_unkept_below(self, n: int) -> None:
            counts["waits"] += 1
            counts["kept"] = counts["handed"]

    def items():
        for i in range(60):
            counts["worst"] = max(counts["worst"], counts["taken"] - counts["kept"])  # sent, answer not kept
            counts["taken"] += 1
            yield i, Contact(f"kept{i}@example.com", None)

    def on_result(key: int, result: UpsertResult) -> None:
        counts["handed"] += 1

    with InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        client.upsert_many(items(), SendOptions(), concurrency=concurrency, on_result=on_result, backlog=Backlog())
    assert counts["handed"] == 60
    assert counts["worst"] < window  # the one about to be taken makes at most ``window``
    assert counts["waits"] >= 60 // window  # the client waited for the commits, it did not run ahead


def test_upsert_many_under_random_faults_loses_no_row(sb: Sandbox) -> None:
    sb.set_faults(error_rate=0.2, rate_limit_rate=0.1, retry_after_s=0, drop_rate=0.1, seed=1234)
    n = 300
    items = [(f"row{i}", Contact(f"user{i}@example.com", None)) for i in range(n)]
    results: dict[str, list[UpsertResult]] = {}
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=3)) as client:
        client.upsert_many(items, SendOptions(), concurrency=4,
                           on_result=lambda k, r: results.setdefault(k, []).append(r))
        retries = client.retries
    assert sorted(results) == sorted(k for k, _ in items)  # no row missing
    assert all(len(v) == 1 for v in results.values())  # and none reported twice
    statuses = [v[0].status for v in results.values()]
    assert set(statuses) <= {"ok", "error"}
    assert statuses.count("ok") >= n * 0.9  # 40% faults, 4 tries: almost all make it
    assert retries > 50  # the faults really happened and were retried
    stored = sb.contacts()
    emails = [c["email"] for c in stored]
    assert len(emails) == len(set(emails))  # no duplicate contacts
    ok_ids = {v[0].contact_id for v in results.values() if v[0].status == "ok"}
    assert ok_ids <= {c["id"] for c in stored}
    assert len(stored) == statuses.count("ok")  # random faults never process the request


def test_upsert_many_stops_on_auth_error(sb: Sandbox) -> None:
    consumed = 0

    def items() -> Iterator[tuple[int, Contact]]:
        nonlocal consumed
        for i in range(1000):
            consumed += 1
            yield i, Contact(f"user{i}@example.com", None)

    seen: list[int] = []
    with InwiseClient(sb.base_url, WRONG_KEY, policy=FAST) as client:
        with pytest.raises(InwiseAuthError) as caught:
            client.upsert_many(items(), SendOptions(), concurrency=3, on_result=lambda k, r: seen.append(k))
    assert WRONG_KEY not in str(caught.value)
    assert consumed <= 2 * 3 + 1  # the in-flight window, not the 1000 rows
    assert sb.stats()["total"] <= 2 * 3
    assert seen == []


def test_upsert_many_cancel_reports_what_was_on_the_wire_and_starts_nothing_new(sb: Sandbox) -> None:
    sb.set_faults(latency_ms=20)
    items = [(i, Contact(f"user{i}@example.com", None)) for i in range(200)]
    cancel = threading.Event()
    results: dict[int, UpsertResult] = {}

    def on_result(key: int, result: UpsertResult) -> None:
        results[key] = result
        if len(results) == 10:
            cancel.set()

    with InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        client.upsert_many(items, SendOptions(), concurrency=4, on_result=on_result, cancel=cancel)
    assert 10 <= len(results) < 200
    # Every request inwise received was reported, and no other.
    assert sb.stats()["total"] == len(results) == len(sb.contacts())
    assert {c["email"] for c in sb.contacts()} == {f"user{i}@example.com" for i in results}
    assert all(r.status == "ok" for r in results.values())


def test_upsert_many_with_cancel_already_set_sends_nothing(sb: Sandbox) -> None:
    cancel = threading.Event()
    cancel.set()
    seen: list[int] = []
    with InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        client.upsert_many([(1, Contact("a@example.com", None))], SendOptions(), concurrency=2,
                           on_result=lambda k, r: seen.append(k), cancel=cancel)
    assert seen == [] and sb.stats()["total"] == 0


def test_upsert_many_reports_conflicts_and_rejections_per_row(sb: Sandbox) -> None:
    [owner] = sb.add_contacts([{"mobile_number": "972541111111"}])
    sb.add_contacts([{"email": "taken@example.com"}])
    items = [
        ("good", Contact("good@example.com", None)),
        ("bad", Contact("bad-email", None)),
        ("clash", Contact("taken@example.com", "972541111111")),
    ]
    results: dict[str, UpsertResult] = {}
    with InwiseClient(sb.base_url, KEY, policy=FAST) as client:
        client.upsert_many(items, SendOptions(), concurrency=2, on_result=results.__setitem__)
    assert results["good"].status == "ok"
    assert results["bad"].status == "rejected"
    assert results["clash"].status == "conflict" and results["clash"].conflict["mobile"] == owner


# --------------------------------------------------------------------------------------------
# batchInsert
# --------------------------------------------------------------------------------------------
TRICKY = [
    Contact("dana@example.co.il", "972541111111", ((1, "דנה"), (2, "לוי, כהן"))),
    Contact("quote@example.com", None, ((1, 'Say "hi"'), (21, "12/06/1980"))),
    Contact(None, "972547654321", ((2, "line one\nline two"),)),
    Contact("plain@example.com", None),
]


def test_build_batch_csv_round_trips() -> None:
    text = build_batch_csv(TRICKY, [1, 2, 21])
    assert text.endswith("\n") and "\r" not in text  # lines end with \n, not \r\n
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Email", "Mobile", "Field1", "Field2", "Field21"]
    assert rows[1:] == [
        ["dana@example.co.il", "972541111111", "דנה", "לוי, כהן", ""],
        ["quote@example.com", "", 'Say "hi"', "", "12/06/1980"],
        ["", "972547654321", "", "line one\nline two", ""],
        ["plain@example.com", "", "", "", ""],
    ]
    assert batch_fields_mapping([1, 2, 21]) == [
        {"field_name": "[Email]", "file_column_name": "Email"},
        {"field_name": "[MobileNumber]", "file_column_name": "Mobile"},
        {"field_name": "1", "file_column_name": "Field1"},
        {"field_name": "2", "file_column_name": "Field2"},
        {"field_name": "21", "file_column_name": "Field21"},
    ]
    with pytest.raises(ValueError, match=r"\[21\]"):
        build_batch_csv(TRICKY, [1, 2])  # a field would be dropped silently


def test_batch_insert_lands_tricky_values(sb: Sandbox, client: InwiseClient) -> None:
    [existing] = sb.add_contacts([{"email": "plain@example.com", "fields": [{"name": "field1", "content": "Old"}]}])
    result = client.batch_insert(TRICKY, SendOptions(), field_numbers=[1, 2, 21], group_id=715983)
    assert result.ok and result.http_status == 200
    assert result.body == {"total": 4, "created": 3, "updated": 1, "failed": 0, "skipped": 0}
    assert client.calls["POST /contacts/batchInsert"] == 1
    stored = {c["email"] or c["mobile_number"]: c for c in sb.contacts()}
    assert fields_of(stored["dana@example.co.il"]) == {"field1": "דנה", "field2": "לוי, כהן"}
    assert stored["dana@example.co.il"]["mobile_number"] == "972541111111"
    assert fields_of(stored["quote@example.com"]) == {"field1": 'Say "hi"', "field21": "12/06/1980"}
    assert fields_of(stored["972547654321"]) == {"field2": "line one\nline two"}
    assert stored["plain@example.com"]["id"] == existing
    assert all(c["groups"] == [715983] for c in stored.values())


def test_batch_insert_retries_and_failures(sb: Sandbox) -> None:
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=2)) as client:
        sb.fail_next(1, drop=True, after_processing=True)
        ok = client.batch_insert(TRICKY[:2], SendOptions(), field_numbers=[1, 2, 21], group_id=None)
        assert ok.ok and client.retries == 1
        assert len(sb.contacts()) == 2  # the retry updated, it did not duplicate

        sb.fail_next(3, status=502)
        failed = client.batch_insert(TRICKY[:1], SendOptions(), field_numbers=[1, 2], group_id=None)
        assert not failed.ok and failed.http_status == 502
        assert failed.message == "inwise did not answer after 3 tries (HTTP 502 Bad Gateway)"

        refused = client.batch_insert([Contact("bad-email", None)], SendOptions(), field_numbers=[], group_id=None)
        assert refused.ok  # the sandbox counts a bad row as failed inside a 200
        assert refused.body is not None and refused.body["failed"] == 1
    with InwiseClient(sb.base_url, WRONG_KEY, policy=FAST) as bad:
        with pytest.raises(InwiseAuthError):
            bad.batch_insert(TRICKY, SendOptions(), field_numbers=[1, 2, 21], group_id=None)


# --------------------------------------------------------------------------------------------
# GET /contacts: the once-only feed
# --------------------------------------------------------------------------------------------
def _create_via_api(client: InwiseClient, n: int) -> None:
    contacts = [Contact(f"new{i}@example.com", None, ((1, f"N{i}"),)) for i in range(n)]
    assert client.batch_insert(contacts, SendOptions(), field_numbers=[1], group_id=None).ok


def test_pull_new_contacts_drains_the_feed_page_by_page(sb: Sandbox, client: InwiseClient) -> None:
    sb.add_contacts([{"email": "old@example.com"}])  # existing: never in the feed
    _create_via_api(client, 2500)
    pages = client.pull_new_contacts()
    first = next(pages)
    assert len(first) == FEED_PAGE_SIZE
    assert client.calls["GET /contacts"] == 1  # yielded before the next page was asked for
    rest = list(pages)
    sizes = [len(first)] + [len(p) for p in rest]
    assert sizes == [1000, 1000, 500]
    assert client.calls["GET /contacts"] == 3
    emails = {c["email"] for page in [first, *rest] for c in page}
    assert emails == {f"new{i}@example.com" for i in range(2500)}
    assert {"name": "field1", "content": "N0"} in next(c for c in first + rest[0] + rest[1]
                                                         if c["email"] == "new0@example.com")["fields"]
    # Drained: the next pull gets one empty page.
    assert list(client.pull_new_contacts()) == [[]]
    assert client.calls["GET /contacts"] == 4


def test_pull_page_failing_after_retries_raises(sb: Sandbox) -> None:
    with InwiseClient(sb.base_url, KEY, policy=fast(retries=2)) as client:
        _create_via_api(client, 1200)
        pages = client.pull_new_contacts()
        assert len(next(pages)) == 1000
        sb.fail_next(5, status=503, path="/contacts", method="GET")
        with pytest.raises(InwiseError) as caught:
            next(pages)
    message = str(caught.value)
    assert "GET /contacts" in message and "after 3 tries (HTTP 503 Service Unavailable)" in message
    assert KEY not in message
    assert requests_to(sb, "GET /contacts") == {"200": 1, "503": 3}
    assert sb.feed_pending() == 200  # nothing was taken from the feed by the failed page


def test_pull_with_wrong_key_raises_auth_error(sb: Sandbox) -> None:
    with InwiseClient(sb.base_url, WRONG_KEY, policy=FAST) as client:
        with pytest.raises(InwiseAuthError):
            next(client.pull_new_contacts())


def test_pull_answer_lost_after_processing_is_counted(sb: Sandbox, client: InwiseClient) -> None:
    _create_via_api(client, 10)
    sb.fail_next(1, drop=True, after_processing=True, method="GET")
    assert list(client.pull_new_contacts()) == [[]]  # the lost page is gone from the feed
    assert client.feed_answers_maybe_lost == 1
    assert client.retries == 1


def test_pull_stops_before_the_next_page_once_cancelled(sb: Sandbox, client: InwiseClient) -> None:
    _create_via_api(client, 2500)
    cancel = threading.Event()
    pages = client.pull_new_contacts(cancel=cancel)
    assert len(next(pages)) == FEED_PAGE_SIZE
    cancel.set()
    assert list(pages) == []
    assert client.calls["GET /contacts"] == 1 and sb.feed_pending() == 1500


def test_pull_cancelled_while_a_page_arrives_completes_that_page(sb: Sandbox, client: InwiseClient) -> None:
    _create_via_api(client, 1500)
    sb.set_faults(feed_pause_ms=300)
    cancel = threading.Event()
    received: list[list[dict[str, Any]]] = []
    puller = threading.Thread(target=lambda: received.extend(client.pull_new_contacts(cancel=cancel)))
    puller.start()
    assert sb.wait_for_paused_feed_answer(timeout=10)  # headers and half the page are on the wire
    cancel.set()
    puller.join(10)
    assert not puller.is_alive()
    assert [len(page) for page in received] == [FEED_PAGE_SIZE]
    assert client.calls["GET /contacts"] == 1 and sb.feed_pending() == 500


def test_foreign_numbers_never_get_the_default_country_code(sb: Sandbox, client: InwiseClient) -> None:
    """inwise cannot tell 15046218927 already has a country code: no local-number flags with it."""
    opts = SendOptions(default_country_code="972")
    body = contact_body(Contact(None, "15046218927"), opts)
    assert body["mobile_number"] == "15046218927"
    assert "mobile_number_default_country_code" not in body
    assert "add_default_country_to_mobile_number_only_if_not_exists" not in body
    assert contact_body(Contact(None, "972541111111"), opts)["mobile_number_default_country_code"] == "972"
    for number in ("15046218927", "447911123456", "972541111111"):
        assert client.upsert(Contact(None, number), opts).status == "ok"
    assert sorted(c["mobile_number"] for c in sb.contacts()) == ["15046218927", "447911123456", "972541111111"]
    mixed = batch_body([Contact(None, "447911123456")], opts, field_numbers=[], group_id=None)
    assert "country_code" not in mixed and "trim_leading_zero" not in mixed
    home = batch_body([Contact(None, "972541111112")], opts, field_numbers=[], group_id=None)
    assert home["country_code"] == "972" and home["trim_leading_zero"] is True


# --------------------------------------------------------------------------------------------
# Closer to the real inwise: refused keys, odd answers, a wrong address
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@pytest.mark.parametrize("text", [KEY_INVALID_TEXT, KEY_MISSING_TEXT])
def test_any_4xx_naming_the_api_key_stops_the_run(sb: Sandbox, client: InwiseClient, status: int, text: str) -> None:
    for call in (lambda: client.upsert(Contact("a@example.com", None), SendOptions()),
                 lambda: client.batch_insert(TRICKY[:1], SendOptions(), field_numbers=[1, 2], group_id=None),
                 lambda: next(client.pull_new_contacts())):
        sb.fail_next(1, status=status, message=text)
        with pytest.raises(InwiseAuthError) as caught:
            call()
        assert f"inwise refused the API key (HTTP {status}: {text})" in str(caught.value)
        assert "INWISE_API_KEY" in str(caught.value)


def test_rest_access_not_enabled_says_inwise_support_turns_it_on(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, status=401, message=REST_NOT_ENABLED_TEXT)
    with pytest.raises(InwiseAuthError) as caught:
        client.upsert_many([(1, Contact("a@example.com", None))], SendOptions(), concurrency=1,
                           on_result=lambda k, r: None)
    message = str(caught.value)
    assert "REST API" in message and "inwise support" in message and REST_NOT_ENABLED_TEXT in message
    assert "refused the API key" not in message


def test_a_4xx_that_does_not_name_the_key_stays_a_row_problem(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, status=400, message="Invalid value for field21.")
    result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "rejected" and result.message == "Invalid value for field21."


def test_batch_sends_domestic_numbers_in_their_local_form_as_documented(sb: Sandbox, client: InwiseClient) -> None:
    options = SendOptions(default_country_code="972", trim_leading_zero=False)
    home = [Contact("a@example.com", "972541111111"), Contact(None, "972521234567"), Contact("b@example.com", None)]
    body = batch_body(home, options, field_numbers=[], group_id=None)
    rows = list(csv.reader(io.StringIO(body["csv_file"], newline="")))
    assert rows == [["Email", "Mobile"], ["a@example.com", "0541111111"], ["", "0521234567"], ["b@example.com", ""]]
    assert body["country_code"] == "972" and body["trim_leading_zero"] is True  # the zero is a trunk prefix
    abroad = batch_body([Contact(None, "15046218927")], options, field_numbers=[], group_id=None)
    assert list(csv.reader(io.StringIO(abroad["csv_file"])))[1] == ["", "15046218927"]
    assert "country_code" not in abroad and "trim_leading_zero" not in abroad
    # The sandbox puts the code in front blindly, as batchInsert may: still stored once.
    assert client.batch_insert(home, options, field_numbers=[], group_id=None).ok
    assert client.batch_insert([Contact(None, "15046218927")], options, field_numbers=[], group_id=None).ok
    assert sorted(c["mobile_number"] for c in sb.contacts() if c["mobile_number"]) == [
        "15046218927", "972521234567", "972541111111"]


@pytest.mark.parametrize(("mobile", "code", "local"), [
    ("972541111111", "972", "0541111111"),   # trunk 0
    ("447911123456", "44", "07911123456"),
    ("15046218927", "1", "5046218927"),      # no trunk prefix: inwise only puts 1 in front
    ("0541111111", "972", "0541111111"),     # already local
    ("15046218927", "972", None),            # another country
    ("393123456789", "39", "3123456789"),    # Italian mobiles have no trunk zero
    ("79123456789", "7", None),              # Russia dials 8 first: not a form inwise can undo
])
def test_local_mobile(mobile: str, code: str, local: str | None) -> None:
    assert local_mobile(mobile, code) == local
    assert is_domestic(Contact(None, mobile), SendOptions(default_country_code=code)) is (local is not None)


class _Canned(BaseHTTPRequestHandler):
    """Answers every request with the next canned (status, body) of its method and path."""

    answers: dict[str, list[tuple[int, str]]] = {}

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        queue = self.answers.get(f"{self.command} {self.path}") or [(404, "{}")]
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 - http.server naming

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def canned() -> Iterator[tuple[str, dict[str, list[tuple[int, str]]]]]:
    """(base_url, answers): set ``answers["POST /rest/v1/contacts"] = [(200, "{}")]``."""
    answers: dict[str, list[tuple[int, str]]] = {}
    handler = type("Canned", (_Canned,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rest/v1", answers
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("body", ["{}", '{"ok": true}', "", '{"id": 0}', '"done"', "OK"])
def test_a_200_without_a_readable_id_means_applied(canned: tuple[str, dict[str, Any]], body: str) -> None:
    base_url, answers = canned
    answers["POST /rest/v1/contacts"] = [(200, body)]
    with InwiseClient(base_url, KEY, policy=FAST) as client:
        result = client.upsert(Contact("a@example.com", None), SendOptions())
    assert result.status == "ok" and result.contact_id is None and result.http_status == 200
    assert result.message == NO_ID_MESSAGE


@pytest.mark.parametrize(("body", "said"), [
    ("<!doctype html><html><head><title>Sign in</title></head><body>…</body></html>", "a web page (HTML, titled 'Sign in')"),
    ('{"id": 4391', "JSON that was cut short or broken"),
    ("<html><body>Service maintenance</body>", "a web page (HTML)"),
])
def test_a_2xx_that_is_not_inwise_json_is_never_applied(canned: tuple[str, dict[str, Any]], body: str, said: str) -> None:
    base_url, answers = canned
    answers["POST /rest/v1/contacts"] = [(200, body)]
    answers["POST /rest/v1/contacts/batchInsert"] = [(200, body)]
    answers["GET /rest/v1/contacts"] = [(200, body)]
    with InwiseClient(base_url, KEY, policy=FAST) as client:
        with pytest.raises(InwiseAddressError) as e:
            client.upsert(Contact("a@example.com", None), SendOptions())
        assert said in str(e.value) and "https://api.inwise.com/rest/v1" in str(e.value)
        with pytest.raises(InwiseAddressError):
            client.batch_insert([Contact("a@example.com", None)], SendOptions(), field_numbers=[], group_id=None)
        with pytest.raises(InwiseAddressError) as e:
            next(client.pull_new_contacts())
        assert said in str(e.value) and "nothing was read from inwise's list of new contacts" in str(e.value)


def test_feed_items_of_other_shapes_and_without_id_are_kept(canned: tuple[str, dict[str, Any]]) -> None:
    base_url, answers = canned
    items = [
        {"Id": "77", "Email": "a@example.com", "MobileNumber": "972-50-1234567", "field1": "Dana",
         "CreatedDate": "11/28/2026 14:05:09"},
        {"email": "no-id@example.com", "fields": {"field2": "Levi"}, "created_date": "2026-11-28T10:00:00Z"},
    ]
    answers["GET /rest/v1/contacts"] = [(200, json.dumps({"Contacts": items}))]
    with InwiseClient(base_url, KEY, policy=FAST) as client:
        [page] = list(client.pull_new_contacts())
        assert client.feed_items_without_id == 1
    assert page == [
        {"id": 77, "email": "a@example.com", "mobile_number": "972501234567",
         "fields": [{"name": "field1", "content": "Dana"}], "created_date": "2026-11-28T14:05:09"},
        {"id": None, "email": "no-id@example.com", "mobile_number": None,
         "fields": [{"name": "field2", "content": "Levi"}], "created_date": "2026-11-28T10:00:00Z"},
    ]
    assert page.without_id == [page[1]]
    assert json.loads(page.raw_body) == {"Contacts": items}


def test_a_wrong_api_address_stops_the_run_after_the_first_answers(sb: Sandbox) -> None:
    consumed = 0

    def items() -> Iterator[tuple[int, Contact]]:
        nonlocal consumed
        for i in range(500):
            consumed += 1
            yield i, Contact(f"user{i}@example.com", None)

    wrong = sb.base_url.replace("/rest/v1", "/rest/v2")
    with InwiseClient(wrong, KEY, policy=FAST) as client:
        with pytest.raises(InwiseAddressError) as caught:
            client.upsert_many(items(), SendOptions(), concurrency=2, on_result=lambda k, r: None)
        message = str(caught.value)
        assert "404" in message and wrong in message and "https://api.inwise.com/rest/v1" in message
        assert "inwise.base_url" in message
        assert consumed <= 2 * 2 + 3
        with pytest.raises(InwiseAddressError):
            next(client.pull_new_contacts())  # the feed: its first such answer is enough
    with InwiseClient(wrong, KEY, policy=FAST) as client:
        with pytest.raises(InwiseAddressError):
            client.batch_insert(TRICKY[:1], SendOptions(), field_numbers=[1, 2], group_id=None)
    with InwiseClient(wrong, KEY, policy=FAST) as client:  # fewer rows than it takes to be sure
        with pytest.raises(InwiseAddressError):
            client.upsert_many([(1, Contact("a@example.com", None))], SendOptions(), concurrency=1,
                               on_result=lambda k, r: None)
    assert sb.contacts() == []


def test_once_the_address_has_answered_a_404_is_a_row_problem(sb: Sandbox, client: InwiseClient) -> None:
    assert client.upsert(Contact("a@example.com", None), SendOptions()).status == "ok"
    sb.fail_next(5, status=405, path="/contacts", method="POST", message="Method not allowed here.")
    results = [client.upsert(Contact(f"b{i}@example.com", None), SendOptions()) for i in range(5)]
    assert {r.status for r in results} == {"rejected"}


def test_405_answers_first_stop_the_run(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(3, status=405, path="/contacts", method="POST")
    with pytest.raises(InwiseAddressError):
        client.upsert_many([(i, Contact(f"u{i}@example.com", None)) for i in range(3)], SendOptions(),
                           concurrency=1, on_result=lambda k, r: None)


def test_a_batch_too_large_is_not_taken_for_a_wrong_address(sb: Sandbox, client: InwiseClient) -> None:
    sb.fail_next(1, status=413, path="/contacts/batchInsert")
    result = client.batch_insert(TRICKY[:1], SendOptions(), field_numbers=[1, 2], group_id=None)
    assert not result.ok and "batch_size" in (result.message or "")


def test_a_row_sent_without_an_id_says_so() -> None:
    outcome = from_upsert(RowRef(2, None), UpsertResult("ok", http_status=200, message=NO_ID_MESSAGE))
    assert outcome.ok and outcome.contact_id is None
    assert outcome.status("28 Nov 2026 14:47") == "✓ sent · 28 Nov 2026 14:47 · inwise gave no contact id"
    with_id = from_upsert(RowRef(3, None), UpsertResult("ok", contact_id=7, http_status=200))
    assert with_id.status("28 Nov 2026 14:47") == "✓ updated · #7 · 28 Nov 2026 14:47"
    assert with_id.status("28 בנוב׳ 2026 14:47", "he") == "\u200f✓ עודכן\u200f · \u200f#7\u200f · \u200f28 בנוב׳ 2026 14:47"


@pytest.mark.parametrize(("raw", "iso"), [
    ("11/28/2026 14:05:09", "2026-11-28T14:05:09"),   # inwise's webhooks: month first
    ("28/11/2026 14:05:09", "2026-11-28T14:05:09"),   # the first number cannot be a month
    ("2026-11-28T14:05:09Z", "2026-11-28T14:05:09Z"),
    ("/Date(1764338709000)/", "2025-11-28T14:05:09Z"),
    ("yesterday", "yesterday"),                        # unreadable: kept as it came
    ("", None),
])
def test_feed_created_dates(raw: str, iso: str | None) -> None:
    assert feed_contact({"id": 1, "created_date": raw})["created_date"] == iso
