"""``sheets-connector probe``: ask the real inwise API the questions its documentation leaves open.

With an email and a mobile the user gives for test contacts, :func:`plan` lists a short
sequence of requests (each with what it settles, see ``wire.ASSUMPTIONS``): create a contact,
update it, give it an undocumented confirmation status, take it out of every group and update it
again (is it still there?), a 2-row batchInsert with a confirmation status, two reads of the new-contacts feed, a request with a wrong key
and one with none, and a 422 conflict made from the two test contacts.  :func:`describe` says
what that changes in the account, for the user to confirm before :func:`run` sends anything.

:func:`run` writes every status, header and raw body into a recording (a JSON object; the API
key is replaced by ``***`` wherever it appears; feed items that are not the probe's own
contacts are masked, keeping their keys and the form of their values).  :func:`findings` reads a
recording with the connector's own parsers and says what each answer settles; the tests read
every recording under ``tests/recordings/`` the same way, so a real one drops straight in.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import requests

from .. import __version__
from ..errors import ConfigError, InwiseError
from ..model import Contact, SendOptions
from ..normalize import calling_code_for, normalize_email, normalize_mobile, region_for
from .wire import (
    API_KEY_HEADER,
    FEED_LIST_KEYS,
    batch_body,
    contact_body,
    key_refusal,
    parse_conflict,
    parse_contact_id,
    parse_feed,
    parse_json,
    parse_message,
)

FORMAT = "sheets-connector-probe"
VERSION = 1
PROBE_FIELD = 1  # the personal field the probe writes on its contacts (field1: first name)
PROBE_TEXT = "sheets-connector probe"
WRONG_KEY = "sheets-connector-probe-wrong-key"
OTHER_STATUS = "unconfirmed"  # a confirmation status inwise does not document (only "confirmed" is)
KeyKind = Literal["account", "wrong", "none"]


@dataclass(frozen=True)
class ProbeStep:
    """One request of the probe and what its answer settles."""

    name: str
    method: str
    path: str
    body: Any
    settles: str
    key: KeyKind = "account"


@dataclass
class ProbeTarget:
    """The test contacts: the email and mobile as the user gave them, and as they are sent."""

    email: str
    mobile: str  # international digits
    calling_code: str


def target(email: str, mobile: str, country: str = "IL") -> ProbeTarget:
    """Check the user's test email and mobile; ConfigError (exit 2) with the reason if unusable."""
    try:
        region = region_for(country)
    except ValueError as exc:
        raise ConfigError(f"--country: {exc}") from None
    try:
        clean_email = normalize_email(email)
    except ValueError as exc:
        raise ConfigError(f"--email: {exc}") from None
    try:
        clean_mobile = normalize_mobile(mobile, region)
    except ValueError as exc:
        raise ConfigError(f"--mobile: {exc}") from None
    return ProbeTarget(clean_email, clean_mobile, calling_code_for(region))


