"""`sheets-connector probe` and its recordings: the client's parsers read every recording under
tests/recordings/ (made by the probe against the sandbox, or written by hand for the shapes
inwise might use), so a recording made with a real key drops straight in."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sheets_connector.cli import main
from sheets_connector.errors import ConfigError, InwiseAuthError
from sheets_connector.inwise import InwiseClient
from sheets_connector.inwise import probe as p
from sheets_connector.model import Contact, SendOptions
from sheets_connector.retry import RetryPolicy
from sheets_connector.sandbox import Sandbox

RECORDINGS = sorted((Path(__file__).parent / "recordings").glob("*.json"))
KEY = "probe-test-key-0123456789"
NO_RETRIES = RetryPolicy(retries=0, connect_timeout=2, read_timeout=5)


def test_there_are_recordings_of_each_kind() -> None:
    assert {r.name for r in RECORDINGS} >= {"sandbox.json", "aspnet-shapes.json", "odd-shapes.json"}


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda r: r.name)
def test_each_recorded_answer_is_read_as_expected(path: Path) -> None:
    recording = p.load(path)
    readings = {}
    for entry in recording["steps"]:
        reading = p.read(entry)
        readings[entry["step"]] = reading
        for name, wanted in entry.get("expect", {}).items():
            assert getattr(reading, name) == wanted, (entry["step"], name)
    # What every recording must show, whatever inwise's exact shapes are:
    assert readings["wrong key"].refusal in ("key", "rest") and readings["no key"].refusal in ("key", "rest")
    assert set(readings["conflict"].conflict) == {"email", "mobile"}
    mine = recording["test_contacts"]
    for contact in readings["feed"].contacts or []:
        assert set(contact) >= {"id", "email", "mobile_number", "fields", "created_date"}
        assert contact["mobile_number"] is None or contact["mobile_number"].isdigit()
        ours = contact["email"] == mine["email"] or contact["mobile_number"] == mine["mobile"]
        if ours and contact["created_date"] is not None:  # masked contacts keep only the date's form
            datetime.fromisoformat(contact["created_date"].replace("Z", "+00:00"))
    assert len(p.findings(recording)) == len(recording["steps"])


class _Replay(BaseHTTPRequestHandler):
    """Answers each request with the next recorded answer for its method, path and key."""

    queues: dict[tuple[str, str, str], list[dict[str, Any]]] = {}

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("X-API-Key")
        kind = "none" if not key else "wrong" if key == p.WRONG_KEY else "account"
        path = self.path.split("/rest/v1", 1)[-1]
        answer = self.queues[(self.command, path, kind)].pop(0)
        data = answer["body"].encode()
        self.send_response(answer["status"])
        self.send_header("Content-Type", answer.get("headers", {}).get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 - http.server naming

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def replay() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(recording: dict[str, Any]) -> str:
        queues: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for entry in recording["steps"]:
            request = entry["request"]
            queues.setdefault((request["method"], request["path"], entry["key"]), []).append(entry["response"])
        server = ThreadingHTTPServer(("127.0.0.1", 0), type("Replay", (_Replay,), {"queues": queues}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/rest/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda r: r.name)
def test_the_client_makes_of_each_recording_what_its_parsers_read(path: Path, replay: Any) -> None:
    recording = p.load(path)
    readings = {e["step"]: p.read(e) for e in recording["steps"]}
    base_url = replay(recording)
    with InwiseClient(base_url, KEY, policy=NO_RETRIES) as client:
        for step in ("create", "update", "conflict"):  # the POST /contacts answers, in order
            result = client.upsert(Contact("probe.test@example.com", None), SendOptions())
            reading = readings[step]
            if reading.status is not None and 200 <= reading.status < 300:
                assert result.status == "ok" and result.contact_id == reading.contact_id
            elif reading.status == 422:
                assert result.status == "conflict" and result.conflict == reading.conflict
        batch = client.batch_insert([Contact("probe.test@example.com", None)], SendOptions(), field_numbers=[],
                                    group_id=None)
        assert batch.ok == (200 <= (readings["batch"].status or 0) < 300)
        for step in ("feed", "feed again"):
            [page] = list(client.pull_new_contacts(max_pages=1))
            assert list(page) == readings[step].contacts and len(page.without_id) == readings[step].without_id
    with InwiseClient(base_url, p.WRONG_KEY, policy=NO_RETRIES) as wrong:
        with pytest.raises(InwiseAuthError):
            next(wrong.pull_new_contacts())


def test_the_probe_against_the_sandbox_records_every_answer_without_the_key(tmp_path: Path) -> None:
    with Sandbox(api_keys=(KEY,)) as sb:
        target = p.target("probe.test@example.com", "054-1234567", "IL")
        recording = p.run(sb.base_url, KEY, p.plan(target), target,
                          now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc))
        stored = {c["email"] or c["mobile_number"]: c for c in sb.contacts()}
    assert [s["response"]["status"] for s in recording["steps"]] == [200] * 8 + [401, 401, 422]
    assert set(stored) == {"probe.test@example.com", "972541234567"}  # the batch mobile stored once
    path = p.save(recording, tmp_path / "probe.json")
    assert KEY not in path.read_text(encoding="utf-8")
    assert p.load(path) == recording
    lines = p.findings(recording)
    assert lines[0].startswith("create: HTTP 200: contact id ")
    # the batch's status (an assumed key) was taken: the email contact was 'unconfirmed' before it
    assert ("feed: HTTP 200: 2 contact(s), 2 of them the probe's; confirmation status 972541234567: 'confirmed', "
            "probe.test@example.com: 'confirmed'") in lines
    assert "other status: HTTP 200: 'unconfirmed' accepted" in lines
    assert "after no groups: HTTP 200: the same id: a contact left in no group stays in the account" in lines
    assert not any("twice" in line for line in lines)


def test_contacts_that_are_not_the_probes_are_masked_in_the_recording() -> None:
    with Sandbox(api_keys=(KEY,)) as sb:
        InwiseClient(sb.base_url, KEY, policy=NO_RETRIES).upsert(
            Contact("dana.private@example.org", "972529876543", ((1, "Dana"),)), SendOptions())
        target = p.target("probe.test@example.com", "0541234567", "IL")
        recording = p.run(sb.base_url, KEY, p.plan(target), target)
    feed = next(s for s in recording["steps"] if s["step"] == "feed")
    body = feed["response"]["body"]
    assert feed["response"]["masked_items"] == 1
    assert "dana.private" not in body and "Dana" not in body and "972529876543" not in body
    masked = next(c for c in json.loads(body) if c["email"] != "probe.test@example.com" and c["email"])
    assert masked["email"] == "aaaa.aaaaaaa@aaaaaaa.aaa" and masked["mobile_number"] == "999999999999"
    assert masked["fields"] == [{"name": "field1", "content": "aaaa"}]


def test_unusable_test_contacts_are_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="--email"):
        p.target("not-an-email", "0541234567")
    with pytest.raises(ConfigError, match="--mobile"):
        p.target("a@example.com", "12345")


def test_probe_command_asks_before_changing_anything(tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    args = ["probe", "--email", "probe.test@example.com", "--mobile", "054-1234567", "--out", str(out)]
    with Sandbox(api_keys=(KEY,)) as sb:
        runner = CliRunner()
        declined = runner.invoke(main, [*args, "--base-url", sb.base_url], input="n\n", env={"INWISE_API_KEY": KEY})
        assert declined.exit_code == 0, declined.output
        assert "create (or update) a contact with the email probe.test@example.com" in declined.output
        assert "Nothing was sent." in declined.output
        assert sb.stats()["total"] == 0 and not out.exists()

        done = runner.invoke(main, [*args, "--base-url", sb.base_url], input="y\n", env={"INWISE_API_KEY": KEY})
        assert done.exit_code == 0, done.output
        assert sb.stats()["total"] == 11
    assert "conflict: HTTP 422: contacts" in done.output and f"Recording written to {out}" in done.output
    assert KEY not in out.read_text(encoding="utf-8") and KEY not in done.output
