"""Delivering an alert: email over SMTP (the standard library), and a webhook (Slack, Teams, JSON).

Each channel is tried once per alert (a webhook's POST is repeated only after a 429 or a refused
connection, through the project's one retry policy: a chat message must not arrive twice).  A
channel that fails is reported back in words, never raised: an alert must not fail the run.
Secrets (the SMTP password, the webhook's URL) never appear in these words or in the log; a
webhook is named by its host only.
"""
from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import __version__
from ..retry import RetryPolicy, mount_retry
from .events import Alert
from .settings import AlertSettings, EmailAlert, WebhookAlert


def send_email(settings: EmailAlert, alert: Alert, environ: Mapping[str, str]) -> None:
    # RFC 5322's hard line limit: Python's folding at 78 puts a long subject on a line of its own,
    # which some mail programs then show with a leading space
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["Subject"] = alert.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[1])
    message.set_content(alert.text)
    password = environ.get(settings.password_env) if settings.user else None
    if settings.user and not password:
        raise RuntimeError(f"the SMTP password is not set: put it in the environment variable {settings.password_env}")
    context = ssl.create_default_context()
    smtp: smtplib.SMTP = (smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds,
                                           context=context) if settings.ssl
                          else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds))
    with smtp:
        if settings.starttls:
            smtp.starttls(context=context)
        if settings.user and password:
            smtp.login(settings.user, password)
        smtp.send_message(message)


def webhook_body(fmt: str, alert: Alert) -> dict[str, Any]:
    """The JSON a Slack or Teams incoming webhook takes (or the alert's fields, for ``json``)."""
    if fmt == "slack":
        # Slack's incoming webhooks take {"text"}; *bold* is its markup for the first line
        return {"text": f"*{alert.subject}*\n{alert.text}"}
    if fmt == "teams":
        # a Teams channel's Workflows webhook ("When a Teams webhook request is received") takes an Adaptive Card
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{"type": "TextBlock", "text": alert.subject, "weight": "Bolder", "size": "Medium",
                          "wrap": True},
                         *({"type": "TextBlock", "text": para, "wrap": True}
                           for para in alert.text.split("\n") if para.strip())],
            },
        }]}
    return alert.fields()


def send_webhook(settings: WebhookAlert, alert: Alert, environ: Mapping[str, str]) -> None:
    url = settings.url or environ.get(settings.url_env or "", "")
    if not url:
        raise RuntimeError(f"the webhook's address is not set: put it in the environment variable {settings.url_env}")
    with requests.Session() as session:
        session.trust_env = False  # as the inwise client: no proxy variable diverts it
        policy = RetryPolicy(retries=2, read_timeout=settings.timeout_seconds, connect_timeout=settings.timeout_seconds,
                             backoff_factor=0.5, backoff_max=5, retry_after_max=30)
        mount_retry(session, policy, not_idempotent=lambda method, u: True)
        answer = session.post(url, json=webhook_body(settings.format, alert), timeout=policy.timeout,
                              headers={"User-Agent": f"sheets-connector/{__version__}"}, allow_redirects=False)
        if not 200 <= answer.status_code < 300:
            raise RuntimeError(f"it answered HTTP {answer.status_code}")


def where(settings: WebhookAlert, environ: Mapping[str, str]) -> str:
    url = settings.url or environ.get(settings.url_env or "", "")
    return f"the {settings.format} webhook at {urlsplit(url).hostname or '?'}"


def deliver(settings: AlertSettings, alert: Alert, environ: Mapping[str, str]) -> list[str]:
    """Send ``alert`` on every channel; returns what could not be delivered, in words (no secrets)."""
    failures: list[str] = []
    if settings.email is not None:
        try:
            send_email(settings.email, alert, environ)
        except (OSError, smtplib.SMTPException, RuntimeError, ValueError) as e:
            failures.append(f"email through {settings.email.host}:{settings.email.port}: {_words(e)}")
    if settings.webhook is not None:
        try:
            send_webhook(settings.webhook, alert, environ)
        except (requests.RequestException, RuntimeError, ValueError) as e:
            failures.append(f"{where(settings.webhook, environ)}: {_words(e)}")
    return failures


def _words(e: BaseException) -> str:
    if isinstance(e, RuntimeError):
        return str(e)
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return "the SMTP server refused the user name or password"
    if isinstance(e, smtplib.SMTPResponseException):
        return f"the SMTP server answered {e.smtp_code}"
    if isinstance(e, requests.RequestException):
        return "no answer (" + type(e).__name__ + ")"  # never str(e): it holds the URL
    return f"{type(e).__name__}: {e.strerror if isinstance(e, OSError) and e.strerror else e}"