def plan(t: ProbeTarget) -> list[ProbeStep]:
    """The probe's requests, in order, built by the same code the connector sends with."""
    options = SendOptions(default_country_code=t.calling_code)
    fields = ((PROBE_FIELD, PROBE_TEXT),)
    by_email = Contact(t.email, None, fields)
    by_mobile = Contact(None, t.mobile, fields)
    return [
        ProbeStep("create", "POST", "/contacts", contact_body(Contact(t.email, None), options),
                  "the answer of POST /contacts: where the new contact's id is"),
        ProbeStep("update", "POST", "/contacts", contact_body(by_email, options),
                  "an update answers with the same id"),
        ProbeStep("other status", "POST", "/contacts",
                  contact_body(replace(by_email, confirmation_status=OTHER_STATUS), options),
                  f"whether inwise takes a confirmation_status other than confirmed ({OTHER_STATUS!r}), "
                  "or which values its refusal names"),
        ProbeStep("no groups", "POST", "/contacts",
                  contact_body(replace(by_email, only_these_groups=True), options),
                  "remove_from_all_other_groups with no group: the contact is left in no group"),
        ProbeStep("after no groups", "POST", "/contacts", contact_body(by_email, options),
                  "whether a contact left in no group is still there (the same id) or was deleted (a new id)"),
        ProbeStep("batch", "POST", "/contacts/batchInsert",
                  batch_body([by_email, by_mobile], options, field_numbers=[PROBE_FIELD], group_id=None,
                             confirmation_status="confirmed"),
                  "the answer of batchInsert; how it stores a local mobile sent with country_code; whether "
                  "it takes confirmation_status (the feed shows the batch contact's status)"),
        ProbeStep("feed", "GET", "/contacts", None,
                  "the shape of the feed's items; that both test contacts are listed as created"),
        ProbeStep("feed again", "GET", "/contacts", None, "the feed hands each contact out only once"),
        ProbeStep("wrong key", "GET", "/contacts", None, "how inwise refuses a wrong key", key="wrong"),
        ProbeStep("no key", "GET", "/contacts", None, "how inwise refuses a request without a key", key="none"),
        ProbeStep("conflict", "POST", "/contacts", contact_body(Contact(t.email, t.mobile), options),
                  "the 422 message naming both contacts"),
    ]


def describe(t: ProbeTarget, base_url: str) -> str:
    """What the probe will do to the account, for the user to confirm first."""
    return (
        f"The probe sends 11 requests to {base_url} with your API key and records every answer.\n"
        f"In your inwise account it will:\n"
        f"  - create (or update) a contact with the email {t.email}, first name '{PROBE_TEXT}',\n"
        f"    set its confirmation status to '{OTHER_STATUS}', then take it out of every group\n"
        f"  - create (or update) a contact with the mobile {t.mobile}, first name '{PROBE_TEXT}'\n"
        f"  - try to put both on one contact (inwise refuses: that answer is recorded)\n"
        f"  - read the new-contacts list twice. inwise hands each new contact out only once: contacts\n"
        f"    created since it was last read will not reach a sheet's new-contacts tab afterwards.\n"
        f"    Run `sheets-connector pull-new` first if you use that tab. Other contacts in the answer\n"
        f"    are masked in the recording.\n"
        f"Delete the two test contacts in inwise afterwards if you do not want to keep them."
    )


