"""Signing and verifying the sheet menu's requests (the Python side of the Apps Script contract)."""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from service_helpers import registry_for

from sheets_connector.service.runstore import StateRunStore
from sheets_connector.service.signing import (
    SignatureError,
    parse_header,
    sign,
    signed_text_for_get,
    verify,
)

SECRET = b"a-long-webhook-secret-0001"
OLD = b"the-old-webhook-secret-0002"
T = 1_800_000_000
BODY = b'{"spreadsheet_id":"abc","worksheet":"\\u05d0"}'


def test_the_header_is_stripe_style_hmac_of_t_dot_body() -> None:
    expected = hmac.new(SECRET, b"1800000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_good_signature_names_the_secret_that_made_it() -> None:
    v = verify(sign(SECRET, BODY, T), BODY, [OLD, SECRET], now=T)
    assert v.matched == {SECRET} and v.timestamp == T


@pytest.mark.parametrize("header", [
    None, "", "t=1800000000", "v1=" + "0" * 64, "t=abc,v1=" + "0" * 64, "t=1,t=2,v1=" + "0" * 64,
    "garbage", "t=1800000000,v1=zz", "t=1800000000,v1=é" + "0" * 63, "t=1800000000," + "v1=x," * 1000,
    "t=²,v1=" + "0" * 64, "t=1800000000²,v1=" + "0" * 64, "t=١٨٠٠٠٠٠٠٠٠,v1=" + "0" * 64,  # digits int() refuses or reads
])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(header, BODY, [SECRET], now=T)


def test_a_wrong_secret_or_a_changed_body_is_refused() -> None:
    with pytest.raises(SignatureError):
        verify(sign(b"another-secret-000000", BODY, T), BODY, [SECRET], now=T)
    with pytest.raises(SignatureError):
        verify(sign(SECRET, BODY, T), BODY + b" ", [SECRET], now=T)
    with pytest.raises(SignatureError):  # the timestamp is part of what is signed
        verify(sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 1}"), BODY, [SECRET], now=T)


def test_the_timestamp_may_be_300_s_off_and_no_more() -> None:
    for now in (T - 300, T + 300):
        verify(sign(SECRET, BODY, T), BODY, [SECRET], now=now)
    for now in (T - 301, T + 301):
        with pytest.raises(SignatureError, match="tolerance"):
            verify(sign(SECRET, BODY, T), BODY, [SECRET], now=now)


def test_rotation_several_v1_values_and_several_server_secrets() -> None:
    both = sign([OLD, SECRET], BODY, T)
    assert both.count("v1=") == 2
    assert verify(both, BODY, [SECRET], now=T).matched == {SECRET}  # the server already has only the new one
    assert verify(sign(OLD, BODY, T), BODY, [OLD, SECRET], now=T).matched == {OLD}  # the sheet still has the old one
    # an unknown scheme next to a good v1 is ignored, not an error
    assert verify("v0=abc," + sign(SECRET, BODY, T), BODY, [SECRET], now=T).matched == {SECRET}


def test_get_requests_sign_path_and_query() -> None:
    assert signed_text_for_get("/v1/runs/latest", "spreadsheet=abc") == b"/v1/runs/latest?spreadsheet=abc"
    assert signed_text_for_get("/v1/runs/r1", "") == b"/v1/runs/r1"
    text = signed_text_for_get("/v1/runs/r1", "")
    verify(sign(SECRET, text, T), text, [SECRET], now=T)
    with pytest.raises(SignatureError):
        verify(sign(SECRET, text, T), signed_text_for_get("/v1/runs/r2", ""), [SECRET], now=T)


def test_a_replay_is_refused_through_the_guard_but_a_new_timestamp_is_not(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    (tmp_path / "configs").mkdir()
    guard = StateRunStore(registry_for(tmp_path / "configs"), clock=lambda: datetime.fromtimestamp(T, timezone.utc))
    header = sign(SECRET, BODY, T)
    verify(header, BODY, [SECRET], now=T, replay_guard=guard)
    with pytest.raises(SignatureError, match="replay"):
        verify(header, BODY, [SECRET], now=T + 5, replay_guard=guard)
    # with several v1 values, dropping one does not make it a new request
    with pytest.raises(SignatureError, match="replay"):
        verify(sign([SECRET, OLD], BODY, T), BODY, [SECRET], now=T, replay_guard=guard)
    verify(sign(SECRET, BODY, T + 1), BODY, [SECRET], now=T + 1, replay_guard=guard)
    # a bad signature never reaches the guard, so junk cannot fill it
    with pytest.raises(SignatureError, match="no signature"):
        verify(sign(b"junk-secret-0000000", BODY, T + 2), BODY, [SECRET], now=T, replay_guard=guard)
    verify(sign(SECRET, BODY, T + 2), BODY, [SECRET], now=T + 2, replay_guard=guard)


def test_parse_header_keeps_at_most_five_signatures() -> None:
    t, sigs = parse_header("t=5," + ",".join(f"v1={i:064x}" for i in range(9)))
    assert t == 5 and len(sigs) == 5
