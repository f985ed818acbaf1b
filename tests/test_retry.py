"""The one retry policy: from the mapping to one urllib3 Retry mounted on a session."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests
from conftest import SANDBOX_API_KEY

from sheets_connector.config import load_config, parse_config
from sheets_connector.errors import ConfigError
from sheets_connector.retry import RETRY_STATUSES, RetryPolicy, build_retry, mount_retry
from sheets_connector.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """\
source: {type: xlsx, path: contacts.xlsx}
columns: {email: Email}
"""


def test_defaults_are_todays_values() -> None:
    policy = parse_config(MINIMAL).inwise.retry_policy()
    assert policy == RetryPolicy(retries=5, backoff_factor=0.5, backoff_max=30, retry_after_max=60,
                                 connect_timeout=10, read_timeout=60)
    assert policy.timeout == (10, 60)


def test_the_mapping_sets_every_knob() -> None:
    cfg = parse_config(MINIMAL + """\
inwise:
  retries: 2
  timeout_seconds: 15
  retry: {backoff_factor: 0.01, backoff_max: 0.05, retry_after_max: 3, connect_timeout: 4}
""")
    assert cfg.inwise.retry_policy() == RetryPolicy(retries=2, read_timeout=15, backoff_factor=0.01,
                                                    backoff_max=0.05, retry_after_max=3, connect_timeout=4)


def test_the_example_mapping_documents_the_retry_block() -> None:
    example = (ROOT / "mapping.example.yaml").read_text(encoding="utf-8")
    assert "  retry:" in example and "retry_after_max:" in example
    assert load_config(ROOT / "mapping.example.yaml").inwise.retry_policy() == RetryPolicy()


@pytest.mark.parametrize(("block", "words"), [
    ("{backoff_factor: -1}", "backoff_factor"),
    ("{retry_after_max: 0.5}", "retry_after_max"),
    ("{connect_timout: 3}", "connect_timout"),
])
def test_a_wrong_retry_setting_names_its_key_and_line(block: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + f"inwise:\n  retry: {block}\n", where="mapping.yaml")
    message = str(caught.value)
    assert words in message and "line 4" in message


def test_build_retry_carries_the_policy() -> None:
    retry = build_retry(RetryPolicy(retries=3, backoff_factor=0.25, backoff_max=2, retry_after_max=7))
    assert (retry.total, retry.connect, retry.read, retry.status, retry.redirect) == (3, 3, 3, 3, 0)
    assert retry.backoff_factor == 0.25 and retry.backoff_max == 2 and retry.backoff_jitter == 0.25
    assert retry.status_forcelist == RETRY_STATUSES
    assert retry.allowed_methods is None  # POST too: inwise's writes are matched, not duplicated
    assert retry.parse_retry_after("3600") == 7 and retry.parse_retry_after("2") == 2
    # The cap survives urllib3 copying the Retry after each try.
    assert retry.new(total=1).retry_after_max == 7
    only_get = build_retry(RetryPolicy(), allowed_methods=["get"])
    assert only_get.allowed_methods == frozenset({"GET"})


def test_mount_retry_puts_one_adapter_on_both_schemes() -> None:
    with requests.Session() as session:
        adapter = mount_retry(session, RetryPolicy(retries=1), pool_maxsize=3)
        assert session.get_adapter("https://api.inwise.com/rest/v1") is adapter
        assert session.get_adapter("http://127.0.0.1:1/rest/v1") is adapter
        assert adapter.max_retries.total == 1


def test_a_request_that_must_not_be_repeated_is_retried_only_when_surely_not_applied(sandbox: Sandbox) -> None:
    calls: list[Exception | None] = []
    with requests.Session() as session:
        mount_retry(session, RetryPolicy(retries=3, backoff_factor=0.01), on_retry=calls.append,
                    not_idempotent=lambda method, url: method == "POST")
        session.headers["X-API-Key"] = SANDBOX_API_KEY

        def post() -> requests.Response:
            return session.post(sandbox.base_url + "/contacts", json={"email": "a@example.com"}, timeout=10)

        sandbox.fail_next(1, status=503)  # may have been applied: given back as it is
        assert post().status_code == 503 and calls == []
        sandbox.fail_next(1, status=429, retry_after=0)  # refused before any work: repeated
        assert post().status_code == 200 and len(calls) == 1
        sandbox.fail_next(1, drop=True)  # sent, then cut: not repeated
        with pytest.raises(requests.ConnectionError):
            post()
        assert len(calls) == 1
        sandbox.fail_next(2, status=503, method="GET")  # the others are retried as usual
        assert session.get(sandbox.base_url + "/contacts", timeout=10).status_code == 200
        assert len(calls) == 3
