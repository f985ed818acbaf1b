"""The mapping's ``alerts:`` section: where a run's failures go (email, a chat webhook) and when.

Secrets never live in the mapping: the SMTP password and, if you prefer, the webhook's URL come
from environment variables named here.
"""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _env_name(v: str | None) -> str | None:
    if v is not None and not ENV_NAME.match(v):
        raise ValueError(f"{v!r} is not an environment variable name (letters, digits and _ only, e.g. SMTP_PASSWORD)")
    return v


class EmailAlert(_Strict):
    """Alerts by email, through your SMTP server."""

    to: list[str] = Field(min_length=1, description="Who gets the alerts, e.g. [office@example.co.il].")
    sender: str = Field(alias="from", description="The From address, e.g. sheets-connector@example.co.il.")
    host: str = Field(description="The SMTP server, e.g. smtp.office365.com or smtp.gmail.com.")
    port: int = Field(587, ge=1, le=65535, description="587 with starttls, 465 with ssl, 25 without either.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS (port 587).")
    ssl: bool = Field(False, description="Connect with TLS from the start (port 465); leave starttls false then.")
    user: str | None = Field(None, description="SMTP user name, if the server wants one.")
    password_env: str = Field("SMTP_PASSWORD", description="Environment variable holding the SMTP password.")
    timeout_seconds: float = Field(20, gt=0, le=300, description="How long to wait for the SMTP server.")

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    @field_validator("to")
    @classmethod
    def _check_to(cls, v: list[str]) -> list[str]:
        for address in v:
            if not ADDRESS.match(address):
                raise ValueError(f"{address!r} is not an email address")
        return v

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, v: str) -> str:
        if not ADDRESS.match(v):
            raise ValueError(f"{v!r} is not an email address")
        return v

    _check_env = field_validator("password_env")(classmethod(lambda cls, v: _env_name(v)))

    @model_validator(mode="after")
    def _one_tls(self) -> EmailAlert:
        if self.ssl and self.starttls:
            raise ValueError("choose one of ssl (port 465) and starttls (port 587), not both: set starttls: false")
        return self


class WebhookAlert(_Strict):
    """Alerts to a chat channel's incoming webhook (Slack, Microsoft Teams) or any URL taking JSON."""

    format: Literal["slack", "teams", "json"] = Field(
        "slack", description="slack: Slack incoming webhook; teams: a Teams channel's Workflows webhook (an "
                             "Adaptive Card); json: the alert's fields as JSON for your own receiver.")
    url: str | None = Field(None, description="The webhook's URL. It is a secret: better set url_env.")
    url_env: str | None = Field(None, description="Environment variable holding the webhook's URL.")
    timeout_seconds: float = Field(15, gt=0, le=300, description="How long to wait for the webhook.")

    _check_env = field_validator("url_env")(classmethod(lambda cls, v: _env_name(v)))

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL, e.g. https://hooks.slack.com/services/...")
        return v

    @model_validator(mode="after")
    def _one_url(self) -> WebhookAlert:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give the webhook's address as url or as url_env (the environment variable holding it), "
                             "one of the two")
        return self


class AlertSettings(_Strict):
    """Who hears about runs that fail, stop or leave rows needing attention."""

    email: EmailAlert | None = Field(None, description="Send alerts by email.")
    webhook: WebhookAlert | None = Field(None, description="Send alerts to a Slack or Teams channel (or any URL).")
    attention_rows: int = Field(
        10, ge=0, description="Alert when a run that completed leaves at least this many rows needing attention "
                              "(conflicts, invalid values, errors); 0: never for rows alone.")
    repeat_hours: float = Field(
        24, gt=0, le=24 * 90, description="A sheet that keeps failing the same way is reminded once in this many "
                                          "hours (with how many runs failed meanwhile), not after every run.")

    @model_validator(mode="after")
    def _somewhere(self) -> AlertSettings:
        if self.email is None and self.webhook is None:
            raise ValueError("name where alerts go: email, webhook, or both")
        return self
