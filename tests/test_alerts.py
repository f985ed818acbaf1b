"""Alerts end to end: a run against a failing sandbox -> one email at a real local SMTP server
(aiosmtpd) and one message at a local webhook receiver; repeats summarised; recovery told once;
an alert that cannot be delivered never fails the run."""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from util import make_config, write_workbook

from sheets_connector.config import parse_config
from sheets_connector.errors import ConfigError, InwiseAuthError
from sheets_connector.sync import Collaborators, sync

ENV = {"INWISE_API_KEY": "test-key"}
ROWS = [[f"Person{i}", "Levi", f"person{i}@example.co.il", f"05411111{i:02d}", None] for i in range(20)]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]  # bound to port 0: learn the real one
        super()._trigger_server()


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    controller = _Controller(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-part", received
    finally:
        server.shutdown()
        server.server_close()


def _alerts(port: int, url: str, fmt: str = "slack", extra: str = "") -> str:
    return f"""\
  outage_after: 3
alerts:
  email:
    to: [office@example.co.il]
    from: sheets-connector@example.co.il
    host: 127.0.0.1
    port: {port}
    starttls: false
  webhook: {{format: {fmt}, url: "{url}"}}
{extra}"""


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 6, 7, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def _body(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n").rstrip("\n")


def test_a_scheduled_run_against_a_failing_sandbox_alerts_once_then_summarises_then_says_it_recovered(
        tmp_path, sandbox, smtp, hook):
    port, inbox = smtp
    url, received = hook
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    cfg = make_config(tmp_path, sandbox.base_url, extra=_alerts(port, url))
    clock = Clock()
    sandbox.set_faults(error_rate=1.0)

    s = sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule")
    assert s.outage and len(inbox.messages) == 1 and len(received) == 1
    mail, chat = inbox.messages[0], received[0]["text"]
    (tmp_path / "alert-email.txt").write_text(f"Subject: {mail['Subject']}\n\n{_body(mail)}", encoding="utf-8")
    (tmp_path / "alert-slack.txt").write_text(chat, encoding="utf-8")
    assert inbox.envelopes == [("sheets-connector@example.co.il", ["office@example.co.il"])]
    assert mail["Subject"] == "sheets-connector: contacts.xlsx, sheet 'Contacts' stopped: inwise unavailable"
    text = _body(mail)
    assert f"run #{s.run_id}, started from the schedule at 06/12/2026 07:00" in text
    assert "inwise is unavailable" in text and "not sent" in text and f"runs show {s.run_id}" in text
    assert "What to do: Nothing to fix on your side" in text and text.count("check inwise's status") == 1  # advice once
    assert chat.startswith("*sheets-connector: contacts.xlsx, sheet 'Contacts' stopped: inwise unavailable*\n")
    assert text in chat
    for person in ROWS:  # counts only: no row's contents
        assert person[2] not in text + chat and person[3] not in text + chat and person[0] not in text + chat

    # the schedule runs again every 15 minutes: nothing new is sent while the same trouble lasts
    for _ in range(3):
        clock.now += dt.timedelta(minutes=15)
        assert sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule").outage
    assert len(inbox.messages) == 1 and len(received) == 1

    # a day later: one reminder, saying how many runs went wrong and how many were not told
    clock.now += dt.timedelta(hours=24)
    sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule")
    assert len(inbox.messages) == 2 and len(received) == 2
    reminder = _body(inbox.messages[1])
    assert inbox.messages[1]["Subject"].endswith("still stopped: inwise unavailable")
    assert "5 runs in a row since 06/12/2026 07:00; 3 of them were not told one by one" in reminder

    # inwise is back: one "works again", then quiet
    sandbox.set_faults(error_rate=0.0)
    clock.now += dt.timedelta(minutes=15)
    ok = sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule")
    assert ok.outage is None and len(inbox.messages) == 3 and len(received) == 3
    assert inbox.messages[2]["Subject"] == "sheets-connector: contacts.xlsx, sheet 'Contacts' works again"
    assert "Before it, 5 run(s) in a row stopped: inwise unavailable" in _body(inbox.messages[2])
    clock.now += dt.timedelta(minutes=15)
    sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule")
    assert len(inbox.messages) == 3 and len(received) == 3


def test_a_failed_run_alerts_teams_with_an_adaptive_card(tmp_path, sandbox, smtp, hook):
    port, inbox = smtp
    url, received = hook
    write_workbook(tmp_path / "contacts.xlsx", ROWS[:2])
    cfg = make_config(tmp_path, sandbox.base_url, extra=_alerts(port, url, "teams"))
    with pytest.raises(InwiseAuthError):
        sync(cfg, Collaborators(environ={"INWISE_API_KEY": "wrong-key"}), trigger="menu")
    [card] = received
    attachment = card["attachments"][0]
    assert card["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    blocks = [b["text"] for b in attachment["content"]["body"]]
    assert blocks[0] == "sheets-connector: contacts.xlsx, sheet 'Contacts' failed"
    assert any("started from the sheet's menu" in b for b in blocks)
    assert any(b.startswith("What happened: inwise refused the API key") for b in blocks)
    assert "wrong-key" not in json.dumps(card) and "wrong-key" not in _body(inbox.messages[0])


def test_rows_needing_attention_above_the_threshold_alert(tmp_path, sandbox, smtp, hook):
    port, inbox = smtp
    url, received = hook
    rows = [[f"P{i}", "L", f"bad{i}@@example.com", None, None] for i in range(3)] + ROWS[:2]
    write_workbook(tmp_path / "contacts.xlsx", rows)
    cfg = make_config(tmp_path, sandbox.base_url, extra=_alerts(port, url, "json", "  attention_rows: 3"))
    sync(cfg, Collaborators(environ=ENV))
    [fields] = received
    assert fields["event"] == "problem" and fields["status"] == "attention" and fields["trigger"] == "cli"
    assert fields["counts"]["invalid"] == 3 and fields["counts"]["created"] == 2
    assert "3 need attention (invalid values: 3)" in fields["text"] and "bad0" not in fields["text"]
    assert "started from the command line" in _body(inbox.messages[0])


def test_an_alert_that_cannot_be_delivered_never_fails_the_run(tmp_path, sandbox, launcher):
    write_workbook(tmp_path / "contacts.xlsx", ROWS[:6])
    mapping = tmp_path / "mapping.yaml"
    # nothing listens on port 9 of the loopback; the webhook's URL comes from an unset variable
    mapping.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns: {{email: Email}}
inwise: {{base_url: {sandbox.base_url}, retries: 0, concurrency: 2, outage_after: 2}}
alerts:
  email: {{to: [office@example.co.il], from: a@example.co.il, host: 127.0.0.1, port: 9, starttls: false,
          user: alerts, password_env: ALERT_SMTP_PASSWORD}}
  webhook: {{format: slack, url_env: ALERT_WEBHOOK_URL}}
""", encoding="utf-8")
    sandbox.set_faults(error_rate=1.0)
    child = launcher.start(["sync", "--config", str(mapping), "--json"], cwd=tmp_path, env={**os.environ, **ENV})
    assert launcher.wait(child) == 69  # the run's own exit code, not the alert's
    warnings = json.loads(child.stdout())["warnings"]
    assert any("could not be sent by email through 127.0.0.1:9: the SMTP password is not set" in w for w in warnings)
    assert any("slack webhook at ?: the webhook's address is not set" in w for w in warnings)


@pytest.mark.parametrize(("yaml", "said"), [
    ("alerts: {}", "line 3: alerts: name where alerts go: email, webhook, or both"),
    ("alerts:\n  webhook: {url: 'ftp://x'}", "line 4: alerts.webhook.url: must be an http(s) URL"),
    ("alerts:\n  webhook: {format: teams}", "give the webhook's address as url or as url_env"),
    ("alerts:\n  email: {to: [a@b.co], from: c@d.co, host: h, ssl: true}", "choose one of ssl (port 465) and starttls"),
    ("alerts:\n  email:\n    to: [someone]\n    from: c@d.co\n    host: h", "line 5: alerts.email.to: 'someone' is not an"),
])
def test_alert_settings_are_checked_with_their_line(yaml: str, said: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(f"source: {{type: xlsx, path: c.xlsx}}\ncolumns: {{email: Email}}\n{yaml}\n", base_dir=Path("."))
    assert said in str(e.value)


def test_the_readmes_and_the_examples_alerts_are_valid_settings() -> None:
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Alerts when a run fails"):]
    start = section.index("```yaml\n") + 8
    yaml_block = section[start: section.index("\n```", start)]
    example = (root / "mapping.example.yaml").read_text(encoding="utf-8")
    commented = example[example.index("# alerts:"):]
    uncommented = "\n".join(line[2:] for line in commented.splitlines() if line.startswith("# "))
    for text in (yaml_block, uncommented):
        cfg = parse_config(f"source: {{type: xlsx, path: c.xlsx}}\ncolumns: {{email: Email}}\n{text}\n",
                           base_dir=Path("."))
        assert cfg.alerts is not None and cfg.alerts.email is not None and cfg.alerts.webhook is not None
        assert cfg.alerts.email.password_env == "SMTP_PASSWORD" and cfg.alerts.webhook.url_env == "ALERT_WEBHOOK_URL"


def test_the_services_scheduled_run_alerts_the_same_way(tmp_path, sandbox, smtp, hook, monkeypatch):
    """The service's runner (what its scheduler and the sheet menu start) runs the same library sync."""
    from sheets_connector.cancel import CancelToken
    from sheets_connector.service.runner import sync_runner

    port, inbox = smtp
    url, received = hook
    write_workbook(tmp_path / "contacts.xlsx", ROWS[:8])
    mapping = tmp_path / "sales.yaml"
    mapping.write_text(f"""\
source: {{type: xlsx, path: contacts.xlsx, worksheet: Contacts}}
columns: {{email: Email}}
inwise:
  base_url: {sandbox.base_url}
  retries: 0
  concurrency: 2
{_alerts(port, url, "json")}""", encoding="utf-8")
    monkeypatch.setenv("INWISE_API_KEY", "test-key")  # the service's own environment
    sandbox.set_faults(error_rate=1.0)
    result = sync_runner(mapping, False, CancelToken(), "schedule", lambda *args: None)
    assert result["outage"]
    [fields] = received
    assert fields["status"] == "unavailable" and fields["trigger"] == "schedule" and fields["run_id"] == result["run_id"]
    [mail] = inbox.messages
    assert mail["Subject"] == "sheets-connector: contacts.xlsx, sheet 'Contacts' stopped: inwise unavailable"
    assert f"(run #{result['run_id']}, started from the schedule at " in _body(mail)


def test_a_hebrew_mappings_alerts_are_in_hebrew(tmp_path, sandbox, smtp, hook):
    """The same scheduled run as above with ``language: he``: the email and the chat message say
    it in Hebrew (the sheet's and the tab's names as typed, dates with the month's name)."""
    lrm = "\u200e"
    port, inbox = smtp
    url, received = hook
    write_workbook(tmp_path / "contacts.xlsx", ROWS)
    cfg = make_config(tmp_path, sandbox.base_url, extra=_alerts(port, url) + "language: he\n")
    clock = Clock()
    sandbox.set_faults(error_rate=1.0)
    s = sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule")
    assert s.outage and len(inbox.messages) == 1
    mail = inbox.messages[0]
    place = f"{lrm}contacts.xlsx{lrm}, לשונית '{lrm}Contacts{lrm}'"
    assert mail["Subject"] == f"sheets-connector: {place} נעצר: inwise לא זמינה"
    lines = _body(mail).split("\n")
    assert lines[0] == f"הסנכרון של {place} נעצר: inwise לא זמינה (הרצה #{s.run_id}, שהופעלה מהתזמון ב-6 בדצמ׳ 2026 07:00)."
    assert lines[2].startswith("מה קרה: inwise לא זמינה: 3 שורות ברצף לא קיבלו תשובה גם אחרי כל הניסיונות החוזרים")
    assert lines[2].endswith("הסנכרון הבא ישלח אותן.") and "הריצו את הסנכרון שוב מאוחר יותר" not in lines[2]
    assert lines[3].startswith("שורות: 0 סונכרנו (0 נוצרו, 0 עודכנו)")
    assert lines[4] == ("מה לעשות: אין מה לתקן אצלכם: ההרצה הבאה תשלח את השורות שלא נשלחו. אם זה נמשך, בדקו את מצב "
                        "השירות של inwise או פנו לתמיכה של inwise.")
    assert lines[5] == f"פרטים: {lrm}sheets-connector runs show {s.run_id}{lrm}"
    assert received[0]["text"] == f"*{mail['Subject']}*\n{_body(mail)}"
    assert not any(w in _body(mail) for w in ("What happened", "Rows:", "What to do", "started from"))

    sandbox.set_faults(error_rate=0.0)
    clock.now += dt.timedelta(minutes=15)
    assert sync(cfg, Collaborators(environ=ENV, clock=clock), trigger="schedule").outage is None
    again = inbox.messages[1]
    assert again["Subject"] == f"sheets-connector: {place} עובד שוב"
    assert _body(again).split("\n")[1] == "לפניה הרצה אחת הסתיימה כך: נעצר: inwise לא זמינה (מאז 6 בדצמ׳ 2026 07:00)."
    assert _body(again).endswith("אין צורך לעשות דבר נוסף.")