def run(base_url: str, api_key: str, steps: list[ProbeStep], t: ProbeTarget, *,
        timeout: tuple[float, float] = (10.0, 60.0), session: requests.Session | None = None,
        now: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Send the steps (no retries, no redirects followed) and return the recording."""
    key = api_key.strip()
    if not key:
        raise InwiseError("No inwise API key: set the environment variable that holds it (INWISE_API_KEY).")
    base = base_url.strip().rstrip("/")
    http = session or requests.Session()
    http.trust_env = False

    def redact(text: str) -> str:
        return text.replace(key, "***")

    recorded: list[dict[str, Any]] = []
    for step in steps:
        headers = {"Accept": "application/json", "User-Agent": f"sheets-connector/{__version__} probe"}
        if step.key != "none":
            headers[API_KEY_HEADER] = key if step.key == "account" else WRONG_KEY
        entry: dict[str, Any] = {"step": step.name, "settles": step.settles, "key": step.key,
                                 "request": {"method": step.method, "path": step.path, "body": step.body}}
        try:
            response = http.request(step.method, base + step.path, json=step.body, headers=headers,
                                    timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            entry["error"] = redact(f"{type(exc).__name__}: {exc}")
        else:
            body = redact(response.text or "")
            masked = 0
            if step.method == "GET" and 200 <= response.status_code < 300:
                body, masked = _mask_others(body, t)
            entry["response"] = {
                "status": response.status_code,
                "headers": {k: redact(v) for k, v in response.headers.items() if k.lower() != "set-cookie"},
                "body": body,
            }
            if masked:
                entry["response"]["masked_items"] = masked
        recorded.append(entry)
    if session is None:
        http.close()
    moment = (now or (lambda: datetime.now(timezone.utc)))()
    return {"format": FORMAT, "version": VERSION, "recorded_at": moment.isoformat(timespec="seconds"),
            "base_url": base, "client": f"sheets-connector {__version__}",
            "test_contacts": {"email": t.email, "mobile": t.mobile, "calling_code": t.calling_code},
            "steps": recorded}


def save(recording: dict[str, Any], path: str | Path) -> Path:
    out = Path(path)
    out.write_text(json.dumps(recording, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


def load(path: str | Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InwiseError(f"{path} is not a sheets-connector probe recording.")
    return data


# -- reading a recording ----------------------------------------------------------------------


@dataclass
class Reading:
    """What the connector's parsers make of one recorded answer."""

    step: str
    status: int | None
    message: str = ""
    refusal: str | None = None  # "key" / "rest": the answer refuses the key (stops a run)
    contact_id: int | None = None  # POST /contacts 2xx
    conflict: dict[str, int] = field(default_factory=dict)  # 422
    contacts: list[dict[str, Any]] | None = None  # GET /contacts 2xx, in the canonical shape
    without_id: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read(entry: dict[str, Any]) -> Reading:
    """One recorded step, read with the parsers the client uses."""
    response = entry.get("response")
    if not isinstance(response, dict):
        return Reading(entry.get("step", "?"), None, error=str(entry.get("error") or "no answer"))
    status = int(response["status"])
    body = str(response.get("body") or "")
    request = entry.get("request") or {}
    reading = Reading(entry.get("step", "?"), status, message=parse_message(body))
    reading.refusal = key_refusal(status, reading.message)
    ok = 200 <= status < 300
    if request.get("method") == "POST" and request.get("path") == "/contacts":
        if ok:
            reading.contact_id = parse_contact_id(body)
        elif status == 422:
            reading.conflict = parse_conflict(reading.message) or parse_conflict(body)
    elif request.get("method") == "GET" and ok:
        page = parse_feed(body)
        if page is not None:
            reading.contacts = list(page)
            reading.without_id = len(page.without_id)
    return reading


def findings(recording: dict[str, Any]) -> list[str]:
    """One plain line per step: what the answer settles, read by the connector's own parsers."""
    readings = {r.step: r for r in (read(e) for e in recording.get("steps", []))}
    contacts = recording.get("test_contacts") or {}
    lines: list[str] = []

    def say(step: str, text: str) -> None:
        r = readings.get(step)
        status = "no answer" if r is None or r.status is None else f"HTTP {r.status}"
        lines.append(f"{step}: {status}: {text}")

    create, update = readings.get("create"), readings.get("update")
    if create is not None and create.status is not None and 200 <= create.status < 300:
        say("create", f"contact id {create.contact_id}" if create.contact_id
            else "no readable id: rows would say 'sent, inwise gave no id'")
    elif create is not None:
        say("create", create.error or create.message or "not accepted")
    if update is not None and update.status is not None:
        same = update.contact_id is not None and create is not None and update.contact_id == create.contact_id
        say("update", "same id as the create (an update)" if same
            else f"id {update.contact_id}" if update.contact_id else update.error or "no readable id")
    other = readings.get("other status")
    if other is not None and other.status is not None:
        say("other status", f"{OTHER_STATUS!r} accepted" if 200 <= other.status < 300
            else f"{OTHER_STATUS!r} refused: {other.message or 'no message'}")
    emptied, after = readings.get("no groups"), readings.get("after no groups")
    if emptied is not None and emptied.status is not None:
        say("no groups", "accepted" if 200 <= emptied.status < 300 else emptied.message or "refused")
    if after is not None and after.status is not None and create is not None:
        say("after no groups",
            "no readable id" if after.contact_id is None
            else "the same id: a contact left in no group stays in the account" if after.contact_id == create.contact_id
            else f"a NEW id {after.contact_id}: the contact left in no group was gone")
    batch = readings.get("batch")
    if batch is not None:
        say("batch", "accepted" if batch.status and 200 <= batch.status < 300
            else batch.error or batch.message or "refused")
    feed = readings.get("feed")
    if feed is not None and feed.contacts is not None:
        ours = [c for c in feed.contacts if c.get("email") == contacts.get("email")
                or (c.get("mobile_number") and c.get("mobile_number") == contacts.get("mobile"))]
        doubled = [c["mobile_number"] for c in feed.contacts if c.get("mobile_number")
                   and contacts.get("calling_code") and contacts.get("mobile")
                   and c["mobile_number"] == contacts["calling_code"] + contacts["mobile"]]
        text = f"{len(feed.contacts)} contact(s), {len(ours)} of them the probe's"
        if feed.without_id:
            text += f", {feed.without_id} without an id"
        if doubled:
            text += f"; batchInsert stored the mobile with the country code twice ({doubled[0]})"
        statuses = {str(c.get("email") or c.get("mobile_number")): c.get("confirmation_status") for c in ours
                    if "confirmation_status" in c}
        if statuses:
            text += "; confirmation status " + ", ".join(f"{k}: {v!r}" for k, v in statuses.items())
        say("feed", text)
    elif feed is not None:
        say("feed", feed.error or "not a list of contacts")
    again = readings.get("feed again")
    if again is not None and again.contacts is not None:
        say("feed again", "empty: each contact is handed out once" if not again.contacts
            else f"{len(again.contacts)} contact(s) again")
    for step in ("wrong key", "no key"):
        r = readings.get(step)
        if r is not None:
            verdict = {"key": "read as a refused key (the run stops)",
                       "rest": "read as REST access not enabled (the run stops)"}.get(
                r.refusal or "", "NOT read as a refused key")
            say(step, f"{verdict} ({r.message or r.error or 'no message'})")
    conflict = readings.get("conflict")
    if conflict is not None:
        say("conflict", f"contacts {conflict.conflict}" if conflict.conflict
            else f"no contact ids read ({conflict.message or conflict.error or 'no message'})")
    return lines


# -- masking other people's contacts ----------------------------------------------------------

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_DIGIT = re.compile(r"\d")
_DATE_LIKE = re.compile(r"(?:/Date\(|\)/|[9\s/:.+\-TZ])*9(?:/Date\(|\)/|[9\s/:.+\-TZ])*")


def _mask_value(value: Any) -> Any:
    """Keep the form, hide the content: letters -> a, digits -> 9 (ints stay ints)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(_DIGIT.sub("9", str(abs(value))) or "0")
    if isinstance(value, float):
        return float(_DIGIT.sub("9", repr(value)))
    if isinstance(value, str):
        digits_hidden = _DIGIT.sub("9", value)
        if _DATE_LIKE.fullmatch(digits_hidden):
            return digits_hidden  # a date or time: its letters (T, Z) are its form, not data
        return _LETTER.sub("a", digits_hidden)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        # field names ("name": "field1") say which field it is: keep them
        return {k: (v if k.lower() in ("name", "field_name") else _mask_value(v)) for k, v in value.items()}
    return value


def _mask_others(body: str, t: ProbeTarget) -> tuple[str, int]:
    """A feed answer with every item that is not a probe contact masked; (text, masked count)."""
    data = parse_json(body)
    page = parse_feed(body)
    if data is None or page is None:
        return body, 0
    items: list[Any] = data if isinstance(data, list) else next(
        (data[k] for k in FEED_LIST_KEYS if isinstance(data, dict) and isinstance(data.get(k), list)), [])
    masked = 0
    for index, (raw, canonical) in enumerate(zip(list(items), page)):
        ours = (canonical.get("email") or "").lower() == t.email.lower() or canonical.get("mobile_number") in (
            t.mobile, t.calling_code + t.mobile)
        if not ours:
            items[index] = _mask_value(raw)
            masked += 1
    return (json.dumps(data, ensure_ascii=False) if masked else body), masked
